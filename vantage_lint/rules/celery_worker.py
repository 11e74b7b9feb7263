"""VL302-VL308, VL312: how a Celery worker is sized, recycled, time-limited and fed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vantage_lint.celery.command import Setting, env_suggestion
from vantage_lint.compose.model import Service
from vantage_lint.compose.units import compose_bytes, human_bytes
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.rules.celery_options import (
    CELERY_ROLES,
    app_config,
    CeleryView,
    celery_view,
    env_name_span,
    intended_limit,
    known,
    number,
    pool,
    options_depend,
    pool_depends,
    seconds,
)

# Pools that enforce time limits (Celery's workers guide, "Time limits": prefork and gevent).
_TIME_LIMIT_POOLS = ("prefork", "processes", "gevent", "")
DEFAULT_PREFETCH = 4
MiB = 1024 * 1024


def _with_severity(finding: Finding, severity: Severity) -> Finding:
    finding.severity = severity
    finding.explicit_severity = True
    return finding


def _set(setting: Setting | None) -> bool:
    """Given with a value other than empty or 0 (0 and "" mean "no limit"/unset to click)."""
    if setting is None:
        return False
    value = setting.value
    if isinstance(value, str):
        return value.strip() not in ("", "0")
    return value is not False


def _worker(service: Service) -> CeleryView | None:
    view = celery_view(service)
    return view if view is not None and view.subcommand in ("worker", "") else None


def _cpus(service: Service) -> str:
    cpus = service.cpus_limit
    return f"{cpus:g}" if cpus is not None else ""


# --- VL302 -----------------------------------------------------------------------------------
@rule(
    code="VL302",
    name="celery-concurrency-unset",
    summary="A Celery worker sets no concurrency, so it runs as many processes, threads or greenlets as the host has CPUs.",
    severity=Severity.WARNING,
    hint="Set -c/--concurrency (or CELERY_WORKER_CONCURRENCY): for prefork what the container's cpus and memory limits can run, for threads/gevent/eventlet what the tasks' waiting on I/O needs.",
    roles=("celery-worker",),
    contexts=PRODUCTION_ONLY,
)
def celery_concurrency_unset(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a Celery worker without `-c/--concurrency`, `--autoscale` or the
    `CELERY_WORKER_CONCURRENCY` variable (which the `celery` command line reads), nor
    `worker_concurrency` in the app's configuration (VL327). A `solo` pool (one task at a
    time) passes.

    ## Why it matters
    Celery's default concurrency is the number of CPUs it sees, whatever the pool, and in a
    container that is the **host's** CPU count, not the `cpus:` limit. With prefork a worker
    limited to 2 CPUs on a 64-core host forks 64 processes, each with a copy of the app, and
    runs out of memory or thrashes. With `threads`, `gevent` or `eventlet` the concurrency is
    threads or greenlets in one process: it should follow how long tasks wait on I/O (often
    dozens to hundreds of greenlets), not the CPU count, so the default is as arbitrary there.
    `-c auto` (Celery 5.7) reads the cgroup quota and passes.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker -l INFO
        deploy:
          resources:
            limits: {cpus: "2", memory: 1G}
    ```

    ## Fix
    `command: celery -A myapp worker -l INFO --concurrency=2`
    """
    view = _worker(service)
    if view is None or view.get("concurrency") is not None or view.get("autoscale") is not None:
        return
    if pool(view) == "solo":
        return
    cpus = _cpus(service)
    kind = pool(view)
    head = (f'service "{service.name}" runs `{view.program}` without -c/--concurrency or '
            "CELERY_WORKER_CONCURRENCY: ")
    hint = None
    if kind in ("prefork", "processes"):
        limit = f"not per the container's cpus limit ({cpus})" if cpus else "however few the container may use"
        message = head + f"Celery starts one pool process per CPU of the host, {limit}"
        if cpus:
            hint = f"Set --concurrency={max(1, int(float(cpus)))} (the cpus limit) or CELERY_WORKER_CONCURRENCY."
    else:
        shown = f"the {kind} pool" if kind else "its pool"
        message = head + (f"{shown} runs as many threads or greenlets as the host has CPUs, a number unrelated "
                          "to how many I/O-bound tasks it should run at once")
        hint = "Set --concurrency to the number of tasks that may wait on I/O at once (e.g. 50 for gevent)."
    yield ctx.finding(view.anchor(), message, hint=hint, depends_on=(*pool_depends(view), *options_depend(view)))


# --- VL303 -----------------------------------------------------------------------------------
def _min_memory(option: Any) -> int:
    if isinstance(option, bool):
        return 128 * MiB
    if isinstance(option, (int, float)):
        return int(option * MiB)
    parsed = compose_bytes(option) if isinstance(option, str) else None
    return parsed if parsed else 128 * MiB


def _processes(view: CeleryView) -> tuple[int, Setting] | None:
    """The most pool processes the worker runs: -c, or the maximum of --autoscale."""
    autoscale = view.get("autoscale")
    if autoscale is not None and isinstance(autoscale.value, str) and known(autoscale.value):
        high = number(autoscale.value.split(",")[0])
        return (int(high), autoscale) if high else None
    concurrency = view.get("concurrency")
    if concurrency is None:
        return None
    value = number(concurrency.value)
    return (int(value), concurrency) if value and value > 0 else None


@rule(
    code="VL303",
    name="celery-concurrency-vs-limits",
    summary="A prefork worker runs more processes than its memory limit can hold, or than its cpus limit runs at once.",
    severity=Severity.WARNING,
    hint="Lower --concurrency, or raise the container's cpus or memory limit to match it.",
    roles=("celery-worker",),
    options_schema={
        "type": "object",
        "properties": {
            "max-per-cpu": {
                "type": "number", "exclusiveMinimum": 0,
                "description": "Most prefork processes per CPU of the cpus limit.",
            },
            "min-memory-per-process": {
                "type": ["string", "integer"],
                "description": "Least memory per process: a size such as 128MiB or 256m (binary units, as "
                               "Compose reads them), or a number of MiB.",
            },
        },
        "additionalProperties": False,
    },
    default_options={"max-per-cpu": 2, "min-memory-per-process": "128MiB"},
    contexts=PRODUCTION_ONLY,
)
def celery_concurrency_vs_limits(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    For a prefork worker (the default pool) whose concurrency is known (`-c`,
    `CELERY_WORKER_CONCURRENCY`, or the maximum of `--autoscale`), reports a concurrency above
    `max-per-cpu` (default 2) times the container's cpus limit (info: it matters only for
    CPU-bound tasks), and a memory limit that leaves less than `min-memory-per-process`
    (default 128 MiB) per process (warning). Other pools (threads, gevent, eventlet) run their
    concurrency inside one process and pass.

    ## Why it matters
    Every prefork process is a full copy of the app. When the memory limit divided by the
    processes is below what one process needs the kernel OOM-kills a child mid-task
    (`WorkerLostError`) or the whole container. If the tasks are CPU-bound, more processes
    than the CPU quota only queue for CPU time (tasks get slower, not faster); tasks that
    mostly wait on I/O can use more processes than CPUs, hence only info.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker --concurrency=16
        deploy:
          resources:
            limits: {cpus: "2", memory: 1G}
    ```

    ## Fix
    `--concurrency=4` for 2 CPUs and 1G (256 MiB per process).
    """
    view = _worker(service)
    if view is None or pool(view) not in ("prefork", "processes"):
        return
    found = _processes(view)
    if found is None:
        return
    processes, setting = found
    at = view.span(setting)
    shown = view.show(setting)
    per_cpu = float(ctx.options.get("max-per-cpu", 2) or 2)
    cpus = service.cpus_limit
    if cpus and processes > per_cpu * cpus:
        yield _with_severity(ctx.finding(
            at,
            f'service "{service.name}" runs {processes} prefork processes ({shown}) with a cpus limit of {cpus:g}: '
            f"more than {per_cpu:g} per CPU, so CPU-bound tasks wait for CPU time instead of working",
            hint=f"If the tasks are CPU-bound use at most --concurrency={max(1, int(per_cpu * cpus))}, or raise the "
                 "cpus limit; I/O-bound tasks may keep it.",
        ), Severity.INFO)
    memory = service.memory_limit
    least = _min_memory(ctx.options.get("min-memory-per-process"))
    if memory and memory // processes < least:
        yield ctx.finding(
            at,
            f'service "{service.name}" runs {processes} prefork processes ({shown}) in a memory limit of '
            f"{human_bytes(memory)}: {human_bytes(memory // processes)} each, under {human_bytes(least)}; "
            "a child that needs more is OOM-killed mid-task",
            hint=f"Use at most --concurrency={max(1, memory // least)}, or raise the memory limit.",
        )


# --- VL304 -----------------------------------------------------------------------------------
@rule(
    code="VL304",
    name="celery-no-child-recycling",
    summary="A prefork worker never replaces its child processes, so leaks accumulate.",
    severity=Severity.WARNING,
    hint="Add --max-tasks-per-child (e.g. 100) and/or --max-memory-per-child (in KiB, e.g. 200000).",
    roles=("celery-worker",),
    contexts=PRODUCTION_ONLY,
)
def celery_no_child_recycling(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a prefork worker with neither `--max-tasks-per-child` nor `--max-memory-per-child`
    (nor `CELERY_WORKER_MAX_TASKS_PER_CHILD` / `CELERY_WORKER_MAX_MEMORY_PER_CHILD`, nor
    `worker_max_tasks_per_child` / `worker_max_memory_per_child` in the app's configuration
    when its code is in the project, see VL327). A value of 0 means no limit and counts as unset.

    ## Why it matters
    Pool processes live as long as the worker: memory that tasks leak (caches, C
    extensions, fragmented heaps) grows until the container's memory limit is hit and the
    kernel kills a process mid-task. With a limit the child finishes its current task and is
    replaced. `--max-memory-per-child` is in KiB (1024 bytes).

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker --concurrency=4
    ```

    ## Fix
    `command: celery -A myapp worker --concurrency=4 --max-tasks-per-child=100`
    """
    view = _worker(service)
    if view is None or pool(view) not in ("prefork", "processes", ""):
        return
    if _set(view.get("max-tasks-per-child")) or _set(view.get("max-memory-per-child")):
        return
    zero = next((s for s in (view.get("max-tasks-per-child"), view.get("max-memory-per-child")) if s), None)
    detail = f" ({view.show(zero)} means no limit)" if zero is not None else ""
    config = app_config(view)
    app_side = (" (nor worker_max_tasks_per_child / worker_max_memory_per_child in the app)"
                if config is not None and config.app_span is not None else "")
    yield ctx.finding(
        view.span(zero) if zero is not None else view.anchor(),
        f'service "{service.name}" runs `{view.program}` without --max-tasks-per-child or '
        f"--max-memory-per-child{app_side}{detail}: its pool processes are never replaced, so leaked memory only grows",
        depends_on=(*pool_depends(view), *options_depend(view)),
    )


# --- VL305 -----------------------------------------------------------------------------------
@rule(
    code="VL305",
    name="celery-time-limits-unset",
    summary="A Celery worker has no hard or no soft task time limit.",
    severity=Severity.WARNING,
    hint="Add --time-limit and a lower --soft-time-limit (or CELERY_WORKER_TIME_LIMIT / CELERY_WORKER_SOFT_TIME_LIMIT).",
    roles=("celery-worker",),
    contexts=PRODUCTION_ONLY,
)
def celery_time_limits_unset(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a worker without a hard time limit (`--time-limit`, `CELERY_WORKER_TIME_LIMIT`)
    or without a soft one (`--soft-time-limit`, `CELERY_WORKER_SOFT_TIME_LIMIT`).
    `CELERY_TASK_TIME_LIMIT` and `CELERY_TASK_SOFT_TIME_LIMIT` count as set: they say what
    the user intends, and VL306 says what makes them work. The app's own `task_time_limit` /
    `task_soft_time_limit` (read from its code, see VL327) count too, and they are what the
    tasks really get: each task copies them and the pool's default (`--time-limit`) applies
    only when the app sets none. Pools that do not enforce time
    limits (`solo`, `threads`, `eventlet`) pass; the `gevent` pool enforces only the hard limit
    (it has no soft one), so there only a missing hard limit is reported.

    ## Why it matters
    Celery has no default time limit: a task stuck on a network call without a timeout
    holds its pool process forever, and enough of them stall the worker while it still looks
    alive. The hard limit kills and replaces the process; the soft limit raises
    `SoftTimeLimitExceeded` first so the task can clean up.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker --concurrency=4
    ```

    ## Fix
    `command: celery -A myapp worker --concurrency=4 --time-limit=300 --soft-time-limit=240`
    """
    view = _worker(service)
    if view is None or pool(view) not in _TIME_LIMIT_POOLS:
        return
    missing = []
    config = app_config(view)
    read = config is not None and config.app_span is not None
    if not _set(intended_limit(view, soft=False)):
        app_side = ", nor task_time_limit in the app" if read else ""
        missing.append(f"no hard time limit (--time-limit, CELERY_WORKER_TIME_LIMIT{app_side})")
    if not _set(intended_limit(view, soft=True)) and pool(view) != "gevent":
        app_side = ", nor task_soft_time_limit in the app" if read else ""
        missing.append(f"no soft time limit (--soft-time-limit, CELERY_WORKER_SOFT_TIME_LIMIT{app_side})")
    if not missing:
        return
    consequence = ("a stuck task holds its process forever" if len(missing) == 2 or "hard" in missing[0]
                   else "tasks are killed at the hard limit without a chance to clean up")
    yield ctx.finding(
        view.anchor(),
        f'service "{service.name}" runs `{view.program}` with {" and ".join(missing)}: {consequence}',
        depends_on=(*pool_depends(view), *options_depend(view)),
    )


# --- VL306 -----------------------------------------------------------------------------------
@rule(
    code="VL306",
    name="celery-env-not-read",
    summary="A CELERY_<SETTING> variable that Celery itself never reads.",
    severity=Severity.INFO,
    hint="Use the variable the celery command line reads (CELERY_WORKER_<OPTION>) or the flag, or make the app map CELERY_* variables into its configuration.",
    roles=CELERY_ROLES,
    options_schema={
        "type": "object",
        "properties": {
            "app-maps-env": {
                "type": "boolean",
                "description": "The app maps CELERY_* variables into its configuration (e.g. Django's "
                               "namespace='CELERY'): do not report them.",
            },
        },
        "additionalProperties": False,
    },
    default_options={"app-maps-env": False},
)
def celery_env_not_read(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a `CELERY_...` variable in a worker's, beat's or Flower's environment that
    Celery does not read: neither the library (`CELERY_BROKER_URL`, `CELERY_RESULT_BACKEND`,
    `CELERY_CONFIG_MODULE` ...) nor the `celery` command line (`CELERY_APP`,
    `CELERY_WORKER_<OPTION>`, `CELERY_BEAT_<OPTION>` ...). The message names the variable the
    command line reads for the same thing when there is one (`CELERY_WORKER_TIME_LIMIT` for
    `CELERY_TASK_TIME_LIMIT`). A variable the app's configuration reads (a settings file
    with `os.environ.get("CELERY_TASK_TIME_LIMIT")`, or `config_from_object(os.environ,
    namespace="CELERY")`) is not reported when the app's code is in the project (VL327). Set
    the option `app-maps-env: true` when your app maps them some other way.

    ## Why it matters
    `CELERY_TASK_TIME_LIMIT=300` looks like configuration but Celery ignores it:
    `app.conf.task_time_limit` stays `None` unless the app loads its settings from the
    environment (Django's `config_from_object("django.conf:settings", namespace="CELERY")`
    with a settings line that reads the variable, or `config_from_object(os.environ,
    namespace="CELERY")`, which keeps values as strings). The limit the user believes in may
    not exist.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker
        environment:
          CELERY_TASK_TIME_LIMIT: "300"
    ```

    ## Fix
    `CELERY_WORKER_TIME_LIMIT: "300"` (read by `celery worker`), or `--time-limit=300`.
    """
    if ctx.options.get("app-maps-env"):
        return
    view = celery_view(service)
    if view is None:
        return
    subcommand = view.subcommand or "worker"
    django = "DJANGO_SETTINGS_MODULE" in service.environment
    config = app_config(view)
    if config is not None and config.maps_environ:
        return      # config_from_object(os.environ, namespace=...): the app reads them all
    for name in view.unread:
        var = service.environment.get(name)
        if var is None or (config is not None and name in config.env_read):
            continue    # the app's configuration reads it (e.g. settings.py: os.environ.get(name))
        instead = env_suggestion(name, subcommand)
        if instead:
            tail = f"; `celery {subcommand}` reads {instead} instead"
        else:
            setting = name.removeprefix("CELERY_").lower()
            tail = f"; no `celery {subcommand}` option reads it, so only the app's configuration (`{setting}`) can"
        mapped = (" (this service sets DJANGO_SETTINGS_MODULE: it works if the Celery app loads Django settings "
                  "with namespace='CELERY' and settings.py reads the variable)") if django else \
                 " (it works only if the app maps it into its configuration)"
        if config is not None and config.complete and config.app_span is not None:
            mapped = f" and neither does the app's configuration read from {config.app_span.path}"
        yield ctx.finding(
            env_name_span(service, var),
            f'service "{service.name}": Celery does not read {name} itself{mapped}{tail}',
        )


# --- VL307 -----------------------------------------------------------------------------------
@rule(
    code="VL307",
    name="celery-soft-limit-not-below-hard",
    summary="The soft time limit is not below the hard one, so the task is killed the moment SoftTimeLimitExceeded is raised.",
    severity=Severity.ERROR,
    hint="Make the soft time limit lower than the hard one (e.g. --time-limit=300 --soft-time-limit=240).",
    roles=("celery-worker",),
)
def celery_soft_limit_not_below_hard(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Compares the worker's soft and hard time limits, wherever each was given: flags
    (`--soft-time-limit`, `--time-limit`), the variables the command line reads
    (`CELERY_WORKER_SOFT_TIME_LIMIT`, `CELERY_WORKER_TIME_LIMIT`), or the
    `CELERY_TASK_SOFT_TIME_LIMIT`/`CELERY_TASK_TIME_LIMIT` the user meant, or the app's
    `task_soft_time_limit`/`task_time_limit` (which beat the flags). A soft limit above
    the hard one is an error; an equal one is a warning. Only the prefork pool (the default)
    has both limits: `solo`, `threads` and `eventlet` enforce none and `gevent` no soft one
    (VL320 reports those), so they pass.

    ## Why it matters
    The soft limit raises `SoftTimeLimitExceeded` inside the task so it can clean up; the
    hard limit kills the process. In the prefork pool the hard timer of a task with a soft
    limit is armed only when the soft one fires, for the time that remains until the hard
    limit. With soft >= hard nothing happens at the hard limit: `SoftTimeLimitExceeded` is
    raised at the soft limit and the process is killed at once, so the cleanup the soft limit
    exists for never runs and the task runs longer than the hard limit says. The worker
    accepts `--soft-time-limit 20 --time-limit 10` without a word, and Celery 5.5+ refuses such
    a pair only when it comes from the app's configuration (`ValueError` when a task is sent).

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker --time-limit=300
        environment:
          CELERY_WORKER_SOFT_TIME_LIMIT: "600"
    ```

    ## Fix
    `CELERY_WORKER_SOFT_TIME_LIMIT: "240"`
    """
    view = _worker(service)
    if view is None or pool(view) not in ("prefork", "processes", ""):
        return
    hard, soft = intended_limit(view, soft=False), intended_limit(view, soft=True)
    if hard is None or soft is None:
        return
    hard_s, soft_s = number(hard.value), number(soft.value)
    if hard_s is None or soft_s is None or hard_s <= 0 or soft_s <= 0 or soft_s < hard_s:
        return
    if soft_s > hard_s:
        message = (f'service "{service.name}": soft time limit {view.show(soft)} ({seconds(soft_s)}) is above the '
                   f"hard limit {view.show(hard)} ({seconds(hard_s)}): the hard timer starts only when the soft one fires, so "
                   f"tasks run until {seconds(soft_s)}, get SoftTimeLimitExceeded and are killed at once, "
                   "with no time to clean up")
        yield ctx.finding(view.span(soft), message, depends_on=pool_depends(view))
    else:
        message = (f'service "{service.name}": soft time limit {view.show(soft)} equals the hard limit '
                   f"{view.show(hard)} ({seconds(hard_s)}): the process is killed right after SoftTimeLimitExceeded is "
                   "raised, so tasks get no time to clean up")
        yield _with_severity(ctx.finding(view.span(soft), message, depends_on=pool_depends(view)), Severity.WARNING)


# --- VL308 -----------------------------------------------------------------------------------
@rule(
    code="VL308",
    name="celery-prefetch",
    summary="The worker's prefetch multiplier is left at its default, or above 1 for long tasks.",
    severity=Severity.INFO,
    hint="Set --prefetch-multiplier=1 (or CELERY_WORKER_PREFETCH_MULTIPLIER=1) with task_acks_late for long tasks.",
    roles=("celery-worker",),
    options_schema={
        "type": "object",
        "properties": {
            "long-task-seconds": {
                "type": "number", "exclusiveMinimum": 0,
                "description": "A hard time limit at or above this many seconds means the worker runs long tasks.",
            },
        },
        "additionalProperties": False,
    },
    default_options={"long-task-seconds": 300},
    contexts=PRODUCTION_ONLY,
)
def celery_prefetch(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a worker that does not set its prefetch multiplier (`--prefetch-multiplier`,
    `CELERY_WORKER_PREFETCH_MULTIPLIER`, the app's `worker_prefetch_multiplier`) (info), and
    one whose multiplier is above 1 (the
    default is 4) while its hard time limit is at least `long-task-seconds` (default 300),
    which means it runs long tasks (warning). `--disable-prefetch` (Celery 5.6+, Redis) passes.
    `--prefetch-multiplier 0` is ignored by the command line and counts as unset.

    ## Why it matters
    The worker reserves `concurrency x multiplier` messages from the broker (the prefetch
    count), more than it can run. With long tasks the reserved ones wait behind the running
    ones while other workers sit idle, and if the worker is killed they stay unacknowledged
    until the broker redelivers them (on Redis after the visibility timeout). Celery's optimizing guide: for long tasks use
    `worker_prefetch_multiplier = 1` with `task_acks_late = True`.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker --time-limit=1800 --prefetch-multiplier=8
    ```

    ## Fix
    `--prefetch-multiplier=1` (and `task_acks_late = True` in the app).
    """
    view = _worker(service)
    if view is None or view.enabled("disable-prefetch"):
        return
    setting = view.get("prefetch-multiplier")
    value = number(setting.value) if setting is not None else None
    if setting is not None and value is None:
        return      # set through a variable the file does not resolve
    unset = setting is None or value == 0
    multiplier = DEFAULT_PREFETCH if unset else int(value)
    long_seconds = float(ctx.options.get("long-task-seconds", 300) or 300)
    hard = intended_limit(view, soft=False)
    hard_s = number(hard.value) if hard is not None else None
    if multiplier > 1 and hard is not None and hard_s is not None and hard_s >= long_seconds:
        written = f"{view.show(setting)}" if setting is not None and not unset else "unset, default 4"
        if setting is not None and value == 0:
            written = f"{view.show(setting)}, which the command line ignores: default 4"
        at = view.span(setting) if setting is not None else \
            (view.anchor() if hard.source == "app" else view.span(hard))
        message = (f'service "{service.name}" reserves {multiplier} tasks per unit of concurrency ({written}) with a hard '
                   f"time limit of {seconds(hard_s)} ({view.show(hard)}): reserved tasks wait behind long ones "
                   "while other workers idle")
        yield _with_severity(ctx.finding(at, message), Severity.WARNING)
    elif unset:
        detail = f" ({view.show(setting)} is ignored by the command line)" if setting is not None else ""
        at = view.span(setting) if setting is not None else view.anchor()
        yield ctx.finding(
            at,
            f'service "{service.name}" does not set its prefetch multiplier{detail}: the worker reserves '
            f"{DEFAULT_PREFETCH} tasks per unit of concurrency ahead (the default)",
            depends_on=options_depend(view),
        )


# --- VL312 -----------------------------------------------------------------------------------
@rule(
    code="VL312",
    name="celery-queues-unset",
    summary="A Celery worker does not name its queues, so which ones it consumes depends on the app's code.",
    severity=Severity.INFO,
    hint="Name the queues this worker consumes with -Q/--queues (e.g. -Q default,reports).",
    roles=("celery-worker",),
    contexts=PRODUCTION_ONLY,
)
def celery_queues_unset(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a worker without `-Q/--queues` or `CELERY_WORKER_QUEUES`. When the app's code
    is in the project and declares `task_queues`, the worker consumes those by design and
    passes; when the app declares none the message names the default queue it will consume.

    ## Why it matters
    Without `-Q` a worker consumes every queue the app declares in `task_queues`, and only
    the default queue (`celery`, unless the app sets `task_default_queue`) when it declares
    none. Either way the Compose file does not show what a worker runs: every worker of the
    app takes slow tasks and urgent ones alike, so no service can be scaled for one queue,
    and a task routed to a queue that is not in `task_queues` is run by no worker. Naming
    queues per worker service makes routing visible and lets each be scaled on its own.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker --concurrency=4
    ```

    ## Fix
    `command: celery -A myapp worker --concurrency=4 -Q default,reports`
    """
    view = _worker(service)
    if view is None or view.get("queues") is not None:
        return
    config = app_config(view)
    if config is not None and config.get("task_queues") is not None:
        return      # the app declares its queues: the worker consumes those, by design
    if config is not None and config.complete and config.app_span is not None:
        default_queue = config.value("task_default_queue")
        shown = default_queue if isinstance(default_queue, str) else "celery"
        yield ctx.finding(
            view.anchor(),
            f'service "{service.name}" runs `{view.program}` without -Q/--queues and the app '
            f'({config.app_span.path}) declares no task_queues: it consumes only the default queue "{shown}", '
            "so a task routed to another queue waits there for a worker that does not exist",
            depends_on=options_depend(view),
        )
        return
    yield ctx.finding(
        view.anchor(),
        f'service "{service.name}" runs `{view.program}` without -Q/--queues: it consumes every queue in the '
        'app\'s task_queues (only the default queue, "celery", when the app declares none), so the file does not '
        "say which work it does",
        depends_on=options_depend(view),
    )
