"""VL102, VL103, VL126: memory and CPU limits and reservations."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.compose.interpolation import deployment_choice
from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import ScalarNode
from vantage_lint.compose.units import compose_bytes, human_bytes
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.rules.service_health import is_one_shot


@rule(
    code="VL102",
    name="missing-resource-limits",
    summary="The service has no memory limit or no cpus limit.",
    severity=Severity.WARNING,
    hint='Set deploy.resources.limits.memory and .cpus (e.g. memory: 512M, cpus: "1.0").',
    contexts=PRODUCTION_ONLY,
    summarised="have no memory or cpus limit",
)
def missing_resource_limits(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a service without a memory limit or without a cpus limit, read from
    `deploy.resources.limits` or the legacy `mem_limit` / `cpus` keys (both are applied by
    `docker compose up`). A limit of `0` means unlimited and is reported too.

    One-shot jobs (a migration, a bootstrap step; see VL119) are not reported.

    Nearly every service of nearly every stack has no limits, so in the recommended preset
    the services of one file are reported once, at info, in one finding that names them.
    Two cases stay warnings on their own: a Celery worker with no memory limit (it runs
    whatever the tasks do, and a prefork pool grows with every leak) and a limit written as
    `0`, which means unlimited (information when a variable sets it, `${CPUS:-0}`: the
    deployment chooses). The production preset reports every service.

    ## Why it matters
    Without a memory limit one leaking process (a Celery task, a Redis without `maxmemory`)
    takes all the host's memory until the kernel's OOM killer picks a victim, which may be
    another service. Without a cpus limit a busy worker starves its neighbours, and tools
    that size themselves from the CPU count (Celery's default concurrency) see every host CPU.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        deploy:
          resources:
            limits:
              memory: 1G
    ```

    ## Fix
    ```yaml
        deploy:
          resources:
            limits:
              cpus: "1.0"
              memory: 1G
    ```
    """
    if is_one_shot(service):
        return  # a one-shot job: it exits by design (compose/kind.py)
    missing: list[str] = []
    zero: list[tuple[str, ScalarNode]] = []
    memory_node = service.memory_limit_node
    if memory_node is None:
        missing.append("memory")
    elif isinstance(memory_node, ScalarNode) and service.memory_limit == 0:
        zero.append(("memory", memory_node))
    cpus_node = service.cpus_limit_node
    if cpus_node is None:
        missing.append("cpus")
    elif isinstance(cpus_node, ScalarNode) and service.cpus_limit == 0:
        zero.append(("cpus", cpus_node))
    name = service.name
    if missing:
        what = " and no ".join(f"{m} limit" for m in missing)
        present = ""
        if len(missing) == 1:
            other = memory_node if missing[0] == "cpus" else cpus_node
            if isinstance(other, ScalarNode):
                present = f" (its {'memory' if missing[0] == 'cpus' else 'cpus'} limit is {other.text})"
        worker = "memory" in missing and "celery-worker" in service.roles
        yield ctx.finding(
            service.span_of("deploy", "resources", "limits", missing[0]),
            f'service "{name}" has no {what}{present}'
            + (": a Celery worker runs whatever its tasks do, and one leak takes the host's memory" if worker else ""),
            severity=Severity.WARNING if worker else None,  # a case that matters: never summarised
        )
    for kind, node in zero:
        # `cpus: ${WEB_CPUS:-0}`: 0 is the file's fallback; the deployment sets the limit.
        choice = deployment_choice(service.project, node.raw, "the limit")
        yield ctx.finding(
            node, f'service "{name}" sets its {kind} limit to {node.text}, which means unlimited{choice}',
            severity=Severity.INFO if choice else Severity.WARNING)  # written in the file: never summarised


@rule(
    code="VL103",
    name="missing-resource-reservations",
    summary="The service reserves no memory.",
    severity=Severity.INFO,
    hint="Set deploy.resources.reservations.memory to what the service needs at rest, below its limit.",
    tier="production",
    contexts=PRODUCTION_ONLY,
)
def missing_resource_reservations(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a service without a memory reservation (`deploy.resources.reservations.memory`
    or legacy `mem_reservation`), as information in the `production` preset.
    `reservations.cpus` is not checked: Docker Compose ignores it outside Swarm. A reservation
    above the limit is VL126.

    One-shot jobs (a migration, a bootstrap step; see VL119) are not reported.

    ## Why it matters
    A memory reservation is the soft limit Docker applies when the host runs short of memory:
    it tells the kernel how much this service needs to keep.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        deploy:
          resources:
            limits:
              memory: 1G
    ```

    ## Fix
    Reserve what the service needs at rest, below the limit (e.g. limit `1G`, reservation
    `512M`).
    """
    if is_one_shot(service):
        return  # a one-shot job: it exits by design (compose/kind.py)
    if service.memory_reservation_node is None:
        yield ctx.finding(
            service.span_of("deploy", "resources", "reservations", "memory"),
            f'service "{service.name}" reserves no memory (deploy.resources.reservations.memory)',
        )


@rule(
    code="VL126",
    name="memory-reservation-above-limit",
    summary="The service reserves more memory than its limit; Docker refuses to create the container.",
    severity=Severity.ERROR,
    hint="Lower the reservation below the memory limit, or raise the limit.",
)
def memory_reservation_above_limit(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a memory reservation (`deploy.resources.reservations.memory` or legacy
    `mem_reservation`) above the service's memory limit, both read in Compose's units.

    ## Why it matters
    `docker compose config` accepts the file, but the Docker daemon refuses to create the
    container ("Minimum memory limit can not be less than memory reservation limit", moby
    `daemon/daemon_unix.go`), so `docker compose up` fails for this service wherever it runs.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        deploy:
          resources:
            limits:
              memory: 512M
            reservations:
              memory: 1G
    ```

    ## Fix
    Reserve what the service needs at rest, below the limit (e.g. limit `1G`, reservation
    `512M`).
    """
    node = service.memory_reservation_node
    if not isinstance(node, ScalarNode):
        return
    reserved = compose_bytes(node.value)
    limit = service.memory_limit
    if reserved is None or not limit or reserved <= limit:
        return
    limit_node = service.memory_limit_node
    limit_text = limit_node.text if isinstance(limit_node, ScalarNode) else human_bytes(limit)
    yield ctx.finding(
        node,
        f'service "{service.name}" reserves {node.text} of memory, more than its limit of {limit_text} '
        f"({human_bytes(reserved)} > {human_bytes(limit)}): Docker refuses to create the container",
    )
