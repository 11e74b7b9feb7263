"""VL101, VL107: who a service runs as and whether it comes back after a crash."""

from __future__ import annotations

from collections.abc import Iterator

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
from vantage_lint.registry import rule
from vantage_lint.rules.service_health import is_official_image, is_one_shot
from vantage_lint.shell import split_words

REDIS_USER_HINT = 'Set user: "999:999" (the redis user of the official image) and keep /data writable by it.'


def _is_root(user: str) -> bool:
    name = user.split(":", 1)[0].strip()
    return name in ("0", "root")


def _first_command_word(service: Service) -> str | None:
    """The first argument Docker passes to the image's entrypoint (None: the image's CMD)."""
    parts, _nodes, as_string = service.argv_parts("command")
    if not parts:
        return None
    if as_string:
        words = split_words(parts[0])
        return words[0].text if words else None
    return parts[0]


def _redis_entrypoint_note(service: Service) -> tuple[bool, str]:
    """Whether the official redis entrypoint switches to uid 999, and why (or why not).

    docker-entrypoint.sh prepends ``redis-server`` to an argument ending in ``.conf`` or
    starting with ``-``, then drops to the redis user only when ``$1`` is exactly
    ``redis-server`` and it runs as root. Any wrapper (``sh -c``, a full path) or a custom
    ``entrypoint`` keeps the process root.
    """
    if service.get("entrypoint") is not None:
        return False, "its entrypoint replaces the image's, which would switch to the redis user, so Redis runs as root"
    first = _first_command_word(service)
    if first is None or first == "redis-server" or first.endswith(".conf") or first.startswith("-"):
        return True, ("the image's entrypoint switches to the redis user (uid 999) only because the command "
                      "starts with redis-server; set user: so this does not depend on the command")
    return False, (f'its command starts with "{first}", not redis-server, so the image\'s entrypoint does not '
                   "switch to the redis user and Redis runs as root")


@rule(
    code="VL101",
    name="root-user",
    summary="The service runs as root: no user: key, or user 0/root.",
    severity=Severity.WARNING,
    hint='Set user: to an unprivileged uid:gid, e.g. user: "1000:1000".',
    production=True,
)
def root_user(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a service without `user:` (it runs as the image's USER, root unless the image
    sets another) or with `user` `0`, `root`, `0:<group>` or `root:<group>`.

    For Redis the message says what the official image does: its entrypoint starts as root
    and drops to the redis user (uid 999) only when the command starts with `redis-server`
    (or with a `.conf` path or an option, to which it prepends `redis-server`). A wrapper such
    as `sh -c "redis-server ..."`, a full path to the binary or a custom `entrypoint` keeps
    Redis running as root. When the entrypoint does drop privileges the finding stays (same
    severity) and says so: the seed practice is to set `user:` explicitly, so that running
    unprivileged does not depend on the command staying in one exact form.

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
    make sure mounted data directories are writable by it).
    """
    redis = service.has_role("redis")
    hint = REDIS_USER_HINT if redis else None
    official_redis = redis and is_official_image(service.image) and service.image is not None \
        and service.image.name == "redis"
    node = service.get("user")
    user = node.text.strip() if isinstance(node, ScalarNode) else None
    if node is None or not user:
        message = (f'service "{service.name}" sets no user: it runs as the image\'s USER, '
                   "root unless the image sets another")
        if official_redis:
            _drops, note = _redis_entrypoint_note(service)
            message = f'service "{service.name}" sets no user: {note}'
        yield ctx.finding(service.span_of("user") if node is None else node, message, hint=hint)
        return
    if not _is_root(user):
        return
    message = f'service "{service.name}" runs as root (user: "{user}")'
    if official_redis:
        message += "; the image's entrypoint does not switch to the redis user when user: is set"
    yield ctx.finding(node, message, hint=hint)


@rule(
    code="VL107",
    name="missing-restart-policy",
    summary="A long-running service has no restart policy, so it stays down after a crash or a reboot.",
    severity=Severity.WARNING,
    hint="Add restart: unless-stopped (or deploy.restart_policy).",
    fix=Applicability.UNSAFE,
)
def missing_restart_policy(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a service with no `restart:` (or `restart: "no"`) and no
    `deploy.restart_policy` (or one with `condition: none`). Services that run once (restart
    `"no"` or `on-failure`, and waited on by another service with `condition:
    service_completed_successfully`) are exempt: restarting them would rerun a migration.

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
    yield ctx.finding(at, f"{message} ({note})" if note else message, fix=fix)


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

