"""VL101, VL117, VL107: who a service runs as and whether it comes back after a crash."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.compose.interpolation import deployment_choice
from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import Node, ScalarNode
from vantage_lint.context import RuleContext
from vantage_lint.edits import (
    edit_is_shared,
    guard_fix,
    insert_key_edit,
    key_is_written,
    replace_scalar_edit,
    source_of,
)
from vantage_lint.findings import Applicability, Finding, Fix, Severity
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.compose.kind import service_kind
from vantage_lint.images.facts import ROOT, UNKNOWN, image_user, reason_depends
from vantage_lint.rules.service_health import is_one_shot

REDIS_USER_HINT = 'Set user: "999:999" (the redis user of the official image) and keep /data writable by it.'


def _is_root(user: str) -> bool:
    name = user.split(":", 1)[0].strip()
    return name in ("0", "root")


def _needs_root(service: Service) -> bool:
    """A one-shot job that changes file ownership or modes: it needs root to do its work."""
    if not service_kind(service).job:
        return False
    names = {w.text.rsplit("/", 1)[-1] for w in service.command_words}
    for word in service.command_words:
        names.update(word.text.split())
    return bool(names & {"chown", "chmod", "setfacl", "chgrp"})


@rule(
    code="VL101",
    name="root-user",
    summary="The service runs as root: user 0/root, or no user: and an image or Dockerfile that runs as root.",
    severity=Severity.WARNING,
    hint='Set user: to an unprivileged uid:gid, e.g. user: "1000:1000".',
    production=True,
    contexts=PRODUCTION_ONLY,
)
def root_user(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a service whose process runs as root: `user:` is `0`, `root`, `0:<group>` or
    `root:<group>`, or there is no `user:` and the image or the Dockerfile is known to run as
    root. What the image does comes from the table of known images shipped with vantage-lint
    (each entry names the Dockerfile or entrypoint it was read from) and, for a `build:`
    service, from its Dockerfile (`USER` of the built stage and the stages and base image it
    builds on).

    Images whose entrypoint drops root (the official `redis`, `valkey/valkey`, `postgres`,
    `mysql`, `mariadb`, `rabbitmq`, `mongo`) pass when the command is one their entrypoint
    drops root for: for Redis, `redis-server`, a `.conf` path or an option (the entrypoint
    prepends `redis-server`). A wrapper such as `sh -c "redis-server ..."`, a full path to the
    binary, a shell-form `CMD` or an `entrypoint:` that replaces the image's keeps the process
    root, and the message says which. Images with a non-root `USER` (`grafana/grafana`,
    `bitnami/*`, `mher/flower`, `elasticsearch`, ...) and Dockerfiles that set one pass.

    When vantage-lint cannot tell (an image it does not know, a Dockerfile it cannot read, a
    `USER` from a variable with no value here, an entrypoint script that may switch user),
    this rule stays quiet and VL117 says so at info. A one-shot job that runs `chown` or
    `chmod` needs root and is not reported.

    ## Why it matters
    A process running as root inside the container is root on the host's kernel: a bug in
    it or a mounted path turns into full control of the host files it can reach. Redis in
    particular has a history of exploits through `CONFIG SET dir` that write files as the
    Redis user.

    ## Example
    ```yaml
    services:
      redis:
        image: redis:7.2
        command: sh -c "redis-server --appendonly yes"
    ```

    ## Fix
    Set `user:` to an unprivileged uid and gid (`"999:999"` for the official redis image;
    make sure mounted data directories are writable by it), or set `USER` in the Dockerfile.
    """
    redis = service.has_role("redis")
    hint = REDIS_USER_HINT if redis else None
    node = service.get("user")
    user = node.text.strip() if isinstance(node, ScalarNode) else None
    if _needs_root(service):
        return
    if node is None or not user:
        if "$" in getattr(node, "raw", ""):
            return  # user: "${UID}" with no value here: set at deploy time
        fact = image_user(service)
        if fact.state != ROOT:
            return
        message = f'service "{service.name}" sets no user: and {fact.reason}, so it runs as root'
        yield ctx.finding(service.span_of("user") if node is None else node, message, hint=hint)
        return
    if not _is_root(user):
        return
    fact = image_user(service)
    if fact.by_entrypoint:
        return  # uid 0 is what the entrypoint checks before it switches user
    message = f'service "{service.name}" runs as root (user: "{user}")'
    yield ctx.finding(node, message, hint=hint)


@rule(
    code="VL117",
    name="image-user-unknown",
    summary="No user: and vantage-lint cannot tell whether the image or Dockerfile runs as root.",
    severity=Severity.INFO,
    hint='Set user: to an unprivileged uid:gid (e.g. user: "1000:1000"), or USER in the Dockerfile.',
    summarised="set no user: and vantage-lint cannot tell whether their images run as root",
)
def image_user_unknown(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports, as information, a service without `user:` whose user vantage-lint cannot
    determine: its image is not in the table of known images, its Dockerfile cannot be read
    (outside the project folder, a remote context, a missing file, an unknown `target:`), its
    `USER` comes from a build argument with no value here, or its entrypoint is a script that
    may switch user before starting the real process. VL101 reports the cases it can decide;
    this rule says what the silence of VL101 means for the others. In the recommended preset
    the services of one file are named in one finding.

    ## Why it matters
    A container runs as root unless its image sets a `USER` or its entrypoint drops root.
    Setting `user:` in the Compose file makes the answer visible where the stack is reviewed,
    whatever the image does.

    ## Example
    ```yaml
    services:
      api:
        image: registry.example.com/api:1.4.2
    ```

    ## Fix
    Set `user:` (e.g. `user: "1000:1000"`), or build the image with `USER` in its Dockerfile.
    """
    node = service.get("user")
    if node is not None and (not isinstance(node, ScalarNode) or node.text.strip() or "$" in node.raw):
        return
    if _needs_root(service):
        return
    fact = image_user(service)
    if fact.state != UNKNOWN:
        return
    yield ctx.finding(
        service.span_of("user"),
        f'service "{service.name}" sets no user: and vantage-lint cannot tell whether it runs as root: {fact.reason}',
        depends_on=reason_depends(service, fact.reason),
    )


@rule(
    code="VL107",
    name="missing-restart-policy",
    summary="A long-running service has no restart policy, so it stays down after a crash or a reboot.",
    severity=Severity.WARNING,
    hint="Add restart: unless-stopped (or deploy.restart_policy).",
    summarised="have no restart policy",
    fix=Applicability.UNSAFE,
    contexts=PRODUCTION_ONLY,
)
def missing_restart_policy(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a service with no `restart:` (or `restart: "no"`) and no
    `deploy.restart_policy` (or one with `condition: none`). One-shot jobs are exempt:
    restarting them would rerun a migration. A service is a job when `x-vantage: {kind: job}`
    says so, when another service waits for it with `condition:
    service_completed_successfully`, with `deploy.replicas: 0`, under tool profiles only, or
    when its command runs once and exits (`manage.py migrate`, `createdb`, ...); VL119 names
    the evidence.

    In the recommended preset the services of one file with no restart policy at all are
    reported once, at info, in one finding naming them; a policy written in the file that
    never restarts is a warning on its own, and information when a variable sets it
    (`restart: "${RESTART:-no}"`: the deployment chooses). The production preset reports
    every service.

    ## Why it matters
    `"no"` is Compose's default: when the process crashes, runs out of memory or the Docker
    host reboots, the container stays stopped until someone notices. A Celery worker or a
    Redis broker that does not come back stops the whole stack.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery -A myapp worker
    ```

    ## Fix
    Add `restart: unless-stopped` (or `always`, or `on-failure`). An unsafe fix: the
    container then also restarts after a clean exit.
    """
    policy = service.get("deploy", "restart_policy")
    if policy is not None:
        condition = service.text("deploy", "restart_policy", "condition")
        if condition is None or condition.strip().lower() != "none":
            return
    node = service.get("restart")
    value = node.text.strip().lower() if isinstance(node, ScalarNode) else None
    if node is not None and value not in ("no", "", "false"):
        return
    if is_one_shot(service):
        return
    if policy is not None:
        at = service.value_span("deploy", "restart_policy", "condition")
        message = f'service "{service.name}" has deploy.restart_policy with condition: none: it is never restarted'
    elif node is not None:
        at = node.span
        message = f'service "{service.name}" has restart: "{node.text}": it stays down after a crash or a host reboot'
    else:
        at = service.key_span
        message = f'service "{service.name}" has no restart policy: it stays down after a crash or a host reboot'
    fix, note = _restart_fix(service, policy, node)
    # `restart: "${RESTART_POLICY:-no}"`: the value here is a default or a template's.
    choice = deployment_choice(service.project, node.raw, "the policy") if isinstance(node, ScalarNode) else ""
    severity = Severity.INFO if choice else Severity.WARNING if node is not None or policy is not None else None
    # (an explicit severity: what the file writes is reported on its own, never summarised)
    yield ctx.finding(at, (f"{message} ({note})" if note else message) + choice, fix=fix, severity=severity)


def _never_restarted(service: Service) -> bool:
    """VL107's condition, for deciding whether a shared fix suits every service that shares it."""
    if service.get("deploy", "restart_policy") is not None:
        condition = service.text("deploy", "restart_policy", "condition")
        if condition is None or condition.strip().lower() != "none":
            return False
    node = service.get("restart")
    if node is not None and (not isinstance(node, ScalarNode) or node.text.strip().lower() not in ("no", "", "false")):
        return False
    return not is_one_shot(service)


def _restart_fix(service: Service, policy: object, node: object) -> tuple[Fix | None, str]:
    """``restart: unless-stopped`` where the service is written; ``condition: any`` for a
    ``deploy.restart_policy`` with ``condition: none``. A ``restart: "no"`` merged in from an
    anchor is overridden in the service itself rather than edited in the shared anchor."""
    project = service.project
    target: Node | None
    if policy is not None:
        target = service.get("deploy", "restart_policy", "condition")
        source = source_of(project, target) if isinstance(target, ScalarNode) else None
        edit = replace_scalar_edit(source, target, "any") if source is not None else None
        title = "Set deploy.restart_policy.condition: any"
    else:
        target = service.node
        source = source_of(project, target)
        edit = None
        if source is not None:
            if isinstance(node, ScalarNode) and key_is_written(source, service.node, "restart"):
                target = node
                edit = replace_scalar_edit(source, node, "unless-stopped")
            elif (isinstance(node, ScalarNode) and node.span.path != service.node.span.path
                  and (value_source := source_of(project, node)) is not None and not edit_is_shared(project, node)):
                # written by an override file's definition of the service: edited there
                target = node
                edit = replace_scalar_edit(value_source, node, "unless-stopped")
            else:
                edit = insert_key_edit(source, service.node, "restart", "unless-stopped")
        title = "Add restart: unless-stopped"
    if edit is None or target is None:
        return None, ""
    fix = Fix(title, (edit,), Applicability.UNSAFE)
    project_services = project.services
    return guard_fix(project, target, fix, lambda name: _never_restarted(project_services[name]))

