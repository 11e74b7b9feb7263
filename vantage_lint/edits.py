"""Helpers that turn node positions into text edits (fixes are splices, never re-dumps)."""

from __future__ import annotations

from vantage_lint.findings import Edit, Span
from vantage_lint.source import SourceFile


def line_bounds(source: SourceFile, line: int) -> tuple[int, int]:
    """Offsets of a whole 1-based line including its line break."""
    start = source.offset(line, 1)
    end = source.text.find("\n", start)
    return start, (len(source.text) if end == -1 else end + 1)


def delete_line_edit(source: SourceFile, key_span: Span, value_span: Span) -> Edit | None:
    """Delete ``key: value`` when it occupies whole lines by itself (block style only)."""
    start, _ = line_bounds(source, key_span.line)
    if source.text[start : key_span.start].strip():
        return None  # something else precedes the key on its line (flow style)
    _, end = line_bounds(source, value_span.end_line if value_span.end_column > 1 else value_span.end_line - 1)
    tail = source.text[value_span.end : end].strip()
    if tail and not tail.startswith("#"):
        return None
    return Edit(source.path, start, end, "")


def replace_edit(span: Span, content: str) -> Edit:
    return Edit(span.path, span.start, span.end, content)
