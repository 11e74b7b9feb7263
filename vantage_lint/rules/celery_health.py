"""VL309: a Celery worker's healthcheck probes this worker, in time."""

from __future__ import annotations

import re
from collections.abc import Iterator

from vantage_lint.celery.command import Setting, env_settings
from vantage_lint.celery.healthcheck import CeleryProbe, celery_probes
from vantage_lint.compose.interpolation import interpolate, references
from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import ScalarNode
from vantage_lint.compose.units import compose_duration
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity, Span
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.rules.celery_options import celery_view, known, number, text_span

# `celery inspect ping` imports the app and connects to the broker (~1.5 s for a trivial app)
# before it waits --timeout (default 1 s) for replies.
PROBE_START_SECONDS = 1.5
DEFAULT_INSPECT_TIMEOUT = 1.0
MIN_TIMEOUT_SECONDS = 5.0
DOCKER_DEFAULT_TIMEOUT = 30.0
# What the container's shell expands to its own hostname.
_HOSTNAME = re.compile(r"\$\{HOSTNAME\}|\$HOSTNAME\b|\$\(hostname\)|`hostname`")
_PROBES = ("inspect", "status", "control")


def _setting_span(service: Service, probe: CeleryProbe, setting: Setting) -> Span:
    if 0 <= setting.part < len(probe.nodes):
        return text_span(service, probe.nodes[setting.part], probe.written[setting.part], setting.start, setting.end)
    return service.value_span("healthcheck", "test")


def _host_interpolated(service: Service, probe: CeleryProbe, setting: Setting) -> tuple[str, str] | None:
    """(variable, what Compose makes of the destination) when the destination holds a ``$VAR``
    that Compose substitutes on the host because it was written with a single ``$``."""
    if not 0 <= setting.part < len(probe.nodes):
        return None
    node, written = probe.nodes[setting.part], probe.written[setting.part]
    raw = node.raw if isinstance(node.raw, str) else ""
    low, high = written.raw_index[setting.start], written.raw_index[setting.end]
    refs = [ref for ref in references(raw) if low <= ref.start < high]
    if not refs:
        return None
    env = getattr(service.project, "env", None) or {}
    substituted, _issues = interpolate(raw[low:high], env)
    # The setting spans "-d VALUE" or "--destination=VALUE": keep the value.
    if substituted.startswith("-"):
        flag, eq, rest = substituted.partition("=")
        substituted = rest if eq and " " not in flag else (substituted.split(None, 1) + [""])[1]
    return refs[0].name, substituted.strip("'\"")


def _node_name(service: Service) -> str | None:
    """The worker's node name with its host part as the container sees it, or None if unknown."""
    view = celery_view(service)
    setting = view.get("hostname") if view is not None else None
    name = str(setting.value) if setting is not None else "celery@%h"
    if not known(name):
        return None
    if "@" not in name:
        name = "celery@" + name
    host = service.text("hostname") or "\x00host"
    short, _, domain = host.partition(".")
    return name.replace("%h", host).replace("%n", short).replace("%d", domain).replace("%%", "%")


def _destinations(value: str, service: Service) -> list[str] | None:
    host = service.text("hostname") or "\x00host"
    result = []
    for item in value.split(","):
        item = _HOSTNAME.sub(host, item.strip())
        if not known(item):
            return None
        if item:
            result.append(item)
    return result


@rule(
    code="VL309",
    name="celery-worker-healthcheck",
    summary="A Celery worker has no healthcheck, or one that does not probe this worker in time.",
    severity=Severity.WARNING,
    hint='Probe this worker: test: ["CMD-SHELL", "celery -A app inspect ping -d celery@$$HOSTNAME"] with timeout: 10s.',
    roles=("celery-worker",),
    contexts=PRODUCTION_ONLY,
    supersedes=("VL104", "VL118"),
)
def celery_worker_healthcheck(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Checks a Celery worker's healthcheck. It reports a worker without one (or with it
    disabled), and a `celery inspect`/`celery status` probe that does not ask this worker:
    no `-d/--destination`; a destination written `celery@$HOSTNAME` with a single `$`, which
    Compose replaces on the host when it reads the file (so the probe asks for `celery@` or
    the host's name); `$$HOSTNAME` in an exec-form `CMD` test, where no shell expands it; a
    destination that is not the worker's node name (`-n`, default `celery@%h`). It also
    reports a healthcheck `timeout` below 5 s, or below the probe's start-up plus its
    `-t/--timeout` wait. Tests that run something else (a script, `pgrep`) are not judged.
    VL114 reports host-side interpolation in general; here it is counted only as a probe
    that misses this worker.

    ## Why it matters
    `celery inspect ping` broadcasts over the broker and exits 0 when **any** worker
    answers: without `-d celery@$$HOSTNAME` every worker container stays healthy as long as
    one replica is alive, and a hung one is never restarted. Each probe imports the app and
    connects to the broker (about 1.5 s) and then waits `-t` (1 s by default) for replies, so
    a short `timeout` marks healthy workers unhealthy on a busy host.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker
        healthcheck:
          test: ["CMD-SHELL", "celery -A myapp inspect ping"]
          timeout: 3s
    ```

    ## Fix
    ```yaml
        healthcheck:
          test: ["CMD-SHELL", "celery -A myapp inspect ping -d celery@$$HOSTNAME"]
          interval: 30s
          timeout: 10s
    ```
    """
    check = service.healthcheck
    if check is None:
        yield ctx.finding(service.key_span, f'Celery worker "{service.name}" has no healthcheck: Docker cannot tell '
                                            "a hung worker from a working one")
        return
    if service.healthcheck_disabled:
        disable = check.get("disable")
        at = disable if isinstance(disable, ScalarNode) and disable.value in (True, "true") else check.get("test")
        yield ctx.finding(at or check, f'Celery worker "{service.name}" disables its healthcheck: Docker cannot '
                                       "tell a hung worker from a working one")
        return
    probes = [p for p in celery_probes(service) if p.invocation.subcommand in _PROBES]
    if not probes:
        return
    probe = probes[0]
    invocation = probe.invocation
    settings = dict(invocation.settings)
    env = {name: var.value for name, var in service.environment.items() if var.value}
    for name, setting in env_settings(invocation.subcommand, env)[0].items():
        settings.setdefault(name, setting)
    word = invocation.celery_word
    probe_span = _setting_span(service, probe, Setting("", "", "flag", word.text, word.part, word.start, word.end))
    program = f"celery {invocation.subcommand} {invocation.command or ''}".strip()
    destination = settings.get("destination")
    if destination is None:
        yield ctx.finding(probe_span, f'healthcheck of Celery worker "{service.name}" runs `{program}` without '
                                      "-d/--destination: it passes when any worker answers, not only this one")
    elif destination.source == "flag":
        yield from _check_destination(service, ctx, probe, destination)
    yield from _check_timeout(service, ctx, probe, settings.get("timeout"), program)


def _check_destination(service: Service, ctx: RuleContext, probe: CeleryProbe, destination: Setting) -> Iterator[Finding]:
    at = _setting_span(service, probe, destination)
    interpolated = _host_interpolated(service, probe, destination)
    if interpolated is not None:
        variable, value = interpolated
        yield ctx.finding(
            at,
            f'healthcheck of Celery worker "{service.name}" does not probe this worker: Compose replaces ${variable} '
            f'on the host when it reads the file (written with one "$"), so the probe asks for "{value}"; '
            f"write $${variable} so the container's shell expands it",
            hint=f"Write $${variable} (the container's shell then expands it), e.g. -d celery@$$HOSTNAME.",
        )
        return
    value = str(destination.value)
    if not probe.shell and "$" in value:
        yield ctx.finding(
            at,
            f'healthcheck of Celery worker "{service.name}" does not probe this worker: an exec-form test '
            f'(CMD) runs no shell, so celery receives "{value}" literally and no worker has that name',
            hint='Use CMD-SHELL so the shell expands the variable: ["CMD-SHELL", "celery -A app inspect ping -d celery@$$HOSTNAME"].',
        )
        return
    wanted = _node_name(service)
    names = _destinations(value, service)
    if wanted is None or names is None or wanted in names:
        return
    def shown(name: str) -> str:
        return name.replace("\x00host", "<container hostname>")

    yield ctx.finding(
        at,
        f'healthcheck of Celery worker "{service.name}" asks {", ".join(shown(n) for n in names)} but the '
        f"worker's node name is {shown(wanted)}: it does not probe this worker",
    )


def _check_timeout(service: Service, ctx: RuleContext, probe: CeleryProbe, wait: Setting | None,
                   program: str) -> Iterator[Finding]:
    written = service.text("healthcheck", "timeout")
    timeout = compose_duration(written) if written else DOCKER_DEFAULT_TIMEOUT
    if timeout is None or timeout <= 0:
        return
    waits = number(wait.value) if wait is not None else DEFAULT_INSPECT_TIMEOUT
    if waits is None:
        return
    needed = max(MIN_TIMEOUT_SECONDS, PROBE_START_SECONDS + waits)
    if timeout >= needed:
        return
    yield ctx.finding(
        service.value_span("healthcheck", "timeout"),
        f'healthcheck of Celery worker "{service.name}" has timeout {written or "30s (the default)"}, under {needed:g}s: '
        f"`{program}` takes about {PROBE_START_SECONDS:g}s to start and then waits up to {waits:g}s for "
        "replies, so a busy worker is marked unhealthy",
        hint=f"Set the healthcheck timeout to at least {needed:g}s (e.g. timeout: 10s).",
    )
