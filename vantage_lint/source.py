"""Reading input files: bytes to text, safely, with a line index for positions.

Every input is treated as hostile: size limits, binary data and bad encodings give a
:class:`SourceError` that the caller turns into a finding, never an exception escaping.

Everything a project looks at on disk goes through this module: :class:`Reader` (or
:func:`read_source`) for contents, :func:`is_file`/:func:`exists` for existence and
:func:`glob_paths` for wildcards. While a :class:`ReadLog` is active (see :func:`recording`)
each of them notes what it saw, so the per-project result cache knows every input of a project
without any reader having to declare it. A new reader (a Dockerfile, an app's configuration)
gets this by using these functions instead of ``Path.is_file()`` or ``open()``.
"""

from __future__ import annotations

import bisect
import codecs
import hashlib
import os
import re
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
        self.digest = ""  # of the bytes that could not be decoded (set by read_source)

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

    # Digest of the bytes the text was decoded from (what the result cache compares).
    digest: str = field(default="", repr=False, compare=False)

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
    raw = data
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
    return SourceFile(path=path, real_path=None, text=text, bom=bom, digest=content_digest(raw))


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


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_source(real_path: Path, display_path: str) -> SourceFile:
    """Read and decode a file; raises SourceError (decoding) or OSError (I/O). The outcome is
    noted in the active :class:`ReadLog`, failures included (a missing file that appears later
    changes the project as much as an edit does)."""
    try:
        source = _read_source(real_path, display_path)
    except SourceError as exc:
        _note("file", real_path, f"unreadable:{exc.digest or exc.message}")
        raise
    except OSError as exc:
        _note("file", real_path, f"error:{exc.errno}")
        raise
    _note("file", real_path, source.digest)
    return source


def _read_source(real_path: Path, display_path: str) -> SourceFile:
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
        exc.digest = content_digest(data)
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


# --- what a project read ---------------------------------------------------------------------

class ReadLog:
    """What one project saw on disk through this module: per file its content digest or why it
    could not be read, per existence probe what was there, per wildcard what it matched.

    :meth:`unchanged` looks again and says whether every answer is still the same, which is
    exactly when a result computed from those answers is still right."""

    __slots__ = ("entries",)

    def __init__(self, entries: dict[tuple[str, str], str] | None = None):
        self.entries: dict[tuple[str, str], str] = entries or {}

    def note(self, kind: str, path: str, outcome: str) -> None:
        self.entries.setdefault((kind, path), outcome)  # the first answer is what the project used

    def note_env(self, name: str, value: str | None) -> None:
        """An environment variable the result depends on, beyond those in the caller's key."""
        self.entries[("env", name)] = "unset" if value is None else f"={value}"

    def files(self) -> list[str]:
        """Absolute paths of the files read (or tried), in the order first read."""
        return [path for kind, path in self.entries if kind == "file"]

    def as_list(self) -> list[list[str]]:
        return [[kind, path, outcome] for (kind, path), outcome in self.entries.items()]

    @classmethod
    def from_list(cls, rows: list[Any]) -> ReadLog:
        return cls({(str(kind), str(path)): str(outcome) for kind, path, outcome in rows})

    def unchanged(self, reader: Reader, environ: Mapping[str, str] | None = None) -> bool:
        """True when every file, probe and wildcard gives the answer it gave when noted. Files
        are read through ``reader``, so a hit leaves their text ready for the reporters."""
        env = os.environ if environ is None else environ
        for (kind, path), outcome in self.entries.items():
            if _look_again(kind, path, reader, env) != outcome:
                return False
        return True


def _look_again(kind: str, path: str, reader: Reader, environ: Mapping[str, str]) -> str:
    if kind == "env":
        value = environ.get(path)
        return "unset" if value is None else f"={value}"
    if kind == "probe":
        return _probe(path)
    if kind == "glob":
        return _matches(path)
    try:
        return reader(Path(path)).digest
    except SourceError as exc:
        return f"unreadable:{exc.digest or exc.message}"
    except OSError as exc:
        return f"error:{exc.errno}"


_active: list[ReadLog] = []


@contextmanager
def recording(log: ReadLog) -> Iterator[ReadLog]:
    """Note in ``log`` everything read, probed or globbed until the block ends."""
    _active.append(log)
    try:
        yield log
    finally:
        _active.pop()


def _note(kind: str, path: Path | str, outcome: str) -> None:
    if _active:
        _active[-1].note(kind, os.path.abspath(path), outcome)


def _probe(path: Path | str) -> str:
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return "missing"
    return "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else "other"


def is_file(path: Path) -> bool:
    """``path.is_file()``, noted in the active read log."""
    found = _probe(path)
    _note("probe", path, found)
    return found == "file"


def exists(path: Path) -> bool:
    """``path.exists()``, noted in the active read log."""
    found = _probe(path)
    _note("probe", path, found)
    return found != "missing"


def _matches(pattern: str) -> str:
    import glob

    return "\0".join(sorted(glob.glob(pattern)))


def glob_paths(pattern: str) -> list[Path]:
    """The paths a shell-style wildcard matches, sorted; the match list is noted in the log."""
    found = _matches(pattern)
    if _active:
        _active[-1].note("glob", pattern, found)  # the pattern as written: it is what is re-run
    return [Path(p) for p in found.split("\0")] if found else []


class Reader:
    """Reads each file once per run and gives it the display path users expect.

    ``overlay`` maps resolved paths to bytes read instead of the file's (the fixer lints its
    edits unwritten); ``stdin`` is the text given on standard input under its file name. A file
    served from this reader's memory (or the overlay) is noted in the active read log too."""

    def __init__(self, cwd: Path, stdin: tuple[Path, SourceFile] | None = None,
                 overlay: dict[Path, bytes] | None = None):
        self.cwd = cwd
        self.cache: dict[Path, SourceFile] = {}
        # the same files by normalised absolute path, as a ReadLog names them
        self._by_name: dict[str, SourceFile] = {}
        self.overlay = overlay or {}
        if stdin is not None:
            self.cache[stdin[0].absolute()] = stdin[1]
            self._by_name[os.path.abspath(stdin[0])] = stdin[1]

    def source_at(self, name: str) -> SourceFile | None:
        """The file read under the absolute path ``name`` (as a ReadLog notes it), if any."""
        return self._by_name.get(name)

    def __call__(self, path: Path) -> SourceFile:
        key = path.absolute()
        cached = self.cache.get(key)
        if cached is None:
            data = self.overlay.get(path.resolve()) if self.overlay else None
            if data is not None:
                cached = decode(data, display_path(path, self.cwd))
                cached.real_path = path
            else:
                cached = read_source(path, display_path(path, self.cwd))
            self.cache[key] = cached
            self._by_name[os.path.abspath(key)] = cached
        _note("file", key, cached.digest)
        return cached
