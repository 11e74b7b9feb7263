"""Isolation: a policy schema's $ref is never fetched over the network nor read from file://."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

COMPOSE = "services:\n  web:\n    image: nginx:1.27\n"

# Runs the CLI in-process under an audit hook that records every socket.connect and every open
# of the referenced file, then prints them as JSON on the last line of stderr.
RUNNER = textwrap.dedent("""
    import json, sys
    watched = sys.argv[1]
    seen = []
    def hook(event, args):
        if event == "socket.connect":
            seen.append(["connect", repr(args[1])])
        elif event == "open" and isinstance(args[0], str) and args[0].endswith(watched):
            seen.append(["open", args[0]])
    sys.addaudithook(hook)
    from vantage_lint.cli import main
    try:
        code = main(sys.argv[2:])
    except SystemExit as exc:
        code = exc.code
    sys.stderr.write("\\nAUDIT " + json.dumps(seen) + "\\n")
    sys.exit(code)
""")


def _config(ref: str) -> str:
    return textwrap.dedent(f"""\
        policies:
          - id: XREF001
            message: "service {{service}} breaks the policy"
            schema:
              type: object
              properties:
                image: {{$ref: "{ref}"}}
        """)


def _run(tmp_path: Path, ref: str, watched: str) -> tuple[int, str, list[list[str]]]:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / ".vantage-lint.yaml").write_text(_config(ref))
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, watched, "--color", "never", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    head, _, audit = proc.stderr.rpartition("\nAUDIT ")
    return proc.returncode, head.strip(), json.loads(audit)


@pytest.fixture
def outside_schema(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "secret-schema.json"
    target.write_text(json.dumps({"type": "string"}))
    return target


def test_http_ref_is_not_fetched(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    ref = "http://127.0.0.1:9/remote-policy.json"
    code, err, seen = _run(project, ref, "remote-policy.json")
    assert code == 2
    assert [ev for ev in seen if ev[0] == "connect"] == []
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert f"$ref '{ref}' points outside the configuration file and is not fetched" in lines[0]
    assert "policies[0].schema" in lines[0] or "XREF001" in lines[0]


def test_https_ref_is_not_fetched(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    ref = "https://example.invalid/remote-policy.json#/$defs/x"
    code, err, seen = _run(project, ref, "remote-policy.json")
    assert code == 2
    assert seen == []
    assert len(err.splitlines()) == 1 and f"$ref '{ref}'" in err


def test_file_ref_is_not_read(tmp_path: Path, outside_schema: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    ref = outside_schema.as_uri()
    code, err, seen = _run(project, ref, outside_schema.name)
    assert code == 2
    assert seen == []
    assert len(err.splitlines()) == 1 and f"$ref '{ref}' points outside the configuration file" in err


def test_relative_ref_next_to_config_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "sibling.json").write_text(json.dumps({"type": "string"}))
    code, err, seen = _run(tmp_path, "sibling.json", "sibling.json")
    assert code == 2
    assert seen == []
    assert len(err.splitlines()) == 1 and "$ref 'sibling.json' points outside the configuration file" in err


def test_local_ref_resolves_inside_the_config(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / ".vantage-lint.yaml").write_text(textwrap.dedent("""\
        select: [XREF]
        policies:
          - id: XREF001
            message: "service {service}: {error}"
            schema:
              $defs:
                registry: {type: string, pattern: "^registry\\\\.example\\\\.com/"}
              properties:
                image: {$ref: "#/$defs/registry"}
        """))
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, "none", "--color", "never", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 1, proc.stderr
    assert "XREF001" in proc.stdout
    assert '"connect"' not in proc.stderr


# --- redis.conf include outside the project -------------------------------------------------------

REDIS_COMPOSE = """\
services:
  redis:
    image: redis:7.2
    command: redis-server /usr/local/etc/redis/redis.conf
    volumes:
      - ./redis.conf:/usr/local/etc/redis/redis.conf:ro
"""


@pytest.mark.parametrize("how", ["absolute", "dotdot", "glob"])
def test_redis_include_outside_project_is_not_read(tmp_path: Path, how: str) -> None:
    outside = tmp_path / "outside-secret.conf"
    outside.write_text("requirepass hunter2-outside\n")
    project = tmp_path / "p"
    project.mkdir()
    target = {"absolute": str(outside), "dotdot": "../outside-secret.conf", "glob": str(tmp_path / "outside-*.conf")}[how]
    (project / "compose.yaml").write_text(REDIS_COMPOSE)
    (project / "redis.conf").write_text(f"include {target}\nappendonly yes\n")
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, "outside-secret.conf", "--color", "never", "--format", "concise", str(project)],
        capture_output=True, text=True, cwd=project, timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(project)},
    )
    _head, _, audit = proc.stderr.rpartition("\nAUDIT ")
    assert json.loads(audit) == []
    assert "hunter2" not in proc.stdout
    lines = [line for line in proc.stdout.splitlines() if "VL005" in line]
    assert len(lines) == 1, proc.stdout
    # An absolute path in a redis.conf is a container path: no mount serves it here.
    said = "is a container path no bind mount of the service provides" if how != "dotdot" else \
        "is outside the project folder"
    assert f"include '{target}' {said}; not read" in lines[0]
    assert "redis.conf:1:9" in lines[0]


# --- the Celery app's code is read, never imported or run -------------------------------------------

APP_COMPOSE = """\
services:
  worker:
    build: .
    command: celery -A proj worker --concurrency=2
    deploy:
      resources:
        limits: {memory: 512M}
"""

# Importing this package (or its settings) would write a marker file, start a process and
# open a socket; the linter must learn its settings without any of that happening.
HOSTILE_INIT = """\
import os, pathlib, socket, subprocess
pathlib.Path(os.environ.get("MARKER", "/tmp/x")).write_text("imported")
subprocess.Popen(["touch", os.environ.get("MARKER", "/tmp/x") + ".spawned"])
socket.create_connection(("127.0.0.1", 9))
from .celery import app as celery_app
"""
HOSTILE_CELERY = """\
import pathlib
pathlib.Path(__file__).with_name("IMPORTED-MARKER").write_text("celery.py ran")
from celery import Celery
app = Celery("proj")
app.conf.task_acks_late = True
exec("app.conf.task_reject_on_worker_lost = True")
"""


def test_app_module_that_runs_code_at_import_is_read_safely(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "proj").mkdir(parents=True)
    (project / "compose.yaml").write_text(APP_COMPOSE)
    (project / "proj" / "__init__.py").write_text(HOSTILE_INIT)
    (project / "proj" / "celery.py").write_text(HOSTILE_CELERY)
    marker = project / "proj" / "IMPORTED-MARKER"
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, "IMPORTED-MARKER", "--color", "never", "--format", "concise",
         "--select", "VL328,VL327", str(project)],
        capture_output=True, text=True, cwd=project, timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(project), "MARKER": str(marker)},
    )
    _head, _, audit = proc.stderr.rpartition("\nAUDIT ")
    assert json.loads(audit) == []              # no socket connect, no open of the marker
    assert not marker.exists() and not Path(str(marker) + ".spawned").exists()
    assert list((project / "proj").iterdir()) and not list((project / "proj").glob("__pycache__"))
    # The settings were read all the same: task_acks_late is seen; the exec() line makes the
    # rest unknown, so VL328 stays quiet rather than guess that task_reject_on_worker_lost is off.
    assert "VL328" not in proc.stdout and "Traceback" not in proc.stderr
    (project / "proj" / "celery.py").write_text(HOSTILE_CELERY.replace('exec("app.conf.task_reject_on_worker_lost = True")\n', ""))
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, "IMPORTED-MARKER", "--color", "never", "--format", "concise",
         "--select", "VL328", str(project)],
        capture_output=True, text=True, cwd=project, timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(project), "MARKER": str(marker)},
    )
    assert not marker.exists()
    assert "proj/celery.py:5:" in proc.stdout and "VL328" in proc.stdout, proc.stdout


# --- Compose include / extends / env_file / bind-mounted redis.conf outside the project ----------

# Records every open of a path outside the project folder (the interpreter's own files aside).
OUTSIDE_RUNNER = textwrap.dedent("""
    import json, os, sys
    project = os.path.realpath(sys.argv[1])
    outside = os.path.realpath(sys.argv[2])
    seen = []
    def hook(event, args):
        if event in ("open", "os.listdir", "os.scandir", "glob.glob") and args and isinstance(args[0], (str, bytes)):
            path = os.fsdecode(args[0])
            real = os.path.realpath(os.path.join(os.getcwd(), path))
            if real == outside or real.startswith(outside + os.sep):
                seen.append([event, path])
    sys.addaudithook(hook)
    from vantage_lint.cli import main
    try:
        code = main(sys.argv[3:])
    except SystemExit as exc:
        code = exc.code
    sys.stderr.write("\\nAUDIT " + json.dumps(seen) + "\\n")
    sys.exit(code)
""")

SECRET_LINE = "REDIS_PASSWORD=hunter2-from-outside"


def _outside_tree(tmp_path: Path) -> tuple[Path, Path]:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "base.yml").write_text(f"services:\n  base:\n    image: nginx:1.27\n    environment: [{SECRET_LINE}]\n")
    (outside / "secret.env").write_text(SECRET_LINE + "\n")
    (outside / "redis.conf").write_text("requirepass hunter2-from-outside\nnot-a-directive hunter2-from-outside\n")
    project = tmp_path / "p"
    project.mkdir()
    return project, outside


def _run_outside(project: Path, outside: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list]:
    proc = subprocess.run(
        [sys.executable, "-c", OUTSIDE_RUNNER, str(project), str(outside), "--isolated", "--no-cache",
         "--color", "never", "--format", "concise", *args],
        capture_output=True, text=True, cwd=project, timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(project)},
    )
    _head, _, audit = proc.stderr.rpartition("\nAUDIT ")
    return proc, json.loads(audit)


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink"])
@pytest.mark.parametrize("key", ["include", "extends", "env_file", "redis-mount"])
def test_compose_references_outside_the_project_are_never_opened(tmp_path: Path, key: str, how: str) -> None:
    project, outside = _outside_tree(tmp_path)
    name = {"include": "base.yml", "extends": "base.yml", "env_file": "secret.env", "redis-mount": "redis.conf"}[key]
    if how == "symlink":
        (project / "link").symlink_to(outside)
        written = f"./link/{name}"
    else:
        written = str(outside / name) if how == "absolute" else f"../outside/{name}"
    compose = {
        "include": f"include:\n  - {written}\nservices:\n  web:\n    image: nginx:1.27\n",
        "extends": f"services:\n  web:\n    extends: {{file: {written}, service: base}}\n",
        "env_file": f"services:\n  web:\n    image: nginx:1.27\n    env_file: {written}\n",
        "redis-mount": ("services:\n  redis:\n    image: redis:7.2\n"
                        "    command: redis-server /usr/local/etc/redis/redis.conf\n"
                        f"    volumes:\n      - {written}:/usr/local/etc/redis/redis.conf:ro\n"),
    }[key]
    (project / "compose.yaml").write_text(compose)
    proc, seen = _run_outside(project, outside, ".")
    assert seen == [], seen
    assert "hunter2" not in proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "outside the project folder; not read" in line]
    assert len(lines) == 1, proc.stdout
    line_no = {"include": 2, "extends": 3, "env_file": 4, "redis-mount": 6}[key]
    assert lines[0].startswith(f"compose.yaml:{line_no}:") and "VL003 [warning]" in lines[0], lines[0]
    assert f"'{written}'" in lines[0]


def test_show_compose_does_not_open_outside_files_either(tmp_path: Path) -> None:
    project, outside = _outside_tree(tmp_path)
    (project / "compose.yaml").write_text(
        f"include:\n  - ../outside/base.yml\nservices:\n  web:\n    image: nginx:1.27\n    env_file: {outside}/secret.env\n")
    proc, seen = _run_outside(project, outside, "--show-compose", ".")
    assert seen == [] and "hunter2" not in proc.stdout


def test_redis_include_resolves_through_the_folder_mount(tmp_path: Path) -> None:
    """`include /usr/local/etc/redis/common.conf` is a container path: the folder mount
    `./conf:/usr/local/etc/redis:ro` serves it from ./conf/common.conf (no false VL005)."""
    project, outside = _outside_tree(tmp_path)
    (project / "conf").mkdir()
    (project / "conf" / "redis.conf").write_text("include /usr/local/etc/redis/common.conf\nappendonly yes\n")
    (project / "conf" / "common.conf").write_text("maxmemory 100mb\nbogus-directive 1\n")
    (project / "compose.yaml").write_text(
        "services:\n  redis:\n    image: redis:7.2\n    command: redis-server /usr/local/etc/redis/redis.conf\n"
        "    volumes:\n      - ./conf:/usr/local/etc/redis:ro\n      - ../outside:/etc/extra:ro\n")
    proc, seen = _run_outside(project, outside, "--select", "VL005,VL213", ".")
    assert seen == []
    vl005 = [line for line in proc.stdout.splitlines() if "VL005" in line]
    # The included file was read: its own bad line is reported there, and its maxmemory counts.
    assert vl005 == ["conf/common.conf:2:1: VL005 [error] redis-server refuses `bogus-directive 1`: Bad directive "
                     "or wrong number of arguments (unknown directive bogus-directive)"], proc.stdout
    assert "VL213" not in proc.stdout


def test_redis_include_through_a_mount_of_an_outside_folder_is_not_read(tmp_path: Path) -> None:
    project, outside = _outside_tree(tmp_path)
    (project / "redis.conf").write_text("include /etc/extra/redis.conf\nappendonly yes\n")
    (project / "compose.yaml").write_text(
        "services:\n  redis:\n    image: redis:7.2\n    command: redis-server /usr/local/etc/redis/redis.conf\n"
        "    volumes:\n      - ./redis.conf:/usr/local/etc/redis/redis.conf:ro\n      - ../outside:/etc/extra:ro\n")
    proc, seen = _run_outside(project, outside, "--select", "VL005", ".")
    assert seen == [] and "hunter2" not in proc.stdout
    assert "redis.conf:1:9: VL005 [warning] include '/etc/extra/redis.conf' is outside the project folder; not read" \
        in proc.stdout


def test_redis_include_from_the_command_line_is_bounded_too(tmp_path: Path) -> None:
    project, outside = _outside_tree(tmp_path)
    (project / "redis.conf").write_text("appendonly yes\n")
    (project / "compose.yaml").write_text(
        "services:\n  redis:\n    image: redis:7.2\n"
        f"    command: redis-server /usr/local/etc/redis/redis.conf --include {outside}/redis.conf\n"
        "    volumes:\n      - ./redis.conf:/usr/local/etc/redis/redis.conf:ro\n")
    proc, seen = _run_outside(project, outside, "--select", "VL005", ".")
    assert seen == [] and "hunter2" not in proc.stdout
    assert "no bind mount of the service provides; not read" in proc.stdout


def test_redis_conf_linted_alone_does_not_include_host_files(tmp_path: Path) -> None:
    project, outside = _outside_tree(tmp_path)
    (project / "redis.conf").write_text(f"include {outside}/redis.conf\nappendonly yes\n")
    proc, seen = _run_outside(project, outside, "redis.conf")
    assert seen == [] and "hunter2" not in proc.stdout
    assert f"include '{outside}/redis.conf' is outside the project folder; not read" in proc.stdout


def test_files_inside_dot_git_are_never_read(tmp_path: Path) -> None:
    project, outside = _outside_tree(tmp_path)
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text('[http]\n\textraheader = AUTHORIZATION: basic aHVudGVyMg==\n')
    (project / "redis.conf").write_text("include .git/config\nappendonly yes\n")
    (project / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n    env_file: .git/config\n")
    proc, seen = _run_outside(project, project / ".git", ".", "redis.conf")
    assert seen == []
    assert "aHVudGVy" not in proc.stdout
    assert proc.stdout.count("is outside the project folder; not read") == 2, proc.stdout
