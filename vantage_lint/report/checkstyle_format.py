"""Checkstyle XML (read by reviewdog ``-f=checkstyle``, Jenkins warnings-ng, many CI tools): one
``<file>`` per file with findings, one ``<error>`` per finding; the rule code is the ``source``."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO
from xml.etree import ElementTree as ET

from vantage_lint.findings import Severity
from vantage_lint.report import ReportOptions
from vantage_lint.secrets import redact

if TYPE_CHECKING:
    from vantage_lint.engine import Report

SEVERITY = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters, even escaped."""
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)


def render(report: Report, out: TextIO, options: ReportOptions) -> None:
    root = ET.Element("checkstyle", version="4.3")
    files: dict[str, ET.Element] = {}
    for f in report.findings:
        node = files.get(f.path)
        if node is None:
            node = files[f.path] = ET.SubElement(root, "file", name=_clean(f.path))
        message = redact(f.message) + (f" (service {f.service})" if f.service and f.service not in f.message else "")
        ET.SubElement(node, "error", line=str(f.span.line), column=str(f.span.column),
                      severity=SEVERITY[f.severity], message=_clean(f"{f.code} {message}. Fix: {redact(f.hint)}"),
                      source=f"vantage-lint.{f.code}.{f.name}")
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
