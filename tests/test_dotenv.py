"""``.env`` parsing as compose-go's dotenv package does it (cases taken from its own test suite)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vantage_lint.compose.dotenv import env_from_files, parse_dotenv


def values(text: str, lookup: dict[str, str] | None = None) -> dict[str, str]:
    entries, issues = parse_dotenv(text, lookup)
    assert issues == [], issues
    return {entry.name: entry.value for entry in entries}


PARSING = [
    # line, name, value
    ("FOO=bar", "FOO", "bar"),
    ("FOO =bar", "FOO", "bar"),
    ("FOO= bar", "FOO", "bar"),
    ('FOO="bar"', "FOO", "bar"),
    ("FOO='bar'", "FOO", "bar"),
    ('FOO="escaped\\"bar"', "FOO", 'escaped"bar'),
    ('FOO="\\"quoted\\""', "FOO", '"quoted"'),
    ("FOO=\"'d'\"", "FOO", "'d'"),
    ("OPTION_A: 1", "OPTION_A", "1"),
    ("OPTION_A: Foo=bar", "OPTION_A", "Foo=bar"),
    ("OPTION_A=1:B", "OPTION_A", "1:B"),
    ("export OPTION_A=2", "OPTION_A", "2"),
    ("export OPTION_B='\\n'", "OPTION_B", "\\n"),
    ("export exportFoo=2", "exportFoo", "2"),
    ("exportFOO=2", "exportFOO", "2"),
    ("export_FOO =2", "export_FOO", "2"),
    ("export.FOO= 2", "export.FOO", "2"),
    ("export\tOPTION_A=2", "OPTION_A", "2"),
    ("  export OPTION_A=2", "OPTION_A", "2"),
    ('export OPTION_A="export A"', "OPTION_A", "export A"),
    ('FOO="bar\\nbaz"', "FOO", "bar\nbaz"),
    ("FOO=a\\tb", "FOO", "a\\tb"),
    ('FOO="a\\tb"', "FOO", "a\tb"),
    ('KEY="Z\\aZ\\bZ\\fZ\\nZ\\rZ\\tZ\\vZ\\\\Z\\0123Z"', "KEY", "Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\ZSZ"),
    ("FOO.BAR=foobar", "FOO.BAR", "foobar"),
    ("FOO=foobar=", "FOO", "foobar="),
    ("FOO=bar ", "FOO", "bar"),
    ("FOO=bar\r", "FOO", "bar"),
    ("FOO=bar # this is foo", "FOO", "bar"),
    ("FOO=bar #this is foo", "FOO", "bar"),
    ("FOO=bar #", "FOO", "bar"),
    ("FOO=123#not-an-inline-comment", "FOO", "123#not-an-inline-comment"),
    ("FOO=bar\t#tab is not a comment start", "FOO", "bar\t#tab is not a comment start"),
    ("FOO= #x", "FOO", "#x"),  # blanks before the value go first, so this is no comment
    ('FOO="bar#baz"', "FOO", "bar#baz"),
    ('FOO="bar#baz"#', "FOO", "bar#baz"),
    ('FOO="bar#baz" # comment', "FOO", "bar#baz"),
    ("FOO='bar#baz' # comment", "FOO", "bar#baz"),
    ('FOO="bar\\n\\ b\\az"', "FOO", "bar\n\\ b\az"),
    ('FOO="bar\\\\\\n\\ b\\az"', "FOO", "bar\\\n\\ b\az"),
    ('FOO="bar\\\\r\\ b\\az"', "FOO", "bar\\r\\ b\az"),
    ('FOO="bar\\nbaz\\\\"', "FOO", "bar\nbaz\\"),
    ("FOO='it\\'s'", "FOO", "it's"),
    (" KEY =value", "KEY", "value"),
    ("\tKEY=value", "KEY", "value"),
    ('KEY="\\0123"', "KEY", "S"),
    ('KEY="\\x07"', "KEY", "\\x07"),
    ('KEY="\\u12e4"', "KEY", "\\u12e4"),
    ('KEY="\\c\\08\\0"', "KEY", "\\c\\8\\"),  # what Go's UnquoteChar leaves of rejected escapes
    ('FOO="foo\\$BAR"', "FOO", "foo$BAR"),
    ('FOO="foo\\${BAR}"', "FOO", "foo${BAR}"),
    ("FOO='quote $BAR'", "FOO", "quote $BAR"),
    ("FOO=$$BAR", "FOO", "$BAR"),
    ("a[1]=c", "a[1]", "c"),
    ("VAR-WITH-DASHES=dashes", "VAR-WITH-DASHES", "dashes"),
    ("árvíztűrő-TÜKÖRFÚRÓGÉP=ÁRVÍZTŰRŐ-tükörfúrógép", "árvíztűrő-TÜKÖRFÚRÓGÉP", "ÁRVÍZTŰRŐ-tükörfúrógép"),
    ("\ufeffFOO=bom", "FOO", "bom"),
    ("FOO=", "FOO", ""),
    ('FOO=""', "FOO", ""),
]


@pytest.mark.parametrize(("line", "name", "value"), PARSING)
def test_parsing(line, name, value):
    assert values(line) == {name: value}


FILES = [
    ("ONE=1\nTWO='2'\nTHREE = \"3\"", {"ONE": "1", "TWO": "2", "THREE": "3"}),
    ("# comment\n\n   \t # indented comment\r\nA=1\r\n\r\nB=2\n", {"A": "1", "B": "2"}),
    ('A="first line\nsecond line"\nB=after', {"A": "first line\nsecond line", "B": "after"}),
    ("A=1\nA=2", {"A": "2"}),
    ('A="x" B=2', {"A": "x", "B": "2"}),  # text after the closing quote is the next statement
    ("FOO=test\nBAR=$FOO", {"FOO": "test", "BAR": "test"}),
    ("FOO=test\nBAR=${FOO}bar", {"FOO": "test", "BAR": "testbar"}),
    ('FOO=test\nBAR="quote $FOO"', {"FOO": "test", "BAR": "quote test"}),
    ('FOO=test\nBAR="foo\\${FOO} ${FOO}"', {"FOO": "test", "BAR": "foo${FOO} test"}),
    ("A=${MISSING:-fallback}\nB=${A:+set}", {"A": "fallback", "B": "set"}),
    ("export\nA=1", {"A": "1"}),  # a lone "export" is a silently empty statement
]


@pytest.mark.parametrize(("text", "expected"), FILES)
def test_files(text, expected):
    assert values(text) == expected


def test_inherited_from_lookup():
    assert values("SHELL_VAR\nOTHER\nA=1", {"SHELL_VAR": "from shell"}) == {"SHELL_VAR": "from shell", "A": "1"}
    (entry,) = parse_dotenv("  SHELL_VAR\n", {"SHELL_VAR": "x"})[0]
    assert (entry.line, entry.column, entry.literal) == (1, 3, False)
    assert entry.value_start == entry.value_end == 11


def test_lookup_wins_over_the_same_file():
    # compose-go ExpandVariables asks the lookup (shell, earlier files) before this file's entries.
    text = "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}"
    entries, issues = parse_dotenv(text, {"OPTION_A": "5"})
    assert {e.name: e.value for e in entries} == {
        "OPTION_A": "1", "OPTION_B": "5", "OPTION_C": "5", "OPTION_D": "5_5", "OPTION_E": "",
    }
    assert [(i.line, i.column) for i in issues] == [(5, 10)]
    assert "OPTION_NOT_DEFINED" in issues[0].message


ISSUES = [
    # text, message fragment, line, column
    ('KEY="', "unterminated quoted value", 1, 5),
    ('KEY="value', "unterminated quoted value", 1, 5),
    ('KEY="value\\"', "unterminated quoted value", 1, 5),
    ("KEY=\"value'", "unterminated quoted value", 1, 5),
    ("KEY='", "unterminated quoted value", 1, 5),
    ("KEY='value\\'", "unterminated quoted value", 1, 5),
    ("A=1\nlol$wut=2", 'unexpected character "$" in variable name "lol$wut=2"', 2, 4),
    ("%!(EXTRA string)=foo", 'unexpected character "%"', 1, 1),
    ("A=1\nFOO BAR=1", 'variable name "FOO BAR" cannot contain a space', 2, 1),
    ('="value"', "missing variable name", 1, 1),
    ("A=1\nexport ", '"export" is not followed by a variable name', 2, 1),
    ("A=1\nLAST", "ends the file", 2, 1),
    ("A=${}", 'invalid template "${}"', 1, 3),
    ('A=1\nB="x\\n ${NEED:?set NEED}"', "required variable NEED is missing a value: set NEED", 2, 8),
    ("A=$MISSING", 'variable "MISSING" is not set', 1, 3),
]


@pytest.mark.parametrize(("text", "fragment", "line", "column"), ISSUES)
def test_issues(text, fragment, line, column):
    _entries, issues = parse_dotenv(text)
    assert len(issues) == 1, issues
    assert fragment in issues[0].message
    assert (issues[0].line, issues[0].column) == (line, column)


def test_recovers_after_an_invalid_line():
    entries, issues = parse_dotenv("A=1\nBAD LINE=2\nB='unterminated\nC=3\n")
    assert [e.name for e in entries] == ["A", "C"]
    assert [i.line for i in issues] == [2, 3]


def test_positions_and_literal():
    text = 'export DB_PASS="s3cret"  # db\nURL=redis://:${DB_PASS}@redis:6379/0\nRAW=\'${NOT_INTERPOLATED}\'\nHOST: cache \n'
    entries, issues = parse_dotenv(text)
    assert issues == []
    db, url, raw, host = entries
    assert (db.name, db.line, db.column, db.literal) == ("DB_PASS", 1, 8, True)
    assert text[db.value_start : db.value_end] == "s3cret"
    assert (url.value, url.line, url.column, url.literal) == ("redis://:s3cret@redis:6379/0", 2, 1, False)
    assert text[url.value_start : url.value_end] == "redis://:${DB_PASS}@redis:6379/0"
    assert (raw.value, raw.literal) == ("${NOT_INTERPOLATED}", True)
    assert text[host.value_start : host.value_end] == "cache"


def test_escaped_dollar_is_literal():
    (entry,) = parse_dotenv('P="a\\$b"')[0]
    assert (entry.value, entry.literal) == ("a$b", True)


def test_env_from_files_shell_wins():
    env, issues = env_from_files(
        [
            (".env", "A=1\nB=${A}x\nC=$SHELL_ONLY\nD=file\nBAD LINE"),
            ("second.env", "A=2\nE=$A\nF=$B"),
        ],
        {"SHELL_ONLY": "s", "D": "shell"},
    )
    assert env == {"SHELL_ONLY": "s", "D": "shell", "A": "2", "B": "1x", "C": "s", "E": "1", "F": "1x"}
    assert [(path, issue.line) for path, issue in issues] == [(".env", 5)]


def test_env_from_files_empty():
    assert env_from_files([], {"X": "1"}) == ({"X": "1"}, [])


DOTENV_CHARS = st.sampled_from(
    list("=:#'\"\\$ {}\n\r\tAb_-.[]9") + ["export ", "${A", ":-", "\\n", "\\0123", "\ufeff", "é", "\u2028"]
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(), st.lists(DOTENV_CHARS, max_size=40).map("".join)))
def test_any_text(text):
    entries, issues = parse_dotenv(text, {"A": "1", "b": ""})
    lines = text.count("\n") + 1
    for entry in entries:
        assert entry.name
        assert 0 <= entry.value_start <= entry.value_end <= len(text)
        assert 1 <= entry.line <= lines and entry.column >= 1
    for issue in issues:
        assert 1 <= issue.line <= lines and issue.column >= 1
    env, _ = env_from_files([("a", text), ("b", text)], {"A": "shell"})
    assert env["A"] == "shell"
