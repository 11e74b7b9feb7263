"""VL310, VL311, VL315: workers and the monitor that watches them (Flower or none)."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import ScalarNode
from vantage_lint.compose.roles import celery_invocation
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.rules.celery_options import celery_view, env_name_span, env_text, options_depend

_SMALL_FLAGS = ("without-gossip", "without-mingle", "without-heartbeat")
# Flower's own options that turn authentication on (tornado spells them with - or _).
_AUTH_OPTIONS = ("basic-auth", "auth", "auth-provider")


def _with_severity(finding: Finding, severity: Severity) -> Finding:
    finding.severity = severity
    finding.explicit_severity = True
    return finding


def flowers(service: Service) -> list[Service]:
    """The project's Flower services, other than ``service`` itself."""
    return [s for s in service.project.services.values() if s.has_role("flower") and s is not service]


def _is_monitor(service: Service) -> bool:
    """Flower, `celery events`, or a Prometheus Celery exporter: they consume worker events."""
    if service.has_role("flower"):
        return True
    invocation = celery_invocation(service)
    if invocation is not None and invocation.subcommand == "events":
        return True
    image = service.image
    return image is not None and ("celery-exporter" in image.repository or "celery_exporter" in image.repository)


def _events_enabled_by(flower: Service) -> bool:
    """Flower turns task events on in every worker every 5 s unless --enable-events=false."""
    view = celery_view(flower)
    setting = view.get("enable-events") if view is not None else None
    return setting is None or setting.value is not False


# --- VL310 -----------------------------------------------------------------------------------
@rule(
    code="VL310",
    name="celery-events-vs-flower",
    summary="A Flower service exists but a worker does not send task events, or sends no heartbeats.",
    severity=Severity.WARNING,
    hint="Start the worker with -E (--task-events) and without --without-heartbeat so Flower sees its tasks and knows it is online.",
    roles=("celery-worker",),
)
def celery_events_vs_flower(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    When the project runs Flower, reports a worker that runs `--without-heartbeat` (or
    `CELERY_WORKER_WITHOUT_HEARTBEAT`), and a worker without `-E/--task-events` (or
    `CELERY_WORKER_TASK_EVENTS`). The second is a warning when Flower runs with
    `--enable-events=false`, and information otherwise: by default Flower sends
    `enable_events` to all workers every 5 seconds, so the worker sends events only after
    Flower has reached it.

    ## Why it matters
    Flower shows tasks from the task events workers send: without `-E` and with Flower's
    `--enable-events=false` it shows none, and with the default it misses the tasks that run
    while Flower is down or before its next call after a worker restart. Event heartbeats
    (every 2 s) are how Flower knows a worker is alive: with `--without-heartbeat` it marks
    every worker offline.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker --without-heartbeat
      flower:
        image: mher/flower:2.0
        command: celery --broker=redis://redis:6379/0 flower --enable-events=false
    ```

    ## Fix
    `command: celery -A myapp worker -E`
    """
    monitors = flowers(service)
    view = celery_view(service)
    if not monitors or view is None:
        return
    names = ", ".join(f'"{f.name}"' for f in monitors)
    heartbeat = view.get("without-heartbeat")
    if heartbeat is not None and heartbeat.value is True:
        yield ctx.finding(
            view.span(heartbeat),
            f'worker "{service.name}" runs {view.show(heartbeat)} while Flower ({names}) watches it: without event '
            "heartbeats Flower shows the worker as offline",
        )
    if view.enabled("task-events"):
        return
    if any(_events_enabled_by(f) for f in monitors):
        yield _with_severity(ctx.finding(
            view.anchor(),
            f'worker "{service.name}" does not send task events (-E/--task-events): Flower ({names}) turns them on '
            "remotely every 5 s, so tasks that run while Flower is down or before its next call are not shown",
            depends_on=options_depend(view),
        ), Severity.INFO)
    else:
        yield ctx.finding(
            view.anchor(),
            f'worker "{service.name}" does not send task events (-E/--task-events) and Flower ({names}) runs with '
            "--enable-events=false: Flower shows none of its tasks",
            depends_on=options_depend(view),
        )


# --- VL311 -----------------------------------------------------------------------------------
@rule(
    code="VL311",
    name="celery-small-deployment-flags",
    summary="With no Flower or other event monitor, a worker still runs gossip, mingle and event heartbeats.",
    severity=Severity.INFO,
    hint="Add --without-gossip --without-mingle --without-heartbeat when nothing monitors worker events.",
    roles=("celery-worker",),
    contexts=PRODUCTION_ONLY,
)
def celery_small_deployment_flags(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    When no service of the project monitors worker events (Flower, `celery events`, a
    Celery Prometheus exporter), reports a worker that lacks any of `--without-gossip`,
    `--without-mingle` and `--without-heartbeat` (or their `CELERY_WORKER_*` variables).

    ## Why it matters
    Every worker sends a heartbeat event every 2 seconds (`--without-heartbeat` stops it),
    gossip makes every worker subscribe to all the others' events, and mingle makes a starting
    worker ask its neighbours for their revoked tasks and clocks and wait for the replies.
    Without a monitor only the workers themselves read this: it is broker traffic (Redis
    pub/sub, AMQP fanout) and start-up delay for features a small deployment rarely uses.
    The cost of turning them off: a worker started later does not learn tasks revoked
    before it started (mingle), and workers do not notice each other leaving (gossip).
    `celery inspect ping` healthchecks and remote control work with all three off.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker --concurrency=4
    ```

    ## Fix
    `command: celery -A myapp worker --concurrency=4 --without-gossip --without-mingle --without-heartbeat`
    """
    view = celery_view(service)
    if view is None or any(_is_monitor(s) for s in service.project.services.values() if s is not service):
        return
    missing = [f"--{flag}" for flag in _SMALL_FLAGS if not view.enabled(flag)]
    if not missing:
        return
    yield ctx.finding(
        view.anchor(),
        f'worker "{service.name}" runs without {", ".join(missing)} although no Flower or other event monitor '
        "exists in the project: the broadcasts those flags turn off have no reader",
        hint=f"Add {' '.join(missing)} to the worker command.",
        depends_on=options_depend(view),
    )


# --- VL315 -----------------------------------------------------------------------------------
_STRTOBOOL_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})    # what Flower's strtobool accepts


def _open_api(service: Service):  # -> EnvVar | None
    """FLOWER_UNAUTHENTICATED_API set to a value Flower reads as true."""
    var = service.environment.get("FLOWER_UNAUTHENTICATED_API")
    text = env_text(service, var) if var is not None else None
    return var if text is not None and text.strip().lower() in _STRTOBOOL_TRUE else None


def _flower_before_2(service: Service) -> str | None:
    """The image tag when it names a Flower release older than 2.0 (mher/flower:1.2.0, 0.9.7)."""
    image = service.image
    if image is None or image.name != "flower" or not image.tag:
        return None
    major = image.tag.lstrip("v").split(".", 1)[0]
    return image.tag if major.isdigit() and int(major) < 2 else None


def _auth_in_words(service: Service) -> bool:
    """`flower --basic_auth=...` run without `celery` (or an entrypoint script's arguments)."""
    for word in service.command_words:
        name = word.text.lstrip("-").split("=", 1)[0].replace("_", "-")
        if word.text.startswith("--") and name in _AUTH_OPTIONS:
            return True
    return False


@rule(
    code="VL315",
    name="flower-unauthenticated",
    summary="Flower is published without authentication (an error when its control API is open too).",
    severity=Severity.WARNING,
    hint="Turn on Flower authentication: --basic-auth=user:${FLOWER_PASSWORD} (or FLOWER_BASIC_AUTH), or OAuth with --auth.",
    roles=("flower",),
    supersedes=("VL113",),
    production=True,
)
def flower_unauthenticated(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a Flower service that publishes a port and has no authentication: no
    `--basic-auth`, `FLOWER_BASIC_AUTH`, `--auth`/`FLOWER_AUTH` or `--auth-provider`
    (OAuth). A service that names its own `--conf` file (which may set it) passes. It is an
    error when the control API is open as well: `FLOWER_UNAUTHENTICATED_API` set to true, or
    an image of a Flower release before 2.0 (`mher/flower:1.2.0`); otherwise a warning.

    ## Why it matters
    Flower's pages show every task's arguments and results (often personal data or tokens)
    to anyone who reaches the port. Its HTTP API can also revoke and terminate tasks, change
    pool sizes and shut workers down: since Flower 2.0 the API answers 401 without
    authentication unless `FLOWER_UNAUTHENTICATED_API=true`, but with that variable, or with
    an older Flower, anyone who reaches the port can stop every worker.

    ## Example
    ```yaml
    services:
      flower:
        image: mher/flower:2.0
        command: celery --broker=redis://redis:6379/0 flower
        ports:
          - "5555:5555"
    ```

    ## Fix
    ```yaml
        environment:
          FLOWER_BASIC_AUTH: admin:${FLOWER_PASSWORD}
    ```
    """
    if not service.ports:
        return
    view = celery_view(service)
    if view is not None:
        for option in (*_AUTH_OPTIONS, "conf"):
            setting = view.get(option)
            if setting is not None and setting.value not in ("", None, False):
                return
    if _auth_in_words(service):
        return
    port = service.ports[0]
    shown = port.node.text if isinstance(port.node, ScalarNode) else f"{port.published or ''}:{port.target}".lstrip(":")
    head = (f'Flower service "{service.name}" publishes port {shown} without authentication (--basic-auth, '
            "FLOWER_BASIC_AUTH, --auth): anyone who reaches it sees task arguments and results")
    open_api, old = _open_api(service), _flower_before_2(service)
    if open_api is not None:
        yield _with_severity(ctx.finding(
            env_name_span(service, open_api),
            f"{head}, and FLOWER_UNAUTHENTICATED_API opens the control API: anyone can revoke tasks and shut "
            "workers down",
            hint="Turn on authentication (set FLOWER_BASIC_AUTH to user:${FLOWER_PASSWORD}, the password from a "
                 "variable) and remove FLOWER_UNAUTHENTICATED_API.",
        ), Severity.ERROR)
    elif old is not None:
        yield _with_severity(ctx.finding(
            port.node,
            f"{head}, and Flower {old} (before 2.0) serves its control API without authentication too: anyone "
            "can revoke tasks and shut workers down",
            hint="Upgrade to Flower 2.x and turn on authentication (set FLOWER_BASIC_AUTH to "
                 "user:${FLOWER_PASSWORD}, the password from a variable).",
        ), Severity.ERROR)
    else:
        yield ctx.finding(port.node, f"{head} (Flower 2.x refuses its control API without authentication)")
