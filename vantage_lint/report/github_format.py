"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` annotation per
finding, shown on the pull request's changed lines. Chosen automatically when
``GITHUB_ACTIONS=true``."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from vantage_lint.findings import Severity
from vantage_lint.report import ReportOptions, statistics_lines, summary_line
from vantage_lint.secrets import line_start, printable, redact

if TYPE_CHECKING:
    from vantage_lint.engine import Report
    from vantage_lint.findings import Finding

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """The message part (actions/toolkit ``escapeData``); other control characters (terminal
    escapes) are shown as ``\\xNN``."""
    return printable(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    """A ``key=value`` property (actions/toolkit ``escapeProperty``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    span = f.span
    props = [("file", span.path), ("line", str(span.line))]
    end_line = max(span.end_line, span.line)
    props.append(("endLine", str(end_line)))
    if end_line == span.line:
        # col/endColumn are ignored by GitHub when the annotation spans several lines
        props += [("col", str(span.column)), ("endColumn", str(max(span.end_column, span.column)))]
    props.append(("title", f"vantage-lint {f.code} ({f.name})"))
    head = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    message = redact(f.message) + "\n" + redact(f.hint)
    return f"::{COMMAND[f.severity]} {head}::{escape_data(message)}"


def render(report: Report, out: TextIO, options: ReportOptions) -> None:
    for finding in report.findings:
        out.write(annotation(finding) + "\n")
    if options.statistics:
        for line in statistics_lines(report):
            out.write(line_start(line) + "\n")
    if not options.quiet:
        out.write(summary_line(report) + "\n")
