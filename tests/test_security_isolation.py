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
