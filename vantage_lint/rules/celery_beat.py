"""VL313, VL314: one beat per schedule, and a schedule that survives the container."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from vantage_lint.celery.command import Setting
from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import ScalarNode, SeqNode
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity, Span
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.rules.celery_options import CeleryView, celery_view, known

DEFAULT_SCHEDULE = "celerybeat-schedule"
_PERSISTENT = ("celery.beat:PersistentScheduler", "celery.beat.PersistentScheduler", "PersistentScheduler")


def _with_severity(finding: Finding, severity: Severity) -> Finding:
    finding.severity = severity
    finding.explicit_severity = True
    return finding


def runs_beat(service: Service) -> tuple[CeleryView, Setting | None] | None:
    """The service's view and its ``-B`` setting when it runs a beat scheduler: ``celery beat``
    (setting None) or ``celery worker -B``/``CELERY_WORKER_BEAT``."""
    view = celery_view(service)
    if view is None:
        return None
    if view.subcommand == "beat":
        return view, None
    if view.subcommand == "worker" and view.enabled("beat"):
        return view, view.get("beat")
    return None


def locked(view: CeleryView) -> bool:
    """RedBeat takes a Redis lock, so only one of several running schedulers sends tasks."""
    scheduler = view.get("scheduler")
    return scheduler is not None and "redbeat" in str(scheduler.value).lower()


def _profiles(service: Service) -> set[str]:
    node = service.get("profiles")
    if isinstance(node, SeqNode):
        return {item.text for item in node.items if isinstance(item, ScalarNode)}
    return set()


def _same_schedule(a: CeleryView, b: CeleryView) -> bool:
    """Two beats send the same tasks unless they run different apps, never run together, or
    share RedBeat's lock."""
    if locked(a) and locked(b):
        return False
    app_a, app_b = a.get("app"), b.get("app")
    if app_a is not None and app_b is not None and known(app_a.value) and known(app_b.value) \
            and app_a.value != app_b.value:
        return False
    profiles_a, profiles_b = _profiles(a.service), _profiles(b.service)
    return not (profiles_a and profiles_b and not profiles_a & profiles_b)


def _replicas_span(service: Service) -> Span:
    if service.get("deploy", "replicas") is not None:
        return service.value_span("deploy", "replicas")
    return service.value_span("scale")


# --- VL313 -----------------------------------------------------------------------------------
@rule(
    code="VL313",
    name="celery-beat-replicated",
    summary="More than one beat scheduler runs for a schedule, or beat is embedded in a worker.",
    severity=Severity.ERROR,
    hint="Run exactly one beat: a dedicated `celery beat` service with one replica, and no -B on workers.",
    roles=("celery-beat",),
)
def celery_beat_replicated(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a beat service (`celery beat`, or a worker started with `-B/--beat` or
    `CELERY_WORKER_BEAT`) with `deploy.replicas` or `scale` above 1, and a second beat
    service for the same app in the project (error), and `worker -B` on its own (warning:
    the Celery docs call it unfit for production). Services whose profiles never run
    together, or that run different apps (`-A`), are not counted together, and schedulers
    that all use RedBeat (`-S redbeat.RedBeatScheduler`, which takes a Redis lock) may run
    several replicas.

    ## Why it matters
    Beat keeps no lock: every running scheduler sends every periodic task, so two beats
    mean every task runs twice (verified: two beats, a 2 s schedule and 9 s gave 8 messages
    instead of 4). A worker with `-B` embeds a scheduler in each of its replicas, so scaling
    the worker (`docker compose up --scale worker=3`) multiplies the schedule.

    ## Example
    ```yaml
    services:
      beat:
        image: myapp:1.4.2
        command: celery -A myapp beat
        deploy:
          replicas: 2
    ```

    ## Fix
    `replicas: 1` for beat, and a separate worker service without `-B`.
    """
    found = runs_beat(service)
    if found is None:
        return
    view, embedded = found
    replicas = service.replicas
    what = "`celery worker -B`" if embedded is not None else "`celery beat`"
    if replicas is not None and replicas > 1 and not locked(view):
        yield ctx.finding(
            _replicas_span(service),
            f'service "{service.name}" runs {what} with {replicas} replicas: each replica is a scheduler, so every '
            f"periodic task is sent {replicas} times",
        )
    elif embedded is not None:
        scaled = ("RedBeat's lock keeps its replicas from sending duplicates" if locked(view) else
                  "every replica of this worker (docker compose up --scale) runs another scheduler")
        yield _with_severity(ctx.finding(
            view.span(embedded),
            f'service "{service.name}" embeds beat in its worker ({view.show(embedded)}), which the Celery docs '
            f"do not recommend for production (it suits only a single worker node); {scaled}",
            hint="Move beat to its own `celery beat` service with one replica and drop -B from the worker.",
        ), Severity.WARNING)
    services = list(service.project.services.values())
    earlier = []
    for other in services[: services.index(service)]:
        other_found = runs_beat(other)
        if other_found is not None and _same_schedule(view, other_found[0]):
            earlier.append(other.name)
    if earlier:
        at = view.span(embedded) if embedded is not None else view.anchor()
        names = ", ".join(f'"{n}"' for n in earlier)
        others = f"service {names} runs" if len(earlier) == 1 else f"services {names} run"
        times = "twice" if len(earlier) == 1 else f"{len(earlier) + 1} times"
        yield ctx.finding(
            at,
            f'service "{service.name}" runs {what} and {others} beat for the same app too: every periodic task is '
            f"sent {times}",
        )


# --- VL314 -----------------------------------------------------------------------------------
def _under(path: str, target: str) -> bool:
    target = posixpath.normpath(target)
    return path == target or path.startswith(target.rstrip("/") + "/")


@rule(
    code="VL314",
    name="celery-beat-schedule-not-persisted",
    summary="The beat schedule file is not on a volume, so its last-run times are lost on every recreate.",
    severity=Severity.WARNING,
    hint="Put the schedule on a volume (e.g. -s /var/lib/celery/beat-schedule with a named volume there), or use a database scheduler.",
    roles=("celery-beat",),
    contexts=PRODUCTION_ONLY,
)
def celery_beat_schedule_not_persisted(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Finds where beat keeps its schedule: `-s/--schedule` (`--schedule-filename` for
    `worker -B`, or `CELERY_BEAT_SCHEDULE`), by default `celerybeat-schedule` in the working
    directory (`--workdir`, else `working_dir:`), and reports it when no volume or bind mount
    holds that path (a `tmpfs` does not count). A scheduler other than the default
    `PersistentScheduler` (`-S django_celery_beat.schedulers:DatabaseScheduler`,
    `redbeat.RedBeatScheduler`) passes, given on the command line or as `beat_scheduler` /
    `beat_schedule_filename` in the app's configuration (VL327). A relative path with an unknown working directory is
    reported only when the service mounts nothing.

    ## Why it matters
    The default scheduler stores each task's last run time in that file. In the container's
    writable layer it disappears whenever the container is recreated (`up` after an image
    change, `down`): interval tasks start counting again from zero, so a daily task may
    never run when the stack is redeployed daily, and runs due during the downtime are not
    caught up.

    ## Example
    ```yaml
    services:
      beat:
        image: myapp:1.4.2
        command: celery -A myapp beat -s /tmp/celerybeat-schedule
    ```

    ## Fix
    ```yaml
        command: celery -A myapp beat -s /var/lib/celery/beat-schedule
        volumes:
          - beat-data:/var/lib/celery
    ```
    """
    found = runs_beat(service)
    if found is None:
        return
    view, _embedded = found
    scheduler = view.get("scheduler")
    if scheduler is not None and (not known(scheduler.value) or str(scheduler.value) not in _PERSISTENT):
        return
    schedule = view.get("schedule" if view.subcommand == "beat" else "schedule-filename")
    path = str(schedule.value) if schedule is not None else DEFAULT_SCHEDULE
    if not known(path) or not path:
        return
    workdir_setting = view.get("workdir")
    workdir = str(workdir_setting.value) if workdir_setting is not None else service.text("working_dir")
    if not posixpath.isabs(path) and workdir and known(workdir) and posixpath.isabs(workdir):
        path = posixpath.join(workdir, path)
    kept = [m for m in service.mounts if m.type in ("bind", "volume") and m.target]
    at = view.span(schedule) if schedule is not None else view.anchor()
    how = view.show(schedule) if schedule is not None else "the default"
    if not posixpath.isabs(path):
        if kept:
            return      # relative to the image's working directory, which may be a mount
        where = f"{path} in the image's working directory"
    else:
        path = posixpath.normpath(path)
        if any(_under(path, m.target) for m in kept):
            return
        tmpfs = [m for m in service.mounts if m.type == "tmpfs" and _under(path, m.target)]
        where = f"{path}, on a tmpfs," if tmpfs else path
    yield ctx.finding(
        at,
        f'beat in service "{service.name}" keeps its schedule in {where} ({how}), which no volume holds: the '
        "last-run times are lost whenever the container is recreated",
    )
