"""What a rule's check function receives besides the model: its options and a finding factory."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from vantage_lint.compose.unknown import depends_clause

from vantage_lint.findings import Finding, Fix, Severity, Span

if TYPE_CHECKING:
    from vantage_lint.registry import Rule


class HasSpan(Protocol):
    @property
    def span(self) -> Span: ...


class RuleContext:
    """Per-rule context: options merged over the rule's defaults, the project, the current service."""

    __slots__ = ("rule", "options", "project", "service_name", "deploy_context")

    def __init__(self, rule: Rule, options: dict[str, Any], project: Any = None):
        self.rule = rule
        self.options = {**rule.default_options, **options}
        self.project = project
        self.service_name: str | None = None
        # "production" or "development" (compose/deploy_context.py); None when not decided.
        self.deploy_context: str | None = None

    def finding(
        self,
        at: Span | HasSpan,
        message: str,
        *,
        hint: str | None = None,
        fix: Fix | None = None,
        service: str | None = None,
        depends_on: Iterable[str] = (),
        severity: Severity | None = None,
    ) -> Finding:
        """``depends_on``: the variables the deployment supplies that the verdict depends on
        (compose.unknown.names_in of the values read); the message gets the "depends on ${NAME},
        set at deploy time" clause, the finding lists them and, unless ``severity`` says
        otherwise, is one level below the rule's default (info stays info): it may not hold."""
        span = at if isinstance(at, Span) else at.span
        names = tuple(dict.fromkeys(depends_on))
        if names:
            message += depends_clause(names)
            if severity is None:
                severity = Severity(max(Severity.INFO, self.rule.severity - 1))
        return Finding(
            code=self.rule.code,
            name=self.rule.name,
            severity=severity if severity is not None else self.rule.severity,
            message=message,
            hint=hint or self.rule.hint,
            span=span,
            service=service if service is not None else self.service_name,
            fix=fix,
            fix_applicability=self.rule.fix,
            depends_on=names,
            explicit_severity=severity is not None,
        )
