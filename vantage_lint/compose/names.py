"""The file names ``docker compose`` looks for: default project files and their overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from vantage_lint.source import is_file

# Repositories often ship only a template of their .env; its values are what the authors
# expect, so without a .env the template stands in (docker compose itself reads only .env;
# compose.project._default_env_file).
ENV_TEMPLATES = (".env.example", ".env.sample", ".env.dist", ".env.template", "env.example", "env.sample",
                 "env.template", "env.dist", "example.env")
DEFAULT_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
# compose-go takes the first of these beside a default-named file, whatever its extension.
DEFAULT_OVERRIDE_FILES = (
    "compose.override.yml", "compose.override.yaml", "docker-compose.override.yml", "docker-compose.override.yaml",
)


def override_file_for(base: Path) -> Path | None:
    """The override file Compose layers over ``base``: for a default-named base the first
    existing default override name (any extension, as compose-go), else ``STEM.override.EXT``."""
    if base.name in DEFAULT_FILES:
        for name in DEFAULT_OVERRIDE_FILES:
            if is_file(base.parent / name):
                return base.parent / name
        return None
    candidate = base.with_name(f"{base.stem}.override{base.suffix}")
    return candidate if is_file(candidate) else None


def default_files(directory: Path) -> list[Path]:
    """The files ``docker compose`` picks in ``directory``: the first default name plus its override."""
    for name in DEFAULT_FILES:
        path = directory / name
        if is_file(path):
            override = override_file_for(path)
            return [path] + ([override] if override else [])
    return []


def project_files(directory: Path, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The files ``docker compose`` (no ``-f``) uses in ``directory``: ``COMPOSE_FILE`` from the
    environment, else from ``directory/.env``, split on ``COMPOSE_PATH_SEPARATOR`` (default
    ``:``) and relative to ``directory``; else the default name and its override."""
    environ = os.environ if environ is None else environ
    names = environ.get("COMPOSE_FILE")
    separator = environ.get("COMPOSE_PATH_SEPARATOR")
    dotenv = directory / ".env"
    if (names is None or separator is None) and dotenv.is_file():
        from vantage_lint.compose.dotenv import parse_dotenv
        from vantage_lint.source import SourceError, read_source

        try:  # the bounded reader: a regular file under the size limit, never a FIFO
            entries, _issues = parse_dotenv(read_source(dotenv, str(dotenv)).text, dict(environ))
        except (OSError, SourceError):
            entries = []
        values = {e.name: e.value for e in entries}
        names = names if names is not None else values.get("COMPOSE_FILE")
        separator = separator if separator is not None else values.get("COMPOSE_PATH_SEPARATOR")
    if names:
        return [directory / name for name in names.split(separator or os.pathsep) if name]
    return default_files(directory)
