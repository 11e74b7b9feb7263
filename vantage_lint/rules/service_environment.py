"""VL127: a variable written twice in one service's ``environment`` list."""

from __future__ import annotations

from collections.abc import Iterator

from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import MapNode, ScalarNode, SeqNode
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity
from vantage_lint.registry import rule


@rule(
    code="VL127",
    name="duplicate-environment-variable",
    summary="A variable is written twice in a service's environment list; Compose keeps the last one.",
    severity=Severity.WARNING,
    hint="Remove one of the entries, keeping the value the service needs.",
)
def duplicate_environment_variable(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Reports a variable that appears twice in the list form of `environment`
    (`- DEBUG=0` ... `- DEBUG=1`), at the later entry: a warning when the values differ, an
    info when they are the same. (In the mapping form a repeated key is a YAML duplicate key,
    VL001.) Entries written in different files, such as an override file that changes a
    value, are how overrides work and are not reported.

    ## Why it matters
    Compose reads the list into a mapping and keeps the last entry (`docker compose config`
    shows `DEBUG: "1"`), silently: whoever edits the first line changes nothing. Two equal
    entries are accepted too, although the Compose schema says the list has no repeats.

    ## Example
    ```yaml
    services:
      api:
        image: myapp:1.4.2
        environment:
          - DEBUG=0
          - LOG_LEVEL=info
          - DEBUG=1
    ```

    ## Fix
    ```yaml
        environment:
          - DEBUG=1
          - LOG_LEVEL=info
    ```
    """
    for node in _written_environments(service, ctx):
        yield from _repeats(node, service, ctx)


def _written_environments(service: Service, ctx: RuleContext) -> list[SeqNode]:
    """The service's `environment:` lists as each file writes them: the merged model keeps one
    entry per name, as Compose does, so the repeats are only seen in the files."""
    found: list[SeqNode] = []
    for file in getattr(ctx.project, "files", ()):
        services = file.written.get("services") if isinstance(file.written, MapNode) else None
        own = services.get(service.name) if isinstance(services, MapNode) else None
        node = own.get("environment") if isinstance(own, MapNode) else None
        if isinstance(node, SeqNode) and all(node is not seen for seen in found):
            found.append(node)
    return found


def _repeats(node: SeqNode, service: Service, ctx: RuleContext) -> Iterator[Finding]:
    first: dict[str, ScalarNode] = {}
    for item in node.items:
        if not isinstance(item, ScalarNode) or item.value is None:
            continue
        name, sep, value = item.text.partition("=")
        name = name.strip()
        if not name:
            continue
        earlier = first.get(name)
        if earlier is None or earlier.span.path != item.span.path:
            first[name] = item
            continue
        before = earlier.text.partition("=")[2] if "=" in earlier.text else None
        now = value if sep else None
        where = f"line {earlier.span.line}"
        if before == now:
            finding = ctx.finding(
                item,
                f'{name} is written twice in the environment of service "{service.name}", with the same value '
                f"(first at {where}): the later entry is redundant",
                hint="Remove the repeated entry.",
            )
            finding.severity = Severity.INFO
            finding.explicit_severity = True
            yield finding
        else:
            yield ctx.finding(
                item,
                f'{name} is written twice in the environment of service "{service.name}" (first at {where}): '
                f"Compose keeps this later entry and ignores the first",
            )
        first[name] = item
