"""JUnit XML for CI test-report views (GitLab ``artifacts:reports:junit``, Jenkins, ...):
one test suite per file, one failing test case per finding, one passing case per clean file
(so the CI shows "N passed"), suppressed findings as skipped cases with their reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO
from xml.etree import ElementTree as ET

from vantage_lint.report import ReportOptions
from vantage_lint.secrets import redact

if TYPE_CHECKING:
    from vantage_lint.engine import Report
    from vantage_lint.findings import Finding


def _case_name(f: Finding) -> str:
    where = f"{f.span.path}:{f.span.line}:{f.span.column}"
    service = f" (service {f.service})" if f.service else ""
    return f"{f.code} {f.name} at {where}{service}"


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters, even escaped."""
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)


def render(report: Report, out: TextIO, options: ReportOptions) -> None:
    paths = list(dict.fromkeys(
        list(report.files) + [f.span.path for f in report.findings] + [f.span.path for f in report.suppressed]))
    root = ET.Element("testsuites", name="vantage-lint")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for path in paths:
        findings = [f for f in report.findings if f.span.path == path]
        suppressed = [f for f in report.suppressed if f.span.path == path]
        suite = ET.SubElement(root, "testsuite", name=path)
        names: dict[str, int] = {}
        for f in findings:
            case = _case(suite, f, names)
            failure = ET.SubElement(case, "failure", message=_clean(redact(f.message)), type=f.severity.label)
            failure.text = _clean(f"{f.span.path}:{f.span.line}:{f.span.column}: {f.code} [{f.severity.label}] "
                                  f"{redact(f.message)}\nhint: {redact(f.hint)}")
        for f in suppressed:
            case = _case(suite, f, names)
            reason = getattr(f, "reason", None)
            by = getattr(f, "suppressed_by", "") or "comment"
            ET.SubElement(case, "skipped", message=_clean(f"suppressed by {by}" + (f": {redact(reason)}" if reason else "")))
        if not findings:
            ET.SubElement(suite, "testcase", name="vantage-lint", classname=path, file=path, time="0")
        tests = len(findings) + len(suppressed) + (0 if findings else 1)
        suite.set("tests", str(tests))
        suite.set("failures", str(len(findings)))
        suite.set("errors", "0")
        suite.set("skipped", str(len(suppressed)))
        suite.set("time", "0")
        totals["tests"] += tests
        totals["failures"] += len(findings)
        totals["skipped"] += len(suppressed)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    root.set("time", "0")
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")


def _case(suite: ET.Element, f: Finding, names: dict[str, int]) -> ET.Element:
    name = _case_name(f)
    count = names.get(name, 0) + 1
    names[name] = count
    if count > 1:
        name += f" #{count}"  # GitLab keeps only the first of equal names
    return ET.SubElement(suite, "testcase", name=name, classname=f.span.path, file=f.span.path,
                         line=str(f.span.line), time="0")
