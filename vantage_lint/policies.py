"""Custom policies: rules written in the configuration file as a JSON Schema.

A policy names its targets (every service, filtered by role or name glob, or every redis.conf)
and a schema each target must satisfy. It becomes an ordinary :class:`~vantage_lint.registry.Rule`,
so selection, severity overrides, suppressions, baselines and every output format treat it
like a built-in rule. Each schema error is one finding at the node the error points at (the
service key when the node does not exist).
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

from vantage_lint.compose.merge import pairs_as_map
from vantage_lint.compose.nodes import MapNode, Node, ScalarNode, SeqNode
from vantage_lint.budget import BudgetExceeded, time_budget
from vantage_lint.findings import Finding, Severity, Span
from vantage_lint.registry import Rule
from vantage_lint.secrets import is_secret_name, mask, redact

PLACEHOLDERS = ("service", "error", "path", "value")
# Service keys whose list form Compose reads as a mapping; policies see the mapping form.
NORMALIZED_KEYS = ("environment", "labels", "annotations", "extra_hosts", "sysctls")
MAX_ERROR_TEXT = 200
# Python's regular expressions backtrack (`^(a+)+$` on 40 characters runs for hours), and
# a policy's `pattern` meets values an attacker wrote. Each evaluation gets this budget; a
# policy that exceeds it this many times is not evaluated again in the run.
POLICY_BUDGET_S = 1.0
MAX_TIMEOUTS = 3


class PolicyError(Exception):
    """A policy that cannot be built; ``key`` is the offending key inside the policy."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key
        self.message = message


def build_policy(spec: dict[str, Any], origin: str = "the configuration") -> Rule:
    """A rule from one validated ``policies`` entry (see ``schemas/config.schema.json``)."""
    code = spec["id"]
    target = spec.get("target", "services")
    roles = _as_list(spec.get("roles"))
    globs = _as_list(spec.get("services"))
    if roles and target != "services":
        raise PolicyError("roles", "roles filter services only; remove it or use target: services")
    validator = _validator(spec["schema"])
    message = spec["message"]
    _check_template(message)
    name = spec.get("name") or f"policy-{code.lower()}"
    what = "service" if target == "services" else "redis.conf"
    hint = spec.get("hint") or f"Change the {what} so that it satisfies policy {code}."
    severity = Severity.parse(spec.get("severity", "warning"))
    summary = spec.get("summary") or f"Custom policy {code} from {origin}: every {what} must satisfy its schema."
    if not summary.endswith("."):
        summary += "."
    policy = _Policy(code, message, frozenset(roles), globs, validator)
    check = policy.check_services if target == "services" else policy.check_redis
    return Rule(
        code=code,
        name=name,
        summary=summary,
        severity=severity,
        scope="project" if target == "services" else "redis",
        check=check,
        doc=_doc(spec, what, origin),
        hint=hint,
        tags=("policy",),
    )


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _validator(schema: Any) -> Any:
    import jsonschema
    from jsonschema.validators import validator_for

    cls = validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        where = ".".join(str(p) for p in exc.absolute_path)
        raise PolicyError("schema" + (f".{where}" if where else ""), f"invalid JSON Schema: {_short(exc.message)}") from None
    registry = _local_registry()
    _check_refs(cls(schema, registry=registry), schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER, registry=registry)
    try:  # surface unresolvable $refs now, not in the middle of a lint run
        list(validator.iter_errors({}))
    except Exception as exc:
        raise PolicyError("schema", f"invalid JSON Schema: {_short(str(exc))}") from None
    return validator


class _OutsideRef(Exception):
    def __init__(self, uri: str):
        super().__init__(uri)
        self.uri = uri


def _local_registry() -> Any:
    """A registry whose retrieval always refuses: refs resolve only inside the schema itself.

    Without it jsonschema fetches ``http://`` refs over the network and reads ``file://`` ones.
    """
    from referencing import Registry

    def refuse(uri: str) -> Any:
        raise _OutsideRef(uri)

    return Registry(retrieve=refuse)  # type: ignore[call-arg]


def _check_refs(validator: Any, schema: Any) -> None:
    """Resolve every ``$ref`` of the schema now, so that one pointing outside it is a config error."""
    for ref in _refs(schema):
        try:
            validator._resolver.lookup(ref)
        except Exception as exc:
            cause: BaseException | None = exc
            while cause is not None and not isinstance(cause, _OutsideRef):
                cause = cause.__cause__ or cause.__context__
            if cause is not None:
                raise PolicyError(
                    "schema", f"$ref {_short(ref)!r} points outside the configuration file and is not fetched; "
                    "inline the schema or use a local ref such as '#/$defs/name'") from None
            raise PolicyError("schema", f"invalid JSON Schema: unresolvable $ref {_short(ref)!r}") from None


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _check_template(message: str) -> None:
    """Only the bare placeholders: a format spec (``{service:>9999999999}`` pads to gigabytes,
    ``{service:d}`` fails on a string) or a conversion would run on values from linted files."""
    try:
        parts = [(field, spec, conv) for _text, field, spec, conv in string.Formatter().parse(message)
                 if field is not None]
    except ValueError as exc:
        raise PolicyError("message", f"bad placeholder: {exc}; write {{{{ and }}}} for literal braces") from None
    allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    for field, spec, conv in parts:
        if field not in PLACEHOLDERS:
            raise PolicyError("message", f"unknown placeholder {{{field}}}; use {allowed}")
        if spec or conv:
            written = "{" + field + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
            raise PolicyError("message", f"placeholder {written} has a format spec or conversion; "
                                         f"write {{{field}}} alone")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 3] + "..."


class _Policy:
    """The check functions of one policy (closures would do; a class keeps them inspectable)."""

    def __init__(self, code: str, message: str, roles: frozenset[str], globs: list[str], validator: Any):
        self.code = code
        self.message = message
        self.roles = roles
        self.globs = globs
        self.validator = validator
        self.timeouts = 0

    def _wanted(self, name: str | None) -> bool:
        if not self.globs:
            return True
        return name is not None and any(fnmatchcase(name, glob) for glob in self.globs)

    def check_services(self, project: Any, ctx: Any) -> Iterator[Finding]:
        for service in project.services.values():
            if self.roles and not (self.roles & service.roles):
                continue
            if not self._wanted(service.name):
                continue
            view = service_view(service.node)
            errors = self._errors(view.plain())
            if errors is None:
                yield ctx.finding(service.key_span, self._timed_out(f"service {service.name}"), service=service.name)
                continue
            for error in errors:
                path = list(error.absolute_path)
                at, value = node_at(view, path, service.key_span)
                yield ctx.finding(at, self._message(service.name, error, path, value), service=service.name)

    def check_redis(self, conf: Any, ctx: Any) -> Iterator[Finding]:
        service = getattr(getattr(conf, "service", None), "name", None)
        if self.globs and not self._wanted(service):
            return
        instance, spans, default = redis_view(conf)
        errors = self._errors(instance)
        if errors is None:
            yield ctx.finding(default, self._timed_out(service or "redis.conf"))
            return
        for error in errors:
            path = list(error.absolute_path)
            at = spans.get(str(path[0]), default) if path else default
            value = instance.get(str(path[0])) if path else None
            yield ctx.finding(at, self._message(service or "", error, path, value))

    def _errors(self, instance: Any) -> list[Any] | None:
        """The schema's errors for ``instance``; None when the evaluation ran out of time (a
        ``pattern`` that backtracks on a value from the linted file)."""
        if self.timeouts >= MAX_TIMEOUTS:
            return None  # this policy already cost its budget several times: do not try again
        try:
            with time_budget(POLICY_BUDGET_S):
                errors = list(self.validator.iter_errors(instance))
        except BudgetExceeded:
            self.timeouts += 1
            return None
        return sorted(errors, key=lambda e: ([str(p) for p in e.absolute_path], e.message))

    def _timed_out(self, what: str) -> str:
        # Fails closed: a value crafted to make the check slow must not pass it.
        return (f"{what}: policy {self.code} was not evaluated: its schema ran past the {POLICY_BUDGET_S:g} s budget "
                "(a pattern with nested quantifiers backtracks on this value); counted as failing")

    def _message(self, service: str, error: Any, path: list[Any], value: Any) -> str:
        fields = {
            "service": service,
            # jsonschema's error text quotes the instance (a whole service, its environment)
            "error": redact(_short(error.message)),
            "path": _dotted(path),
            "value": "" if value is None or isinstance(value, (dict, list)) else
            (mask(str(value)) if any(is_secret_name(str(p)) for p in path) else redact(str(value))),
        }
        return self.message.format_map(fields)



def _dotted(path: list[Any]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def service_view(node: MapNode) -> MapNode:
    """The service as a policy sees it: list-form ``labels``/``environment``/... as mappings."""
    view = node
    for key in NORMALIZED_KEYS:
        value = node.items.get(key)
        if isinstance(value, SeqNode):
            if view is node:
                view = node.copy()
            view.set(key, pairs_as_map(value), node.keys[key])
    return view


def node_at(root: Node, path: list[Any], fallback: Span) -> tuple[Span, Any]:
    """Where a schema error points: the scalar at ``path``, else the deepest key written on
    the way there, else ``fallback`` (the service key)."""
    node: Node | None = root
    best = fallback
    for step in path:
        if isinstance(node, MapNode) and isinstance(step, str) and step in node.items:
            best = node.keys[step]
            node = node.items[step]
        elif isinstance(node, SeqNode) and isinstance(step, int) and 0 <= step < len(node.items):
            node = node.items[step]
            best = node.span
        else:
            return best, None
    if isinstance(node, ScalarNode):
        return node.span, node.value
    return best, None


def redis_view(conf: Any) -> tuple[dict[str, str], dict[str, Span], Span]:
    """A redis.conf as a policy sees it: directive name (lower case, aliases resolved:
    ``slaveof`` is ``replicaof``) -> its arguments joined by a space, the last occurrence
    winning as Redis reads most directives. Options given to ``redis-server`` count too."""
    instance: dict[str, str] = {}
    spans: dict[str, Span] = {}
    for directive in conf.directives:
        name = directive.canonical or directive.name
        instance[name] = " ".join(directive.args)
        spans[name] = directive.span
    if conf.source is not None:
        default = conf.source.whole_span()
    elif conf.service is not None:
        default = conf.service.key_span
    else:
        default = next(iter(spans.values()), Span("", 1, 1, 1, 1))
    return instance, spans, default


def _doc(spec: dict[str, Any], what: str, origin: str) -> str:
    schema = json.dumps(spec["schema"], indent=2)
    filters = []
    if spec.get("roles"):
        filters.append(f"roles {', '.join(_as_list(spec['roles']))}")
    if spec.get("services"):
        filters.append(f"services matching {', '.join(_as_list(spec['services']))}")
    scope = f"every {what}" + (f" ({'; '.join(filters)})" if filters else "")
    return (
        f"## What it does\nChecks {scope} against a JSON Schema defined in {origin}.\n\n"
        f"## Why it matters\nIt is a policy of this project. It is reported as: {spec['message']}\n\n"
        f"## Example\nThe schema the target must satisfy:\n\n```json\n{schema}\n```\n\n"
        f"## Fix\n{spec.get('hint') or 'Change the target so that it satisfies the schema.'}\n"
    )
