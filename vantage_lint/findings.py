"""Findings, spans, severities and fixes: the values every rule produces."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple


class Severity(enum.IntEnum):
    """Ordered so that ``severity >= fail_on`` decides the exit status."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (expected error, warning or info)") from None


class Applicability(str, enum.Enum):
    """How safe a fix is: ``safe`` fixes run with ``--fix``, ``unsafe`` need ``--unsafe-fixes``."""

    SAFE = "safe"
    UNSAFE = "unsafe"


class Span(NamedTuple):
    """A region of one file. Lines and columns are 1-based; ``end_column`` is exclusive.

    ``start``/``end`` are character offsets into the decoded text (used by fixes).
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class Edit(NamedTuple):
    """Replace ``text[start:end]`` of the file at ``path`` with ``content``."""

    path: str
    start: int
    end: int
    content: str


class Fix(NamedTuple):
    title: str
    edits: tuple[Edit, ...]
    applicability: Applicability


@dataclass(slots=True)
class Finding:
    code: str
    name: str
    severity: Severity
    message: str
    hint: str
    span: Span
    service: str | None = None
    fix: Fix | None = None
    # The fix availability the rule declares, even when this finding has no computed fix.
    fix_applicability: Applicability | None = None
    # Stable identity of the offending node, independent of its line (baseline, SARIF, GitLab).
    fingerprint: str = ""
    # Set by input loaders whose rule has more than one severity (VL004: error or warning).
    explicit_severity: bool = False
    # Every service this one written line concerns, when anchors, merge keys or ``extends`` fan
    # it out to several (the engine merges their findings into this one); else empty.
    services: tuple[str, ...] = ()
    # Variables the deployment supplies (unset here, or ${VAR:?}) that the verdict depends on:
    # the message says so (compose.unknown.depends_clause); JSON and SARIF list the names.
    depends_on: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return self.span.path

    def sort_key(self) -> tuple:
        return (self.span.path, self.span.line, self.span.column, self.code, self.message)


def problem(code: str, span: Span, message: str, hint: str, severity: Severity | None = None) -> Finding:
    """A finding raised by an input loader (VL001-VL005); the engine fills in the rule's name
    and default severity (``severity`` overrides it, e.g. VL004's error cases)."""
    return Finding(
        code=code,
        name="",
        severity=severity if severity is not None else Severity.WARNING,
        message=message,
        hint=hint,
        span=span,
        explicit_severity=severity is not None,
    )
