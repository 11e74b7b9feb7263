"""The Celery invocation a service runs: subcommand, options with positions, and problems.

Options are parsed the way click parses them for ``celery`` (checked against celery 5.7.0 /
click 8.5): global options only before the subcommand (after it they are "No such option"),
``--opt=value`` and ``--opt value``, clustered short options (``-Ofair``, ``-c4``, ``-BE``), no
abbreviations, ``--`` ends options, the last occurrence wins. ``celery flower`` hands its
arguments to tornado, which takes only ``--name=value`` (or a bare boolean) and silently drops
what it does not know.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from vantage_lint.celery.options import (
    OptionSpec,
    closest,
    command_spec,
    global_option,
    option_for,
    suggest,
    suggest_subcommand,
    table,
)
from vantage_lint.compose.unknown import has_unknown
from vantage_lint.findings import Span
from vantage_lint.shell import SHELLS, Word, basename, script_commands, simple_commands, split_words

if TYPE_CHECKING:
    from vantage_lint.celery.image_command import ImageCommand


class Setting(NamedTuple):
    option: str                 # canonical long name without dashes: "concurrency", "time-limit", "app"
    value: str | bool | None    # str for value options; True for flags (False for --no-x forms)
    source: str                 # "flag" or "env"
    written: str                # as written: "--concurrency=4", "-c4", "-c 4", "CELERY_WORKER_CONCURRENCY"
    part: int                   # command part index (flags); -1 for env
    start: int                  # offsets in that part's text; -1 for env (the caller locates env vars)
    end: int
    span: Span | None = None    # source "app": where the app's configuration sets it (a .py file)


class OptionProblem(NamedTuple):
    written: str
    part: int
    start: int
    end: int
    # "unknown" | "global-after-subcommand" | "missing-value" | "bad-choice" | "bad-value"
    # | "takes-no-value" | "unknown-subcommand" | "unknown-command"
    kind: str
    suggestion: str | None      # did-you-mean, e.g. "--concurrency" for "--concurency"
    message: str


@dataclass(slots=True)
class CeleryInvocation:
    subcommand: str             # worker | beat | flower | inspect | ... ("" when none was given)
    command: str | None         # inspect/control command ("ping"), a group's or multi's first argument
    settings: dict[str, Setting]
    problems: list[OptionProblem]
    embedded_beat: bool         # worker -B/--beat
    words: list[Word]           # the words of the celery simple command
    celery_word: Word           # the `celery` word (position of the invocation)
    arguments: list[Word] = field(default_factory=list)  # positional words after the subcommand
    # Set when the command is the image's (Dockerfile CMD/ENTRYPOINT): ``part`` then indexes
    # its parts and positions are in the Dockerfile (celery/image_command.py).
    image: ImageCommand | None = None

    def setting(self, option: str) -> Setting | None:
        return self.settings.get(option)


# --- finding the invocation ------------------------------------------------------------------

def is_celery(word: Word) -> bool:
    return basename(word.text) == "celery"


def find_celery(parts: Sequence[str], *, shell_string: bool | Sequence[bool]) -> CeleryInvocation | None:
    """The first simple command of ``parts`` (entrypoint + command as Docker runs them) that runs
    celery. ``shell_string``: the parts were written as one string that Compose splits; a
    sequence gives that per part (an entrypoint list with a string command)."""
    words = command_words(parts, shell_string)
    for command in simple_commands(words, parts):
        if command and is_celery(command[0]):
            return parse_celery(command)
    return None


def find_celery_in_script(text: str, part: int = 0) -> CeleryInvocation | None:
    """The celery command a shell script runs (a ``CMD-SHELL`` or string healthcheck test)."""
    for command in script_commands(text, part):
        if command and is_celery(command[0]):
            return parse_celery(command)
    return None


def command_words(parts: Sequence[str], shell_string: bool | Sequence[bool]) -> list[Word]:
    if not isinstance(shell_string, bool):
        flags = list(shell_string)[: len(parts)]
        flags += [False] * (len(parts) - len(flags))
    else:
        flags = [shell_string] * len(parts)
    words: list[Word] = []
    for index, text in enumerate(parts):
        # With one flag for several parts we cannot tell which part was the string; the script
        # operand of `sh -c` is certainly one list item, and splitting it would lose it.
        ambiguous = isinstance(shell_string, bool) and len(parts) > 1
        if flags[index] and not (ambiguous and _after_shell_c(words)):
            words.extend(split_words(text, index))
        else:
            words.append(Word(text, index, 0, len(text)))
    return words


def _after_shell_c(words: list[Word]) -> bool:
    if len(words) < 2:
        return False
    last = words[-1].text
    flagged = last.startswith("-") and not last.startswith("--") and "c" in last[1:]
    return flagged and any(basename(w.text) in SHELLS for w in words[:-1])


# --- parsing ---------------------------------------------------------------------------------

@dataclass(slots=True)
class _State:
    words: list[Word]
    settings: dict[str, Setting] = field(default_factory=dict)
    problems: list[OptionProblem] = field(default_factory=list)
    arguments: list[Word] = field(default_factory=list)

    def problem(self, words: Sequence[Word], kind: str, message: str, suggestion: str | None = None) -> None:
        part, start, end = _span(words)
        written = " ".join(w.text for w in words)
        self.problems.append(OptionProblem(written, part, start, end, kind, suggestion, message))

    def record(self, spec: OptionSpec, value: str | bool, words: Sequence[Word], *, tornado: bool = False) -> None:
        previous = self.settings.get(spec.name)
        # click accumulates a repeated `multiple` option; tornado resets it on each occurrence.
        accumulate = spec.multiple and not tornado
        if accumulate and previous is not None and isinstance(value, str) and isinstance(previous.value, str):
            value = f"{previous.value},{value}"
        part, start, end = _span(words)
        written = " ".join(w.text for w in words)
        self.settings[spec.name] = Setting(spec.name, value, "flag", written, part, start, end)


def _span(words: Sequence[Word]) -> tuple[int, int, int]:
    first, last = words[0], words[-1]
    if last.part == first.part and last.end >= first.start:
        return first.part, first.start, max(first.end, last.end)
    return first.part, first.start, first.end


def _is_option(text: str) -> bool:
    return len(text) > 1 and text.startswith("-")


def parse_celery(words: list[Word]) -> CeleryInvocation:
    """Parse one simple command whose first word runs celery."""
    state = _State(words)
    i = 1
    while i < len(words) and _is_option(words[i].text):
        if words[i].text == "--":
            i += 1
            break
        i = _click_option(state, i, global_option, _global_unknown)
    sub_word = words[i] if i < len(words) else None
    subcommand = sub_word.text if sub_word is not None else ""
    spec = command_spec(subcommand) if sub_word is not None else None
    rest = i + 1
    if sub_word is not None and spec is None:
        state.problem([sub_word], "unknown-subcommand", f"No such command {subcommand!r}.",
                      suggest_subcommand(subcommand))
    elif spec is not None and spec.style == "tornado":
        _parse_flower(state, rest)
    elif spec is not None and (spec.ignore_unknown_options or (spec.commands and not spec.arguments)):
        # `celery multi` passes everything on to the workers it starts; a group's options
        # belong to its own subcommands.
        state.arguments = [w for w in words[rest:] if not _is_option(w.text)]
    elif spec is not None:
        _parse_click_command(state, rest, subcommand)
    command = _command(state, subcommand)
    beat = state.settings.get("beat")
    return CeleryInvocation(
        subcommand=subcommand,
        command=command,
        settings=state.settings,
        problems=state.problems,
        embedded_beat=subcommand == "worker" and beat is not None and beat.value is True,
        words=words,
        celery_word=words[0],
        arguments=state.arguments,
    )


def _command(state: _State, subcommand: str) -> str | None:
    spec = command_spec(subcommand)
    if spec is None or spec.style == "tornado":
        return None
    if not (spec.arguments or spec.commands or spec.ignore_unknown_options):
        return None
    if not state.arguments:
        return None
    word = state.arguments[0]
    if (spec.arguments[:1] == ("command",) and spec.commands and "$" not in word.text and not has_unknown(word.text)
            and word.text not in spec.commands):
        state.problem([word], "unknown-command",
                      f"Command {word.text} not recognized by `celery {subcommand}`.",
                      closest(word.text, list(spec.commands)))
    return word.text


def _parse_click_command(state: _State, i: int, subcommand: str) -> None:
    words = state.words
    while i < len(words):
        text = words[i].text
        if text == "--":
            state.arguments.extend(words[i + 1 :])
            return
        if _is_option(text):
            i = _click_option(state, i, lambda s: option_for(subcommand, s), _unknown_in(subcommand))
        else:
            state.arguments.append(words[i])
            i += 1


# (state, index of the word, option name as written, suggestion to use instead of a guess)
_Unknown = Callable[[_State, int, str, "str | None"], int]


def _click_option(
    state: _State,
    i: int,
    resolve: Callable[[str], OptionSpec | None],
    unknown: _Unknown,
) -> int:
    """Parse the option word at ``i`` like click's parser; return the index after it."""
    words = state.words
    word = words[i]
    text = word.text
    name, eq, explicit = text.partition("=")
    long_form = not (len(name) == 2 and name[0] == "-")     # click matches "-foo" as long first
    spec = resolve(name) if long_form else None
    if spec is not None:
        if spec.takes_value:
            if eq:
                _value(state, spec, explicit, [word])
                return i + 1
            if i + 1 >= len(words):
                state.problem([word], "missing-value", f"Option {name!r} requires an argument.")
                return i + 1
            _value(state, spec, words[i + 1].text, [word, words[i + 1]])
            return i + 2
        if eq:
            state.problem([word], "takes-no-value", f"Option {name!r} does not take a value.")
            return i + 1
        state.record(spec, name not in spec.secondary_opts, [word])
        return i + 1
    if text.startswith("--"):
        return unknown(state, i, name, None)
    if len(name) > 2 and resolve("-" + name) is not None:
        # "-concurrency": click would read "-c" with the value "oncurrency".
        return unknown(state, i, name, "-" + name)
    for offset, char in enumerate(text[1:], start=1):
        spec = resolve("-" + char)
        if spec is None:
            return unknown(state, i, "-" + char, None)
        if spec.takes_value:
            attached = text[offset + 1 :]
            if attached:
                _value(state, spec, attached, [word])
                return i + 1
            if i + 1 >= len(words):
                state.problem([word], "missing-value", f"Option '-{char}' requires an argument.")
                return i + 1
            _value(state, spec, words[i + 1].text, [word, words[i + 1]])
            return i + 2
        state.record(spec, True, [word])
    return i + 1


def _value(state: _State, spec: OptionSpec, value: str, words: list[Word], *, tornado: bool = False) -> None:
    state.record(spec, value, words, tornado=tornado)
    if "$" in value or "`" in value or has_unknown(value):
        return      # an unexpanded variable or one the deployment sets: its value is unknown here
    if spec.choices is not None:
        allowed = spec.choices if spec.case_sensitive else tuple(c.upper() for c in spec.choices)
        if (value if spec.case_sensitive else value.upper()) not in allowed:
            choices = ", ".join(repr(c) for c in spec.choices)
            state.problem(words, "bad-choice", f"{value!r} is not one of {choices}.",
                          closest(value, list(spec.choices)))
    elif spec.type in ("int", "float"):
        try:
            int(value) if spec.type == "int" else float(value)
        except ValueError:
            noun = "integer" if spec.type == "int" else "float"
            state.problem(words, "bad-value", f"{value!r} is not a valid {noun}.")


def _global_unknown(state: _State, i: int, name: str, hint: str | None) -> int:
    word = state.words[i]
    elsewhere = [c for c in ("worker", "beat", "inspect", "events") if option_for(c, name)]
    message = f"No such option {name!r}: celery has no such global option"
    if elsewhere:
        message += f"; it is an option of `celery {elsewhere[0]}` and goes after the subcommand"
    suggestion = hint or suggest_global(name)
    state.problem([word], "unknown", message + ".", suggestion)
    # "celery -l info worker": skip the value, or it would be taken for the subcommand.
    owner = option_for(elsewhere[0], name) if elsewhere else None
    if owner is not None and owner.takes_value and word.text == name and i + 1 < len(state.words):
        return i + 2
    return i + 1


def suggest_global(spelling: str) -> str | None:
    if len(spelling.lstrip("-")) < 2:
        return None
    spellings = [s for o in table().global_options for s in o.opts + o.secondary_opts if s.startswith("--")]
    return closest(spelling, spellings)


def _unknown_in(subcommand: str) -> _Unknown:
    def unknown(state: _State, i: int, name: str, hint: str | None) -> int:
        words = state.words
        word = words[i]
        global_spec = global_option(name)
        if global_spec is not None:
            state.problem([word], "global-after-subcommand",
                          f"No such option {name!r} for `celery {subcommand}`: global options such as "
                          f"{name} must precede the subcommand (celery {name} ... {subcommand}).")
            # "-A proj": skip the value too, so it is not taken for a positional argument.
            separate_value = global_spec.takes_value and word.text == name and i + 1 < len(words)
            return i + 2 if separate_value else i + 1
        suggestion = hint or suggest(subcommand, name)
        state.problem([word], "unknown", f"No such option {name!r} for `celery {subcommand}`.", suggestion)
        # "--concurency 4": the value belongs to the misspelt option, not to the positionals.
        intended = option_for(subcommand, suggestion) if suggestion else None
        if intended is not None and intended.takes_value and "=" not in word.text and i + 1 < len(words) \
                and not _is_option(words[i + 1].text):
            return i + 2
        return i + 1
    return unknown


# --- flower (tornado options) ----------------------------------------------------------------

_TORNADO_FALSE = ("false", "0", "f")


def _parse_flower(state: _State, i: int) -> None:
    words = state.words
    while i < len(words):
        word = words[i]
        text = word.text
        i += 1
        if not _is_option(text) or text == "--":
            state.arguments.append(word)
            continue
        flag, eq, value = text.partition("=")
        if global_option(flag) is not None:
            # Flower logs "You have incorrectly specified the following celery arguments" and
            # drops them: the option has no effect.
            state.problem([word], "global-after-subcommand",
                          f"{flag} after `celery flower` is ignored: global options must precede the "
                          f"subcommand (celery {flag} ... flower).")
            if not eq and global_option(flag).takes_value and i < len(words) and not _is_option(words[i].text):
                i += 1
            continue
        spec = option_for("flower", flag)
        if spec is None:
            state.problem([word], "unknown",
                          f"Flower does not know {flag!r} and silently ignores it.", suggest("flower", flag))
            continue
        if not eq:
            if spec.type == "bool":
                state.record(spec, True, [word], tornado=True)
            else:
                state.problem([word], "missing-value",
                              f"Option {spec.name!r} requires a value: write {flag}=VALUE "
                              "(flower reads only the name=value form).")
            continue
        if spec.type == "bool":
            state.record(spec, value.lower() not in _TORNADO_FALSE, [word], tornado=True)
        else:
            _value(state, spec, value, [word], tornado=True)


# --- environment -----------------------------------------------------------------------------

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})

# Read by the celery library (not the CLI) when the CLI did not set them: the CLI's --broker
# and BROKER_URL/CELERY_BROKER end up in CELERY_BROKER_URL, which the app then reads.
_LIBRARY_FALLBACK = {
    "broker": "CELERY_BROKER_URL",
    "config": "CELERY_CONFIG_MODULE",
}


def _env_value(spec: OptionSpec, raw: str) -> str | bool:
    if spec.type != "bool" and not spec.is_flag:
        return raw
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return raw      # click rejects it; keep the text for the message


def env_settings(subcommand: str, environment: Mapping[str, str]) -> tuple[dict[str, Setting], list[str]]:
    """Settings the ``celery`` command reads from the environment for ``subcommand``, and the
    ``CELERY_*`` variables that look like settings but that Celery never reads.

    Click reads ``CELERY_<SUBCOMMAND>_<OPTION>`` for every option (``auto_envvar_prefix``) and an
    explicit name first for some global ones (``APP`` before ``CELERY_APP``); an empty value
    counts as unset. Flower reads ``FLOWER_<OPTION>``.
    """
    data = table()
    settings: dict[str, Setting] = {}

    def read(spec: OptionSpec, names: Sequence[str]) -> None:
        for name in names:
            raw = environment.get(name)
            if raw:
                settings[spec.name] = Setting(spec.name, _env_value(spec, raw), "env", name, -1, -1, -1)
                return

    for spec in data.global_options:
        fallback = _LIBRARY_FALLBACK.get(spec.name)
        read(spec, spec.envvars + ((fallback,) if fallback else ()))
    command = command_spec(subcommand)
    if command is not None:
        for spec in command.options:
            read(spec, spec.envvars)
    return settings, [name for name in environment if _unread(name)]


def _unread(name: str) -> bool:
    return name.startswith("CELERY_") and name not in _read_names()


def _read_names() -> frozenset[str]:
    data = table()
    names = set(data.library_envvars)
    for spec in data.global_options:
        names.update(spec.envvars)
    for command in data.commands.values():
        if command.style == "click":
            for spec in command.options:
                names.update(spec.envvars)
    return frozenset(names)


def env_suggestion(name: str, subcommand: str = "worker") -> str | None:
    """The variable the ``celery <subcommand>`` CLI reads for what ``name`` seems to mean:
    ``CELERY_TASK_TIME_LIMIT`` -> ``CELERY_WORKER_TIME_LIMIT``."""
    command = command_spec(subcommand)
    if command is None or command.style != "click":
        return None
    prefix = command.envvar_prefix + "_"
    cores = [n.removeprefix(prefix) for spec in command.options for n in spec.envvars if n.startswith(prefix)]
    core = name.removeprefix("CELERY_")
    for scope in ("TASK_", "WORKER_", "BEAT_", f"{subcommand.upper()}_"):
        core = core.removeprefix(scope)
    if core in cores:
        return prefix + core if prefix + core != name else None
    extended = [c for c in cores if c.startswith(core)]
    if len(extended) == 1:
        return prefix + extended[0]
    import difflib  # only for a name that is no option's

    match = difflib.get_close_matches(core, cores, n=1, cutoff=0.8)
    return prefix + match[0] if match else None


def effective_settings(invocation: CeleryInvocation | None, env: dict[str, Setting]) -> dict[str, Setting]:
    """Flags beat environment variables (click reads a variable only for an option not given)."""
    merged = dict(env)
    if invocation is not None:
        merged.update(invocation.settings)
    return merged
