"""The ``celery`` commands a service's healthcheck runs (``celery inspect ping -d ...``)."""

from __future__ import annotations

from typing import NamedTuple, TYPE_CHECKING

from vantage_lint.celery.command import CeleryInvocation, is_celery, parse_celery
from vantage_lint.compose.nodes import ScalarNode, SeqNode
from vantage_lint.compose.roles import WrittenText, written_text
from vantage_lint.shell import SHELLS, basename, script_commands, simple_commands, words_from_parts

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service


class CeleryProbe(NamedTuple):
    """One ``celery`` command of a healthcheck test."""

    invocation: CeleryInvocation
    nodes: list[ScalarNode]         # ``Word.part`` indexes these: the test's items (a string test is item 0)
    written: list[WrittenText]      # the same items as written (``$$`` read as ``$``)
    shell: bool                     # a shell runs it (CMD-SHELL, a string test, `sh -c`): it expands $VAR


def celery_probes(service: Service) -> list[CeleryProbe]:
    """The celery invocations of the service's healthcheck test (none when it is disabled)."""
    check = service.healthcheck
    if check is None or service.healthcheck_disabled:
        return []
    test = check.get("test")
    env = getattr(service.project, "env", None) or {}
    if isinstance(test, ScalarNode) and test.text:
        nodes = [test]
        written = [written_text(test, env)]
        commands = script_commands(written[0].text, 0)
        shell = True
    elif isinstance(test, SeqNode) and test.items:
        nodes = [item for item in test.items if isinstance(item, ScalarNode)]
        if len(nodes) != len(test.items):
            return []
        written = [written_text(node, env) for node in nodes]
        texts = [w.text for w in written]
        if texts[0] == "CMD-SHELL" and len(texts) > 1:
            commands = script_commands(texts[1], 1)
            shell = True
        elif texts[0] == "CMD" and len(texts) > 1:
            commands = simple_commands(words_from_parts(texts)[1:], texts)
            shell = basename(texts[1]) in SHELLS
        else:
            return []
    else:
        return []
    return [
        CeleryProbe(parse_celery(command), nodes, written, shell)
        for command in commands
        if command and is_celery(command[0])
    ]
