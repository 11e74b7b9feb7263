"""VL002's engine: the official Compose schema, applied once per file, errors mapped to nodes."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, SeqNode
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@cache
def compose_schema() -> dict[str, Any]:
    """The Compose Specification schema vendored by check-jsonschema (a maintained copy)."""
    from importlib.resources import files

    text = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text("utf-8")
    return json.loads(text)


@cache
def _validator() -> Any:
    import jsonschema

    schema = compose_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def schema_view(node: Node) -> Any:
    """Plain data as Compose validates it: interpolated strings cast back to numbers/booleans."""
    if isinstance(node, MapNode):
        return {k: schema_view(v) for k, v in node.items.items()}
    if isinstance(node, SeqNode):
        return [schema_view(v) for v in node.items]
    assert isinstance(node, ScalarNode)
    value = node.value
    if isinstance(value, str) and "$" in node.raw:
        if _NUMBER.match(value):
            return float(value) if "." in value else int(value)
        if value in ("true", "false"):
            return value == "true"
    return value


def schema_findings(root: MapNode, ctx: RuleContext) -> Iterator[Finding]:
    seen: set[tuple] = set()
    for error in _validator().iter_errors(schema_view(root)):
        error = _deepest(error)
        path = list(error.absolute_path)
        node, key_span = _locate(root, path)
        described = _describe(error, node, key_span, path)
        if described is None:
            continue
        message, at = described
        key = (at.line, at.column, message)
        if key in seen:
            continue
        seen.add(key)
        service = path[1] if len(path) > 1 and path[0] == "services" else None
        yield ctx.finding(at, message, service=service)


def _deepest(error: Any) -> Any:
    """For oneOf/anyOf, the branch error that got furthest (jsonschema's best_match idea)."""
    from jsonschema.exceptions import best_match

    if error.context:
        best = best_match(error.context)
        if best is not None and len(best.absolute_path) >= len(error.absolute_path):
            return _deepest(best) if best.context else best
    return error


def _locate(root: MapNode, path: list[Any]) -> tuple[Node, Any]:
    node: Node = root
    key_span = None
    for step in path:
        if isinstance(node, MapNode) and step in node.items:
            key_span = node.keys[step]
            node = node.items[step]
        elif isinstance(node, SeqNode) and isinstance(step, int) and step < len(node.items):
            node = node.items[step]
            key_span = None
        else:
            break
    return node, key_span


def _describe(error: Any, node: Node, key_span: Any, path: list[Any]) -> tuple[str, Any] | None:
    where = ".".join(str(p) for p in path) or "top level"
    if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(node, MapNode):
        allowed = _known_properties(error.schema, 0)
        extras = [k for k in node.items if k not in allowed and not _pattern_ok(error.schema, k)]
        if extras:
            key = extras[0]
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            suggestion = f' — did you mean "{close[0]}"?' if close else ""
            return f'unknown key "{key}" in {where}{suggestion}', node.keys.get(key, node.span)
        # Every key is known: jsonschema marks keys whose values failed as "unevaluated";
        # the value errors are reported on their own.
        return None
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        shown = json.dumps(error.instance) if not isinstance(error.instance, (dict, list)) else type(error.instance).__name__
        return f"{where} must be of type {expected}, not {shown}", node.span
    if error.validator in ("format", "pattern") and isinstance(error.instance, str):
        return f'{where}: "{error.instance}" is not a valid value ({error.message})', node.span
    message = error.message
    if len(message) > 200:
        message = message[:197] + "..."
    return f"{where}: {message}", node.span if key_span is None else node.span


def _known_properties(schema: Any, depth: int) -> list[str]:
    """Property names a (sub)schema allows, following $ref and allOf/anyOf/oneOf."""
    if not isinstance(schema, dict) or depth > 6:
        return []
    names = list(schema.get("properties", {}))
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = compose_schema()
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        names += _known_properties(target, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []):
            names += _known_properties(sub, depth + 1)
    return names


def _pattern_ok(schema: dict[str, Any], key: str) -> bool:
    return any(re.search(pattern, key) for pattern in schema.get("patternProperties", {}))
