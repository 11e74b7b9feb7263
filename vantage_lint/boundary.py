"""Which host files a linted file may make the linter open.

A linted file names other files: Compose ``include``, ``extends.file`` and ``env_file``, the
host side of a bind mount, a redis.conf ``include``. Those names come from whoever wrote the
file (on a pull request, anyone), so they are checked before anything is opened or even
stat'ed: a file outside the project folder, or inside a ``.git`` folder (where CI checkouts
keep their access token), is never read; a name no file system accepts (a NUL byte, a
component over 255 bytes) is a finding, not an exception.
"""

from __future__ import annotations

import os
from pathlib import Path

# NAME_MAX of Linux, macOS and Windows file systems alike.
MAX_NAME_BYTES = 255


def bad_path(text: str) -> str | None:
    """Why ``text`` cannot name a file (for the finding), or None when it can."""
    if "\x00" in text:
        return "contains a NUL byte"
    for part in text.replace("\\", "/").split("/"):
        size = len(part.encode("utf-8", "surrogateescape"))
        if size > MAX_NAME_BYTES:
            return f"has a name of {size:,} bytes, over the {MAX_NAME_BYTES}-byte limit of file systems"
    return None


def resolved(path: Path) -> Path | None:
    """``path`` made absolute with symbolic links followed; None when the name cannot exist."""
    if bad_path(str(path)) is not None:
        return None
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError, RuntimeError):
        return None


def outside(path: Path, root: Path | None) -> bool:
    """True when ``path`` (after following links) is not inside ``root``, or is inside a
    ``.git`` folder there. ``root`` None: no boundary (a file named on the command line)."""
    if root is None:
        return False
    real, base = resolved(path), resolved(root)
    if real is None or base is None:
        return True
    if not real.is_relative_to(base):
        return True
    return ".git" in real.relative_to(base).parts


# Probes of files the linted files name go through the source layer: they are recorded for
# the result cache and answer False for any name the system refuses (too long, NUL).
from vantage_lint.source import exists, is_file  # noqa: E402,F401  (re-exported)


OUTSIDE_HINT = "Keep the file inside the project folder (and out of .git), or lint the project it belongs to."
