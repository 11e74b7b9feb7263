"""Writing files without ever leaving a half-written one behind."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path


class WriteRefused(OSError):
    """A file that could be written but must not be (read-only, hard-linked, metadata that the
    replacement cannot carry); the message says why."""


def atomic_write_bytes(path: Path, data: bytes, *, protect: bool = False) -> None:
    """Replace the file at ``path`` with ``data`` so that readers see the old file or the new
    one, never a mix: write a temporary file in the same folder, fsync it, give it the old
    file's mode, owner (where permitted) and extended attributes, rename it over the target and
    fsync the folder.

    A symbolic link is followed: its target is rewritten and the link stays a link. With
    ``protect`` (files the user asked us to fix) a file is refused, with
    :class:`WriteRefused`, when it is read-only (no write bit, or not writable by this user:
    root ignores modes, we do not), has other hard links (a rename would split them), or has
    an extended attribute the new file cannot be given. On any error, SIGTERM or SIGINT
    included, the temporary file is removed, the original is left as it was, and the error is
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
    if protect and info is not None:
        _check_writable(path, target, info)
    attributes = _xattrs(target) if info is not None else {}
    with _signals_raise(), _named(path):
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)  # a buffered writer writes everything or raises
                handle.flush()
                os.fsync(handle.fileno())
            if info is not None:
                os.chmod(tmp, stat.S_IMODE(info.st_mode))
                _keep_owner(tmp, info)
                _set_xattrs(path, tmp, attributes, strict=protect)
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


def _check_writable(shown: Path, target: Path, info: os.stat_result) -> None:
    mode = stat.S_IMODE(info.st_mode)
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
        raise WriteRefused(f"{shown} is read-only (mode {mode:04o}); not written")
    if info.st_nlink > 1:
        raise WriteRefused(f"{shown} has {info.st_nlink} hard links, which replacing it would split; not written")


def _xattrs(path: Path) -> dict[str, bytes]:
    """The file's extended attributes (ACLs, SELinux labels, user.*); {} where there are none
    or the system has no such thing."""
    if not hasattr(os, "listxattr"):
        return {}
    try:
        return {name: os.getxattr(path, name) for name in os.listxattr(path)}
    except OSError:
        return {}


def _set_xattrs(shown: Path, tmp: str, attributes: dict[str, bytes], *, strict: bool) -> None:
    for name, value in attributes.items():
        try:
            if os.getxattr(tmp, name) == value:
                continue  # set by the folder (a default ACL, an inherited label)
        except OSError:
            pass
        try:
            os.setxattr(tmp, name, value)
        except OSError:
            if strict:
                raise WriteRefused(f"{shown} has the extended attribute {name}, which the new file cannot be "
                                   "given; not written") from None


@contextlib.contextmanager
def _named(path: Path) -> Iterator[None]:
    """An error names the file the user asked for, never the temporary file beside it."""
    try:
        yield
    except WriteRefused:
        raise
    except OSError as exc:
        if exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from None


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """While a file is being replaced, SIGTERM raises like SIGINT does, so the cleanup above
    runs (the default action would end the process and leave the temporary file behind)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; the LSP writes nothing
        return

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
