"""VL301, and how the Celery rules see a service: its Celery settings and where each was written.

A Celery service's settings come from its command line (flags, as click parses them) and from
the environment variables the ``celery`` command reads (``CELERY_WORKER_<OPTION>``,
``CELERY_APP``, ``CELERY_BROKER_URL`` ...). :func:`celery_view` gathers both, flags first, and
:meth:`CeleryView.span` finds the YAML text a setting came from in every form a command is
written in: a string, a list, a folded or literal block, a ``sh -c`` script.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vantage_lint.celery.app_join import LoadedApp, UnknownText, join, load_app
from vantage_lint.celery.command import (
    CeleryInvocation,
    OptionProblem,
    Setting,
    effective_settings,
    env_settings,
)
from vantage_lint.compose.interpolation import references
from vantage_lint.compose.nodes import ScalarNode
from vantage_lint.compose.roles import WrittenText, celery_invocation, command_written, written_text
from vantage_lint.compose.unknown import OPEN, has_unknown, names_in
from vantage_lint.context import RuleContext
from vantage_lint.findings import Finding, Severity, Span
from vantage_lint.registry import rule
from vantage_lint.secrets import redact

if TYPE_CHECKING:
    from vantage_lint.compose.model import EnvVar, Service

CELERY_ROLES = ("celery-worker", "celery-beat", "flower")


# --- positions -------------------------------------------------------------------------------

def raw_offsets(node: ScalarNode, source_text: str) -> list[int] | None:
    """The source offset of each character of ``node.raw`` (plus one for its end), traced
    through block indentation, line folding and quoting; None when it cannot be traced."""
    raw = node.raw
    span = node.span
    end = min(span.end, len(source_text))
    p = span.start
    style = node.style
    if style in ("|", ">"):
        newline = source_text.find("\n", p, end)
        if newline == -1:
            return None
        p = newline + 1
    elif style in ("'", '"'):
        if source_text[p : p + 1] != style:
            return None
        p += 1
    result: list[int] = []
    for ch in raw:
        if ch in " \t\r\n":
            result.append(min(p, end))
            if p < end and source_text[p] in " \t\r\n":
                p += 1
            elif style == '"' and source_text.startswith("\\", p) and source_text[p + 1 : p + 2] in ("n", "t"):
                p += 2
            continue
        while p < end and (source_text[p] in " \t\r\n"
                           or (style == '"' and source_text.startswith(("\\\n", "\\\r\n"), p))):
            p += 1
        if p >= end:
            return None
        found = source_text[p]
        if found == ch:
            result.append(p)
            p += 1
        elif style == "'" and ch == "'" and source_text.startswith("''", p):
            result.append(p)
            p += 2
        elif style == '"' and found == "\\" and source_text[p + 1 : p + 2] == ch:
            result.append(p)
            p += 2
        else:
            return None
    result.append(p)
    return result


def text_span(service: Service, node: ScalarNode, written: WrittenText, start: int, end: int) -> Span:
    """Where ``written.text[start:end]`` is in the file; the whole node when it cannot be traced."""
    source = service.project.sources.get(node.span.path)
    if source is None or not 0 <= start < end <= len(written.text):
        return node.span
    cache = service.__dict__.setdefault("_raw_offsets", {})
    key = id(node)
    if key not in cache:
        cache[key] = raw_offsets(node, source.text) if isinstance(node.raw, str) else None
    offsets = cache[key]
    if offsets is None:
        return node.span
    raw_start = written.raw_index[start]
    raw_end = max(written.raw_index[end], raw_start + 1)
    if raw_end > len(offsets) - 1:
        return node.span
    return source.span(offsets[raw_start], offsets[raw_end - 1] + 1)


def command_span(service: Service, part: int, start: int, end: int) -> Span:
    """The span of offsets ``start:end`` of command part ``part`` (``service.command_nodes``, or
    the image's command parts when the service runs its Dockerfile's CMD/ENTRYPOINT)."""
    invocation = celery_invocation(service)
    if invocation is not None and invocation.image is not None:
        return invocation.image.span(part, start, end)
    nodes = service.command_nodes
    written = command_written(service)
    if not 0 <= part < len(nodes) or part >= len(written):
        return service.span_of("command")
    return text_span(service, nodes[part], written[part], start, end)


# --- environment -----------------------------------------------------------------------------

def _list_entry(var: EnvVar) -> bool:
    """``- NAME=value``: the node holds the whole entry."""
    return var.node is not None and var.key_span == var.span


def env_text(service: Service, var: EnvVar) -> str | None:
    """The variable's value as written (``$$`` read as ``$``, unresolved ``${X}`` kept); a
    variable declared without a value is passed from the shell at ``up`` time: unknown."""
    node = var.node
    if node is None:
        return var.value if var.value is not None else "${%s}" % var.name
    if node.value is None:
        return "${%s}" % var.name
    env = getattr(service.project, "env", None) or {}
    text = written_text(node, env).text
    if _list_entry(var):
        text = text.partition("=")[2]
    return text


def env_value_span(service: Service, var: EnvVar) -> Span:
    """Where the variable's value is written (for ``- NAME=value``, the part after ``=``)."""
    node = var.node
    if node is None or not _list_entry(var) or node.value is None:
        return var.span
    env = getattr(service.project, "env", None) or {}
    written = written_text(node, env)
    cut = written.text.find("=")
    if cut == -1 or cut + 1 >= len(written.text):
        return var.span
    return text_span(service, node, written, cut + 1, len(written.text))


def env_name_span(service: Service, var: EnvVar) -> Span:
    """Where the variable's name is written (for ``- NAME=value``, the part before ``=``)."""
    node = var.node
    if node is None or not _list_entry(var):
        return var.key_span
    env = getattr(service.project, "env", None) or {}
    written = written_text(node, env)
    if not written.text.startswith(var.name):
        return var.key_span
    return text_span(service, node, written, 0, len(var.name))


# --- the view --------------------------------------------------------------------------------

def known(value: object) -> bool:
    """A value the file tells: not an unresolved or container-side variable, nor an app
    setting whose value the app's code does not tell."""
    if isinstance(value, UnknownText):
        return False
    return not (isinstance(value, str) and ("$" in value or "`" in value or has_unknown(value)))


def number(value: object) -> float | None:
    if not isinstance(value, str) or not known(value):
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


@dataclass(slots=True)
class CeleryView:
    """The Celery settings of one service, flags over environment variables."""

    service: Service
    invocation: CeleryInvocation | None
    subcommand: str
    env: dict[str, Setting]
    unread: list[str]
    settings: dict[str, Setting] = field(default_factory=dict)
    # The app's own configuration, when its code is in the project (see celery/app_join.py).
    app: LoadedApp | None = None
    # Command-line settings the app's configuration overrides (time limits), by option.
    overridden: dict[str, Setting] = field(default_factory=dict)

    def get(self, option: str) -> Setting | None:
        return self.settings.get(option)

    def enabled(self, option: str) -> bool:
        """A flag option that is on (``-E``, ``CELERY_WORKER_TASK_EVENTS=1``)."""
        setting = self.settings.get(option)
        return setting is not None and setting.value is True

    def number(self, option: str) -> float | None:
        setting = self.settings.get(option)
        return number(setting.value) if setting is not None else None

    def span(self, setting: Setting, *, name: bool = False) -> Span:
        """Where a setting was written: the flag (and its value), or the variable's value
        (its name with ``name=True``), or the app setting in its .py file."""
        if setting.source == "app" and setting.span is not None:
            return setting.span
        if setting.source == "flag":
            return command_span(self.service, setting.part, setting.start, setting.end)
        var = self.service.environment.get(setting.written)
        if var is None:
            return self.service.span_of("environment")
        return env_name_span(self.service, var) if name else env_value_span(self.service, var)

    def show(self, setting: Setting) -> str:
        """The setting as the user wrote it: ``--time-limit=300`` or ``CELERY_WORKER_TIME_LIMIT=300``."""
        if setting.source == "flag":
            return redact(setting.written)
        if setting.source == "app" and setting.span is not None:
            shown = "true" if setting.value is True else "false" if setting.value is False else str(setting.value)
            return redact(f"{setting.written} = {shown} in {setting.span}")
        value = setting.value
        text = "true" if value is True else "false" if value is False else str(value)
        return redact(f"{setting.written}={text}")

    def anchor(self) -> Span:
        """Where to report something missing: the subcommand word (``worker``)."""
        invocation = self.invocation
        if invocation is not None:
            words = invocation.words
            for word in words[1:]:
                if word.text == invocation.subcommand:
                    return command_span(self.service, word.part, word.start, word.end)
            word = invocation.celery_word
            return command_span(self.service, word.part, word.start, word.end)
        return self.service.span_of("command")

    @property
    def program(self) -> str:
        """``celery worker``, for messages."""
        return f"celery {self.subcommand}".strip()


def _env_values(service: Service) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, var in service.environment.items():
        text = env_text(service, var)
        if text is not None:
            values[name] = text
    return values


def celery_view(service: Service) -> CeleryView | None:
    """The service's Celery settings (cached), or None when it runs no Celery command and has
    no Celery role."""
    cache = service.__dict__
    if "_celery_view" in cache:
        return cache["_celery_view"]
    invocation = celery_invocation(service)
    subcommand = invocation.subcommand if invocation is not None else ""
    if not subcommand:
        for role, command in (("celery-worker", "worker"), ("celery-beat", "beat"), ("flower", "flower")):
            if service.has_role(role):
                subcommand = command
                break
    view = None
    if invocation is None and subcommand:
        from vantage_lint.celery.unread import unread_start

        if unread_start(service) is not None:
            # Started through a script, an entrypoint or supervisord: its options are unknown,
            # not unset (VL340 says so), so no rule may read their absence.
            cache["_celery_view"] = None
            return None
    if invocation is not None or subcommand:
        values = _env_values(service)
        env, unread = env_settings(subcommand or "worker", values)
        view = CeleryView(service, invocation, subcommand, env, unread, effective_settings(invocation, env))
        _join_app(view, values)
    cache["_celery_view"] = view
    return view


def _join_app(view: CeleryView, environ: dict[str, str]) -> None:
    """Read the app ``-A`` names (when its code is in the project) and let its configuration
    fill the settings the command line leaves unset, as Celery does."""
    spec = view.get("app")
    if spec is None or not isinstance(spec.value, str) or not known(spec.value) or not spec.value.strip():
        return
    workdir_setting = view.get("workdir")
    workdir = str(workdir_setting.value) if workdir_setting is not None else view.service.text("working_dir")
    config_setting = view.get("config")
    config_module = config_setting.value if config_setting is not None and known(config_setting.value) else None
    loaded = load_app(view.service, spec.value.strip(), workdir if workdir and known(workdir) else None,
                      environ, config_module if isinstance(config_module, str) else None)
    view.app = loaded
    cli = view.settings
    view.settings = join(view.subcommand, cli, loaded.config)
    for option, setting in cli.items():
        joined = view.settings.get(option)
        if joined is not None and joined.source == "app" and setting.source != "app":
            view.overridden[option] = setting


def app_config(view: CeleryView | None):  # -> AppConfig | None
    """The app's configuration as read, or None when it was not found or not read."""
    if view is None or view.app is None:
        return None
    return view.app.config


def intended_limit(view: CeleryView, soft: bool) -> Setting | None:
    """The hard (or soft) time limit: the worker's own (``--time-limit``,
    ``CELERY_WORKER_TIME_LIMIT``), else ``CELERY_TASK_TIME_LIMIT`` taken as the user's intent
    (it works when the app maps it into its configuration)."""
    option = "soft-time-limit" if soft else "time-limit"
    setting = view.get(option)
    if setting is not None:
        return setting
    name = "CELERY_TASK_SOFT_TIME_LIMIT" if soft else "CELERY_TASK_TIME_LIMIT"
    var = view.service.environment.get(name)
    if var is None:
        return None
    text = env_text(view.service, var)
    if not text:
        return None
    return Setting(option, text, "env", name, -1, -1, -1)


def pool(view: CeleryView) -> str:
    """The worker's pool (``prefork`` by default); "" when a variable sets it."""
    setting = view.get("pool")
    if setting is None:
        return "prefork"
    value = str(setting.value)
    return value.lower() if known(value) else ""


def setting_depends(view: CeleryView, setting: Setting | None) -> tuple[str, ...]:
    """The variables the deployment supplies (unset here, or blank in a template standing in
    for .env) that ``setting``'s value holds: ``-P ${POOL}``, ``CELERY_WORKER_POOL: ${POOL}``.
    A ``$$VAR`` the container expands is none of them."""
    if setting is None or not isinstance(setting.value, str):
        return ()
    raw = "" if "$" not in setting.value else (
        _raw_text(view, setting.part, setting.start, setting.end) if setting.source == "flag" else _raw_env(view, setting))
    return tuple(_deploy_names(view, setting.value, raw))


def options_depend(view: CeleryView) -> tuple[str, ...]:
    """The variables the deployment supplies that stand among the command's words as words of
    their own (``celery -A app worker ${WORKER_OPTS}``): Compose splits their values into
    options, so "the command sets no --concurrency" depends on them."""
    invocation = view.invocation
    if invocation is None:
        return ()
    names: list[str] = []
    for word in invocation.arguments:
        raw = _raw_text(view, word.part, word.start, word.end) if "$" in word.text else ""
        names += _deploy_names(view, word.text, raw)
    return tuple(dict.fromkeys(names))


def _deploy_names(view: CeleryView, text: str, raw: str) -> list[str]:
    """Markers in ``text`` and the variables of ``raw`` (as written) the linting environment
    leaves unset: a ``$$VAR`` the container expands is none of them."""
    names = list(names_in([text]))
    if raw:
        env = getattr(view.service.project, "env", None) or {}
        names += [ref.name for ref in references(raw) if has_unknown(env.get(ref.name, OPEN))]
    return list(dict.fromkeys(names))


def _raw_text(view: CeleryView, part: int, start: int, end: int) -> str:
    """The text at ``start:end`` of command part ``part`` as written in the file, before
    interpolation."""
    service = view.service
    if part >= 0:
        nodes = [node for key in ("entrypoint", "command") for node in service.argv_parts(key)[1]]
        written = command_written(service)
        if part < len(nodes) and part < len(written):
            node, index = nodes[part], written[part].raw_index
            raw = node.raw if isinstance(node.value, str) else node.text
            return raw[index[min(start, len(index) - 1)]:index[min(end, len(index) - 1)]]
    return ""


def _raw_env(view: CeleryView, setting: Setting) -> str:
    """The value of the environment variable ``setting`` was read from, as written."""
    service = view.service
    if setting.source == "env":
        var = service.environment.get(setting.written)
        node = var.node if var is not None else None
        if node is not None and isinstance(node, ScalarNode):
            return node.raw if isinstance(node.value, str) else node.text
    return ""


def pool_depends(view: CeleryView) -> tuple[str, ...]:
    """The variables the deployment supplies that name the pool (``-P ${POOL}``): a verdict that
    holds only for some pools depends on them."""
    return setting_depends(view, view.get("pool"))


def seconds(value: float) -> str:
    return f"{value:g}s"


# --- VL301 -----------------------------------------------------------------------------------

def _problem_message(service: Service, where: str, problem: OptionProblem, program: str) -> str:
    text = problem.message.rstrip(".")
    if problem.kind == "global-after-subcommand":
        # Said without "-A <word>", which the report's secret masking takes for a password flag.
        flag = problem.written.split()[0].partition("=")[0]
        subcommand = program.removeprefix("celery ")
        if subcommand == "flower":
            text = (f"'{flag}' after `celery flower` is ignored (Flower drops it with a warning): global "
                    "options must come before the subcommand `flower`")
        else:
            text = (f"No such option '{flag}' for `{program}`: '{flag}' is a global option of `celery` and "
                    f"must come before the subcommand `{subcommand}`")
    if problem.suggestion:
        text += f"; did you mean {problem.suggestion}?"
    else:
        text += "."
    if program.endswith("flower"):
        pass    # the message already says what Flower does with it
    elif where == "healthcheck":
        text += f" `{program}` exits with an error, so the probe always fails."
    else:
        text += f" `{program}` exits with status 2 before it starts."
    return f'service "{service.name}" {where}: {text}'


@rule(
    code="VL301",
    name="celery-unknown-option",
    summary="A celery command line has an option its subcommand does not accept, or a global option after the subcommand.",
    severity=Severity.ERROR,
    hint="Fix the spelling (see `celery <subcommand> --help`) and put global options such as -A and -b before the subcommand.",
    scope="service",
)
def celery_unknown_option(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Parses every `celery` command a service runs (its `command`/`entrypoint` in any form: a
    string, a list, a folded or literal block, `sh -c "..."`, after `exec` or variable
    assignments, `python -m celery`) and its healthcheck's `celery` commands the way click
    parses them in Celery 5.x, and reports: an option the subcommand does not have (with a
    did-you-mean), a global option (`-A`, `-b`, `--broker`, `--result-backend`, `--config`,
    `--workdir` ...) written after the subcommand, a missing value, a value outside an
    option's choices (`--loglevel=verbose`, `-P threading`) or not a number, an unknown
    subcommand with a likely spelling, and an unknown `inspect` command. For `celery flower`
    (tornado options, which Flower drops silently) it reports unknown options too.

    A service whose build context's requirements (`*requirements*.txt`, `requirements/*.txt`)
    pin Celery below 5 (`celery==4.3.0`, `celery<5`) is not checked: the option table is
    Celery 5's (generated from the installed Celery and tested against it), and says nothing
    about an older command line.

    ## Why it matters
    click refuses the whole command: `celery worker --concurency=4` prints
    `No such option: --concurency` and exits with status 2, and the container restarts in a
    loop. In a healthcheck the same mistake makes the probe fail every time. Flower instead
    drops an option it does not know without a word, so a misspelt `--basic-authentication`
    leaves it open (`--basic_auth` and `--basic-auth` are both valid spellings).

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        command: celery worker -A myapp --concurency=4 --max-task-per-child=100
    ```

    ## Fix
    `command: celery -A myapp worker --concurrency=4 --max-tasks-per-child=100`
    """
    from vantage_lint.celery.pins import pinned_below_5

    if pinned_below_5(service):
        return  # its build pins Celery 4 or older, whose command line this table does not describe
    invocation = celery_invocation(service)
    if invocation is not None:
        program = f"celery {invocation.subcommand}".strip()
        for problem in invocation.problems:
            if problem.kind == "unknown-subcommand" and not problem.suggestion:
                continue     # likely a plugin's subcommand
            at = command_span(service, problem.part, problem.start, problem.end)
            yield ctx.finding(at, _problem_message(service, "command", problem, program))
    from vantage_lint.celery.healthcheck import celery_probes

    for probe in celery_probes(service):
        program = f"celery {probe.invocation.subcommand}".strip()
        for problem in probe.invocation.problems:
            if problem.kind == "unknown-subcommand" and not problem.suggestion:
                continue
            nodes, written = probe.nodes, probe.written
            if 0 <= problem.part < len(nodes):
                at = text_span(service, nodes[problem.part], written[problem.part], problem.start, problem.end)
            else:
                at = service.value_span("healthcheck", "test")
            yield ctx.finding(at, _problem_message(service, "healthcheck", problem, program))


def visibility_timeout(view: CeleryView) -> tuple[float, str, Span | None] | None:
    """The Redis visibility timeout the worker runs with: ``broker_transport_options`` in the
    app, else kombu's default (3600 s); None when the app sets it in a way the linter cannot
    follow. Returns (seconds, how it is known, where it is written)."""
    from vantage_lint.celery.app_config import UNKNOWN

    config = app_config(view)
    if config is None:
        return 3600.0, "3600s, kombu's default", None
    found = config.get("broker_transport_options")
    if found is None:
        if not config.complete:
            return None
        return 3600.0, "3600s, kombu's default: the app sets no broker_transport_options", None
    options = found.value
    if not isinstance(options, dict):
        return None
    value = options.get("visibility_timeout", None if "visibility_timeout" in options else 3600.0)
    if value is UNKNOWN or not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    if "visibility_timeout" not in options:
        return 3600.0, f"3600s, kombu's default: {found.written} at {found.span} has no visibility_timeout", found.span
    return float(value), f"{value:g}s, from {found.written} at {found.span}", found.span
