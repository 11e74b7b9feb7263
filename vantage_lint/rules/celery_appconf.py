"""VL327-VL332: checks that need both the Compose file and the Celery app's own configuration."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from vantage_lint.celery.app_config import UNKNOWN, AppConfig, AppSetting
from vantage_lint.celery.command import Setting
from vantage_lint.compose.model import Service
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity, Span
from vantage_lint.registry import rule
from vantage_lint.rules.celery_broker import _redis_broker, _waits_healthy, broker_service, service_for_host
from vantage_lint.rules.celery_options import (
    CELERY_ROLES,
    CeleryView,
    app_config,
    celery_view,
    env_value_span,
    intended_limit,
    known,
    number,
    pool,
    pool_depends,
    seconds,
    visibility_timeout,
)
from vantage_lint.secrets import redact


def _worker(service: Service) -> CeleryView | None:
    view = celery_view(service)
    return view if view is not None and view.subcommand in ("worker", "") else None


def _flag(config: AppConfig, name: str) -> bool | None:
    """A boolean setting: True/False as configured (or Celery's default when the whole
    configuration was read); None when the linter cannot know it."""
    value = config.value(name)
    if value is UNKNOWN:
        return None
    if isinstance(value, str):
        lowered = value.strip().lower()
        return True if lowered in ("1", "true", "yes", "on") else False if lowered in ("0", "false", "no", "off", "") \
            else None
    return bool(value) if value is not None else False


def _where(setting: AppSetting) -> str:
    return redact(setting.describe())


# --- VL327 ---------------------------------------------------------------------------------------
@rule(
    code="VL327",
    name="celery-app-config-unread",
    summary="The Celery app a service names could not be found or read, so its configuration is not checked.",
    severity=Severity.INFO,
    hint="Make the app importable from the service's build context or source bind mount (celery -A package.module), or fix the Python file.",
    scope="project",
)
def celery_app_config_unread(project, ctx: RuleContext) -> Iterator[Finding]:  # project: Project
    """## What it does
    For each Celery service (worker, beat, Flower) whose `-A/--app` (or `CELERY_APP`) is
    known and whose code the Compose file points at (a `build:`, or a bind mount of the
    source), looks for the app's module where the container imports it from (the working
    directory and `PYTHONPATH`, mapped to host files through bind mounts and the Dockerfile's
    `WORKDIR`/`COPY`/`ADD`) and reports, once per app: a module that is in none of those
    folders, a path the linter cannot follow (`COPY --from` another image, a variable with no
    value, a Dockerfile it cannot read), a folder outside the project (never read), a module that
    builds its app inside a function (an app factory the linter does not run), a Python file
    that does not parse (at the error's line and column), and a file that is not readable
    text. Services that run a pulled image without source in the project are not reported:
    their code is not there to read.

    ## Why it matters
    Time limits, `task_acks_late`, queues and the beat scheduler are often set in the app
    (`celery.py`, a `celeryconfig` module or Django settings). The Celery rules read them
    there; when the app cannot be found or parsed they fall back to the Compose file alone
    and may miss problems or report settings the app does make. This finding says so instead
    of silently guessing.

    ## Example
    ```yaml
    services:
      worker:
        build: .
        command: celery -A proj.tasks_app worker
    ```
    (with no `proj/tasks_app.py` in the build context)

    ## Fix
    Name the module the app is defined in (`celery -A proj worker` for `proj/celery.py`), or
    fix the syntax error the finding points at. The linter never imports or runs the code.
    """
    seen: set[tuple[str, str]] = set()
    for service in project.services.values():
        if not service.has_role(*CELERY_ROLES):
            continue
        view = celery_view(service)
        loaded = view.app if view is not None else None
        if loaded is None:
            continue
        config = loaded.config
        found: list[tuple[Span, str]] = []
        if loaded.location.unfollowed and (config is None or config.app_span is None):
            found.append((view.span(view.get("app")) if view.get("app") is not None else view.anchor(),
                          f'the Celery app "{redact(loaded.spec)}" of service "{service.name}" is not found '
                          f'and may be where the linter cannot see: {"; ".join(loaded.location.unfollowed)}'
                          + (f" (looked in {loaded.location.looked_in})" if loaded.location.roots else "")
                          + ": its configuration is not read"))
        elif config is None:
            if loaded.location.roots:
                found.append((view.span(view.get("app")) if view.get("app") is not None else view.anchor(),
                              f'the Celery app "{redact(loaded.spec)}" of service "{service.name}" is not a module '
                              f"under {loaded.location.looked_in}: its configuration is not read"))
            elif loaded.location.outside:
                found.append((view.anchor(),
                              f'service "{service.name}" takes its code from {", ".join(loaded.location.outside)}, '
                              "outside the project folder: the app's configuration is not read"))
        else:
            if config.app_span is None and not config.problems and config.files:
                found.append((config.files[-1].line_span(1),
                              f'{config.files[-1].path} defines no module-level Celery(...) for the app '
                              f'"{redact(loaded.spec)}" (an app factory, or an app built under a condition): its '
                              "configuration is not read"))
            for problem in config.problems:
                if problem.kind == "syntax":
                    found.append((problem.span, f"the Celery app's module {problem.span.path} does not parse "
                                                f"({problem.message}): its configuration is not read"))
                else:
                    found.append((problem.span, f"{problem.message}: the Celery app's configuration is not read"))
        for span, message in found:
            key = (str(span), message.split(":", 1)[0])
            if key in seen:
                continue
            seen.add(key)
            yield ctx.finding(span, message, service=service.name)


# --- VL328 ---------------------------------------------------------------------------------------
@rule(
    code="VL328",
    name="celery-acks-late-lost-on-oom",
    summary="task_acks_late without task_reject_on_worker_lost on a memory-limited worker: a task whose process is killed is acknowledged and lost.",
    severity=Severity.WARNING,
    hint="Set task_reject_on_worker_lost = True next to task_acks_late (and make the tasks idempotent), or raise the memory limit.",
    roles=("celery-worker",),
)
def celery_acks_late_lost_on_oom(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a prefork worker with a memory limit (`deploy.resources.limits.memory` or
    `mem_limit`) whose app sets `task_acks_late = True` but not
    `task_reject_on_worker_lost = True` (read from the app's configuration; see VL327).

    ## Why it matters
    `acks_late` promises that a task is acknowledged only after it ran, so it survives a
    crash. But when the pool process running it dies (the kernel OOM-kills it at the
    container's memory limit, or anything sends SIGKILL), Celery still acknowledges the
    message and records `WorkerLostError`: the task is gone, exactly the case `acks_late` was
    meant to cover. Only `task_reject_on_worker_lost = True` puts it back in the queue
    (checked with a real worker: a task that SIGKILLs its own process ran once without the
    setting and again with it). The task then runs again, so it must be idempotent.

    ## Example
    ```yaml
    services:
      worker:
        build: .
        command: celery -A proj worker
        deploy:
          resources:
            limits: {memory: 512M}
    ```
    with `app.conf.task_acks_late = True` in `proj/celery.py`.

    ## Fix
    `app.conf.task_reject_on_worker_lost = True`
    """
    view = _worker(service)
    config = app_config(view)
    if view is None or config is None or pool(view) not in ("prefork", "processes", ""):
        return
    if not service.memory_limit:
        return
    acks = _acks_late(config)
    if acks is None:
        return
    if _flag(config, "task_reject_on_worker_lost") is not False:
        return
    yield ctx.finding(
        acks.span,
        f'worker "{service.name}" has a memory limit ({service.text(*_limit_path(service)) or "set"}) and its app '
        f"acknowledges late ({_where(acks)}) without task_reject_on_worker_lost: a task whose pool process is "
        "OOM-killed is acknowledged anyway and lost",
        depends_on=pool_depends(view),
    )


def _acks_late(config: AppConfig) -> AppSetting | None:
    """The ``task_acks_late`` setting when the app turns it on (known to be True), else None."""
    acks = config.get("task_acks_late")
    return acks if acks is not None and _flag(config, "task_acks_late") is True else None


def _limit_path(service: Service) -> tuple[str, ...]:
    if service.get("deploy", "resources", "limits", "memory") is not None:
        return ("deploy", "resources", "limits", "memory")
    return ("mem_limit",)


# --- VL329 ---------------------------------------------------------------------------------------
@rule(
    code="VL329",
    name="celery-visibility-timeout-too-short",
    summary="On a Redis broker, countdown/ETA delays or unlimited acks_late tasks outlast the visibility timeout and run again.",
    severity=Severity.WARNING,
    hint="Raise visibility_timeout in broker_transport_options above the longest countdown and task run time, and give tasks a hard time limit below it.",
    roles=("celery-worker",),
)
def celery_visibility_timeout_too_short(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    For a worker on a Redis broker, takes the visibility timeout from the app's
    `broker_transport_options` (kombu's default is 3600 s) and reports:
    - a `countdown=` or `default_retry_delay=` longer than it in the app's code (the app
      module and the modules in its `include`);
    - `task_acks_late = True` with no hard time limit at all (`--time-limit`,
      `CELERY_WORKER_TIME_LIMIT`, `task_time_limit`): nothing stops a task from running past it.
    A hard time limit above the timeout is VL318.

    ## Why it matters
    The Redis transport delivers again every message not acknowledged within the visibility
    timeout. A message waiting for its countdown/ETA stays unacknowledged in the worker, and
    an `acks_late` task is acknowledged only when it ends: past the timeout another worker
    (or the same one) receives it and runs it again, and a countdown longer than the timeout
    is redelivered over and over. Checked with a real worker and Redis: with a 1 s visibility
    timeout a task with `countdown=4` ran more than once, and so did an `acks_late` task
    that ran 4 s.

    ## Example
    ```yaml
    services:
      worker:
        build: .
        command: celery -A proj worker
        environment:
          CELERY_BROKER_URL: redis://redis:6379/0
    ```
    with `task_acks_late = True` and no time limit in the app.

    ## Fix
    `app.conf.broker_transport_options = {"visibility_timeout": 7200}` and
    `task_time_limit = 3000` (below it).
    """
    view = _worker(service)
    config = app_config(view)
    if view is None or config is None:
        return
    if _redis_broker(service) is None:
        return
    found = visibility_timeout(view)
    if found is None:
        return
    timeout, how, _where_vt = found
    longest = max(config.countdowns, key=lambda c: c[0], default=None)
    if longest is not None and longest[0] > timeout:
        yield ctx.finding(
            longest[1],
            f'worker "{service.name}": the app delays a task by {seconds(longest[0])} (countdown at {longest[1]}), '
            f"longer than the Redis visibility timeout ({how}): the waiting message is delivered again and again "
            "and the task runs more than once",
        )
    acks = _acks_late(config)
    if acks is None:
        return
    hard = intended_limit(view, soft=False)
    if hard is not None and (not known(hard.value) or (number(hard.value) or 0) > 0):
        return
    if pool(view) in ("solo", "threads", "eventlet") and hard is not None:
        return
    yield ctx.finding(
        acks.span,
        f'worker "{service.name}" acknowledges tasks late ({_where(acks)}) with no hard time limit on a Redis broker: '
        f"a task still running after the visibility timeout ({how}) is delivered again and runs twice",
    )


# --- VL330 ---------------------------------------------------------------------------------------
_EVICTING = ("allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random",
             "volatile-ttl")


def _result_backend(view: CeleryView, config: AppConfig | None) -> tuple[str, Span, str] | None:
    """The result backend URL, where it is written and how it is shown: ``--result-backend``
    or ``CELERY_RESULT_BACKEND`` (they override the app), else the app's ``result_backend``."""
    setting: Setting | None = view.get("result-backend")
    service = view.service
    if setting is None:
        var = service.environment.get("CELERY_RESULT_BACKEND")
        if var is not None:
            from vantage_lint.rules.celery_options import env_text

            text = env_text(service, var)
            if text:
                return text, env_value_span(service, var), f"CELERY_RESULT_BACKEND={redact(text)}"
    if setting is not None and isinstance(setting.value, str):
        return setting.value, view.span(setting), view.show(setting)
    if config is not None:
        found = config.get("result_backend")
        if found is not None and isinstance(found.value, str):
            return found.value, found.span, _where(found)
    return None


@rule(
    code="VL330",
    name="celery-results-unbounded-or-evicted",
    summary="Results go to a Redis that evicts keys under memory pressure, or never expire (result_expires None/0).",
    severity=Severity.WARNING,
    hint="Keep result_expires (default one day) and give the result backend a Redis with maxmemory-policy noeviction, or a separate Redis sized for results.",
    roles=("celery-worker",),
)
def celery_results_unbounded_or_evicted(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Finds the worker's result backend (`--result-backend`, `CELERY_RESULT_BACKEND`, or the
    app's `result_backend`) and, when it is a Redis service of this project, reports:
    - a `maxmemory` with an evicting `maxmemory-policy` (`allkeys-*`, `volatile-*`) in that
      Redis's configuration;
    - the app's `result_expires` set to `None` or `0`, on any Redis backend.

    ## Why it matters
    Each result is a `celery-task-meta-<id>` key that the Redis backend writes with a TTL of
    `result_expires` (one day by default). Under an evicting policy Redis may drop it before
    the caller reads it: `AsyncResult(id).state` then says `PENDING` forever, as if the task
    never ran (checked with a real Redis: after filling memory the stored result was gone and
    its state read PENDING). With `result_expires` `None` or `0` the keys get no TTL at all
    (checked: TTL -1), so results pile up until `maxmemory` stops every write, the broker's
    too if it shares the server.

    ## Example
    ```yaml
    services:
      worker:
        build: .
        command: celery -A proj worker
        environment:
          CELERY_RESULT_BACKEND: redis://cache:6379/1
      cache:
        image: redis:7.2
        command: redis-server --maxmemory 100mb --maxmemory-policy allkeys-lru
    ```

    ## Fix
    Use a Redis with `maxmemory-policy noeviction` for results (or the database, `rpc://`),
    and keep `result_expires` at a bound such as one day.
    """
    view = _worker(service)
    if view is None:
        return
    config = app_config(view)
    backend = _result_backend(view, config)
    if backend is None or not known(backend[0]):
        return
    url, at, shown = backend
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:
        return
    if scheme not in ("redis", "rediss"):
        return
    if config is not None:
        expires = config.get("result_expires")
        if expires is not None and expires.value is not UNKNOWN and (expires.value is None or expires.value == 0):
            yield ctx.finding(
                expires.span,
                f'worker "{service.name}" stores results in Redis ({redact(url)}) with {_where(expires)}: the result '
                "keys get no TTL and pile up until maxmemory refuses every write",
                hint="Remove result_expires = None/0 (the default keeps results one day) or set a bound in seconds.",
            )
    target = service_for_host(service.project, host) if host else None
    if target is None or not target.has_role("redis"):
        return
    conf = getattr(target, "redis_config", None)
    if conf is None:
        return
    from vantage_lint.redis.link import effective
    from vantage_lint.redis.units import parse_memory

    policy = (effective(conf, "maxmemory-policy") or "noeviction").lower()
    maxmemory = parse_memory(effective(conf, "maxmemory") or "0") or 0
    if maxmemory <= 0 or policy not in _EVICTING:
        return
    yield ctx.finding(
        at,
        f'worker "{service.name}" stores task results ({shown}) in Redis service "{target.name}", whose '
        f"maxmemory-policy {policy} evicts keys when it is full: a result can vanish before it is read and the task "
        "then looks PENDING forever",
    )


# --- VL331 ---------------------------------------------------------------------------------------
@rule(
    code="VL331",
    name="celery-acks-late-connection-loss",
    summary="task_acks_late without worker_cancel_long_running_tasks_on_connection_loss: after a broker connection loss the running task also runs again.",
    severity=Severity.INFO,
    hint="Set worker_cancel_long_running_tasks_on_connection_loss = True (the Celery 6 default) so such tasks are stopped before they are redelivered.",
    roles=("celery-worker",),
)
def celery_acks_late_connection_loss(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a worker whose app sets `task_acks_late = True` and leaves
    `worker_cancel_long_running_tasks_on_connection_loss` at its default (`False` until
    Celery 6).

    ## Why it matters
    When the worker loses its broker connection (a Redis restart, a network blip), an
    `acks_late` task that is running can no longer be acknowledged: the worker puts its
    message back ("Restoring 1 unacknowledged message(s)") and receives it again. With the
    setting off the first run keeps going anyway, so the task runs twice (on another process
    or worker, at the same time). With it on, Celery terminates the interrupted run
    ("cannot be acknowledged after a connection loss ... Terminating it instead") and only
    the redelivered one completes. Checked with a real worker whose Redis connections were
    killed mid-task (`CLIENT KILL TYPE normal`): off, both runs finished; on, one did.

    ## Example
    ```yaml
    services:
      worker:
        build: .
        command: celery -A proj worker
    ```
    with `task_acks_late = True` in the app.

    ## Fix
    `app.conf.worker_cancel_long_running_tasks_on_connection_loss = True`
    """
    view = _worker(service)
    config = app_config(view)
    if view is None or config is None:
        return
    acks = _acks_late(config)
    if acks is None:
        return
    if _flag(config, "worker_cancel_long_running_tasks_on_connection_loss") is not False:
        return
    yield ctx.finding(
        acks.span,
        f'worker "{service.name}" acknowledges tasks late ({_where(acks)}) but does not set '
        "worker_cancel_long_running_tasks_on_connection_loss: after a broker connection loss a running task keeps "
        "running while its message is delivered again, so it runs twice",
    )


# --- VL332 ---------------------------------------------------------------------------------------
@rule(
    code="VL332",
    name="celery-no-startup-retry-unordered",
    summary="broker_connection_retry_on_startup = False while the worker does not wait for a healthy broker: it exits if it starts first.",
    severity=Severity.WARNING,
    hint="Add depends_on: {<broker>: {condition: service_healthy}} (with a broker healthcheck), or leave broker_connection_retry_on_startup on.",
    roles=("celery-worker", "celery-beat"),
)
def celery_no_startup_retry_unordered(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a worker or beat whose app sets `broker_connection_retry_on_startup = False`
    (or, with it unset, `broker_connection_retry = False`, which it then follows) while the
    service does not `depends_on` its broker with `condition: service_healthy`.

    ## Why it matters
    With startup retries off the worker makes one connection attempt and exits with an error
    when the broker is not accepting connections yet (checked with a real worker and a
    closed port: it exited within seconds). Compose starts services in parallel unless
    `depends_on` orders them, and a plain `depends_on` waits only for the broker's container
    to start, not for Redis to load its data and accept clients. Every `docker compose up`
    then becomes a race the worker may lose; with `restart:` it loops until it wins.

    ## Example
    ```yaml
    services:
      worker:
        build: .
        command: celery -A proj worker
        environment:
          CELERY_BROKER_URL: redis://redis:6379/0
        depends_on: [redis]
      redis:
        image: redis:7.2
    ```
    with `broker_connection_retry_on_startup = False` in the app.

    ## Fix
    ```yaml
        depends_on:
          redis:
            condition: service_healthy
    ```
    and a healthcheck on `redis`.
    """
    view = celery_view(service)
    config = app_config(view)
    if view is None or config is None:
        return
    on_startup = config.get("broker_connection_retry_on_startup")
    setting = on_startup
    if on_startup is None or on_startup.value is None:
        # None: the worker falls back to broker_connection_retry (default True).
        setting = config.get("broker_connection_retry")
    if setting is None or _flag(config, setting.name) is not False:
        return
    found = broker_service(service)
    if found is None:
        return
    broker, how = found
    if _waits_healthy(service, broker.name):
        return
    yield ctx.finding(
        setting.span,
        f'service "{service.name}" turns broker connection retries at startup off ({_where(setting)}) but does not wait '
        f'for "{broker.name}" ({how}) with condition: service_healthy: if the broker is not ready first the worker '
        "exits",
    )


# --- VL333 ---------------------------------------------------------------------------------------
@rule(
    code="VL333",
    name="celery-cli-time-limit-overridden",
    summary="--time-limit/--soft-time-limit on the command line has no effect: the app's task_time_limit/task_soft_time_limit wins.",
    severity=Severity.WARNING,
    hint="Set the time limits in one place: drop the flag, or remove task_time_limit/task_soft_time_limit from the app.",
    roles=("celery-worker",),
)
def celery_cli_time_limit_overridden(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports `--time-limit`/`--soft-time-limit` (or `CELERY_WORKER_TIME_LIMIT` /
    `CELERY_WORKER_SOFT_TIME_LIMIT`) on a worker whose app also sets `task_time_limit` /
    `task_soft_time_limit` to a different value (read from its code, see VL327).

    ## Why it matters
    For most options the command line beats the app's configuration, but not for time
    limits: every task copies `task_time_limit` from the app into its own `time_limit` and the
    worker passes that to the pool with each task, so the pool's default, which is what
    `--time-limit` sets, is used only when the app sets none. Checked with a real worker:
    `--time-limit 1` with `task_time_limit = 30` in the app let a 3 s task finish. The limit
    the Compose file shows is not the one that applies.

    ## Example
    ```yaml
    services:
      worker:
        build: .
        command: celery -A proj worker --time-limit=60
    ```
    with `app.conf.task_time_limit = 3600` in `proj/celery.py`.

    ## Fix
    Keep one of them: `command: celery -A proj worker` with the limit in the app, or drop
    `task_time_limit` from the app.
    """
    view = _worker(service)
    if view is None:
        return
    for option, flag in sorted(view.overridden.items()):
        if option not in ("time-limit", "soft-time-limit"):
            continue
        applied = view.get(option)
        if applied is None or not known(flag.value) or not known(applied.value):
            continue
        if number(flag.value) == number(applied.value):
            continue
        yield ctx.finding(
            view.span(flag),
            f'service "{service.name}" sets {view.show(flag)} but the app sets {view.show(applied)}: tasks take the '
            f"app's value, so the command line's {option.replace('-', ' ')} never applies",
        )
