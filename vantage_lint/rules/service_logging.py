"""VL106: container logs that are never rotated."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import MapNode, Node, ScalarNode
from vantage_lint.context import RuleContext
from vantage_lint.edits import (
    guard_fix,
    insert_key_edit,
    insert_keys_edit,
    key_is_written,
    quote,
    replace_scalar_edit,
    replace_value_edit,
    source_of,
)
from vantage_lint.findings import Applicability, Edit, Finding, Fix, Severity, Span
from vantage_lint.registry import PRODUCTION_ONLY, rule
from vantage_lint.rules.service_health import is_one_shot


@rule(
    code="VL106",
    name="missing-log-rotation",
    summary="Logs go to the json-file driver without max-size, so they grow until the disk is full.",
    severity=Severity.WARNING,
    hint='Set logging.options max-size: "10m" and max-file: "3" (or use the local driver).',
    fix=Applicability.UNSAFE,
    contexts=PRODUCTION_ONLY,
    summarised="have no logging: block (json-file logs without rotation)",
)
def missing_log_rotation(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a service whose logs use the `json-file` driver, written explicitly or taken as
    the daemon's default when there is no `logging:` block (or no `driver:`), without the
    `max-size` option; and `max-file` without `max-size`, which Docker ignores. The `local`
    driver rotates by default and passes, as do drivers that ship logs elsewhere (`syslog`,
    `journald`, `fluentd`, ...). A Compose file cannot see the daemon's `daemon.json`: if the
    host sets rotation there, disable this rule for that host's stacks.

    One-shot jobs (a migration, a bootstrap step; see VL119) are not reported. In the
    recommended preset the services of one file that have no `logging:` block at all are
    reported once, at info, in one finding naming them (the daemon may rotate for them); a
    `logging:` block written without rotation is reported on its own, as a warning. The
    production preset reports every service.

    ## Why it matters
    `json-file` performs no rotation by default: every line a service ever printed stays in
    `/var/lib/docker/containers/<id>/<id>-json.log` until the disk fills and every container
    on the host fails. A chatty Celery worker fills gigabytes in days.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        logging:
          driver: json-file
          options:
            max-file: "3"
    ```

    ## Fix
    ```yaml
        logging:
          driver: json-file
          options:
            max-size: "10m"
            max-file: "3"
    ```
    An unsafe fix: older log lines are deleted once rotated out.
    """
    if is_one_shot(service):
        return  # a one-shot job: it exits by design (compose/kind.py)
    name = service.name
    logging = service.get("logging")
    if logging is None:
        yield _with_fix(ctx, service, 
            service.key_span,
            f'service "{name}" has no logging: block: the default json-file driver keeps its logs forever, '
            "without rotation",
        )
        return
    if not isinstance(logging, MapNode):
        return
    driver_node = logging.get("driver")
    driver = driver_node.text.strip().lower() if isinstance(driver_node, ScalarNode) else None
    if driver not in (None, "", "json-file"):
        return
    shown = "json-file" if driver else "the default json-file"
    options = logging.get("options")
    max_size = options.get("max-size") if isinstance(options, MapNode) else None
    max_file = options.get("max-file") if isinstance(options, MapNode) else None
    size_text = max_size.text.strip() if isinstance(max_size, ScalarNode) else None
    if size_text and size_text != "-1":
        return
    if max_size is not None and size_text == "-1":
        yield _written(_with_fix(ctx, service, max_size,
                                 f'service "{name}" logs with {shown} driver and max-size "-1" (unlimited)'))
        return
    if max_file is not None and isinstance(options, MapNode):
        yield _written(_with_fix(ctx, service,
            options.keys["max-file"],
            f'service "{name}" sets max-file "{max_file.plain()}" without max-size: Docker ignores max-file '
            f"and the {shown} log grows without limit",
            hint='Add max-size: "10m" next to max-file.',
        ))
        return
    if isinstance(options, MapNode):
        at = logging.keys["options"]
    elif driver_node is not None:
        at = driver_node.span
    else:
        at = service.span_of("logging")
    yield _written(_with_fix(ctx, service, at,
                             f'service "{name}" logs with {shown} driver and no max-size: the log is never rotated'))


def _written(finding: Finding) -> Finding:
    """A logging: block the user wrote without rotation: a mistake in this file, reported on
    its own (only a missing block, which nearly every service has, is summarised)."""
    finding.explicit_severity = True
    return finding


MAX_SIZE, MAX_FILE = "10m", "3"


def _with_fix(ctx: RuleContext, service: Service, at: Span | Node, message: str, **kwargs: str) -> Finding:
    """The finding with its fix (max-size "10m", max-file "3" added where the logging block is
    written), or with the reason the fix is withheld when that block is shared."""
    fix, note = _rotation_fix(service)
    return ctx.finding(at, f"{message} ({note})" if note else message, fix=fix, **kwargs)


def _lacks_rotation(service: Service) -> bool:
    """VL106's condition, to decide whether a shared logging block may be fixed for everyone."""
    logging = service.get("logging")
    if logging is None:
        return True
    if not isinstance(logging, MapNode):
        return False
    driver = logging.get("driver")
    if isinstance(driver, ScalarNode) and driver.text.strip().lower() not in ("", "json-file"):
        return False
    size = service.get("logging", "options", "max-size")
    text = size.text.strip() if isinstance(size, ScalarNode) else ""
    return not text or text == "-1"


def _rotation_fix(service: Service) -> tuple[Fix | None, str]:
    project = service.project
    logging = service.get("logging")
    target: Node = service.node if logging is None else logging
    source = source_of(project, target)
    if source is None:
        return None, ""
    size, count = quote(source, MAX_SIZE), quote(source, MAX_FILE)
    edit: Edit | None = None
    if logging is None:
        edit = insert_key_edit(source, service.node, "logging", {"options": {"max-size": size, "max-file": count}})
    elif isinstance(logging, MapNode):
        options = logging.get("options")
        if options is None:
            edit = insert_key_edit(source, logging, "options", {"max-size": size, "max-file": count})
        elif isinstance(options, MapNode):
            target = options
            source = source_of(project, options)
            if source is None:
                return None, ""
            max_size = options.get("max-size")
            wanted: dict[str, str] = {"max-size": size} if "max-file" in options.items else {"max-size": size, "max-file": count}
            if isinstance(max_size, ScalarNode) and max_size.value is not None and key_is_written(source, options, "max-size"):
                target = max_size
                edit = replace_scalar_edit(source, max_size, quote(source, MAX_SIZE, max_size.style or None)
                                           if max_size.style in ("'", '"') else size, keep_quotes=False)
            elif max_size is not None and key_is_written(source, options, "max-size"):
                edit = replace_value_edit(source, options, "max-size", size)
            elif max_size is None:
                edit = insert_keys_edit(source, options, wanted)
        elif isinstance(options, ScalarNode) and options.value is None:
            edit = replace_value_edit(source, logging, "options", {"max-size": size, "max-file": count})
    if edit is None:
        return None, ""
    fix = Fix('Set logging max-size "10m" (and max-file "3")', (edit,), Applicability.UNSAFE)
    services = project.services
    return guard_fix(project, target, fix, lambda name: _lacks_rotation(services[name]))

