"""Whether an entrypoint script copied into the image switches user before the real process.

The script is found through the Dockerfile's COPY/ADD instructions (the file of the build
context that lands at the entrypoint's path), read through the project's reader inside the
project folder, and split into words as the shell does. A script that runs gosu, su-exec,
setpriv, runuser, su, sudo, chpst or s6-setuidgid switches user; one that hands over to the
base image's ``docker-entrypoint.sh`` cannot be judged; one that does neither runs its command
as the user it started as.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vantage_lint.images.build import Build, inside_folder
from vantage_lint.shell import basename, split_words
from vantage_lint.source import SourceError

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service
    from vantage_lint.images.dockerfile import Stage

SWITCHERS = frozenset({"gosu", "su-exec", "setpriv", "runuser", "su", "sudo", "chpst", "s6-setuidgid",
                       "setuidgid"})
_GLOB = "*?["


@dataclass(frozen=True, slots=True)
class ScriptVerdict:
    switches: bool | None     # None: cannot tell (it hands over to another entrypoint)
    where: str                # "docker/entrypoint.sh:12" or "docker/entrypoint.sh"
    word: str | None = None   # the switching program


def _host_file(build: Build, chain: list[Stage], program: str) -> Path | None:
    """The build-context file that the Dockerfile copies to where ``program`` runs from."""
    if build.context is None:
        return None
    workdir = next((s.workdir for s in chain if s.workdir), None) or "/"
    by_path = program.startswith("/") or program.startswith("./") or "/" in program
    wanted = posixpath.normpath(posixpath.join(workdir, program)) if by_path else None
    for stage in chain:
        for sources, dest, _line in reversed(stage.copies):
            base = posixpath.normpath(posixpath.join(stage.workdir or "/", dest))
            into_dir = dest.endswith("/") or len(sources) > 1
            for src in sources:
                if any(c in src for c in _GLOB) or "://" in src:
                    continue
                if src in (".", "./") or src.endswith("/"):
                    # A folder copied whole: the script is inside it, at the same relative path.
                    prefix = base.rstrip("/") + "/"
                    if wanted is not None and wanted.startswith(prefix):
                        return build.context / src / wanted[len(prefix):]
                    continue
                landed = posixpath.join(base, basename(src)) if into_dir else base
                if (wanted is not None and landed == wanted) or (wanted is None and basename(landed) == program):
                    return build.context / src
    return None


def _mounted_file(service: Service, program: str) -> Path | None:
    """The host file a bind mount puts at ``program`` (an absolute container path)."""
    if not program.startswith("/"):
        return None
    best: tuple[int, Path] | None = None
    for mount in service.mounts:
        if mount.type != "bind" or not mount.source or not mount.target.startswith("/"):
            continue
        target = posixpath.normpath(mount.target)
        if program == target:
            rest = ""
        elif program.startswith(target.rstrip("/") + "/"):
            rest = program[len(target.rstrip("/")) + 1:]
        else:
            continue
        source = Path(mount.source).expanduser()
        host = source if source.is_absolute() else service.base_dir(mount.node) / source
        host = host / rest if rest else host
        if best is None or len(target) > best[0]:
            best = (len(target), host)
    return best[1] if best else None


def entrypoint_script(service: Service, build: Build | None, chain: list[Stage], program: str) -> ScriptVerdict | None:
    """What the entrypoint script ``program`` does about the user, or None when it is not found
    (copied by the Dockerfile from the build context, or bind-mounted from the project)."""
    path = _host_file(build, chain, program) if build is not None else None
    if path is None:
        path = _mounted_file(service, program)
    project = service.project
    if path is None or project.reader is None or not inside_folder(path, project.directory):
        return None
    try:
        source = project.reader(path)
    except (OSError, SourceError):
        return None
    project.sources.setdefault(source.path, source)
    for number, line in enumerate(source.text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        words = [basename(w.text) for w in split_words(stripped)]
        for word in words:
            if word in SWITCHERS:
                return ScriptVerdict(True, f"{source.path}:{number}", word)
        if "docker-entrypoint.sh" in words:
            # Hands over to the base image's entrypoint, which may drop root: not judged.
            return ScriptVerdict(None, f"{source.path}:{number}")
    return ScriptVerdict(False, source.path)
