"""VL213-VL215: Redis memory: maxmemory, the eviction policy for the Redis's role, the container limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vantage_lint.compose.units import human_bytes
from vantage_lint.context import RuleContext
from vantage_lint.findings import Applicability, Finding, Severity
from vantage_lint.redis.clients import clients_of, redis_role
from vantage_lint.redis.config import RedisConfig
from vantage_lint.redis.link import anchor, checkable, effective, subject
from vantage_lint.redis.units import format_bytes
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.rules.redis_persistence import directive_fix, persistence_on, with_severity


def _limit_text(service: Any) -> str:
    node = service.memory_limit_node
    written = node.text if node is not None and hasattr(node, "text") else None
    limit = service.memory_limit
    return f"{written} ({limit:,} bytes)" if written else f"{limit:,} bytes"


# --- VL213 -------------------------------------------------------------------------------------
@rule(
    code="VL213",
    name="redis-maxmemory-unset",
    summary="Redis has no `maxmemory` (or 0): it grows until the kernel OOM-kills the container.",
    severity=Severity.WARNING,
    hint="Set maxmemory below the container memory limit (e.g. half of it with persistence on).",
    scope="redis",
    contexts=PRODUCTION_ONLY,
    supersedes=("VL201",),
)
def redis_maxmemory_unset(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a Redis configuration (a redis.conf or the flags of a service without one) whose
    `maxmemory` is absent or 0, which means no limit: a warning for a cache (it grows with every
    key it is given), for a container with a memory limit (the kernel kills Redis at the limit)
    and for a redis.conf linted on its own; information for a Redis service with no container
    limit whose clients show no cache use (a broker or a store holds what its clients put in it:
    `maxmemory` is then a safety net).

    ## Why it matters
    Redis then takes memory until the container limit (or the host) is exhausted and the
    kernel's OOM killer ends it: every client loses its connection and, without AOF, the data
    since the last snapshot. With `maxmemory` Redis answers writes with an error (or evicts,
    by policy) instead of dying.

    ## Example
    ```
    appendonly yes
    maxmemory-policy noeviction
    ```

    ## Fix
    `maxmemory 256mb` with a container limit of at least `512M`.
    """
    if not checkable(conf):
        return
    value = conf.memory("maxmemory")
    if value or conf.unknown("maxmemory"):
        return  # a size the deployment supplies is no "no limit"
    service = conf.service
    limit = getattr(service, "memory_limit", None) if service is not None else None
    tail = f" (container limit {_limit_text(service)})" if limit else ""
    state = "maxmemory 0 (no limit)" if conf.get("maxmemory") is not None else "no maxmemory"
    open_options = conf.open_options if conf.get("maxmemory") is None else ()
    if service is not None and not limit and redis_role(service) != "cache":  # type: ignore[arg-type]
        # No wall to hit and no cache to grow: it holds what its clients queue; a safety net.
        yield ctx.finding(
            anchor(conf, "maxmemory"),
            f"{subject(conf)} has {state} and its container no memory limit: it grows with what its clients "
            "store until the host runs short, when the kernel's OOM killer ends it",
            depends_on=open_options, severity=Severity.INFO,
        )
        return
    yield ctx.finding(
        anchor(conf, "maxmemory"),
        f"{subject(conf)} has {state}: it grows until the kernel OOM-kills it{tail}",
        depends_on=open_options,
    )


# --- VL214 -------------------------------------------------------------------------------------
_BROKER_WHY = (
    "when memory is full Redis evicts any key, including the Celery queue lists and kombu bindings, "
    "so queued tasks are lost silently"
)


@rule(
    code="VL214",
    name="redis-eviction-policy",
    summary="The eviction policy does not fit what the Redis is used for: `allkeys-*` on a Celery broker, `noeviction` on a cache.",
    severity=Severity.WARNING,
    hint="Use noeviction for a Celery broker and allkeys-lru for a cache; give each use its own Redis.",
    scope="redis",
    fix=Applicability.UNSAFE,
)
def redis_eviction_policy(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Decides the Redis's role from the URLs that point at it: a **broker** when a Celery broker
    URL (`CELERY_BROKER_URL`, `BROKER_URL`, `CELERY_BROKER`, `-b/--broker`) names it, a
    **cache** when only other URLs do. Then:

    - broker with any `allkeys-*` policy: error (the queue can be evicted);
    - cache with `maxmemory` and `noeviction` (the default): warning, writes fail at the limit;
    - unknown role (no clients seen, a standalone redis.conf): `noeviction` with `maxmemory`
      is a warning recommending `allkeys-lru`, with the broker caveat.

    ## Why it matters
    Verified with Redis 7.0: under memory pressure `allkeys-lru` evicted the `celery` queue
    list, so tasks vanished without an error anywhere. `noeviction` keeps the queue and makes
    writes fail loudly (`OOM command not allowed`). A cache, on the other hand, should evict:
    with `noeviction` it turns into an outage when it fills up.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2-alpine
        command: ["redis-server", "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru"]
      worker:
        image: myapp:1.4.2
        command: celery -A app worker
        environment:
          CELERY_BROKER_URL: redis://redis:6379/0
    ```

    ## Fix
    `maxmemory-policy noeviction` on the broker (or a `volatile-*` policy, which never touches
    the TTL-less queue keys: the fix proposes `volatile-lru` when the broker also holds results
    or cache data, where `noeviction` would let them block publishing, VL227); `allkeys-lru`
    on a cache.
    """
    if not checkable(conf):
        return
    policy = effective(conf, "maxmemory-policy") or "noeviction"
    written = conf.get("maxmemory-policy")
    maxmemory = conf.memory("maxmemory") or 0
    service = conf.service
    role = redis_role(service) if service is not None else None
    at = anchor(conf, "maxmemory-policy")
    shown = f"maxmemory-policy {policy}" if written is not None else "the default maxmemory-policy noeviction"
    if role == "broker":
        if policy.startswith("allkeys-"):
            brokers = sorted({u.client.name for u in clients_of(service) if u.kind == "broker"})  # type: ignore[arg-type]
            users = ", ".join(f'"{n}"' for n in brokers)
            limit = "" if maxmemory else " (it takes effect as soon as maxmemory is set)"
            shared = any(u.kind != "broker" for u in clients_of(service))  # type: ignore[arg-type]
            if shared:
                # noeviction would let the results and cache entries block publishing (VL227).
                hint = ("Give the broker its own Redis with noeviction, or use volatile-lru here: it evicts only "
                        "keys with a TTL (results, cache entries), never the queue lists.")
                fix = directive_fix(conf, "maxmemory-policy", "volatile-lru", "Use maxmemory-policy volatile-lru")
            else:
                hint = ("Set maxmemory-policy noeviction: at the limit writes fail loudly instead of tasks "
                        "disappearing; put cache data in a separate Redis.")
                fix = directive_fix(conf, "maxmemory-policy", "noeviction", "Use maxmemory-policy noeviction")
            yield with_severity(ctx.finding(
                at, f"{shown} on {subject(conf)}, the Celery broker of {users}: {_BROKER_WHY}{limit}",
                hint=hint, fix=fix,
            ), Severity.ERROR)
        return
    if not maxmemory or policy != "noeviction":
        return
    if role == "cache":
        users = ", ".join(sorted({f'"{u.client.name}"' for u in clients_of(service)}))  # type: ignore[arg-type]
        yield ctx.finding(
            at,
            f"{shown} on {subject(conf)}, used as a cache by {users}: at maxmemory every write fails with "
            "OOM errors instead of evicting old entries",
            hint="Set maxmemory-policy allkeys-lru for a cache.",
            fix=directive_fix(conf, "maxmemory-policy", "allkeys-lru", "Use maxmemory-policy allkeys-lru"),
        )
        return
    yield ctx.finding(
        at,
        f"{shown} with maxmemory {format_bytes(maxmemory)} on {subject(conf)}: at the limit every write fails; "
        "no client shows whether this Redis is a cache or a Celery broker",
        hint="For a cache set maxmemory-policy allkeys-lru; if this Redis is a Celery broker keep noeviction "
             "(allkeys-* evicts the queue lists and loses tasks).",
        fix=directive_fix(conf, "maxmemory-policy", "allkeys-lru", "Use maxmemory-policy allkeys-lru"),
    )


# --- VL215 -------------------------------------------------------------------------------------
_FRACTION_SCHEMA = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}


@rule(
    code="VL215",
    name="redis-maxmemory-vs-container",
    summary="`maxmemory` does not fit in the container memory limit with room for fork copy-on-write and overhead.",
    severity=Severity.ERROR,
    hint="Keep maxmemory at most half the container limit with persistence on (0.9 without), in each tool's units.",
    scope="redis",
    options_schema={
        "type": "object",
        "properties": {
            "max-fraction": {**_FRACTION_SCHEMA, "description": "Largest maxmemory / limit ratio with AOF or RDB on."},
            "max-fraction-without-persistence": {
                **_FRACTION_SCHEMA, "description": "Largest maxmemory / limit ratio with persistence off."
            },
        },
        "additionalProperties": False,
    },
    default_options={"max-fraction": 0.5, "max-fraction-without-persistence": 0.9},
)
def redis_maxmemory_vs_container(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Compares `maxmemory` with the service's container memory limit, each read as its own tool
    reads it: Redis `512m` is 512,000,000 bytes and `512mb` is 512 MiB; Compose `512m`,
    `512M` and `512MB` are all 512 MiB. Reports `maxmemory` at or above the limit (error) and
    above `max-fraction` of it (warning): by default 0.5 when AOF or RDB is on, 0.9 (option
    `max-fraction-without-persistence`) when both are off.

    ## Why it matters
    `maxmemory` counts only the dataset. Redis also needs memory for client and replica
    buffers and fragmentation, and during BGSAVE or an AOF rewrite the forked child shares
    pages copy-on-write: in a write-heavy workload memory can double. Above the container
    limit the kernel OOM-kills Redis instead of Redis refusing writes.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2-alpine
        command: ["redis-server", "--maxmemory", "512mb"]
        deploy:
          resources:
            limits:
              memory: 512M
    ```

    ## Fix
    Raise the limit (`memory: 1G`) or lower `maxmemory 256mb`.
    """
    service = conf.service
    if service is None or not checkable(conf):
        return
    limit = getattr(service, "memory_limit", None)
    maxmemory = conf.memory("maxmemory")
    if not limit or not maxmemory:
        return
    persistent = persistence_on(conf)
    key = "max-fraction" if persistent else "max-fraction-without-persistence"
    fraction = float(ctx.options.get(key, 0.5 if persistent else 0.9))
    written = conf.value("maxmemory") or ""
    ratio = maxmemory / limit
    units = f"maxmemory {written} ({maxmemory:,} bytes{_unit_note(written)})"
    if maxmemory >= limit:
        yield with_severity(ctx.finding(
            anchor(conf, "maxmemory"),
            f"{units} of {subject(conf)} is {ratio:.0%} of the container memory limit {_limit_text(service)}: "
            "the kernel OOM-kills Redis before maxmemory is reached",
        ), Severity.ERROR)
    elif ratio > fraction:
        why = ("fork copy-on-write during BGSAVE/AOF rewrite can double memory" if persistent
               else "buffers and fragmentation need the rest")
        yield with_severity(ctx.finding(
            anchor(conf, "maxmemory"),
            f"{units} of {subject(conf)} is {ratio:.0%} of the container memory limit {_limit_text(service)}, "
            f"above {fraction:g}: {why}",
            hint=f"Lower maxmemory to at most {human_bytes(int(limit * fraction))} or raise the container limit.",
        ), Severity.WARNING)


def _unit_note(written: str) -> str:
    """Explain the unit trap when the value uses a decimal unit (``512m``) Compose reads as binary."""
    lowered = written.strip().lower()
    unit = lowered[-1:]
    if unit in _DECIMAL_POWERS and lowered[:-1].isdigit():
        decimal, binary = _DECIMAL_POWERS[unit]
        return f": Redis reads {unit} as 10^{decimal}, Compose as 2^{binary}"
    return ""


_DECIMAL_POWERS = {"k": (3, 10), "m": (6, 20), "g": (9, 30)}
