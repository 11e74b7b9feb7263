"""GitLab Code Quality (a CodeClimate subset): one JSON array, each issue with a unique
fingerprint (equal fingerprints are shown as one issue in the merge request widget)."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, TextIO

from vantage_lint.findings import Severity
from vantage_lint.report import ReportOptions, rule_of
from vantage_lint.secrets import redact

if TYPE_CHECKING:
    from vantage_lint.engine import Report
    from vantage_lint.findings import Finding

SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}
CATEGORY = {"security": "Security", "input": "Bug Risk", "plugin": "Style"}


def issue(f: Finding, fingerprint: str, category: str) -> dict[str, Any]:
    span = f.span
    return {
        "type": "issue",
        "check_name": f.code,
        "description": f"{f.code} {redact(f.message)}",
        "content": {"body": redact(f.hint)},
        "categories": [category],
        "severity": SEVERITY[f.severity],
        "fingerprint": fingerprint,
        "location": {
            "path": span.path,
            "positions": {
                "begin": {"line": span.line, "column": span.column},
                "end": {"line": max(span.end_line, span.line), "column": span.end_column},
            },
        },
    }


def render(report: Report, out: TextIO, options: ReportOptions) -> None:
    issues = []
    seen: dict[str, int] = {}
    for f in report.findings:
        # the finding's own fingerprint is line-independent; an occurrence counter keeps
        # identical findings (same rule, node and message) distinct
        n = seen.get(f.fingerprint, 0)
        seen[f.fingerprint] = n + 1
        fingerprint = hashlib.md5(f"{f.code}:{f.fingerprint}:{n}".encode(), usedforsecurity=False).hexdigest()
        rule = rule_of(report, f.code)
        category = CATEGORY.get(rule.category if rule else "plugin", "Bug Risk")
        if rule is not None and rule.production:
            category = "Security"
        issues.append(issue(f, fingerprint, category))
    json.dump(issues, out, indent=2, ensure_ascii=False)
    out.write("\n")
