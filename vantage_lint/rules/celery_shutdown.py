"""VL319: a Celery worker that Docker stops with SIGKILL instead of a warm shutdown."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.celery.shutdown import NEVER_EXEC, shell_wrapper
from vantage_lint.compose.model import Service
from vantage_lint.compose.unknown import has_unknown
from vantage_lint.compose.units import compose_duration
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.rules.celery_options import celery_view, intended_limit, number, pool, pool_depends, seconds

DEFAULT_GRACE = 10.0
# Celery's worker: SIGTERM and (first) SIGINT are a warm shutdown, SIGQUIT a cold one,
# SIGHUP a restart, SIGUSR1 a traceback dump; SIGKILL is no shutdown at all.
_WARM = frozenset({"TERM", "INT"})
_NUMBERS = {"1": "HUP", "2": "INT", "3": "QUIT", "9": "KILL", "10": "USR1", "12": "USR2", "15": "TERM"}
_WHAT = {
    "QUIT": "a cold shutdown: running tasks are abandoned at once",
    "KILL": "no shutdown at all",
    "HUP": "a restart, not an exit, so Docker SIGKILLs it after the grace period",
    "USR1": "a traceback dump, not an exit, so Docker SIGKILLs it after the grace period",
}


def _signal(text: str) -> str:
    name = text.strip().upper()
    return _NUMBERS.get(name, name.removeprefix("SIG"))


@rule(
    code="VL319",
    name="celery-worker-not-stopped-gracefully",
    summary="Docker's stop signal never gets a warm shutdown from the worker: a shell is PID 1, "
            "stop_signal is not SIGTERM/SIGINT, or stop_grace_period is shorter than the hard time limit.",
    severity=Severity.WARNING,
    hint='Start the worker with exec (sh -c "... && exec celery -A app worker"), keep stop_signal SIGTERM, '
         "and set stop_grace_period above the hard time limit.",
    roles=("celery-worker",),
    contexts=PRODUCTION_ONLY,
)
def celery_worker_not_stopped_gracefully(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a worker that cannot shut down warmly when Docker stops it:
    - its command is a shell script (`sh -c "cd /app && celery ... worker"`) that does not
      `exec` the worker: `sh`/`dash` never replaces itself with the last command (bash does,
      unless the script sets a `trap` or the worker is inside `if`/`{ }`/a pipeline or in
      the background; a worker followed by other commands never gets it in any shell);
    - its `stop_signal` is not one Celery treats as a warm shutdown (`SIGTERM`, `SIGINT`):
      `SIGQUIT` is a cold shutdown, `SIGHUP` restarts, `SIGKILL` kills;
    - its `stop_grace_period` (10 s by default) is shorter than its hard time limit (from the
      command line or the app's `task_time_limit`).

    ## Why it matters
    `docker stop` (and every `docker compose up` that recreates the container) sends the
    stop signal to PID 1 only, waits `stop_grace_period`, then SIGKILLs. A shell that is PID 1
    has no SIGTERM handler, so the kernel drops the signal and the worker runs on until the
    SIGKILL. Either way running tasks are lost and the tasks the worker had reserved wait in
    Redis's `unacked` set until the visibility timeout (an hour by default) before another
    worker gets them. Checked with a real worker: under dash the shell, not the worker, is the
    process Docker signals; under bash the worker is and shuts down warmly.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: sh -c "python manage.py migrate && celery -A myapp worker --time-limit=300"
    ```

    ## Fix
    ```yaml
        command: sh -c "python manage.py migrate && exec celery -A myapp worker --time-limit=300"
        stop_grace_period: 330s
    ```
    """
    view = celery_view(service)
    if view is None or view.subcommand not in ("worker", ""):
        return
    wrapper = shell_wrapper(service)
    if wrapper is not None and not wrapper.worker_gets_signal:
        if not wrapper.last or wrapper.compound:
            why = "the worker is not the script's last foreground command, so no shell replaces itself with it"
        elif wrapper.trap:
            why = "the script sets a trap, so bash does not replace itself with the worker"
        elif wrapper.shell in NEVER_EXEC:
            why = (f"`{wrapper.shell}` (dash on Debian-based images) does not replace itself with the last "
                   "command")
        else:
            why = "the shell does not replace itself with the worker"
        yield ctx.finding(
            service.word_span(wrapper.shell_word),
            f'service "{service.name}" starts `{view.program}` from `{wrapper.shell} -c` without exec: {why}, so '
            "Docker's SIGTERM goes to the shell, which ignores it as PID 1, and the worker is SIGKILLed after the "
            "grace period, losing its running tasks",
            hint="Put exec in front of the celery command (`... && exec celery ...`), or run celery as the command itself.",
        )
    stop = service.get("stop_signal")
    stop_text = service.text("stop_signal")
    if stop is not None and stop_text and "$" not in stop_text and not has_unknown(stop_text):
        name = _signal(stop_text)
        if name not in _WARM:
            what = _WHAT.get(name, "not a shutdown Celery handles")
            yield ctx.finding(
                stop.span,
                f'service "{service.name}" stops its worker with stop_signal {stop_text}: for Celery that is '
                f"{what}; running tasks are lost",
                hint="Remove stop_signal (SIGTERM, a warm shutdown, is the default) or set SIGTERM.",
            )
    hard = intended_limit(view, soft=False)
    hard_s = number(hard.value) if hard is not None else None
    if hard is None or not hard_s or hard_s <= 0 or pool(view) in ("solo", "threads", "eventlet"):
        return
    grace_text = service.text("stop_grace_period")
    grace = compose_duration(grace_text) if grace_text else DEFAULT_GRACE
    if grace is None or grace >= hard_s:
        return
    # Where the user must edit: stop_grace_period, or the service when it is unset (the hard
    # limit may be written in the app's .py file, which is not where the fix goes).
    at = service.value_span("stop_grace_period") if grace_text else \
        (view.anchor() if hard.source == "app" else view.span(hard))
    written = f"stop_grace_period {grace_text}" if grace_text else "the default stop_grace_period of 10s"
    yield ctx.finding(
        at,
        f'service "{service.name}" lets tasks run up to {seconds(hard_s)} ({view.show(hard)}) but Docker waits only '
        f"{written} after SIGTERM before SIGKILL: a warm shutdown cannot finish a long task",
        hint=f"Set stop_grace_period: {int(hard_s) + 30}s (above the hard time limit).",
        depends_on=pool_depends(view),
    )
