"""The Dockerfile a ``build:`` service is built from, read as Compose would find it.

Compose resolves ``build.context`` from the folder of the file that declares it, the Dockerfile
(``build.dockerfile``, default ``Dockerfile``) from the context, and picks ``build.target`` (else
the last stage); ``build.dockerfile_inline`` replaces the file. Files are read through the
project's reader (so the project's cache sees them) and only inside the project folder: a
context outside it, a remote context or an unreadable file gives a reason instead of an answer.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, SeqNode, scalar_text
from vantage_lint.compose.unknown import has_unknown
from vantage_lint.source import SourceError, SourceFile

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service
    from vantage_lint.images.dockerfile import Dockerfile, Stage

_REMOTE = ("http://", "https://", "git://", "git@", "ssh://", "github.com/")


@dataclass(slots=True)
class Build:
    """A service's build: the parsed Dockerfile and the stage it builds, or why not."""

    node: Node                       # the build: node in the Compose file
    context: Path | None
    shown: str                       # how findings name the Dockerfile ("api/Dockerfile")
    dockerfile: Dockerfile | None = None
    stage: Stage | None = None
    target: str | None = None
    unreadable: str | None = None    # why the Dockerfile could not be read
    source_path: str | None = None   # display path of the file read (None: inline)
    path: Path | None = None         # the Dockerfile Compose builds with (None: inline or remote)
    args: dict[str, str | None] | None = None
    inline: str | None = None        # the text of dockerfile_inline
    source: SourceFile | None = None # the Dockerfile as read (positions of its instructions)

    def where(self, line: int | None) -> str:
        return f"{self.shown}:{line}" if line else self.shown


def service_build(service: Service) -> Build | None:
    """The service's build (cached), or None when it has no ``build:``."""
    return service.memo("_build", _build_of)


def _build_of(service: Service) -> Build | None:
    node = service.get("build")
    return _read_build(service, node) if node is not None else None


def _build_args(service: Service, node: Node | None) -> dict[str, str | None]:
    """``build.args`` as the build receives them; None marks a value unknown at lint time."""
    from vantage_lint.compose.interpolation import interpolate

    env = getattr(service.project, "env", None) or {}
    args: dict[str, str | None] = {}

    def value_of(value: Node | None, name: str) -> str | None:
        if value is None or (isinstance(value, ScalarNode) and value.value is None):
            return env.get(name)  # `args: [NAME]`: taken from the environment
        if not isinstance(value, ScalarNode):
            return None
        if "$" in value.raw:
            _text, issues = interpolate(value.raw, env)
            if issues:
                return None
        return value.text

    if isinstance(node, MapNode):
        for name, value in node.items.items():
            args[name] = value_of(value, name)
    elif isinstance(node, SeqNode):
        for item in node.items:
            if isinstance(item, ScalarNode) and item.text:
                name, eq, value = item.text.partition("=")
                if "$" in item.raw and interpolate(item.raw, env)[1]:
                    args[name] = None  # a variable with no value here
                else:
                    args[name] = value if eq else env.get(name)
    return args


def inside_folder(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return False


def _read_build(service: Service, node: Node) -> Build:
    project = service.project
    if isinstance(node, ScalarNode):
        context_text, dockerfile_text, inline, target, args_node = node.text, None, None, None, None
    elif isinstance(node, MapNode):
        context_text = scalar_text(node.get("context")) or "."
        dockerfile_text = scalar_text(node.get("dockerfile"))
        inline_node = node.get("dockerfile_inline")
        inline = inline_node.text if isinstance(inline_node, ScalarNode) else None
        target = scalar_text(node.get("target"))
        args_node = node.get("args")
    else:
        return Build(node, None, "the build", unreadable="build: is neither a path nor a mapping")
    args = _build_args(service, args_node)
    remote = "$" in context_text or has_unknown(context_text) or any(context_text.startswith(p) for p in _REMOTE)
    context: Path | None = None
    if not remote:
        context = Path(context_text).expanduser()
        context = context if context.is_absolute() else service.base_dir(node) / context
    if inline is not None:
        build = Build(node, context, "dockerfile_inline", target=target, args=args, inline=inline)
        return _parsed(build, inline, args)
    if context is None:
        why = "is named by a variable" if has_unknown(context_text) else "is not a local folder vantage-lint can read"
        return Build(node, None, f"the build context {context_text}", target=target,
                     unreadable=f"the build context {context_text} {why}")
    name = dockerfile_text or "Dockerfile"
    path = Path(name) if Path(name).is_absolute() else context / name
    # As written (context, then the Dockerfile in it) until the file is read.
    shown = posixpath.normpath(posixpath.join(context_text, name)) if not Path(name).is_absolute() else name
    build = Build(node, context, shown, target=target, path=path, args=args)
    root = project.directory
    if has_unknown(shown):
        build.unreadable = f"its Dockerfile {shown} is named by a variable"
        return build
    if not inside_folder(path, root):
        build.unreadable = f"its Dockerfile {shown} is outside the project folder and is not read"
        return build
    reader = project.reader
    if reader is None:
        build.unreadable = f"its Dockerfile {shown} was not read"
        return build
    try:
        source = reader(path)
    except SourceError as exc:
        build.unreadable = f"its Dockerfile {shown} cannot be read ({exc.message})"
        return build
    except OSError as exc:
        build.unreadable = f"its Dockerfile {shown} cannot be read ({exc.strerror or exc})"
        return build
    project.sources.setdefault(source.path, source)
    build.shown = source.path
    build.source_path = source.path
    build.source = source
    return _parsed(build, source.text, args)


def _parsed(build: Build, text: str, args: dict[str, str | None]) -> Build:
    from vantage_lint.images.dockerfile import parse_dockerfile  # only a service with a Dockerfile needs it

    build.dockerfile = parse_dockerfile(text, args)
    build.stage = build.dockerfile.stage(build.target)
    if build.stage is None:
        build.unreadable = (f"{build.shown} has no stage named {build.target!r}" if build.target
                            else f"{build.shown} has no FROM instruction")
    return build
