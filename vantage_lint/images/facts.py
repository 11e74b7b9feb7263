"""Who a service's process runs as and whether its image declares a HEALTHCHECK, from the known
images table and the service's Dockerfile, with the evidence for each answer.

Every answer is yes, no or "unknown": the linter cannot tell (an image it does not know, a
Dockerfile it cannot read, a USER whose variable has no value here, an entrypoint script it
cannot find that may switch user). Rules then say so at info, or stay quiet, and never conclude.
A service with neither image nor build (a fragment another ``-f`` file completes) is "absent".
The Compose ``user:`` key is the rules' business; this module answers for the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from vantage_lint.compose.model import parse_image
from vantage_lint.compose.unknown import has_unknown, names_in
from vantage_lint.images.build import Build, service_build
from vantage_lint.images.known import KnownImage, known_images, lookup
from vantage_lint.images.scripts import SWITCHERS, entrypoint_script
from vantage_lint.shell import SHELLS, basename, split_words

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service
    from vantage_lint.images.dockerfile import Command, Stage

ROOT, NON_ROOT, UNKNOWN = "root", "non-root", "unknown"
# Neither image nor build: a fragment completed by another -f file; nothing to judge or to say.
ABSENT = "absent"
DECLARED, NONE = "declared", "none"

# Entrypoint programs that are not scripts of the project: interpreters, servers and init
# shims. Any other entrypoint is taken for a script, which may switch user before it execs.
_INTERPRETERS = frozenset({"python", "python3", "node", "java", "ruby", "perl", "php", "dotnet", "uwsgi",
                           "gunicorn", "uvicorn", "celery", "nginx", "tini", "dumb-init", "/bin/tini"})


@dataclass(frozen=True, slots=True)
class Fact:
    state: str        # ROOT / NON_ROOT / UNKNOWN, or DECLARED / NONE / UNKNOWN; or ABSENT
    reason: str       # the evidence, as a clause: "api/Dockerfile:12 sets USER app"
    # NON_ROOT because the entrypoint drops root when it starts as uid 0: still true when
    # Compose sets user: root (the entrypoint checks `id -u`, not how uid 0 was chosen).
    by_entrypoint: bool = False


def _is_root_name(user: str) -> bool:
    return user.split(":", 1)[0].strip() in ("0", "root")


def _first_word(command: Command | None) -> str | None:
    if command is None or not command.words:
        return None
    if command.exec_form:
        return command.words[0]
    return "/bin/sh"  # shell form: the image runs /bin/sh -c "<string>"


def _compose_first(service: Service, key: str) -> tuple[bool, str | None]:
    """(written, first word) of the service's ``command`` or ``entrypoint``."""
    parts, _nodes, as_string = service.argv_parts(key)
    if service.get(key) is None:
        return False, None
    if not parts:
        return True, None
    texts = [w.text for w in split_words(parts[0])] if as_string else parts
    if not texts:
        return True, None
    # `sh /redis-conf.sh`: the script is what runs; `sh -c "..."` stays the shell.
    if key == "entrypoint" and basename(texts[0]) in SHELLS and len(texts) > 1 and not texts[1].startswith("-"):
        return True, texts[1]
    return True, texts[0]


def _written_words(service: Service) -> list[str]:
    """Every word of ``entrypoint`` and ``command``, with the script of a ``sh -c`` split too."""
    words: list[str] = []
    for key in ("entrypoint", "command"):
        parts, _nodes, as_string = service.argv_parts(key)
        texts = [w.text for w in split_words(parts[0])] if as_string and parts else list(parts)
        for text in texts:
            words.append(text)
            if any(c.isspace() for c in text):
                words.extend(w.text for w in split_words(text))
    return words


def _switched_by_command(service: Service, fact: Fact) -> Fact:
    """A root verdict revised by what the Compose command itself runs: ``gosu app ...`` drops
    root; a hand-over to the image's ``docker-entrypoint.sh`` may."""
    if fact.state != ROOT:
        return fact
    names = [basename(w) for w in _written_words(service)]
    for name in names:
        if name in SWITCHERS:
            return Fact(NON_ROOT, f"its command switches user with {name}")
    if "docker-entrypoint.sh" in names:
        return Fact(UNKNOWN, "its command hands over to the image's docker-entrypoint.sh, which may switch user")
    return fact


def _may_switch_user(program: str | None) -> bool:
    """A program that is not a known interpreter or server: an entrypoint script, which may
    run gosu/su-exec before the real process."""
    if program is None:
        return False
    name = basename(program)
    return name not in _INTERPRETERS and name not in SHELLS and name not in _servers() and not name.startswith("python")


@lru_cache(maxsize=1)
def _servers() -> frozenset[str]:
    """The server programs of the known images (``redis-server``, ``postgres``...)."""
    return frozenset(n for entry in known_images() for n in entry.when)


def _script_fact(service: Service, build: Build | None, chain: list[Stage], program: str, started: str) -> Fact:
    """The user after an entrypoint script that the linter may find in the build context.
    ``started``: the clause saying the process starts as root."""
    verdict = entrypoint_script(service, build, chain, program)
    if verdict is None:
        return Fact(UNKNOWN, f"{started}, but its entrypoint {program} may switch user")
    if verdict.switches is None:
        return Fact(UNKNOWN, f"{started}, and its entrypoint {program} hands over to the image's "
                             f"docker-entrypoint.sh ({verdict.where}), which may switch user")
    if verdict.switches:
        return Fact(NON_ROOT, f"its entrypoint {program} switches user with {verdict.word} ({verdict.where})")
    return Fact(ROOT, f"{started}, and its entrypoint {program} ({verdict.where}) does not switch user")


def _known_user(entry: KnownImage, image: str, service: Service, dockerfile_entrypoint: Command | None,
                dockerfile_cmd: Command | None, via: str, build: Build | None = None,
                chain: list[Stage] | None = None) -> Fact:
    """The user of a process started from the known image ``entry`` (``via``: how the service
    gets to it, e.g. "the image postgres:16" or "base image postgres:16 of api/Dockerfile")."""
    if entry.user_kind == "user":
        return Fact(NON_ROOT, f"{via} runs as {entry.user_to} (USER in its Dockerfile, {entry.repo})")
    entry_written, entry_first = _compose_first(service, "entrypoint")
    if entry.user_kind == "root":
        program = entry_first if entry_written else _first_word(dockerfile_entrypoint)
        if _may_switch_user(program):
            assert program is not None
            return _script_fact(service, build, chain or [], program, f"{via} sets no USER ({entry.repo})")
        return Fact(ROOT, f"{via} sets no USER ({entry.repo})")
    # "drops": the image's own entrypoint decides, unless something replaced it.
    if entry_written and has_unknown(entry_first):
        return Fact(UNKNOWN, f"its entrypoint starts with {entry_first}, which the deployment supplies, and "
                             f"the entrypoint of {via} would switch to {entry.user_to}")
    if entry_written and basename(entry_first or "") != "docker-entrypoint.sh":
        replaced = f"its entrypoint: replaces the entrypoint of {via}, which would switch to {entry.user_to}"
        if _may_switch_user(entry_first):
            assert entry_first is not None
            return _script_fact(service, build, chain or [], entry_first, replaced)
        return Fact(ROOT, replaced)
    if dockerfile_entrypoint is not None:
        program = _first_word(dockerfile_entrypoint)
        if _may_switch_user(program):
            assert program is not None
            return _script_fact(service, build, chain or [], program,
                                f"its Dockerfile's ENTRYPOINT replaces the entrypoint of {via}")
        return Fact(ROOT, f"its Dockerfile's ENTRYPOINT replaces the entrypoint of {via}, which would switch "
                          f"to {entry.user_to}")
    written, first = _compose_first(service, "command")
    if not written and dockerfile_cmd is not None:
        first = _first_word(dockerfile_cmd)
        written = True
    if written and has_unknown(first):
        return Fact(UNKNOWN, f"the entrypoint of {via} switches to {entry.user_to} only when the command starts "
                             f"with {entry.trigger}, and this command starts with {first}, which the deployment supplies")
    if not written or entry.drops_for(first):
        how = "" if not written else f" because the command starts with {first}"
        return Fact(NON_ROOT, f"the entrypoint of {via} switches to {entry.user_to}{how} ({entry.repo})",
                    by_entrypoint=True)
    return Fact(ROOT, f'the entrypoint of {via} switches to {entry.user_to} only when the command starts with '
                      f'{entry.trigger}, and this command starts with "{first}"')


def reason_depends(service: Service, reason: str) -> tuple[str, ...]:
    """The variables the deployment supplies that an unknown fact's ``reason`` names, except one
    that only sets the image's tag: the image tables go by name, so a tag changes nothing."""
    image = service.image
    tag_only: set[str] = set()
    if image is not None:
        tag_only = set(names_in([image.tag, image.digest])) - set(names_in([image.registry, image.repository]))
    return tuple(name for name in names_in([reason]) if name not in tag_only)


def image_user(service: Service) -> Fact:
    """Who the service's process runs as when Compose sets no ``user:`` (cached)."""
    cached = service.__dict__.get("_image_user")
    if cached is None:
        cached = _switched_by_command(service, _image_user(service))
        service.__dict__["_image_user"] = cached
    return cached


def _image_user(service: Service) -> Fact:
    build = service_build(service)
    if build is not None:
        return _build_user(service, build)
    image = service.image
    if image is None:
        return Fact(ABSENT, "it names no image")
    entry = lookup(image)
    if entry is None:
        return Fact(UNKNOWN, f"image {image.raw} is not in its table of known images")
    return _known_user(entry, image.raw, service, None, None, f"the image {image.raw}")


def _build_user(service: Service, build: Build) -> Fact:
    if build.unreadable or build.dockerfile is None or build.stage is None:
        return Fact(UNKNOWN, build.unreadable or f"{build.shown} was not read")
    chain = build.dockerfile.chain(build.stage)
    entrypoint = next((s.entrypoint for s in chain if s.entrypoint is not None), None)
    cmd = None
    for stage in chain:
        if stage.cmd is not None or stage.cmd_reset:
            cmd = stage.cmd
            break
    for stage in chain:
        if stage.user is None:
            continue
        where = build.where(stage.user_line)
        if stage.user == "":
            return Fact(UNKNOWN, f"{where} sets USER {stage.user_raw}, whose value is not known here")
        if _is_root_name(stage.user):
            program = _first_word(entrypoint) if service.get("entrypoint") is None else \
                _compose_first(service, "entrypoint")[1]
            if _may_switch_user(program):
                assert program is not None
                return _script_fact(service, build, chain, program, f"{where} sets USER {stage.user}")
            return Fact(ROOT, f"{where} sets USER {stage.user}")
        return Fact(NON_ROOT, f"{where} sets USER {stage.user}")
    base = chain[-1].base
    if base is None:
        return Fact(UNKNOWN, f"{build.where(chain[-1].line)} builds FROM an image whose name is not known here")
    if base.lower() == "scratch":
        return Fact(ROOT, f"{build.shown} builds FROM scratch and sets no USER")
    entry = lookup(parse_image(base))
    if entry is None:
        return Fact(UNKNOWN, f"{build.shown} sets no USER and builds on {base}, which is not in its table of "
                             "known images")
    return _known_user(entry, base, service, entrypoint, cmd, f"base image {base} of {build.shown}", build, chain)


def image_healthcheck(service: Service) -> Fact:
    """Whether the service's image (or Dockerfile) declares a HEALTHCHECK (cached)."""
    cached = service.__dict__.get("_image_health")
    if cached is None:
        cached = _image_healthcheck(service)
        service.__dict__["_image_health"] = cached
    return cached


def _image_healthcheck(service: Service) -> Fact:
    build = service_build(service)
    if build is not None:
        if build.unreadable or build.dockerfile is None or build.stage is None:
            return Fact(UNKNOWN, build.unreadable or f"{build.shown} was not read")
        chain = build.dockerfile.chain(build.stage)
        for stage in chain:
            if stage.healthcheck == "cmd":
                return Fact(DECLARED, f"{build.where(stage.healthcheck_line)} declares a HEALTHCHECK")
            if stage.healthcheck == "none":
                return Fact(NONE, f"{build.where(stage.healthcheck_line)} sets HEALTHCHECK NONE")
        base = chain[-1].base
        if base is None:
            return Fact(UNKNOWN, f"{build.shown} builds FROM an image whose name is not known here")
        if base.lower() == "scratch":
            return Fact(NONE, f"{build.shown} declares no HEALTHCHECK")
        entry = lookup(parse_image(base))
        if entry is None:
            return Fact(UNKNOWN, f"{build.shown} declares no HEALTHCHECK and builds on {base}, which is not in "
                                 "its table of known images")
        if entry.healthcheck:
            return Fact(DECLARED, f"its base image {base} declares a HEALTHCHECK ({entry.repo})")
        return Fact(NONE, f"neither {build.shown} nor its base image {base} declares a HEALTHCHECK")
    image = service.image
    if image is None:
        return Fact(ABSENT, "it names no image")
    entry = lookup(image)
    if entry is None:
        return Fact(UNKNOWN, f"image {image.raw} is not in its table of known images")
    if entry.healthcheck:
        return Fact(DECLARED, f"image {image.raw} declares a HEALTHCHECK ({entry.repo})")
    return Fact(NONE, f"image {image.raw} declares no HEALTHCHECK")
