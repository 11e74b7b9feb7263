"""split_args follows redis-server's sdssplitargs (src/sds.c); test_redis_vs_server.py also
checks a set of these lines against a real redis-server."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vantage_lint.redis.tokenizer import TokenizeError, _split_quoted, split_args


def texts(line: str) -> list[str]:
    return [t.text for t in split_args(line)]


@pytest.mark.parametrize(
    "line,expected",
    [
        ("maxmemory 100mb", ["maxmemory", "100mb"]),
        ("  maxmemory\t100mb  ", ["maxmemory", "100mb"]),
        ("save 900 1 300 10", ["save", "900", "1", "300", "10"]),
        ('requirepass ""', ["requirepass", ""]),
        ("requirepass ''", ["requirepass", ""]),
        ('save "900 1"', ["save", "900 1"]),
        ('abc"d e"', ["abcd e"]),                        # a quote may open mid-token
        ('x"a b" y', ["xa b", "y"]),
        (r'"a\x41\tb\"c"', ['aA\tb"c']),                  # escapes in double quotes
        (r'"\x4"', ["x4"]),                               # \x without two hex digits: the x itself
        (r'"\q\\"', ["q\\"]),                             # \<any> is the character
        (r'"\n\r\b\a"', ["\n\r\b\a"]),
        (r"'it\'s'", ["it's"]),                           # only \' in single quotes
        (r"'a\nb'", [r"a\nb"]),
        ('"a b"\v', ["a b"]),                             # any C blank may follow a closing quote
        ("a\vb", ["a\vb"]),                               # \v and \f do not end an unquoted token
        ("\vmaxmemory 1mb", ["maxmemory", "1mb"]),        # ... but are skipped between tokens
        ("\f# x", ["#", "x"]),
        ("", []),
        ("   \t ", []),
        ("a\0b c", ["a"]),                               # a C string ends at NUL
    ],
)
def test_split(line, expected):
    assert texts(line) == expected


@pytest.mark.parametrize(
    "line,column",
    [
        ('requirepass "abc"def', 13),  # closing quote not followed by a blank
        ('requirepass "abc', 13),      # unterminated
        ("requirepass 'abc", 13),
        ('x "a"\'b\'', 3),
        ('x "abc\\"', 3),              # the backslash escapes the closing quote
        ("x 'a'b", 3),
    ],
)
def test_unbalanced(line, column):
    with pytest.raises(TokenizeError) as info:
        split_args(line)
    assert info.value.column == column
    assert str(info.value) == "Unbalanced quotes in configuration line"


def test_offsets_cover_the_written_token():
    line = 'save  "900 1"  300 10'
    tokens = split_args(line)
    assert [line[t.start : t.end] for t in tokens] == ["save", '"900 1"', "300", "10"]


_ALPHABET = st.characters(codec="ascii", exclude_characters="\0")


@given(st.text(alphabet=st.sampled_from(list("ab #\t\v\f\r\n=-x"))))
def test_fast_path_equals_the_full_tokenizer(line):
    """Lines without quotes take a regex path; it must agree with the character loop."""
    assert texts(line) == [t.text for t in _split_quoted(line)]


def _quote(value: str) -> str:
    out = []
    for c in value:
        if c in '"\\':
            out.append("\\" + c)
        elif not c.isprintable() or c in " '":
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


@given(st.lists(st.text(alphabet=_ALPHABET), max_size=6))
def test_double_quoted_round_trip(values):
    line = " ".join(_quote(v) for v in values)
    assert texts(line) == values


@given(st.text(alphabet=_ALPHABET))
def test_never_raises_anything_else(line):
    try:
        tokens = split_args(line)
    except TokenizeError as exc:
        assert 1 <= exc.column <= len(line)
    else:
        assert all(0 <= t.start < t.end <= len(line) for t in tokens)
