"""Human output: grouped by file, each finding with a source excerpt, the node underlined,
and its hint; a summary at the end. Colors only on a terminal (never with NO_COLOR).

Each line is built once as styled pieces. Colored output goes through rich; plain output (off
a terminal, ``NO_COLOR``, the pre-commit case) is the same text written directly, so rich is
not even imported for it (a test checks that both give the same characters)."""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING, TextIO

from vantage_lint.findings import Severity
from vantage_lint.report import ReportOptions, context_line, statistics_lines, summary_line, template_note
from vantage_lint.secrets import line_start, printable, redact, redact_source_line

if TYPE_CHECKING:
    from vantage_lint.engine import Report
    from vantage_lint.findings import Finding
    from vantage_lint.source import SourceFile

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
MAX_EXCERPT = 160

# One output line: (text, style) pieces; style "" is unstyled.
Line = list[tuple[str, str]]


def render(report: Report, out: TextIO, options: ReportOptions) -> None:
    lines = list(_lines(report, options))
    if options.color:
        _write_rich(lines, out, options)
    else:
        out.write("".join("".join(text for text, _style in line) + "\n" for line in lines))


def _write_rich(lines: list[Line], out: TextIO, options: ReportOptions) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(
        file=out,
        force_terminal=options.color,
        no_color=not options.color,
        color_system="auto" if options.color else None,
        highlight=False,
        soft_wrap=True,
        width=options.width or 200,
    )
    for line in lines:
        console.print(Text.assemble(*((text, style) if style else text for text, style in line)))


def _lines(report: Report, options: ReportOptions):
    for path, group in groupby(report.findings, key=lambda f: f.span.path):
        yield [(line_start(path), "bold underline")]
        source = report.sources.get(path)
        for finding in group:
            yield from _finding(finding, source, options)
        yield []
    if options.statistics:
        for line in statistics_lines(report):
            yield [(line_start(line), "")]
    if not options.quiet:
        for template in report.env_templates:
            yield [(line_start(printable(redact(template_note(template)))), "")]
        where = context_line(report)
        if where:
            yield [(line_start(printable(redact(where))), "dim")]
        style = "bold red" if report.failed else ("yellow" if report.findings else "green")
        yield [(summary_line(report), style)]


def _finding(f: Finding, source: SourceFile | None, options: ReportOptions):
    head: Line = [
        (f"  {f.span.line}:{f.span.column}", "dim"),
        ("  ", ""),
        (f"{f.severity.label:<7}", STYLE[f.severity]),
        (" ", ""),
        (f.code, "bold"),
        (" ", ""),
        (f"[{f.name}]", "dim"),
        (" ", ""),
        (printable(redact(f.message)), ""),
    ]
    if f.service:
        head.append((f"  (service {printable(f.service)})", "dim"))
    yield head
    if options.show_source and source is not None and 1 <= f.span.line <= len(source.line_starts):
        line_text = source.line_text(f.span.line)
        shown = printable(redact_source_line(line_text.expandtabs(1), source.path, source.text))[:MAX_EXCERPT]
        yield [(f"{f.span.line:>6} | ", "blue"), (shown, "")]
        start = max(f.span.column - 1, 0)
        if f.span.end_line == f.span.line:
            width = max(f.span.end_column - f.span.column, 1)
        else:
            width = max(len(line_text.rstrip()) - start, 1)
        width = min(width, max(MAX_EXCERPT - start, 1))
        yield [(" " * 6 + " | ", "blue"), (" " * start, ""), ("^" * width, STYLE[f.severity])]
    hint: Line = [("       = ", "blue"), ("hint: ", "bold"), (printable(redact(f.hint)), "")]
    if f.fix is not None:
        hint.append((f"  [{f.fix.applicability.value} fix available]", "green"))
    yield hint
