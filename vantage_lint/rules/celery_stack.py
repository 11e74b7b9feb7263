"""VL322-VL325: pitfalls seen in real Celery + Redis stacks (root override, fallback passwords,
fixed node names on replicas, a password on the server's command line)."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.compose.interpolation import references
from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import ScalarNode, walk
from vantage_lint.compose.unknown import has_unknown
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.secrets import is_secret_name
from vantage_lint.findings import Span
from vantage_lint.rules.celery_options import celery_view, env_name_span, raw_offsets

_DEFAULT_OPERATORS = (":-", "-")
# Celery's node-name placeholders that differ per container (the hostname is the container id).
_PER_HOST = ("%h", "%n", "%d")


# --- VL322 -----------------------------------------------------------------------------------
@rule(
    code="VL322",
    name="celery-force-root",
    summary="C_FORCE_ROOT lets a Celery worker that accepts pickle run as root.",
    severity=Severity.WARNING,
    hint="Remove C_FORCE_ROOT and run the worker as an unprivileged user (user: \"1000:1000\" or USER in the image).",
    roles=("celery-worker",),
)
def celery_force_root(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a worker whose environment sets `C_FORCE_ROOT` to any non-empty value (Celery
    tests only that it is non-empty, so `C_FORCE_ROOT: "false"` turns the check off too).

    ## Why it matters
    Celery refuses to start as root when the worker accepts pickle (`SecurityError`),
    because a pickled message can run any code: with root, whoever can write to the broker
    owns the container. `C_FORCE_ROOT` silences that refusal instead of fixing the user the
    worker runs as. Checked with Celery 5.7's `check_privileges`.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker
        environment:
          C_FORCE_ROOT: "true"
    ```

    ## Fix
    Drop `C_FORCE_ROOT` and add `user: "1000:1000"` (or `USER app` in the Dockerfile).
    """
    var = service.environment.get("C_FORCE_ROOT")
    if var is None or celery_view(service) is None:
        return
    if var.node is not None and (var.value is None or var.value == ""):
        return      # empty: Celery reads it as unset
    if has_unknown(var.value):
        return      # empty or not is the deployment's
    yield ctx.finding(
        env_name_span(service, var),
        f'service "{service.name}" sets C_FORCE_ROOT: Celery then runs a pickle-accepting worker as root instead of '
        "refusing to start, so anyone who can publish to the broker can run code as root",
    )


# --- VL323 -----------------------------------------------------------------------------------
def _raw_span(service: Service, node: ScalarNode, start: int, end: int) -> Span:
    """Where ``node.raw[start:end]`` was written (the whole node when it cannot be traced)."""
    source = service.project.sources.get(node.span.path)
    offsets = raw_offsets(node, source.text) if source is not None else None
    if offsets is None or end > len(offsets) - 1:
        return node.span
    return source.span(offsets[start], offsets[end - 1] + 1)


# A name that ends in one of these words holds a setting *about* a secret (AUTH_TYPE,
# TOKEN_REFRESH_INTERVAL_SECONDS, API_KEY_RATE_LIMIT, MCP_AUTH_PORT), not the secret itself.
_SETTING_WORDS = frozenset({
    "TYPE", "MODE", "METHOD", "PROVIDER", "BACKEND", "ENABLED", "DISABLED", "REQUIRED", "PORT", "HOST",
    "HOSTNAME", "ISSUER", "AUDIENCE", "SCOPE", "SCOPES", "INTERVAL", "SECONDS", "MINUTES", "HOURS", "DAYS",
    "TTL", "TIMEOUT", "EXPIRY", "EXPIRES", "LIFETIME", "LIMIT", "LENGTH", "ALGORITHM", "HEADER", "FILE",
    "PATH", "DIR", "URL_PATH", "NAME", "USER", "USERNAME", "LOGIN", "PREFIX", "VERSION", "COUNT", "SIZE",
})
# Defaults that are no password whatever the name says.
_PLAIN_DEFAULTS = frozenset({"true", "false", "yes", "no", "on", "off", "none", "null"})


def holds_secret_value(name: str, default: str) -> bool:
    """Whether ``${name:-default}`` writes a secret: a secret's name that is not a setting about
    one, with a default that is not a number or a boolean."""
    if not is_secret_name(name) or name.upper().rsplit("_", 1)[-1] in _SETTING_WORDS:
        return False
    return not (default.strip().lower() in _PLAIN_DEFAULTS or default.strip().lstrip("-").isdigit())


def _literal_fallback(raw: str) -> list[tuple[str, int, int]]:
    """``(variable, start, end)`` of each ``${SECRET:-literal}`` in ``raw`` (the expression's span)."""
    found = []
    for ref in references(raw):
        if not ref.braced or not is_secret_name(ref.name):
            continue
        inner = raw[ref.start + 2 + len(ref.name) : ref.end - 1]     # after "${NAME", before "}"
        for operator in _DEFAULT_OPERATORS:
            if inner.startswith(operator):
                default = inner[len(operator):]
                if default and "$" not in default and holds_secret_value(ref.name, default):
                    found.append((ref.name, ref.start, ref.end))
                break
    return found


@rule(
    code="VL323",
    name="literal-fallback-password",
    summary="A secret variable falls back to a literal written in the file: ${REDIS_PASSWORD:-...}.",
    severity=Severity.WARNING,
    hint="Use ${REDIS_PASSWORD:?set REDIS_PASSWORD} so Compose refuses to start without it, or a secret file.",
    scope="service",
    contexts=PRODUCTION_ONLY,
    # `--requirepass ${REDIS_PASSWORD:-baserow}`: the literal and its weakness are this problem.
    supersedes=("VL206", "VL217"),
)
def literal_fallback_password(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports every `${NAME:-value}` or `${NAME-value}` in a service whose variable name says
    it holds a secret (`PASSWORD`, `PASS`, `SECRET`, `TOKEN`, `API_KEY`, `AUTH` ...) and whose default is a
    literal: in the environment, the command, the healthcheck and anywhere else in the
    service. The literal is never printed. A name that ends in a word for a setting about a
    secret (`AUTH_TYPE`, `TOKEN_TTL`, `API_KEY_RATE_LIMIT`, `MCP_AUTH_PORT`, `*_PASSWORD_FILE`) or a
    default that is a number or a boolean is not reported.

    ## Why it matters
    When the variable is unset (a new machine, a CI job, a typo in `.env`), Compose uses
    the default silently, and the default is known to everyone who can read the file or
    the repository. Redis, Flower or the broker then run with a published password, often
    on the stack that went to production without its `.env`.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        command: redis-server --requirepass ${REDIS_PASSWORD:-changeme}
    ```

    ## Fix
    `command: redis-server --requirepass ${REDIS_PASSWORD:?set REDIS_PASSWORD}`
    """
    seen: set[tuple[int, int]] = set()
    for node in walk(service.node):
        if not isinstance(node, ScalarNode) or "$" not in node.raw:
            continue
        for name, start, end in _literal_fallback(node.raw):
            key = (node.span.start + start, node.span.start + end)
            if key in seen:
                continue
            seen.add(key)
            yield ctx.finding(
                _raw_span(service, node, start, end),
                f'service "{service.name}": ${{{name}}} falls back to a password written in the file: when '
                f"{name} is unset, Compose uses that literal without a word, and everyone who reads the file knows it",
                hint=f"Write ${{{name}:?set {name}}} so Compose refuses to start without it, or use a secret.",
            )


# --- VL324 -----------------------------------------------------------------------------------
@rule(
    code="VL324",
    name="celery-fixed-node-name",
    summary="A replicated worker sets -n/--hostname without %h, so every replica has the same node name.",
    severity=Severity.WARNING,
    hint="Keep the host in the node name: -n worker@%h (or drop -n; the default is celery@%h).",
    roles=("celery-worker",),
)
def celery_fixed_node_name(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a worker with more than one replica (`deploy.replicas`, `scale`) whose
    `-n/--hostname` contains none of `%h`, `%n`, `%d` (the placeholders Celery fills from
    the container's host name, which differs per replica).

    ## Why it matters
    Every replica announces the same node name, so the tools that key workers by name see
    one: `celery inspect` warns `DuplicateNodenameWarning` and merges their replies into a
    single entry (checked with two real workers: two answer a ping, `inspect ping` lists one
    node), `-d worker@app` addresses all
    of them at once, a healthcheck that pings its own node name passes for a dead replica
    while another answers, and Flower shows one worker where there are several.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker -n worker@myapp
        deploy:
          replicas: 3
    ```

    ## Fix
    `command: celery -A myapp worker -n worker@%h`
    """
    view = celery_view(service)
    replicas = service.replicas
    if view is None or replicas is None or replicas < 2:
        return
    setting = view.get("hostname")
    if setting is None or not isinstance(setting.value, str) or "$" in setting.value or has_unknown(setting.value):
        return
    if any(p in setting.value for p in _PER_HOST):
        return
    yield ctx.finding(
        view.span(setting),
        f'service "{service.name}" runs {replicas} replicas with the fixed node name {view.show(setting)}: all of them '
        "are the same node to inspect, remote control, healthchecks and Flower",
    )


# --- VL325 -----------------------------------------------------------------------------------
@rule(
    code="VL325",
    name="redis-password-on-command-line",
    summary="redis-server gets its password with --requirepass on the command line, visible in docker inspect.",
    severity=Severity.INFO,
    hint="Put requirepass in a mounted redis.conf (or an ACL file) instead of the command line.",
    roles=("redis",),
    contexts=PRODUCTION_ONLY,
)
def redis_password_on_command_line(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports `--requirepass` (and `--masterauth`) in a Redis service's command or entrypoint.

    ## Why it matters
    A command-line argument is part of the container's configuration: `docker inspect`,
    `docker compose config` and every tool that reads the container's `Cmd` show the
    password, resolved from the variable. (Not `ps` once the server runs: redis-server 7.0
    and valkey 8.1 overwrite their argument list with the process title, seen in
    /proc/PID/cmdline; an init process such as `init: true`'s keeps its own copy.) A
    `redis.conf` (or ACL file) mounted read-only keeps it out.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        command: redis-server --requirepass ${REDIS_PASSWORD:?}
    ```

    ## Fix
    Mount a `redis.conf` with `requirepass` (or `include` a secret file) and run
    `redis-server /usr/local/etc/redis/redis.conf`.
    """
    for word in service.command_words:
        if word.text in ("--requirepass", "--masterauth"):
            yield ctx.finding(
                service.word_span(word),
                # (the flag is quoted last: a word after it would read as a password to the masker)
                f'Redis service "{service.name}" passes its password on the command line ({word.text}): it shows '
                "in docker inspect and docker compose config",
            )
            return
