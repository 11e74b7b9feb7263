"""Turning the paths a user gives into lint targets: Compose projects and redis.conf files."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

from vantage_lint.compose.names import DEFAULT_FILES, DEFAULT_OVERRIDE_FILES, default_files, override_file_for, project_files
from vantage_lint.lazyre import lazy

COMPOSE_NAME = lazy(r"^(docker-)?compose([.-][\w.-]+)?\.ya?ml$")
SKIPPED_DIRS = {
    ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "env", "__pycache__", ".tox", ".nox",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages", ".idea", ".vscode",
}
# Reading a .conf file costs little; still, sniff only plausible ones in a folder walk.
MAX_SNIFF_BYTES = 64 * 1024


def _template_folder(name: str) -> bool:
    """A folder named with a template placeholder (cookiecutter's `{{ cookiecutter.project_slug }}`,
    copier's `{{ name }}`) holds templates that are rendered before use, not Compose files."""
    return "{{" in name and "}}" in name


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
    # The files are a whole project as Compose assembles it (COMPOSE_FILE, or an overlay merged
    # over its folder's default file), not a fragment, even when files[0] has another name.
    whole: bool = False

    def not_redis(self) -> str | None:
        """Why a file found by a folder walk under a Redis-like name is not linted as a
        redis.conf (None: it is one, or the user named it). Asked when the file is linted on its
        own, not by the walk: most are mounted by a Compose service and linted with its project."""
        if self.kind != "redis" or self.explicit:
            return None
        return _not_redis(self.files[0])


def is_compose_name(name: str) -> bool:
    return bool(COMPOSE_NAME.match(name))


def is_override_name(name: str) -> bool:
    return ".override." in name


def _excluded(path: Path, exclude: list[str]) -> bool:
    text = path.as_posix()
    return any(fnmatch.fnmatch(text, pattern) or fnmatch.fnmatch(path.name, pattern) for pattern in exclude)


def discover(paths: list[Path], *, exclude: list[str] | None = None,
             environ: dict[str, str] | None = None) -> list[Target]:
    """Targets for positional paths: files as given, folders walked (compose and redis confs).

    ``environ`` (default: the process environment) may set ``COMPOSE_FILE``: it applies to the
    folders named, as when ``docker compose`` runs there; a ``.env`` may set it in any folder."""
    exclude = exclude or []
    compose: list[Target] = []
    redis: list[Target] = []
    seen: set[Path] = set()
    environ = dict(os.environ if environ is None else environ)
    for path in paths:
        if path.is_dir():
            _walk(path, exclude, compose, redis, seen, environ)
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


def _walk(root: Path, exclude: list[str], compose: list[Target], redis: list[Target], seen: set[Path],
          environ: dict[str, str]) -> None:
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
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not _template_folder(d)
                             and not _excluded(current / d, exclude))
        names = sorted(filenames)
        # Files of this folder already taken, by identity: `compose.yaml -> docker-compose.yml`
        # is one file, linted (and fixed) once, under the name Compose picks first. The same
        # file in another folder is another project (its relative paths resolve there).
        taken: set[tuple[int, int]] = set()
        _add_chosen_files(current, environ if current == root else {}, compose, seen)
        for name in names:
            path = current / name
            if _excluded(path, exclude):
                continue
            if is_compose_name(name):
                bases = DEFAULT_FILES if name in DEFAULT_OVERRIDE_FILES else (name.replace(".override.", ".", 1),)
                if is_override_name(name) and any((current / n).is_file() for n in bases):
                    continue  # merged with its base file
                base = default_files(current)
                if base and name not in DEFAULT_FILES and path.absolute() not in seen and _overlays(path, base):
                    # `-f base -f overlay`: linted merged, not as a project of its own
                    seen.add(path.absolute())
                    compose.append(Target("compose", base + [path], explicit=False, whole=True))
                    continue
                if _first_time(path, taken):
                    _add_file(path, compose, redis, seen, explicit=False)
            elif name.endswith(".conf") and _looks_like_redis(path) and _first_time(path, taken):
                _add_file(path, compose, redis, seen, explicit=False)


def _redis_name(path: Path) -> bool:
    lowered = path.name.lower()
    return "redis" in lowered or "sentinel" in lowered or "valkey" in lowered


def _first_time(path: Path, taken: set[tuple[int, int]]) -> bool:
    """True the first time a walk meets this file (links followed); a dangling link counts as new."""
    try:
        info = path.stat()
    except (OSError, ValueError):
        return True
    identity = (info.st_dev, info.st_ino)
    if identity in taken:
        return False
    taken.add(identity)
    return True


def _add_chosen_files(folder: Path, environ: dict[str, str], compose: list[Target], seen: set[Path]) -> None:
    """The project ``COMPOSE_FILE`` names (environment or the folder's .env), when it is set."""
    if "COMPOSE_FILE" not in environ and not (folder / ".env").is_file():
        return
    files = project_files(folder, environ)
    if files == default_files(folder) or not all(f.is_file() for f in files):
        return  # not set, or naming files that are absent (then Compose refuses; the defaults are linted)
    if any(f.absolute() in seen for f in files):
        return
    for f in files:
        seen.add(f.absolute())
    compose.append(Target("compose", files, explicit=False, whole=True))


def _service_names(path: Path) -> set[str] | None:
    """The services a compose file defines, or None when it cannot be read as YAML."""
    from vantage_lint.compose.yaml_loader import service_names
    from vantage_lint.source import SourceError, read_source

    try:
        return service_names(read_source(path, str(path)))
    except (OSError, SourceError):
        return None


def _overlays(path: Path, base: list[Path]) -> bool:
    """Whether every service ``path`` defines is defined by the default project ``base`` too."""
    mine = _service_names(path)
    if not mine:
        return False
    theirs: set[str] = set()
    for file in base:
        theirs |= _service_names(file) or set()
    return mine <= theirs


def _looks_like_redis(path: Path) -> bool:
    """``redis*.conf``/``sentinel*.conf`` always (judged by content later); other confs by content."""
    if _redis_name(path):
        return path.is_file()
    text = _head(path)
    if text is None:
        return False
    from vantage_lint.redis.config import looks_like_redis_conf

    return looks_like_redis_conf(text)


def _not_redis(path: Path) -> str | None:
    """Why a ``redis*.conf`` found by the walk is not a Redis config, if it is not (a compose
    service that mounts it as Redis's config still gets it linted, through the project)."""
    if not _redis_name(path):
        return None
    text = _head(path)
    if text is None:
        return None  # binary or unreadable: the reader reports it (VL005)
    from vantage_lint.redis.config import not_a_redis_conf

    return not_a_redis_conf(text)


def _head(path: Path) -> str | None:
    try:
        if not path.is_file():
            return None
        with open(path, "rb") as handle:
            head = handle.read(MAX_SNIFF_BYTES)
    except OSError:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError:
        return None
