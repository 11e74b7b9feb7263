"""Linking each Redis service to the configuration it really runs.

For every service with the role ``redis`` this module works out what Docker starts: the
``redis-server`` command (also inside ``sh -c``, or implied by the official image's entrypoint,
which prepends ``redis-server`` when the first argument ends in ``.conf`` or starts with ``-``),
the config path it is given, the mount that provides that path (a bind mount of the file or of a
folder holding it, or a Compose ``configs:`` entry), the host file behind it, and the flags that
follow. The result is a :class:`RedisConfig` (file + flags, in redis-server's order) attached to
the service, or a note saying why the configuration cannot be known (a named volume, a file baked
into a custom image, a path held in a shell variable).

Image behaviour that changes what a configuration means (FACTS A.4): the official ``redis`` and
``valkey`` images compile ``protected-mode`` to ``no`` and run in ``/data``; bitnami's image writes
its own redis.conf from environment variables.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Mapping
from typing import Any, NamedTuple, TYPE_CHECKING

from vantage_lint.compose.nodes import MapNode, ScalarNode, SeqNode, scalar_text
from vantage_lint.findings import Span
from vantage_lint.redis.config import RedisConfig, config_from_args, parse_redis_config
from vantage_lint.source import exists, is_file

if TYPE_CHECKING:
    from vantage_lint.compose.model import ImageRef, Mount, Service
    from vantage_lint.compose.project import Project
    from vantage_lint.shell import Word

SERVERS = ("redis-server", "valkey-server", "redis-stack-server")
# The newest minor of a major version, for tags that name only the major ("7-alpine" is 7.4).
_LATEST_MINOR = {2: 8, 3: 2, 4: 0, 5: 0, 6: 2, 7: 4}
_TAG_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:[.\-_].*)?$")
_BITNAMI_CONF_TARGETS = ("/opt/bitnami/redis/mounted-etc/redis.conf", "/opt/bitnami/redis/etc/redis.conf")


class ImageProfile(NamedTuple):
    """What the image does by itself: where it runs and which compiled defaults it changes."""

    kind: str                     # "official" (redis, valkey and look-alikes), "bitnami", "stack"
    workdir: str                  # redis-server's working directory (relative paths, default dir)
    # Compiled-in defaults the image changes (they hold with or without a config file).
    compiled: dict[str, str]
    # What the image's start script sets when it runs redis-server itself without a user file.
    generated: dict[str, str]


OFFICIAL = ImageProfile("official", "/data", {"protected-mode": "no"}, {})
BITNAMI = ImageProfile("bitnami", "/", {}, {"dir": "/bitnami/redis/data", "appendonly": "yes", "bind": "0.0.0.0 ::"})
STACK = ImageProfile("stack", "/", {}, {"dir": "/data", "protected-mode": "no"})


@dataclass(slots=True)
class RedisLink:
    """How one Redis service gets its configuration."""

    service: Service
    profile: ImageProfile
    version: tuple[int, int] | None
    # The redis-server word, or None when the image's default command (or entrypoint) runs it.
    server_word: Word | None = None
    # The config path argument as written, and as an absolute container path.
    path_word: Word | None = None
    container_path: str | None = None
    # The mount (or configs entry node) that provides the path, and the host file behind it.
    mount: Mount | None = None
    mount_node: Any = None
    host_path: Path | None = None
    # Why the file could not be read: "unmounted", "missing", "not-a-file", "unreadable",
    # "volume" (a named volume or tmpfs), "baked" (a custom image may contain it), "dynamic"
    # (the path is a shell variable), "generated" (the command writes it before starting);
    # None when it was read or no file is used.
    problem: str | None = None
    # Flags after the path (or all arguments when no file is given).
    flags: list[Word] = field(default_factory=list)
    # False when the service runs something that is not redis-server (a script): unknown.
    known: bool = True
    config: RedisConfig | None = None

    @property
    def uses_file(self) -> bool:
        return self.container_path is not None or self.path_word is not None

    def image_default(self, canonical: str) -> str | None:
        """The value the image gives a directive that the configuration does not set."""
        if self.server_word is None and not self.uses_file and canonical in self.profile.generated:
            return self.profile.generated[canonical]
        return self.profile.compiled.get(canonical)

    @property
    def anchor(self) -> Span:
        """Where a finding about the service's Redis setup points when nothing more precise exists."""
        if self.server_word is not None:
            return self.service.word_span(self.server_word)
        if self.service.get("command") is not None:
            return self.service.value_span("command")
        return self.service.key_span


# --- image facts -------------------------------------------------------------------------------

def image_version(image: ImageRef | None) -> tuple[int, int] | None:
    """Redis major.minor from the image tag: ``7.2-alpine`` → (7, 2), ``6`` → (6, 2); None when
    the tag names no version (``latest``, ``alpine``, none), so rules assume a current 7.x."""
    if image is None or not image.tag:
        return None
    match = _TAG_VERSION.match(image.tag)
    if match is None:
        return None
    major = int(match.group(1))
    minor = int(match.group(2)) if match.group(2) is not None else _LATEST_MINOR.get(major, 0)
    if image.name == "valkey":
        # Valkey forked from Redis 7.2: 7.2 reads Redis 7.2 configs; later Valkey versions are
        # their own line, so no Redis version is claimed for them.
        return (7, 2) if major == 7 else None
    if major > 20:
        return None  # a date or build number, not a Redis version
    return major, minor


def image_profile(image: ImageRef | None) -> ImageProfile:
    if image is not None:
        if image.repository.startswith("bitnami/"):
            return BITNAMI
        if image.name.startswith("redis-stack"):
            return STACK
    return OFFICIAL


def effective(conf: RedisConfig, canonical: str) -> str | None:
    """A directive's value as the server runs it: configured, else the image's own default (when
    the config is linked to a service), else redis-server's compiled default."""
    value = conf.value(canonical)
    if value is not None:
        return value
    link = link_of(conf.service) if conf.service is not None else None
    if link is not None:
        image_default = link.image_default(canonical)
        if image_default is not None:
            return image_default
    return conf.default(canonical)


def data_dir(conf: RedisConfig) -> str:
    """The absolute container path where RDB/AOF files are written."""
    link = link_of(conf.service) if conf.service is not None else None
    workdir = link.profile.workdir if link is not None else "/data"
    configured = conf.value("dir")
    if configured is None and link is not None:
        configured = link.image_default("dir")
    return posixpath.normpath(posixpath.join(workdir, configured or "."))


def redis_port(conf: RedisConfig) -> int:
    value = conf.value("port")
    try:
        return int(value) if value is not None else 6379
    except ValueError:
        return 6379


# --- linking -----------------------------------------------------------------------------------

def link_project(project: Project) -> None:
    """Attach a RedisConfig to every Redis service whose configuration can be known."""
    for service in project.services.values():
        if "redis" not in service.roles:
            continue
        link = link_of(service)
        conf = link.config
        if conf is None:
            continue
        for source in conf.files:
            project.sources.setdefault(source.path, source)
        service.redis_config = conf
        project.redis_configs.append(conf)


def link_of(service: Any) -> RedisLink | None:
    """The (cached) link of a Redis service; None for services that are not Redis."""
    if service is None or "redis" not in service.roles:
        return None
    cached = service.__dict__.get("_redis_link")
    if cached is None:
        cached = _link(service)
        service.__dict__["_redis_link"] = cached
    return cached


def _link(service: Service) -> RedisLink:
    profile = image_profile(service.image)
    link = RedisLink(service, profile, image_version(service.image))
    invocation = _server_invocation(service, profile)
    if invocation is None:
        link.known = False
        return link
    link.server_word, args = invocation
    if any(word.text == "--sentinel" for word in args):
        link.known = False  # a Sentinel, not a Redis server
        return link
    if args and args[0].text != "-" and not args[0].text.startswith("-"):
        link.path_word, link.flags = args[0], args[1:]
        _resolve_file(service, link, args[0].text)
        if link.problem in ("unmounted", "baked") and _written_by_command(service, args[0].text):
            link.problem = "generated"
    else:
        link.flags = args
        if profile is BITNAMI:
            _resolve_bitnami_file(service, link)
    if link.problem is not None:
        return link  # the file decides everything: do not guess the configuration
    base = None
    project = service.project
    if link.host_path is not None and project.reader is not None:
        try:
            source = project.reader(link.host_path)
        except Exception:  # unreadable or not text: VL005/VL203 territory, not a crash
            link.problem = "unreadable"
            return link
        base = parse_redis_config(source, read=project.reader, version=link.version, root=project.directory)
    words, spans = _flag_words(service, link)
    conf = config_from_args(words, spans, base, version=link.version)
    conf.service = service
    link.config = conf
    return link


def kept_text(node: ScalarNode, env: Mapping[str, str]) -> str:
    """The node's text interpolated as Compose does, except that ``$VAR``/``${VAR}`` of variables
    unset on this machine stay as written: they are set where the stack is deployed, and an
    empty string would shift every following word (``--requirepass $P --port 1``)."""
    from vantage_lint.compose.interpolation import interpolate, references

    raw = node.raw
    if not isinstance(node.value, str) or "$" not in raw:
        return node.text
    out: list[str] = []
    pos = 0
    for ref in references(raw):
        expression = raw[ref.start : ref.end]
        if expression in (f"${ref.name}", f"${{{ref.name}}}") and ref.name not in env:
            out.extend([raw[pos : ref.start], "$", expression])  # "$$" keeps it literally
            pos = ref.end
    if not out:
        return node.text
    out.append(raw[pos:])
    text, _issues = interpolate("".join(out), env)
    return text


def command_words(service: Service) -> tuple[list[Word], list[str]]:
    """entrypoint + command words (see ``Service.command_words``) with unset variables kept as
    written, and the part texts the words index."""
    from vantage_lint.shell import split_words, words_from_parts

    env = service.project.env
    parts = [kept_text(node, env) for node in service.command_nodes]
    if parts == [node.text for node in service.command_nodes]:
        return service.command_words, parts
    words: list[Word] = []
    offset = 0
    for key in ("entrypoint", "command"):
        key_parts, _nodes, as_string = service.argv_parts(key)
        if as_string:
            words.extend(split_words(parts[offset], offset))
            offset += 1
        else:
            for word in words_from_parts(parts[offset : offset + len(key_parts)]):
                words.append(type(word)(word.text, word.part + offset, word.start, word.end))
            offset += len(key_parts)
    return words, parts


def _server_invocation(service: Service, profile: ImageProfile) -> tuple[Word | None, list[Word]] | None:
    """(redis-server word or None, its arguments), or None when something else runs."""
    from vantage_lint.shell import basename, simple_commands

    words, parts = command_words(service)
    if not words:
        return None, []  # the image's default command: redis-server (bitnami: its run script)
    for command in simple_commands(words, parts):
        if not command:
            continue
        name = basename(command[0].text)
        if name in SERVERS:
            return command[0], command[1:]
        if name == "docker-entrypoint.sh" and len(command) > 1 and _entrypoint_prepends(command[1].text):
            return None, command[1:]
    if service.get("entrypoint") is None and profile is not BITNAMI and _entrypoint_prepends(words[0].text):
        return None, list(words)
    return None


def _entrypoint_prepends(first: str) -> bool:
    """The official images' docker-entrypoint.sh runs ``redis-server "$@"`` when the first
    argument starts with ``-`` or ends with ``.conf``."""
    return first.startswith("-") or first.endswith(".conf")


_STOCK_REPOSITORIES = frozenset({
    "redis", "valkey/valkey", "bitnami/redis", "redis/redis-stack", "redis/redis-stack-server",
})


def _stock_image(image: ImageRef | None) -> bool:
    """A published Redis image, which holds no config file of the project's own (a custom image
    may have the file copied in)."""
    if image is None:
        return False
    repository = image.repository.removeprefix("library/")
    return repository in _STOCK_REPOSITORIES or image.repository.endswith(("library/redis", "library/valkey"))


def _written_by_command(service: Service, path: str) -> bool:
    """The command mentions the config path more than once: it writes the file itself
    (``envsubst < tmpl > /etc/redis.conf && redis-server /etc/redis.conf``)."""
    _words, parts = command_words(service)
    return sum(part.count(path) for part in parts) > 1


def _container_path(service: Service, link: RedisLink, path: str) -> str:
    workdir = service.text("working_dir") or link.profile.workdir
    return posixpath.normpath(posixpath.join(workdir, path))


def _resolve_file(service: Service, link: RedisLink, path: str) -> None:
    if "$" in path or "`" in path:
        link.problem = "dynamic"
        return
    target = _container_path(service, link, path)
    link.container_path = target
    found = _providing_mount(service, target)
    if found is None:
        stock = service.get("build") is None and _stock_image(service.image)
        link.problem = "unmounted" if stock else "baked"
        return
    link.mount, link.mount_node, host = found
    if host is None:
        link.problem = "volume"
        return
    link.host_path = host
    if not exists(host):
        link.problem = "missing"
    elif not is_file(host):
        link.problem = "not-a-file"


def _resolve_bitnami_file(service: Service, link: RedisLink) -> None:
    for target in _BITNAMI_CONF_TARGETS:
        found = _providing_mount(service, target)
        if found is None:
            continue
        link.container_path = target
        link.mount, link.mount_node, host = found
        if host is None:
            link.problem = "volume"
        elif not is_file(host):
            link.problem = "missing" if not exists(host) else "not-a-file"
        else:
            link.host_path = host
        return


def _providing_mount(service: Service, target: str) -> tuple[Mount | None, Any, Path | None] | None:
    """The mount whose target is ``target`` or a folder above it (the deepest wins) and the host
    path it gives for ``target``; the host path is None for named volumes, tmpfs and the like."""
    best: tuple[int, Mount | None, Any, Path | None] | None = None
    for mount in service.mounts:
        mount_target = posixpath.normpath(mount.target) if mount.target else ""
        rest = _below(target, mount_target)
        if rest is None:
            continue
        host = None
        if mount.type == "bind" and mount.source:
            host = _host_path(service, mount.source, rest)
        if best is None or len(mount_target) >= best[0]:
            best = (len(mount_target), mount, mount.node, host)
    for node, config_target, host_file in _config_mounts(service):
        rest = _below(target, config_target)
        if rest is None:
            continue
        host = host_file / rest if host_file is not None and rest else host_file
        if best is None or len(config_target) >= best[0]:
            best = (len(config_target), None, node, host)
    return None if best is None else best[1:]


def _below(path: str, folder: str) -> str | None:
    """``path`` relative to ``folder`` ("" when equal), or None when it is not inside it."""
    if not folder:
        return None
    if path == folder:
        return ""
    prefix = folder.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else None


def _host_path(service: Service, source: str, rest: str) -> Path:
    expanded = Path(source).expanduser()
    base = expanded if expanded.is_absolute() else service.project.directory / expanded
    return base / rest if rest else base


def _config_mounts(service: Service) -> list[tuple[Any, str, Path | None]]:
    """Compose ``configs:`` of the service as (node, container target, host file or None)."""
    node = service.get("configs")
    if not isinstance(node, SeqNode):
        return []
    top = service.project.top("configs")
    result = []
    for item in node.items:
        if isinstance(item, ScalarNode):
            name, target = item.text, None
        elif isinstance(item, MapNode):
            name, target = scalar_text(item.get("source")) or "", scalar_text(item.get("target"))
        else:
            continue
        target = posixpath.normpath(target) if target else "/" + name
        definition = top.get(name) if top is not None else None
        file = scalar_text(definition.get("file")) if isinstance(definition, MapNode) else None
        host = None
        if file:
            path = Path(file).expanduser()
            host = path if path.is_absolute() else service.project.directory / path
        result.append((item, target, host))
    return result


# --- flags -------------------------------------------------------------------------------------

def _flag_words(service: Service, link: RedisLink) -> tuple[list[str], list[Span]]:
    """The options redis-server gets after the file: written flags, plus what the image derives
    from environment variables (bitnami's REDIS_PASSWORD, redis-stack's REDIS_ARGS)."""
    words: list[str] = []
    spans: list[Span] = []
    if link.server_word is None and not service.command_words:
        if link.profile is BITNAMI:
            _bitnami_flags(service, link, words, spans)
        elif link.profile is STACK:
            _stack_flags(service, words, spans)
    for word in link.flags:
        words.append(word.text)
        spans.append(service.word_span(word))
    return words, spans


def _bitnami_flags(service: Service, link: RedisLink, words: list[str], spans: list[Span]) -> None:
    """What bitnami's libredis.sh writes into its redis.conf from the environment."""
    env = service.environment

    def add(name: str, value: str, at: Span) -> None:
        words.extend([f"--{name}", value])
        spans.extend([at, at])

    def yes(name: str, default: str = "no") -> bool:
        var = env.get(name)
        value = var.value if var is not None and var.value is not None else default
        return value.strip().lower() in ("yes", "true", "1")

    password = env.get("REDIS_PASSWORD")
    password_file = env.get("REDIS_PASSWORD_FILE")
    if password is not None and (password.value or not password.literal):
        add("requirepass", password.value or "${REDIS_PASSWORD}", password.span)
    elif password_file is not None and password_file.value:
        add("requirepass", "${REDIS_PASSWORD_FILE}", password_file.span)
    if link.host_path is not None:
        return  # a mounted redis.conf replaces the generated one
    if yes("ALLOW_EMPTY_PASSWORD"):
        add("protected-mode", "no", env["ALLOW_EMPTY_PASSWORD"].span)
    aof = env.get("REDIS_AOF_ENABLED")
    if aof is not None and aof.value:
        add("appendonly", aof.value.strip().lower(), aof.span)
    if yes("REDIS_RDB_POLICY_DISABLED"):
        add("save", "", env["REDIS_RDB_POLICY_DISABLED"].span)
    extra = env.get("REDIS_EXTRA_FLAGS")
    if extra is not None and extra.value:
        for flag in extra.value.split():
            words.append(flag)
            spans.append(extra.span)


def _stack_flags(service: Service, words: list[str], spans: list[Span]) -> None:
    args = service.environment.get("REDIS_ARGS")
    if args is not None and args.value:
        for flag in args.value.split():
            words.append(flag)
            spans.append(args.span)


# --- helpers for the rules -----------------------------------------------------------------------

def checkable(conf: RedisConfig) -> bool:
    """A configuration whose settings can be judged: a redis.conf (not a template, a Sentinel
    file or some other file named .conf)."""
    return conf.kind == "redis"


def subject(conf: RedisConfig) -> str:
    """How messages name the server: its service, else its file."""
    service = conf.service
    if service is not None:
        return f'Redis service "{service.name}"'  # type: ignore[attr-defined]
    return f"{conf.source.path}" if conf.source is not None else "this Redis"


def directive_span(conf: RedisConfig, canonical: str) -> Span | None:
    """The value of the effective ``canonical`` directive (its line when it has no value)."""
    directive = conf.get(canonical)
    if directive is None:
        return None
    return directive.arg_spans[0] if directive.arg_spans else directive.span


def anchor(conf: RedisConfig, canonical: str | None = None) -> Span:
    """Where a finding about ``canonical`` points: the directive when it is written, else the
    top of the config file, else the service's redis-server command (or the service key)."""
    if canonical is not None:
        span = directive_span(conf, canonical)
        if span is not None:
            return span
    if conf.source is not None:
        return conf.source.line_span(1)
    link = link_of(conf.service) if conf.service is not None else None
    if link is not None:
        return link.anchor
    return Span("", 1, 1, 1, 1)

