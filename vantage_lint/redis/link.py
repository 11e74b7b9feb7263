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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TYPE_CHECKING

from vantage_lint.boundary import OUTSIDE_HINT, bad_path, outside
from vantage_lint.compose.nodes import MapNode, ScalarNode, SeqNode, scalar_text
from vantage_lint.compose.unknown import has_unknown
from vantage_lint.findings import Severity, Span, problem
from vantage_lint.redis.config import RedisConfig, config_from_args, parse_redis_config
from vantage_lint.source import exists, is_file

if TYPE_CHECKING:
    from vantage_lint.compose.model import ImageRef, Mount, Service
    from vantage_lint.compose.project import Project
    from vantage_lint.shell import Word

SERVERS = ("redis-server", "valkey-server", "redis-stack-server")
# The newest minor of a major version, for tags that name only the major ("7-alpine" is 7.4).
_LATEST_MINOR = {2: 8, 3: 2, 4: 0, 5: 0, 6: 2, 7: 4}
_VALKEY_LATEST_MINOR = {7: 2, 8: 1}
_TAG_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:[.\-_].*)?$")
_BITNAMI_CONF_TARGETS = {
    "redis": ("/opt/bitnami/redis/mounted-etc/redis.conf", "/opt/bitnami/redis/etc/redis.conf"),
    "valkey": ("/opt/bitnami/valkey/mounted-etc/valkey.conf", "/opt/bitnami/valkey/etc/valkey.conf"),
}


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
# bitnami/valkey: the same scripts with VALKEY_ variables and /bitnami/valkey paths (libvalkey.sh).
BITNAMI_VALKEY = ImageProfile("bitnami", "/", {}, {"dir": "/bitnami/valkey/data", "appendonly": "yes",
                                                   "bind": "0.0.0.0 ::"})
STACK = ImageProfile("stack", "/", {}, {"dir": "/data", "protected-mode": "no"})


@dataclass(slots=True)
class RedisLink:
    """How one Redis service gets its configuration."""

    service: Service
    profile: ImageProfile
    version: tuple[int, int] | None
    server: str = "redis"         # "redis" or "valkey", from the image (image_server)
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
    # "outside" (the host file is outside the project folder: never opened), "bad-path",
    # "volume" (a named volume or tmpfs), "baked" (a custom image may contain it), "dynamic"
    # (the path is a shell variable), "generated" (the command writes it before starting);
    # None when it was read or no file is used.
    problem: str | None = None
    # Flags after the path (or all arguments when no file is given).
    flags: list[Word] = field(default_factory=list)
    # False when the service runs something that is not redis-server (a script): unknown.
    known: bool = True
    config: RedisConfig | None = None
    reason: str | None = None  # why an "unreadable" file could not be opened

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

def image_server(image: ImageRef | None) -> str:
    """Which server the image runs: "valkey" (valkey/valkey, bitnami/valkey, any image named
    valkey) or "redis" (the official image, bitnami/redis, redis-stack and look-alikes)."""
    if image is not None and image.name.startswith("valkey"):
        return "valkey"
    return "redis"


def image_version(image: ImageRef | None) -> tuple[int, int] | None:
    """The server's major.minor from the image tag: ``7.2-alpine`` → (7, 2), ``6`` → (6, 2);
    ``valkey/valkey:8`` → (8, 1). None when the tag names no version (``latest``, ``alpine``,
    none): rules then assume a current Redis 7.x, or the newest Valkey the table knows."""
    if image is None or not image.tag:
        return None
    match = _TAG_VERSION.match(image.tag)
    if match is None:
        return None
    major = int(match.group(1))
    if image_server(image) == "valkey":
        latest = _VALKEY_LATEST_MINOR.get(major, 0)
        return (major, int(match.group(2)) if match.group(2) is not None else latest) if major < 20 else None
    minor = int(match.group(2)) if match.group(2) is not None else _LATEST_MINOR.get(major, 0)
    if major > 20:
        return None  # a date or build number, not a Redis version
    return major, minor


def image_profile(image: ImageRef | None) -> ImageProfile:
    if image is not None:
        if image.repository.startswith("bitnami/"):
            return BITNAMI_VALKEY if image.name.startswith("valkey") else BITNAMI
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
        if link.problem in ("outside", "bad-path") or link.problem == "unreadable" and link.reason:
            _report_refused(project, link)
        conf = link.config
        if conf is None:
            continue
        for source in conf.files:
            project.sources.setdefault(source.path, source)
        service.redis_config = conf
        project.redis_configs.append(conf)


def _report_refused(project: Project, link: RedisLink) -> None:
    node = link.mount_node
    at = node.span if node is not None else link.anchor
    shown = link.mount.source if link.mount is not None and link.mount.source else str(link.host_path)
    where = f'the host file {shown!r} mounted at {link.container_path} for Redis service "{link.service.name}"'
    if link.problem == "unreadable":
        project.report_once(problem("VL003", at, f"cannot read {where}: {link.reason}; its settings are not checked",
                                    "Make the file readable by the user that runs vantage-lint.", Severity.ERROR))
        return
    if link.problem == "bad-path":
        reason = bad_path(str(link.host_path)) or "cannot be opened"
        project.report_once(problem("VL003", at, f"{where} {reason}; not read", "Fix the path.", Severity.ERROR))
        return
    project.report_once(problem(
        "VL003", at, f"{where} is outside the project folder; not read, so its settings are not checked",
        OUTSIDE_HINT, Severity.WARNING))


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
    link = RedisLink(service, profile, image_version(service.image), image_server(service.image))
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
        if profile.kind == "bitnami":
            _resolve_bitnami_file(service, link)
    if link.problem is not None:
        return link  # the file decides everything: do not guess the configuration
    base = None
    project = service.project
    if link.host_path is not None and project.reader is not None:
        try:
            source = project.reader(link.host_path)
        except OSError as exc:  # permissions: say so at the mount, never a crash
            link.problem = "unreadable"
            link.reason = exc.strerror or str(exc)
            return link
        except Exception:  # not text: VL005/VL203 territory, not a crash
            link.problem = "unreadable"
            return link
        base = parse_redis_config(source, read=project.reader, version=link.version, root=project.directory,
                                  container=lambda path: _mounted_host_file(service, path), server=link.server)
    words, spans = _flag_words(service, link)
    conf = config_from_args(words, spans, base, version=link.version, read=project.reader, root=project.directory,
                            container=lambda path: _mounted_host_file(service, path), server=link.server)
    conf.service = service
    link.config = conf
    return link


def kept_text(node: ScalarNode, env: Mapping[str, str]) -> str:
    """The node's text interpolated as Compose does. Variables unset on this machine are set
    where the stack is deployed: they read as one unknown word (compose.unknown), never as the
    empty string that would shift every following word (``--requirepass $P --port 1``)."""
    return node.text


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
    if service.get("entrypoint") is None and profile.kind != "bitnami" and _entrypoint_prepends(words[0].text):
        return None, list(words)
    return None


def _entrypoint_prepends(first: str) -> bool:
    """The official images' docker-entrypoint.sh runs ``redis-server "$@"`` when the first
    argument starts with ``-`` or ends with ``.conf``."""
    return first.startswith("-") or first.endswith(".conf")


_STOCK_REPOSITORIES = frozenset({
    "redis", "valkey/valkey", "bitnami/redis", "bitnami/valkey", "redis/redis-stack", "redis/redis-stack-server",
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
    if "$" in path or "`" in path or has_unknown(path):  # has_unknown: a value the deployment supplies
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
    if _refused(service, link, host):
        return
    if not exists(host):
        link.problem = "missing"
    elif not is_file(host):
        link.problem = "not-a-file"


def _refused(service: Service, link: RedisLink, host: Path) -> bool:
    """A host file the linter may not open (outside the project folder, or a name no file
    system takes): the link records why, and nothing about the file is guessed."""
    if bad_path(str(host)) is not None:
        link.problem = "bad-path"
        return True
    if outside(host, service.project.directory):
        link.problem = "outside"
        return True
    return False


def _resolve_bitnami_file(service: Service, link: RedisLink) -> None:
    for target in _BITNAMI_CONF_TARGETS[link.server]:
        found = _providing_mount(service, target)
        if found is None:
            continue
        link.container_path = target
        link.mount, link.mount_node, host = found
        if host is None:
            link.problem = "volume"
        elif _refused(service, link, host):
            link.host_path = host
        elif not is_file(host):
            link.problem = "missing" if not exists(host) else "not-a-file"
        else:
            link.host_path = host
        return


def _mounted_host_file(service: Service, container_path: str) -> Path | None:
    """The host file a bind mount (or a file-backed ``configs:`` entry) serves at an absolute
    container path, such as an ``include`` in the redis.conf; None when none does."""
    found = _providing_mount(service, posixpath.normpath(container_path))
    return found[2] if found is not None else None


@dataclass(frozen=True, slots=True)
class MountedFile:
    """A container path redis-server reads, and what the service's mounts put there."""

    container_path: str
    mount: Mount | None      # None for a Compose ``configs:`` entry
    node: Any                # the volume or configs entry that provides it
    host_path: Path | None   # None for named volumes, tmpfs and the like
    source_path: Path | None  # the bind mount's own source (the file, or a folder above it)

    @property
    def state(self) -> str:
        """"file"; "missing" (the source is the file and does not exist: Docker creates an
        empty folder in its place); "folder" (the path is a folder); "source-missing" (the
        mounted folder does not exist, so Docker mounts an empty one and the file is absent);
        "unknown" (a named volume, or a file a deployment may put into an existing folder,
        as it does with certificates and ACL files kept out of the repository)."""
        if self.host_path is None:
            return "unknown"
        if self.host_path.is_file():
            return "file"
        if self.host_path.exists():
            return "folder"
        if self.source_path is None or self.source_path == self.host_path:
            return "missing"
        return "unknown" if self.source_path.exists() else "source-missing"


def mounted_file(service: Service, path: str) -> MountedFile | None:
    """What provides the container ``path`` (relative paths against the working directory), or
    None when no volume or config mounts it."""
    profile = image_profile(service.image)
    workdir = service.text("working_dir") or profile.workdir
    target = posixpath.normpath(posixpath.join(workdir, path))
    found = _providing_mount(service, target)
    if found is None:
        return None
    mount, node, host = found
    source = None
    if mount is not None and mount.type == "bind" and mount.source:
        source = _host_path(service, mount.source, "")
    elif mount is None:
        source = host  # a configs: entry names the file itself
    return MountedFile(target, mount, node, host, source)


def stock_image(service: Service) -> bool:
    """The service runs a published Redis image as is: a file nothing mounts is not there."""
    return service.get("build") is None and _stock_image(service.image)


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
    for node, config_target, host_file in _config_mounts(service) + _secret_mounts(service):
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
    """Compose ``configs:`` of the service as (node, container target, host file or None):
    mounted at /<name> unless a target is given."""
    return _file_mounts(service, "configs", lambda name, target: posixpath.normpath(target) if target else "/" + name)


def _secret_mounts(service: Service) -> list[tuple[Any, str, Path | None]]:
    """Compose ``secrets:`` of the service: mounted at /run/secrets/<name> (or their target)."""
    return _file_mounts(service, "secrets",
                        lambda name, target: posixpath.normpath(posixpath.join("/run/secrets", target or name)))


def _file_mounts(service: Service, key: str, place: Callable[[str, str | None], str]
                 ) -> list[tuple[Any, str, Path | None]]:
    """The service's ``configs:``/``secrets:`` entries as (node, container path, host file of the
    top-level definition's ``file:`` or None)."""
    node = service.get(key)
    if not isinstance(node, SeqNode):
        return []
    top = service.project.top(key)
    result = []
    for item in node.items:
        if isinstance(item, ScalarNode):
            name, target = item.text, None
        elif isinstance(item, MapNode):
            name, target = scalar_text(item.get("source")) or "", scalar_text(item.get("target"))
        else:
            continue
        definition = top.get(name) if top is not None else None
        file = scalar_text(definition.get("file")) if isinstance(definition, MapNode) else None
        host = None
        if file:
            path = Path(file).expanduser()
            host = path if path.is_absolute() else service.project.directory / path
        result.append((item, place(name, target), host))
    return result


# --- flags -------------------------------------------------------------------------------------

# Environment variables that the images' start scripts turn into server settings, and where
# each script does it. Only read when the image's own entrypoint runs.
IMAGE_VARIABLES: tuple[tuple[str, str, str, str], ...] = (
    ("valkey/valkey 8.0+", "VALKEY_EXTRA_FLAGS", "words appended to the command (unquoted, split on blanks)",
     'valkey-io/valkey-container 8.0/debian/docker-entrypoint.sh: exec "$@" $VALKEY_EXTRA_FLAGS'),
    ("bitnami/redis", "REDIS_PASSWORD / REDIS_PASSWORD_FILE", "requirepass",
     "bitnami/containers bitnami/redis/*/rootfs/opt/bitnami/scripts/libredis.sh (redis_configure_default)"),
    ("bitnami/redis", "ALLOW_EMPTY_PASSWORD", "protected-mode no when yes", "libredis.sh, as above"),
    ("bitnami/redis", "REDIS_AOF_ENABLED", "appendonly", "libredis.sh, as above"),
    ("bitnami/redis", "REDIS_RDB_POLICY_DISABLED", 'save "" when yes', "libredis.sh, as above"),
    ("bitnami/redis", "REDIS_DISABLE_COMMANDS", 'rename-command CMD "" for each comma-separated command',
     "libredis.sh redis_disable_unsafe_commands (appends the lines to the generated redis.conf)"),
    ("bitnami/redis", "REDIS_EXTRA_FLAGS", "words appended to redis-server's arguments",
     "bitnami/redis/*/rootfs/opt/bitnami/scripts/redis/run.sh"),
    ("bitnami/valkey", "VALKEY_PASSWORD, VALKEY_AOF_ENABLED, VALKEY_RDB_POLICY_DISABLED, VALKEY_DISABLE_COMMANDS, "
     "VALKEY_EXTRA_FLAGS, ALLOW_EMPTY_PASSWORD", "as the REDIS_ ones of bitnami/redis",
     "bitnami/containers bitnami/valkey/*/rootfs/opt/bitnami/scripts/libvalkey.sh (valkey_disable_unsafe_commands, ...)"),
    ("redis/redis-stack(-server)", "REDIS_ARGS", "words appended to redis-server's arguments",
     "redis-stack's entrypoint.sh"),
)


def _flag_words(service: Service, link: RedisLink) -> tuple[list[str], list[Span]]:
    """The options redis-server gets after the file: written flags, plus what the image derives
    from environment variables (IMAGE_VARIABLES)."""
    words: list[str] = []
    spans: list[Span] = []
    if link.server_word is None and not service.command_words:
        if link.profile.kind == "bitnami":
            _bitnami_flags(service, link, words, spans)
        elif link.profile is STACK:
            _stack_flags(service, words, spans)
    for word in link.flags:
        words.append(word.text)
        spans.append(service.word_span(word))
    if _valkey_entrypoint(service, link):
        extra = service.environment.get("VALKEY_EXTRA_FLAGS")
        if extra is not None and extra.value:
            for flag in extra.value.split():
                words.append(flag)
                spans.append(extra.span)
    return words, spans


def _valkey_entrypoint(service: Service, link: RedisLink) -> bool:
    """The valkey/valkey image's own docker-entrypoint.sh runs: from 8.0 it appends
    VALKEY_EXTRA_FLAGS to whatever command it executes (7.2's does not)."""
    image = service.image
    if image is None or link.profile is not OFFICIAL:
        return False
    if image.repository.removeprefix("library/") not in ("valkey/valkey", "valkey"):
        return False
    if link.version is not None and link.version < (8, 0):
        return False
    entrypoint = service.get("entrypoint")
    if entrypoint is None:
        return True
    if isinstance(entrypoint, ScalarNode):
        return entrypoint.text.split()[:1] == ["docker-entrypoint.sh"]
    items = getattr(entrypoint, "items", [])
    return bool(items) and isinstance(items[0], ScalarNode) and items[0].text.endswith("docker-entrypoint.sh")


def _bitnami_flags(service: Service, link: RedisLink, words: list[str], spans: list[Span]) -> None:
    """What bitnami's libredis.sh (libvalkey.sh: the same with VALKEY_ names) writes into its
    config file from the environment."""
    env = service.environment
    prefix = "VALKEY" if link.server == "valkey" else "REDIS"

    def add(name: str, value: str, at: Span) -> None:
        words.extend([f"--{name}", value])
        spans.extend([at, at])

    def yes(name: str, default: str = "no") -> bool:
        var = env.get(name)
        value = var.value if var is not None and var.value is not None else default
        return value.strip().lower() in ("yes", "true", "1")

    password = env.get(f"{prefix}_PASSWORD")
    password_file = env.get(f"{prefix}_PASSWORD_FILE")
    if password is not None and (password.value or not password.literal):
        add("requirepass", password.value or f"${{{prefix}_PASSWORD}}", password.span)
    elif password_file is not None and password_file.value:
        add("requirepass", f"${{{prefix}_PASSWORD_FILE}}", password_file.span)
    if link.host_path is not None:
        return  # a mounted redis.conf replaces the generated one
    if yes("ALLOW_EMPTY_PASSWORD"):
        add("protected-mode", "no", env["ALLOW_EMPTY_PASSWORD"].span)
    aof = env.get(f"{prefix}_AOF_ENABLED")
    if aof is not None and aof.value:
        add("appendonly", aof.value.strip().lower(), aof.span)
    if yes(f"{prefix}_RDB_POLICY_DISABLED"):
        add("save", "", env[f"{prefix}_RDB_POLICY_DISABLED"].span)
    disabled = env.get(f"{prefix}_DISABLE_COMMANDS")
    if disabled is not None and disabled.value:
        for command in disabled.value.replace(",", " ").split():
            words.extend(["--rename-command", command, ""])
            spans.extend([disabled.span] * 3)
    extra = env.get(f"{prefix}_EXTRA_FLAGS")
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

