"""VL114: ``$VAR`` meant for the container but substituted by Compose on the host."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from vantage_lint.compose.interpolation import interpolate, references
from vantage_lint.compose.model import Service
from vantage_lint.compose.nodes import ScalarNode, SeqNode, sub_span
from vantage_lint.context import RuleContext
from vantage_lint.findings import Applicability, Edit, Finding, Fix, Severity, Span
from vantage_lint.registry import rule
from vantage_lint.shell import SHELLS, basename, split_words

# Variables every container's shell has and that a Compose file has no reason to take from the host.
CONTAINER_VARIABLES = frozenset({"HOSTNAME", "HOME", "PATH", "PWD", "USER"})


class _Text(NamedTuple):
    node: ScalarNode
    where: str          # "command", "entrypoint" or "healthcheck test"
    shell: bool         # a shell inside the container reads this text


def _is_shell(word: str) -> bool:
    return basename(word) in SHELLS


def _is_dash_c(word: str) -> bool:
    """``-c`` and combined short options ending with it (``-ec``, ``-lc``)."""
    return word.startswith("-") and not word.startswith("--") and word.endswith("c") and word[1:].isalpha()


def _split(text: str) -> list[str]:
    return [word.text for word in split_words(text)]


def _string_runs_shell(text: str) -> bool:
    words = _split(text)
    return len(words) >= 2 and _is_shell(words[0]) and _is_dash_c(words[1])


def _argv_texts(service: Service) -> list[_Text]:
    """entrypoint + command scalars, each marked with whether a shell interprets it."""
    texts: list[_Text] = []
    argv: list[tuple[str, ScalarNode | None, str]] = []  # word, its node when it is a whole list item
    for key in ("entrypoint", "command"):
        parts, nodes, as_string = service.argv_parts(key)
        if as_string:
            node = nodes[0]
            words = _split(parts[0])
            shell = _string_runs_shell(parts[0]) or _after_dash_c(argv)
            texts.append(_Text(node, key, shell))
            argv.extend((w, None, key) for w in words)
        else:
            argv.extend((text, node, key) for text, node in zip(parts, nodes))
    for index, (_word, node, key) in enumerate(argv):
        if node is not None:
            texts.append(_Text(node, key, _after_dash_c(argv[:index])))
    return texts


def _after_dash_c(before: list[tuple[str, ScalarNode | None, str]]) -> bool:
    """The next argument is a ``sh -c`` script: the two words before it are a shell and ``-c``."""
    return len(before) >= 2 and _is_shell(before[-2][0]) and _is_dash_c(before[-1][0])


def _healthcheck_texts(service: Service) -> list[_Text]:
    check = service.healthcheck
    test = check.get("test") if check is not None else None
    if isinstance(test, ScalarNode):
        return [_Text(test, "healthcheck test", True)]  # a string test is CMD-SHELL
    if not isinstance(test, SeqNode) or not test.items:
        return []
    items = [item for item in test.items if isinstance(item, ScalarNode)]
    if not items or items[0].text not in ("CMD", "CMD-SHELL"):
        return []
    shell_form = items[0].text == "CMD-SHELL"
    texts = []
    for index, item in enumerate(items[1:], start=1):
        words = [i.text for i in items[1:index]]
        shell = shell_form or (len(words) >= 2 and _is_shell(words[-2]) and _is_dash_c(words[-1]))
        texts.append(_Text(item, "healthcheck test", shell))
    return texts


def _exact_span(service: Service, node: ScalarNode, start: int, end: int) -> Span | None:
    """Where ``node.raw[start:end]`` is in the file, or None when it cannot be pinned down."""
    source = service.project.sources.get(node.span.path)
    if source is None:
        return None
    twin = ScalarNode(node.raw, node.raw, node.span, node.tag, node.style)
    span = sub_span(twin, start, end, source.text)
    if span == node.span or source.text[span.start : span.end] != node.raw[start:end]:
        return None
    return span


def _container_side(service: Service, name: str, expression: str) -> str | None:
    """Why ``name`` belongs to the container, or None when host substitution gives what it would."""
    if name in CONTAINER_VARIABLES:
        return f"{name} is a variable of the container's shell"
    var = service.environment.get(name)
    if var is None or var.value is None:
        return None
    if var.node is not None and any(ref.name == name for ref in references(var.node.raw)):
        return None  # environment: {PW: ${PW}}: the user treats PW as a host variable on both sides
    # environment: {PW: ${PW:-dev}} with command "... ${PW:-dev}": both sides are the host's value.
    host_value, _issues = interpolate(expression, service.project.env)
    if host_value == var.value:
        return None
    where = "env_file" if var.origin == "env_file" else "environment"
    return f"the service's {where} gives {name} another value"


@rule(
    code="VL114",
    name="host-interpolated-variable",
    summary="A $VAR meant for the container in command, entrypoint or healthcheck.test is substituted "
            "by Compose on the host.",
    severity=Severity.WARNING,
    hint="Write $$VAR so that the container's shell expands it.",
    fix=Applicability.UNSAFE,
)
def host_interpolated_variable(service: Service, ctx: RuleContext) -> Iterator[Finding]:
    """## What it does
    Looks at `$VAR` / `${VAR}` (not `$$VAR`) in `command`, `entrypoint` and `healthcheck.test`
    as written, and reports the variables that belong to the container:

    - `HOSTNAME`, `HOME`, `PATH`, `PWD`, `USER`, which every container's shell sets and a
      Compose file has no reason to take from the host;
    - a variable the service's own `environment` or `env_file` sets to a value other than
      what Compose substitutes from the shell and `.env` (e.g. a literal password in
      `environment:` used as `$REDIS_PASSWORD` in the command, which Compose replaces with
      an empty string).

    A variable whose `environment` entry itself comes from the host (`PW: ${PW:-dev}`) is a
    host variable on both sides and passes, as does `${APP_ENV}` from `.env`.

    When no shell reads the text (exec-form `command` or `entrypoint` outside `sh -c`, a
    healthcheck `CMD`), `$$VAR` would reach the program as literal text, so the finding asks
    for a shell (or Celery's `%h` for the host name) and offers no fix.

    ## Why it matters
    Compose interpolates every value on the host when it loads the file.
    `celery -A app inspect ping -d celery@$HOSTNAME` checks the worker named after the
    machine running `docker compose` (or `celery@` when the variable is unset there), so the
    healthcheck fails, or passes for the wrong worker. A password from the service's
    environment becomes an empty string.

    ## Example
    ```yaml
    services:
      worker:
        image: myapp:1.4.2
        healthcheck:
          test: ["CMD-SHELL", "celery -A app inspect ping -d celery@$HOSTNAME"]
    ```

    ## Fix
    Write `$$HOSTNAME` (Compose turns `$$` into `$` and the container's shell expands it).
    An unsafe fix: the value changes from the host's to the container's.
    """
    for text in _healthcheck_texts(service) + _argv_texts(service):
        node = text.node
        if "$" not in node.raw:
            continue
        for ref in references(node.raw):
            written = node.raw[ref.start : ref.end]
            why = _container_side(service, ref.name, written)
            if why is None:
                continue
            span = _exact_span(service, node, ref.start, ref.end)
            message = (f'service "{service.name}": {written} in {text.where} is substituted by Compose on the '
                       f"host when it loads the file, not by the container ({why})")
            fix = None
            if text.shell:
                hint = f"Write ${written} so that the container's shell expands it."
                if span is not None:
                    fix = Fix(f"Escape as ${written}", (Edit(span.path, span.start, span.start, "$"),),
                              Applicability.UNSAFE)
            else:
                message += "; no shell reads this argument"
                hint = (f"Run the command through sh -c (CMD-SHELL for a healthcheck) and write ${written}"
                        + (", or use Celery's %h for the host name." if ref.name == "HOSTNAME" else "."))
            yield ctx.finding(span or node.span, message, hint=hint, fix=fix)
