"""Assembling a Compose project as ``docker compose`` does: files, overrides, .env,
``include`` and ``extends``; every problem on the way is a finding, never an exception."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vantage_lint.compose.merge import RESET_TAG, merge
# The file names live in a module of their own: discovery needs them without the loader.
from vantage_lint.compose.names import DEFAULT_FILES, DEFAULT_OVERRIDE_FILES, default_files, override_file_for  # noqa: F401
from vantage_lint.compose.model import Service, build_services
from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, SeqNode
from vantage_lint.compose.yaml_loader import parse_yaml
from vantage_lint.findings import Finding, Severity, Span, problem
from vantage_lint.source import SourceError, SourceFile, is_file

MAX_INCLUDE_DEPTH = 20

Reader = Callable[[Path], SourceFile]


@dataclass(slots=True)
class ComposeFile:
    source: SourceFile
    root: MapNode | None


@dataclass(slots=True)
class Project:
    """A loaded Compose project: the merged document, its services and everything read."""

    directory: Path
    files: list[ComposeFile]
    root: MapNode | None
    env: dict[str, str]
    problems: list[Finding] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    # redis.conf files reached through the services' mounts (RedisConfig objects).
    redis_configs: list[Any] = field(default_factory=list)
    reader: Reader | None = None
    # service name -> roles declared in the configuration file (x-vantage.role is per service).
    declared_roles: dict[str, list[str]] = field(default_factory=dict)
    # A non-default-named file found by a folder walk: likely a fragment layered with -f over
    # another file, so references to things it does not define are not errors.
    fragment: bool = False

    def top(self, key: str) -> MapNode | None:
        node = self.root.get(key) if self.root is not None else None
        return node if isinstance(node, MapNode) else None

    @property
    def main_path(self) -> str:
        return self.files[0].source.path if self.files else ""


def normalized_project_name(name: str) -> str:
    """compose-go's normalisation: lowercase, only ``[a-z0-9_-]``, starting with a letter or digit."""
    kept = "".join(c for c in name.lower() if c.isascii() and (c.isalnum() or c in "_-"))
    return kept.lstrip("_-")


class _Loader:
    def __init__(self, reader: Reader, environ: Mapping[str, str]):
        self.reader = reader
        self.environ = environ
        self.problems: list[Finding] = []
        self.sources: dict[str, SourceFile] = {}
        self.yaml_cache: dict[Path, MapNode | None] = {}

    def read(self, path: Path, at: Span | None) -> SourceFile | None:
        try:
            source = self.reader(path)
        except SourceError as exc:
            self.problems.append(
                problem("VL001", exc.span(), exc.message, "Save the file as UTF-8 text.", Severity.ERROR)
            )
            return None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if at is None:
                raise
            self.problems.append(
                problem("VL003", at, f"cannot read {path}: {reason}", "Fix the path or create the file.",
                        Severity.ERROR)
            )
            return None
        self.sources[source.path] = source
        return source

    def load_yaml(self, path: Path, env: Mapping[str, str], at: Span | None) -> tuple[SourceFile | None, MapNode | None]:
        source = self.read(path, at)
        if source is None:
            return None, None
        loaded = parse_yaml(source, env)
        self.problems.extend(loaded.problems)
        root = loaded.root
        source.yaml_root = root
        if root is None:
            if not loaded.problems:
                self.problems.append(
                    problem("VL001", source.whole_span(), "the Compose file is empty",
                            "Add a services: mapping or remove the file.", Severity.ERROR)
                )
            return source, None
        if not isinstance(root, MapNode):
            self.problems.append(
                problem("VL001", root.span, "the top level of a Compose file must be a mapping",
                        "Start the file with keys such as services:.", Severity.ERROR)
            )
            return source, None
        return source, root


def load_project(
    files: list[Path],
    *,
    reader: Reader,
    environ: Mapping[str, str] | None = None,
    env_files: list[Path] | None = None,
    project_directory: Path | None = None,
) -> Project:
    """Load and assemble the project made of ``files`` (in order, later ones override)."""
    environ = dict(os.environ if environ is None else environ)
    loader = _Loader(reader, environ)
    directory = project_directory or (files[0].parent if files else Path.cwd())
    env = _interpolation_env(loader, directory, env_files, environ)
    # Compose sets it for interpolation: the folder's name, normalised (a `name:` key is not
    # known before the files are interpolated, so only the folder counts here).
    env.setdefault("COMPOSE_PROJECT_NAME", normalized_project_name(directory.resolve().name))
    compose_files: list[ComposeFile] = []
    merged: MapNode | None = None
    for path in files:
        source, root = loader.load_yaml(path, env, None)
        if source is None:
            continue
        if root is not None:
            root = _apply_includes(loader, root, path, env, (path.resolve(),))
        compose_files.append(ComposeFile(source, root))
        if root is not None:
            merged = root if merged is None else merge(merged, root)
    if merged is not None:
        _resolve_all_extends(loader, merged, files[0] if files else directory, env)
    project = Project(
        directory=directory,
        files=compose_files,
        root=merged,
        env=env,
        problems=_one_per_unset_variable(loader.problems),
        sources=loader.sources,
        reader=reader,
    )
    project.services = build_services(project)
    return project


_UNSET = re.compile(r'^variable "([^"]+)" is not set; ')


def _one_per_unset_variable(problems: list[Finding]) -> list[Finding]:
    """VL004 "not set" once per variable, at its first use; the message counts the others."""
    first: dict[str, Finding] = {}
    others: dict[str, int] = {}
    kept: list[Finding] = []
    for finding in problems:
        found = _UNSET.match(finding.message) if finding.code == "VL004" else None
        if found is None:
            kept.append(finding)
        elif found.group(1) in first:
            others[found.group(1)] += 1
        else:
            first[found.group(1)] = finding
            others[found.group(1)] = 0
            kept.append(finding)
    for name, count in others.items():
        if count:
            first[name].message += f" (and {count} other use{'s' if count > 1 else ''})"
    return kept


def _interpolation_env(
    loader: _Loader, directory: Path, env_files: list[Path] | None, environ: dict[str, str]
) -> dict[str, str]:
    """The shell environment plus .env (or --env-file) values; shell variables win."""
    if environ.get("COMPOSE_DISABLE_ENV_FILE", "").lower() in ("1", "true"):
        return dict(environ)
    candidates = env_files if env_files is not None else [_default_env_file(directory)]
    from_files: dict[str, str] = {}
    for path in candidates:
        if env_files is None and not is_file(path):
            continue
        from vantage_lint.compose.dotenv import parse_dotenv

        source = loader.read(path, Span(str(path), 1, 1, 1, 1))
        if source is None:
            continue
        # References resolve against the shell first, then earlier files (compose-go order).
        entries, issues = parse_dotenv(source.text, {**from_files, **environ})
        for issue in issues:
            loader.problems.append(
                problem("VL004", Span(source.path, issue.line, issue.column, issue.line, issue.column),
                        issue.message, "Fix the line in the env file.", Severity.WARNING)
            )
        for entry in entries:
            from_files[entry.name] = entry.value  # a later --env-file overrides an earlier one
    return {**from_files, **environ}  # shell variables win


# Repositories often ship only a template of their .env; its values are what the authors
# expect, so without a .env the template stands in (docker compose itself reads only .env).
ENV_TEMPLATES = (".env.example", ".env.sample", ".env.dist", ".env.template", "env.example", "example.env")


def _default_env_file(directory: Path) -> Path:
    env = directory / ".env"
    if is_file(env):
        return env
    for name in ENV_TEMPLATES:
        candidate = directory / name
        if is_file(candidate):
            return candidate
    return env


def _apply_includes(
    loader: _Loader, root: MapNode, path: Path, env: Mapping[str, str], chain: tuple[Path, ...]
) -> MapNode:
    """Top-level ``include``: each entry is its own project whose resources are copied in."""
    include = root.get("include")
    if include is None:
        return root
    if not isinstance(include, SeqNode):
        return root  # the schema rule reports the wrong type
    result = root.copy()
    for entry in include.items:
        for target, at in _include_paths(entry):
            target_path = (path.parent / target).resolve()
            if target_path in chain or len(chain) > MAX_INCLUDE_DEPTH:
                loader.problems.append(
                    problem("VL003", at, f"include loop: {target} includes itself through {path.name}",
                            "Remove the circular include.", Severity.ERROR)
                )
                continue
            if not is_file(target_path):
                loader.problems.append(
                    problem("VL003", at, f"included file {target} does not exist",
                            "Fix the include path or create the file.", Severity.ERROR)
                )
                continue
            _, included = loader.load_yaml(target_path, env, at)
            if included is None:
                continue
            included = _apply_includes(loader, included, target_path, env, chain + (target_path,))
            _resolve_all_extends(loader, included, target_path, env)
            for section in ("services", "networks", "volumes", "secrets", "configs"):
                _copy_section(loader, result, included, section, at)
    return result


def _include_paths(entry: Node) -> list[tuple[str, Span]]:
    if isinstance(entry, ScalarNode):
        return [(entry.text, entry.span)]
    if isinstance(entry, MapNode):
        paths = entry.get("path")
        if isinstance(paths, ScalarNode):
            return [(paths.text, paths.span)]
        if isinstance(paths, SeqNode):
            return [(p.text, p.span) for p in paths.items if isinstance(p, ScalarNode)]
    return []


def _copy_section(loader: _Loader, into: MapNode, source: MapNode, section: str, at: Span) -> None:
    incoming = source.get(section)
    if not isinstance(incoming, MapNode):
        return
    existing = into.get(section)
    target = existing.copy() if isinstance(existing, MapNode) else MapNode(incoming.span)
    for name, node in incoming.items.items():
        if name in target.items and section == "services":
            loader.problems.append(
                problem("VL003", at, f'included {section[:-1]} "{name}" is already defined in the including project',
                        "Rename one of the services; Compose refuses the conflict.", Severity.ERROR)
            )
            continue
        target.set(name, node, incoming.keys[name])
    into.set(section, target, into.keys.get(section, at))


def _resolve_all_extends(loader: _Loader, root: MapNode, path: Path, env: Mapping[str, str]) -> None:
    services = root.get("services")
    if not isinstance(services, MapNode):
        return
    resolved = services.copy()
    for name, node in services.items.items():
        if isinstance(node, MapNode) and "extends" in node.items:
            resolved.set(name, _extended(loader, services, name, path, env, ((path.resolve(), name),)), services.keys[name])
    root.set("services", resolved, root.keys["services"])


def _extended(
    loader: _Loader,
    services: MapNode,
    name: str,
    path: Path,
    env: Mapping[str, str],
    chain: tuple[tuple[Path, str], ...],
) -> MapNode:
    """The service ``name`` of ``services`` with its ``extends`` chain applied."""
    node = services.items[name]
    assert isinstance(node, MapNode)
    extends = node.get("extends")
    own = node.copy()
    own.remove("extends")
    if extends is None:
        return node
    base_name, base_file = _extends_target(extends)
    at = node.key_at("extends")
    if base_name is None:
        return own  # the schema rule reports the malformed value
    base_services = services
    base_path = path
    if base_file is not None and _is_remote(base_file):
        return own  # a git/OCI remote resource: not available offline
    if base_file is not None:
        base_path = (path.parent / base_file).resolve()
        if not is_file(base_path):
            loader.problems.append(
                problem("VL003", at, f'extends file "{base_file}" does not exist',
                        "Fix the file path of extends.", Severity.ERROR)
            )
            return own
        root = loader.yaml_cache.get(base_path)
        if base_path not in loader.yaml_cache:
            _, root = loader.load_yaml(base_path, env, at)
            loader.yaml_cache[base_path] = root
        found = root.get("services") if root is not None else None
        if not isinstance(found, MapNode):
            loader.problems.append(
                problem("VL003", at, f'extends file "{base_file}" has no services', "Fix extends.", Severity.ERROR)
            )
            return own
        base_services = found
    key = (base_path.resolve(), base_name)
    if key in chain:
        loop = " -> ".join(n for _, n in chain) + f" -> {base_name}"
        loader.problems.append(
            problem("VL003", at, f"extends cycle: {loop}", "Break the cycle of extends.", Severity.ERROR)
        )
        return own
    base_node = base_services.items.get(base_name)
    if not isinstance(base_node, MapNode):
        where = f' in "{base_file}"' if base_file else ""
        loader.problems.append(
            problem("VL003", at, f'extends names service "{base_name}"{where}, which does not exist',
                    "Name an existing service in extends.", Severity.ERROR)
        )
        return own
    base = _extended(loader, base_services, base_name, base_path, env, chain + (key,))
    result = merge(base, own, ("services", name))
    assert isinstance(result, MapNode)
    result.span = node.span
    result.key_span = node.key_span
    return result


def _is_remote(reference: str) -> bool:
    head, sep, _ = reference.partition(":")
    return bool(sep) and len(head) > 1 and "/" not in head


def _extends_target(extends: Node) -> tuple[str | None, str | None]:
    if isinstance(extends, ScalarNode):
        return extends.text, None
    if isinstance(extends, MapNode):
        service = extends.get("service")
        file = extends.get("file")
        return (
            service.text if isinstance(service, ScalarNode) else None,
            file.text if isinstance(file, ScalarNode) else None,
        )
    return None, None


def is_reset(node: Node | None) -> bool:
    return node is not None and node.tag == RESET_TAG
