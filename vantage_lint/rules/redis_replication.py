"""VL232-VL234: replicas and Sentinels that cannot do their job."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from vantage_lint.compose.model import Service
from vantage_lint.compose.unknown import has_unknown
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.redis.auth import auth_of
from vantage_lint.redis.config import RedisConfig
from vantage_lint.redis.link import checkable, effective, mounted_file, subject
from vantage_lint.registry import rule


def _service_named(conf: RedisConfig, host: str) -> Service | None:
    service = conf.service
    project = getattr(service, "project", None)
    if project is None:
        return None
    for other in project.services.values():
        if other is not service and host.lower() in {n.lower() for n in other.host_names}:
            return other
    return None


# --- VL232 -------------------------------------------------------------------------------------
@rule(
    code="VL232",
    name="redis-replica-without-masterauth",
    summary="A replica of a password-protected master has no masterauth: replication never starts.",
    severity=Severity.ERROR,
    hint="Set masterauth (and masteruser for an ACL user) on the replica to the master's password, from the same secret.",
    scope="redis",
)
def redis_replica_without_masterauth(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reads `replicaof <host> <port>` (or `--replicaof`, `slaveof`) of a Redis service, finds
    the Compose service the host names, and reports the line when that master requires a
    password (`requirepass`, a `user default` line with one, or `user default off`) while the
    replica has no `masterauth` (Valkey: `primaryauth`).

    ## Why it matters
    The replica connects, the master answers `NOAUTH Authentication required` to its PSYNC,
    and the replica retries forever (seen on redis-server 7.0 and valkey 8.1:
    `master_link_status:down`). The replica serves its empty (or stale) dataset to readers
    and a failover to it loses everything.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        command: ["redis-server", "--requirepass", "${REDIS_PASSWORD}"]
      replica:
        image: redis:7.2
        command: ["redis-server", "--replicaof", "redis", "6379"]
    ```

    ## Fix
    `command: ["redis-server", "--replicaof", "redis", "6379", "--masterauth", "${REDIS_PASSWORD}"]`.
    """
    if conf.service is None or not checkable(conf):
        return
    replicaof = conf.get("replicaof")
    if replicaof is None or len(replicaof.args) != 2 or replicaof.args[0].lower() == "no":
        return
    if effective(conf, "masterauth"):
        return
    master = _service_named(conf, replicaof.args[0])
    master_conf = getattr(master, "redis_config", None) if master is not None else None
    if master_conf is None or auth_of(master_conf).required is not True:
        return
    yield ctx.finding(
        replicaof.arg_spans[0] if replicaof.arg_spans else replicaof.span,
        f'{subject(conf)} replicates "{master.name}", which requires a password, but has no masterauth: '  # type: ignore[union-attr]
        "the master answers NOAUTH and replication never starts",
    )


# --- VL233 -------------------------------------------------------------------------------------
def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@rule(
    code="VL233",
    name="sentinel-hostname-without-resolve",
    summary="`sentinel monitor` names a host by name without `sentinel resolve-hostnames yes`: Sentinel refuses its config.",
    severity=Severity.ERROR,
    hint="Add `sentinel resolve-hostnames yes` (and `sentinel announce-hostnames yes`) to the Sentinel config.",
    scope="redis",
)
def sentinel_hostname_without_resolve(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    In a Sentinel config, reports each `sentinel monitor <name> <host> <port> <quorum>` whose
    host is a name (a Compose service name such as `redis`), not an IP address, when the
    file does not turn `sentinel resolve-hostnames` on (anywhere in the file: seen on both
    servers, a `resolve-hostnames yes` after the monitor line still counts).

    ## Why it matters
    Without `resolve-hostnames` Sentinel accepts only addresses: it stops with `*** FATAL CONFIG FILE ERROR ***` at the monitor line
    (seen on redis-server 7.0 and valkey 8.1 in Sentinel mode). In Compose, service names are
    the only stable way to reach the master.

    ## Example
    ```
    sentinel monitor mymaster redis 6379 2
    ```

    ## Fix
    ```
    sentinel resolve-hostnames yes
    sentinel announce-hostnames yes
    sentinel monitor mymaster redis 6379 2
    ```
    """
    if conf.kind != "sentinel":
        return
    resolve = False
    lines = [(d, [a.lower() for a in d.args]) for d in conf.all("sentinel")]
    for _directive, args in lines:
        if args[:1] == ["resolve-hostnames"] and len(args) == 2:
            resolve = args[1] == "yes"  # the last one wins, wherever it stands
    if resolve:
        return
    for directive, args in lines:
        if args[:1] == ["monitor"] and len(args) >= 4 and not _is_address(directive.args[2]):
            yield ctx.finding(
                directive.arg_spans[2] if len(directive.arg_spans) > 2 else directive.span,
                f"sentinel monitor {directive.args[1]} names the host {directive.args[2]!r}, but resolve-hostnames "
                "is off: Sentinel stops with FATAL CONFIG FILE ERROR",
            )


# --- VL234 -------------------------------------------------------------------------------------
_SENTINELS = ("redis-sentinel", "valkey-sentinel")
_SERVERS = ("redis-server", "valkey-server")


def sentinel_config_path(service: Service) -> str | None:
    """The config file a Sentinel service starts with (``redis-sentinel FILE`` or
    ``redis-server FILE --sentinel``), or None when the service runs no Sentinel."""
    from vantage_lint.shell import basename

    words = [w.text for w in service.command_words]
    for i, word in enumerate(words[:-1]):
        name = basename(word)
        if name in _SENTINELS or (name in _SERVERS and "--sentinel" in words[i + 1:]):
            path = words[i + 1]
            return None if path.startswith("-") or "$" in path or has_unknown(path) else path
    return None


@rule(
    code="VL234",
    name="sentinel-config-read-only",
    summary="A Sentinel's config file is mounted read-only: Sentinel exits at start.",
    severity=Severity.ERROR,
    hint="Mount the Sentinel config writable (a volume or a writable bind mount), or copy it to a writable path at start.",
)
def sentinel_config_read_only(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    For a service that runs `redis-sentinel FILE` (or `redis-server FILE --sentinel`, and the
    Valkey equivalents), finds the mount that provides FILE and reports it when it is
    read-only: `:ro`, `read_only: true`, or a Compose `configs:`/`secrets:` entry (always
    read-only).

    ## Why it matters
    Sentinel writes its state (the current master, replicas, other Sentinels, epochs) into
    its config file, and refuses to start when it cannot: `Sentinel config file ... is not
    writable ... Exiting...` (seen on redis-server 7.0 and valkey 8.1). The container
    restarts in a loop and there is no failover.

    ## Example
    ```yaml
    services:
      sentinel:
        image: redis:7.2
        command: ["redis-sentinel", "/etc/redis/sentinel.conf"]
        volumes:
          - ./sentinel.conf:/etc/redis/sentinel.conf:ro
    ```

    ## Fix
    Mount a folder writable and copy the reviewed file into it at start
    (`sh -c "cp /config/sentinel.conf /data/sentinel.conf && exec redis-sentinel /data/sentinel.conf"`),
    or mount the file without `:ro`.
    """
    path = sentinel_config_path(service)
    if path is None:
        return
    found = mounted_file(service, path)
    if found is None:
        return
    mount = found.mount
    how = ("a Compose config or secret, which is always read-only" if mount is None
           else "mounted read-only" if mount.read_only else None)
    if how is None:
        return
    yield ctx.finding(
        found.node.span,
        f'Sentinel service "{service.name}" starts with {found.container_path}, {how}: Sentinel rewrites its '
        "config file and exits at start when it cannot",
    )
