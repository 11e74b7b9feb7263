"""SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer): one run, one tool, the rules
with their help, each result with a line-independent ``partialFingerprints`` entry.

GitHub reads only some properties (see ECOSYSTEM.md); the rest is valid SARIF that other
viewers use. Suppressed findings are left out: GitHub ignores ``suppressions`` and would
open alerts for them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from vantage_lint import __version__
from vantage_lint.findings import Severity
from vantage_lint.report import ReportOptions, overall_context, rule_of
from vantage_lint.report.json_format import context_dict
from vantage_lint.secrets import redact, redact_source_line

if TYPE_CHECKING:
    from vantage_lint.engine import Report
    from vantage_lint.findings import Finding, Fix
    from vantage_lint.registry import Rule
    from vantage_lint.source import SourceFile

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/vantage-lint/vantage-lint"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# GitHub shows a rule with security-severity as a security alert; scores per default level.
SECURITY_SCORE = {Severity.ERROR: "8.0", Severity.WARNING: "5.5", Severity.INFO: "3.0"}
MAX_DESCRIPTION = 1024


def render(report: Report, out: TextIO, options: ReportOptions) -> None:
    json.dump(sarif_log(report), out, indent=2, ensure_ascii=False)
    out.write("\n")


def sarif_log(report: Report) -> dict[str, Any]:
    codes = sorted({f.code for f in report.findings})
    rules = [r for r in (rule_of(report, code) for code in codes) if r is not None]
    index = {r.code: i for i, r in enumerate(rules)}
    occurrences: dict[str, int] = {}
    results = []
    for finding in report.findings:
        n = occurrences.get(finding.fingerprint, 0) + 1
        occurrences[finding.fingerprint] = n
        results.append(_result(finding, index, report.sources, n))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "vantage-lint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_descriptor(r, report) for r in rules],
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().absolute().as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "invocations": [{"executionSuccessful": True}],
        "results": results,
        # The context each project was checked in (production hardening is not reported in
        # development) and the preset: a run property, as SARIF allows any property bag.
        "properties": {
            "preset": report.settings.preset,
            "context": overall_context(report),
            "contexts": [context_dict(c) for c in report.contexts],
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _descriptor(rule: Rule, report: Report) -> dict[str, Any]:
    from vantage_lint.docs import rule_markdown, rule_url, what_it_does

    level = report.settings.severity_for(rule)
    security = rule.category == "security" or rule.production or "security" in rule.tags
    properties: dict[str, Any] = {
        "tags": sorted({rule.category, *rule.tags} | ({"security"} if security else set())),
        "precision": "high",
    }
    if security:
        properties["security-severity"] = SECURITY_SCORE[level]
    else:
        properties["problem.severity"] = {"note": "recommendation"}.get(LEVEL[level], LEVEL[level])
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": _clip(rule.summary)},
        "fullDescription": {"text": _clip(what_it_does(rule) or rule.summary)},
        "help": {"text": _clip(f"{rule.summary} {rule.hint}", 4096), "markdown": rule_markdown(rule, level=1)},
        "defaultConfiguration": {"level": LEVEL[level]},
        "properties": properties,
    }
    properties["tier"] = rule.tier
    properties["contexts"] = list(rule.contexts)
    if "policy" not in rule.tags:
        descriptor["helpUri"] = rule_url(rule)
    return descriptor


def _clip(text: str, limit: int = MAX_DESCRIPTION) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def artifact(path: str) -> dict[str, str]:
    if Path(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path, safe="/"), "uriBaseId": "%SRCROOT%"}


def _region(line: int, column: int, end_line: int, end_column: int) -> dict[str, int]:
    if (end_line, end_column) < (line, column):
        end_line, end_column = line, column
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def _result(f: Finding, index: dict[str, int], sources: dict[str, SourceFile], occurrence: int) -> dict[str, Any]:
    span = f.span
    source = sources.get(span.path)
    region = _region(span.line, span.column, span.end_line, span.end_column)
    if source is not None and 1 <= span.line <= len(source.line_starts):
        region["snippet"] = {"text": redact_source_line(source.line_text(span.line), source.path, source.text)}
    message = redact(f.message)
    if f.service and f.service not in message:
        message += f" (service {f.service})"
    result: dict[str, Any] = {
        "ruleId": f.code,
        "level": LEVEL[f.severity],
        "message": {"text": message},
        "locations": [{"physicalLocation": {"artifactLocation": artifact(span.path), "region": region}}],
        "partialFingerprints": {
            "primaryLocationLineHash": f"{f.fingerprint}:{occurrence}",
            "vantageLintFingerprint/v1": f.fingerprint,
        },
    }
    if f.code in index:
        result["ruleIndex"] = index[f.code]
    if f.depends_on:
        result["properties"] = {"depends_on_unknown": list(f.depends_on)}
    if f.fix is not None and f.fix.edits and all(edit.path in sources for edit in f.fix.edits):
        result["fixes"] = [_fix(f.fix, sources)]
    return result


def _fix(fix: Fix, sources: dict[str, SourceFile]) -> dict[str, Any]:
    changes: dict[str, list[dict[str, Any]]] = {}
    for edit in fix.edits:
        source = sources[edit.path]
        line, column = source.position(edit.start)
        end_line, end_column = source.position(edit.end)
        changes.setdefault(edit.path, []).append({
            "deletedRegion": _region(line, column, end_line, end_column),
            "insertedContent": {"text": redact(edit.content)},
        })
    return {
        "description": {"text": f"{fix.title} ({fix.applicability.value} fix)"},
        "artifactChanges": [{"artifactLocation": artifact(path), "replacements": replacements}
                            for path, replacements in changes.items()],
    }
