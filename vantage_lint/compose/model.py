"""The normalized service model: one spelling for each of Compose's many spellings.

Rules read ``Service`` accessors instead of raw nodes, so short and long syntax, list and
mapping forms and legacy keys are all handled once, here. Every normalized value keeps the
node it came from for positions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple, TYPE_CHECKING

from vantage_lint.compose.merge import pairs_as_map
from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, SeqNode, child, scalar_text, sub_span
from vantage_lint.compose.roles import service_roles
from vantage_lint.compose.units import compose_bytes, compose_cpus
from vantage_lint.compose.unknown import OPEN as UNKNOWN_OPEN
from vantage_lint.findings import Severity, Span, problem
from vantage_lint.source import SourceError

if TYPE_CHECKING:
    from vantage_lint.compose.project import Project
    from vantage_lint.shell import Word


class ImageRef(NamedTuple):
    raw: str
    registry: str | None
    repository: str      # path without registry, e.g. "library/redis" or "bitnami/redis"
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """The last path component: ``redis`` for ``docker.io/library/redis:7``."""
        return self.repository.rsplit("/", 1)[-1]


def parse_image(raw: str) -> ImageRef:
    rest, _, digest = raw.partition("@")
    registry = None
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, rest = first, remainder
    tag = None
    last_slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > last_slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
    return ImageRef(raw, registry, rest.lower(), tag or None, digest or None)


class EnvVar(NamedTuple):
    name: str
    value: str | None           # None: declared without a value (taken from the shell)
    span: Span                  # where the value (or the entry) was written
    key_span: Span
    origin: str                 # "environment" or "env_file"
    node: ScalarNode | None = None

    @property
    def literal(self) -> bool:
        """True when the value was written literally, not through a ${VAR} reference."""
        if self.node is not None:
            return "$" not in self.node.raw
        return True


class Port(NamedTuple):
    host_ip: str | None
    published: str | None       # host port or range; None = random host port
    target: str
    protocol: str
    node: Node
    long_syntax: bool

    @property
    def span(self) -> Span:
        return self.node.span

    def target_port(self) -> int | None:
        head = self.target.split("-", 1)[0]
        return int(head) if head.isdigit() else None

    def published_range(self) -> tuple[int, int] | None:
        if not self.published:
            return None
        low, _, high = self.published.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            return None
        return int(low), int(high or low)


class Mount(NamedTuple):
    type: str                   # bind | volume | tmpfs | npipe | cluster
    source: str | None          # host path (bind) or volume name
    target: str
    read_only: bool
    node: Node
    long_syntax: bool

    @property
    def span(self) -> Span:
        return self.node.span

    @property
    def access_unknown(self) -> bool:
        """Read-only or not is a value the deployment supplies (``./x:/x:${MODE}``,
        ``read_only: ${RO}``): ``read_only`` is then no verdict."""
        node = self.node
        if self.long_syntax:
            return isinstance(node, MapNode) and UNKNOWN_OPEN in (scalar_text(node.get("read_only")) or "")
        text = node.text if isinstance(node, ScalarNode) else ""
        return UNKNOWN_OPEN in text.rpartition(self.target)[2] if self.target else False


class Dependency(NamedTuple):
    name: str
    condition: str
    short_form: bool
    required: bool
    node: Node                  # the entry (short form scalar or long form mapping)
    key_span: Span
    # Added by Compose from links / network_mode, ipc, pid... "service:X" / volumes_from.
    implicit: bool = False

    @property
    def span(self) -> Span:
        return self.key_span


class Service:
    """One service of the assembled project."""

    def __init__(self, name: str, node: MapNode, key_span: Span, project: Project):
        self.name = name
        self.node = node
        self.key_span = key_span
        self.project = project
        # Filled by the Redis layer: the RedisConfig this service runs, if any.
        self.redis_config: Any = None

    def __repr__(self) -> str:
        return f"Service({self.name!r})"

    def memo(self, key: str, compute: Callable[[Service], Any]) -> Any:
        """``compute(self)``, computed once per service: the readers above the model (images,
        Celery, Redis) keep what they derived from a service here."""
        store = self.__dict__
        if key not in store:
            store[key] = compute(self)
        return store[key]

    # --- raw access -------------------------------------------------------------------------
    def get(self, *path: str | int) -> Node | None:
        return child(self.node, *path)

    def text(self, *path: str | int) -> str | None:
        return scalar_text(self.get(*path))

    def span_of(self, *path: str | int) -> Span:
        """Where ``path`` was written, or the nearest written ancestor, or the service key."""
        node: Node | None = self.node
        best = self.key_span
        for step in path:
            if isinstance(node, MapNode) and isinstance(step, str) and step in node.items:
                best = node.keys[step]
                node = node.items[step]
            elif isinstance(node, SeqNode) and isinstance(step, int) and 0 <= step < len(node.items):
                node = node.items[step]
                best = node.span
            else:
                break
        return best

    def value_span(self, *path: str | int) -> Span:
        node = self.get(*path)
        return node.span if node is not None else self.span_of(*path)

    def sub_span(self, node: ScalarNode, start: int, end: int) -> Span:
        source = self.project.sources.get(node.span.path)
        return sub_span(node, start, end, source.text if source else None)

    def base_dir(self, node: Node) -> Path:
        """Where a relative path written at ``node`` resolves from: the project directory for
        the ``-f`` files, the file's own folder for an included or extended file (as Compose)."""
        path = node.span.path
        if not path or any(f.source.path == path for f in self.project.files):
            return self.project.directory
        source = self.project.sources.get(path)
        real = getattr(source, "real_path", None) if source is not None else None
        return (Path(real) if real else Path(path)).parent

    @property
    def x_vantage(self) -> MapNode | None:
        node = self.get("x-vantage")
        return node if isinstance(node, MapNode) else None

    # --- image and command ------------------------------------------------------------------
    @cached_property
    def image(self) -> ImageRef | None:
        raw = self.text("image")
        return parse_image(raw) if raw else None

    def argv_parts(self, key: str) -> tuple[list[str], list[ScalarNode], bool]:
        """``command``/``entrypoint`` as (parts, their nodes, written-as-one-string)."""
        node = self.get(key)
        if isinstance(node, ScalarNode) and node.value is not None:
            return [node.text], [node], True
        if isinstance(node, SeqNode):
            nodes = [item for item in node.items if isinstance(item, ScalarNode)]
            return [item.text for item in nodes], nodes, False
        return [], [], False

    @cached_property
    def command_words(self) -> list[Word]:
        """entrypoint + command words as Docker runs them; ``part`` indexes :attr:`command_nodes`."""
        from vantage_lint.shell import split_words

        words: list[Word] = []
        offset = 0
        for key in ("entrypoint", "command"):
            parts, _nodes, as_string = self.argv_parts(key)
            if as_string:
                words.extend(split_words(parts[0], offset))
                offset += 1
            else:
                for index, text in enumerate(parts):
                    words.append(_word(text, offset + index))
                offset += len(parts)
        return words

    @cached_property
    def command_nodes(self) -> list[ScalarNode]:
        nodes: list[ScalarNode] = []
        for key in ("entrypoint", "command"):
            nodes.extend(self.argv_parts(key)[1])
        return nodes

    def word_span(self, word: Word) -> Span:
        """Where a command word was written."""
        if 0 <= word.part < len(self.command_nodes):
            node = self.command_nodes[word.part]
            return self.sub_span(node, word.start, word.end)
        return self.span_of("command")

    # --- environment -------------------------------------------------------------------------
    @cached_property
    def environment(self) -> dict[str, EnvVar]:
        """``env_file`` entries, then ``environment`` (which wins), as the container sees them."""
        result: dict[str, EnvVar] = {}
        for entry in self.env_file_entries:
            result[entry.name] = entry
        node = self.get("environment")
        if node is None:
            return result
        mapping = pairs_as_map(node)
        for name, value in mapping.items.items():
            scalar = value if isinstance(value, ScalarNode) else None
            text = None if scalar is None or scalar.value is None else scalar.text
            result[name] = EnvVar(name, text, value.span, mapping.keys[name], "environment", scalar)
        return result

    @cached_property
    def env_file_paths(self) -> list[tuple[Path, Node, bool]]:
        node = self.get("env_file")
        items: list[Node] = []
        if isinstance(node, ScalarNode):
            items = [node]
        elif isinstance(node, SeqNode):
            items = list(node.items)
        result = []
        for item in items:
            required = True
            path_node: Node | None = item
            if isinstance(item, MapNode):
                path_node = item.get("path")
                req = item.get("required")
                required = not (isinstance(req, ScalarNode) and req.value in (False, "false"))
            if isinstance(path_node, ScalarNode) and path_node.text:
                base = self.base_dir(path_node)
                result.append(((base / path_node.text), path_node, required))
        return result

    @cached_property
    def env_file_entries(self) -> list[EnvVar]:
        from vantage_lint.compose.dotenv import dotenv_problem, parse_dotenv

        from vantage_lint.boundary import OUTSIDE_HINT, bad_path, outside
        from vantage_lint.source import is_file

        entries: list[EnvVar] = []
        project = self.project
        reader = project.reader
        for path, node, _required in self.env_file_paths:
            written = node.text if isinstance(node, ScalarNode) else str(path)
            reason = bad_path(str(path))
            if reason is not None:
                project.report_once(problem("VL003", node.span, f"env_file path {reason}; not read",
                                            "Fix the path.", Severity.ERROR))
                continue
            if outside(path, project.directory):
                project.report_once(problem("VL003", node.span,
                                            f"env_file '{written}' is outside the project folder; not read",
                                            OUTSIDE_HINT, Severity.WARNING))
                continue
            if reader is None or not is_file(path):
                continue
            try:
                source = reader(path)
            except SourceError as exc:
                project.report_once(problem("VL001", exc.span(), exc.message, "Save the file as UTF-8 text.",
                                            Severity.ERROR))
                continue
            except OSError as exc:
                project.report_once(problem("VL003", node.span,
                                            f"cannot read env_file '{written}': {exc.strerror or exc}",
                                            "Make the file readable or fix the path.", Severity.ERROR))
                continue
            project.sources.setdefault(source.path, source)
            parsed, issues = parse_dotenv(source.text, project.env)
            for issue in issues:
                # Compose reads env_file lines as it reads .env: the same problems, the same code.
                project.report_once(dotenv_problem(source.path, issue))
            for entry in parsed:
                value_span = source.span(entry.value_start, entry.value_end)
                name_start = source.offset(entry.line, entry.column)
                key_span = source.span(name_start, name_start + len(entry.name))
                entries.append(EnvVar(entry.name, entry.value, value_span, key_span, "env_file", None))
        return entries

    # --- ports, volumes, dependencies -------------------------------------------------------
    @cached_property
    def ports(self) -> list[Port]:
        node = self.get("ports")
        result: list[Port] = []
        if not isinstance(node, SeqNode):
            return result
        for item in node.items:
            if isinstance(item, ScalarNode):
                port = short_port(item)
                if port is not None:
                    result.append(port)
            elif isinstance(item, MapNode):
                target = scalar_text(item.get("target")) or ""
                published = scalar_text(item.get("published"))
                result.append(
                    Port(
                        scalar_text(item.get("host_ip")),
                        published or None,
                        target,
                        (scalar_text(item.get("protocol")) or "tcp").lower(),
                        item,
                        True,
                    )
                )
        return result

    @cached_property
    def mounts(self) -> list[Mount]:
        node = self.get("volumes")
        result: list[Mount] = []
        if not isinstance(node, SeqNode):
            return result
        for item in node.items:
            if isinstance(item, ScalarNode):
                mount = short_mount(item.text, item)
                if mount is not None:
                    result.append(mount)
            elif isinstance(item, MapNode):
                kind = (scalar_text(item.get("type")) or "volume").lower()
                read_only = item.get("read_only")
                result.append(
                    Mount(
                        kind,
                        scalar_text(item.get("source")),
                        scalar_text(item.get("target")) or "",
                        isinstance(read_only, ScalarNode) and read_only.value in (True, "true", "True"),
                        item,
                        True,
                    )
                )
        return result

    @cached_property
    def depends_on(self) -> dict[str, Dependency]:
        node = self.get("depends_on")
        result: dict[str, Dependency] = {}
        if isinstance(node, SeqNode):
            for item in node.items:
                if isinstance(item, ScalarNode) and item.text:
                    result[item.text] = Dependency(item.text, "service_started", True, True, item, item.span)
        elif isinstance(node, MapNode):
            for name, entry in node.items.items():
                condition = scalar_text(child(entry, "condition")) or "service_started"
                required = child(entry, "required")
                req = not (isinstance(required, ScalarNode) and required.value in (False, "false"))
                result[name] = Dependency(name, condition, False, req, entry, node.keys[name])
        for name, entry in self.implicit_dependencies():
            if name and name not in result:
                result[name] = Dependency(name, "service_started", True, True, entry, entry.span, implicit=True)
        return result

    def implicit_dependencies(self) -> list[tuple[str, ScalarNode]]:
        """The services Compose adds to depends_on: ``links``, ``volumes_from`` and the
        ``service:X`` namespaces (compose-go's dependency resolution)."""
        found: list[tuple[str, ScalarNode]] = []
        links = self.get("links")
        if isinstance(links, SeqNode):
            found += [(i.text.split(":", 1)[0], i) for i in links.items if isinstance(i, ScalarNode)]
        for key in ("network_mode", "ipc", "pid", "uts", "cgroup"):
            node = self.get(key)
            if isinstance(node, ScalarNode) and node.text.startswith("service:"):
                found.append((node.text[len("service:"):], node))
        volumes_from = self.get("volumes_from")
        if isinstance(volumes_from, SeqNode):
            for item in volumes_from.items:
                if isinstance(item, ScalarNode) and not item.text.startswith("container:"):
                    found.append((item.text.split(":", 1)[0], item))
        return found

    @cached_property
    def networks(self) -> list[str]:
        node = self.get("networks")
        if isinstance(node, SeqNode):
            return [item.text for item in node.items if isinstance(item, ScalarNode)]
        if isinstance(node, MapNode):
            return list(node.items)
        return []

    @cached_property
    def network_aliases(self) -> set[str]:
        aliases: set[str] = set()
        node = self.get("networks")
        if isinstance(node, MapNode):
            for entry in node.items.values():
                found = child(entry, "aliases")
                if isinstance(found, SeqNode):
                    aliases.update(a.text for a in found.items if isinstance(a, ScalarNode))
        return aliases

    @cached_property
    def host_names(self) -> set[str]:
        """Every name other containers can reach this service by."""
        names = {self.name} | self.network_aliases
        for key in ("hostname", "container_name"):
            value = self.text(key)
            if value:
                names.add(value)
        return names

    # --- healthcheck, limits, scale ---------------------------------------------------------
    @property
    def healthcheck(self) -> MapNode | None:
        node = self.get("healthcheck")
        return node if isinstance(node, MapNode) else None

    @property
    def healthcheck_disabled(self) -> bool:
        check = self.healthcheck
        if check is None:
            return False
        disable = check.get("disable")
        if isinstance(disable, ScalarNode) and disable.value in (True, "true"):
            return True
        test = check.get("test")
        if isinstance(test, SeqNode) and test.items and scalar_text(test.items[0]) == "NONE":
            return True
        return False

    @property
    def has_healthcheck(self) -> bool:
        check = self.healthcheck
        return check is not None and "test" in check.items and not self.healthcheck_disabled

    def _limit(self, deploy_path: tuple[str, ...], legacy: str) -> Node | None:
        node = self.get("deploy", "resources", *deploy_path)
        return node if node is not None else self.get(legacy)

    @property
    def memory_limit_node(self) -> Node | None:
        return self._limit(("limits", "memory"), "mem_limit")

    @property
    def memory_limit(self) -> int | None:
        node = self.memory_limit_node
        return compose_bytes(node.value) if isinstance(node, ScalarNode) else None

    @property
    def cpus_limit_node(self) -> Node | None:
        return self._limit(("limits", "cpus"), "cpus")

    @property
    def cpus_limit(self) -> float | None:
        node = self.cpus_limit_node
        return compose_cpus(node.value) if isinstance(node, ScalarNode) else None

    @property
    def memory_reservation_node(self) -> Node | None:
        return self._limit(("reservations", "memory"), "mem_reservation")

    @property
    def replicas(self) -> int | None:
        for path in (("deploy", "replicas"), ("scale",)):
            node = self.get(*path)
            if isinstance(node, ScalarNode):
                try:
                    return int(node.text)
                except ValueError:
                    return None
        return None

    @property
    def restart(self) -> str | None:
        return self.text("restart")

    @cached_property
    def roles(self) -> frozenset[str]:
        return service_roles(self)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def _word(text: str, part: int) -> Word:
    from vantage_lint.shell import Word

    return Word(text, part, 0, len(text))


def short_port(node: ScalarNode) -> Port | None:
    """``[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]``, IPv6 host IPs in brackets."""
    text = node.text.strip()
    if not text:
        return None
    text, _, protocol = text.partition("/")
    host_ip = None
    if text.startswith("["):
        close = text.find("]")
        host_ip = text[1:close]
        text = text[close + 2 :] if close != -1 else ""
    parts = text.split(":")
    if len(parts) > 3:  # an unbracketed IPv6 host IP ("::1:6379:6379"), as compose-go reads it
        parts = [":".join(parts[:-2])] + parts[-2:]
    if len(parts) == 3:
        host_ip, published, target = parts
    elif len(parts) == 2:
        published, target = parts
    else:
        published, target = None, parts[0]
    return Port(host_ip if host_ip else None, published or None, target, (protocol or "tcp").lower(), node, False)


def short_mount(text: str, node: Node) -> Mount | None:
    """``SOURCE:TARGET[:MODE]`` or a bare ``TARGET`` (anonymous volume)."""
    parts = text.split(":")
    # A Windows drive letter ("C:\\x") is part of the source.
    # "." and "/" are sources too (".:/app:ro"): only a letter is a drive.
    if len(parts) > 2 and len(parts[0]) == 1 and parts[0].isalpha() and parts[1].startswith(("\\", "/")):
        parts = [parts[0] + ":" + parts[1]] + parts[2:]
    if len(parts) == 1:
        return Mount("volume", None, parts[0], False, node, False)
    source, target = parts[0], parts[1]
    mode = parts[2] if len(parts) > 2 else ""
    # A source that starts with a variable (an unknown value, compose.unknown) is a host path.
    kind = "bind" if source.startswith((".", "/", "~", "$", UNKNOWN_OPEN)) or ":" in source else "volume"
    read_only = "ro" in mode.split(",")
    return Mount(kind, source, target, read_only, node, False)


def build_services(project: Project) -> dict[str, Service]:
    services_node = project.top("services")
    result: dict[str, Service] = {}
    if services_node is None:
        return result
    for name, node in services_node.items.items():
        if isinstance(node, MapNode):
            result[name] = Service(name, node, services_node.keys[name], project)
    return result
