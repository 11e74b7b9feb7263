"""VL002's engine: the official Compose schema, applied once per file, errors mapped to nodes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from vantage_lint.compose.casts import cast_string
from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, SeqNode
from vantage_lint.compose.unknown import has_unknown
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding


@cache
def compose_schema() -> dict[str, Any]:
    """The Compose Specification schema vendored by check-jsonschema (a maintained copy).

    Located without importing check-jsonschema, whose CLI pulls in requests at import time."""
    return json.loads(_schema_path().read_text("utf-8"))


@cache
def _schema_path() -> Path:
    from importlib.util import find_spec

    spec = find_spec("check_jsonschema")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("check-jsonschema is not installed; it provides the Compose schema")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    return package_dir / "builtin_schemas" / "vendor" / "compose-spec.json"


@cache
def static_schema() -> dict[str, Any]:
    """The schema with its ``unevaluatedProperties`` made static (see below), once per process
    (a fresh parse of the file is the copy changed: cheaper than copying the parsed schema)."""
    return _make_static(json.loads(_schema_path().read_text("utf-8")))


@cache
def _validator() -> Any:
    """Built once per process, only when a document is not known to be valid."""
    import jsonschema

    schema = static_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def static_unevaluated(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` where ``unevaluatedProperties: false`` over an ``allOf`` of plain object
    schemas becomes the equivalent ``additionalProperties: false``.

    jsonschema evaluates ``unevaluatedProperties`` by re-validating every ``allOf`` branch to learn
    which keys they covered, which doubles the cost of each service. When every branch names its
    keys only through ``properties``/``patternProperties`` (no conditionals or nested
    combinators), the covered keys are known statically: the union of those names. Validation
    verdicts stay the same (tests compare both validators over the corpus)."""
    return _make_static(json.loads(json.dumps(schema)))


def _make_static(result: dict[str, Any]) -> dict[str, Any]:
    """:func:`static_unevaluated` done in place on ``result``."""
    definitions = result.get("$defs", {})

    def resolve(sub: Any) -> Any:
        ref = sub.get("$ref") if isinstance(sub, dict) else None
        if isinstance(ref, str) and ref.startswith("#/$defs/") and set(sub) == {"$ref"}:
            return definitions.get(ref[len("#/$defs/"):])
        return sub

    for definition in definitions.values():
        if not isinstance(definition, dict) or definition.get("unevaluatedProperties") is not False:
            continue
        branches = [resolve(b) for b in definition.get("allOf", [])]
        if any(not isinstance(b, dict) or _names_keys_dynamically(b) for b in branches):
            continue
        properties = dict(definition.get("properties", {}))
        patterns = dict(definition.get("patternProperties", {}))
        for branch in branches:
            for name in branch.get("properties", {}):
                properties.setdefault(name, True)
            for pattern in branch.get("patternProperties", {}):
                patterns.setdefault(pattern, True)
        definition["properties"] = properties
        if patterns:
            definition["patternProperties"] = patterns
        del definition["unevaluatedProperties"]
        definition["additionalProperties"] = False
    return result


_DYNAMIC_KEYWORDS = ("allOf", "anyOf", "oneOf", "if", "then", "else", "dependentSchemas", "$ref",
                     "additionalProperties", "unevaluatedProperties", "not")


def _names_keys_dynamically(branch: dict[str, Any]) -> bool:
    return any(keyword in branch for keyword in _DYNAMIC_KEYWORDS)


def schema_view(node: Node, path: tuple[str, ...] = ()) -> Any:
    """Plain data as Compose validates it: strings retyped where compose-go's cast table says
    (vantage_lint.compose.casts), everything else as YAML typed it."""
    if isinstance(node, MapNode):
        return {k: schema_view(v, path + (k,)) for k, v in node.items.items()}
    if isinstance(node, SeqNode):
        return [schema_view(v, path + ("[]",)) for v in node.items]
    assert isinstance(node, ScalarNode)
    value = node.value
    if isinstance(value, str):
        return cast_string(path, value)
    return value


def schema_findings(root: MapNode, ctx: RuleContext) -> Iterator[Finding]:
    seen: set[tuple] = set()
    for path, message, key in schema_errors(root):
        node = _locate(root, path)
        at = node.keys.get(key, node.span) if key is not None and isinstance(node, MapNode) else node.span
        if (at.line, at.column, message) in seen:
            continue
        seen.add((at.line, at.column, message))
        service = path[1] if len(path) > 1 and path[0] == "services" else None
        yield ctx.finding(at, message, service=service)


SchemaError = tuple[list[Any], str, "str | None"]


def schema_errors(root: MapNode) -> list[SchemaError]:
    """Each error as (path to the node, message, key to point at or None).

    The result depends only on the document's plain data and the schema, so it is cached by
    their hash: an unchanged file is not validated again (nor jsonschema imported)."""
    from vantage_lint import cache

    view = schema_view(root)
    digest = None
    if cache.folder() is not None:
        digest = cache.key("compose-schema-v3", _schema_digest().encode() + repr(view).encode())
        stored = cache.get(digest)
        if isinstance(stored, list):
            return [(list(path), message, key) for path, message, key in stored]
    from vantage_lint.compose.schema_check import is_valid

    # Most files are valid: the small checker says so without jsonschema, which is needed only
    # to find and describe errors (or when the checker cannot tell).
    errors = [] if is_valid(static_schema(), view) is True else _validate(root, view)
    if digest is not None:
        cache.put(digest, errors)
    return errors


def _validate(root: MapNode, view: Any) -> list[SchemaError]:
    errors: list[SchemaError] = []
    for error in _validator().iter_errors(view):
        if _only_duplicates(error):
            continue  # Compose accepts it (later entries win): VL127 names the duplicate
        if _from_unknown(error):
            continue  # the deployment's value may well be valid: no verdict from it
        error = _deepest(error)
        path = list(error.absolute_path)
        described = _describe(error, _locate(root, path), path)
        if described is not None:
            errors.append((path, *described))
    return errors


@cache
def _schema_digest() -> str:
    import hashlib

    return hashlib.sha256(_schema_path().read_bytes()).hexdigest()


def _only_duplicates(error: Any) -> bool:
    """A list-or-mapping value (``environment``, ``labels``...) written as a list whose only
    fault is a repeated entry. The schema says ``uniqueItems``, but Compose reads the list into
    a mapping and keeps the last entry (checked against docker compose config), so the file is
    accepted: not a schema violation."""
    if error.validator != "oneOf" or not isinstance(error.instance, list) or not error.context:
        return False
    branches: dict[Any, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(sub)
    has_mapping = any(isinstance(b, dict) and b.get("type") == "object" for b in error.validator_value)
    return has_mapping and any(all(e.validator == "uniqueItems" for e in errs) for errs in branches.values())


# Keywords a value could fail only by what it is: a value the deployment supplies decides them.
_VALUE_KEYWORDS = frozenset({"type", "enum", "const", "pattern", "format", "minimum", "maximum",
                             "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength"})
_BRANCH_KEYWORDS = frozenset({"oneOf", "anyOf", "allOf", "not"})


def _from_unknown(error: Any) -> bool:
    """An error on a value that holds an unknown marker (compose.unknown), or on a oneOf/anyOf
    whose instance holds one: ``condition: ${COND}`` is not known to be outside the enum."""
    if error.validator in _VALUE_KEYWORDS:
        return has_unknown(error.instance)
    return error.validator in _BRANCH_KEYWORDS and _holds_unknown(error.instance)


def _holds_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return has_unknown(value)
    if isinstance(value, dict):
        return any(_holds_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_unknown(v) for v in value)
    return False


def _deepest(error: Any) -> Any:
    """For oneOf/anyOf, the branch error that got furthest (jsonschema's best_match idea)."""
    from jsonschema.exceptions import best_match

    if error.context:
        best = best_match(error.context)
        if best is not None and len(best.absolute_path) >= len(error.absolute_path):
            return _deepest(best) if best.context else best
    return error


def _locate(root: MapNode, path: list[Any]) -> Node:
    """The deepest node of ``path`` that exists."""
    node: Node = root
    for step in path:
        if isinstance(node, MapNode) and step in node.items:
            node = node.items[step]
        elif isinstance(node, SeqNode) and isinstance(step, int) and step < len(node.items):
            node = node.items[step]
        else:
            break
    return node


def _describe(error: Any, node: Node, path: list[Any]) -> tuple[str, str | None] | None:
    """The message and, for an unknown key, the key to point at (else the node itself)."""
    where = ".".join(str(p) for p in path) or "top level"
    if error.validator in ("additionalProperties", "unevaluatedProperties") and isinstance(node, MapNode):
        allowed = _known_properties(error.schema, 0)
        extras = [k for k in node.items if k not in allowed and not _pattern_ok(error.schema, k)]
        if extras:
            key = extras[0]
            import difflib  # only to word an error

            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            suggestion = f' — did you mean "{close[0]}"?' if close else ""
            return f'unknown key "{key}" in {where}{suggestion}', key
        # Every key is known: jsonschema marks keys whose values failed as "unevaluated";
        # the value errors are reported on their own.
        return None
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        shown = json.dumps(error.instance) if not isinstance(error.instance, (dict, list)) else type(error.instance).__name__
        return f"{where} must be of type {expected}, not {shown}", None
    if error.validator in ("format", "pattern") and isinstance(error.instance, str):
        return f'{where}: "{error.instance}" is not a valid value ({error.message})', None
    message = error.message
    if len(message) > 200:
        message = message[:197] + "..."
    return f"{where}: {message}", None


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
