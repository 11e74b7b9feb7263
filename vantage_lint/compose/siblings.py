"""Compose files beside a project's own that define what it lacks.

Repositories often split a stack into a base and files meant to be layered over it: nautobot's
``development/docker-compose.yml`` depends on a ``db`` that only ``docker-compose.postgres.yml``
(or ``.mysql.yml``) beside it defines, and its tooling runs ``-f`` with both. Alone, Compose
refuses the base ("depends on undefined service"); with its sibling it is whole. The siblings
are found with a wildcard in the base's folder, read through the project's reader (so the
result cache sees them) and parsed as YAML: only their top-level ``services`` keys are used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vantage_lint.source import SourceError, glob_paths

if TYPE_CHECKING:
    from vantage_lint.compose.project import Project

_PATTERNS = ("*compose*.yml", "*compose*.yaml")
_MAX_SIBLINGS = 40  # a folder of generated files: not worth parsing them all


def sibling_defining(project: Project, service: str) -> str | None:
    """The name of a Compose file beside the project's first file (not one of its own files)
    whose ``services`` define ``service``; None when there is none."""
    if not project.files or project.files[0].source.real_path is None:
        return None
    first = project.files[0].source.real_path
    own = {f.source.real_path for f in project.files}
    candidates = sorted({p for pattern in _PATTERNS for p in glob_paths(str(first.parent / pattern))})
    for path in candidates[:_MAX_SIBLINGS]:
        if path.resolve() in own or path in own:
            continue
        if service in _service_names(project, path):
            return path.name
    return None


def _service_names(project: Project, path: Path) -> set[str]:
    from vantage_lint.compose.yaml_loader import service_names

    try:
        return service_names(project.reader(path)) or set()
    except (OSError, SourceError):
        return set()
