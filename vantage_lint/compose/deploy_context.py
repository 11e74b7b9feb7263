"""Where a project is meant to run: ``production`` or ``development``, decided from evidence.

About half of the Compose files in open-source repositories are for local development
(``docker-compose.dev.yml``, devcontainers, "for local development" in a comment, the source
bind-mounted into a server started with ``--reload``). Production hardening reported there is
noise, so rules declare the contexts they report in and the engine asks this module which one a
project is in. A file named for deployment (``*.prod.yml``, ``deploy/``) always wins: what is
meant to be deployed stays fully checked. No evidence at all means production.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import TYPE_CHECKING, NamedTuple

from vantage_lint.lazyre import lazy

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service
    from vantage_lint.compose.project import Project
    from vantage_lint.source import SourceFile

# Words of a file or folder name (split at . - _) that say what the file is for.
DEVELOPMENT_WORDS = frozenset({"dev", "devel", "develop", "developer", "development", "local", "devcontainer"})
PRODUCTION_WORDS = frozenset({"prod", "production", "deploy", "deployment", "release", "staging", "stage",
                              "swarm", "stack"})
DEVCONTAINER_FOLDERS = frozenset({".devcontainer", "devcontainer"})
# A stack that only runs tests (end-to-end, CI, integration, mocks) is no deployment either: it
# is checked as development. "ci" is a whole word here, never a part of a longer one.
TEST_WORDS = frozenset({"test", "tests", "testing", "e2e", "ci", "integration", "mock", "mocks"})
# A demo is shown, not deployed: a file or folder whose name has the word (`flask_celery_demo/`).
DEMO_WORDS = frozenset({"demo", "demos"})
TEST_FOLDERS = frozenset({"test", "tests", "testing", "e2e", "integration", "integration-tests",
                          "integration_tests", ".github", ".gitlab", ".circleci", "ci"})
# Folder names that say the same, matched whole (a folder "local-llm" or a checkout named
# "my-dev-tools" says nothing about the files in it). A folder "local" is not one: tutor's
# templates/local/ is its single-server production deployment.
DEVELOPMENT_FOLDERS = frozenset({"dev", "develop", "development"})
PRODUCTION_FOLDERS = frozenset({"prod", "production", "deploy", "deployment", "staging", "release"})
_NAME_SPLIT = lazy(r"[._\-]+")
_YAML_SUFFIXES = frozenset({"yml", "yaml", "conf"})

# Comment wording that states a development purpose. Matched against the text of comment tokens
# only (never against YAML), after "not for production" style negations are looked at.
_DEV_COMMENT = lazy(
    r"\bfor local (?:development|dev|testing|use)\b"
    r"|\blocal development\b"
    r"|\b(?:this|the) (?:file|stack|setup|project|compose file|configuration|config|docker-compose(?:\.ya?ml)?)\b"
    r"[^.]{0,40}?\b(?:for|in) (?:local )?development\b"
    r"|\b(?:for )?development[ -]only\b|\bfor development purposes?\b|\bdev[ -]only\b"
    r"|\bnot (?:meant |intended |suitable |ready )?for production\b(?! (?:use )?without)"
    r"|\bdo(?: not|n'?t) use (?:this |it )?in production\b",
    re.IGNORECASE,
)
# A comment that tells the reader to change a setting ("Uncomment for local development",
# "set DEBUG=1 for local development") speaks of that setting, not of the file.
_ABOUT_A_SETTING = lazy(r"\b(?:un)?comment\b|\bcomment(?:ed)? out\b|\b(?:enable|disable|change|switch)\b|\bset\b",
                        re.IGNORECASE)
# Every wording above contains one of these: a cheap test before the regex and the scan.
_COMMENT_WORDS = ("development", "production", "dev only", "dev-only", "local dev", "for local")

# Words of a command that start a server which reloads on source changes.
_RELOAD_FLAGS = frozenset({"--reload", "--autoreload", "--auto-reload", "--debug", "--dev", "--watch"})
_RELOAD_PROGRAMS = frozenset({"runserver", "runserver_plus", "nodemon", "watchmedo", "air", "reflex"})
_DEV_SCRIPTS = frozenset({"dev", "start:dev", "watch", "serve"})
# Environment values that name a development setup.
# (Not *_MODE: STORAGE_MODE=local names a backend, not a development setup.)
_ENV_NAMES = lazy(r"^(?:[A-Z0-9]+_)?(?:ENV|ENVIRONMENT|STAGE)$")
_DEV_VALUES = frozenset({"dev", "develop", "development", "local"})
_DJANGO_DEV = lazy(r"\.(?:dev|local|development|develop)$")


class DeployContext(NamedTuple):
    """The context of one project and why: ``decided_by`` is ``evidence``, ``default`` (no
    evidence, so production), or ``configuration`` (``--context``, ``context:``, the preset)."""

    path: str
    context: str
    reason: str
    decided_by: str


def forced(path: str, context: str, why: str) -> DeployContext:
    return DeployContext(path, context, why, "configuration")


def decide(project: Project) -> DeployContext:
    """The context of a loaded Compose project."""
    main = project.main_path
    paths = list(dict.fromkeys([f.source.path for f in project.files]
                               + [p for p in project.sources if p.endswith((".yml", ".yaml"))]))
    named = _named(main, paths)
    if named is not None:
        return named
    for path in dict.fromkeys(paths):
        source = project.sources.get(path)
        if source is not None:
            line = development_comment(source)
            if line:
                return DeployContext(main, "development", f"a comment in {path}:{line} says it is for development",
                                     "evidence")
    for service in project.services.values():
        reason = _service_says_development(service)
        if reason:
            return DeployContext(main, "development", reason, "evidence")
    return DeployContext(main, "production", "no sign of a development setup", "default")


def decide_for_file(path: str) -> DeployContext:
    """The context of a redis.conf linted on its own: only its path can say."""
    named = _named(path, [path])
    return named or DeployContext(path, "production", "no sign of a development setup", "default")


def _named(main: str, paths: list[str]) -> DeployContext | None:
    """What the names say, most specific first: a file name for deployment, a file name for
    development or a devcontainer folder, then a folder named for deployment or development."""
    for path in paths:
        word = _file_word(path, PRODUCTION_WORDS)
        if word:
            return DeployContext(main, "production", f"{path} is named for deployment ({word!r})", "evidence")
    for path in paths:
        if any(part.lower() in DEVCONTAINER_FOLDERS for part in PurePath(path).parts[:-1]):
            return DeployContext(main, "development", f"{path} is in a devcontainer folder", "evidence")
        word = _file_word(path, DEVELOPMENT_WORDS)
        if word:
            return DeployContext(main, "development", f"{path} is named for development ({word!r})", "evidence")
        word = _file_word(path, TEST_WORDS)
        if word:
            return DeployContext(main, "development", f"{path} is named for tests ({word!r})", "evidence")
    for path in paths:
        folder = _folder_word(path, PRODUCTION_FOLDERS)
        if folder:
            return DeployContext(main, "production", f"{path} is in a folder named for deployment ({folder!r})",
                                 "evidence")
    for path in paths:
        folder = _folder_word(path, DEVELOPMENT_FOLDERS)
        if folder:
            return DeployContext(main, "development", f"{path} is in a folder named for development ({folder!r})",
                                 "evidence")
        folder = _folder_word(path, TEST_FOLDERS)
        if folder:
            return DeployContext(main, "development", f"{path} is in a folder of tests or CI ({folder!r})",
                                 "evidence")
        demo = _file_word(path, DEMO_WORDS) or _folder_word(path, DEMO_WORDS, split=True)
        if demo:
            return DeployContext(main, "development", f"{path} is named for a demo ({demo!r})", "evidence")
    return None


def _words(name: str) -> list[str]:
    parts = [w for w in _NAME_SPLIT.split(name.lower()) if w]
    if len(parts) > 1 and parts[-1] in _YAML_SUFFIXES:
        parts = parts[:-1]
    return parts


def _file_word(path: str, vocabulary: frozenset[str]) -> str | None:
    """A word of the file name (split at . - _) in ``vocabulary``."""
    return next((word for word in _words(PurePath(path).name) if word in vocabulary), None)


def _folder_word(path: str, folders: frozenset[str], *, split: bool = False) -> str | None:
    """The name of one of the two folders above the file when it is a whole word of ``folders``
    (with ``split``: a word of the name, split at . - _, is enough)."""
    parent = PurePath(path).parent
    for name in (parent.name, parent.parent.name):
        words = _NAME_SPLIT.split(name.lower()) if split else [name]
        found = next((w for w in words if w.lower() in folders), None)
        if found:
            return found
    return None


def development_comment(source: SourceFile) -> int | None:
    """The line of the first YAML comment stating a development purpose, read from the comment
    tokens of ruamel's round-trip scanner (``#`` inside quoted or block scalars is not a comment)."""
    lowered = source.text.lower()
    if "#" not in lowered or not any(word in lowered for word in _COMMENT_WORDS) or not _DEV_COMMENT.search(lowered):
        return None  # the common case: the wording is nowhere in the file, so no scan at all
    for first, token in _comment_tokens(source.text):
        # ruamel gathers consecutive comment lines in one token: each line is a remark of its own
        for offset, text in enumerate(token.split("\n")):
            if _DEV_COMMENT.search(text) and not _ABOUT_A_SETTING.search(text):
                return first + offset
    return None


def _comment_tokens(text: str) -> list[tuple[int, str]]:
    from ruamel.yaml import YAML
    from ruamel.yaml.tokens import CommentToken

    found: list[tuple[int, str]] = []

    def collect(value: object) -> None:
        if isinstance(value, CommentToken):
            found.append((value.start_mark.line + 1, value.value))
        elif isinstance(value, (list, tuple)):
            for item in value:
                collect(item)

    try:
        for token in YAML(typ="rt").scan(text):
            collect(getattr(token, "_comment", None))
    except Exception:  # any scanner failure: the loader reports the file (VL001); this is only evidence
        pass  # the comments read so far still count
    return found


def _service_says_development(service: Service) -> str | None:
    for name, var in service.environment.items():
        value = (var.value or "").strip().lower()
        if _ENV_NAMES.match(name) and value in _DEV_VALUES:
            return f"service {service.name!r} sets {name}={var.value}"
        if name == "DJANGO_SETTINGS_MODULE" and _DJANGO_DEV.search(value):
            return f"service {service.name!r} sets {name}={var.value}"
    reload = _reload_word(service)
    if reload is None:
        return None
    for mount in service.mounts:
        if mount.type == "bind" and mount.source and _is_source_folder(mount.source):
            return (f"service {service.name!r} bind-mounts the source ({mount.source} -> {mount.target}) "
                    f"and runs with {reload}")
    return None


def _reload_word(service: Service) -> str | None:
    from vantage_lint.shell import split_words

    words = [w.text for w in service.command_words]
    for text in list(words):
        if " " in text or "\n" in text:  # an sh -c script: its words too
            words.extend(w.text for w in split_words(text, 0))
    for index, word in enumerate(words):
        if word in _RELOAD_FLAGS or word in _RELOAD_PROGRAMS:
            return word
        if word == "run" and index + 1 < len(words) and words[index + 1] in _DEV_SCRIPTS and index > 0 \
                and words[index - 1] in ("npm", "yarn", "pnpm"):
            return f"{words[index - 1]} run {words[index + 1]}"
    return None


def _is_source_folder(source: str) -> bool:
    """A relative host path that is a folder of the checkout (``.``, ``./src``, ``..``), not a
    single file like ``./nginx.conf``."""
    if not source.startswith(".") or source.startswith("..."):
        return False  # absolute host paths and ~ are the machine's, not the checkout's
    last = PurePath(source).name
    return source in (".", "..", "./") or "." not in last or last.startswith(".")
