"""Compose variable interpolation, as compose-go's ``template`` package does it, with positions.

compose-go runs the Go regexp ``\\$(?i:(\\$)|([_a-z][_a-z0-9]*)|{(?:([_a-z][_a-z0-9]*(?::?[-+?](.*))?)}|()))``
over the text and post-processes each match. This module is a hand-written scanner that gives the
same results and also records where each expression is, so findings can point at it:

- ``$$`` is a literal ``$``; a ``$`` followed by neither a name nor ``{`` is kept as is.
- ``$NAME`` and ``${NAME}`` give the value, or (NAME unset) a warning and an *unknown* marker
  (vantage_lint.compose.unknown): Compose substitutes ``""``, but the deployment may set it.
  ``${NAME:?msg}`` unset is "set at deploy time": a marker and no error.
- ``${NAME<op>ARG}``, with op one of ``:-`` ``-`` ``:+`` ``+`` ``:?`` ``?``. ARG ends at the first
  ``}`` that balances the braces counted from ``${`` (bare ``{`` counts too, and compose-go skips the
  character after each ``{``). The search stops at the last ``}`` on the same line, and ARG runs up
  to that ``}`` when nothing balances. ARG is interpolated before the lookup even when it is not
  used, so ``${SET:-${MISSING:?x}}`` is an error here as it is in Compose.
- Any other ``${`` is an invalid template and an error: ``${}``, ``${ x}``, ``${x!}``, an unclosed
  ``${x``, or a default that runs past the end of the line.

Compose stops at the first error. We keep going so that one run reports every problem, and a failed
expression becomes ``""``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from vantage_lint.compose.unknown import is_marker, marker


class InterpolationIssue(NamedTuple):
    message: str
    start: int  # offsets of the offending ``$...`` expression in the input text
    end: int
    # "error" (Compose refuses the file), "warning" (Compose substitutes "") or "required"
    # (`${VAR:?}` unset: Compose refuses unless the deployment sets it, as the file says it will)
    severity: str
    variable: str | None


class VariableRef(NamedTuple):
    name: str
    start: int  # offsets of the whole ``$VAR`` / ``${...}`` expression
    end: int
    braced: bool


# Go's (?i)[_a-z] also matches U+017F and U+212A through simple case folding. Python's
# re.IGNORECASE would add the Turkish dotted and dotless i as well, so the class is written out.
_NAME = re.compile("[_a-zA-Z\u017f\u212a][_a-zA-Z0-9\u017f\u212a]*")
_BRACE = re.compile("[{}]")
# How far to underline an invalid ``${``: up to its ``}``, or up to the next ``$`` or line break.
_INVALID_TAIL = re.compile(r"[^$}\n]*\}?")
# Deeper nesting than this is never written by hand; the cap keeps recursion bounded.
_MAX_DEPTH = 64


def has_interpolation(text: str) -> bool:
    """Cheap test before :func:`interpolate` / :func:`references`."""
    return "$" in text


def interpolate(text: str, env: Mapping[str, str]) -> tuple[str, list[InterpolationIssue]]:
    """``text`` with every expression replaced from ``env``, and the problems Compose would report."""
    if "$" not in text:
        return text, []
    scanner = _Scanner(text, env)
    return scanner.run(0, len(text), 0), scanner.issues


def references(text: str) -> list[VariableRef]:
    """Every unescaped ``$VAR`` / ``${VAR...}`` in ``text``; expressions nested in a default are not listed."""
    if "$" not in text:
        return []
    scanner = _Scanner(text, None)
    scanner.run(0, len(text), 0)
    return scanner.refs


class _Scanner:
    """One pass over ``text``. With ``env=None`` it only collects references."""

    __slots__ = ("text", "env", "issues", "refs", "_line", "_closers")

    def __init__(self, text: str, env: Mapping[str, str] | None) -> None:
        self.text = text
        self.env = env
        self.issues: list[InterpolationIssue] = []
        self.refs: list[VariableRef] = []
        self._line = (0, -1)  # a range [start, stop] with no line break before stop
        self._closers: dict[int, tuple[int, int]] = {}

    def run(self, pos: int, end: int, depth: int) -> str:
        """Interpolate ``text[pos:end]`` as a template of its own (as compose-go does for defaults)."""
        text = self.text
        out: list[str] = []
        while True:
            dollar = text.find("$", pos, end)
            if dollar < 0:
                out.append(text[pos:end])
                return "".join(out)
            out.append(text[pos:dollar])
            value, pos = self._expression(dollar, end, depth)
            out.append(value)

    def _expression(self, start: int, end: int, depth: int) -> tuple[str, int]:
        """The replacement for the expression at ``text[start] == "$"`` and where scanning resumes."""
        text = self.text
        after = start + 1
        if after >= end:
            return "$", after
        char = text[after]
        if char == "$":
            return "$", after + 1
        if char != "{":
            match = _NAME.match(text, after, end)
            if match is None:
                return "$", after
            return self._lookup(match.group(), start, match.end(), False), match.end()
        match = _NAME.match(text, after + 1, end)
        if match is None:
            return self._invalid(start, end), after + 1
        name, stop = match.group(), match.end()
        if stop < end and text[stop] == "}":
            return self._lookup(name, start, stop + 1, True), stop + 1
        op = _operator(text, stop, end)
        if not op:
            return self._invalid(start, end), after + 1
        arg_start = stop + len(op)
        last = self._last_closer(arg_start, end)
        if last < 0:
            return self._invalid(start, end), after + 1
        close = self._balance(start, last)
        if close < 0:
            close = last
        if self.env is None:
            self.refs.append(VariableRef(name, start, close + 1, True))
            return "", close + 1
        if depth >= _MAX_DEPTH:
            self.issues.append(InterpolationIssue("template nested too deeply", start, close + 1, "error", name))
            return "", close + 1
        before = len(self.issues)
        arg = self.run(arg_start, close, depth + 1)
        if any(issue.severity == "error" for issue in self.issues[before:]):
            return "", close + 1  # compose-go drops the whole expression when ARG fails
        return self._apply(name, op, arg, start, close + 1), close + 1

    def _lookup(self, name: str, start: int, stop: int, braced: bool) -> str:
        if self.env is None:
            self.refs.append(VariableRef(name, start, stop, braced))
            return ""
        value = self.env.get(name)
        if value is None:
            message = f'variable "{name}" is not set; Compose substitutes an empty string'
            self.issues.append(InterpolationIssue(message, start, stop, "warning", name))
            return marker(name)  # the deployment may set it: the value is unknown, not ""
        return value

    def _apply(self, name: str, op: str, arg: str, start: int, stop: int) -> str:
        value = self.env.get(name) if self.env is not None else None
        # A marker (blank in a template) is "set to something the deployment decides".
        known = value if not is_marker(value) else None
        if op == ":-":
            return known if known else arg
        if op == "-":
            return arg if value is None else value
        if op == ":+":
            return arg if known else ""
        if op == "+":
            return "" if value is None else arg
        if value is None or (op == ":?" and not value):
            # Compose refuses this unless the deployment sets the variable, which `${VAR:?...}`
            # declares it will: severity "required", and the value is unknown rather than "".
            message = f"required variable {name} is missing a value"
            if arg:
                message += f": {arg}"
            self.issues.append(InterpolationIssue(message, start, stop, "required", name))
            return marker(name)
        return value

    def _invalid(self, start: int, end: int) -> str:
        match = _INVALID_TAIL.match(self.text, start + 2, end)
        stop = match.end() if match else start + 2
        message = f'invalid template "{self.text[start:stop]}"'
        self.issues.append(InterpolationIssue(message, start, stop, "error", None))
        return ""

    def _line_end(self, pos: int) -> int:
        first, stop = self._line
        if first <= pos <= stop:
            return stop
        stop = self.text.find("\n", pos)
        if stop < 0:
            stop = len(self.text)
        self._line = (pos, stop)
        return stop

    def _last_closer(self, low: int, end: int) -> int:
        """The last ``}`` in ``[low, end)`` on ``low``'s line: where Go's greedy ``(.*)}`` stops.

        Cached per limit so a long line with many expressions is not searched again and again.
        """
        limit = min(self._line_end(low), end)
        found, searched = self._closers.get(limit, (-1, limit))
        if found < 0 and low < searched:
            found = self.text.rfind("}", low, searched)
            self._closers[limit] = (found, low)
        return found if found >= low else -1

    def _balance(self, start: int, last: int) -> int:
        """compose-go ``getFirstBraceClosingIndex`` over ``text[start:last + 1]``, or -1."""
        text = self.text
        depth = 0
        skip = -1
        for match in _BRACE.finditer(text, start, last + 1):
            index = match.start()
            if index == skip:
                continue
            if text[index] == "}":
                depth -= 1
                if depth == 0:
                    return index
            else:
                depth += 1
                skip = index + 1
        return -1


def _operator(text: str, pos: int, end: int) -> str:
    """The operator right after a braced name (``:-``, ``-``, ...), or "" when there is none."""
    if pos >= end:
        return ""
    char = text[pos]
    if char in "-+?":
        return char
    if char == ":" and pos + 1 < end and text[pos + 1] in "-+?":
        return text[pos : pos + 2]
    return ""


def chosen_at_deploy(text: str, env: Mapping[str, str], from_template: frozenset[str] | set[str]) -> list[str]:
    """The variables of ``text`` whose value the deployment chooses: unset here (so Compose
    would use the default written in the file) or set only by a template standing in for
    ``.env`` (``.env.example``: what the authors suggest, not what a deployment uses)."""
    return list(dict.fromkeys(ref.name for ref in references(text)
                              if ref.name not in env or ref.name in from_template))


def deployment_choice(project: Any, text: str, what: str) -> str:
    """The clause a finding gets when the value it judges in ``text`` is the deployment's choice
    (``image: app:${TAG:-latest}``): "(set through ${TAG}: the deployment chooses the tag)";
    "" when the file decides it."""
    chosen = chosen_at_deploy(text, project.env, project.template_names)
    return f" (set through ${{{chosen[0]}}}: the deployment chooses {what})" if chosen else ""
