"""``.env`` files read the way compose-go's ``dotenv`` package reads them, with positions for findings.

The rules, from compose-go v2 ``dotenv/parser.go``, ``godotenv.go`` and ``env.go``:

- A leading UTF-8 BOM is skipped. A statement starts at the first non-space character, and a ``#``
  there makes the line a comment.
- ``export`` followed by whitespace is dropped.
- The name ends at ``=``, at ``:`` (YAML style ``KEY: value``) or at a line break. It may contain
  letters, digits, ``_ . - [ ]`` and blanks; trailing blanks are trimmed and an inner space is an
  error. A name ended by a line break (``KEY`` alone) takes ``lookup[KEY]`` when it is set, and is
  skipped when it is not.
- Blanks before the value are dropped, so ``KEY= #x`` has the value ``#x``.
- An unquoted value runs to the end of the line, is cut at the first `` #`` and right-trimmed,
  then interpolated.
- A single-quoted value is literal up to the closing quote; ``\\'`` stands for a quote.
- A double-quoted value is scanned the same way, then the escapes ``\\n \\r \\t \\a \\b \\f \\v
  \\\\ \\"``, ``\\$`` (a literal ``$``) and ``\\0NNN`` (octal) are expanded, then it is
  interpolated. A backslash before any other character is kept.
- Quoted values may span lines. Whatever follows the closing quote is read as the next statement.
- Interpolation looks in ``lookup`` first, then at earlier entries of the same file (compose-go
  ``ExpandVariables``).

Compose rejects the whole file at its first error. We report the line and carry on with the next
one, so every problem shows up in one run.
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from collections import ChainMap
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from vantage_lint.compose.interpolation import interpolate, references
from vantage_lint.compose.unknown import as_compose
from vantage_lint.findings import Finding, Severity, Span, problem


class EnvEntry(NamedTuple):
    name: str
    value: str  # after quote processing and interpolation
    line: int  # 1-based line of the entry
    column: int  # 1-based column of the name
    value_start: int  # offsets of the raw value in the file, inside the quotes when quoted
    value_end: int
    literal: bool  # the raw value references no variable (False when inherited from ``lookup``)


class DotenvIssue(NamedTuple):
    message: str
    line: int
    column: int
    # compose-go stops reading the file here and Compose refuses the project.
    fatal: bool = False


# Go's unicode.IsSpace, which also counts NEL and NBSP (Python's str.isspace adds \x1c-\x1f).
_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
# compose-go ``isSpace``: the blanks that are not a line break.
_BLANK = "\t\v\f\r \x85\xa0"
_EXPORT = re.compile(r"export[\t\n\f\r ]")  # Go's \s has no \v
_ESCAPE = re.compile(r'\\(?:[abcfnrtv$"\\]|0[0-9]{0,3})')
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", '"': '"',
}
_KEY_PUNCTUATION = "_.-[]"


def parse_dotenv(
    text: str, lookup: Mapping[str, str] | None = None
) -> tuple[list[EnvEntry], list[DotenvIssue]]:
    """Entries of a ``.env`` file in file order (a repeated name appears twice; the last one wins)."""
    return _Parser(text, lookup if lookup is not None else {}).parse()


def env_from_files(
    paths_texts: list[tuple[str, str]], environ: Mapping[str, str]
) -> tuple[dict[str, str], list[tuple[str, DotenvIssue]]]:
    """The interpolation environment: ``environ`` plus the names only the env files define.

    As compose-go ``GetEnvFromFile``: files are read in order, later files override earlier ones,
    and each file resolves references from the shell first, then from the earlier files. The shell
    wins in the result.
    """
    from_files: dict[str, str] = {}
    issues: list[tuple[str, DotenvIssue]] = []
    for path, text in paths_texts:
        entries, problems = parse_dotenv(text, ChainMap(dict(environ), from_files))
        issues.extend((path, problem) for problem in problems)
        for entry in entries:
            from_files[entry.name] = entry.value
    env = dict(environ)
    for name, value in from_files.items():
        env.setdefault(name, value)
    return env, issues


class _Parser:
    def __init__(self, text: str, lookup: Mapping[str, str]) -> None:
        self.text = text
        self.lookup = lookup
        self.values: dict[str, str] = {}  # this file's entries so far
        self.env = ChainMap(lookup, self.values)  # type: ignore[arg-type]
        self.entries: list[EnvEntry] = []
        self.issues: list[DotenvIssue] = []
        self._line_starts: list[int] = []

    def parse(self) -> tuple[list[EnvEntry], list[DotenvIssue]]:
        size = len(self.text)
        pos = 1 if self.text.startswith("\ufeff") else 0
        while True:
            pos = self._statement_start(pos)
            if pos >= size:
                return self.entries, self.issues
            pos = self._statement(pos)

    # --- positions -------------------------------------------------------------------------
    def position(self, offset: int) -> tuple[int, int]:
        if not self._line_starts:
            starts = [0]
            find = self.text.find
            nl = find("\n")
            while nl != -1:
                starts.append(nl + 1)
                nl = find("\n", nl + 1)
            self._line_starts = starts
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def issue(self, message: str, offset: int, fatal: bool = False) -> None:
        self.issues.append(DotenvIssue(message, *self.position(offset), fatal))

    def _next_line(self, pos: int) -> int:
        nl = self.text.find("\n", pos)
        return len(self.text) if nl < 0 else nl + 1

    # --- statements ------------------------------------------------------------------------
    def _statement_start(self, pos: int) -> int:
        """Skip whitespace and comment lines (compose-go ``getStatementStart``)."""
        text, size = self.text, len(self.text)
        while pos < size:
            char = text[pos]
            if char in _SPACE:
                pos += 1
            elif char == "#":
                nl = text.find("\n", pos)
                if nl < 0:
                    return size
                pos = nl
            else:
                return pos
        return size

    def _statement(self, pos: int) -> int:
        """Parse one statement at ``pos``; return where the next one may start."""
        text, size = self.text, len(self.text)
        if _EXPORT.match(text, pos):
            export_at = pos
            pos += len("export")
            while pos < size and text[pos] in _BLANK:
                pos += 1
            if pos >= size:
                self.issue('"export" is not followed by a variable name', export_at)
                return size
        name_start = end = pos
        while end < size:
            char = text[end]
            if char in "=:\n":
                break
            if char in _BLANK or char in _KEY_PUNCTUATION or _is_letter_or_number(char):
                end += 1
                continue
            first_line = text[name_start : self._next_line(name_start)].rstrip("\r\n")
            self.issue(
                f"unexpected character {_quote(char)} in variable name {_quote(first_line)}", end, True
            )
            return self._next_line(end)
        else:
            # compose-go finds no terminator and stores the text as the value of an empty name.
            raw = text[name_start:].rstrip(_SPACE)
            self.issue(
                f"{_quote(raw)} ends the file without \"=\" or a line break; Compose stores it under "
                "an empty name instead of reading it as a variable",
                name_start,
            )
            return size
        name = text[name_start:end].rstrip(_SPACE)
        if " " in name:
            self.issue(f"variable name {_quote(name)} cannot contain a space", name_start, True)
            return self._next_line(end)
        if text[end] == "\n":
            if name and name in self.lookup:
                value = self.lookup[name]
                self._add(name, value, name_start, name_start + len(name), name_start + len(name), False)
            return end + 1
        pos = end + 1
        while pos < size and text[pos] in _BLANK:
            pos += 1
        if pos < size and text[pos] in "\"'":
            parsed = self._quoted(pos)
        else:
            parsed = self._unquoted(pos)
        if parsed is None:
            return self._next_line(pos)
        value, value_start, value_end, literal, resume = parsed
        if not name:
            self.issue(f'missing variable name before "{text[end]}"', name_start)
        else:
            self._add(name, value, name_start, value_start, value_end, literal)
        return resume

    def _add(self, name: str, value: str, name_at: int, start: int, end: int, literal: bool) -> None:
        line, column = self.position(name_at)
        self.entries.append(EnvEntry(name, value, line, column, start, end, literal))
        self.values[name] = value

    # --- values ----------------------------------------------------------------------------
    def _unquoted(self, pos: int) -> tuple[str, int, int, bool, int]:
        text = self.text
        nl = text.find("\n", pos)
        stop = len(text) if nl < 0 else nl
        raw = text[pos:stop]
        comment = raw.find(" #")
        if comment >= 0:
            raw = raw[:comment]
        raw = raw.rstrip(_SPACE)
        value = self._interpolate(raw, pos)
        return value, pos, pos + len(raw), not references(raw), min(stop + 1, len(text))

    def _quoted(self, pos: int) -> tuple[str, int, int, bool, int] | None:
        text, size = self.text, len(self.text)
        quote = text[pos]
        chars: list[str] = []
        offsets: list[int] = []  # file offset of each character in ``chars``
        escaped = False
        index = pos + 1
        while index < size:
            char = text[index]
            if escaped:
                # An escaped quote drops its backslash; any other escaped character keeps it.
                escaped = False
                if char != quote:
                    chars.append("\\")
                    offsets.append(index - 1)
                chars.append(char)
                offsets.append(index)
            elif char == "\\":
                escaped = True
            elif char == quote:
                break
            else:
                chars.append(char)
                offsets.append(index)
            index += 1
        else:
            line = text[pos : self._next_line(pos)].rstrip("\r\n")
            self.issue(f"unterminated quoted value {line}", pos, True)
            return None
        raw = "".join(chars)
        if quote == "'":
            return raw, pos + 1, index, True, index + 1
        if "\\" in raw:
            raw, offsets = _expand_escapes(raw, offsets)
        value = self._interpolate(raw, offsets)
        return value, pos + 1, index, not references(raw), index + 1

    def _interpolate(self, raw: str, origin: int | Sequence[int]) -> str:
        """Interpolate a value; ``origin`` maps its characters back to the file for issue positions."""
        value, problems = interpolate(raw, self.env)
        # Inside an env file a reference to an unset variable is "", as compose-go reads it.
        value = as_compose(value)
        for found in problems:
            if isinstance(origin, int):
                offset = origin + found.start
            else:
                offset = origin[min(found.start, len(origin) - 1)] if origin else 0
            self.issue(found.message, offset)
        return value


def _expand_escapes(raw: str, offsets: Sequence[int]) -> tuple[str, list[int]]:
    """compose-go ``expandEscapes`` on a double-quoted value, keeping the character offsets."""
    parts: list[str] = []
    new_offsets: list[int] = []
    last = 0
    for match in _ESCAPE.finditer(raw):
        parts.append(raw[last : match.start()])
        new_offsets.extend(offsets[last : match.start()])
        replacement = _unescape(match.group())
        parts.append(replacement)
        new_offsets.extend([offsets[match.start()]] * len(replacement))
        last = match.end()
    parts.append(raw[last:])
    new_offsets.extend(offsets[last:])
    return "".join(parts), new_offsets


def _unescape(sequence: str) -> str:
    """One escape as Go's ``strconv.UnquoteChar`` reads it; a sequence it rejects stays as written."""
    if sequence == "\\$":
        return "$$"  # interpolation turns it into a literal "$"
    if sequence.startswith("\\0"):
        # compose-go rewrites "\0NNN" to Go's "\NNN": exactly three octal digits, at most 255.
        sequence = "\\" + sequence[2:]
        digits = sequence[1:]
        if len(digits) == 3 and all(d in "01234567" for d in digits) and int(digits, 8) <= 255:
            return chr(int(digits, 8))
        return sequence
    return _SIMPLE_ESCAPES.get(sequence[1], sequence)


def _is_letter_or_number(char: str) -> bool:
    """Go's ``unicode.IsLetter || unicode.IsNumber``."""
    if char.isascii():
        return char.isalnum()
    return unicodedata.category(char)[0] in "LN"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def dotenv_problem(path: str, issue: DotenvIssue) -> Finding:
    """A .env or env_file issue; one compose-go cannot read past makes Compose refuse."""
    at = Span(path, issue.line, issue.column, issue.line, issue.column)
    if issue.fatal:
        return problem("VL004", at, f"{issue.message}; Compose refuses the project (it cannot read this file)",
                       "Fix the line in the env file.", Severity.ERROR)
    return problem("VL004", at, issue.message, "Fix the line in the env file.", Severity.WARNING)
