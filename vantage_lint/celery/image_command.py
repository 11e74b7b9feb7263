"""The command a service's image runs when the Compose file sets none: its Dockerfile's
ENTRYPOINT and CMD, as Docker puts them together.

Compose semantics: ``command:`` replaces the image's CMD, ``entrypoint:`` replaces its
ENTRYPOINT and clears its CMD; so the Dockerfile's pair is the service's command only when
the service sets neither. Docker then runs the ENTRYPOINT's words followed by CMD's; a shell
form (``CMD celery -A proj worker``) runs as ``/bin/sh -c "<text>"`` (or the stage's
``SHELL``), and a shell-form ENTRYPOINT ignores CMD. ``FROM <stage>`` inherits both, and an
ENTRYPOINT set in a later stage clears the CMD it inherits.

Each part keeps where its text is in the Dockerfile, so a finding about ``--concurency=4``
points at those characters; where the text is not there verbatim (continuation lines, JSON
escapes) the whole instruction is the span.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vantage_lint.findings import Span
from vantage_lint.images.build import Build, service_build

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service
    from vantage_lint.images.dockerfile import Command, Instruction

_DEFAULT_SHELL = ("/bin/sh", "-c")


@dataclass(frozen=True, slots=True)
class ImageCommand:
    """ENTRYPOINT + CMD as Docker runs them, each part with its place in the Dockerfile."""

    build: Build
    parts: tuple[str, ...]
    places: tuple[tuple[Instruction, int | None], ...]   # per part: its instruction, the file offset of its text

    def span(self, part: int, start: int, end: int) -> Span:
        """Where characters ``start:end`` of part ``part`` are written in the Dockerfile."""
        source = self.build.source
        if source is None or not 0 <= part < len(self.places):
            return self.whole_span()
        instruction, offset = self.places[part]
        if offset is None or not 0 <= start < end <= len(self.parts[part]):
            return source.span(instruction.start, instruction.end)
        return source.span(offset + start, offset + end)

    def whole_span(self) -> Span:
        source = self.build.source
        if source is None or not self.places:
            return self.build.node.span
        return source.span(self.places[0][0].start, self.places[-1][0].end)

    def shown(self) -> str:
        return " ".join(self.parts)


def _instruction(build: Build, command: Command, keyword: str) -> Instruction | None:
    assert build.dockerfile is not None
    for stage in build.dockerfile.stages:
        for ins in stage.instructions:
            if ins.line == command.line and ins.keyword == keyword:
                return ins
    return None


def _shell(build: Build) -> tuple[str, ...]:
    assert build.dockerfile is not None and build.stage is not None
    for stage in build.dockerfile.chain(build.stage):
        for ins in reversed(stage.instructions):
            if ins.keyword == "shell":
                values = ins.json_args()
                return tuple(values) if values else ()
    return _DEFAULT_SHELL


def _located(text: str, raw: str, base: int, start: int) -> tuple[int | None, int]:
    """The file offset of ``text`` written verbatim in ``raw`` at or after ``start``."""
    index = raw.find(text, start)
    return (base + index, index + len(text)) if index != -1 and text else (None, start)


def _parts(build: Build, command: Command, keyword: str, text: str) -> list[tuple[str, Instruction, int | None]] | None:
    ins = _instruction(build, command, keyword)
    if ins is None:
        return None
    raw = text[ins.start : ins.end] if text else ""
    cursor = len(keyword)
    out: list[tuple[str, Instruction, int | None]] = []
    if command.exec_form:
        for word in command.words:
            quoted = json.dumps(word, ensure_ascii=False)
            if quoted[1:-1] != word:
                # An escape in the JSON string: offsets in the word are not offsets in the file.
                out.append((word, ins, None))
                continue
            offset, cursor_after = _located(quoted, raw, ins.start, cursor)
            out.append((word, ins, offset + 1 if offset is not None else None))
            cursor = cursor_after if offset is not None else cursor
        return out
    shell = _shell(build)
    if not shell:
        return None
    offset, _ = _located(command.words[0], raw, ins.start, cursor)
    return [*((word, ins, None) for word in shell), (command.words[0], ins, offset)]


def image_command(service: Service) -> ImageCommand | None:
    """The image's command when the service sets neither ``command:`` nor ``entrypoint:`` and
    its Dockerfile is read (cached)."""
    return service.memo("_image_command", _without_compose_command)


def _without_compose_command(service: Service) -> ImageCommand | None:
    if service.get("command") is not None or service.get("entrypoint") is not None:
        return None  # Compose's command: replaces CMD, its entrypoint: replaces ENTRYPOINT and CMD
    return _image_command(service_build(service))


def _image_command(build: Build | None) -> ImageCommand | None:
    if build is None or build.dockerfile is None or build.stage is None:
        return None
    chain = build.dockerfile.chain(build.stage)
    entrypoint = next((s.entrypoint for s in chain if s.entrypoint is not None), None)
    cmd = next((s.cmd for s in chain if s.cmd is not None or s.cmd_reset), None)
    # Offsets index the file read; dockerfile_inline has no file, so its parts have no place.
    text = build.source.text if build.source is not None else ""
    parts: list[tuple[str, Instruction, int | None]] = []
    if entrypoint is not None:
        found = _parts(build, entrypoint, "entrypoint", text)
        if found is None:
            return None
        parts.extend(found)
    if cmd is not None and (entrypoint is None or entrypoint.exec_form):
        found = _parts(build, cmd, "cmd", text)
        if found is None:
            return None
        parts.extend(found)
    if not parts:
        return None
    return ImageCommand(build, tuple(p[0] for p in parts), tuple((p[1], p[2]) for p in parts))


def image_invocation(service: Service):  # -> CeleryInvocation | None
    """The celery command the image runs, when the service sets no command of its own."""
    from vantage_lint.celery.command import find_celery

    command = image_command(service)
    if command is None:
        return None
    invocation = find_celery(list(command.parts), shell_string=False)
    if invocation is not None:
        invocation.image = command
    return invocation
