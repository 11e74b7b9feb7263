"""Running ``--show-compose``: the same targets and loading as a lint run, no rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vantage_lint.compose.project import load_project
from vantage_lint.compose.show import show_text


def show_compose_text(paths: list[str], settings: Any, inputs: Any, *, origins: bool = False) -> str:
    from vantage_lint.engine import _targets
    from vantage_lint.source import Reader

    reader = Reader(Path.cwd())
    targets = [t for t in _targets([Path(p) for p in paths], inputs, settings, None) if t.kind == "compose"]
    projects = [
        load_project(t.files, reader=reader, environ=inputs.environ, env_files=t.env_files,
                     project_directory=t.project_directory, profiles=inputs.profiles)
        for t in targets
    ]
    return show_text(projects, origins)
