"""The command line: parse flags, call :func:`vantage_lint.lint`, print a report, exit 0/1/2.

Exit status: 0 nothing at or above ``--fail-on``; 1 findings at or above it; 2 usage error,
bad configuration, an unreadable input named on the command line, or an internal error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from vantage_lint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _split(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _default_format() -> str:
    if os.environ.get("VANTAGE_LINT_FORMAT"):
        return os.environ["VANTAGE_LINT_FORMAT"]
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def _use_color(choice: str, stream) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"


FORMAT_CHOICES = click.Choice(["text", "concise", "json", "sarif", "github", "gitlab", "junit", "rdjson", "checkstyle"])


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option("-f", "--file", "compose_files", multiple=True, metavar="FILE",
              help="Compose file(s) of one project, merged in order as `docker compose -f` does.")
@click.option("--env-file", "env_files", multiple=True, metavar="FILE", help="Env file(s) for interpolation (replaces .env).")
@click.option("--project-directory", metavar="DIR", help="Project directory (where .env is read).")
@click.option("--profile", "profiles", multiple=True, metavar="NAME",
              help="Profile to enable, as `docker compose --profile` (repeatable; replaces COMPOSE_PROFILES).")
@click.option("--format", "fmt", type=FORMAT_CHOICES, default=None,
              help="Output format (default: text; github when GITHUB_ACTIONS=true).")
@click.option("-o", "--output", "output", metavar="FILE", help="Write the report to FILE.")
@click.option("--select", multiple=True, metavar="CODES", help="Rules to run: codes, prefixes (VL2) or names; comma-separated.")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Rules to add to the selection.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Rules to skip: codes, prefixes or names.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default=None,
              help="Lowest severity that makes the exit status 1 (default: warning).")
@click.option("--preset", type=click.Choice(["recommended", "production"]), default=None, help="Rule preset.")
@click.option("--context", "context", type=click.Choice(["production", "development", "auto"]), default=None,
              help="Where the stack runs (default: auto, decided per project from evidence).")
@click.option("--config", "config_path", metavar="FILE", help="Configuration file (default: discovered).")
@click.option("--isolated", is_flag=True, help="Ignore all configuration files.")
@click.option("--explain", metavar="CODE|NAME", help="Print a rule's documentation and exit.")
@click.option("--list-rules", is_flag=True, help="List all rules and exit.")
@click.option("--list-format", type=click.Choice(["text", "markdown", "json"]), default="text",
              help="Format of --list-rules.")
@click.option("--statistics", is_flag=True, help="Show counts per rule.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--fix", is_flag=True, help="Apply safe fixes in place.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes that change behaviour (with --fix or --diff).")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; write nothing.")
@click.option("--baseline", metavar="FILE", help="Report only findings not in this baseline.")
@click.option("--write-baseline", metavar="FILE", help="Write all current findings to a baseline file.")
@click.option("-j", "--jobs", type=int, default=None, metavar="N", help="Parallel processes (default: automatic).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the result cache.")
@click.option("--stdin-filename", metavar="NAME", help="File name to report for input read from `-`.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", help="Color output.")
@click.option("--show-compose", is_flag=True, help="Print the project as resolved, as `docker compose config --format json`.")
@click.option("--show-origins", is_flag=True, help="With --show-compose: add the file:line of every value.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.version_option(__version__, "--version", prog_name="vantage-lint")
def command(**kwargs: object) -> None:
    code = run(**kwargs)  # type: ignore[arg-type]
    sys.exit(code)


def run(
    paths: tuple[str, ...],
    compose_files: tuple[str, ...],
    env_files: tuple[str, ...],
    project_directory: str | None,
    fmt: str | None,
    output: str | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    fail_on: str | None,
    preset: str | None,
    config_path: str | None,
    isolated: bool,
    explain: str | None,
    list_rules: bool,
    list_format: str,
    statistics: bool,
    quiet: bool,
    exit_zero: bool,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    baseline: str | None,
    write_baseline: str | None,
    jobs: int | None,
    no_cache: bool,
    stdin_filename: str | None,
    color: str,
    debug: bool,
    show_compose: bool = False,
    show_origins: bool = False,
    context: str | None = None,
    profiles: tuple[str, ...] = (),
) -> int:
    try:
        if no_cache:
            from vantage_lint import cache

            cache.configure(enabled=False)
        if explain or list_rules:
            from vantage_lint.docs import explain_rule, list_rules_text

            if explain:
                from vantage_lint.registry import load_rules

                policies = None
                if load_rules().lookup(explain) is None:  # maybe a custom policy of the configuration
                    policies = _settings(list(paths), config_path, isolated, (), (), (), None).policies
                out = explain_rule(explain, policies)
            else:
                out = list_rules_text(list_format)
            click.echo(out, nl=not out.endswith("\n"))
            return EXIT_CLEAN
        from vantage_lint.engine import Inputs, lint
        from vantage_lint.findings import Severity

        config_paths = [p for p in paths if p != "-"]
        if "-" in paths and stdin_filename:
            config_paths.insert(0, stdin_filename)  # the configuration of where the text belongs
        settings = _settings(config_paths, config_path, isolated, select, extend_select, ignore, preset)
        if context is not None:
            settings.context = context
        if fail_on is not None:
            settings.fail_on = Severity.ERROR + 1 if fail_on == "never" else Severity.parse(fail_on)  # type: ignore[assignment]
        inputs = Inputs(
            compose_files=[Path(p) for p in compose_files],
            env_files=[Path(p) for p in env_files] or None,
            project_directory=Path(project_directory) if project_directory else None,
            profiles=list(profiles) or None,
        )
        path_list = list(paths)
        if "-" in path_list:
            path_list.remove("-")
            # Bytes, so binary input is judged by decode() (a one-line error), not a crash.
            raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
            inputs.stdin_text = raw.decode("utf-8", "surrogateescape")
            inputs.stdin_filename = stdin_filename or "stdin.yml"
        if show_compose or show_origins:
            from vantage_lint.compose.show_cli import show_compose_text

            click.echo(show_compose_text(path_list, settings, inputs, origins=show_origins))
            return EXIT_CLEAN
        if fix or diff:
            from vantage_lint.fixer import run_fixes

            report, fixed_exit = run_fixes(path_list, settings, inputs, unsafe=unsafe_fixes, write=fix and not diff,
                                           diff_out=sys.stdout if diff else None)
        else:
            report = lint(path_list, settings, inputs=inputs, jobs=jobs)
            fixed_exit = None
        if baseline:
            from vantage_lint.baseline import apply_baseline

            stale = apply_baseline(report, Path(baseline))
            if stale and not quiet:
                click.echo(f"vantage-lint: {stale} baseline entr{'y' if stale == 1 else 'ies'} no longer match "
                           f"(fixed); rewrite the baseline with --write-baseline {baseline}", err=True)
        if write_baseline:
            from vantage_lint.baseline import write_baseline_file

            write_baseline_file(report, Path(write_baseline))
        _emit(report, fmt or _default_format(), output, color, quiet, statistics, diff)
        if exit_zero:
            return EXIT_CLEAN
        return report.exit_code if fixed_exit is None else fixed_exit
    except click.exceptions.Exit:
        raise
    except Exception as exc:  # every failure is one line, exit 2
        return _fail(exc, debug)


def _settings(paths, config_path, isolated, select, extend_select, ignore, preset):
    from vantage_lint.config import load_settings

    settings = load_settings([Path(p) for p in paths], config_path=config_path, isolated=isolated)
    if select:
        settings.select = _split(select)
    if extend_select:
        settings.extend_select = settings.extend_select + _split(extend_select)
    if ignore:
        settings.ignore = settings.ignore + _split(ignore)
    if preset:
        settings.preset = preset
    _check_selectors(settings)
    return settings


def _check_selectors(settings) -> None:
    from vantage_lint.discovery import UsageError
    from vantage_lint.registry import load_rules

    rules = load_rules()
    policy_codes = {p.code for p in settings.policies}
    policy_names = {p.name for p in settings.policies}
    for selector in settings.select + settings.extend_select + settings.ignore:
        if selector.lower() in policy_names or any(c.startswith(selector.upper()) for c in policy_codes):
            continue
        if not rules.matching(selector):
            import difflib

            words = [r.code for r in rules] + [r.name for r in rules]
            close = difflib.get_close_matches(selector, words, n=1) or difflib.get_close_matches(
                selector.upper(), words, n=1)
            raise UsageError(f"unknown rule selector {selector!r} (not a rule code, prefix or name)"
                             + (f"; did you mean {close[0]}?" if close else ""))


def _emit(report, fmt: str, output: str | None, color: str, quiet: bool, statistics: bool, diff: bool) -> None:
    from vantage_lint.report import ReportOptions, render

    if output:
        from vantage_lint.fsutil import write_report
        import io

        buffer = io.StringIO()
        render(report, fmt, buffer, ReportOptions(color=False, quiet=quiet, statistics=statistics))
        write_report(Path(output), buffer.getvalue())
        return
    if diff:
        # stdout carries the diff alone (it can go straight to `git apply`); the fixer has put
        # "Would fix N findings (M remaining)" on stderr, and --output still gets the report.
        return
    stream = sys.stdout
    render(report, fmt, stream, ReportOptions(color=_use_color(color, stream), quiet=quiet, statistics=statistics))


def _fail(exc: Exception, debug: bool) -> int:
    from vantage_lint.discovery import UsageError

    if isinstance(exc, BrokenPipeError):
        # The reader went away (| head): stop quietly, like other command-line tools.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_ERROR
    if debug:
        import traceback

        traceback.print_exc()
    kind = "error" if isinstance(exc, (UsageError, OSError)) or type(exc).__name__ in (
        "ConfigError", "PluginError", "UsageError", "BaselineError", "PolicyError") else "internal error"
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        message = f"{exc.filename}: {exc.strerror}"
    click.echo(f"vantage-lint: {kind}: {message}", err=True)
    return EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    try:
        command.main(args=argv, prog_name="vantage-lint", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.ClickException as exc:
        exc.show()
        return EXIT_ERROR
    except click.exceptions.Abort:
        return EXIT_ERROR
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_ERROR
    return EXIT_CLEAN
