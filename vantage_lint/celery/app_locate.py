"""Where a Celery service's app lives in the repository.

``celery -A proj`` imports ``proj`` from the worker's working directory (Celery puts the
current directory on ``sys.path``) and from ``PYTHONPATH``. Those are container paths; the
linter maps them to host folders through what the Compose file shows:

1. a bind mount of the source (``./src:/app``): the working directory (``working_dir:`` or
   ``--workdir``) or a ``PYTHONPATH`` entry at or below the mount's target maps into its host
   folder; with no working directory given, the mount's host folder itself is tried;
2. the service's ``build.context`` (``build: ./backend``), taken as the import root: the image
   copies the context and runs from it. Where the Dockerfile's ``WORKDIR``/``COPY`` put the code
   elsewhere this is not followed (the Dockerfile is not read here).

Only folders inside the project folder are used; the module itself is then looked up under
each root by :class:`vantage_lint.celery.app_config.ModuleFinder`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vantage_lint.compose.nodes import MapNode, ScalarNode, scalar_text

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service


@dataclass(slots=True)
class ImportRoot:
    path: Path          # host folder
    how: str            # "bind mount ./src:/app", "build context ./backend"


@dataclass(slots=True)
class AppLocation:
    roots: list[ImportRoot] = field(default_factory=list)
    # Folders the service points at that are outside the project (never read).
    outside: list[str] = field(default_factory=list)

    @property
    def looked_in(self) -> str:
        return ", ".join(root.how for root in self.roots)


def _below(path: str, folder: str) -> str | None:
    path, folder = posixpath.normpath(path), posixpath.normpath(folder)
    if path == folder:
        return ""
    prefix = folder.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else None


def _inside(path: Path, project_root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(project_root)
    except OSError:
        return False


def build_context(service: Service) -> tuple[str, Path] | None:
    """The build context as written and as a host folder (None for remote contexts)."""
    node = service.get("build")
    written = None
    if isinstance(node, ScalarNode):
        written = scalar_text(node)
    elif isinstance(node, MapNode):
        written = scalar_text(node.get("context")) or "."
    if not written or "://" in written or written.startswith("git@") or "$" in written:
        return None
    base = service.base_dir(node) if node is not None else service.project.directory
    return written, (base / Path(written).expanduser())


def locate(service: Service, workdir: str | None, environ: Mapping[str, str]) -> AppLocation:
    """The host folders the service's Python imports come from."""
    project_root = service.project.directory.resolve()
    location = AppLocation()
    container_paths = [p for p in ([workdir] if workdir else []) if p and "$" not in p]
    pythonpath = environ.get("PYTHONPATH", "")
    if pythonpath and "$" not in pythonpath:
        container_paths += [p for p in pythonpath.split(":") if p.startswith("/")]
    seen: set[Path] = set()

    def add(path: Path, how: str, report_outside: bool = True) -> None:
        if not _inside(path, project_root):
            if report_outside:
                location.outside.append(how)
            return
        if path.is_dir() and path.resolve() not in seen:
            seen.add(path.resolve())
            location.roots.append(ImportRoot(path, how))

    for mount in service.mounts:
        if mount.type != "bind" or not mount.source or not mount.target or "$" in mount.source:
            continue
        host = Path(mount.source).expanduser()
        host = host if host.is_absolute() else service.base_dir(mount.node) / host
        how = f"bind mount {mount.source}:{mount.target}"
        matched = False
        for container in container_paths:
            rest = _below(container, mount.target)
            if rest is not None:
                matched = True
                add(host / rest if rest else host, how if not rest else f"{how} ({container})")
        if not matched and not workdir:
            # Any mounted folder may hold the code; an absolute host path that is not the
            # working directory (/var/run/docker.sock, /etc/localtime) says nothing about it.
            add(host, how, report_outside=not Path(mount.source).expanduser().is_absolute())
    context = build_context(service)
    if context is not None:
        add(context[1], f"build context {context[0]}")
    return location
