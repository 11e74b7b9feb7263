"""Who talks to each Redis: connection URLs in every service, and the healthcheck probe.

A ``redis://``/``rediss://`` URL in a service's environment (``environment`` and ``env_file``),
command or entrypoint connects to the Redis service its host names (service name, network
alias, ``hostname``, ``container_name``). The setting that holds it says what it is for:
a Celery broker (``CELERY_BROKER_URL``, ``BROKER_URL``, ``CELERY_BROKER``, ``-b/--broker``, any
``*BROKER*`` name), a result backend, or anything else. A Redis is a **broker** when a broker URL
points at it and a **cache** when only other URLs do. Telling a job queue's Redis to evict
loses jobs, so "cache" is said only when no URL could feed a queue: a result backend, a
queue-like setting name, or a client that runs or is named like a worker (a Celery service
reading ``REDIS_URL`` in its settings, Sidekiq, RQ) leaves the role unknown.

Passwords are kept to compare and check, never to print (``vantage_lint.secrets.mask``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple, TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from vantage_lint.compose.nodes import Node, ScalarNode, SeqNode
from vantage_lint.compose.unknown import has_unknown
from vantage_lint.findings import Span

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service
    from vantage_lint.shell import Word

URL = re.compile(r"rediss?://(?:\$\{[^}\s]*\}|[^\s'\"<>,;`)(])*", re.IGNORECASE)
BROKER_NAMES = frozenset({"CELERY_BROKER_URL", "BROKER_URL", "CELERY_BROKER"})
BROKER_FLAGS = frozenset({"-b", "--broker"})
BACKEND_FLAGS = frozenset({"--result-backend"})
# Setting names that suggest a job queue: such a Redis is never called a plain cache.
_QUEUE_WORDS = ("QUEUE", "RQ_", "SIDEKIQ", "DRAMATIQ", "HUEY", "BULL", "JOBS", "WORKER", "CELERY")
_WORKER_NAMES = ("worker", "queue", "celery", "beat", "sidekiq", "scheduler", "clock", "cron", "job", "rq")
_QUEUE_PROGRAMS = frozenset({"celery", "rq", "rqworker", "sidekiq", "dramatiq", "huey_consumer", "arq"})
# Words of a Redis service's own name that say it holds queues ("broker", "redis_queue").
_QUEUE_HOST_WORDS = frozenset({"broker", "queue", "queues", "celery", "mq", "jobs", "tasks"})


class RedisURL(NamedTuple):
    """One connection URL written in a service."""

    client: Service
    url: str                       # as the container sees it (interpolated)
    span: Span                     # where it is written
    setting: str                   # "CELERY_BROKER_URL", "command --broker", ...
    kind: str                      # "broker", "backend" or "other"
    origin: str                    # "environment", "env_file" or "command"
    host: str | None
    username: str | None
    password: str | None           # None: the URL carries no password
    password_templated: bool       # the password is a ${VAR} / $VAR reference
    tls: bool

    @property
    def has_password(self) -> bool:
        return bool(self.password) or self.password_templated

    @property
    def literal_password(self) -> bool:
        """A password written out in the Compose file itself (not an env file, not a variable)."""
        return bool(self.password) and not self.password_templated and self.origin != "env_file"


def parse_url(text: str) -> tuple[str | None, str | None, str | None, bool]:
    """(host, username, password, tls) of a redis URL; a lone userinfo (``redis://pw@h``) is a
    username for redis-py and kombu, so it is not counted as a password."""
    try:
        parts = urlsplit(text)
        host = parts.hostname
        username = unquote(parts.username) if parts.username is not None else None
        password = unquote(parts.password) if parts.password is not None else None
        if password is None:
            query = parse_qs(parts.query)
            if query.get("password"):
                password = query["password"][0]
    except ValueError:
        return None, None, None, False
    return host, username, password, text.lower().startswith("rediss:")


def _kind_of_setting(name: str) -> str:
    upper = name.upper()
    if upper in BROKER_NAMES or "BROKER" in upper:
        return "broker"
    if "BACKEND" in upper:
        return "backend"
    return "other"


def _raw_at(service: Service, span: Span) -> str | None:
    source = service.project.sources.get(span.path)
    if source is None or span.end <= span.start:
        return None
    return source.text[span.start : span.end]


def _locate(service: Service, span: Span, needle: str) -> Span:
    """The span of ``needle`` inside ``span`` when it is written there verbatim."""
    source = service.project.sources.get(span.path)
    if source is None or span.end <= span.start or not needle:
        return span
    index = source.text.find(needle, span.start, span.end)
    return source.span(index, index + len(needle)) if index != -1 else span


def _urls_in(service: Service, value: str, span: Span, setting: str, kind: str, origin: str) -> list[RedisURL]:
    found = [m.group(0) for m in URL.finditer(value)]
    if not found:
        return []
    raw_text = _raw_at(service, span)
    raw = [m.group(0) for m in URL.finditer(raw_text)] if raw_text is not None else []
    paired = raw if len(raw) == len(found) else [None] * len(found)
    result = []
    for url, raw_url in zip(found, paired):
        host, username, password, tls = parse_url(url)
        templated = False
        if raw_url is not None and "$" in raw_url:
            _rhost, _ruser, raw_password, _ = parse_url(raw_url.replace("${", "").replace("}", ""))
            templated = raw_password is not None and "$" in raw_url.split("@", 1)[0]
        if password is not None and ("$" in password or has_unknown(password)):
            templated = True  # a shell variable the container expands ($$VAR in Compose)
        at = _locate(service, span, raw_url or url)
        result.append(RedisURL(service, url, at, setting, kind, origin, host and host.lower(), username,
                               password, templated, tls))
    return result


def service_urls(service: Service) -> list[RedisURL]:
    """Every redis URL written in this service (cached on the service)."""
    cached = service.__dict__.get("_redis_urls")
    if cached is not None:
        return cached
    urls: list[RedisURL] = []
    for name, var in service.environment.items():
        if var.value and "redis" in var.value.lower():
            urls.extend(_urls_in(service, var.value, var.span, name, _kind_of_setting(name), var.origin))
    urls.extend(_command_urls(service))
    service.__dict__["_redis_urls"] = urls
    return urls


def _command_urls(service: Service) -> list[RedisURL]:
    from vantage_lint.shell import simple_commands

    words = service.command_words
    if not any("redis" in w.text.lower() for w in words):
        return []
    parts = [node.text for node in service.command_nodes]
    urls: list[RedisURL] = []
    for command in simple_commands(words, parts):
        previous = ""
        for word in command:
            text = word.text
            flag, _, inline = text.partition("=")
            if inline and flag in BROKER_FLAGS | BACKEND_FLAGS:
                previous, text = flag, inline
            if "redis" in text.lower():
                kind = "broker" if previous in BROKER_FLAGS else "backend" if previous in BACKEND_FLAGS else "other"
                if kind == "other" and text.startswith("-b") and URL.match(text[2:]):
                    kind = "broker"
                setting = f"command {previous}" if kind != "other" else "command"
                urls.extend(_urls_in(service, text, service.word_span(word), setting, kind, "command"))
            previous = word.text
    return urls


def points_at(url: RedisURL, redis: Service) -> bool:
    return url.host is not None and url.host in {name.lower() for name in redis.host_names}


def clients_of(redis: Service) -> list[RedisURL]:
    """URLs in any service of the project whose host is this Redis service."""
    result: list[RedisURL] = []
    for service in redis.project.services.values():
        result.extend(url for url in service_urls(service) if points_at(url, redis))
    return result


def runs_task_queue(service: Service) -> bool:
    from vantage_lint.shell import basename

    if service.has_role("celery-worker", "celery-beat", "flower"):
        return True
    return any(basename(w.text) in _QUEUE_PROGRAMS for w in service.command_words[:8])


def redis_role(redis: Service | None) -> str | None:
    """``"broker"``, ``"cache"`` or None (unknown) for a Redis service."""
    if redis is None:
        return None
    urls = clients_of(redis)
    if any(url.kind == "broker" for url in urls):
        return "broker"
    if not urls:
        return None
    for url in urls:
        if url.kind == "backend" or _queue_like(url):
            return None  # results and job queues must not be evicted like a cache
    if queue_named(redis):
        return None  # paperless's "broker" is fed through PAPERLESS_REDIS: never a cache
    return "cache"


def queue_named(redis: Service) -> bool:
    """The Redis service's own name says it holds queues ("broker", "redis_queue")."""
    words = {w for name in redis.host_names for w in re.split(r"[-_.]+", name.lower())}
    return bool(words & _QUEUE_HOST_WORDS)


def _queue_like(url: RedisURL) -> bool:
    """The URL may feed a job queue: a queue-like setting name, or a client that runs (or is
    named like) a worker, a scheduler or a task queue program."""
    if any(word in url.setting.upper() for word in _QUEUE_WORDS):
        return True
    name = url.client.name.lower()
    return any(word in name for word in _WORKER_NAMES) or runs_task_queue(url.client)


def connected_services(redis: Service) -> list[tuple[Service, Span, str]]:
    """Other services that connect to this Redis, with where it shows: a URL, a ``*REDIS*HOST*``
    setting naming it, or ``depends_on`` it."""
    names = {name.lower() for name in redis.host_names}
    found: list[tuple[Service, Span, str]] = []
    for service in redis.project.services.values():
        if service is redis:
            continue
        url = next((u for u in service_urls(service) if points_at(u, redis)), None)
        if url is not None:
            found.append((service, url.span, f"{url.setting} {url.url if not url.password else '(URL)'}"))
            continue
        host_var = next(
            (v for n, v in service.environment.items()
             if "REDIS" in n.upper() and "HOST" in n.upper() and v.value and v.value.strip().lower() in names),
            None,
        )
        if host_var is not None:
            found.append((service, host_var.span, f"{host_var.name}={host_var.value}"))
            continue
        dependency = service.depends_on.get(redis.name)
        if dependency is not None:
            found.append((service, dependency.span, f"depends_on {redis.name}"))
    return found


# --- the healthcheck probe -------------------------------------------------------------------

# The CLIs a healthcheck probes with: valkey-cli 8 takes redis-cli's options and REDISCLI_AUTH
# (tests/test_redis_healthcheck_real.py runs every case with both).
CLIS = ("redis-cli", "valkey-cli")

# redis-cli options that take a value (7.x); everything else before the command is a flag.
_CLI_VALUE_OPTIONS = frozenset({
    "-h", "-p", "-s", "-a", "-u", "-r", "-i", "-n", "-d", "-D", "-X", "-t", "--user", "--pass", "--sni",
    "--cacert", "--cacertdir", "--cert", "--key", "--tls-ciphers", "--tls-ciphersuites", "--show-pushes",
    "--lru-test", "--pattern", "--quoted-pattern", "--count", "--intrinsic-latency", "--eval", "--rdb",
    "--functions-rdb", "--pipe-timeout", "--memkeys-samples", "--cluster-yes",
})


@dataclass(slots=True)
class Probe:
    """One ``redis-cli`` invocation of a healthcheck test."""

    word: Word
    span: Span                      # the redis-cli word
    command: list[str]              # the Redis command it sends ("ping")
    errors_exit: bool               # -e: Redis errors give a non-zero exit status
    output_checked: bool            # the test compares the output with PONG
    password: str | None = None     # the password the probe sends (None: none)
    password_span: Span | None = None
    password_via: str | None = None  # "-a", "--pass", "-u", "REDISCLI_AUTH", "--askpass"
    password_templated: bool = False
    url_empty_user: bool = False    # -u redis://:pw@host: redis-cli sends an empty username
    username: str | None = None
    options: list[str] = field(default_factory=list)

    @property
    def has_credentials(self) -> bool:
        return self.password_via is not None


def healthcheck_script(service: Service) -> tuple[list[list[Word]], str, list[Node]] | None:
    """(simple commands, full test text, nodes indexed by ``Word.part``) of the healthcheck."""
    from vantage_lint.shell import script_commands, simple_commands, words_from_parts

    from vantage_lint.redis.link import kept_text

    check = service.healthcheck
    if check is None or service.healthcheck_disabled:
        return None
    test = check.get("test")
    env = service.project.env
    if isinstance(test, ScalarNode) and test.text:
        text = kept_text(test, env)
        return script_commands(text, 0), text, [test]
    if not isinstance(test, SeqNode) or not test.items:
        return None
    items = [item for item in test.items if isinstance(item, ScalarNode)]
    texts = [kept_text(item, env) for item in items]
    if texts[0] == "CMD-SHELL":
        if len(texts) < 2:
            return None
        return script_commands(texts[1], 1), texts[1], list(items)
    if texts[0] == "CMD":
        words = words_from_parts(texts)[1:]
        return simple_commands(words, texts), " ".join(texts[1:]), list(items)
    return None


def word_location(service: Service, nodes: list[Node], word: Word) -> Span:
    node = nodes[word.part] if 0 <= word.part < len(nodes) else None
    if isinstance(node, ScalarNode):
        return service.sub_span(node, word.start, word.end)
    return service.value_span("healthcheck", "test")


def healthcheck_probes(service: Service) -> list[Probe]:
    """The redis-cli invocations of the service's healthcheck, with their credentials."""
    from vantage_lint.shell import basename, script_commands

    script = healthcheck_script(service)
    if script is None:
        return []
    commands, text, nodes = script
    expanded: list[list[Word]] = []
    for command in commands:
        expanded.append(command)
        for word in command:
            # `[ "$(redis-cli ping)" = PONG ]`: the probe runs inside a command substitution.
            if any(cli in word.text for cli in CLIS) and ("$(" in word.text or "`" in word.text):
                inner = word.text.replace("$(", " ").replace("`", " ").replace(")", " ")
                for sub in script_commands(inner, word.part):
                    expanded.append([type(word)(w.text, word.part, word.start, word.end) for w in sub])
    env_auth = "REDISCLI_AUTH" in text or "REDISCLI_AUTH" in service.environment
    probes = []
    for command in expanded:
        if not command or basename(command[0].text) not in CLIS:
            continue
        probe = _parse_cli(service, nodes, command)
        others = [w.text for c in expanded if c is not command for w in c]
        probe.output_checked = any("pong" in t.lower() for t in others) or (
            "pong" in text.lower() and "pong" not in " ".join(w.text for w in command).lower()
        )
        if probe.password_via is None and env_auth:
            probe.password_via = "REDISCLI_AUTH"
            var = service.environment.get("REDISCLI_AUTH")
            if var is not None and "REDISCLI_AUTH" not in text:
                probe.password = var.value
                probe.password_span = var.span
                probe.password_templated = not var.literal or bool(var.value and ("$" in var.value or has_unknown(var.value)))
            else:
                probe.password_templated = True  # set in the script: value not tracked
        probes.append(probe)
    return probes


def _parse_cli(service: Service, nodes: list[Node], command: list[Word]) -> Probe:
    probe = Probe(command[0], word_location(service, nodes, command[0]), [], False, False)
    i = 1
    while i < len(command):
        word = command[i]
        text = word.text
        if not text.startswith("-") or text == "-":
            probe.command = [w.text for w in command[i:]]
            break
        probe.options.append(text)
        value = command[i + 1] if text in _CLI_VALUE_OPTIONS and i + 1 < len(command) else None
        if text == "-e":
            probe.errors_exit = True
        elif text in ("-a", "--pass") and value is not None:
            _set_password(service, nodes, probe, value, value.text, text)
        elif text == "--askpass":
            probe.password_via = "--askpass"
            probe.password_templated = True
        elif text == "--user" and value is not None:
            probe.username = value.text
        elif text == "-u" and value is not None:
            _host, username, password, _tls = parse_url(value.text)
            if password is None and username:
                password, username = username, None  # redis-cli reads redis://pw@host as a password
            if username is not None:
                probe.username = username
            if password is not None:
                _set_password(service, nodes, probe, value, password, "-u")
                probe.url_empty_user = username == ""
        i += 2 if value is not None else 1
    return probe


def _set_password(service: Service, nodes: list[Node], probe: Probe, word: Word, password: str, via: str) -> None:
    probe.password = password
    probe.password_via = via
    probe.password_span = word_location(service, nodes, word)
    raw = _raw_at(service, probe.password_span) or ""
    # Only a span that holds just this word tells how it was written ($$VAR, ${VAR}).
    precise = len(raw) <= len(word.text) + 2
    node = nodes[word.part] if 0 <= word.part < len(nodes) else None
    node_raw = node.raw if isinstance(node, ScalarNode) else ""
    # Substituted by Compose from ${VAR}: the value seen here is the linting machine's, if any.
    substituted = "$" in node_raw and password not in node_raw
    probe.password_templated = "$" in password or (precise and "$" in raw) or substituted
