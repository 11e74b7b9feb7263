"""Where a Celery service's app lives in the repository.

``celery -A proj`` imports ``proj`` from the worker's working directory (Celery puts the
current directory on ``sys.path``) and from ``PYTHONPATH``. Those are container paths; the
linter maps them to host files through what the Compose file and the Dockerfile show:

1. a service with a ``build:`` whose Dockerfile is read: the working directory is
   ``--workdir`` (relative to the next), else ``working_dir:``, else the built stage's
   ``WORKDIR`` (resolved as Docker does); ``PYTHONPATH`` comes from the service's environment,
   else the Dockerfile's ``ENV``. Each of those folders is read through
   :class:`vantage_lint.celery.app_image.ContainerFiles`: bind mounts first (a mount hides
   the image's files at its target), then the stage's ``COPY``/``ADD`` from the build context
   or from other stages. What cannot be followed is said (``AppLocation.unfollowed``);
2. otherwise (no build, a remote context, or no Dockerfile in the context), as before the
   Dockerfile was read: a bind mount of the source (``./src:/app``): the working directory or
   a ``PYTHONPATH`` entry at or below the mount's target maps into its host folder, and with no
   working directory given the mount's host folder itself is tried; and the ``build.context``
   taken as the import root.

Only files inside the project folder are used; the module itself is then looked up under
each root by :class:`vantage_lint.celery.app_config.ModuleFinder`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vantage_lint.celery.app_image import ContainerRoot, Mount, below, container_files, image_start
from vantage_lint.compose.nodes import MapNode, ScalarNode, scalar_text
from vantage_lint.images.build import Build, service_build
from vantage_lint.source import exists

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service


@dataclass(slots=True)
class ImportRoot:
    path: Path | None   # host folder (None: a container folder read through ``mapped``)
    how: str            # "bind mount ./src:/app", "build context ./backend"
    mapped: ContainerRoot | None = None

    @property
    def finder_root(self) -> Path | ContainerRoot:
        return self.mapped if self.mapped is not None else self.path  # type: ignore[return-value]


@dataclass(slots=True)
class AppLocation:
    roots: list[ImportRoot] = field(default_factory=list)
    # Folders the service points at that are outside the project (never read).
    outside: list[str] = field(default_factory=list)
    # What could not be followed from the container paths to the host (a reason each).
    unfollowed: list[str] = field(default_factory=list)

    @property
    def looked_in(self) -> str:
        return ", ".join(root.how for root in self.roots)




def _bind_mounts(service: Service) -> list[Mount]:
    mounts = []
    for mount in service.mounts:
        if mount.type != "bind" or not mount.source or not mount.target or "$" in mount.source:
            continue
        host = Path(mount.source).expanduser()
        host = host if host.is_absolute() else service.base_dir(mount.node) / host
        mounts.append(Mount(posixpath.normpath(mount.target), host, f"bind mount {mount.source}:{mount.target}"))
    return mounts


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
    """Where the service's Python imports come from."""
    build = service_build(service)
    if build is not None and not _dockerfile_absent(build):
        return _locate_in_image(service, build, workdir, environ)
    return _locate_compose_only(service, workdir, environ)


def _dockerfile_absent(build: Build) -> bool:
    """No Dockerfile to read where Compose looks for it (or a remote context): the Compose file
    alone is read, with the build context as the import root."""
    if build.context is None:
        return True
    return build.dockerfile is None and build.path is not None and not exists(build.path)


def _locate_in_image(service: Service, build: Build, workdir: str | None,
                     environ: Mapping[str, str]) -> AppLocation:
    project = service.project
    project_root = project.directory.resolve()
    location = AppLocation()
    mounts = _bind_mounts(service)
    reader = project.reader

    def read_text(path: Path) -> str:
        if reader is None:
            raise OSError("not read")
        return reader(path).text

    files = container_files(build, mounts, read_text)
    start = image_start(build)
    shown = f"the image built from {build.shown}"
    # The process's working directory: working_dir: replaces the image's WORKDIR.
    compose_dir = service.text("working_dir")
    process_cwd: str | None = None
    if compose_dir and "$" not in compose_dir and compose_dir.startswith("/"):
        process_cwd, how = posixpath.normpath(compose_dir), "working_dir:"
    elif start is not None and start.cwd is not None:
        process_cwd, how = start.cwd, start.cwd_how
    elif start is not None:
        location.unfollowed.append(f"its working directory is not known ({start.cwd_how})")
    else:
        location.unfollowed.append(f"where the image puts the code is not known ({build.unreadable})")
    roots: list[tuple[str, str]] = []
    if process_cwd is not None:
        if workdir and workdir != compose_dir:
            cwd = posixpath.normpath(posixpath.join(process_cwd, workdir))
            roots.append((cwd, f"--workdir {workdir}"))
        else:
            roots.append((process_cwd, how))
    elif workdir and workdir.startswith("/"):
        roots.append((posixpath.normpath(workdir), "--workdir" if workdir != compose_dir else "working_dir:"))
    if "PYTHONPATH" in environ:
        pythonpath, where = environ["PYTHONPATH"], "PYTHONPATH"
    elif start is not None:
        pythonpath, where = start.pythonpath or "", f"ENV PYTHONPATH in {build.shown}"
        if not start.pythonpath_known:
            location.unfollowed.append(f"ENV PYTHONPATH in {build.shown} uses a variable not known")
    else:
        pythonpath, where = "", ""
    if "$" in pythonpath:
        location.unfollowed.append(f"{where} uses a variable not known")
    else:
        for entry in filter(None, pythonpath.split(":")):
            if entry.startswith("/"):
                roots.append((posixpath.normpath(entry), where))
            elif process_cwd is not None:
                roots.append((posixpath.normpath(posixpath.join(process_cwd, entry)), where))
    seen: set[str] = set()
    for folder, how in roots:
        if folder in seen:
            continue
        seen.add(folder)
        outside = [m for m in mounts if below(folder, m.target) is not None and not _inside(m.host, project_root)]
        if outside:
            location.outside.append(max(outside, key=lambda m: len(m.target)).how)
            continue
        location.roots.append(ImportRoot(None, f"{folder} ({how}) in {shown}", ContainerRoot(files, folder)))
    return location


def _locate_compose_only(service: Service, workdir: str | None, environ: Mapping[str, str]) -> AppLocation:
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
            rest = below(container, mount.target)
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
