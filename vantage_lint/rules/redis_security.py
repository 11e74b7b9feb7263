"""VL216-VL220, VL223, VL224: who can reach a Redis and what they can do there."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.compose.unknown import has_unknown, names_in
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.redis.auth import auth_of, default_user_commands
from vantage_lint.redis.clients import connected_services
from vantage_lint.redis.config import RedisConfig
from vantage_lint.redis.link import anchor, checkable, effective, redis_port, subject
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.secrets import mask

PLACEHOLDERS = frozenset({
    "your-strong-password-here", "changeme", "change-me", "change_me", "password", "redis", "foobared",
    "secret", "admin", "default", "123456", "test", "pass",
})
MIN_PASSWORD_LENGTH = 16
_LOOPBACK = ("127.", "::1", "localhost")


def is_loopback(address: str) -> bool:
    address = address.lstrip("-").strip("[]").lower()
    return address.startswith(_LOOPBACK) or address == "0:0:0:0:0:0:0:1"


def protected_mode_active(conf: RedisConfig) -> bool:
    """Protected mode refuses non-loopback clients only with no password for the default user,
    and before Redis 7.0 only when no ``bind`` is configured (FACTS A.4)."""
    if effective(conf, "protected-mode") != "yes":
        return False
    version = conf.version
    return not (version is not None and version < (7, 0) and conf.get("bind") is not None)


# --- VL216 -------------------------------------------------------------------------------------
@rule(
    code="VL216",
    name="redis-no-auth",
    summary="Redis accepts clients without a password.",
    severity=Severity.WARNING,
    hint="Set `requirepass` from a secret (or an ACL `user default on >password ...` line).",
    scope="redis",
    production=True,
    contexts=PRODUCTION_ONLY,
    supersedes=("VL201",),
)
def redis_no_auth(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a configuration in which the default user needs no password: no `requirepass`
    (or an empty one), no `user default` line with a password, no `aclfile`, and the default
    user not `off`. Command-line flags count (`--requirepass`).

    A Redis service that publishes no port (and does not use the host's network) is reported
    as information: only the containers on its networks can reach it, and VL219 reports a
    Redis open to the host's network without a password as an error. A standalone redis.conf,
    whose exposure cannot be seen, is a warning.

    ## Why it matters
    Any process that can open a connection to Redis (another container on the network, a
    compromised dependency, a published port) can read every key, flush the database or
    change settings at runtime. The classic escalation, `CONFIG SET dir` and `dbfilename` to
    write a file such as `authorized_keys`, is refused by Redis 7.0+ and Valkey by default
    (`enable-protected-configs no`: "can't set protected config", seen on redis-server 7.0
    and valkey 8.1); with that directive set to `yes`, or on Redis 6, it works. The official
    image also compiles protected mode off.

    ## Example
    ```
    bind 0.0.0.0
    protected-mode no
    ```

    ## Fix
    `requirepass` with a long random value, kept out of the repository (mount the file from a
    secret, or pass `--requirepass "$$REDIS_PASSWORD"` from the environment).
    """
    if not checkable(conf):
        return
    auth = auth_of(conf)
    if auth.required is not False:
        return
    if auth.mechanism == "user" and auth.directive is not None:
        detail, at = "the user default line has nopass", auth.directive.name_span
    elif auth.directive is not None:
        detail, at = "`requirepass` is empty", anchor(conf, "requirepass")
    else:
        detail, at = "no `requirepass`, no user default with a password, no aclfile", anchor(conf)
    message = f"{subject(conf)} accepts clients without a password ({detail})"
    service = conf.service
    # Unpublished: only containers on its networks reach it (a published one is VL219).
    unpublished = service is not None and not service.ports and (service.text("network_mode") or "").strip() != "host"
    if unpublished:
        message += "; it publishes no port, so only containers on its networks can connect"
    yield ctx.finding(at, message, depends_on=conf.open_options, severity=Severity.INFO if unpublished else None)


# --- VL217 -------------------------------------------------------------------------------------
@rule(
    code="VL217",
    name="redis-weak-password",
    summary="The Redis password is a known placeholder or shorter than 16 characters.",
    severity=Severity.ERROR,
    hint="Use a random password of at least 16 characters (e.g. openssl rand -base64 32) from a secret.",
    scope="redis",
    contexts=PRODUCTION_ONLY,
)
def redis_weak_password(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Checks the default user's passwords (`requirepass`, `>password` of a `user default` line,
    `--requirepass`): a placeholder from samples and docs (`your-strong-password-here`,
    `changeme`, `password`, `redis`, `foobared`, ...) or fewer than 16 characters is reported.
    Values that come from a variable or a template are not judged. The value is never printed.

    ## Why it matters
    Redis answers AUTH very fast, so short passwords fall to brute force, and placeholders
    copied from a sample are the first guesses every scanner tries.

    ## Example
    ```
    requirepass your-strong-password-here
    ```

    ## Fix
    Generate a long random value and keep it out of the repository.
    """
    if not checkable(conf):
        return
    for password in auth_of(conf).passwords:
        if password.templated or not password.value:
            continue
        value = password.value
        if value.lower() in PLACEHOLDERS:
            reason = "is a well-known placeholder"
        elif len(value) < MIN_PASSWORD_LENGTH:
            reason = f"has only {len(value)} characters"
        else:
            continue
        yield ctx.finding(password.span, f"the password of {subject(conf)} ({mask(value)}) {reason}")


# --- VL218 -------------------------------------------------------------------------------------
@rule(
    code="VL218",
    name="redis-requirepass-ignored",
    summary="`requirepass` is set together with `aclfile` or a `user default` line, and Redis ignores it.",
    severity=Severity.ERROR,
    hint="Set the default user's password in one place: the user default line or the ACL file.",
    scope="redis",
)
def redis_requirepass_ignored(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports `requirepass` when the same configuration also has `aclfile` or a `user default`
    line. Verified with Redis 6.2 and 7.0: a `user default ... >bar` line overrides
    `requirepass foo` whatever the order, and with `aclfile` requirepass is ignored.

    ## Why it matters
    The password everyone believes in (and puts in connection strings) is not the one Redis
    checks: clients fail with WRONGPASS, or the default user stays open (`nopass` in the ACL
    file) while the config seems to require a password.

    ## Example
    ```
    requirepass 6c0d1e7f9b2a4c58a1e3
    user default on nopass ~* +@all
    ```

    ## Fix
    Remove `requirepass` and give the password in the `user default` line (or the ACL file).
    """
    if not checkable(conf):
        return
    auth = auth_of(conf)
    ignored, by = auth.ignored_requirepass, auth.ignored_by
    if ignored is None or by is None:
        return
    cause = (f"aclfile {by.args[0] if by.args else ''} is set" if by.canonical == "aclfile"
             else "a user default line defines the default user")
    where = f" (line {by.span.line})" if by.source is not None else " (command line)"
    yield ctx.finding(
        ignored.arg_spans[0] if ignored.arg_spans else ignored.span,
        f"`requirepass` of {subject(conf)} is ignored because {cause}{where}",
    )


# --- VL219 -------------------------------------------------------------------------------------
@rule(
    code="VL219",
    name="redis-open-to-network",
    summary="Redis has no password, its port is published on the host, and protected mode does not stop remote clients.",
    severity=Severity.ERROR,
    hint="Require a password, and do not publish 6379 (or bind it to 127.0.0.1:6379:6379).",
    scope="redis",
    supersedes=("VL113", "VL216"),
)
def redis_open_to_network(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a Redis service with no auth whose Redis port is published on a non-loopback host
    address while protected mode is off: `protected-mode no`, no config file (the official
    image compiles protected mode off), or Redis 6 with a `bind` line (which switched it off
    before 7.0). A `bind` limited to loopback keeps it unreachable and passes. When the host
    address, `bind`, `protected-mode` or extra flags come from a variable the deployment sets
    (`"${REDIS_BIND}:6379:6379"`), the finding is a warning that names the variable.

    ## Why it matters
    Anyone who can reach the host's port can read, change or delete every key, and
    unauthenticated Redis instances on the internet are found by scanners within minutes.
    On Redis 6 (or with `enable-protected-configs yes`) they also plant SSH keys or cron jobs
    through `CONFIG SET dir`; Redis 7.0+ and Valkey refuse that by default.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2-alpine
        ports:
          - "6379:6379"
    ```

    ## Fix
    Remove the port (other containers reach Redis over the network) or publish it on
    `127.0.0.1`, and set a password.
    """
    service = conf.service
    if service is None or not checkable(conf) or auth_of(conf).required is not False:
        return
    if protected_mode_active(conf):
        return
    bind = conf.get("bind")
    closed = bind is not None and bind.args and all(is_loopback(a) for a in bind.args if not has_unknown(a))
    if closed and not conf.unknown("bind"):
        return
    port = redis_port(conf)
    for published in service.ports:  # type: ignore[attr-defined]
        if published.target_port() != port or (published.host_ip and is_loopback(published.host_ip)):
            continue
        # A host address, bind list or protected-mode the deployment supplies may close it:
        # reported a level lower, saying on what it depends.
        unknown = (*names_in([published.host_ip]), *(conf.unknown("bind") if closed else ()),
                   *conf.unknown("protected-mode"), *conf.open_options)
        host = published.host_ip or "all interfaces"
        why = ("protected-mode no" if conf.value("protected-mode") == "no"
               else f"protected-mode {conf.value('protected-mode')}" if conf.unknown("protected-mode")
               else "no config file, and the official image compiles protected mode off" if conf.source is None
               else "protected mode off")
        escalation = ""
        if (conf.version is not None and conf.version < (7, 0)) or effective(conf, "enable-protected-configs") in ("yes", "local"):
            escalation = ", and write files on the server through CONFIG SET dir"
        yield ctx.finding(
            published.span,
            f"{subject(conf)} has no password and publishes port {port} on {host} with {why}: anyone who "
            f"reaches the host can read and write every key{escalation}",
            depends_on=unknown,
        )


# --- VL220 -------------------------------------------------------------------------------------
@rule(
    code="VL220",
    name="redis-bind-loopback-only",
    summary="Redis binds only to loopback (the sample redis.conf's `bind 127.0.0.1 -::1`) while other services connect to it.",
    severity=Severity.ERROR,
    hint="Use bind 0.0.0.0 (or * -::*) inside the container and protect it with a password.",
    scope="redis",
)
def redis_bind_loopback_only(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a `bind` line that lists only loopback addresses (`127.0.0.1`, `::1`,
    `localhost`) in the config of a Redis service that other services connect to (a URL
    naming it, a `REDIS_HOST`-style setting, or `depends_on`). Also reports protected mode on
    with no password in that situation, which refuses the same clients.

    ## Why it matters
    Inside a container, loopback is the container itself: the other services' connections
    are refused, and the stack fails at its first Redis call. Copying the sample redis.conf
    unchanged brings in exactly this line (and `protected-mode yes`).

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2-alpine
        command: ["redis-server", "--bind", "127.0.0.1", "-::1", "--requirepass", "${REDIS_PASSWORD}"]
      worker:
        image: myapp:1.4.2
        environment:
          CELERY_BROKER_URL: redis://:${REDIS_PASSWORD}@redis:6379/0
    ```

    ## Fix
    `bind 0.0.0.0` (or `bind * -::*`), with a password set.
    """
    service = conf.service
    if service is None or not checkable(conf):
        return
    clients = connected_services(service)  # type: ignore[arg-type]
    if not clients:
        return
    names = ", ".join(f'"{c[0].name}"' for c in clients[:4]) + (" ..." if len(clients) > 4 else "")
    bind = conf.get("bind")
    if bind is not None and bind.args and all(is_loopback(a) for a in bind.args):
        yield ctx.finding(
            bind.arg_spans[0] if bind.arg_spans else bind.span,
            f"{subject(conf)} listens only on loopback (bind {' '.join(bind.args)}) but {names} "
            f"{'connects' if len(clients) == 1 else 'connect'} to it from other containers: their connections are refused",
        )
    elif protected_mode_active(conf) and auth_of(conf).required is False:
        yield ctx.finding(
            anchor(conf, "protected-mode"),
            f"{subject(conf)} runs in protected mode with no password, so it refuses {names} connecting from "
            "other containers (DENIED Redis is running in protected mode)",
            hint="Set a password (protected mode then stops applying), or protected-mode no behind a private network.",
            depends_on=conf.open_options,
        )


# --- VL223 -------------------------------------------------------------------------------------
@rule(
    code="VL223",
    name="redis-dangerous-commands",
    summary="The default user can run FLUSHALL, FLUSHDB, CONFIG, DEBUG or KEYS; `rename-command` is deprecated in favour of ACLs.",
    severity=Severity.INFO,
    hint="Give the application a user without -@dangerous commands, and replication and monitoring users of their own.",
    scope="redis",
    tier="production",
    contexts=PRODUCTION_ONLY,
)
def redis_dangerous_commands(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Works out which of FLUSHALL, FLUSHDB, CONFIG, DEBUG and KEYS the default user may run:
    all of them with no `user default` line, else what its ACL rules allow (`-@dangerous`,
    `-flushall`, `+@admin`, ...), minus commands removed with `rename-command X ""` and,
    on Redis 7, DEBUG unless `enable-debug-command` allows it. Users defined in an `aclfile`
    are not known and pass. Each `rename-command` line is reported as deprecated.

    ## Why it matters
    One mistaken or malicious `FLUSHALL` empties the broker and cache; `CONFIG SET` rewrites
    persistence and security at runtime; `KEYS *` blocks a large instance for seconds.
    `rename-command` has been deprecated since Redis 6.0 in favour of ACLs: renamed commands
    break AOF replays and replicas.

    Taking `-@dangerous` from the default user is not free: the category also holds INFO,
    ROLE, PSYNC, REPLCONF, SYNC, MONITOR and SLOWLOG (`ACL CAT dangerous` on redis-server 7.0
    and valkey 8.1). Replicas and Sentinels that authenticate as that user can no longer
    replicate or monitor, and an `redis-cli info` healthcheck prints NOPERM and still exits
    0. The advice is therefore a user per job, not one stripped default user. This is info
    (a warning in the production preset, never an error): which commands a deployment may
    give up is its own call.

    ## Example
    ```
    requirepass 6c0d1e7f9b2a4c58a1e3d5f7
    rename-command FLUSHALL ""
    ```

    ## Fix
    ```
    user default off
    user app on >app-password ~* &* +@all -@dangerous
    user replica on >replica-password +psync +replconf +ping
    user monitor on >monitor-password +ping +info +role +client|list +slowlog
    ```
    with the application, the replicas (`masteruser`/`masterauth`) and the healthcheck each
    using its own user, and no `rename-command` lines.
    """
    if not checkable(conf):
        return
    for directive in conf.all("rename-command"):
        yield ctx.finding(
            directive.name_span,
            f"{subject(conf)} uses rename-command {' '.join(directive.args[:1])}: deprecated since Redis 6.0, "
            "and renamed commands break AOF replays and replicas",
            hint="Remove rename-command and deny the command with an ACL for the application's user (e.g. -flushall).",
        )
    allowed = default_user_commands(conf)
    if not allowed:
        return
    renamed = {d.args[0].lower() for d in conf.all("rename-command") if d.args}
    allowed -= renamed
    version = conf.version
    if (version is None or version >= (7, 0)) and (effective(conf, "enable-debug-command") or "no") == "no":
        allowed.discard("debug")
    if not allowed:
        return
    shown = ", ".join(c.upper() for c in ("flushall", "flushdb", "config", "debug", "keys") if c in allowed)
    yield ctx.finding(
        anchor(conf, "user"),
        f"the default user of {subject(conf)} can run {shown}",
    )


# --- VL224 -------------------------------------------------------------------------------------
@rule(
    code="VL224",
    name="redis-tls-disabled",
    summary="Redis has no `tls-port`: clients and passwords travel in plain text.",
    severity=Severity.INFO,
    hint="Set tls-port 6379, port 0 and the tls-cert-file/tls-key-file/tls-ca-cert-file, and use rediss:// URLs.",
    scope="redis",
    production=True,
    tier="production",
    contexts=PRODUCTION_ONLY,
)
def redis_tls_disabled(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a configuration without a `tls-port` (or with `tls-port 0`).

    ## Why it matters
    Without TLS, the AUTH password and every key and value cross the network in clear text,
    readable by anything that can sniff the Docker network or the link between hosts.
    Clients need `rediss://` URLs with `ssl_cert_reqs`: VL321 reports Celery URLs without
    it (a result backend refuses to start, a broker skips certificate checks).

    ## Example
    ```
    port 6379
    requirepass 6c0d1e7f9b2a4c58a1e3d5f7
    ```

    ## Fix
    ```
    port 0
    tls-port 6379
    tls-cert-file /tls/redis.crt
    tls-key-file /tls/redis.key
    tls-ca-cert-file /tls/ca.crt
    ```
    """
    if not checkable(conf):
        return
    value = conf.value("tls-port")
    if value not in (None, "0"):
        return
    yield ctx.finding(anchor(conf, "tls-port"), f"{subject(conf)} has no tls-port: passwords and data cross the network in plain text",
                      depends_on=conf.open_options if value is None else ())
