"""Comparing vantage-lint's ``--show-compose`` with ``docker compose config`` (the oracle)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from vantage_lint.compose.project import load_project
from vantage_lint.compose.show import redact_shown, show_project
from vantage_lint.source import read_source

ORACLE = shutil.which("docker-compose")
# Environment of both sides: nothing from the machine leaks into interpolation.
ENV = {"PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent"}


def env_for(directory: Path) -> dict[str, str]:
    """As a shell in the project folder has it (stacks write ${PWD}/...)."""
    return {**ENV, "PWD": str(directory)}
# The fields compared, per service; others are shown but not yet proven equal.
FIELDS = ("image", "command", "entrypoint", "environment", "ports", "volumes", "depends_on", "restart",
          "profiles", "user", "cap_add", "labels", "working_dir", "network_mode", "hostname", "logging", "build", "networks")


def oracle(files: list[Path], directory: Path) -> tuple[dict[str, Any] | None, str]:
    """Compose's model, or None and its reason (it exits 0 even when it refuses)."""
    assert ORACLE is not None
    args = [ORACLE, "--project-directory", str(directory)]
    for path in files:
        args += ["-f", str(path)]
    done = subprocess.run(args + ["config", "--format", "json"], capture_output=True, text=True, timeout=60,
                          env=env_for(directory), cwd=directory)
    if not done.stdout.strip():
        return None, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no output"
    return _unescape(json.loads(done.stdout)), ""


def _unescape(data: Any) -> Any:
    """`config` writes every `$` as `$$`."""
    if isinstance(data, dict):
        return {k: _unescape(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_unescape(v) for v in data]
    if isinstance(data, str):
        return data.replace("$$", "$")
    return data


def ours(files: list[Path], directory: Path) -> tuple[dict[str, Any], list[str]]:
    project = load_project(files, reader=lambda p: read_source(p, str(p)), environ=env_for(directory),
                           project_directory=directory)
    errors = [f.message for f in project.problems if f.severity.name == "ERROR"]
    return show_project(project), errors


def normalise(model: dict[str, Any]) -> dict[str, Any]:
    """Format-only: ports and volumes as sorted tuples, depends_on by name and condition."""
    model = redact_shown(model)
    services = {}
    for name, service in (model.get("services") or {}).items():
        out: dict[str, Any] = {}
        for key in FIELDS:
            value = service.get(key)
            if value in (None, [], {}):
                continue
            if key == "ports":
                value = sorted(json.dumps({k: str(v) for k, v in p.items()}, sort_keys=True) for p in value)
            elif key == "volumes":
                value = sorted(json.dumps({k: v for k, v in m.items() if k in ("type", "source", "target", "read_only")},
                                          sort_keys=True) for m in value)
            elif key == "build":
                value = {k: value.get(k) for k in ("context", "dockerfile", "args", "target") if value.get(k)}
            elif key == "networks":
                value = {k: (v or None) for k, v in value.items()}
            elif key == "depends_on":
                value = {k: (v or {}).get("condition", "service_started") for k, v in value.items()}
            elif key in ("cap_add", "profiles"):
                value = sorted(set(value))
            elif key in ("environment", "labels"):
                value = {k: (None if v is None else str(v)) for k, v in value.items()}
            elif key in ("restart", "user", "hostname", "working_dir", "network_mode", "image"):
                value = str(value)
            out[key] = value
        services[name] = out
    return {"services": services,
            "volumes": sorted(model.get("volumes") or {}),
            "networks": sorted(model.get("networks") or {})}


def diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two normalised models differ, as dotted paths (a is ours, b the oracle's)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                out.append(f"{path}.{key}: {'missing' if key not in a else 'extra'}")
            else:
                out += diff(a[key], b[key], f"{path}.{key}")
        return out
    return [] if a == b else [f"{path}: {json.dumps(a)[:120]} != {json.dumps(b)[:120]}"]
