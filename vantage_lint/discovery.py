"""Turning the paths a user gives into lint targets: Compose projects and redis.conf files."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

from vantage_lint.compose.names import DEFAULT_FILES, DEFAULT_OVERRIDE_FILES, override_file_for
from vantage_lint.lazyre import lazy

COMPOSE_NAME = lazy(r"^(docker-)?compose([.-][\w.-]+)?\.ya?ml$")
SKIPPED_DIRS = {
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "env", "__pycache__", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages", ".idea", ".vscode",
}
# Reading a .conf file costs little; still, sniff only plausible ones in a folder walk.
MAX_SNIFF_BYTES = 64 * 1024


class UsageError(Exception):
    """A path given by name that cannot be linted (exit status 2)."""


@dataclass(slots=True)
class Target:
    kind: str                      # "compose" or "redis"
    files: list[Path]
    explicit: bool = False         # named by the user (unreadable → usage error)
    env_files: list[Path] | None = None
    project_directory: Path | None = None
    notes: list[str] = field(default_factory=list)


def is_compose_name(name: str) -> bool:
    return bool(COMPOSE_NAME.match(name))


def is_override_name(name: str) -> bool:
    return ".override." in name


def _excluded(path: Path, exclude: list[str]) -> bool:
    text = path.as_posix()
    return any(fnmatch.fnmatch(text, pattern) or fnmatch.fnmatch(path.name, pattern) for pattern in exclude)


def discover(paths: list[Path], *, exclude: list[str] | None = None) -> list[Target]:
    """Targets for positional paths: files as given, folders walked (compose and redis confs)."""
    exclude = exclude or []
    compose: list[Target] = []
    redis: list[Target] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            _walk(path, exclude, compose, redis, seen)
        elif path.exists() or path.is_symlink():
            _add_file(path, compose, redis, seen, explicit=True)
        else:
            raise UsageError(f"{path}: no such file or directory")
    return compose + redis


def _add_file(path: Path, compose: list[Target], redis: list[Target], seen: set[Path], *, explicit: bool) -> None:
    key = path.absolute()
    if key in seen:
        return
    name = path.name
    if name.endswith((".yml", ".yaml")):
        files = [path]
        if is_override_name(name):
            names = DEFAULT_FILES if name in DEFAULT_OVERRIDE_FILES else (name.replace(".override.", ".", 1),)
            base = next((path.with_name(n) for n in names if path.with_name(n).is_file()), None)
            if base is not None:
                files = [base, path]
        elif name in DEFAULT_FILES:
            override = override_file_for(path)
            if override is not None:
                files.append(override)
        for f in files:
            seen.add(f.absolute())
        compose.append(Target("compose", files, explicit=explicit))
    else:
        seen.add(key)
        redis.append(Target("redis", [path], explicit=explicit))


def _walk(root: Path, exclude: list[str], compose: list[Target], redis: list[Target], seen: set[Path]) -> None:
    visited: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        current = Path(dirpath)
        try:
            stat = current.stat()
        except OSError:
            dirnames[:] = []
            continue
        if (stat.st_dev, stat.st_ino) in visited:
            dirnames[:] = []
            continue
        visited.add((stat.st_dev, stat.st_ino))
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not _excluded(current / d, exclude))
        names = sorted(filenames)
        for name in names:
            path = current / name
            if _excluded(path, exclude):
                continue
            if is_compose_name(name):
                bases = DEFAULT_FILES if name in DEFAULT_OVERRIDE_FILES else (name.replace(".override.", ".", 1),)
                if is_override_name(name) and any((current / n).is_file() for n in bases):
                    continue  # merged with its base file
                _add_file(path, compose, redis, seen, explicit=False)
            elif name.endswith(".conf") and _looks_like_redis(path):
                _add_file(path, compose, redis, seen, explicit=False)


def _looks_like_redis(path: Path) -> bool:
    """``redis*.conf``/``sentinel*.conf`` always (a wrong file is reported); other confs by content."""
    lowered = path.name.lower()
    if "redis" in lowered or "sentinel" in lowered or "valkey" in lowered:
        return path.is_file()
    try:
        if not path.is_file():
            return False
        with open(path, "rb") as handle:
            head = handle.read(MAX_SNIFF_BYTES)
    except OSError:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    from vantage_lint.redis.config import looks_like_redis_conf

    return looks_like_redis_conf(text)
