"""Output formats. Each format is a module with ``render(report, out, options)``; a module is
imported only when its format is chosen (rich only for ``text``)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple, TextIO

if TYPE_CHECKING:
    from vantage_lint.engine import Report
    from vantage_lint.registry import Rule

FORMATS = ("text", "concise", "json", "sarif", "github", "gitlab", "junit", "rdjson", "checkstyle")


class ReportOptions(NamedTuple):
    color: bool = False
    quiet: bool = False
    statistics: bool = False
    show_source: bool = True
    width: int | None = None


def render(report: Report, fmt: str, out: TextIO, options: ReportOptions | None = None) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    module = importlib.import_module(f"vantage_lint.report.{fmt}_format")
    module.render(report, out, options or ReportOptions())


def rule_of(report: Report, code: str) -> Rule | None:
    """The rule (built-in, plugin or custom policy) behind a finding code."""
    found = report.rules.by_code.get(code)
    if found is not None:
        return found
    return next((p for p in report.settings.policies if p.code == code), None)


def statistics_lines(report: Report) -> list[str]:
    """``count  code  name`` per rule, most frequent first (ruff's --statistics)."""
    counts: dict[tuple[str, str], int] = {}
    fixable: dict[str, bool] = {}
    for finding in report.findings:
        key = (finding.code, finding.name)
        counts[key] = counts.get(key, 0) + 1
        fixable[finding.code] = fixable.get(finding.code, False) or finding.fix is not None
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    lines = [f"{count:>5}  {code:<7} {'[*] ' if fixable[code] else '    '}{name}" for (code, name), count in rows]
    return lines + _suppressed_lines(report)


def _suppressed_lines(report: Report) -> list[str]:
    """``count  code      name, suppressed by <how>: <reason>`` for what suppressions hid."""
    from vantage_lint.secrets import redact

    counts: dict[tuple[str, str, str], int] = {}
    for finding in report.suppressed:
        how = getattr(finding, "suppressed_by", "") or "comment"
        reason = getattr(finding, "reason", None)
        key = (finding.code, finding.name, how + (f": {redact(reason)}" if reason else ""))
        counts[key] = counts.get(key, 0) + 1
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [f"{count:>5}  {code:<7}     {name}, suppressed by {how}" for (code, name, how), count in rows]


def summary_line(report: Report) -> str:
    n = len(report.findings)
    if n == 0:
        return f"No findings in {len(report.files)} file{'s' if len(report.files) != 1 else ''}." + _suppressed_note(report)
    parts = [f"{report.count(s)} {s.label}{'s' if report.count(s) != 1 else ''}" for s in _severities() if report.count(s)]
    fixable = sum(1 for f in report.findings if f.fix is not None)
    text = f"Found {n} finding{'s' if n != 1 else ''} ({', '.join(parts)}) in {len(report.files)} file{'s' if len(report.files) != 1 else ''}."
    if fixable:
        text += f" {fixable} fixable with --fix (some may need --unsafe-fixes)."
    return text + _suppressed_note(report)


def overall_context(report: Report) -> str:
    """production, development, mixed (a folder walk with some of each) or none."""
    kinds = {c.context for c in report.contexts}
    if not kinds:
        return "none"
    return kinds.pop() if len(kinds) == 1 else "mixed"


def context_line(report: Report) -> str | None:
    """Which context the run used and why, in one line (None when nothing was linted)."""
    contexts = report.contexts
    if not contexts:
        return None
    preset = report.settings.preset
    dev = [c for c in contexts if c.context == "development"]
    if len(contexts) == 1:
        only = contexts[0]
        text = f"Context: {only.context} ({only.reason}); preset {preset}."
    elif not dev:
        text = f"Context: production for all {len(contexts)} projects; preset {preset}."
    else:
        shown = ", ".join(c.path for c in dev[:3]) + (", ..." if len(dev) > 3 else "")
        text = (f"Context: development for {len(dev)} of {len(contexts)} projects ({shown}), production for the "
                f"others; preset {preset}.")
    if dev:
        text += " Production hardening is not reported in development (--context production checks it)."
    return text


def template_note(path: str) -> str:
    return (f"No .env: {path} stood in for it; its blank values are taken as set at deploy time "
            "(unknown), so no finding rests on them.")


def _suppressed_note(report: Report) -> str:
    n = len(report.suppressed)
    return f" {n} suppressed." if n else ""


def _severities():
    from vantage_lint.findings import Severity

    return (Severity.ERROR, Severity.WARNING, Severity.INFO)
