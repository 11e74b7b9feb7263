"""Generate ``vantage_lint/data/celery-options.json`` from the installed celery.

Walks the click group ``celery.bin.celery:celery`` (what the ``celery`` command really parses)
and records, per subcommand and for the global options, every option's spellings, arity, type,
choices and the environment variables click reads for it (``main()`` runs the group with
``auto_envvar_prefix="CELERY"``). Flower is a plugin whose options are tornado options, not
click ones; it is usually not installed, so its part is kept static, taken from the spec's
``celery-cli.json`` (or from the committed table when the spec is not at hand).

Usage: python scripts/gen_celery_options.py [--spec PATH] [--output PATH] [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "vantage_lint" / "data" / "celery-options.json"
SPEC = ROOT.parent / "shared" / "spec" / "data" / "celery-cli.json"

# tornado.options defines `help`, tornado.log.define_logging_options the rest; `celery flower`
# accepts them next to flower's own options (flower reads FLOWER_<NAME> only for its own).
TORNADO_OPTIONS = {
    "help": "bool", "logging": "str", "log_to_stderr": "bool", "log_file_prefix": "str",
    "log_file_max_size": "int", "log_file_num_backups": "int", "log_rotate_when": "str",
    "log_rotate_interval": "int", "log_rotate_mode": "str",
}
_LIBRARY_ENV = re.compile(r"""['"](CELERY_[A-Z0-9_]+)['"]""")


def _type_name(param: Any) -> str:
    import click

    kind = param.type
    if isinstance(kind, click.Choice):
        return "choice"
    if isinstance(kind, click.types.BoolParamType) or getattr(param, "is_flag", False):
        return "bool"
    if isinstance(kind, click.types.IntParamType):
        return "int"
    if isinstance(kind, click.types.FloatParamType):
        return "float"
    return "str"


def _case_sensitive(param: Any) -> bool:
    from celery.bin.base import LogLevel

    # LogLevel upper-cases the value before checking it, so "-l info" is accepted.
    if isinstance(param.type, LogLevel):
        return False
    return bool(getattr(param.type, "case_sensitive", True))


def _option(param: Any, prefix: str) -> dict[str, Any]:
    from celery.bin.base import CommaSeparatedList

    explicit = param.envvar
    envvars = [explicit] if isinstance(explicit, str) else list(explicit or [])
    if param.allow_from_autoenv and param.name:
        envvars.append(f"{prefix}_{param.name.upper()}")
    choices = getattr(param.type, "choices", None)
    return {
        "name": param.name.replace("_", "-"),
        "opts": list(param.opts),
        "secondary_opts": list(param.secondary_opts),
        "is_flag": bool(param.is_flag),
        "takes_value": not param.is_flag and not param.count,
        "multiple": bool(param.multiple),
        "type": _type_name(param),
        "choices": [str(c) for c in choices] if choices is not None else None,
        "case_sensitive": _case_sensitive(param),
        "comma_separated": isinstance(param.type, CommaSeparatedList),
        "envvars": envvars,
    }


def _params(command: Any, prefix: str) -> tuple[list[dict[str, Any]], list[str]]:
    import click

    ctx = click.Context(command, info_name=prefix)
    help_option = command.get_help_option(ctx)
    options, arguments = [], []
    with warnings.catch_warnings():
        # `celery events` declares -d twice (--dump, --detach); the parser keeps the last one.
        warnings.simplefilter("ignore", UserWarning)
        params = command.get_params(ctx)
    for param in params:
        if param is help_option:
            options.append(_option(param, prefix) | {"name": "help", "envvars": []})
        elif isinstance(param, click.Option):
            options.append(_option(param, prefix))
        else:
            arguments.append(param.name)
    return options, arguments


def _remote_commands() -> dict[str, list[str]]:
    from celery.worker.control import Panel

    # The CLI accepts only visible commands (`celery inspect hello` is "not recognized").
    result: dict[str, list[str]] = {"inspect": [], "control": []}
    for name, meta in Panel.meta.items():
        if meta.visible:
            result.setdefault(meta.type, []).append(name)
    return {kind: sorted(names) for kind, names in result.items()}


def _library_envvars() -> list[str]:
    """``CELERY_*`` variables the celery library reads from the process environment."""
    import celery

    names: set[str] = set()
    package = Path(celery.__file__).parent
    for path in package.rglob("*.py"):
        if "bin" in path.relative_to(package).parts:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(r"environ|getenv|_env\(|envvar=", line):
                names.update(_LIBRARY_ENV.findall(line))
    return sorted(names)


def _flower(static: dict[str, Any]) -> dict[str, Any]:
    options = []
    for name, spec in sorted(static.items()):
        kind = spec.get("type") if spec.get("type") in ("str", "int", "float", "bool") else "str"
        options.append({
            "name": name.replace("_", "-"),
            "opts": [f"--{name.replace('_', '-')}"],
            "secondary_opts": [],
            "is_flag": kind == "bool",
            "takes_value": True,
            "multiple": bool(spec.get("multiple")),
            "type": kind,
            "choices": None,
            "case_sensitive": True,
            "comma_separated": bool(spec.get("multiple")),
            "envvars": [spec["envvar"]] if spec.get("envvar") else [],
        })
    return {
        "style": "tornado",
        "envvar_prefix": "FLOWER",
        "allow_extra_args": True,
        "ignore_unknown_options": True,
        "arguments": ["tornado_argv"],
        "commands": [],
        "options": options,
    }


def _flower_static(spec_path: Path, output: Path) -> dict[str, Any]:
    if spec_path.is_file():
        data = json.loads(spec_path.read_text(encoding="utf-8"))
        static = dict(data["flower_options"])
        for name, kind in TORNADO_OPTIONS.items():
            static.setdefault(name, {"type": kind, "multiple": False, "envvar": None})
        return _flower(static) | {"source": f"flower {data['_meta'].get('flower', '?')} (static)"}
    committed = json.loads(output.read_text(encoding="utf-8"))
    return committed["commands"]["flower"]


def build_table(flower: dict[str, Any] | None = None) -> dict[str, Any]:
    """The option table of the installed celery; ``flower`` is the static flower part."""
    import click
    from celery.bin.celery import celery as group

    global_options, _ = _params(group, "CELERY")
    commands: dict[str, Any] = {}
    remote = _remote_commands()
    for name in sorted(group.commands):
        command = group.commands[name]
        prefix = f"CELERY_{name.upper().replace('-', '_')}"
        options, arguments = _params(command, prefix)
        settings = command.context_settings
        nested = sorted(command.commands) if isinstance(command, click.Group) else remote.get(name, [])
        commands[name] = {
            "style": "click",
            "envvar_prefix": prefix,
            "allow_extra_args": bool(settings.get("allow_extra_args") or isinstance(command, click.Group)),
            "ignore_unknown_options": bool(settings.get("ignore_unknown_options")),
            "arguments": arguments,
            "commands": nested,
            "options": options,
        }
    if flower is not None:
        commands["flower"] = flower
    return {
        "_meta": {
            "celery": version("celery"),
            "click": version("click"),
            "generated_by": "scripts/gen_celery_options.py",
        },
        "global": {"envvar_prefix": "CELERY", "options": global_options},
        "commands": commands,
        "library_envvars": _library_envvars(),
    }


def render(table: dict[str, Any]) -> str:
    return json.dumps(table, indent=1, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=SPEC, help="celery-cli.json with flower_options")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the output is out of date")
    args = parser.parse_args(argv)
    text = render(build_table(_flower_static(args.spec, args.output)))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            print(f"{args.output} is out of date; run scripts/gen_celery_options.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
