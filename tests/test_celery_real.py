"""The Celery rules' claims, checked against real Celery, kombu and Flower (and a local redis-server).

Each test makes the real software show the behaviour a rule's message states, then lints the
Compose form of the same setup and checks the rule's verdict. Servers listen on 127.0.0.1 on a
free port, every process is stopped by its PID, and every wait has a short timeout.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import run
from vantage_lint.findings import Severity

pytestmark = pytest.mark.celery
celery = pytest.importorskip("celery")

TASKS = '''
import os, time
from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded

app = Celery("tasks", broker=os.environ["BROKER"], backend=os.environ["BROKER"])
app.conf.broker_connection_retry_on_startup = True

@app.task(name="tasks.pid")
def pid():
    return os.getpid()

@app.task(name="tasks.slow")
def slow(seconds, marker):
    try:
        time.sleep(seconds)
    except SoftTimeLimitExceeded:
        open(marker + ".soft", "w").close()
        time.sleep(1)                   # the cleanup the soft limit exists for
        open(marker + ".cleaned", "w").close()
'''
QUIET = ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """Stop a process this module started, by its PID."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start_redis(folder: Path, extra: str = "") -> tuple[subprocess.Popen, int]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    conf = folder / f"redis-{port}.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndir {folder}\n{extra}")
    process = subprocess.Popen(["redis-server", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, port
        except OSError:
            time.sleep(0.05)
    _stop(process)
    pytest.fail("redis-server did not start")


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory):
    process, port = _start_redis(tmp_path_factory.mktemp("redis"))
    yield port
    _stop(process)


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "tasks.py").write_text(TASKS)
    return tmp_path


def _worker_env(port: int, app_dir: Path, password: str = "") -> dict[str, str]:
    auth = f":{password}@" if password else ""
    return {**os.environ, "BROKER": f"redis://{auth}127.0.0.1:{port}/0", "PYTHONPATH": str(app_dir)}


def _wait_for(path: Path, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return _comm(pid) != ""


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _lint(tmp_path: Path, compose: str, code: str):
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    (folder / "compose.yaml").write_text(compose)
    return [f for f in run([folder], select=[code]).findings if f.code == code]


# --- VL319: who receives the stop signal ------------------------------------------------------

@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_vl319_dash_keeps_the_shell_as_the_signalled_process_bash_execs(shell, redis_port, app_dir, tmp_path):
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    log = tmp_path / "worker.log"
    command = (f"cd {app_dir} && {sys.executable} -m celery -A tasks worker --pool=solo "
               f"{' '.join(QUIET)} --logfile={log}")
    out = (tmp_path / "out").open("w")
    process = subprocess.Popen([shell, "-c", command], env=_worker_env(redis_port, app_dir),
                               stdout=out, stderr=subprocess.STDOUT)
    orphans: list[int] = []
    try:
        assert _wait_for(log, "ready", 30), log.read_text() if log.exists() else "no log"
        if shell == "sh":      # dash (Debian's /bin/sh): the shell stays, the worker is its child
            assert _comm(process.pid) in ("sh", "dash")
            orphans = _children(process.pid)
            assert orphans and all(_alive(p) for p in orphans)
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
            time.sleep(1.0)
            assert all(_alive(p) for p in orphans), "the worker got the shell's SIGTERM"
            assert "Warm shutdown" not in (tmp_path / "out").read_text()
        else:                  # bash replaced itself with the worker: it gets SIGTERM itself
            assert _comm(process.pid) not in ("bash", "sh")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
            assert "Warm shutdown" in (tmp_path / "out").read_text()
    finally:
        for pid in orphans:
            if _alive(pid):
                os.kill(pid, signal.SIGTERM)
        _stop(process)
        out.close()
        for pid in orphans:
            deadline = time.monotonic() + 10
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
    findings = _lint(tmp_path, f'services:\n  worker:\n    image: myapp:1.4.2\n'
                               f'    command: {shell} -c "cd /app && celery -A tasks worker"\n', "VL319")
    assert bool(findings) == (shell == "sh")


def test_vl319_sigquit_is_a_cold_shutdown(redis_port, app_dir, tmp_path):
    log = tmp_path / "worker.log"
    marker = tmp_path / "task"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool=prefork", "-c", "1", *QUIET,
         f"--logfile={log}"], cwd=app_dir, env=_worker_env(redis_port, app_dir),
        stdout=(tmp_path / "out").open("w"), stderr=subprocess.STDOUT)
    try:
        assert _wait_for(log, "ready", 30)
        app = celery.Celery("client", broker=f"redis://127.0.0.1:{redis_port}/0")
        app.send_task("tasks.slow", args=[3, str(marker)])
        assert _wait_for(log, "Task tasks.slow", 10) or _wait_for(log, "received", 5)
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=30)  # generous under load; "succeeded" below tells cold from warm
        assert "cold shutdown" in (tmp_path / "out").read_text().lower()
        assert "succeeded" not in log.read_text()
    finally:
        _stop(process)
    findings = _lint(tmp_path, "services:\n  worker:\n    image: myapp:1.4.2\n"
                               "    command: celery -A tasks worker\n    stop_signal: SIGQUIT\n", "VL319")
    assert findings and "cold shutdown" in findings[0].message


# --- VL307: the hard timer starts when the soft one fires --------------------------------------

def test_vl307_soft_above_hard_raises_soft_then_kills_at_once(redis_port, app_dir, tmp_path):
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool=prefork", "-c", "1", *QUIET,
         f"--logfile={log}"], cwd=app_dir, env=_worker_env(redis_port, app_dir),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_for(log, "ready", 30)
        app = celery.Celery("client", broker=f"redis://127.0.0.1:{redis_port}/0")
        inverted, ordered = tmp_path / "inverted", tmp_path / "ordered"
        # soft 2 s, hard 1 s: nothing at 1 s; SoftTimeLimitExceeded at 2 s, then an immediate kill.
        started = time.monotonic()
        app.send_task("tasks.slow", args=[10, str(inverted)], soft_time_limit=2, time_limit=1)
        assert _wait_for(Path(str(inverted) + ".soft"), "", 15)
        assert time.monotonic() - started >= 1.5
        assert _wait_for(log, "Hard time limit", 10)
        assert not Path(str(inverted) + ".cleaned").exists()
        # soft 1 s, hard 4 s: the cleanup runs in the 3 s between them.
        app.send_task("tasks.slow", args=[10, str(ordered)], soft_time_limit=1, time_limit=4)
        assert _wait_for(Path(str(ordered) + ".cleaned"), "", 20)
    finally:
        _stop(process)
    findings = _lint(tmp_path, "services:\n  worker:\n    image: myapp:1.4.2\n"
                               "    command: celery -A tasks worker --soft-time-limit=2 --time-limit=1\n", "VL307")
    assert findings and "hard timer starts only when the soft one fires" in findings[0].message


# --- VL205: a worker without the password retries, it does not exit ----------------------------

def test_vl205_worker_without_password_retries_forever(app_dir, tmp_path):
    server, port = _start_redis(tmp_path, "requirepass Zq7vN2pXc4Lr9TbW8yKd\n")
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool=solo", *QUIET, f"--logfile={log}"],
        cwd=app_dir, env=_worker_env(port, app_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_for(log, "Trying again", 20), log.read_text() if log.exists() else ""
        assert "uthentication" in log.read_text()
        time.sleep(2)
        assert process.poll() is None, "the worker exited"
    finally:
        _stop(process)
        _stop(server)


# --- VL321: URLs kombu and Celery refuse or weaken ------------------------------------------

def test_vl321_kombu_rejects_query_parameters_on_the_broker_url(tmp_path):
    app = celery.Celery("t", broker="redis://127.0.0.1:1/0?visibility_timeout=7200")
    with pytest.raises(TypeError, match="visibility_timeout"):
        app.connection_for_write()
    fine = celery.Celery("t", broker="redis://127.0.0.1:1/0?ssl_cert_reqs=required")
    fine.connection_for_write()
    findings = _lint(tmp_path, "services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A t worker\n"
                               "    environment:\n      CELERY_BROKER_URL: redis://redis:6379/0?visibility_timeout=7200\n",
                     "VL321")
    assert findings and findings[0].severity is Severity.ERROR


def test_vl321_rediss_backend_without_cert_reqs_raises_broker_skips_checks(tmp_path):
    pytest.importorskip("redis")
    app = celery.Celery("t", broker="rediss://127.0.0.1:1/0", backend="rediss://127.0.0.1:1/1")
    with pytest.raises(ValueError, match="ssl_cert_reqs"):
        app.backend  # noqa: B018 - constructing the backend is what raises
    import ssl
    assert app.connection_for_write().ssl == {"ssl_cert_reqs": ssl.CERT_NONE}
    findings = _lint(tmp_path, "services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A t worker\n"
                               "    environment:\n      CELERY_BROKER_URL: rediss://redis:6380/0\n"
                               "      CELERY_RESULT_BACKEND: rediss://redis:6380/1\n", "VL321")
    assert sorted(f.severity.name for f in findings) == ["ERROR", "WARNING"]


# --- VL320: options the pool ignores ----------------------------------------------------------

def _worker(app_dir: Path, port: int, tmp_path: Path, *flags: str) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", *flags, *QUIET, f"--logfile={log}"],
        cwd=app_dir, env=_worker_env(port, app_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not _wait_for(log, "ready", 30):
        _stop(process)
        pytest.fail("the worker did not start")
    return process, log


def _client(port: int):
    url = f"redis://127.0.0.1:{port}/0"
    return celery.Celery("client", broker=url, backend=url)


def test_vl320_tiny_max_memory_per_child_forks_a_child_per_task(redis_port, app_dir, tmp_path):
    process, _ = _worker(app_dir, redis_port, tmp_path, "--pool=prefork", "-c", "1", "--max-memory-per-child=512")
    try:
        app = _client(redis_port)
        pids = [app.send_task("tasks.pid").get(timeout=20) for _ in range(3)]
    finally:
        _stop(process)
    assert len(set(pids)) == 3, pids
    findings = _lint(tmp_path, "services:\n  worker:\n    image: myapp:1.4.2\n"
                               "    command: celery -A tasks worker --max-memory-per-child=512\n", "VL320")
    assert findings


def test_vl320_threads_pool_ignores_the_time_limit(redis_port, app_dir, tmp_path):
    process, log = _worker(app_dir, redis_port, tmp_path, "--pool=threads", "-c", "2", "--time-limit=1")
    marker = tmp_path / "task"
    try:
        result = _client(redis_port).send_task("tasks.slow", args=[2.5, str(marker)])
        result.get(timeout=20)      # ran its 2.5 s past the 1 s "limit"
        assert result.successful()
        assert not Path(str(marker) + ".soft").exists()
    finally:
        _stop(process)
    findings = _lint(tmp_path, "services:\n  worker:\n    image: myapp:1.4.2\n"
                               "    command: celery -A tasks worker -P threads --time-limit=1\n", "VL320")
    assert findings


# --- VL322: C_FORCE_ROOT ----------------------------------------------------------------------

@pytest.mark.parametrize("value", [None, "false", "1"])
def test_vl322_any_non_empty_c_force_root_lets_root_run_pickle(value, monkeypatch, tmp_path):
    from celery import platforms
    from celery.exceptions import SecurityError

    for name in ("getuid", "geteuid"):
        monkeypatch.setattr(platforms.os, name, lambda: 0)     # as root, without being root
    if value is None:
        monkeypatch.delenv("C_FORCE_ROOT", raising=False)
        with pytest.raises(SecurityError):
            platforms.check_privileges({"pickle"})
    else:
        monkeypatch.setenv("C_FORCE_ROOT", value)
        with pytest.warns(Warning):
            platforms.check_privileges({"pickle"})
        env = f"    environment:\n      C_FORCE_ROOT: '{value}'\n"
        findings = _lint(tmp_path, "services:\n  worker:\n    image: myapp:1.4.2\n"
                                   "    command: celery -A tasks worker\n" + env, "VL322")
        assert findings


# --- VL326: one app, two Redis databases -------------------------------------------------------

def test_vl326_a_task_sent_on_another_database_is_never_consumed(redis_port, app_dir, tmp_path):
    import redis

    process, log = _worker(app_dir, redis_port, tmp_path, "--pool=solo")
    try:
        other = celery.Celery("beat", broker=f"redis://127.0.0.1:{redis_port}/1")
        other.send_task("tasks.pid")
        time.sleep(3)
        assert redis.Redis(port=redis_port, db=1).llen("celery") == 1     # still waiting
        assert "tasks.pid" not in log.read_text()
    finally:
        _stop(process)
        redis.Redis(port=redis_port, db=1).delete("celery")
    findings = _lint(tmp_path, "services:\n  worker:\n    image: myapp:1.4.2\n    command: celery -A tasks worker\n"
                               "    environment:\n      CELERY_BROKER_URL: redis://redis:6379/0\n"
                               "  beat:\n    image: myapp:1.4.2\n    command: celery -A tasks beat\n"
                               "    environment:\n      CELERY_BROKER_URL: redis://redis:6379/1\n", "VL326")
    assert len(findings) == 2


# --- VL315: Flower's control API ---------------------------------------------------------------

@pytest.mark.parametrize("open_api", [False, True])
def test_vl315_flower_api_needs_auth_unless_unauthenticated_api(open_api, redis_port, tmp_path):
    pytest.importorskip("flower")
    import urllib.error
    import urllib.request

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWER_")}
    if open_api:
        env["FLOWER_UNAUTHENTICATED_API"] = "true"
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", f"--broker=redis://127.0.0.1:{redis_port}/0", "flower",
         f"--port={port}", "--address=127.0.0.1"], env=env, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        status = None
        deadline = time.monotonic() + 30
        while status is None and time.monotonic() < deadline:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/workers", method="GET")
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                time.sleep(0.2)
        assert status == (200 if open_api else 401)
    finally:
        _stop(process)
    env_text = "    environment:\n      FLOWER_UNAUTHENTICATED_API: 'true'\n" if open_api else ""
    findings = _lint(tmp_path, "services:\n  flower:\n    image: mher/flower:2.0\n    command: celery flower\n"
                               f"{env_text}    ports: ['5555:5555']\n", "VL315")
    assert [f.severity for f in findings] == [Severity.ERROR if open_api else Severity.WARNING]


# --- VL324: two workers with one node name ---------------------------------------------------

def test_vl324_replicas_with_one_node_name_are_one_node(redis_port, app_dir, tmp_path):
    processes, logs = [], []
    try:
        for index in range(2):
            log = tmp_path / f"worker{index}.log"
            out = tmp_path / f"out{index}"
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool=solo", "-n", "worker@fixed",
                 "--without-gossip", "-l", "INFO", f"--logfile={log}"], cwd=app_dir,
                env=_worker_env(redis_port, app_dir), stdout=out.open("w"), stderr=subprocess.STDOUT))
            logs.append((log, out))
            assert _wait_for(log, "ready", 30)
        url = f"redis://127.0.0.1:{redis_port}/0"
        replies = celery.Celery("client", broker=url).control.ping(timeout=2)
        assert len(replies) == 2                                  # two workers answer ...
        from celery.exceptions import DuplicateNodenameWarning

        with pytest.warns(DuplicateNodenameWarning):
            pings = celery.Celery("client", broker=url).control.inspect(timeout=2).ping()
        assert list(pings) == ["worker@fixed"]                    # ... as one node
    finally:
        for process in processes:
            _stop(process)
    findings = _lint(tmp_path, "services:\n  worker:\n    image: myapp:1.4.2\n"
                               "    command: celery -A tasks worker -n worker@fixed\n    deploy:\n      replicas: 2\n",
                     "VL324")
    assert findings
