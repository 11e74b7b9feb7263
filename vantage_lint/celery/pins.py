"""The Celery major version a service's own build pins, read from its requirements files.

vantage-lint checks `celery` command lines against Celery 5's (the table in
``data/celery-options.json``, generated from the installed Celery); it says nothing about an
older command line, so a service built here whose requirements pin Celery below 5 is not
judged by that table. The files read are the usual pip requirements files at the top of the
build context (``*requirements*.txt`` and ``requirements/*.txt``), through the source layer (so
the result cache sees them) and only inside the project folder; each line is parsed as a PEP
508 requirement by ``packaging``. Anything else (no build, no such file, a range that allows 5)
is "not pinned below 5".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from vantage_lint.boundary import outside
from vantage_lint.source import SourceError, glob_paths

if TYPE_CHECKING:
    from vantage_lint.compose.model import Service

_PATTERNS = ("*requirements*.txt", "requirements/*.txt")


def celery_major_pinned(service: Service) -> int | None:
    """The largest Celery major version the service's build requirements allow, when they
    allow no Celery 5 or later; None otherwise (cached on the service)."""
    return service.memo("_celery_major", _read)


def _read(service: Service) -> int | None:
    from vantage_lint.celery.app_locate import build_context

    context = build_context(service)
    if context is None or outside(context[1], service.project.directory):
        return None
    for pattern in _PATTERNS:
        for path in glob_paths(str(context[1] / pattern)):
            major = _pinned_major(service, path)
            if major is not None:
                return major
    return None


def _pinned_major(service: Service, path: Path) -> int | None:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    if outside(path, service.project.directory):
        return None
    try:
        text = service.project.reader(path).text
    except (OSError, SourceError):
        return None
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue  # comments, and pip options (-r, -e, --index-url)
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) != "celery":
            continue
        return _below_five(requirement.specifier)
    return None


def _below_five(specifier: object) -> int | None:
    """4 when no Celery 5 release satisfies ``specifier`` (``==4.3.0``, ``<5``, ``~=4.4``)."""
    from packaging.version import Version

    if not str(specifier):
        return None
    allowed = [v for v in ("5.0.0", "5.3.6", "5.4.0", "5.5.3", "5.6.0", "6.0.0")
               if specifier.contains(Version(v), prereleases=True)]  # type: ignore[attr-defined]
    if allowed:
        return None
    olds = [v for v in ("4.4.7", "4.3.0", "4.0.0", "3.1.26") if specifier.contains(Version(v), prereleases=True)]  # type: ignore[attr-defined]
    return int(olds[0].split(".")[0]) if olds else 4
