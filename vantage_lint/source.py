"""Reading input files: bytes to text, safely, with a line index for positions.

Every input is treated as hostile: size limits, binary data and bad encodings give a
:class:`SourceError` that the caller turns into a finding, never an exception escaping.
"""

from __future__ import annotations

import bisect
import codecs
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vantage_lint.findings import Span

MAX_FILE_BYTES = 10 * 1024 * 1024
_BREAKS = re.compile(r"\r\n|\r|\n")
MAX_LINE_CHARS = 1024 * 1024


class SourceError(Exception):
    """A file that cannot be read as text. ``line``/``column`` locate the problem (1-based)."""

    def __init__(self, message: str, line: int = 1, column: int = 1, path: str = ""):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.path = path

    def span(self) -> Span:
        return Span(self.path, self.line, self.column, self.line, self.column)


@dataclass(slots=True)
class SourceFile:
    """One input file: its display path, real path, decoded text and how it was encoded."""

    path: str
    real_path: Path | None
    text: str
    bom: str = ""
    encoding: str = "utf-8"
    _line_starts: list[int] = field(default_factory=list, repr=False)
    # The node tree the Compose loader built from ``text`` (reused by fixers to learn the style).
    yaml_root: Any = field(default=None, repr=False, compare=False)
    # A lone CR ends a line too (YAML: line breaks are LF, CRLF and CR). redis.conf and .env
    # files are split on LF only, as redis-server and Compose split them.
    cr_breaks: bool = field(default=False, repr=False, compare=False)

    def use_cr_breaks(self) -> None:
        if not self.cr_breaks:
            self.cr_breaks = True
            self._line_starts = []

    @property
    def line_starts(self) -> list[int]:
        if not self._line_starts:
            if self.cr_breaks:
                self._line_starts = [0] + [m.end() for m in _BREAKS.finditer(self.text)]
                return self._line_starts
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._line_starts = starts
        return self._line_starts

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        starts = self.line_starts
        index = bisect.bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def offset(self, line: int, column: int) -> int:
        """Character offset of a 1-based (line, column)."""
        starts = self.line_starts
        line = max(1, min(line, len(starts)))
        return min(starts[line - 1] + column - 1, len(self.text))

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        return Span(self.path, line, col, end_line, end_col, start, end)

    def line_span(self, line: int) -> Span:
        """The span of a whole 1-based line without its line break."""
        start = self.offset(line, 1)
        if self.cr_breaks:
            starts = self.line_starts
            index = max(1, min(line, len(starts)))
            end = starts[index] if index < len(starts) else len(self.text)
            while end > start and self.text[end - 1] in "\r\n":
                end -= 1
            return self.span(start, end)
        end = self.text.find("\n", start)
        if end == -1:
            end = len(self.text)
        if end > start and self.text[end - 1] == "\r":
            end -= 1
        return self.span(start, end)

    def line_text(self, line: int) -> str:
        span = self.line_span(line)
        return self.text[span.start : span.end]

    def whole_span(self) -> Span:
        return self.line_span(1)

    def encode(self, text: str) -> bytes:
        """Bytes for new text in this file's own encoding (BOM kept)."""
        return self.bom.encode(self.encoding) + text.encode(self.encoding) if self.bom else text.encode(self.encoding)


def decode(data: bytes, path: str) -> SourceFile:
    """Decode bytes as UTF-8 (with or without a BOM); anything else is a SourceError."""
    if len(data) > MAX_FILE_BYTES:
        raise SourceError(
            f"file is {len(data):,} bytes, over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit; not linted"
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise SourceError("file is UTF-16/UTF-32 encoded; Compose and Redis read UTF-8 only")
    bom = ""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        bom = "\ufeff"
    nul = data.find(b"\x00")
    if nul != -1:
        line = data.count(b"\n", 0, nul) + 1
        column = nul - (data.rfind(b"\n", 0, nul) + 1) + 1
        raise SourceError("file contains NUL bytes: binary data, not text", line, column)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", line, column) from None
    longest = _longest_line(text)
    if longest[1] > MAX_LINE_CHARS:
        raise SourceError(
            f"line {longest[0]} is {longest[1]:,} characters long, over the {MAX_LINE_CHARS:,} limit; not linted",
            longest[0],
            1,
        )
    return SourceFile(path=path, real_path=None, text=text, bom=bom)


def _longest_line(text: str) -> tuple[int, int]:
    if len(text) <= MAX_LINE_CHARS:
        return 1, 0
    best_line, best_len, line_no, start = 1, 0, 1, 0
    while True:
        end = text.find("\n", start)
        length = (len(text) if end == -1 else end) - start
        if length > best_len:
            best_line, best_len = line_no, length
        if end == -1:
            return best_line, best_len
        start, line_no = end + 1, line_no + 1


def read_source(real_path: Path, display_path: str) -> SourceFile:
    """Read and decode a file; raises SourceError (decoding) or OSError (I/O)."""
    # O_NONBLOCK so a FIFO planted under a config's name cannot block the open; the fstat of
    # the opened descriptor (not the path) decides, so a swap between check and read is harmless.
    fd = os.open(real_path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise SourceError("not a regular file; not read", path=display_path)
    size = info.st_size
    if size > MAX_FILE_BYTES:
        os.close(fd)
        raise SourceError(
            f"file is {size:,} bytes, over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit; not linted",
            path=display_path,
        )
    with os.fdopen(fd, "rb") as handle:
        # Ask for the size stat reported (a read of the whole limit would allocate 10 MiB per
        # file); a file that grew since, or a pipe that reports 0, is read on up to the limit.
        data = handle.read(size + 1)
        if len(data) > size:
            data += handle.read(MAX_FILE_BYTES + 1 - len(data))
    try:
        source = decode(data, display_path)
    except SourceError as exc:
        exc.path = display_path
        raise
    source.real_path = real_path
    return source


def display_path(path: Path, cwd: Path | None = None) -> str:
    """A path as users expect to see it: relative to the working directory (``../x`` included)."""
    cwd = cwd or Path.cwd()
    try:
        return Path(os.path.relpath(path.absolute(), cwd)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()
