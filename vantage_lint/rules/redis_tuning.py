"""VL221, VL222: Redis performance settings: I/O threads and the slow log / latency monitor."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.redis.config import RedisConfig
from vantage_lint.redis.link import anchor, checkable, subject
from vantage_lint.registry import PRODUCTION_ONLY, rule


# --- VL221 -------------------------------------------------------------------------------------
@rule(
    code="VL221",
    name="redis-io-threads",
    summary="`io-threads` leaves no spare CPU: it is at or above the container's cpus limit.",
    severity=Severity.WARNING,
    hint="Set io-threads below the cpus limit (leave a core for the main thread), or leave it unset.",
    scope="redis",
    contexts=PRODUCTION_ONLY,
)
def redis_io_threads(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports an `io-threads` value above 1 that is at or above the service's `cpus` limit. An unset
    `io-threads` is not reported: threaded I/O is off by default upstream.

    ## Why it matters
    Redis executes commands on one thread; since 6.0 it can spread socket writes (and, with
    `io-threads-do-reads`, reads) over I/O threads. The redis.conf shipped with Redis 7.0 recommends
    them only on machines with 4 or more cores, leaving at least one spare core: with as many
    threads as the container's CPUs, the main thread competes with its own I/O threads.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2-alpine
        command: ["redis-server", "--io-threads", "4"]
        deploy:
          resources:
            limits:
              cpus: "2.0"
    ```

    ## Fix
    `io-threads 3` with `cpus: "4.0"`, or no `io-threads` for a small instance.
    """
    if not checkable(conf):
        return
    directive = conf.get("io-threads")
    if directive is None:
        return
    try:
        threads = int(directive.args[0])
    except (IndexError, ValueError):
        return
    service = conf.service
    cpus = getattr(service, "cpus_limit", None) if service is not None else None
    if cpus and threads > 1 and threads >= cpus:
        relation = "above" if threads > cpus else "equal to"
        yield ctx.finding(
            directive.arg_spans[0],
            f"{subject(conf)} sets io-threads {threads}, {relation} its cpus limit {cpus:g}: no CPU is left "
            "for the main thread, which competes with its own I/O threads",
            hint=f"Set io-threads to at most {max(1, int(cpus) - 1)}, or raise the cpus limit.",
        )


# --- VL222 -------------------------------------------------------------------------------------
@rule(
    code="VL222",
    name="redis-monitoring-off",
    summary="The slow log is off (`slowlog-log-slower-than` negative) or the latency monitor is off (`latency-monitor-threshold 0`).",
    severity=Severity.INFO,
    hint="Set slowlog-log-slower-than 10000 and latency-monitor-threshold 100.",
    scope="redis",
    tier="production",
    contexts=PRODUCTION_ONLY,
)
def redis_monitoring_off(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports `slowlog-log-slower-than` below 0 (slow log off) and a `latency-monitor-threshold`
    of 0, which is also the default (latency monitor off).

    ## Why it matters
    `SLOWLOG GET` and `LATENCY DOCTOR` are how you find the command or the fork that stalls
    every client; with both off, a latency incident leaves no trace to investigate.

    ## Example
    ```
    slowlog-log-slower-than -1
    latency-monitor-threshold 0
    ```

    ## Fix
    ```
    slowlog-log-slower-than 10000
    latency-monitor-threshold 100
    ```
    """
    if not checkable(conf):
        return
    slowlog = conf.value("slowlog-log-slower-than")
    if slowlog is not None and slowlog.lstrip().startswith("-"):
        yield ctx.finding(
            anchor(conf, "slowlog-log-slower-than"),
            f"{subject(conf)} turns the slow log off (slowlog-log-slower-than {slowlog})",
        )
    latency = conf.value("latency-monitor-threshold")
    if latency is None or latency.strip() == "0":
        state = "latency-monitor-threshold 0" if latency is not None else "no latency-monitor-threshold (default 0)"
        yield ctx.finding(
            anchor(conf, "latency-monitor-threshold"),
            f"{subject(conf)} has the latency monitor off ({state})",
        )
