"""Compose interpolation: results, problems and positions, checked against compose-go's behaviour."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vantage_lint.compose.interpolation import has_interpolation, interpolate, references
from vantage_lint.compose.unknown import as_compose, marker

# FOO set, BAR set but empty, anything else unset (the fixture of compose-go template_test.go).
ENV = {"FOO": "first", "BAR": ""}

RESULTS = [
    # template, expected result
    ("no dollar", "no dollar"),
    ("$FOO", "first"),
    ("${FOO}", "first"),
    ("$FOO-bar", "first-bar"),
    ("x${FOO}y", "xfirsty"),
    ("$$", "$"),
    ("$$FOO", "$FOO"),
    ("$${FOO}", "${FOO}"),
    ("$$$FOO", "$first"),
    ("$1", "$1"),
    ("$}", "$}"),
    ("$ x", "$ x"),
    ("price: 5$", "price: 5$"),
    ("${foo}", ""),  # names are case-insensitive in the pattern but looked up as written
    ("${BAR}", ""),
    ("ok ${missing:-def}", "ok def"),
    ("ok ${missing-def}", "ok def"),
    ("ok ${BAR:-def}", "ok def"),
    ("ok ${BAR-def}", "ok "),
    ("ok ${FOO:-def}", "ok first"),
    ("ok ${BAR:-/non:-alphanumeric}", "ok /non:-alphanumeric"),
    ("${missing:-}", ""),
    ("${FOO:+alt}", "alt"),
    ("${BAR:+alt}", ""),
    ("${missing:+alt}", ""),
    ("${FOO+alt}", "alt"),
    ("${BAR+alt}", "alt"),
    ("${missing+alt}", ""),
    ("ok ${FOO:?err}", "ok first"),
    ("ok ${FOO?err}", "ok first"),
    ("ok ${BAR?err}", "ok "),
    ("${UNSET_VAR-myerror?msg}", "myerror?msg"),
    ("${FOO?bar-baz}", "first"),
    ("ok ${UNSET_VAR-$FOO}", "ok first"),
    ("ok ${UNSET_VAR-${FOO}}", "ok first"),
    ("ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first"),
    ("ok ${BAR:-${FOO} ${FOO}}", "ok first first"),
    ("${A:-${B:-x}}", "x"),
    ("${A:-${B:-${FOO}}}", "first"),
    ("${A:-x} and ${FOO:-y}", "x and first"),
    ("${A:-x}-${B:-y}", "x-y"),
    ("${A:-{x}}", "{x}"),
    ("${A:-x}{y}", "x{y}"),
    ("${A:-a}}", "a}"),
    ("line1 ${FOO}\nline2 $FOO", "line1 first\nline2 first"),
]


@pytest.mark.parametrize(("template", "expected"), RESULTS)
def test_results(template, expected):
    value, issues = interpolate(template, ENV)
    assert as_compose(value) == expected  # an unset variable is an unknown marker, "" to Compose
    assert all(issue.severity == "warning" for issue in issues)


ERRORS = [
    # template, message
    ("${", 'invalid template "${"'),
    ("${}", 'invalid template "${}"'),
    ("${ }", 'invalid template "${ }"'),
    ("${ foo}", 'invalid template "${ foo}"'),
    ("${foo }", 'invalid template "${foo }"'),
    ("${foo!}", 'invalid template "${foo!}"'),
    ("${VAR", 'invalid template "${VAR"'),
    ("${VAR:x}", 'invalid template "${VAR:x}"'),
    ("${1A}", 'invalid template "${1A}"'),
    ("${VAR/a/b}", 'invalid template "${VAR/a/b}"'),
    ("${A:-x\ny}", 'invalid template "${A:-x"'),  # Go's `.` does not cross a line break
    ("${A:-${}}", 'invalid template "${}"'),
    ("not ok ${UNSET_VAR:?Mandatory Variable Unset}",
     "required variable UNSET_VAR is missing a value: Mandatory Variable Unset"),
    ("not ok ${BAR:?Mandatory Variable Empty}",
     "required variable BAR is missing a value: Mandatory Variable Empty"),
    ("not ok ${UNSET_VAR:?}", "required variable UNSET_VAR is missing a value"),
    ("not ok ${UNSET_VAR?Mandatory Variable Unset}",
     "required variable UNSET_VAR is missing a value: Mandatory Variable Unset"),
    ("not ok ${UNSET_VAR?}", "required variable UNSET_VAR is missing a value"),
    ("not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}",
     "required variable UNSET_VAR is missing a value: Mandatory Variable first"),
    ("${UNSET_VAR?bar-baz}", "required variable UNSET_VAR is missing a value: bar-baz"),
    # ARG is interpolated even when unused, as in compose-go.
    ("${FOO:-${MISSING:?x}}", "required variable MISSING is missing a value: x"),
]


@pytest.mark.parametrize(("template", "message"), ERRORS)
def test_errors(template, message):
    _value, issues = interpolate(template, ENV)
    errors = [issue for issue in issues if issue.severity in ("error", "required")]
    assert [issue.message for issue in errors] == [message]


def test_error_positions_and_variable():
    text = "a ${DB_PASS:?set it} b ${} c"
    value, issues = interpolate(text, {})
    assert value == f"a {marker('DB_PASS')} b }} c"  # compose-go drops "${" and keeps scanning after it
    required, invalid = issues
    assert text[required.start : required.end] == "${DB_PASS:?set it}"
    assert (required.severity, required.variable) == ("required", "DB_PASS")
    assert required.message == "required variable DB_PASS is missing a value: set it"
    assert text[invalid.start : invalid.end] == "${}"
    assert invalid.variable is None


def test_failed_default_drops_the_expression():
    value, issues = interpolate("[${A:-${B:?no}}]", {})
    assert value == f"[{marker('B')}]"  # B is required: set at deploy time, so A's default is unknown
    assert [issue.variable for issue in issues] == ["B"]
    value, issues = interpolate("[${A:-${}}]", {})
    assert value == "[]"  # an invalid template inside a default drops the whole expression


@pytest.mark.parametrize(
    ("text", "span", "name"),
    [
        ("x $MISSING y", "$MISSING", "MISSING"),
        ("x ${MISSING} y", "${MISSING}", "MISSING"),
        ("${FOO:-$MISSING}", "$MISSING", "MISSING"),  # warned even though FOO is set
        ("${A:-${FOO}}${MISSING}", "${MISSING}", "MISSING"),
    ],
)
def test_unset_warnings(text, span, name):
    _value, issues = interpolate(text, ENV)
    (issue,) = issues
    assert issue.severity == "warning"
    assert issue.variable == name
    assert text[issue.start : issue.end] == span
    assert issue.message == f'variable "{name}" is not set; Compose substitutes an empty string'


@pytest.mark.parametrize("text", ["$$MISSING", "${BAR}", "${MISSING:-x}", "${MISSING-}", "${MISSING+x}"])
def test_no_warning(text):
    assert interpolate(text, ENV)[1] == []


def test_non_ascii_case_folding_matches_go():
    # Go's (?i)[a-z] folds U+017F (long s) to "s"; the Turkish dotless i is not a name character.
    assert interpolate("$\u017f", {"\u017f": "v"})[0] == "v"
    assert interpolate("$\u0131", {"\u0131": "v"})[0] == "$\u0131"


REFERENCES = [
    ("no refs", []),
    ("$A ${B} $$C ${D:-${E}} $1 ${}", [("A", "$A"), ("B", "${B}"), ("D", "${D:-${E}}")]),
    ("${A:?x}-${B+y}", [("A", "${A:?x}"), ("B", "${B+y}")]),
    ("$lower_case9", [("lower_case9", "$lower_case9")]),
]


@pytest.mark.parametrize(("text", "expected"), REFERENCES)
def test_references(text, expected):
    refs = references(text)
    assert [(r.name, text[r.start : r.end]) for r in refs] == expected
    assert [r.braced for r in refs] == [span.startswith("${") for _, span in expected]


def test_has_interpolation():
    assert has_interpolation("a$b")
    assert not has_interpolation("plain")


def test_long_line_is_linear():
    text = "${A:-x}" * 5000
    value, issues = interpolate(text, {})
    assert value == "x" * 5000 and issues == []
    assert len(references(text)) == 5000


def test_deep_nesting_is_bounded():
    text = "${A:-" * 1000 + "}" * 1000
    value, issues = interpolate(text, {})
    assert value == ""
    assert [issue.message for issue in issues] == ["template nested too deeply"]


TEMPLATE_CHARS = st.sampled_from(list("${}:-+?_aZ9 \n#x\\") + ["$$", "${", "${A", ":-", ":?", "}}"])


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(), st.lists(TEMPLATE_CHARS, max_size=40).map("".join)))
def test_any_text(text):
    env = {"A": "1", "a": "", "Z": "z"}
    value, issues = interpolate(text, env)
    assert isinstance(value, str)
    for issue in issues:
        assert 0 <= issue.start < issue.end <= len(text)
        assert text[issue.start] == "$"
        assert issue.severity in ("error", "warning", "required")
    previous_end = 0
    for ref in references(text):
        assert previous_end <= ref.start < ref.end <= len(text)
        assert text[ref.start] == "$"
        previous_end = ref.end
    if "$" not in text:
        assert value == text and issues == []
