"""VL227-VL229: what the Redis is used for, against its memory policy and its ACL users."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.redis.clients import clients_of, connected_services, redis_role
from vantage_lint.redis.config import Directive, RedisConfig
from vantage_lint.redis.link import anchor, checkable, effective, subject
from vantage_lint.redis.queues import queue_libraries
from vantage_lint.redis.units import format_bytes
from vantage_lint.registry import rule


def _names(names: set[str] | list[str]) -> str:
    return ", ".join(f'"{n}"' for n in sorted(names))


# --- VL227 -------------------------------------------------------------------------------------
@rule(
    code="VL227",
    name="redis-broker-shared-at-maxmemory",
    summary="A Celery broker Redis also holds results or cache data, with maxmemory and noeviction: they fill it and publishing stops.",
    severity=Severity.WARNING,
    hint="Give the broker its own Redis, or use maxmemory-policy volatile-lru so only keys with a TTL are evicted.",
    scope="redis",
)
def redis_broker_shared_at_maxmemory(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a Redis that is the Celery broker of some service (a broker URL names it) and that
    other URLs use as a result backend or a cache (any database number), when `maxmemory` is
    set and the policy is `noeviction` (the default). `allkeys-*` on a broker is VL214.

    ## Why it matters
    With `noeviction`, Redis answers every write with `OOM command not allowed when used
    memory > 'maxmemory'` once the limit is reached: results and cache entries that pile up
    (results live a day by default) stop the broker, and no task can be published. Evicting
    with `allkeys-*` instead drops queue lists. Seen on redis-server 7.0 and valkey 8.1:
    under `noeviction` an `LPUSH` to the queue fails at the limit; under `volatile-lru` keys
    with a TTL are evicted and a list without one survives.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        command: ["redis-server", "--maxmemory", "256mb"]
      worker:
        image: myapp:1.4.2
        command: celery -A app worker
        environment:
          CELERY_BROKER_URL: redis://redis:6379/0
          CELERY_RESULT_BACKEND: redis://redis:6379/1
    ```

    ## Fix
    A second Redis for results and cache (each with the policy its data needs), or
    `--maxmemory-policy volatile-lru` when everything but the queues has a TTL.
    """
    service = conf.service
    if service is None or not checkable(conf) or redis_role(service) != "broker":  # type: ignore[arg-type]
        return
    maxmemory = conf.memory("maxmemory") or 0
    policy = effective(conf, "maxmemory-policy") or "noeviction"
    if not maxmemory or policy != "noeviction":
        return
    urls = clients_of(service)  # type: ignore[arg-type]
    brokers = {u.client.name for u in urls if u.kind == "broker"}
    others = [u for u in urls if u.kind != "broker"]
    if not others:
        return
    uses = sorted({"results" if u.kind == "backend" else "cache data" for u in others})
    shown = "the default noeviction" if conf.get("maxmemory-policy") is None else "noeviction"
    yield ctx.finding(
        anchor(conf, "maxmemory-policy") if conf.get("maxmemory-policy") is not None else anchor(conf, "maxmemory"),
        f"{subject(conf)} is the Celery broker of {_names(brokers)} and also holds {' and '.join(uses)} of "
        f"{_names({u.client.name for u in others})}, with maxmemory {format_bytes(maxmemory)} and {shown}: when they "
        "fill it, every publish fails with OOM and no task can be queued",
    )


# --- VL228 -------------------------------------------------------------------------------------
@rule(
    code="VL228",
    name="redis-job-queue-eviction",
    summary="A Redis that holds Sidekiq, RQ, BullMQ, Laravel, Dramatiq, arq or Huey queues (or locks) evicts with allkeys-*.",
    severity=Severity.ERROR,
    hint="Use maxmemory-policy noeviction for a Redis that holds job queues or locks, and keep caches elsewhere.",
    scope="redis",
)
def redis_job_queue_eviction(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Finds the services that connect to this Redis (a URL, a `REDIS_HOST`-style variable or
    `depends_on`) and run a job-queue library: Sidekiq, RQ, BullMQ, Laravel Horizon or
    queues (`QUEUE_CONNECTION=redis`), Dramatiq, arq, Huey, or use Redis locks (Redlock). The
    library shows in the command (`sidekiq`, `rq worker`, `php artisan horizon`), the image
    name or its variables (`SIDEKIQ_*`, `RQ_*`, `BULL*`, ...). Reports an `allkeys-*` policy on
    such a Redis. Celery brokers are VL214's.

    ## Why it matters
    These libraries keep jobs and locks in keys without a TTL. Under `allkeys-*` Redis evicts
    any key when memory is full, so jobs disappear without an error and a lock can vanish
    while its holder still works (seen on redis-server 7.0 and valkey 8.1: a list without a
    TTL is evicted under `allkeys-lru`). Sidekiq's own documentation asks for `noeviction`.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        command: ["redis-server", "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru"]
      sidekiq:
        image: myapp:1.4.2
        command: bundle exec sidekiq
        environment:
          REDIS_URL: redis://redis:6379/0
    ```

    ## Fix
    `--maxmemory-policy noeviction` (writes fail loudly at the limit), and a separate Redis
    with `allkeys-lru` for cache data.
    """
    service = conf.service
    if service is None or not checkable(conf) or redis_role(service) == "broker":  # type: ignore[arg-type]
        return
    policy = effective(conf, "maxmemory-policy") or "noeviction"
    if not policy.startswith("allkeys-"):
        return
    users: dict[str, list[str]] = {}
    for client, _span, _how in connected_services(service):  # type: ignore[arg-type]
        libraries = queue_libraries(client)
        if libraries:
            users[client.name] = libraries
    if not users:
        return
    libraries = sorted({name for names in users.values() for name in names})
    limit = "" if conf.memory("maxmemory") else " (it takes effect as soon as maxmemory is set)"
    yield ctx.finding(
        anchor(conf, "maxmemory-policy"),
        f"maxmemory-policy {policy} on {subject(conf)}, which holds the {', '.join(libraries)} data of "
        f"{_names(set(users))}: at the memory limit Redis evicts job and lock keys, so jobs are lost silently{limit}",
    )


# --- VL229 -------------------------------------------------------------------------------------
def channel_access(conf: RedisConfig, user: Directive) -> str:
    """"all", "some" or "none": the Pub/Sub channels the ``user`` line grants, after the
    ``acl-pubsub-default`` that applies (``resetchannels`` from Redis 7.0, ``allchannels``
    before)."""
    default = effective(conf, "acl-pubsub-default")
    if default is None:
        default = "allchannels" if conf.version is not None and conf.version < (7, 0) else "resetchannels"
    start = "all" if default == "allchannels" else "none"
    access = start
    for op in user.args[1:]:
        lowered = op.lower()
        if lowered in ("allchannels", "&*"):
            access = "all"
        elif lowered == "resetchannels":
            access = "none"
        elif lowered == "reset":
            access = start
        elif lowered.startswith("&") and access == "none":
            access = "some"
    return access


@rule(
    code="VL229",
    name="redis-acl-user-without-channels",
    summary="Celery connects as a Redis 7 ACL user that has no Pub/Sub channel permission: the worker exits.",
    severity=Severity.ERROR,
    hint="Add &* (or allchannels) to the user's ACL line; Redis 7 starts users with resetchannels.",
    scope="redis",
)
def redis_acl_user_without_channels(conf: RedisConfig, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    For each `user` line, finds the Celery broker URLs (and other Celery clients) that log in
    as that user (`redis://celery:password@redis/0`), and reports the line when it grants no
    Pub/Sub channels: no `&*`/`allchannels`, or only after `resetchannels`. Redis 7.0 changed
    `acl-pubsub-default` to `resetchannels`, so a line written for Redis 6 loses them.

    ## Why it matters
    Celery's remote control and broadcast queues use Redis Pub/Sub. Seen with celery 5.7,
    kombu and redis-server 7.0: a worker logging in as such a user stops at start with
    `Unrecoverable error: NoPermissionError ... no permissions to access one of the channels`
    and exits with status 1, even with `--without-gossip --without-mingle`.

    ## Example
    ```
    user default off
    user celery on >6c0d1e7f9b2a4c58a1e3d5f7 ~* +@all
    ```
    with `CELERY_BROKER_URL: redis://celery:${REDIS_PASSWORD}@redis:6379/0`.

    ## Fix
    `user celery on >6c0d1e7f9b2a4c58a1e3d5f7 ~* &* +@all`.
    """
    service = conf.service
    if service is None or not checkable(conf):
        return
    celery_users: dict[str, set[str]] = {}
    for url in clients_of(service):  # type: ignore[arg-type]
        celery = url.kind in ("broker", "backend") or url.client.has_role("celery-worker", "celery-beat", "flower")
        if celery and url.username not in (None, ""):
            celery_users.setdefault(url.username, set()).add(url.client.name)  # type: ignore[arg-type]
    if not celery_users:
        return
    for user in conf.all("user"):
        if not user.args or user.args[0] not in celery_users:
            continue
        if channel_access(conf, user) != "none":
            continue
        yield ctx.finding(
            user.arg_spans[0] if user.arg_spans else user.span,
            f'ACL user "{user.args[0]}" of {subject(conf)} may use no Pub/Sub channel (Redis 7 defaults to '
            f"resetchannels), but Celery in {_names(celery_users[user.args[0]])} logs in as it: the worker exits with "
            "NoPermissionError at start",
        )
