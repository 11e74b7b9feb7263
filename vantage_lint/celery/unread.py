"""Celery services whose worker options cannot be read: started through a script, an
entrypoint, supervisord or a Dockerfile's CMD rather than a ``celery`` command in Compose.

A service is taken for Celery when its name says so (``celery``, or ``worker``/``beat`` in a
project that uses Celery), when its command or its Dockerfile's CMD/ENTRYPOINT mentions
celery, or when ``x-vantage: {role: celery-worker}`` declares it. Its options are unread when
no ``celery`` command is found in its ``entrypoint``/``command``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vantage_lint.compose.kind import service_kind
from vantage_lint.compose.roles import celery_invocation, command_written, declared_roles
from vantage_lint.findings import Span
from vantage_lint.images.build import service_build
from vantage_lint.shell import SHELLS, basename

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service

_NAME_TOKENS = re.compile(r"[a-z0-9]+")
_CELERY_NAMES = frozenset({"worker", "workers", "beat", "scheduler"})
_SUPERVISORS = frozenset({"supervisord", "honcho", "circusd", "s6-svscan", "runsvdir", "foreman", "overmind"})


@dataclass(frozen=True, slots=True)
class UnreadStart:
    how: str          # "./scripts/start-worker", "supervisord", "the Dockerfile's CMD ..."
    evidence: str     # why the service is taken for Celery
    at: Span


def _mentions_celery(text: str) -> bool:
    return "celery" in text.lower()


def _same_code(service: Service, other: Service) -> bool:
    """Both run the same image, or build the same context."""
    if service.image is not None and other.image is not None and service.image.raw == other.image.raw:
        return True
    mine, theirs = service_build(service), service_build(other)
    return mine is not None and theirs is not None and mine.context is not None and mine.context == theirs.context


def _runs_the_celery_app(service: Service) -> str | None:
    """Evidence that a service named worker/beat runs the project's Celery app (a name alone
    also fits a CI runner's or another queue's worker)."""
    for name in service.environment:
        if name.startswith("CELERY") or name.endswith("BROKER_URL"):
            return f"it sets {name}"
    for other in service.project.services.values():
        if other is not service and _same_code(service, other) and (
                other.has_role("celery-worker", "celery-beat") or "celery" in other.name.lower()):
            return f'it runs the same code as the Celery service "{other.name}"'
    return None


def _celery_evidence(service: Service, dockerfile_start: str | None) -> str | None:
    declared = declared_roles(service)
    if declared is not None:
        if declared & {"celery-worker", "celery-beat"}:
            return "x-vantage declares it a Celery " + ("worker" if "celery-worker" in declared else "beat")
        return None
    tokens = set(_NAME_TOKENS.findall(service.name.lower()))
    if any("celery" in token for token in tokens):
        return f'its name "{service.name}" says Celery'
    if any(_mentions_celery(w.text) for w in command_written(service)):
        return "its command mentions celery"
    if dockerfile_start is not None and _mentions_celery(dockerfile_start):
        return "its Dockerfile starts celery"
    runs_it = _runs_the_celery_app(service) if tokens & _CELERY_NAMES else None
    if runs_it is not None:
        return f'its name "{service.name}" says {"/".join(sorted(tokens & _CELERY_NAMES))} and {runs_it}'
    return None


def _dockerfile_start(service: Service) -> tuple[str, str] | None:
    """("the Dockerfile's CMD ...", text) when the Dockerfile, not Compose, starts the process."""
    build = service_build(service)
    if build is None or build.dockerfile is None or build.stage is None:
        return None
    chain = build.dockerfile.chain(build.stage)
    entrypoint = next((s.entrypoint for s in chain if s.entrypoint is not None), None)
    cmd = next((s.cmd for s in chain if s.cmd is not None or s.cmd_reset), None)
    if service.get("entrypoint") is not None:
        return None
    if entrypoint is not None and service.get("command") is None:
        text = entrypoint.shown() + (" " + cmd.shown() if cmd is not None else "")
        return f"{build.where(entrypoint.line)} ENTRYPOINT {entrypoint.shown()}", text
    if entrypoint is not None:
        return f"{build.where(entrypoint.line)} ENTRYPOINT {entrypoint.shown()}", entrypoint.shown()
    if cmd is not None and service.get("command") is None:
        return f"{build.where(cmd.line)} CMD {cmd.shown()}", cmd.shown()
    return None


def _program(service: Service) -> str | None:
    """The first program the Compose command runs, wrappers unwrapped (``sh -c``, ``exec``)."""
    from vantage_lint.celery.command import command_words
    from vantage_lint.shell import simple_commands

    written = command_written(service)
    if not written:
        return None
    parts = [w.text for w in written]
    words = command_words(parts, [w.split for w in written])
    commands = simple_commands(words, parts)
    for command in commands:
        if command and basename(command[0].text) in _SUPERVISORS:
            return basename(command[0].text)
    for command in commands:
        if command:
            texts = [w.text for w in command]
            name = basename(texts[0])
            if name in SHELLS and len(texts) > 1 and not texts[1].startswith("-"):
                return texts[1]  # `bash ./start-worker.sh`: the script
            if name.startswith("python") and len(texts) > 1:
                return " ".join(texts[:3] if texts[1] == "-m" else texts[:2])
            if "/" not in texts[0] and len(texts) > 1 and not texts[1].startswith("-"):
                return f'"{texts[0]} {texts[1]}"'  # a launcher and its subcommand: "start worker"
            return texts[0]
    return None


def unread_start(service: Service) -> UnreadStart | None:
    """How a Celery service is started when its worker options cannot be read (cached)."""
    return service.memo("_unread_start", _unread_start)


def _unread_start(service: Service) -> UnreadStart | None:
    if celery_invocation(service) is not None or service.has_role("redis", "flower"):
        return None
    if service_kind(service).job:
        return None
    in_dockerfile = _dockerfile_start(service)
    evidence = _celery_evidence(service, in_dockerfile[1] if in_dockerfile else None)
    if evidence is None:
        return None
    program = _program(service)
    if program is not None and basename(program.strip('"').split(" ", 1)[0]) == "celery":
        return None  # a celery command not read as Celery's (Airflow's `celery worker` subcommand)
    if program is not None:
        key = "command" if service.get("command") is not None else "entrypoint"
        return UnreadStart(program, evidence, service.value_span(key))
    if in_dockerfile is not None:
        return UnreadStart(in_dockerfile[0], evidence, service.value_span("build"))
    if service.get("build") is not None:
        return UnreadStart("the command of its Dockerfile, which could not be read", evidence,
                           service.value_span("build"))
    image = service.image
    if image is None:
        return None  # a fragment completed by another -f file: its start is written there
    return UnreadStart(f"the default command of image {image.raw}", evidence, service.value_span("image"))
