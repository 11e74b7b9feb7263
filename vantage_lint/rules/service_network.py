"""VL110, VL112, VL113, VL115, VL116: networks, published ports and container names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from vantage_lint.compose.model import Port, Service
from vantage_lint.compose.nodes import MapNode, ScalarNode, SeqNode
from vantage_lint.compose.unknown import has_unknown, names_in
from vantage_lint.compose.project import Project
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity, Span
from vantage_lint.registry import PRODUCTION_ONLY, rule

ALL_INTERFACES = (None, "", "0.0.0.0", "::")
REDIS_PORT = 6379


# --- shared helpers --------------------------------------------------------------------------
def _profiles(service: Service) -> frozenset[str]:
    node = service.get("profiles")
    if isinstance(node, SeqNode):
        return frozenset(item.text for item in node.items if isinstance(item, ScalarNode))
    return frozenset()


def can_run_together(a: Service, b: Service) -> bool:
    """False when both services belong only to profiles that never overlap (dev vs prod)."""
    pa, pb = _profiles(a), _profiles(b)
    return not (pa and pb and not (pa & pb))


def _host_ip(port: Port) -> str | None:
    ip = (port.host_ip or "").strip()
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    return ip or None


def _port_text(port: Port) -> str:
    node = port.node
    if isinstance(node, ScalarNode):
        return f'"{node.raw}"'
    parts = [f"target: {port.target}"]
    if port.published:
        parts.append(f"published: {port.published}")
    if port.host_ip:
        parts.append(f"host_ip: {port.host_ip}")
    return "{" + ", ".join(parts) + "}"


def _where(span: Span) -> str:
    return f"{span.path}:{span.line}"


# --- VL110 -----------------------------------------------------------------------------------
@rule(
    code="VL110",
    name="default-network-only",
    summary="All services share only the implicit default network.",
    severity=Severity.INFO,
    hint="Declare a named bridge network (networks: {backend: {driver: bridge}}) and attach the services "
         "that talk to each other.",
    scope="project",
    tier="production",
    contexts=PRODUCTION_ONLY,
)
def default_network_only(project: Project, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a project of two or more services where no service declares `networks:` (and
    does not use `network_mode`) and the top-level `networks:` does not configure `default`.
    Every service then sits on the implicit `<project>_default` network.

    ## Why it matters
    On one flat network every container reaches every other: a compromised web front end
    can talk to Redis directly. Named networks document who talks to whom, let you keep the
    broker on a backend network only, and keep their names stable across project renames.

    ## Example
    ```yaml
    services:
      api:
        image: myapp:1.4.2
      redis:
        image: redis:7.2
    ```

    ## Fix
    ```yaml
    services:
      api:
        image: myapp:1.4.2
        networks: [backend]
      redis:
        image: redis:7.2
        networks: [backend]
    networks:
      backend:
        driver: bridge
    ```
    """
    services = [s for s in project.services.values() if s.get("network_mode") is None]
    if len(services) < 2 or project.root is None:
        return
    if any(s.get("networks") is not None for s in project.services.values()):
        return
    top = project.top("networks")
    if top is not None and "default" in top.items:
        return
    names = ", ".join(f'"{s.name}"' for s in services[:5]) + (", ..." if len(services) > 5 else "")
    yield ctx.finding(
        project.root.key_at("services"),
        f"all {len(services)} services ({names}) use only the implicit default network",
        service=None,
    )


# --- VL112 -----------------------------------------------------------------------------------
@rule(
    code="VL112",
    name="scaling-blocker",
    summary="container_name, a static IP or a fixed host port on a service that is, or should be, scaled.",
    severity=Severity.WARNING,
    hint="Remove container_name and static addresses, and publish a port range or no host port.",
)
def scaling_blocker(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Looks for what only one container can have: `container_name`, a static `ipv4_address`
    or `ipv6_address`, and a single fixed published host port. On a service with
    `deploy.replicas` or `scale` above 1 each is an error (Compose refuses the container
    name; the second container cannot take the address or port). On a Celery worker that is
    not scaled yet it is a warning: `docker compose up --scale worker=3` will fail. Workers
    that embed beat (`-B`) are skipped, since they must not be scaled.

    ## Why it matters
    Celery scales by running more worker containers; the seed practice is
    `docker compose up -d --scale celery-worker=3`. A fixed name, address or port makes
    that fail at the moment you need the capacity.

    ## Example
    ```yaml
    services:
      celery-worker:
        image: myapp:1.4.2
        container_name: celery-worker
        command: celery -A myapp worker
    ```

    ## Fix
    Drop `container_name` (reach the service by its service name), static addresses, and
    fixed host ports (publish a range such as `"8000-8003:8000"`, or nothing).
    """
    replicas = service.replicas
    scaled = replicas is not None and replicas > 1
    worker = service.has_role("celery-worker") and not service.has_role("celery-beat")
    if not scaled and not worker:
        return
    name = service.name
    blockers: list[tuple[object, str]] = []
    container_name = service.get("container_name")
    if isinstance(container_name, ScalarNode) and container_name.text:
        blockers.append((container_name, f'container_name "{container_name.text}"'))
    networks = service.get("networks")
    if isinstance(networks, MapNode):
        for net, entry in networks.items.items():
            if not isinstance(entry, MapNode):
                continue
            for key in ("ipv4_address", "ipv6_address"):
                address = entry.get(key)
                if isinstance(address, ScalarNode) and address.text:
                    blockers.append((address, f'static {key} {address.text} on network "{net}"'))
    for port in service.ports:
        published = port.published_range()
        if published is not None and published[0] == published[1]:
            blockers.append((port.node, f"fixed host port {published[0]} ({_port_text(port)})"))
    for node, what in blockers:
        if scaled:
            finding = ctx.finding(
                node,  # type: ignore[arg-type]
                f'service "{name}" runs {replicas} replicas but has {what}: only one container can have it',
            )
            finding.severity = Severity.ERROR
            finding.explicit_severity = True
            yield finding
        else:
            yield ctx.finding(
                node,  # type: ignore[arg-type]
                f'Celery worker "{name}" has {what}: docker compose up --scale {name}=N fails',
            )


# --- VL113 -----------------------------------------------------------------------------------
@rule(
    code="VL113",
    name="published-internal-port",
    summary="A Redis or Flower port is published on all host interfaces.",
    severity=Severity.WARNING,
    hint='Bind the port to loopback ("127.0.0.1:6379:6379") or do not publish it; containers reach it by service name.',
    production=True,
)
def published_internal_port(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a published port of a Redis service (or any port whose container side is 6379)
    or of a Flower service, when it binds all interfaces: no host IP, `0.0.0.0`, `::`, or a
    bare container port (`"6379"`), which gets a random host port on all interfaces.
    `127.0.0.1:` and `[::1]:` pass, as does any other explicit address. A host part the
    deployment supplies (`"${REDIS_BIND}:6379:6379"`, `"${REDIS_HOST_PORT}:6379"`, which may
    hold `127.0.0.1:6380`) is reported at info, saying on which variable it depends; a whole
    port spec from a variable is not judged.

    ## Why it matters
    Other containers reach Redis and Flower over the Compose network; publishing is only for
    the host. On all interfaces, Docker's iptables rules bypass host firewalls such as ufw,
    so the port is reachable from the network: an unauthenticated Redis is taken over in
    minutes, and Flower can revoke tasks and shut workers down.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        ports:
          - "6379:6379"
    ```

    ## Fix
    Remove `ports:` (use the service name from other containers), or bind loopback:
    `"127.0.0.1:6379:6379"`.
    """
    if service.get("network_mode") is not None:
        return
    redis = service.has_role("redis")
    flower = service.has_role("flower")
    for port in service.ports:
        if redis or flower:
            what = f'{"Redis" if redis else "Flower"} service "{service.name}" publishes port {port.target}'
        elif port.target_port() == REDIS_PORT:
            what = f'service "{service.name}" publishes Redis port {port.target}'
        else:
            continue
        if has_unknown(port.target):
            continue  # "${PORTS}": which port, and where, is the deployment's
        ip = _host_ip(port)
        # "${REDIS_PORT}:6379" may be "127.0.0.1:6380:6379" at deploy time: said, a level lower.
        unknown = names_in([port.host_ip, port.published])
        if unknown and ip is None or has_unknown(ip):
            yield ctx.finding(
                port, f"{what} with a host part the deployment supplies ({_port_text(port)}): on every host "
                "interface unless it names a loopback address", depends_on=names_in([port.host_ip, port.published]))
            continue
        if ip not in ALL_INTERFACES:
            continue
        if port.published is None:
            where = "on a random host port on all interfaces"
        elif ip is None:
            where = "on all host interfaces"
        else:
            where = f"on all host interfaces ({ip})"
        yield ctx.finding(port, f"{what} {where} ({_port_text(port)})")


# --- VL115 -----------------------------------------------------------------------------------
class _Published(NamedTuple):
    service: Service
    port: Port
    ip: str | None
    low: int
    high: int


def _family(ip: str) -> int:
    return 6 if ":" in ip else 4


def _ips_conflict(a: str | None, b: str | None) -> bool:
    """Two host addresses overlap: equal, or one of them covers every address of the other's family."""
    if a is None or b is None or a == b:
        return True
    for wild, other in ((a, b), (b, a)):
        if wild == "0.0.0.0" and _family(other) == 4:
            return True
        if wild == "::" and _family(other) == 6:
            return True
    return False


def _show_ip(ip: str | None) -> str:
    return "all interfaces" if ip is None else ip


@rule(
    code="VL115",
    name="duplicate-published-port",
    summary="Two published ports take the same host address and port; the second container fails to start.",
    severity=Severity.ERROR,
    hint="Publish a different host port, or bind each service to a different host IP.",
    scope="project",
)
def duplicate_published_port(project: Project, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Compares every published host port (and port range) of the project, per protocol: two
    bindings conflict when their ranges overlap and their host addresses do (the same IP,
    or either binds all interfaces; `0.0.0.0` covers IPv4 and `::` IPv6 addresses). The
    later binding is reported, naming the first. Services whose profiles never overlap
    (`profiles: [dev]` against `profiles: [prod]`) do not run together and are not compared.

    ## Why it matters
    Docker gives a host port to one container: the second fails with `Bind for 0.0.0.0:8080
    failed: port is already allocated`, usually at the end of a long `up` in production.

    ## Example
    ```yaml
    services:
      api:
        image: myapp:1.4.2
        ports: ["8080:8000"]
      flower:
        image: mher/flower:2.0.1
        ports: ["8080:5555"]
    ```

    ## Fix
    Give each service its own host port (or host IP).
    """
    seen: list[_Published] = []
    # Host parts the deployment supplies, by their written text: the same text twice is the
    # same address and port whatever its value ("${API_PORT}:8000" in two services).
    symbolic: dict[tuple[str | None, str, str], tuple[Service, Port]] = {}
    for service in project.services.values():
        if service.get("network_mode") is not None:
            continue
        for port in service.ports:
            published = port.published_range()
            if published is None:
                if not has_unknown(port.published):
                    continue
                key = (port.host_ip, str(port.published), port.protocol)
                if key not in symbolic:
                    symbolic[key] = (service, port)
                    continue
                other, earlier_port = symbolic[key]
                if can_run_together(other, service):
                    whose = "it already publishes" if other is service else f'service "{other.name}" publishes'
                    ip = _host_ip(port)
                    yield ctx.finding(
                        port,
                        f'service "{service.name}" publishes host port {port.published}/{port.protocol}'
                        f"{f' on {ip}' if ip else ''}, which {whose} too ({_port_text(earlier_port)} at "
                        f"{_where(earlier_port.span)}): whatever the deployment sets, the second container fails "
                        "to start",
                        service=service.name,
                    )
                continue
            entry = _Published(service, port, _host_ip(port), published[0], published[1])
            for earlier in seen:
                if earlier.port.protocol != port.protocol:
                    continue
                if earlier.high < entry.low or entry.high < earlier.low:
                    continue
                if not _ips_conflict(earlier.ip, entry.ip) or not can_run_together(earlier.service, service):
                    continue
                shown = str(entry.low) if entry.low == entry.high else f"{entry.low}-{entry.high}"
                first = f"{_port_text(earlier.port)} at {_where(earlier.port.span)} on {_show_ip(earlier.ip)}"
                if earlier.service is service:
                    clash = f"which it already publishes ({first}): the container fails to start"
                else:
                    clash = (f'already taken by service "{earlier.service.name}" ({first}): '
                             "the second container fails to start")
                yield ctx.finding(
                    port,
                    f'service "{service.name}" publishes host port {shown}/{port.protocol} on '
                    f"{_show_ip(entry.ip)}, {clash}",
                    service=service.name,
                )
                break
            seen.append(entry)


# --- VL116 -----------------------------------------------------------------------------------
@rule(
    code="VL116",
    name="duplicate-container-name",
    summary="Two services share a container_name; Compose refuses.",
    severity=Severity.ERROR,
    hint="Give each service its own container_name, or remove container_name.",
    scope="project",
)
def duplicate_container_name(project: Project, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a `container_name` already used by another service of the project (services
    whose profiles never overlap are not compared). The later service is reported, naming
    the first.

    ## Why it matters
    Docker container names are unique per host: Compose cannot create the second container
    and `up` fails.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        container_name: app
      api:
        image: myapp:1.4.2
        container_name: app
    ```

    ## Fix
    Remove `container_name` (Compose names containers `<project>-<service>-1`) or make each
    one unique.
    """
    seen: dict[str, list[tuple[Service, ScalarNode]]] = {}
    for service in project.services.values():
        node = service.get("container_name")
        if not isinstance(node, ScalarNode) or not node.text.strip():
            continue
        name = node.text.strip()
        for earlier, earlier_node in seen.get(name, []):
            if can_run_together(earlier, service):
                yield ctx.finding(
                    node,
                    f'service "{service.name}" has container_name "{name}", already used by service '
                    f'"{earlier.name}" ({_where(earlier_node.span)})',
                    service=service.name,
                )
                break
        seen.setdefault(name, []).append((service, node))
