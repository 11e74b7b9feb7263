"""The app-configuration rules' claims (VL327-VL332, and the join with the command line) checked
against real Celery/kombu and a local redis-server.

As in tests/test_celery_real.py: servers on 127.0.0.1 with free ports, every process stopped by
its PID, every wait bounded. The apps here are the tests' own fixtures: loading them in a
subprocess is how the real Celery is asked; the linter itself never imports them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.helpers import run
from tests.test_celery_real import QUIET, _start_redis, _stop, _wait_for
from vantage_lint.celery.app_config import ModuleFinder, read_app
from vantage_lint.source import Reader as _Reader

pytestmark = pytest.mark.celery
celery = pytest.importorskip("celery")
redis_py = pytest.importorskip("redis")

APP = '''
import os, signal, time
from celery import Celery

app = Celery("appx", broker=os.environ["BROKER"], backend=os.environ.get("BACKEND"))
app.conf.broker_connection_retry_on_startup = os.environ.get("RETRY_ON_STARTUP", "1") == "1"
app.conf.task_acks_late = os.environ.get("ACKS_LATE") == "1"
app.conf.task_reject_on_worker_lost = os.environ.get("REJECT") == "1"
app.conf.worker_cancel_long_running_tasks_on_connection_loss = os.environ.get("CANCEL") == "1"
app.conf.task_time_limit = float(os.environ["APP_TIME_LIMIT"]) if os.environ.get("APP_TIME_LIMIT") else None
if os.environ.get("VT"):
    app.conf.broker_transport_options = {
        "visibility_timeout": float(os.environ["VT"]),
        # sweep the unacked set every second, so redelivery shows within seconds
        "unacked_restore_interval": 1, "unacked_restore_throttle": 1,
    }

def _runs(marker):
    with open(marker, "a") as handle:
        handle.write("run\\n")
    with open(marker) as handle:
        return handle.read().count("run")

@app.task(name="appx.die_once")
def die_once(marker):
    if _runs(marker) == 1:
        os.kill(os.getpid(), signal.SIGKILL)      # what the OOM killer does to a pool process

@app.task(name="appx.mark")
def mark(marker, seconds=0):
    _runs(marker)
    time.sleep(seconds)
    with open(marker + ".end", "a") as handle:
        handle.write("end\\n")
'''


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory):
    process, port = _start_redis(tmp_path_factory.mktemp("redis-appconf"))
    yield port
    _stop(process)


def _worker(app_dir: Path, tmp_path: Path, env: dict[str, str], *args: str) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"worker-{len(list(tmp_path.glob('worker-*')))}.log"
    out = log.with_suffix(".out")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "appx", "worker", "--pool=prefork", "-c", "1", *QUIET,
         f"--logfile={log}", *args],
        cwd=app_dir, env={**os.environ, "PYTHONPATH": str(app_dir), **env},
        stdout=out.open("w"), stderr=subprocess.STDOUT)
    return process, log


def _runs(marker: Path) -> int:
    return marker.read_text().count("run") if marker.exists() else 0


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "appx.py").write_text(APP)
    return folder


def _client(broker: str) -> celery.Celery:
    return celery.Celery("client", broker=broker)


def _lint_project(tmp_path: Path, compose: str, app_code: str, code: str):
    folder = tmp_path / "project"
    (folder / "proj").mkdir(parents=True, exist_ok=True)
    (folder / "compose.yaml").write_text(compose)
    (folder / "proj" / "__init__.py").write_text("")
    (folder / "proj" / "celery.py").write_text(textwrap.dedent(app_code))
    return [f for f in run([folder], select=[code]).findings if f.code == code]


WORKER = ("services:\n  worker:\n    build: .\n    command: celery -A proj worker\n"
          "    environment:\n      CELERY_BROKER_URL: redis://redis:6379/0\n{extra}"
          "  redis:\n    image: redis:7.2\n{redis}")


# --- VL328: acks_late alone does not save a task whose process is killed --------------------------

@pytest.mark.parametrize("reject", [False, True])
def test_vl328_killed_process_loses_an_acks_late_task_unless_reject_on_worker_lost(reject, redis_port, app_dir, tmp_path):
    broker = f"redis://127.0.0.1:{redis_port}/1"
    marker = tmp_path / "die"
    process, log = _worker(app_dir, tmp_path, {"BROKER": broker, "ACKS_LATE": "1", "REJECT": "1" if reject else "0"})
    try:
        assert _wait_for(log, "ready", 30)
        _client(broker).send_task("appx.die_once", args=[str(marker)])
        assert _wait_for(log, "WorkerLostError", 20) or _wait_for(log, "exited with", 5)
        if reject:
            deadline = time.monotonic() + 20
            while _runs(marker) < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _runs(marker) == 2           # requeued and run again
        else:
            time.sleep(3)
            assert _runs(marker) == 1           # acknowledged: the task is gone
    finally:
        _stop(process)
    memory = "    deploy:\n      resources:\n        limits: {memory: 512M}\n"
    setting = "app.conf.task_reject_on_worker_lost = True\n" if reject else ""
    found = _lint_project(tmp_path, WORKER.format(extra=memory, redis=""),
                          f"from celery import Celery\napp = Celery('proj')\napp.conf.task_acks_late = True\n{setting}",
                          "VL328")
    assert bool(found) is not reject
    if found:
        assert "acknowledged anyway and lost" in found[0].message and found[0].span.path.endswith("celery.py")


# --- VL329: what outlasts the visibility timeout runs again -------------------------------------

@pytest.mark.parametrize("case", ["countdown", "acks-late-long-task", "within-timeout"])
def test_vl329_messages_unacknowledged_past_the_visibility_timeout_run_again(case, redis_port, app_dir, tmp_path):
    db = {"countdown": 2, "acks-late-long-task": 3, "within-timeout": 4}[case]
    broker = f"redis://127.0.0.1:{redis_port}/{db}"
    marker = tmp_path / "mark"
    env = {"BROKER": broker, "VT": "30" if case == "within-timeout" else "1",
           "ACKS_LATE": "1" if case == "acks-late-long-task" else "0"}
    process, log = _worker(app_dir, tmp_path, env)
    try:
        assert _wait_for(log, "ready", 30)
        client = _client(broker)
        client.conf.broker_transport_options = {"visibility_timeout": float(env["VT"])}
        if case == "acks-late-long-task":
            client.send_task("appx.mark", args=[str(marker), 4])
        else:
            client.send_task("appx.mark", args=[str(marker)], countdown=4)
        deadline = time.monotonic() + 15
        end = Path(str(marker) + ".end")
        while time.monotonic() < deadline and not (_runs(marker) >= 2 if case != "within-timeout" else end.exists()):
            time.sleep(0.2)
        if case == "within-timeout":
            time.sleep(2)                           # a redelivery would show within a sweep or two
            assert _runs(marker) == 1
        else:
            assert _runs(marker) >= 2
    finally:
        _stop(process)


def test_vl329_lint_matches(tmp_path):
    countdown = _lint_project(
        tmp_path, WORKER.format(extra="", redis=""),
        "from celery import Celery\napp = Celery('proj')\napp.conf.broker_transport_options = {'visibility_timeout': 60}\n"
        "app.conf.task_time_limit = 30\n\ndef later(task):\n    task.apply_async(countdown=120)\n", "VL329")
    assert len(countdown) == 1 and "delivered again and again" in countdown[0].message
    acks = _lint_project(tmp_path, WORKER.format(extra="", redis=""),
                         "from celery import Celery\napp = Celery('proj')\napp.conf.task_acks_late = True\n", "VL329")
    assert len(acks) == 1 and "no hard time limit" in acks[0].message


# --- VL330: results on an evicting Redis, results that never expire -------------------------------

def test_vl330_evicted_result_reads_pending_and_none_expiry_means_no_ttl(tmp_path):
    process, port = _start_redis(tmp_path, "maxmemory 2mb\nmaxmemory-policy allkeys-lru\n")
    try:
        backend = f"redis://127.0.0.1:{port}/0"
        app = celery.Celery("r", broker="memory://", backend=backend)
        app.backend.store_result("kept-briefly", 42, "SUCCESS")
        client = redis_py.Redis(port=port)
        assert app.AsyncResult("kept-briefly").state == "SUCCESS"
        assert client.ttl("celery-task-meta-kept-briefly") > 0          # result_expires: one day
        for i in range(400):
            client.set(f"filler:{i}", b"x" * 20_000)
        assert client.exists("celery-task-meta-kept-briefly") == 0
        assert app.AsyncResult("kept-briefly").state == "PENDING"     # as if the task never ran
        client.flushall()
        for expires in (None, 0):
            never = celery.Celery("n", broker="memory://", backend=backend)
            never.conf.result_expires = expires
            never.backend.store_result(f"forever-{expires}", 1, "SUCCESS")
            assert client.ttl(f"celery-task-meta-forever-{expires}") == -1   # no TTL at all
    finally:
        _stop(process)
    redis = "    command: redis-server --maxmemory 100mb --maxmemory-policy allkeys-lru\n"
    found = _lint_project(tmp_path, WORKER.format(extra="", redis=redis),
                          "from celery import Celery\napp = Celery('proj', backend='redis://redis:6379/1')\n", "VL330")
    assert len(found) == 1 and "PENDING" in found[0].message
    found = _lint_project(tmp_path, WORKER.format(extra="", redis=""),
                          "from celery import Celery\napp = Celery('proj', backend='redis://redis:6379/1')\n"
                          "app.conf.result_expires = None\n", "VL330")
    assert len(found) == 1 and "no TTL" in found[0].message


# --- VL331: a broker connection loss under acks_late --------------------------------------------

@pytest.mark.parametrize("cancel", [False, True])
def test_vl331_connection_loss_runs_an_acks_late_task_twice_unless_cancelled(cancel, redis_port, app_dir, tmp_path):
    broker = f"redis://127.0.0.1:{redis_port}/6"
    marker = tmp_path / "mark"
    end = Path(str(marker) + ".end")
    process, log = _worker(app_dir, tmp_path, {"BROKER": broker, "ACKS_LATE": "1", "CANCEL": "1" if cancel else "0"})
    try:
        assert _wait_for(log, "ready", 30)
        _client(broker).send_task("appx.mark", args=[str(marker), 4])
        deadline = time.monotonic() + 15
        while _runs(marker) < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _runs(marker) == 1
        # The worker's broker connections drop mid-task (Redis itself stays up).
        subprocess.run(["redis-cli", "-p", str(redis_port), "CLIENT", "KILL", "TYPE", "normal"],
                       capture_output=True, timeout=10, check=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (_runs(marker) >= 2 and end.exists()
                                                   and end.read_text().count("end") >= (1 if cancel else 2)):
            time.sleep(0.2)
        assert _runs(marker) >= 2                       # the message was delivered again
        time.sleep(1)
        ends = end.read_text().count("end") if end.exists() else 0
        if cancel:
            assert _wait_for(log, "Terminating it instead", 1)
            assert ends == 1                            # the interrupted first run was terminated
        else:
            assert ends == 2                            # both runs went to their end
    finally:
        _stop(process)
    setting = "app.conf.worker_cancel_long_running_tasks_on_connection_loss = True\n" if cancel else ""
    found = _lint_project(tmp_path, WORKER.format(extra="", redis=""),
                          f"from celery import Celery\napp = Celery('proj')\napp.conf.task_acks_late = True\n{setting}",
                          "VL331")
    assert bool(found) is not cancel


# --- VL332: no startup retry means an early worker exits ---------------------------------------

@pytest.mark.parametrize("retry", [False, True])
def test_vl332_worker_without_startup_retry_exits_when_the_broker_is_not_up(retry, app_dir, tmp_path):
    from tests.test_celery_real import _free_port

    broker = f"redis://127.0.0.1:{_free_port()}/0"          # nothing listens there
    process, log = _worker(app_dir, tmp_path, {"BROKER": broker, "RETRY_ON_STARTUP": "1" if retry else "0"})
    try:
        try:
            code = process.wait(timeout=30 if not retry else 5)
        except subprocess.TimeoutExpired:
            code = None
        if retry:
            assert code is None                 # still retrying
        else:
            assert code not in (None, 0)        # gave up and exited with an error
    finally:
        _stop(process)
    healthy = ("    depends_on:\n      redis:\n        condition: service_healthy\n")
    hc = "    healthcheck:\n      test: [\"CMD-SHELL\", \"redis-cli ping | grep PONG\"]\n"
    app = "from celery import Celery\napp = Celery('proj')\napp.conf.broker_connection_retry_on_startup = False\n"
    assert _lint_project(tmp_path, WORKER.format(extra="    depends_on: [redis]\n", redis=""), app, "VL332")
    assert not _lint_project(tmp_path, WORKER.format(extra=healthy, redis=hc), app, "VL332")


# --- the join: which time limit a task really gets ----------------------------------------------

@pytest.mark.parametrize("cli,app_limit,killed", [("30", "1", True), ("1", None, True), ("1", "30", False)])
def test_app_time_limit_beats_the_command_line(cli, app_limit, killed, redis_port, app_dir, tmp_path):
    """Each task copies task_time_limit from the app and hands it to the pool, so --time-limit
    (the pool's default) counts only when the app sets none."""
    broker = f"redis://127.0.0.1:{redis_port}/5"
    marker = tmp_path / "mark"
    env = {"BROKER": broker, **({"APP_TIME_LIMIT": app_limit} if app_limit else {})}
    process, log = _worker(app_dir, tmp_path, env, "--time-limit", cli)
    try:
        assert _wait_for(log, "ready", 30)
        _client(broker).send_task("appx.mark", args=[str(marker), 3])
        assert _wait_for(log, "Hard time limit (1" if killed else "succeeded", 15)
        assert Path(str(marker) + ".end").exists() is not killed
    finally:
        _stop(process)
    folder = tmp_path / "project"
    (folder / "proj").mkdir(parents=True)
    (folder / "compose.yaml").write_text(f"services:\n  worker:\n    build: .\n"
                                         f"    command: celery -A proj worker --time-limit={cli}\n")
    (folder / "proj" / "__init__.py").write_text(
        "from celery import Celery\napp = Celery('proj')\n" + (f"app.conf.task_time_limit = {app_limit}\n" if app_limit else ""))
    from vantage_lint.compose.project import load_project
    from vantage_lint.rules.celery_options import celery_view

    project = load_project([folder / "compose.yaml"], reader=_Reader(folder), environ={})
    setting = celery_view(project.services["worker"]).get("time-limit")
    assert float(setting.value) == (1.0 if killed else 30.0)
    assert setting.source == ("app" if app_limit else "flag")
    overridden = [f for f in run([folder], select=["VL333"]).findings if f.code == "VL333"]
    assert bool(overridden) is (app_limit is not None)     # the flag was ignored whenever the app set one


# --- the reader agrees with the configuration Celery really loads ---------------------------------

ORACLE_FILES = {
    "oracle_app/__init__.py": "",
    "oracle_app/celeryconfig.py": textwrap.dedent("""\
        import os
        from datetime import timedelta
        BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("VT", "3600")) * 2}
        CELERYD_PREFETCH_MULTIPLIER = 1
        CELERY_TASK_RESULT_EXPIRES = timedelta(hours=6)
        CELERY_ACKS_LATE = True
        CELERYD_TASK_TIME_LIMIT = 60 * 30
        """),
    "oracle_app/celery.py": textwrap.dedent("""\
        import os
        from celery import Celery
        app = Celery("oracle_app", broker="redis://127.0.0.1:1/0", task_reject_on_worker_lost=True)
        app.config_from_object("oracle_app.celeryconfig")
        app.conf.update(task_soft_time_limit=int(os.getenv("SOFT", "1500")), worker_max_tasks_per_child=50)
        app.conf.worker_prefetch_multiplier = 2
        """),
}
ORACLE_SETTINGS = ["broker_transport_options", "worker_prefetch_multiplier", "result_expires", "task_acks_late",
                   "task_time_limit", "task_soft_time_limit", "worker_max_tasks_per_child",
                   "task_reject_on_worker_lost", "broker_url"]


def test_reader_matches_the_conf_celery_loads(tmp_path):
    for rel, text in ORACLE_FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    environ = {"VT": "5000", "SOFT": "1200"}
    script = ("import json, datetime; from oracle_app.celery import app; c = app.conf; "
              f"names = {ORACLE_SETTINGS!r}; "
              "v = {n: (c[n].total_seconds() if isinstance(c[n], datetime.timedelta) else c[n]) for n in names}; "
              "print(json.dumps(v))")
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **environ, "PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    real = json.loads(proc.stdout.strip().splitlines()[-1])
    config = read_app(ModuleFinder([tmp_path], tmp_path.resolve(), _Reader(tmp_path)), "oracle_app", environ)
    mine = {n: config.value(n) for n in ORACLE_SETTINGS}
    assert mine == real
