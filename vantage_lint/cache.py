"""A content-addressed cache of pure results, shared by runs (like ruff's or mypy's).

Only results that are a pure function of their key are stored: the key is a hash of the tool
version, a namespace and the complete input, so a changed file, a new release or another schema
simply misses. Each entry is one small JSON file written atomically; a damaged or unreadable
entry counts as a miss, and a read-only cache folder just means no caching.

Location: ``$VANTAGE_LINT_CACHE_DIR``, else ``$XDG_CACHE_HOME/vantage-lint``, else
``~/.cache/vantage-lint``. ``--no-cache`` or ``VANTAGE_LINT_NO_CACHE=1`` turns it off. Deleting
the folder is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from vantage_lint import __version__

_enabled: bool | None = None
_folder: Path | None = None


def configure(enabled: bool | None = None, folder: Path | None = None) -> None:
    """Override the environment: ``enabled=False`` turns caching off for this process."""
    global _enabled, _folder
    _enabled = enabled
    _folder = folder


def folder() -> Path | None:
    """The cache folder, or None when caching is off."""
    enabled = _enabled
    if enabled is None:
        enabled = os.environ.get("VANTAGE_LINT_NO_CACHE", "") in ("", "0")
    if not enabled:
        return None
    if _folder is not None:
        return _folder
    explicit = os.environ.get("VANTAGE_LINT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vantage-lint"


_tool_digest: str | None = None


def tool_digest() -> str:
    """The installed package's files by name, size and modification time: a release, an upgrade
    or an edited checkout (whose version number stays the same) is another tool."""
    global _tool_digest
    if _tool_digest is None:
        root = Path(__file__).resolve().parent
        rows = []
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".json", ".yaml")):
                    info = os.stat(os.path.join(folder, name))
                    rows.append(f"{os.path.relpath(os.path.join(folder, name), root)}:{info.st_size}:{info.st_mtime_ns}")
        _tool_digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return _tool_digest


def key(namespace: str, payload: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(f"{__version__}\0{namespace}\0".encode())
    digest.update(payload)
    return digest.hexdigest()


def _entry(digest: str) -> Path | None:
    root = folder()
    return None if root is None else root / digest[:2] / f"{digest[2:]}.json"


def get(digest: str) -> Any | None:
    path = _entry(digest)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def put(digest: str, value: Any) -> None:
    path = _entry(digest)
    if path is None:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if not path.parent.is_dir():
            # Private: entries hold findings about the user's files (messages are masked, but
            # paths and fix texts are the user's own business).
            os.makedirs(path.parent.parent, mode=0o700, exist_ok=True)
            path.parent.mkdir(mode=0o700, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(value, handle, separators=(",", ":"))
        os.replace(tmp, path)  # readers see the whole entry or none
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
