"""``path:line:col: CODE [severity] message`` — one line per finding, for editors and grep."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from vantage_lint.report import ReportOptions, statistics_lines, summary_line
from vantage_lint.secrets import line_start, printable, redact

if TYPE_CHECKING:
    from vantage_lint.engine import Report


def render(report: Report, out: TextIO, options: ReportOptions) -> None:
    for f in report.findings:
        service = f" (service {printable(f.service)})" if f.service else ""
        out.write(f"{line_start(f.span.path)}:{f.span.line}:{f.span.column}: {f.code} [{f.severity.label}] "
                  f"{printable(redact(f.message))}{service}\n")
    if options.statistics:
        for line in statistics_lines(report):
            out.write(line_start(line) + "\n")
    if not options.quiet:
        out.write(summary_line(report) + "\n")
