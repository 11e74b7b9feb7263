"""VL320: worker options the chosen pool silently ignores, or cannot mean what was written."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.compose.model import Service
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.registry import rule
from vantage_lint.rules.celery_options import celery_view, number, pool

# Celery's pools: prefork enforces both time limits, gevent only the hard one; the others none.
_NO_LIMITS = ("threads", "solo", "eventlet")
# A Celery child's resident memory is tens of MiB from the start: a KiB limit below this is
# exceeded by every child after its first task (it was meant as MB).
TINY_KIB = 32 * 1024


@rule(
    code="VL320",
    name="celery-pool-ignores-option",
    summary="A worker option its pool ignores (time limits, -c with solo, child recycling) or a "
            "--max-memory-per-child too small to be KiB.",
    severity=Severity.WARNING,
    hint="Remove the option or pick a pool that honours it (prefork); --max-memory-per-child is in KiB.",
    roles=("celery-worker",),
)
def celery_pool_ignores_option(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports, for the worker's pool (`-P`, `CELERY_WORKER_POOL`; prefork by default):
    - `--time-limit`/`--soft-time-limit` with `threads`, `solo` or `eventlet`, which enforce
      no time limit, and `--soft-time-limit` with `gevent`, which has no soft limit;
    - `-c/--concurrency` above 1 with `solo`, which runs one task at a time;
    - `--max-tasks-per-child`/`--max-memory-per-child` with a pool other than prefork (there
      are no child processes to replace);
    - `--max-memory-per-child` below 32768: the value is KiB, so `512` (meant as MB) is half a
      MiB, which every child exceeds after its first task.

    ## Why it matters
    The worker starts without a word about any of them. A time limit the pool does not
    enforce protects nothing: a stuck task holds its thread or greenlet forever. A tiny
    memory limit makes prefork replace the child after every task: a fork and a fresh import
    of the app per task (checked with a real worker: `--max-memory-per-child=512` ran each
    task in a new process).

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker -P threads -c 8 --time-limit=300 --max-memory-per-child=512
    ```

    ## Fix
    `celery -A myapp worker -c 4 --time-limit=300 --max-memory-per-child=512000` (prefork,
    500 MiB), or drop the options the pool ignores.
    """
    view = celery_view(service)
    if view is None or view.subcommand not in ("worker", ""):
        return
    kind = pool(view)
    if not kind:
        return      # set through a variable the file does not resolve
    for option in ("time-limit", "soft-time-limit"):
        setting = view.get(option)
        value = number(setting.value) if setting is not None else None
        if setting is None or not value:
            continue
        if kind in _NO_LIMITS or (kind == "gevent" and option == "soft-time-limit"):
            what = "no soft time limit" if kind == "gevent" else "no time limits"
            yield ctx.finding(
                view.span(setting),
                f'service "{service.name}": the {kind} pool enforces {what}, so {view.show(setting)} is ignored and '
                "a stuck task runs forever",
                hint="Use the prefork pool for time limits (gevent enforces only --time-limit), or drop the option.",
            )
    concurrency = view.get("concurrency")
    count = number(concurrency.value) if concurrency is not None else None
    if kind == "solo" and concurrency is not None and count is not None and count > 1:
        yield ctx.finding(
            view.span(concurrency),
            f'service "{service.name}": the solo pool runs one task at a time, so {view.show(concurrency)} is ignored',
            hint="Use -P prefork (or threads) for concurrency, or drop -c.",
        )
    for option in ("max-tasks-per-child", "max-memory-per-child"):
        setting = view.get(option)
        value = number(setting.value) if setting is not None else None
        if setting is None or not value:
            continue
        if kind not in ("prefork", "processes"):
            yield ctx.finding(
                view.span(setting),
                f'service "{service.name}": the {kind} pool has no child processes to replace, so '
                f"{view.show(setting)} is ignored",
                hint="Drop the option, or use the prefork pool to recycle child processes.",
            )
        elif option == "max-memory-per-child" and 0 < value < TINY_KIB:
            yield ctx.finding(
                view.span(setting),
                f'service "{service.name}": {view.show(setting)} is KiB ({value / 1024:g} MiB), less than any '
                "Celery child uses: every child is replaced after its first task",
                hint=f"Write the limit in KiB: --max-memory-per-child={int(value) * 1024} for {int(value)} MiB.",
            )
