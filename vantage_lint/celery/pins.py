"""Whether a service's own build pins Celery below 5, read from its requirements files.

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


def pinned_below_5(service: Service) -> bool:
    """Do the service's build requirements allow no Celery 5 or later? (cached on the service)"""
    return service.memo("_celery_below_5", _read)


def _read(service: Service) -> bool:
    from vantage_lint.celery.app_locate import build_context

    context = build_context(service)
    if context is None or outside(context[1], service.project.directory):
        return False
    return any(_pins_below_5(service, path) for pattern in _PATTERNS for path in glob_paths(str(context[1] / pattern)))


def _pins_below_5(service: Service, path: Path) -> bool:
    """Whether the file's Celery requirement excludes every Celery 5 and later."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    if outside(path, service.project.directory):
        return False
    try:
        text = service.project.reader(path).text
    except (OSError, SourceError):
        return False
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
        # A bare `celery` allows every release; a range allows 5 if it admits any 5.x or later.
        return bool(str(requirement.specifier)) and not any(
            requirement.specifier.contains(Version(v), prereleases=True) for v in _CELERY_5_AND_LATER)
    return False


# Releases a range must exclude to pin Celery below 5: the first and last of each minor of 5,
# and a 6 to come (a range is an interval, so its ends tell).
_CELERY_5_AND_LATER = ("5.0.0", "5.0.6", "5.1.0", "5.1.2", "5.2.0", "5.2.7", "5.3.0", "5.3.6", "5.4.0", "5.5.0",
                       "5.5.3", "5.6.0", "6.0.0")
