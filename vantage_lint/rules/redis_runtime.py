"""VL230, VL231, VL235: container settings that break a Redis at run time (a read-only data
directory, host sysctls, host networking with published ports)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import MapNode, ScalarNode, SeqNode
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity, Span
from vantage_lint.redis.config import RedisConfig
from vantage_lint.redis.link import OFFICIAL, checkable, data_dir, effective, link_of, subject
from vantage_lint.registry import rule
from vantage_lint.rules.redis_persistence import aof_on, persistence_on, rdb_on


def _covers(target: str, path: str) -> bool:
    target = posixpath.normpath(target) if target else ""
    return bool(target) and (path == target or path.startswith(target.rstrip("/") + "/") or target == "/")


def _read_only_root(service: Service) -> bool:
    node = service.get("read_only")
    return isinstance(node, ScalarNode) and node.value in (True, "true", "True")


# --- VL230 -------------------------------------------------------------------------------------
@rule(
    code="VL230",
    name="redis-persistence-cannot-write",
    summary="AOF or RDB is on but the data directory is read-only (read_only: true outside any volume, or a :ro mount).",
    severity=Severity.ERROR,
    hint="Mount a writable named volume at the data directory (volumes: [\"redis-data:/data\"]) or turn persistence off.",
    scope="redis",
)
def redis_persistence_cannot_write(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    When AOF or RDB is on, resolves the data directory (`dir`) and reports it when Redis
    cannot write there: the service has `read_only: true` and no volume or tmpfs covers the
    directory (the official image's `VOLUME /data` does), or the mount that covers it is
    read-only (`:ro`).

    ## Why it matters
    Seen on redis-server 7.0 and valkey 8.1 with a data directory they cannot write: with AOF
    on, the server exits at start (`Can't open or create append-only dir`); with RDB only,
    every BGSAVE fails and, with `stop-writes-on-bgsave-error yes` (the default), Redis answers
    every write and every PING with `MISCONF`, while `redis-cli ping` still exits 0, so a
    plain ping healthcheck stays green.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        read_only: true
        command: ["redis-server", "--dir", "/var/lib/redis", "--appendonly", "yes"]
    ```

    ## Fix
    ```yaml
        volumes:
          - redis-data:/var/lib/redis
    ```
    """
    service = conf.service
    if service is None or not checkable(conf) or not persistence_on(conf):
        return
    directory = data_dir(conf)
    covering = [m for m in service.mounts if _covers(m.target, directory)]  # type: ignore[attr-defined]
    best = max(covering, key=lambda m: len(m.target), default=None)
    tmpfs = _tmpfs_targets(service)  # type: ignore[arg-type]
    if best is None and any(_covers(t, directory) for t in tmpfs):
        return
    if best is not None:
        if not best.read_only:
            return
        at, why = best.span, f"the mount {best.target} is read-only"
    else:
        link = link_of(service)
        if link is not None and link.profile is OFFICIAL and directory == "/data":
            return  # the image's anonymous volume is writable under read_only: true
        if not _read_only_root(service):  # type: ignore[arg-type]
            return
        at, why = service.span_of("read_only"), "read_only: true makes it read-only and no volume covers it"  # type: ignore[attr-defined]
    if aof_on(conf):
        effect = "redis-server exits at start (Can't open or create append-only dir)"
    elif (effective(conf, "stop-writes-on-bgsave-error") or "yes") == "yes":
        effect = ("every BGSAVE fails and Redis then answers writes and PING with MISCONF, while a plain "
                  "redis-cli ping healthcheck still exits 0")
    else:
        effect = "every BGSAVE fails silently (stop-writes-on-bgsave-error no): nothing is persisted"
    what = "AOF and RDB" if aof_on(conf) and rdb_on(conf) else "AOF" if aof_on(conf) else "RDB snapshots"
    yield ctx.finding(at, f"{subject(conf)} writes {what} to {directory}, but {why}: {effect}")


def _tmpfs_targets(service: Service) -> list[str]:
    node = service.get("tmpfs")
    items = node.items if isinstance(node, SeqNode) else [node] if isinstance(node, ScalarNode) else []
    return [posixpath.normpath(i.text.split(":", 1)[0]) for i in items if isinstance(i, ScalarNode) and i.text]


# --- VL231 -------------------------------------------------------------------------------------
# Sysctls with a namespace of their own, which runc lets a container set
# (libcontainer/configs/validate/validator.go): everything else is the host's.
_NAMESPACED_PREFIXES = ("net.", "fs.mqueue.", "kernel.msg", "kernel.shm")
_NAMESPACED = frozenset({"kernel.sem", "kernel.domainname", "kernel.hostname"})


def _sysctls(service: Service) -> list[tuple[str, object]]:
    """(name, node) of each entry of ``sysctls`` (map or ``name=value`` list)."""
    node = service.get("sysctls")
    found: list[tuple[str, object]] = []
    if isinstance(node, MapNode):
        for name in node.items:
            found.append((str(name), node.keys[name]))
    elif isinstance(node, SeqNode):
        for item in node.items:
            if isinstance(item, ScalarNode) and item.text:
                found.append((item.text.split("=", 1)[0].strip(), item))
    return found


@rule(
    code="VL231",
    name="host-sysctl-in-container",
    summary="`sysctls:` sets a kernel setting that is not namespaced (vm.overcommit_memory): the container cannot start.",
    severity=Severity.ERROR,
    hint="Set it on the host instead (/etc/sysctl.d/, e.g. vm.overcommit_memory = 1) and remove it from sysctls.",
)
def host_sysctl_in_container(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports `sysctls:` entries that belong to the host kernel, not to the container: all
    `vm.*` (Redis's advice `vm.overcommit_memory = 1` is the usual one), and any `kernel.*` or
    `fs.*` outside the namespaced ones (`kernel.msg*`, `kernel.sem`, `kernel.shm*`,
    `fs.mqueue.*`); `net.*` is namespaced and passes.

    ## Why it matters
    runc checks every sysctl before it creates the container and refuses a non-namespaced
    one: `OCI runtime create failed: sysctl "vm.overcommit_memory" is not in a separate kernel
    namespace`, so the service never starts (runc's `libcontainer/configs/validate`; not
    reproduced here, where no Docker daemon runs). Redis's warning asks for the setting on
    the host, where it applies to every container.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        sysctls:
          vm.overcommit_memory: 1
    ```

    ## Fix
    Remove the entry and set `vm.overcommit_memory = 1` in the host's `/etc/sysctl.d/`.
    """
    for name, node in _sysctls(service):
        lowered = name.lower()
        if lowered in _NAMESPACED or lowered.startswith(_NAMESPACED_PREFIXES):
            continue
        if not lowered.startswith(("vm.", "kernel.", "fs.")):
            continue
        yield ctx.finding(
            node if isinstance(node, Span) else getattr(node, "span"),
            f'service "{service.name}" sets the host sysctl {name} in sysctls: runc refuses it ("not in a '
            'separate kernel namespace") and the container does not start',
        )


# --- VL235 -------------------------------------------------------------------------------------
@rule(
    code="VL235",
    name="host-network-with-ports",
    summary="`network_mode: host` with `ports:`: Docker discards the ports and the service listens on every host interface.",
    severity=Severity.WARNING,
    hint="Remove ports: (they do nothing with host networking), or drop network_mode: host and keep the ports.",
)
def host_network_with_ports(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports `ports:` on a service with `network_mode: host`. An error for a Redis service
    without a password whose `ports:` entry is loopback-only, since that entry is what makes
    the file look safe.

    ## Why it matters
    With host networking the container uses the host's network stack: Docker documents that
    published ports are discarded, so the service listens wherever the process binds, on
    every host interface for Redis's default `bind * -::*` in the official image. A
    `127.0.0.1:6379:6379` entry reads as "local only" and restricts nothing.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        network_mode: host
        ports:
          - "127.0.0.1:6379:6379"
    ```

    ## Fix
    Drop `network_mode: host` (other services reach Redis by name on a Compose network), or
    drop `ports:` and bind Redis itself to the address you want (`--bind 127.0.0.1`).
    """
    if (service.text("network_mode") or "").strip() != "host" or not service.ports:
        return
    loopback = all(p.host_ip and p.host_ip.startswith(("127.", "::1", "[::1]", "localhost")) for p in service.ports)
    conf = getattr(service, "redis_config", None)
    open_redis = False
    if conf is not None and service.has_role("redis"):
        from vantage_lint.redis.auth import auth_of

        open_redis = auth_of(conf).required is False
    node = service.get("ports")
    at = node.span if node is not None else service.key_span
    if open_redis and loopback:
        finding = ctx.finding(
            at,
            f'Redis service "{service.name}" uses network_mode: host, so Docker discards its loopback-only ports: '
            "Redis, with no password, listens on every host interface",
            hint="Drop network_mode: host, or bind Redis to 127.0.0.1 and set a password.",
        )
        finding.severity = Severity.ERROR
        finding.explicit_severity = True
        yield finding
        return
    yield ctx.finding(
        at,
        f'service "{service.name}" uses network_mode: host, so Docker discards its ports: the service listens '
        "on the host's interfaces directly" + (" (the loopback-only entries restrict nothing)" if loopback else ""),
    )


# --- VL236 -------------------------------------------------------------------------------------
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"})


@rule(
    code="VL236",
    name="redis-localhost-from-bridge-network",
    summary="A service on a Compose network connects to redis://localhost while the Redis runs with network_mode: host.",
    severity=Severity.ERROR,
    hint="Reach the host-network Redis through the host: extra_hosts: [\"host.docker.internal:host-gateway\"] and redis://host.docker.internal:6379.",
)
def redis_localhost_from_bridge_network(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports `redis://localhost` (or `127.0.0.1`, `::1`) URLs in a service that has its own
    network namespace (no `network_mode: host`) when a Redis service of the project runs
    with `network_mode: host`, the usual sign that the URL was meant for that Redis.

    ## Why it matters
    Inside a container on a Compose network, `localhost` is the container itself. The Redis
    listens in the host's network namespace, so the connection is refused; it worked on the
    developer's machine only when the client ran outside Docker.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        network_mode: host
      worker:
        image: myapp:1.4.2
        environment:
          CELERY_BROKER_URL: redis://localhost:6379/0
    ```

    ## Fix
    Run Redis on the Compose network and use `redis://redis:6379/0`, or keep it on the host
    network and add `extra_hosts: ["host.docker.internal:host-gateway"]` to the client with
    `redis://host.docker.internal:6379/0`.
    """
    from vantage_lint.redis.clients import service_urls

    if (service.text("network_mode") or "").strip():
        return  # host networking, or another container's namespace: localhost may be right
    hosts = [s.name for s in service.project.services.values()
             if s is not service and s.has_role("redis") and (s.text("network_mode") or "").strip() == "host"]
    if not hosts:
        return
    for url in service_urls(service):
        if url.host in _LOCAL_HOSTS:
            yield ctx.finding(
                url.span,
                f'{url.setting} of service "{service.name}" connects to {url.host}, but the Redis service '
                f'"{hosts[0]}" runs with network_mode: host: localhost in this container is the container itself, '
                "so the connection is refused",
            )
