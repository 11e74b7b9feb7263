"""The Celery option table (``data/celery-options.json``, generated from the installed celery by
``scripts/gen_celery_options.py``) and lookups over it.

Spellings resolve the way click's parser resolves them: the last option declared with a
spelling wins (``celery events`` declares ``-d`` twice). Flower options are tornado options:
``--basic-auth`` and ``--basic_auth`` are the same option.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple


class OptionSpec(NamedTuple):
    name: str                        # canonical: "concurrency", "time-limit", "basic-auth"
    opts: tuple[str, ...]            # spellings: ("-c", "--concurrency")
    secondary_opts: tuple[str, ...]  # negative forms of a flag: ("--no-enable-remote-control",)
    is_flag: bool
    takes_value: bool
    multiple: bool                   # repeatable, values accumulate
    type: str                        # "int" | "float" | "str" | "bool" | "choice"
    choices: tuple[str, ...] | None
    case_sensitive: bool
    comma_separated: bool            # one value holding a comma-separated list
    envvars: tuple[str, ...]         # variables the CLI reads for it, first non-empty wins


class CommandSpec(NamedTuple):
    name: str
    style: str                       # "click", or "tornado" for flower
    envvar_prefix: str
    allow_extra_args: bool           # positional arguments beyond the declared ones are fine
    ignore_unknown_options: bool     # unknown options are passed on, not rejected (multi)
    arguments: tuple[str, ...]
    commands: tuple[str, ...]        # inspect/control remote commands, or a group's subcommands
    options: tuple[OptionSpec, ...]
    spellings: dict[str, OptionSpec]


class Table(NamedTuple):
    celery_version: str
    global_options: tuple[OptionSpec, ...]
    global_spellings: dict[str, OptionSpec]
    commands: dict[str, CommandSpec]
    library_envvars: frozenset[str]


def _spec(raw: dict[str, Any]) -> OptionSpec:
    return OptionSpec(
        name=raw["name"],
        opts=tuple(raw["opts"]),
        secondary_opts=tuple(raw["secondary_opts"]),
        is_flag=raw["is_flag"],
        takes_value=raw["takes_value"],
        multiple=raw["multiple"],
        type=raw["type"],
        choices=tuple(raw["choices"]) if raw["choices"] is not None else None,
        case_sensitive=raw["case_sensitive"],
        comma_separated=raw["comma_separated"],
        envvars=tuple(raw["envvars"]),
    )


def _spellings(options: tuple[OptionSpec, ...], tornado: bool) -> dict[str, OptionSpec]:
    result: dict[str, OptionSpec] = {}
    for option in options:
        for spelling in option.opts + option.secondary_opts:
            result[_tornado_key(spelling) if tornado else spelling] = option
    return result


def _tornado_key(spelling: str) -> str:
    # tornado strips every leading dash and treats "_" and "-" alike.
    return "--" + spelling.lstrip("-").replace("_", "-")


@cache
def table() -> Table:
    text = (Path(__file__).parent.parent / "data" / "celery-options.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    global_options = tuple(_spec(o) for o in raw["global"]["options"])
    commands = {}
    for name, command in raw["commands"].items():
        options = tuple(_spec(o) for o in command["options"])
        tornado = command["style"] == "tornado"
        commands[name] = CommandSpec(
            name=name,
            style=command["style"],
            envvar_prefix=command["envvar_prefix"],
            allow_extra_args=command["allow_extra_args"],
            ignore_unknown_options=command["ignore_unknown_options"],
            arguments=tuple(command["arguments"]),
            commands=tuple(command["commands"]),
            options=options,
            spellings=_spellings(options, tornado),
        )
    return Table(
        celery_version=raw["_meta"]["celery"],
        global_options=global_options,
        global_spellings=_spellings(global_options, False),
        commands=commands,
        library_envvars=frozenset(raw["library_envvars"]),
    )


def command_spec(subcommand: str) -> CommandSpec | None:
    return table().commands.get(subcommand)


def option_for(subcommand: str, spelling: str) -> OptionSpec | None:
    """The option ``spelling`` (``-c``, ``--concurrency``, ``--no-x``) names for a subcommand."""
    command = command_spec(subcommand)
    if command is None:
        return None
    key = _tornado_key(spelling) if command.style == "tornado" else spelling
    return command.spellings.get(key)


def global_option(spelling: str) -> OptionSpec | None:
    """A ``celery`` option that must precede the subcommand (``-A``, ``--broker`` ...)."""
    return table().global_spellings.get(spelling)


def option_named(subcommand: str, name: str) -> OptionSpec | None:
    """The option with canonical ``name`` of a subcommand (``""`` = the global options)."""
    options = table().global_options if not subcommand else getattr(command_spec(subcommand), "options", ())
    return next((o for o in options if o.name == name), None)


def suggest(subcommand: str, spelling: str) -> str | None:
    """Did-you-mean: the closest spelling of the subcommand's options (long spellings only,
    since one-letter options are too close to each other to guess between)."""
    command = command_spec(subcommand)
    if command is None or len(spelling.lstrip("-")) < 2:
        return None
    if command.style == "tornado":
        name = spelling.lstrip("-").split("=", 1)[0]
        candidates = [o.opts[0].lstrip("-") for o in command.options]
        if "_" in name:
            candidates = [c.replace("-", "_") for c in candidates]
        match = closest(name, candidates)
        return "--" + match if match else None
    candidates = [s for s in command.spellings if s.startswith("--")]
    return closest(spelling, candidates)


def closest(word: str, candidates: list[str]) -> str | None:
    """The one candidate ``word`` abbreviates (``--prefetch``), else the most similar one."""
    extended = [c for c in candidates if c.startswith(word) and c != word]
    if len(extended) == 1:
        return extended[0]
    import difflib  # only for a word that is no option's

    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return match[0] if match else None


def suggest_subcommand(word: str) -> str | None:
    return closest(word, list(table().commands))
