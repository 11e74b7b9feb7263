"""reviewdog's rdjson (``DiagnosticResult``): one diagnostic per finding with its range, severity
and rule code/url, and ``suggestions`` carrying a fix's replacement so reviewdog can post it as a
GitHub suggested change. Columns are 1-based UTF-8 byte counts and range ends are exclusive,
as the rdjson schema defines them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

from vantage_lint import __version__
from vantage_lint.findings import Severity
from vantage_lint.report import ReportOptions, rule_of
from vantage_lint.secrets import redact

if TYPE_CHECKING:
    from vantage_lint.engine import Report
    from vantage_lint.findings import Finding
    from vantage_lint.source import SourceFile

SEVERITY = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "INFO"}
SOURCE = {"name": "vantage-lint", "url": "https://github.com/vantage-lint/vantage-lint"}


def byte_position(source: SourceFile | None, line: int, column: int) -> dict[str, int]:
    """rdjson counts columns in UTF-8 bytes; spans count code points."""
    if source is None or not 1 <= line <= len(source.line_starts):
        return {"line": line, "column": column}
    start = source.line_starts[line - 1]
    prefix = source.text[start : start + column - 1]
    return {"line": line, "column": len(prefix.encode("utf-8")) + 1}


def _offset_position(source: SourceFile, offset: int) -> dict[str, int]:
    line, column = source.position(offset)
    return byte_position(source, line, column)


def diagnostic(f: Finding, report: Report) -> dict[str, Any]:
    from vantage_lint.docs import rule_url

    span, source = f.span, report.sources.get(f.span.path)
    end_line, end_column = (span.end_line, span.end_column)
    if (end_line, end_column) < (span.line, span.column):
        end_line, end_column = span.line, span.column
    message = redact(f.message)
    if f.hint:
        message += f"\nFix: {redact(f.hint)}"
    code: dict[str, str] = {"value": f.code}
    rule = rule_of(report, f.code)
    if rule is not None and "policy" not in getattr(rule, "tags", ()):
        code["url"] = rule_url(rule)
    result: dict[str, Any] = {
        "message": message,
        "location": {"path": span.path, "range": {"start": byte_position(source, span.line, span.column),
                                                   "end": byte_position(source, end_line, end_column)}},
        "severity": SEVERITY[f.severity],
        "source": SOURCE,
        "code": code,
    }
    suggestions = _suggestions(f, report)
    if suggestions:
        result["suggestions"] = suggestions
    return result


def _suggestions(f: Finding, report: Report) -> list[dict[str, Any]]:
    # reviewdog applies a suggestion to the diagnostic's own file only; a fix that also edits
    # another file (an override, a redis.conf) is left to `--fix` rather than posted half.
    if f.fix is None or not f.fix.edits or any(e.path != f.span.path for e in f.fix.edits):
        return []
    source = report.sources.get(f.span.path)
    if source is None:
        return []
    # a replacement that would carry a secret is not posted (a redacted one would be wrong)
    if any(redact(e.content) != e.content for e in f.fix.edits):
        return []
    return [{"range": {"start": _offset_position(source, e.start), "end": _offset_position(source, e.end)},
             "text": e.content} for e in f.fix.edits]


def render(report: Report, out: TextIO, options: ReportOptions) -> None:
    doc = {"source": SOURCE, "diagnostics": [diagnostic(f, report) for f in report.findings]}
    json.dump(doc, out, indent=2, ensure_ascii=False)
    out.write("\n")
