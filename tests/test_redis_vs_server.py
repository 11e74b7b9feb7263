"""VL005 against the real servers: every case in ``tests/redis_cases`` is started with
redis-server 7.0 and valkey-server 8.1, and VL005's verdict (starts or refuses) and line, judged
for that server and version, must be the same as the server's.

The case is copied to a short temporary folder with ``port 0`` and a unix socket appended after
its last line (so its line numbers do not move), redis-server runs there until it exits or opens
the socket (bounded), and is then killed by PID. Refusal = exit status 1 with
``FATAL CONFIG FILE ERROR``, ``Fatal error, can't open config file`` or the refusal of users next
to an aclfile; any other exit (a module config without its module, ACL rules checked after the
load) is not a config-file error.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.redis_servers import answers_ping, binaries, server_params
from tests.redis_servers import version as binary_version
from tests.test_redis_config import CASES_DIR, case_files, expectation
from vantage_lint.redis.config import parse_redis_config
from vantage_lint.source import read_source

pytestmark = pytest.mark.redis

STARTUP_SECONDS = 10.0  # an upper bound on a loaded machine; a server that starts returns at once
KINDS = server_params()
REFUSALS = ("FATAL CONFIG FILE ERROR", "Fatal error, can't open config file",
            # users in the file and an aclfile: exits after the load, before the ACL file is read
            "please define either an ACL file or declare users directly in your")


def _binary(kind: str) -> str:
    found = binaries(kind)
    assert found is not None
    return found[0]


def _run_server(case: Path, workdir: Path, kind: str = "redis") -> tuple[bool, int | None, str | None, str]:
    """(refused, line, line text, output) of redis-server started on a copy of ``case``."""
    shutil.copytree(CASES_DIR / "inc", workdir / "inc")
    data = case.read_bytes()
    if data and not data.endswith(b"\n"):
        data += b"\n"
    conf = workdir / case.name
    sock = workdir / "s.sock"
    conf.write_bytes(data + f"port 0\nunixsocket {sock}\n".encode())
    proc = subprocess.Popen(
        [_binary(kind), str(conf)], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while proc.poll() is None and not answers_ping(sock) and time.monotonic() < deadline:
            time.sleep(0.01)
        status = proc.poll()
    finally:
        if proc.poll() is None:
            proc.kill()
        output = proc.communicate(timeout=10)[0].decode("utf-8", "replace")
    assert status is not None or sock.exists(), f"redis-server neither started nor exited:\n{output}"
    refused = status == 1 and any(banner in output for banner in REFUSALS)
    match = re.search(r"at line (\d+)\n>>> '(.*)'\n", output)
    if not refused or match is None:
        return refused, None, None, output
    return refused, int(match.group(1)), match.group(2), output


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", case_files(), ids=lambda p: p.stem)
def test_verdict_matches_redis_server(case: Path, kind: str):
    workdir = Path(tempfile.mkdtemp(prefix="vl-"))  # short: a unix socket path has 108 bytes at most
    try:
        refused, line, line_text, output = _run_server(case, workdir, kind)
        conf = parse_redis_config(read_source(workdir / case.name, case.name), version=binary_version(kind),
                                  server=kind)
        errors = conf.problems
        assert bool(errors) == refused, (
            f"redis-server {'refused' if refused else 'accepted'} {case.name}, VL005 says "
            f"{[(f.span.path, f.span.line, f.message) for f in errors] or 'nothing'}\n"
            f"--- redis-server output:\n{output[-1500:]}"
        )
        if line is not None:
            first = errors[0]
            assert first.span.line == line, f"redis-server stopped at line {line}, VL005: {first.message}"
            where = f"{first.span.path}:{first.span.line}"
            assert _line_text(conf.files, first) == line_text, f"{where} is not `{line_text}`"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    # The case's declared expectation holds too: it is what the case is there to show.
    assert expectation(case, kind).error == refused, f"{case.name} declares {expectation(case, kind)}"


def _line_text(files, finding) -> str:
    """The finding's line as redis-server prints it: trimmed, a byte order mark included."""
    source = next(s for s in files if s.path == finding.span.path)
    text = source.line_text(finding.span.line).strip(" \t\r\n")
    return source.bom + text if finding.span.line == 1 else text


# Lines whose value redis-server reports back through CONFIG GET: string directives with no
# validation and no side effect at start-up, one tricky token each.
TOKEN_LINES = {
    "syslog-ident": 'abc"d e"',
    "ignore-warnings": r'"a\x41\tb\"c"',
    "masteruser": r"'it\'s'",
    "cluster-announce-ip": r'"a\\b\q"',
    "replica-announce-ip": r"'a\nb'",
    "bind-source-addr": '""',
    "cluster-config-file": "a\vb",
    "masterauth": r'"\x4"',
}


def _config_get(sock: Path, name: str) -> bytes:
    """CONFIG GET over the unix socket (RESP2), without redis-cli's output escaping."""
    import socket

    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(5)
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:  # the socket file appears at bind(), a moment before listen()
            try:
                conn.connect(str(sock))
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        payload = ["CONFIG", "GET", name]
        conn.sendall(b"*3\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(p), p.encode()) for p in payload))
        data = b""
        while data.count(b"\r\n") < 5:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    parts = data.split(b"\r\n")
    return parts[4]


@pytest.mark.parametrize("kind", KINDS)
def test_tokenizer_matches_redis_server(kind: str):
    from vantage_lint.redis.tokenizer import split_args

    workdir = Path(tempfile.mkdtemp(prefix="vl-"))
    sock = workdir / "s.sock"
    try:
        text = "".join(f"{name} {value}\n" for name, value in TOKEN_LINES.items())
        conf = workdir / "t.conf"
        conf.write_text(text + f"port 0\nunixsocket {sock}\n")
        proc = subprocess.Popen([_binary(kind), str(conf)], cwd=workdir, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while proc.poll() is None and not sock.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert sock.exists(), "redis-server did not start"
            for name, value in TOKEN_LINES.items():
                (token,) = split_args(value)
                assert _config_get(sock, name) == token.text.encode("latin-1"), (name, value)
        finally:
            proc.kill()
            proc.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


COMMAND_LINES = [
    ["--maxmemory", "256mb", "--appendonly", "yes"],
    ["--maxmemory", "1xb"],
    ["--bogus-option", "1"],
    ["--maxmemory", "1mb", "2mb"],
    ["--port", "--maxmemory"],          # a name alone takes the next --word as its value
    ["--save", "900", "1", "--save", "300", "10"],
    ["--save"],
    ["--save", "--appendonly", "yes"],
    ["--maxmemory 5mb"],                 # name and value in one word
    ["extra"],
    ["--save", "900"],
    ["--slaveof", "127.0.0.1", "6380"],
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("words", COMMAND_LINES, ids=lambda w: " ".join(w))
def test_command_line_verdict_matches_redis_server(words: list[str], kind: str):
    from vantage_lint.findings import Span
    from vantage_lint.redis.config import config_from_args

    workdir = Path(tempfile.mkdtemp(prefix="vl-"))
    sock = workdir / "s.sock"
    try:
        conf = workdir / "c.conf"
        conf.write_text(f"port 0\nunixsocket {sock}\n")
        proc = subprocess.Popen([_binary(kind), str(conf), *words], cwd=workdir, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while proc.poll() is None and not answers_ping(sock) and time.monotonic() < deadline:
                time.sleep(0.01)
            status = proc.poll()
        finally:
            if proc.poll() is None:
                proc.kill()
            output = proc.communicate(timeout=10)[0].decode("utf-8", "replace")
        refused = status == 1 and any(banner in output for banner in REFUSALS)
        base = parse_redis_config(read_source(conf, conf.name), version=binary_version(kind), server=kind)
        spans = [Span("docker-compose.yml", 1, i + 1, 1, i + 2) for i in range(len(words))]
        ours = config_from_args(words, spans, base).problems
        assert bool(ours) == refused, f"redis-server {'refused' if refused else 'accepted'}: {ours}\n{output[-800:]}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
