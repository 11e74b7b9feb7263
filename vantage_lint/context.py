"""What a rule's check function receives besides the model: its options and a finding factory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from vantage_lint.findings import Finding, Fix, Span

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
    ) -> Finding:
        span = at if isinstance(at, Span) else at.span
        return Finding(
            code=self.rule.code,
            name=self.rule.name,
            severity=self.rule.severity,
            message=message,
            hint=hint or self.rule.hint,
            span=span,
            service=service if service is not None else self.service_name,
            fix=fix,
            fix_applicability=self.rule.fix,
        )
