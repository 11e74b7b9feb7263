"""Splitting one redis.conf line into arguments exactly as redis-server's ``sdssplitargs`` does.

The rules (src/sds.c, Redis 7.0):

* blanks between arguments are C ``isspace`` characters (space, ``\\t \\n \\v \\f \\r``), but an
  unquoted argument ends only at space, ``\\t``, ``\\n`` or ``\\r``: ``a\\vb`` is one argument;
* ``"double quotes"`` understand ``\\n \\r \\t \\b \\a``, ``\\xHH`` and ``\\<any>`` (the character
  itself); ``'single quotes'`` understand only ``\\'``;
* a quote may open in the middle of an argument (``abc"d e"`` is ``abcd e``), and a closing
  quote must be followed by a blank or the end of the line, otherwise the whole line is
  refused ("Unbalanced quotes in configuration line"), as is an unterminated quote.
"""

from __future__ import annotations

import re
from typing import NamedTuple

UNBALANCED = "Unbalanced quotes in configuration line"

_BLANKS = " \t\n\v\f\r"
_ENDS_TOKEN = " \t\n\r"
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a"}
_HEX = "0123456789abcdefABCDEF"
# The quote-free fast path: an argument starts at a non-blank and runs to the next separator.
_PLAIN = re.compile(r"[^ \t\n\r\v\f][^ \t\n\r]*")


class Token(NamedTuple):
    """One argument: its value and where it was written (``end`` exclusive, quotes included)."""

    text: str
    start: int
    end: int


class TokenizeError(Exception):
    """The line has unbalanced quotes; ``column`` (1-based) is where the offending quote opens."""

    def __init__(self, column: int, message: str = UNBALANCED):
        super().__init__(message)
        self.column = column
        self.message = message


def split_args(line: str) -> list[Token]:
    """The arguments of ``line``; raises :class:`TokenizeError` like ``sdssplitargs`` fails."""
    nul = line.find("\0")
    if nul != -1:
        line = line[:nul]  # a C string ends at NUL
    if '"' not in line and "'" not in line:
        return [Token(m.group(), m.start(), m.end()) for m in _PLAIN.finditer(line)]
    return _split_quoted(line)


def _split_quoted(line: str) -> list[Token]:
    tokens: list[Token] = []
    n = len(line)
    i = 0
    while True:
        while i < n and line[i] in _BLANKS:
            i += 1
        if i >= n:
            return tokens
        start = i
        parts: list[str] = []
        while True:
            if i >= n:
                break
            c = line[i]
            if c in _ENDS_TOKEN:
                break
            if c == '"':
                i = _double_quoted(line, i, parts)
                break
            if c == "'":
                i = _single_quoted(line, i, parts)
                break
            parts.append(c)
            i += 1
        tokens.append(Token("".join(parts), start, i))
        if i < n:
            i += 1  # the separator (or the blank after a closing quote)


def _double_quoted(line: str, open_at: int, parts: list[str]) -> int:
    """Consume ``"..."`` from ``open_at``; return the offset just after the closing quote."""
    n = len(line)
    i = open_at + 1
    while True:
        if i >= n:
            raise TokenizeError(open_at + 1)
        c = line[i]
        if c == "\\" and i + 3 < n and line[i + 1] == "x" and line[i + 2] in _HEX and line[i + 3] in _HEX:
            parts.append(chr(int(line[i + 2 : i + 4], 16)))
            i += 4
        elif c == "\\" and i + 1 < n:
            nxt = line[i + 1]
            parts.append(_ESCAPES.get(nxt, nxt))
            i += 2
        elif c == '"':
            if i + 1 < n and line[i + 1] not in _BLANKS:
                raise TokenizeError(open_at + 1)
            return i + 1
        else:
            parts.append(c)
            i += 1


def _single_quoted(line: str, open_at: int, parts: list[str]) -> int:
    """Consume ``'...'`` from ``open_at``; only ``\\'`` is an escape."""
    n = len(line)
    i = open_at + 1
    while True:
        if i >= n:
            raise TokenizeError(open_at + 1)
        c = line[i]
        if c == "\\" and i + 1 < n and line[i + 1] == "'":
            parts.append("'")
            i += 2
        elif c == "'":
            if i + 1 < n and line[i + 1] not in _BLANKS:
                raise TokenizeError(open_at + 1)
            return i + 1
        else:
            parts.append(c)
            i += 1
