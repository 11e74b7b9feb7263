"""VL204 against the real thing: each healthcheck form VL204 judges is run with redis-cli against
a password-protected redis-server, and VL204's verdict must match what really happens.

A healthcheck "works" when the command exits 0 and Redis answered PONG; VL204 must report an
error exactly for the forms that do not work (info findings are allowed on working forms).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import run

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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server and redis-cli are not installed (apt-get install redis-server)")
    folder = tmp_path_factory.mktemp("redis-server")
    port = _free_port()
    conf = folder / "redis.conf"
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\nrequirepass {PASSWORD}\nsave \"\"\nappendonly no\ndir {folder}\n"
    )
    process = subprocess.Popen(["redis-server", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        env = {**os.environ, "REDISCLI_AUTH": PASSWORD}
        for _ in range(100):
            probe = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, env=env)
            if probe.stdout.strip() == "PONG":
                break
            time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield port
    finally:
        process.terminate()  # by PID: only the server this fixture started
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _run_probe(test, env_auth: bool, port: int) -> tuple[int, str]:
    """Run the healthcheck command as Docker would, pointed at the test server."""
    env = {k: v for k, v in os.environ.items() if k != "REDISCLI_AUTH"}
    if env_auth:
        env["REDISCLI_AUTH"] = PASSWORD

    def local(text: str) -> str:
        return text.replace(f":{URL_PORT}", f":{port}")

    if isinstance(test, str) or test[0] == "CMD-SHELL":
        script = test if isinstance(test, str) else test[1]
        script = local(script).replace("redis-cli", f"redis-cli -p {port}")
        argv = ["sh", "-c", script]
    else:
        argv = [local(a) for a in test[1:]]
        argv[1:1] = ["-p", str(port)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=20)
    return done.returncode, done.stdout


def _verdict(tmp_path: Path, test, env_auth: bool) -> list:
    """VL204's findings for a compose project running this healthcheck against the same config."""
    (tmp_path / "redis.conf").write_text(f"requirepass {PASSWORD}\n")
    shown = test.replace("$", "$$") if isinstance(test, str) else [t.replace("$", "$$") for t in test]
    environment = f"    environment:\n      REDISCLI_AUTH: {PASSWORD}\n" if env_auth else ""
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n"
        "  redis:\n"
        "    image: redis:7.0\n"
        '    command: ["redis-server", "/usr/local/etc/redis/redis.conf"]\n'
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
    returncode, stdout = _run_probe(test, env_auth, server)
    works = returncode == 0 and "PONG" in stdout
    findings = _verdict(tmp_path, test, env_auth)
    errors = [f for f in findings if f.severity.label == "error"]
    assert bool(errors) == (not works), (
        f"{case_id}: redis-cli exit {returncode}, stdout {stdout.strip()!r}; "
        f"VL204 said {[(f.severity.label, f.message) for f in findings]}"
    )
