"""Assembling a Compose project as ``docker compose`` does: files, overrides, .env,
``include`` and ``extends``; every problem on the way is a finding, never an exception."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from vantage_lint.boundary import OUTSIDE_HINT, bad_path, outside
from vantage_lint.compose.merge import RESET_TAG, merge, strip_resets
# The file names live in a module of their own: discovery needs them without the loader.
from vantage_lint.compose.names import DEFAULT_FILES, DEFAULT_OVERRIDE_FILES, default_files, override_file_for, project_files, ENV_TEMPLATES  # noqa: F401
from vantage_lint.compose.model import Service, build_services
from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, SeqNode
from vantage_lint.compose.unicity import enforce_unicity
from vantage_lint.compose.unknown import marker
from vantage_lint.compose.yaml_loader import parse_yaml
from vantage_lint.findings import Finding, Severity, Span, problem
from vantage_lint.source import SourceError, SourceFile, is_file

MAX_INCLUDE_DEPTH = 20

Reader = Callable[[Path], SourceFile]


@dataclass(slots=True)
class ComposeFile:
    source: SourceFile
    root: MapNode | None
    # The document as written (includes and extends applied), before compose-go's unique-key
    # rule drops repeated list entries: what a rule about the repeats themselves reads.
    written: MapNode | None = None


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
    _reported: set[tuple[str, str, int, int, str]] = field(default_factory=set, repr=False)

    # --profile names given on the command line (None: COMPOSE_PROFILES decides).
    profiles: list[str] | None = None
    # The template (.env.example...) read in place of a missing .env, if any.
    env_template: str | None = None
    # The variables whose value here is the template's (the deployment's .env sets its own).
    template_names: frozenset[str] = frozenset()

    def active_profiles(self) -> set[str]:
        """``--profile`` names, else ``COMPOSE_PROFILES`` (environment, then .env), as Compose."""
        if self.profiles:
            return set(self.profiles)
        return {p.strip() for p in self.env.get("COMPOSE_PROFILES", "").split(",") if p.strip()}

    def enabled(self, service: Service) -> bool:
        """Whether Compose runs ``service`` with the active profiles."""
        node = service.get("profiles")
        names = {i.text for i in node.items if isinstance(i, ScalarNode)} if isinstance(node, SeqNode) else set()
        active = self.active_profiles()
        return not names or "*" in active or bool(names & active)

    def top(self, key: str) -> MapNode | None:
        node = self.root.get(key) if self.root is not None else None
        return node if isinstance(node, MapNode) else None

    def report_once(self, finding: Finding) -> None:
        """Add a problem found while reading the project (a file several services name is
        reported once)."""
        key = (finding.code, finding.span.path, finding.span.line, finding.span.column, finding.message)
        if key not in self._reported:
            self._reported.add(key)
            self.problems.append(finding)

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
        # Included files, as included (their own includes and extends applied): each is read
        # and parsed once however many files include it (a diamond of includes stays linear).
        # (included files, their environment) -> the assembled include (see _apply_includes)
        self.include_cache: dict[tuple[tuple[Path, ...], tuple[tuple[str, str], ...]], MapNode | None] = {}
        # The project folder: files that the linted files name outside it are never opened.
        self.root: Path | None = None

    def refused(self, what: str, target: str, at: Span, folder: Path) -> bool:
        """Report and refuse a path written in a file that may not be opened: a name no file
        system accepts, or a file outside the project folder. True when refused."""
        reason = bad_path(target)
        if reason is not None:
            self.problems.append(problem("VL003", at, f"{what} path {reason}; not read",
                                         "Fix the path.", Severity.ERROR))
            return True
        base = self.root
        if base is not None and outside(folder / target, base):
            self.problems.append(problem("VL003", at, f"{what} '{target}' is outside the project folder; not read",
                                         OUTSIDE_HINT, Severity.WARNING))
            return True
        return False

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
        for document in loaded.more:
            # compose-go merges the documents of one file in order, as if they were -f files
            if isinstance(root, MapNode) and isinstance(document, MapNode):
                root = _as_map(strip_resets(merge(root, document)))
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
    profiles: list[str] | None = None,
) -> Project:
    """Load and assemble the project made of ``files`` (in order, later ones override)."""
    environ = dict(os.environ if environ is None else environ)
    loader = _Loader(reader, environ)
    directory = project_directory or (files[0].parent if files else Path.cwd())
    loader.root = directory
    env, template, env_read, from_template = _interpolation_env(loader, directory, env_files, environ)
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
            # compose-go resolves extends in each file before merging it: an override file
            # does not reach a service that extends, and a base only in another file is an error.
            root = _resolve_all_extends(loader, root, path, env)
        clean = None if root is None else enforce_unicity(_as_map(strip_resets(root)))
        compose_files.append(ComposeFile(source, clean, root))
        if root is not None and clean is not None:
            merged = clean if merged is None else enforce_unicity(_as_map(strip_resets(merge(merged, root))))
    project = Project(
        directory=directory,
        files=compose_files,
        root=merged,
        env=env,
        problems=_one_per_unset_variable(loader.problems, env_read),
        sources=loader.sources,
        reader=reader,
        profiles=list(profiles) if profiles else None,
        env_template=template,
        template_names=from_template,
    )
    project.services = build_services(project)
    project.problems.extend(_inactive_dependencies(project))
    project.problems.extend(_env_file_problems(project))
    if profiles:
        # `--profile` narrows the lint to what Compose would run; without it every service is linted.
        project.services = {n: s for n, s in project.services.items() if project.enabled(s)}
    return project


def _env_file_problems(project: Project) -> list[Finding]:
    """A required ``env_file`` that is missing: Compose refuses the project. Reported once per
    file, at the first entry that names it. Reading each file (and reporting its lines Compose
    cannot parse, or a path outside the project) is ``Service.env_file_entries``'s."""
    from vantage_lint.boundary import bad_path

    found: list[Finding] = []
    seen: set[Path] = set()
    for service in project.services.values():
        service.env_file_entries  # noqa: B018  read now: its problems are the project's findings
        for path, node, required in service.env_file_paths:
            if not required or bad_path(str(path)) is not None or outside(path, project.directory):
                continue
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            if not is_file(path):
                found.append(_missing_env_file(node, path, project))
    return found


_TEMPLATE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".tmpl")


def _missing_env_file(node: Node, path: Path, project: Project) -> Finding:
    """A required env_file that is not there. A `.env`-named file with a template beside it is
    the deployment's to create (it holds its secrets and is kept out of the repository): Compose
    refuses the project until then, which is the setup step, not a defect of the file."""
    # `.env.nginx` beside `.env.nginx.template`, or beside `env.nginx.template` (no dot, so
    # that the template is not hidden).
    names = dict.fromkeys([path.name, path.name.lstrip(".")])
    templates = [path.with_name(name + suffix) for name in names for suffix in _TEMPLATE_SUFFIXES]
    template = next((t for t in templates if is_file(t)), None)
    envish = path.name.startswith(".env") or path.name.endswith(".env")
    if envish and template is not None:
        return problem(
            "VL003", node.span,
            f"env file {node.text} is not in the repository ({template.name} is its template): Compose refuses "
            "the project until the deployment creates it",
            f"Create {node.text} from {template.name} where the stack runs, or write `- path: {node.text}` with "
            "`required: false` if the stack starts without it.",
            Severity.INFO)
    if _git_ignored(path, project):
        return problem(
            "VL003", node.span,
            f"env file {node.text} is not in the repository, and a .gitignore keeps it out on purpose: Compose "
            "refuses the project until the deployment creates it",
            f"Create {node.text} where the stack runs (document what it holds), or write `- path: {node.text}` "
            "with `required: false` if the stack starts without it.",
            Severity.INFO)
    return problem(
        "VL003", node.span, f"env file {node.text} not found ({path}); Compose refuses the project",
        "Create the file, fix the path, or write `- path: FILE` with `required: false`.",
        Severity.ERROR)


def _git_ignored(path: Path, project: Project) -> bool:
    """Does a .gitignore of the checkout list ``path``? Read from the project folder, or from
    the folder the run started in when the project is inside it (a folder walk's root)."""
    from vantage_lint.gitignore import ignored

    cwd = getattr(project.reader, "cwd", None)
    top = project.directory
    if isinstance(cwd, Path) and project.directory.absolute().is_relative_to(cwd.absolute()):
        top = cwd
    return ignored(path, top, project.reader)


def _inactive_dependencies(project: Project) -> list[Finding]:
    """Compose refuses a running service that requires one its profiles leave out (it says
    'depends on undefined service'); ``required: false`` entries are kept and skipped."""
    found = []
    for service in project.services.values():
        if not project.enabled(service):
            continue
        for dependency in service.depends_on.values():
            target = project.services.get(dependency.name)
            if target is None or not dependency.required or project.enabled(target):
                continue
            node = target.get("profiles")
            names = ", ".join(i.text for i in node.items if isinstance(i, ScalarNode)) if isinstance(node, SeqNode) else ""
            active = ", ".join(sorted(project.active_profiles())) or "none"
            found.append(problem(
                "VL003", dependency.span,
                f'service "{service.name}" depends on "{dependency.name}", which runs only with profile {names} '
                f'(active: {active}); Compose refuses the project (depends on undefined service "{dependency.name}")',
                f'Activate the profile (--profile or COMPOSE_PROFILES), give "{service.name}" the same profile, '
                f"or mark the dependency required: false.",
                Severity.ERROR))
    return found


_UNSET = re.compile(r'^variable "([^"]+)" is not set; ')


def _as_map(node: Node) -> MapNode:
    assert isinstance(node, MapNode)
    return node


def _one_per_unset_variable(problems: list[Finding], env_read: bool) -> list[Finding]:
    """VL004 "not set" once per variable, at its first use; the message counts the others.
    With no env file at all (no ``.env``, no template, no ``--env-file``) every variable comes
    from where the stack is deployed, which the linter cannot see: information, not a warning."""
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
        if not env_read and first[name].severity == Severity.WARNING:
            first[name].message += ("; no .env or template in the project sets it, so it must come from where "
                                    "the stack is deployed")
            first[name].severity = Severity.INFO
    return kept


class _InterpolationEnv(NamedTuple):
    env: dict[str, str]             # the shell environment plus .env (or --env-file) values
    template: str | None            # the template read in place of a missing .env
    read: bool                      # whether any env file was read at all
    from_template: frozenset[str]   # the variables whose value is the template's, not the shell's


def _interpolation_env(
    loader: _Loader, directory: Path, env_files: list[Path] | None, environ: dict[str, str]
) -> _InterpolationEnv:
    """The shell environment plus .env (or --env-file) values; shell variables win. A template
    read in place of a missing .env has its blank values (and its commented-out ones) unknown:
    the deployment's real .env fills them (see vantage_lint.compose.unknown)."""
    if environ.get("COMPOSE_DISABLE_ENV_FILE", "").lower() in ("1", "true"):
        return _InterpolationEnv(dict(environ), None, True, frozenset())
    candidates = env_files if env_files is not None else [_default_env_file(directory)]
    from_files: dict[str, str] = {}
    template: str | None = None
    read_any = env_files is not None
    template_names: set[str] = set()
    for path in candidates:
        if env_files is None and not is_file(path):
            continue
        from vantage_lint.compose.dotenv import dotenv_problem, parse_dotenv

        source = loader.read(path, Span(str(path), 1, 1, 1, 1))
        if source is None:
            continue
        read_any = True
        stands_in = env_files is None and path.name != ".env"
        if stands_in:
            template = source.path
        # References resolve against the shell first, then earlier files (compose-go order).
        entries, issues = parse_dotenv(source.text, {**from_files, **environ})
        for issue in issues:
            loader.problems.append(dotenv_problem(source.path, issue))
        for entry in entries:
            # a later --env-file overrides an earlier one; a template's blank is a placeholder
            from_files[entry.name] = marker(entry.name) if stands_in and entry.value == "" else entry.value
            if stands_in:
                template_names.add(entry.name)
        if stands_in:
            for name in _commented_names(source.text):
                # `# POSTGRES_PASSWORD=...` in a template: set where it is deployed, like a blank
                if name not in from_files:
                    from_files[name] = marker(name)
                    template_names.add(name)
    # shell variables win
    return _InterpolationEnv({**from_files, **environ}, template, read_any, frozenset(template_names - set(environ)))


def _commented_names(text: str) -> list[str]:
    """The variables a template shows commented out (``# NAME=value``): each comment line with
    its ``#`` removed, read by the .env parser itself; prose comments give no entry."""
    from vantage_lint.compose.dotenv import parse_dotenv

    names: list[str] = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if not stripped.startswith("#"):
            continue
        body = stripped.lstrip("#").strip()
        if "=" not in body or " " in body.split("=", 1)[0]:
            continue  # prose ("# Set this = to ..."), not a commented assignment
        entries, issues = parse_dotenv(body, {})
        if len(entries) == 1 and not issues:
            names.append(entries[0].name)
    return names


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
    """Top-level ``include``: each entry is its own project whose resources are copied in.

    As compose-go (loader/include.go): the first ``path`` is the included project, the others
    are merged over it as overrides; it is interpolated with its own environment (its
    ``env_file:``, else ``project_directory/.env``, under the including project's variables,
    which win); its relative paths resolve from its own folder."""
    include = root.get("include")
    if include is None:
        return root
    if not isinstance(include, SeqNode):
        return root  # the schema rule reports the wrong type
    result = root.copy()
    for entry in include.items:
        paths = [(target, at) for target, at in _include_paths(entry)
                 if not loader.refused("include", target, at, path.parent)]
        if not paths:
            continue
        resolved = [((path.parent / target).resolve(), at) for target, at in paths]
        first, first_at = resolved[0]
        if first in chain:
            loader.problems.append(
                problem("VL003", first_at, f"include loop: {paths[0][0]} includes itself through {path.name}",
                        "Remove the circular include.", Severity.ERROR)
            )
            continue
        if len(chain) > MAX_INCLUDE_DEPTH:
            loader.problems.append(
                problem("VL003", first_at, f"include of {paths[0][0]} is nested more than {MAX_INCLUDE_DEPTH} levels "
                        "deep; not read", "Include the files from fewer levels.", Severity.ERROR)
            )
            continue
        missing = [(target, at) for (target, at), (full, _) in zip(paths, resolved) if not is_file(full)]
        for target, at in missing:
            loader.problems.append(
                problem("VL003", at, f"included file {target} does not exist",
                        "Fix the include path or create the file.", Severity.ERROR)
            )
        if missing:
            continue
        included_env = _include_env(loader, entry, path.parent, first.parent, env)
        # Each include is read and assembled once per environment: a file included again and
        # again (a diamond of includes) must not expand exponentially.
        key = (tuple(full for full, _ in resolved), tuple(sorted(included_env.items())))
        if key in loader.include_cache:
            merged = loader.include_cache[key]
        else:
            merged = None
            for target_path, at in resolved:
                _, included = loader.load_yaml(target_path, included_env, at)
                if included is None:
                    continue
                included = _apply_includes(loader, included, target_path, included_env, chain + (first,))
                included = _resolve_all_extends(loader, included, target_path, included_env)
                merged = included if merged is None else _as_map(strip_resets(merge(merged, included)))
            if merged is not None:
                merged = enforce_unicity(_as_map(strip_resets(merged)))
            loader.include_cache[key] = merged
        if merged is None:
            continue
        for section in ("services", "networks", "volumes", "secrets", "configs"):
            _copy_section(loader, result, merged, section, first_at)
    return result


def _include_env(loader: _Loader, entry: Node, parent_dir: Path, include_dir: Path,
                 env: Mapping[str, str]) -> dict[str, str]:
    """The variables an included project is interpolated with: its env files' values under
    the including project's (``environment.Clone().Merge(envFromFile)`` keeps the parent's)."""
    from vantage_lint.compose.dotenv import dotenv_problem, parse_dotenv

    files: list[tuple[Path, Span | None]] = []
    project_dir = include_dir
    if isinstance(entry, MapNode):
        directory = entry.get("project_directory")
        if isinstance(directory, ScalarNode) and directory.text:
            project_dir = (parent_dir / directory.text).resolve()
        env_file = entry.get("env_file")
        items = [env_file] if isinstance(env_file, ScalarNode) else list(env_file.items) if isinstance(env_file, SeqNode) else []
        files = [(parent_dir / i.text, i.span) for i in items if isinstance(i, ScalarNode) and i.text]
    if not files and (project_dir / ".env").is_file():
        files = [(project_dir / ".env", None)]
    values: dict[str, str] = {}
    for file, at in files:
        if not file.is_file():
            if at is not None:
                loader.problems.append(
                    problem("VL003", at, f"include env_file {file.name} not found ({file}); Compose refuses the project",
                            "Fix the path or create the file.", Severity.ERROR)
                )
            continue
        source = loader.read(file, at or Span(str(file), 1, 1, 1, 1))
        if source is None:
            continue
        entries, issues = parse_dotenv(source.text, {**values, **env})
        loader.problems.extend(dotenv_problem(source.path, i) for i in issues)
        values.update((e.name, e.value) for e in entries)
    return {**values, **env}


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
        if name in target.items and target.items[name].plain() == node.plain():
            continue  # compose-go imports an identical definition twice without complaint
        if name in target.items and section == "services":
            loader.problems.append(
                problem("VL003", at, f'included {section[:-1]} "{name}" is already defined in the including project',
                        "Rename one of the services; Compose refuses the conflict.", Severity.ERROR)
            )
            continue
        target.set(name, node, incoming.keys[name])
    into.set(section, target, into.keys.get(section, at))


def _resolve_all_extends(loader: _Loader, root: MapNode, path: Path, env: Mapping[str, str]) -> MapNode:
    """``root`` with every service's ``extends`` applied; ``root`` itself is left as parsed (it is
    the file's own tree, ``SourceFile.yaml_root``)."""
    services = root.get("services")
    if not isinstance(services, MapNode) or not any(
            isinstance(node, MapNode) and "extends" in node.items for node in services.items.values()):
        return root
    resolved = services.copy()
    done: dict[tuple[Path, str], MapNode] = {}  # a base shared by many services is merged once
    for name, node in services.items.items():
        if isinstance(node, MapNode) and "extends" in node.items:
            resolved.set(name, _extended(loader, services, name, path, env, done), services.keys[name])
    result = root.copy()
    result.set("services", resolved, root.keys["services"])
    return result


def _extended(
    loader: _Loader,
    services: MapNode,
    name: str,
    path: Path,
    env: Mapping[str, str],
    done: dict[tuple[Path, str], MapNode],
) -> MapNode:
    """The service ``name`` of ``services`` with its ``extends`` chain applied. The chain is
    walked in a loop, not by recursion, so its length is bounded only by the file's size."""
    steps: list[tuple[MapNode, MapNode, str, tuple[Path, str]]] = []  # (node, own, name, key)
    seen: set[tuple[Path, str]] = set()
    base: MapNode
    while True:
        node = services.items[name]
        assert isinstance(node, MapNode)
        key = (path.resolve(), name)
        if key in done:
            base = done[key]
            break
        seen.add(key)
        extends = node.get("extends")
        if extends is None:
            base = node
            break
        own = node.copy()
        own.remove("extends")
        found = _extends_base(loader, services, node, extends, path, env, seen, lambda: [s[2] for s in steps] + [name])
        if found is None:
            # When the base cannot be found the service keeps its `extends` key: what it lacks is
            # that one error, not (also) an image or a build.
            base = node
            done[key] = node
            break
        steps.append((node, own, name, key))
        services, name, path = found
    for node, own, step_name, key in reversed(steps):
        result = merge(base, own, ("services", step_name))
        assert isinstance(result, MapNode)
        result.span = node.span
        result.key_span = node.key_span
        done[key] = base = result
    return base


def _extends_base(
    loader: _Loader,
    services: MapNode,
    node: MapNode,
    extends: Node,
    path: Path,
    env: Mapping[str, str],
    seen: set[tuple[Path, str]],
    names: Callable[[], list[str]],
) -> tuple[MapNode, str, Path] | None:
    """Where one ``extends`` points: (the services mapping, the service name, its file), or
    None when it points nowhere usable (reported, except a malformed value: the schema's)."""
    base_name, base_file = _extends_target(extends)
    at = node.key_at("extends")
    if base_name is None:
        return None
    base_services = services
    base_path = path
    if base_file is not None and _is_remote(base_file):
        return None  # a git/OCI remote resource: not available offline
    if base_file is not None:
        file_node = extends.get("file") if isinstance(extends, MapNode) else None
        where = file_node.span if isinstance(file_node, ScalarNode) else at
        if loader.refused("extends file", base_file, where, path.parent):
            return None
        base_path = (path.parent / base_file).resolve()
        if not is_file(base_path):
            loader.problems.append(
                problem("VL003", at, f'extends file "{base_file}" does not exist',
                        "Fix the file path of extends.", Severity.ERROR)
            )
            return None
        root = loader.yaml_cache.get(base_path)
        if base_path not in loader.yaml_cache:
            _, root = loader.load_yaml(base_path, env, at)
            loader.yaml_cache[base_path] = root
        found = root.get("services") if root is not None else None
        if not isinstance(found, MapNode):
            loader.problems.append(
                problem("VL003", at, f'extends file "{base_file}" has no services', "Fix extends.", Severity.ERROR)
            )
            return None
        base_services = found
    if (base_path.resolve(), base_name) in seen:
        loop = " -> ".join(names()) + f" -> {base_name}"
        loader.problems.append(
            problem("VL003", at, f"extends cycle: {loop}", "Break the cycle of extends.", Severity.ERROR)
        )
        return None
    if not isinstance(base_services.items.get(base_name), MapNode):
        # Compose resolves extends in each file on its own: a base of another -f file is not seen.
        where = f' in "{base_file}"' if base_file else f" in {path.name} (extends without file: looks only there)"
        loader.problems.append(
            problem("VL003", at, f'extends names service "{base_name}"{where}, which does not exist',
                    "Name a service of the same file, or add file: to extends.", Severity.ERROR)
        )
        return None
    return base_services, base_name, base_path


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
