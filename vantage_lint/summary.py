"""Hardening nearly every service lacks, reported once per file in the recommended preset.

Rules such as VL102 (no resource limits) or VL106 (no log rotation) are right about almost every
service of almost every stack, so per service they drown what is wrong in this one. A rule that
declares ``summarised`` has its findings in one file (after suppressions: a suppressed service
is not counted) replaced by one info finding at the first of them, naming every service. A
finding the rule raised at an explicit severity (a case it knows to matter, such as a Celery
worker with no memory limit) is not summarised. The production preset reports each service.
The summary carries the services' own fixes joined into one, when each of them has one.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from vantage_lint.findings import Finding, Fix, Severity

if TYPE_CHECKING:
    from vantage_lint.registry import RuleSet
    from vantage_lint.settings import Settings

_SHOWN = 8  # services named in the message; the rest are counted (all are in ``services``)


def summarise(findings: list[Finding], rules: RuleSet, settings: Settings) -> list[Finding]:
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        rule = rules.by_code.get(finding.code)
        if rule is None or finding.explicit_severity or not finding.service or not settings.summarises(rule):
            continue
        groups.setdefault((finding.code, finding.span.path), []).append(finding)
    if not groups:
        return findings
    replaced: dict[int, Finding | None] = {}
    for (code, _path), group in groups.items():
        rule = rules.by_code[code]
        first = group[0]
        names = list(dict.fromkeys(name for f in group for name in (f.services or (f.service,)) if name))
        if len(names) == 1:
            first.severity = Severity.INFO
            replaced[id(first)] = first
            continue
        shown = ", ".join(f'"{name}"' for name in names[:_SHOWN])
        more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
        summary = Finding(
            code=code,
            name=rule.name,
            severity=Severity.INFO,
            message=f"{len(names)} services in this file {rule.summarised}: {shown}{more}",
            hint=f"{first.hint} The production preset (--preset production) reports each service.",
            span=first.span,
            service=first.service,
            fix=_joined_fix(group),
            fix_applicability=first.fix_applicability,
            fingerprint=_fingerprint(code, first),
            services=tuple(names),
        )
        replaced[id(first)] = summary
        for other in group[1:]:
            replaced[id(other)] = None
    out: list[Finding] = []
    for finding in findings:
        if id(finding) in replaced:
            kept = replaced[id(finding)]
            if kept is not None:
                out.append(kept)
        else:
            out.append(finding)
    return out


def _joined_fix(group: list[Finding]) -> Fix | None:
    """The services' own fixes as one (`--fix --unsafe-fixes` still adds log rotation to each),
    when every one of them has a fix of the same kind; else none: a partial fix would leave the
    summary true and say it was fixed."""
    fixes = [f.fix for f in group]
    if not fixes or any(fix is None for fix in fixes):
        return None
    kinds = {fix.applicability for fix in fixes if fix is not None}
    if len(kinds) != 1:
        return None
    edits = tuple(edit for fix in fixes if fix is not None for edit in fix.edits)
    first = fixes[0]
    assert first is not None
    return Fix(f"{first.title} ({len(fixes)} services)", edits, kinds.pop())


def _fingerprint(code: str, first: Finding) -> str:
    """Stable while the file keeps lacking it: the rule and the file, not the services' names."""
    return hashlib.sha256(f"{code}\0{first.span.path}\0summary".encode()).hexdigest()[:16]
