"""Writing files without ever leaving a half-written one behind."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace the file at ``path`` with ``data`` so that readers see the old file or the new
    one, never a mix: write a temporary file in the same folder, fsync it, give it the old
    file's mode (and owner, where permitted), rename it over the target and fsync the folder.

    A symbolic link is followed: its target is rewritten and the link stays a link. On any
    error the temporary file is removed, the original is left as it was, and the error is
    raised (an ``OSError`` naming the file).
    """
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OSError(f"{path}: not a regular file; not written")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)  # a buffered writer writes everything or raises
            handle.flush()
            os.fsync(handle.fileno())
        if info is not None:
            os.chmod(tmp, stat.S_IMODE(info.st_mode))
            _keep_owner(tmp, info)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _keep_owner(tmp: str, info: os.stat_result) -> None:
    """Give the new file the old file's owner and group when we may (root, or same user)."""
    if not hasattr(os, "chown"):
        return
    current = os.stat(tmp)
    if (current.st_uid, current.st_gid) == (info.st_uid, info.st_gid):
        return
    try:
        os.chown(tmp, info.st_uid, info.st_gid)
    except OSError:
        pass  # not permitted: the file keeps our ownership, as editors do


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; some systems cannot open a folder, which is fine."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_report(path: Path, text: str) -> None:
    """Write a report to ``-o PATH``: atomically for a regular (or new) file; straight into an
    existing pipe, terminal or device (``/dev/stdout``), which cannot be replaced by a rename."""
    import stat

    try:
        info = os.stat(path)
    except OSError:
        info = None
    # /dev/stdout and /proc/self/fd/N name an open descriptor (perhaps a file opened for
    # appending by the shell): write into it, never rename over what it points to.
    special = os.path.abspath(path).startswith(("/dev/", "/proc/"))
    if info is not None and (special or not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode)):
        # Append: reopening /proc/self/fd/1 with "w" would truncate a file the shell opened.
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
        return
    atomic_write_text(path, text)
