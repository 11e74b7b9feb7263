"""VL340: Celery services whose options vantage-lint cannot read, said once so silence has a meaning."""

from __future__ import annotations

import re
from collections.abc import Iterator

from vantage_lint.celery.unread import unread_start
from vantage_lint.compose.model import Service
from vantage_lint.compose.roles import declared_roles
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.registry import rule


@rule(
    code="VL340",
    name="celery-options-unread",
    summary="A Celery service is started through a script, an entrypoint or supervisord: its options are not checked.",
    severity=Severity.INFO,
    hint="Write the celery command in the service's command: (e.g. command: celery -A app worker "
         "--concurrency=4) so its options are checked; x-vantage: {role: none} if it is not Celery.",
    tags=("celery",),
)
def celery_options_unread(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports, once per service and as information, a Celery worker or beat whose options
    vantage-lint cannot read because no `celery` command appears in its `command:` or
    `entrypoint:`: it is started through a script (`./scripts/start-worker.sh`), an entrypoint
    script, supervisord or honcho, a Python program, a Dockerfile `CMD`/`ENTRYPOINT` that does
    not run `celery` itself (a script), a Dockerfile that cannot be read, or a pulled image's
    default command. (A Dockerfile whose `CMD`/`ENTRYPOINT` runs `celery` is read like a
    `command:` when the service sets neither `command:` nor `entrypoint:`.) A service is taken for Celery when its name contains `celery`,
    when its command or its Dockerfile's start command mentions celery, when
    `x-vantage: {role: celery-worker}` (or `celery-beat`) declares it, or when its name says
    `worker`, `beat` or `scheduler` and it sets a `CELERY_*` or `*BROKER_URL` variable or runs
    the same image or build as a Celery service (a name alone also fits a CI runner's worker).
    One-shot jobs, fragments without an image and Airflow's `celery worker` subcommand are
    not reported.

    ## Why it matters
    The VL3xx worker checks (concurrency, time limits, prefetch, child recycling, shutdown)
    read the options on the `celery` command line. When the worker is started somewhere the
    linter does not read, those checks stay silent: this note says that the silence means
    "not checked", not "fine".

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: ./scripts/start-worker
        environment:
          CELERY_BROKER_URL: redis://redis:6379/0
    ```

    ## Fix
    Put the `celery ... worker` command line in `command:` (the script can `exec "$@"`), or
    declare `x-vantage: {role: none}` when the service is not Celery.
    """
    start = unread_start(service)
    if start is None:
        return
    declared = declared_roles(service) or frozenset()
    tokens = set(re.findall(r"[a-z0-9]+", service.name.lower()))
    if "flower" in tokens or any("flower" in t for t in tokens):
        what = "Flower"
    elif "celery-beat" in declared or any("beat" in t for t in tokens) or "scheduler" in tokens:
        what = "beat"
    else:
        what = "worker"
    yield ctx.finding(
        start.at,
        f'service "{service.name}": {what} options could not be read: started through {start.how} '
        f"({start.evidence})",
    )
