"""The file names ``docker compose`` looks for: default project files and their overrides."""

from __future__ import annotations

from pathlib import Path

from vantage_lint.source import is_file

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
