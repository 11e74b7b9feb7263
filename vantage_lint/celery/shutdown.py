"""Who receives Docker's stop signal: the worker itself, or a shell that started it.

``docker stop`` sends the stop signal to PID 1 only. When that is ``sh -c "... && celery
worker"`` the shell gets it, and a shell that is PID 1 has no handler for SIGTERM, so the
kernel drops the signal; Docker SIGKILLs everything after the grace period. Whether the worker
is PID 1 depends on the shell: bash execs the last simple command of a ``-c`` script (unless
the script sets a trap), dash (Debian's ``/bin/sh``) never does. Verified in
tests/test_celery_real.py with a real worker under both.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from vantage_lint.celery.command import command_words, is_celery
from vantage_lint.compose.roles import command_written
from vantage_lint.shell import SHELLS, Word, _tokenize, basename, simple_commands

# Launchers that forward the stop signal to their child (the shell), which then dies and
# leaves the worker behind: the worker still never gets it.
_INIT = frozenset({"tini", "dumb-init", "catatonit"})
_OPEN = frozenset({"if", "while", "until", "for", "case", "{"})
_CLOSE = frozenset({"fi", "done", "esac", "}"})
_COMPOUND = _OPEN | _CLOSE | {"then", "else", "elif", "do", "!"}
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# Shells that exec the last command of a -c script / never do; others are not judged on it.
EXEC_LAST = frozenset({"bash"})
NEVER_EXEC = frozenset({"sh", "dash"})


class ShellWrapper(NamedTuple):
    shell: str              # "sh", "bash" ...
    shell_word: Word
    exec_used: bool         # `exec celery ...`
    last: bool              # celery is the script's last command, run in the foreground
    trap: bool              # the script sets a trap (bash then does not exec)
    compound: bool          # celery runs inside if/while/{ }/( ): never exec'd

    @property
    def worker_gets_signal(self) -> bool:
        if self.exec_used:
            return True
        if not self.last or self.compound:
            return False
        if self.shell in EXEC_LAST:
            return not self.trap
        if self.shell in NEVER_EXEC:
            return False
        return True     # a shell we have not checked: say nothing


def _script_word(words: list[Word]) -> tuple[Word, Word] | None:
    """(shell word, script word) when the command is ``[init --] sh [opts] -c SCRIPT``."""
    i = 0
    while i < len(words) and basename(words[i].text) in _INIT:
        i += 1
        while i < len(words) and words[i].text.startswith("-"):     # its options, up to "--"
            i += 1
            if words[i - 1].text == "--":
                break
    if i >= len(words) or basename(words[i].text) not in SHELLS:
        return None
    shell = words[i]
    has_c = False
    i += 1
    while i < len(words):
        text = words[i].text
        if text in ("-o", "+o"):
            i += 2
            continue
        if len(text) > 1 and text[0] in "-+" and not text.startswith("--"):
            has_c = has_c or (text[0] == "-" and "c" in text[1:])
            i += 1
            continue
        break
    if not has_c or i >= len(words):
        return None
    return shell, words[i]


def _runs_celery(segment: list[Word]) -> bool:
    return any(cmd and is_celery(cmd[0]) for cmd in simple_commands(segment, []))


def shell_wrapper(service) -> ShellWrapper | None:  # service: Service
    """How the service's shell wrapper runs its celery command, or None when no shell script
    runs celery as PID 1's child."""
    written = command_written(service)
    if not written:
        return None
    parts = [w.text for w in written]
    found = _script_word(command_words(parts, [w.split for w in written]))
    if found is None:
        return None
    shell_word, script = found
    # Split the script as the shell reads it (newlines and comments count), keeping the
    # operator after each command and how deep inside if/while/{ }/( ) it is.
    segments: list[tuple[list[Word], str, int]] = []
    current: list[Word] = []
    depth = start_depth = 0
    for token in _tokenize(script.text, script=True):
        if token.kind == "control":
            segments.append((current, token.text, start_depth))
            depth += 1 if token.text == "(" else -1 if token.text == ")" else 0
            current, start_depth = [], depth
        elif token.kind == "word":
            if not current or current[-1].text in _COMPOUND:
                depth += 1 if token.text in _OPEN else -1 if token.text in _CLOSE else 0
                if not current:
                    start_depth = max(start_depth, depth)
            current.append(Word(token.text, 0, token.start, token.end))
    segments.append((current, "", start_depth))
    texts = {w.text for words, _, _ in segments for w in words}
    for index, (words, op, level) in enumerate(segments):
        if not _runs_celery(words):
            continue
        plain = [w.text for w in words if not _ASSIGNMENT.match(w.text)]
        previous_op = segments[index - 1][1] if index else ""
        last = (op not in ("&", "|", "|&") and previous_op not in ("|", "|&")
                and not any(w for w, _, _ in segments[index + 1 :]))
        return ShellWrapper(
            shell=basename(shell_word.text),
            shell_word=shell_word,
            exec_used=bool(plain) and plain[0] == "exec",
            last=last,
            trap="trap" in texts,
            compound=level > 0 or bool(plain) and plain[0] in _OPEN,
        )
    return None
