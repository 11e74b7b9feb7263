"""Shell-like word splitting that keeps positions, and the simple commands a command line runs.

Compose splits a string ``command``/``entrypoint`` into words with shell quoting but no shell;
wrappers such as ``sh -c "..."`` run a real shell on their script. Both are handled here so the
Redis and Celery rules see the program that really runs, with offsets back into the YAML text.
Nothing in this module raises on odd input: a linter must survive any command line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple


class Word(NamedTuple):
    text: str       # the word after quote removal
    part: int       # index of the command part (list item) this word came from
    start: int      # character offsets of the word (with its quotes) inside that part's text
    end: int


_CONTROL = frozenset({"&&", "||", ";;", ";", "|&", "|", "&", "\n", "(", ")"})
_REDIRECT = re.compile(r"\d*(?:&>>|&>|>>|>&|>\||<<<|<<-|<<|<&|<>|>|<)\Z")
# Compose's split (go-shellwords) stops words at ;&|<> only; a shell also at parentheses.
_SPLIT_METACHARS = ";&|<>"
_SCRIPT_METACHARS = ";&|<>()"
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_MAX_DEPTH = 8

# Leading words of compound commands: the command after them is still a simple command.
_RESERVED_PREFIX = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"})
_RESERVED_ALONE = frozenset({"fi", "done", "}", "esac"})
SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"})


# --- tokenizer -------------------------------------------------------------------------------

@dataclass(slots=True)
class _Token:
    text: str
    start: int
    end: int
    kind: str   # "word" | "control" | "redirect"


def _skip_quoted(text: str, i: int, quote: str) -> int:
    """Index after the closing ``quote`` that matches ``text[i]`` (end of text if unbalanced)."""
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "\\" and quote != "'":
            j += 2
            continue
        if c == quote:
            return j + 1
        if quote == '"' and c == "$" and text.startswith("$(", j):
            j = _skip_substitution(text, j)
            continue
        j += 1
    return len(text)


def _skip_substitution(text: str, i: int) -> int:
    """Index after ``$(...)`` or ``${...}`` starting at ``i``; contents are not interpreted."""
    opening = text[i + 1]
    closing = ")" if opening == "(" else "}"
    depth = 0
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c in "'\"`":
            j = _skip_quoted(text, j, c)
            continue
        if c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return len(text)


def _read_word(text: str, i: int, metachars: str) -> tuple[str, int]:
    """Read one word from ``i``: (text after quote removal, end index)."""
    out: list[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n" or c in metachars:
            break
        if c == "\\":
            if i + 1 < n:
                if text[i + 1] != "\n":     # backslash-newline joins lines
                    out.append(text[i + 1])
                i += 2
            else:
                out.append(c)
                i += 1
        elif c == "'":
            end = _skip_quoted(text, i, "'")
            out.append(text[i + 1 : end - 1] if text[end - 1 : end] == "'" and end - 1 > i else text[i + 1 : end])
            i = end
        elif c == '"':
            end = _skip_quoted(text, i, '"')
            closed = end - 1 > i and text[end - 1] == '"' and not _escaped(text, end - 1)
            out.append(_unescape_double(text[i + 1 : end - 1 if closed else end]))
            i = end
        elif c == "$" and i + 1 < n and text[i + 1] in "({":
            end = _skip_substitution(text, i)
            out.append(text[i:end])
            i = end
        elif c == "$" and i + 1 < n and text[i + 1] == "'":
            end = _skip_quoted(text, i + 1, "'")
            out.append(text[i + 2 : end - 1] if text[end - 1 : end] == "'" and end - 1 > i + 1 else text[i + 2 : end])
            i = end
        elif c == "`":
            end = _skip_quoted(text, i, "`")
            out.append(text[i:end])
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out), i


def _escaped(text: str, i: int) -> bool:
    backslashes = 0
    j = i - 1
    while j >= 0 and text[j] == "\\":
        backslashes += 1
        j -= 1
    return backslashes % 2 == 1


def _unescape_double(body: str) -> str:
    # Inside double quotes a backslash only escapes $ ` " \ and newline (POSIX).
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and body[i + 1] in '$`"\\\n':
            if body[i + 1] != "\n":
                out.append(body[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _operator_at(text: str, i: int) -> int:
    """End index of the control or redirection operator starting at ``i``."""
    for length in (3, 2):
        candidate = text[i : i + length]
        if len(candidate) == length and (candidate in _CONTROL or _REDIRECT.match(candidate)):
            return i + length
    return i + 1


@lru_cache(maxsize=1024)
def _tokenize(text: str, *, script: bool) -> tuple[_Token, ...]:
    """Split ``text`` into words and operators. ``script``: a real shell reads it (newlines and
    comments matter); otherwise Compose's split, where a newline is just a space.

    Cached: several rules read the same command of a service (tokens are never changed)."""
    metachars = _SCRIPT_METACHARS if script else _SPLIT_METACHARS
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n" and script:
            tokens.append(_Token("\n", i, i + 1, "control"))
            i += 1
        elif c in " \t\r\n":
            i += 1
        elif c == "#" and script:
            while i < n and text[i] != "\n":
                i += 1
        elif c in metachars:
            end = _operator_at(text, i)
            op = text[i:end]
            tokens.append(_Token(op, i, end, "control" if op in _CONTROL else "redirect"))
            i = end
        else:
            word, end = _read_word(text, i, metachars)
            # "2>file": the digits are the redirected file descriptor, not a word.
            if end < n and text[end] in "<>" and text[i:end].isdigit():
                op_end = _operator_at(text, end)
                tokens.append(_Token(text[i:op_end], i, op_end, "redirect"))
                i = op_end
                continue
            tokens.append(_Token(word, i, max(end, i + 1), "word"))
            i = max(end, i + 1)
    return tuple(tokens)


def _is_operator_text(text: str) -> bool:
    return text in _CONTROL or bool(_REDIRECT.match(text))


# --- public splitting ------------------------------------------------------------------------

def split_words(text: str, part: int = 0) -> list[Word]:
    """Split a Compose string command into words, as Compose does (no shell runs).

    Unquoted operators (``&&``, ``;``, ``|``, ``>`` ...) come back as words of their own so
    :func:`simple_commands` can split on them; an unbalanced quote takes the rest of the text.
    """
    return [Word(t.text, part, t.start, t.end) for t in _tokenize(text, script=False)]


def words_from_parts(parts: Sequence[str]) -> list[Word]:
    """Exec form: each list item is one word, whatever it contains."""
    return [Word(text, index, 0, len(text)) for index, text in enumerate(parts)]


def script_commands(text: str, part: int = 0) -> list[list[Word]]:
    """The simple commands a shell runs for ``text`` (``CMD-SHELL`` healthchecks, scripts)."""
    tokens = _tokenize(text, script=True)
    located = [(Word(t.text, part, t.start, t.end), t.kind) for t in tokens]
    parts = [""] * part + [text]    # so a nested `sh -c` script is located in ``text`` too
    return _expand(located, parts, 0)


def simple_commands(words: list[Word], parts: Sequence[str]) -> list[list[Word]]:
    """Every simple command the invocation runs, wrappers and shells unwrapped.

    ``words`` come from :func:`split_words` or :func:`words_from_parts` over ``parts``. Control
    operators split commands; redirections are dropped; ``sh -c SCRIPT`` is split again with
    offsets into the part that holds the script; ``exec``, ``env``, ``gosu``, ``tini`` and
    similar launchers are stripped; ``python -m celery`` becomes a command whose first word is
    the ``celery`` word.
    """
    located = [(word, _kind(word, parts)) for word in words]
    return _expand(located, parts, 0)


def _kind(word: Word, parts: Sequence[str]) -> str:
    """Operators are recognised only where they were written unquoted in a split string."""
    if not _is_operator_text(word.text) or not 0 <= word.part < len(parts):
        return "word"
    source = parts[word.part]
    if word.start == 0 and word.end == len(source):
        return "word"       # an exec-form item is a literal argument, never an operator
    if source[word.start : word.end] != word.text:
        return "word"
    return "control" if word.text in _CONTROL else "redirect"


def _expand(located: list[tuple[Word, str]], parts: Sequence[str], depth: int) -> list[list[Word]]:
    commands: list[list[Word]] = []
    current: list[Word] = []
    skip_target = False
    for word, kind in located:
        if kind == "control":
            if current:
                commands.extend(_unwrap(current, parts, depth))
            current = []
            skip_target = False
        elif kind == "redirect":
            skip_target = True     # the redirection's target word is not an argument
        elif skip_target:
            skip_target = False
        else:
            current.append(word)
    if current:
        commands.extend(_unwrap(current, parts, depth))
    return commands


# --- unwrapping launchers --------------------------------------------------------------------

def basename(text: str) -> str:
    return text.rstrip("/").rsplit("/", 1)[-1]


def _unwrap(cmd: list[Word], parts: Sequence[str], depth: int) -> list[list[Word]]:
    for _ in range(64):     # each pass strips at least one word; bounded anyway
        while cmd and (_ASSIGNMENT.match(cmd[0].text) or cmd[0].text in _RESERVED_PREFIX):
            cmd = cmd[1:]
        if not cmd or cmd[0].text in _RESERVED_ALONE or cmd[0].text in ("for", "case"):
            return []
        name = basename(cmd[0].text)
        if name in SHELLS or name == "CMD-SHELL":
            return _shell(cmd, parts, depth)
        if name == "python" or re.fullmatch(r"python\d+(\.\d+)*", name):
            return [_python(cmd)]
        if name == "hupper":       # reloader: `hupper [options] -m celery ARGS`
            texts = [w.text for w in cmd]
            if "-m" in texts and texts[texts.index("-m") + 1 : texts.index("-m") + 2] == ["celery"]:
                return [cmd[texts.index("-m") + 1 :]]
            return [cmd]
        stripped = _strip_launcher(name, cmd)
        if stripped is None:
            return [cmd]
        cmd = stripped
    return [cmd] if cmd else []


def _strip_launcher(name: str, cmd: list[Word]) -> list[Word] | None:
    """The command a launcher runs, or None when ``cmd`` is not a known launcher."""
    texts = [w.text for w in cmd]
    if name in ("exec", "nohup", "CMD"):
        return _skip_options(cmd, 1, with_value={"-a"})
    if name == "env":
        return _skip_options(cmd, 1, with_value={"-u", "--unset", "-C", "--chdir", "-S", "--split-string"})
    if name in ("gosu", "su-exec", "s6-setuidgid"):
        return cmd[2:]
    if name in ("tini", "catatonit", "dumb-init"):
        return _skip_options(cmd, 1, with_value={"-r", "--rewrite", "-p", "-e"})
    if name == "nice":
        return _skip_options(cmd, 1, with_value={"-n", "--adjustment"})
    if name == "ddtrace-run":
        return cmd[1:]
    if name == "newrelic-admin" and texts[1:2] == ["run-program"]:
        return cmd[2:]
    if name in ("poetry", "pipenv", "pdm", "hatch", "uv") and texts[1:2] == ["run"]:
        return _skip_options(cmd, 2, with_value={"--with", "--python", "-p", "--env", "-e", "--project"})
    if name == "watchmedo" and texts[1:2] == ["auto-restart"]:
        return _skip_options(cmd, 2, with_value={
            "-d", "--directory", "-p", "--pattern", "--patterns", "-i", "--ignore-pattern",
            "--ignore-patterns", "--signal", "--kill-after", "--interval", "--debounce-interval",
        })
    if "--" in texts and (name.endswith(".sh") or "wait-for" in name):
        return cmd[texts.index("--") + 1 :]
    if (name.endswith(".sh") or "entrypoint" in name) and len(cmd) > 1 and not texts[1].startswith("-"):
        # Entrypoint scripts conventionally end with `exec "$@"`: the arguments are the command.
        return cmd[1:]
    return None


def _skip_options(cmd: list[Word], index: int, *, with_value: set[str]) -> list[Word]:
    """Drop a launcher's options from ``index`` on; ``--`` ends them."""
    while index < len(cmd):
        text = cmd[index].text
        if text == "--":
            return cmd[index + 1 :]
        if not text.startswith("-"):
            break
        index += 2 if text in with_value else 1
    return cmd[index:]


def _python(cmd: list[Word]) -> list[Word]:
    """``python [-u ...] -m celery ARGS`` → ``celery ARGS``; any other python command as is."""
    i = 1
    while i < len(cmd):
        text = cmd[i].text
        if text == "-m" and i + 1 < len(cmd):
            module = cmd[i + 1]
            return [module, *cmd[i + 2 :]] if module.text == "celery" else cmd
        if text.startswith("-m") and len(text) > 2:      # "-mcelery"
            if text[2:] != "celery":
                return cmd
            word = cmd[i]
            start = word.start + 2 if word.end - word.start == len(text) else word.start
            return [Word("celery", word.part, start, word.end), *cmd[i + 1 :]]
        if text in ("-W", "-X", "--check-hash-based-pycs"):
            i += 2
            continue
        if not text.startswith("-") or text.startswith("-c"):
            return cmd
        i += 1
    return cmd


def _shell(cmd: list[Word], parts: Sequence[str], depth: int) -> list[list[Word]]:
    """``sh [options] -c SCRIPT [ARG0 ...]``: the commands of SCRIPT. A shell running a script
    file (no ``-c``) is returned as it is."""
    if basename(cmd[0].text) == "CMD-SHELL":
        script = cmd[1] if len(cmd) > 1 else None
    else:
        script = None
        has_c = False
        i = 1
        while i < len(cmd):
            text = cmd[i].text
            if text == "--":
                i += 1
                break
            if text in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
                i += 2
                continue
            if len(text) > 1 and text[0] in "-+" and not text.startswith("--"):
                has_c = has_c or (text[0] == "-" and "c" in text[1:])
                i += 2 if text[-1] in "oO" else 1     # "-euxo pipefail": -o takes a name
                continue
            if text.startswith("--"):
                i += 1
                continue
            break
        if not has_c:
            return [cmd]
        script = cmd[i] if i < len(cmd) else None
    if script is None or depth >= _MAX_DEPTH:
        return []
    return _expand(_script_tokens(script, parts), parts, depth + 1)


def _script_tokens(script: Word, parts: Sequence[str]) -> list[tuple[Word, str]]:
    """Tokens of a ``-c`` script, located inside the part that holds it when the mapping from
    the word's text back to the source is exact, else all at the script word's own span."""
    base = _script_base(script, parts)
    result: list[tuple[Word, str]] = []
    for token in _tokenize(script.text, script=True):
        if base is None:
            word = Word(token.text, script.part, script.start, script.end)
        else:
            word = Word(token.text, script.part, base + token.start, base + token.end)
        result.append((word, token.kind))
    return result


def _script_base(script: Word, parts: Sequence[str]) -> int | None:
    if not 0 <= script.part < len(parts):
        return None
    raw = parts[script.part][script.start : script.end]
    if raw == script.text:
        return script.start
    if len(raw) >= 2 and raw[0] in "'\"" and raw[-1] == raw[0] and raw[1:-1] == script.text:
        return script.start + 1
    return None
