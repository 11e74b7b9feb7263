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
          "profiles", "user", "cap_add", "labels", "working_dir", "network_mode", "hostname", "logging", "build", "networks",
          "deploy", "healthcheck", "secrets", "configs", "cap_drop", "dns", "dns_search", "expose", "tmpfs", "links",
          "extra_hosts")
_DURATIONS = {"interval", "timeout", "start_period", "start_interval", "delay", "window", "monitor"}
_SIZES = {"memory", "memswap_limit", "shm_size", "mem_limit", "mem_reservation"}


def oracle(files: list[Path] | None, directory: Path, *, env: dict[str, str] | None = None,
           profiles: list[str] | None = None) -> tuple[dict[str, Any] | None, str]:
    """Compose's model, or None and its reason (it exits 0 even when it refuses). ``files``
    None: no ``-f``, Compose picks the files itself (COMPOSE_FILE, default names)."""
    assert ORACLE is not None
    args = [ORACLE, "--project-directory", str(directory)]
    for path in files or []:
        args += ["-f", str(path)]
    for name in profiles or []:
        args += ["--profile", name]
    done = subprocess.run(args + ["config", "--format", "json"], capture_output=True, text=True, timeout=60,
                          env={**env_for(directory), **(env or {})}, cwd=directory)
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


def ours(files: list[Path], directory: Path, *, env: dict[str, str] | None = None,
         profiles: list[str] | None = None) -> tuple[dict[str, Any], list[str]]:
    project = load_project(files, reader=lambda p: read_source(p, str(p)),
                           environ={**env_for(directory), **(env or {})}, project_directory=directory,
                           profiles=profiles)
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
            elif key in ("cap_add", "cap_drop", "profiles", "dns", "dns_search", "expose", "tmpfs", "links"):
                value = sorted({str(v) for v in ([value] if isinstance(value, str) else value)})
            elif key == "extra_hosts":
                value = sorted(_host_entry(v) for v in (value.items() if isinstance(value, dict) else value))
            elif key in ("secrets", "configs"):
                default = "/run/secrets/" if key == "secrets" else "/"
                value = sorted(json.dumps(_mount_ref(v, default), sort_keys=True) for v in value)
            elif key == "healthcheck":
                test = value.get("test")
                if isinstance(test, str):
                    value = {**value, "test": ["CMD-SHELL", test]}
                value = _values(value)
            elif key == "deploy":
                value = _values(value)
            elif key in ("environment", "labels"):
                value = {k: (None if v is None else str(v)) for k, v in value.items()}
            elif key in ("restart", "user", "hostname", "working_dir", "network_mode", "image"):
                value = str(value)
            out[key] = value
        services[name] = out
    return {"services": services,
            "volumes": sorted(model.get("volumes") or {}),
            "networks": sorted(model.get("networks") or {}),
            "secrets": sorted(model.get("secrets") or {}),
            "configs": sorted(model.get("configs") or {})}


def _host_entry(entry: Any) -> str:
    """``host:ip``, ``host=ip`` and mapping items as ``host=ip``."""
    if isinstance(entry, tuple):
        return f"{entry[0]}={entry[1]}"
    name, sep, address = str(entry).partition("=")
    if not sep:
        name, _, address = str(entry).partition(":")
    return f"{name}={address}"


def _mount_ref(entry: Any, default: str) -> dict[str, Any]:
    if isinstance(entry, str):
        entry = {"source": entry}
    out = {k: str(v) for k, v in entry.items() if v is not None}
    out.setdefault("target", default + out.get("source", ""))
    return out


def _values(data: Any, key: str = "") -> Any:
    """Durations as seconds, sizes as bytes, cpus as numbers, other scalars as text; empty
    mappings and nulls dropped (Compose writes `placement: {}`)."""
    from vantage_lint.compose.units import compose_bytes, compose_cpus, compose_duration

    if isinstance(data, dict):
        out = {k: _values(v, k) for k, v in data.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(data, list):
        return [_values(v, key) for v in data]
    if key in _DURATIONS and compose_duration(data) is not None:
        return compose_duration(data)
    if key in _SIZES and compose_bytes(data) is not None:
        return compose_bytes(data) or None  # 0 is "no limit", which Compose leaves out
    if key == "cpus" and compose_cpus(data) is not None:
        return compose_cpus(data) or None
    return None if data is None else str(data)


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
