"""The files a service's container holds, as far as its Compose file and Dockerfile tell.

A container path maps to a host file through, from the top: a bind mount whose target holds
it (a mount hides what the image has there), else the ``COPY``/``ADD`` instructions of the
stage built and the stages it is built ``FROM``, the latest first (a later copy overwrites an
earlier one, and leaves the rest in place). Docker's rules, as documented for COPY:

- a source folder's *contents* land in the destination (``COPY src /app``: ``src/x.py`` is
  ``/app/x.py``); a source file lands at the destination, or inside it when the destination
  ends with ``/``, is the working directory (``.``) or takes several sources; each match of a
  wildcard is a source of its own;
- a relative destination is relative to the WORKDIR at that instruction;
- ``--from=<stage>`` copies from that stage's own files (followed the same way); from another
  image the content is not known;
- files the ``.dockerignore`` excludes are not in the context (``<Dockerfile>.dockerignore``
  beside the Dockerfile first, else the context's own, as BuildKit reads them).

Where a path could come from something the linter cannot read (a heredoc, a variable with no
value, ``--from`` an image, a wildcard in a folder name, an ``ADD`` of a URL or archive),
the answer is a reason string, never a guess. ``RUN`` steps are not followed: a file they
create or move is not seen.
"""

from __future__ import annotations

import glob
import os
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vantage_lint.images.build import Build
from vantage_lint.source import exists, glob_paths, is_file

if TYPE_CHECKING:  # a Dockerfile was parsed by the time these are used (images.build imports it then)
    from vantage_lint.images.dockerfile import CopyOp, Dockerfile, Stage

_GLOB = set("*?[")
# `COPY --from` followed at most this deep: a chain of stages copying from each other must
# neither exhaust the stack nor multiply lookups.
_MAX_FROM_DEPTH = 8
Lookup = Path | str | None     # a host file, a reason it is not known, or "not there"


def _is_dir(path: Path) -> bool:
    """A folder (probes noted in the read log, so the project cache sees a change)."""
    return exists(path) and not is_file(path)


def below(path: str, folder: str) -> str | None:
    """``path`` relative to ``folder`` ("" for the folder itself), or None when outside it."""
    path, folder = posixpath.normpath(path), posixpath.normpath(folder)
    if path == folder:
        return ""
    prefix = folder.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else None


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as moby's patternmatcher reads it: ``*`` and ``?`` stay inside
    one path element, ``**`` spans any number of them."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
                out.append("(?:.*/)?")
            else:
                out.append(".*")
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            close = pattern.find("]", i + 1)
            if close == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : close].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
                i = close
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass(slots=True)
class DockerIgnore:
    rules: list[tuple[bool, re.Pattern[str]]] = field(default_factory=list)   # (exclude, pattern)

    @classmethod
    def parse(cls, text: str) -> DockerIgnore:
        rules = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            exclude = not line.startswith("!")
            line = line.lstrip("!").strip()
            line = posixpath.normpath(line).lstrip("/")
            if line and line != ".":
                rules.append((exclude, _dockerignore_regex(line)))
        return cls(rules)

    def excluded(self, rel: str) -> bool:
        """Whether the context file ``rel`` is left out: the last pattern matching it, or one
        of its parent folders, decides."""
        parts = rel.split("/")
        result = False
        for exclude, regex in self.rules:
            if any(regex.match("/".join(parts[: n])) for n in range(1, len(parts) + 1)):
                result = exclude
        return result


@dataclass(slots=True)
class Mount:
    target: str
    host: Path
    how: str


@dataclass(slots=True)
class ContainerFiles:
    """Container paths to host files: bind mounts over the image's copies."""

    build: Build | None
    mounts: list[Mount]
    ignore: DockerIgnore | None = None
    ignore_problem: str | None = None

    def host(self, path: str) -> Lookup:
        path = posixpath.normpath(path)
        best: tuple[int, Mount, str] | None = None
        for mount in self.mounts:
            rest = below(path, mount.target)
            if rest is not None and (best is None or len(mount.target) > best[0]):
                best = (len(mount.target), mount, rest)
        if best is not None:
            candidate = best[1].host / best[2] if best[2] else best[1].host
            return candidate if is_file(candidate) else None
        build = self.build
        if build is None:
            return None
        if build.dockerfile is None or build.stage is None:
            return f"what the image holds at {path} ({build.unreadable or 'its Dockerfile was not read'})"
        return self._stage_file(build.dockerfile, build.stage, path, 0)

    # --- the image -------------------------------------------------------------------------------
    def _stage_file(self, dockerfile: Dockerfile, stage: Stage, path: str, depth: int) -> Lookup:
        ops: list[CopyOp] = []
        for each in reversed(dockerfile.chain(stage)):
            ops.extend(each.copy_ops)
        for op in reversed(ops):
            found = self._from_op(dockerfile, op, path, depth)
            if found is not None:
                return found
        return None

    def _where(self, op: CopyOp) -> str:
        assert self.build is not None
        return f"{op.keyword.upper()} at {self.build.where(op.line)}"

    def _from_op(self, dockerfile: Dockerfile, op: CopyOp, path: str, depth: int) -> Lookup:
        if op.dest is None:
            return f"{self._where(op)}, whose destination uses a variable not known"
        if op.dest.startswith("/"):
            dest = posixpath.normpath(op.dest)
        elif op.cwd is not None:
            dest = posixpath.normpath(posixpath.join(op.cwd, op.dest))
        else:
            return f"{self._where(op)}, relative to a WORKDIR not known"
        rest = below(path, dest)
        if rest is None:
            return None
        if op.unread is not None:
            return f"{self._where(op)} ({op.unread})"
        into_dir = op.dest.endswith("/") or op.dest in (".", "./") or len(op.sources) > 1
        for source in reversed(op.sources):
            if source is None:
                return f"{self._where(op)}, whose source uses a variable not known"
            if op.from_ is not None:
                found = self._from_stage(dockerfile, op, source, rest, into_dir, depth)
            else:
                found = self._from_context(op, source, rest, into_dir)
            if found is not None:
                return found
        return None

    def _from_stage(self, dockerfile: Dockerfile, op: CopyOp, source: str, rest: str, into_dir: bool,
                    depth: int) -> Lookup:
        assert op.from_ is not None
        other = next((s for s in dockerfile.stages if s.name is not None and s.name.lower() == op.from_.lower()),
                     None)
        if other is None and op.from_.isdigit() and int(op.from_) < len(dockerfile.stages):
            other = dockerfile.stages[int(op.from_)]
        if other is None:
            return f"{self._where(op)} copies from the image {op.from_}, whose files are not known"
        if depth >= _MAX_FROM_DEPTH or any(c in _GLOB for c in source):
            return f"{self._where(op)} ({source} is not followed)"
        origin = posixpath.normpath(posixpath.join("/", source))
        name = posixpath.basename(origin)
        tries = [posixpath.join(origin, rest)] if rest else [origin]
        if rest == name or (not into_dir and rest == ""):
            tries.append(origin)   # a file copied into the folder, or onto the destination
        for candidate in tries:
            found = self._stage_file(dockerfile, other, candidate, depth + 1)
            if found is not None:
                return found
        return None

    def _from_context(self, op: CopyOp, source: str, rest: str, into_dir: bool) -> Lookup:
        build = self.build
        assert build is not None and build.context is not None
        rel = posixpath.normpath(posixpath.join("/", source)).lstrip("/")   # `..` stops at the context
        if any(c in _GLOB for c in rel):
            return self._glob(op, rel, rest, into_dir)
        host = build.context / rel if rel else build.context
        if _is_dir(host):
            candidate = host / rest if rest else host
            return self._kept(candidate, posixpath.join(rel, rest) if rest else rel)
        if is_file(host) and (rest == posixpath.basename(rel) or (rest == "" and not into_dir)):
            return self._kept(host, rel)
        return None

    def _glob(self, op: CopyOp, rel: str, rest: str, into_dir: bool) -> Lookup:
        build = self.build
        assert build is not None and build.context is not None
        folder, _, pattern = rel.rpartition("/")
        if any(c in _GLOB for c in folder):
            return f"{self._where(op)} (the wildcard {rel} is not followed)"
        base = build.context / folder if folder else build.context
        matches = glob_paths(os.path.join(glob.escape(str(base)), pattern))
        # Each match is copied as a source of its own: a folder's contents land in the
        # destination too (`COPY src/* /app/` puts src/pkg/x.py at /app/x.py).
        for match in reversed(matches):
            name = posixpath.join(folder, match.name) if folder else match.name
            if _is_dir(match):
                found = self._kept(match / rest, posixpath.join(name, rest)) if rest else None
            else:
                found = self._kept(match, name) if rest == match.name else None
            if found is not None:
                return found
        return None

    def _kept(self, host: Path, rel: str) -> Lookup:
        if not is_file(host):
            return None
        if self.ignore_problem is not None:
            return self.ignore_problem
        if self.ignore is not None and self.ignore.excluded(rel):
            return None
        return host


@dataclass(slots=True)
class ContainerRoot:
    """An import root (a container folder) read through :class:`ContainerFiles`."""

    files: ContainerFiles
    folder: str

    def candidates(self, parts: Sequence[str]) -> Iterator[Path | str]:
        base = posixpath.join(self.folder, *parts)
        for path in (base + ".py", base + "/__init__.py"):
            found = self.files.host(path)
            if found is not None:
                yield found


def container_files(build: Build | None, mounts: list[Mount], read_text) -> ContainerFiles:  # read_text: Path -> str
    """The container's files for ``build`` (None: no image built here) under ``mounts``."""
    files = ContainerFiles(build, mounts)
    if build is not None and build.context is not None:
        # BuildKit reads `<Dockerfile>.dockerignore` beside the Dockerfile first, else the
        # context's `.dockerignore`.
        path = build.context / ".dockerignore"
        if build.path is not None and is_file(Path(f"{build.path}.dockerignore")):
            path = Path(f"{build.path}.dockerignore")
        if is_file(path):
            try:
                files.ignore = DockerIgnore.parse(read_text(path))
            except Exception as exc:  # SourceError or OSError: said, never raised
                message = getattr(exc, "message", None) or getattr(exc, "strerror", None) or str(exc)
                files.ignore_problem = f"the context's .dockerignore cannot be read ({message})"
    return files


@dataclass(slots=True)
class ImageStart:
    """The working directory and PYTHONPATH the image gives the process."""

    cwd: str | None
    cwd_how: str
    pythonpath: str | None          # ENV PYTHONPATH of the stage (None: not set or not known)
    pythonpath_known: bool = True


def image_start(build: Build) -> ImageStart | None:
    stage = build.stage
    if build.dockerfile is None or stage is None:
        return None
    if stage.cwd is not None:
        root = build.dockerfile.chain(stage)[-1]
        how = (f"WORKDIR at {build.where(stage.cwd_line)}" if stage.cwd_line
               else f"no WORKDIR, and the base image {root.base} sets none")
    elif stage.cwd_line is not None:
        how = f"WORKDIR at {build.where(stage.cwd_line)} uses a variable not known, or is relative to a base image's"
    else:
        root = build.dockerfile.chain(stage)[-1]
        how = f"the base image {root.base or '(not known)'} may set its own WORKDIR"
    known = "PYTHONPATH" not in stage.env or stage.env["PYTHONPATH"] is not None
    return ImageStart(stage.cwd, how, stage.env.get("PYTHONPATH"), known)

