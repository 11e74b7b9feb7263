"""The stable machine interface, documented by ``schemas/report.schema.json``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

from vantage_lint import __version__
from vantage_lint.report import ReportOptions
from vantage_lint.report import overall_context
from vantage_lint.secrets import redact

if TYPE_CHECKING:
    from vantage_lint.compose.deploy_context import DeployContext
    from vantage_lint.engine import Report
    from vantage_lint.findings import Finding


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "name": f.name,
        "severity": f.severity.label,
        "message": redact(f.message),
        "hint": redact(f.hint),
        "path": f.span.path,
        "line": f.span.line,
        "column": f.span.column,
        "end_line": f.span.end_line,
        "end_column": f.span.end_column,
        "service": f.service,
        "services": list(f.services),
        "fix": f.fix.applicability.value if f.fix is not None else None,
        "fingerprint": f.fingerprint,
        "depends_on_unknown": list(f.depends_on),
    }


def suppressed_dict(f: Finding) -> dict[str, Any]:
    entry = finding_dict(f)
    entry["suppressed_by"] = getattr(f, "suppressed_by", "") or "comment"
    reason = getattr(f, "reason", None)
    entry["reason"] = redact(reason) if reason else None
    return entry


def report_dict(report: Report, entries: bool = True) -> dict[str, Any]:
    """The whole report as plain data (``entries=False``: without the finding lists)."""
    from vantage_lint.findings import Severity

    return {
        "tool": {"name": "vantage-lint", "version": __version__},
        "findings": [finding_dict(f) for f in report.findings] if entries else [],
        "suppressed": [suppressed_dict(f) for f in report.suppressed] if entries else [],
        "contexts": [context_dict(c) for c in report.contexts],
        "summary": {
            "files": len(report.files),
            "findings": len(report.findings),
            "error": report.count(Severity.ERROR),
            "warning": report.count(Severity.WARNING),
            "info": report.count(Severity.INFO),
            "fixable": sum(1 for f in report.findings if f.fix is not None),
            "suppressed": len(report.suppressed),
            "preset": report.settings.preset,
            "context": overall_context(report),
            "env_templates": list(report.env_templates),
        },
    }


def context_dict(where: DeployContext) -> dict[str, Any]:
    return {"path": where.path, "context": where.context, "reason": redact(where.reason),
            "decided_by": where.decided_by}


def render(report: Report, out: TextIO, options: ReportOptions) -> None:
    """Indented at the top, one finding per line: readable, streamed (a report of a monorepo
    is never held twice in memory), and each finding goes through the C encoder."""
    data = report_dict(report, entries=False)
    out.write("{\n")
    out.write(f'  "tool": {json.dumps(data["tool"])},\n')
    for key, findings, entry in (("findings", report.findings, finding_dict),
                                 ("suppressed", report.suppressed, suppressed_dict)):
        out.write(f'  "{key}": [')
        for index, f in enumerate(findings):
            out.write(",\n    " if index else "\n    ")
            out.write(json.dumps(entry(f), ensure_ascii=False))
        out.write("\n  ],\n" if findings else "],\n")
    out.write(f'  "contexts": {json.dumps(data["contexts"], ensure_ascii=False)},\n')
    out.write(f'  "summary": {json.dumps(data["summary"])}\n')
    out.write("}\n")
