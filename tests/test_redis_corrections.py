"""The Redis rules corrected to match the real servers (tests/test_redis_claims_real.py):
severities by the Redis's role, messages that state what redis-server does, fixes that say how
to apply them without losing data."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run, write


def findings(folder: Path, code: str):
    return [f for f in run([folder], select=[code]).findings if f.code == code]


REDIS = (
    "  redis:\n"
    "    image: {image}\n"
    '    command: ["redis-server", "/usr/local/etc/redis/redis.conf"]\n'
    "    volumes:\n"
    "      - ./redis.conf:/usr/local/etc/redis/redis.conf:ro\n"
    "      - redis-data:/data\n"
)
TAIL = "volumes:\n  redis-data:\n"


def stack(tmp_path: Path, clients: str, conf: str = "maxmemory 100mb\n", image: str = "redis:7.2") -> Path:
    compose = "services:\n" + REDIS.format(image=image) + clients + TAIL
    return write(tmp_path, {"docker-compose.yml": compose, "redis.conf": conf})


WORKER = ("  worker:\n    image: myapp:1.0\n    command: celery -A app worker\n"
          "    environment:\n      CELERY_BROKER_URL: redis://redis:6379/0\n")
WEB_CACHE = "  web:\n    image: myapp:1.0\n    environment:\n      CACHE_URL: redis://redis:6379/1\n"
BACKEND_ONLY = ("  worker:\n    image: myapp:1.0\n    command: celery -A app worker\n"
                "    environment:\n      CELERY_BROKER_URL: amqp://rabbit//\n"
                "      CELERY_RESULT_BACKEND: redis://redis:6379/1\n")


# --- VL210 / VL212: severity by role, and the fix says CONFIG SET first ------------------------

def test_vl210_warns_on_a_broker_and_tells_to_config_set_first(tmp_path):
    (finding,) = findings(stack(tmp_path, WORKER), "VL210")
    assert finding.severity.label == "warning"
    assert "CONFIG SET appendonly yes" in finding.hint
    assert finding.fix is not None and "CONFIG SET appendonly yes" in finding.fix.title


def test_vl210_is_info_on_a_cache_and_on_a_result_backend(tmp_path):
    (cache,) = findings(stack(tmp_path / "a", WEB_CACHE), "VL210")
    (backend,) = findings(stack(tmp_path / "b", BACKEND_ONLY), "VL210")
    assert cache.severity.label == backend.severity.label == "info"
    assert "cache" in cache.message and "result backend" in backend.message


def test_vl212_is_info_on_a_cache(tmp_path):
    (finding,) = findings(stack(tmp_path, WEB_CACHE, 'save ""\n'), "VL212")
    assert finding.severity.label == "info"
    (broker,) = findings(stack(tmp_path / "b", WORKER, 'save ""\n'), "VL212")
    assert broker.severity.label == "warning"


# --- VL207 / VL212: Redis 6.0 drops the default save points with any argument ------------------

def test_redis_60_with_a_config_file_and_no_save_line_has_rdb_off(tmp_path):
    folder = stack(tmp_path, WORKER, "appendonly no\n", image="redis:6.0")
    (finding,) = findings(folder, "VL212")
    assert "6.0" in finding.message and "clears the default save points" in finding.message
    assert not findings(stack(tmp_path / "b", WORKER, "appendonly no\n", image="redis:6.2"), "VL212")


def test_redis_60_without_arguments_keeps_the_defaults(tmp_path):
    write(tmp_path, {"docker-compose.yml": "services:\n  redis:\n    image: redis:6.0\n"})
    assert not findings(tmp_path, "VL212")
    (finding,) = findings(tmp_path, "VL207")  # RDB on by default, /data only an anonymous volume
    assert "`up` with a new image keeps it" in finding.message and "up -V" in finding.message


def test_vl207_is_quiet_when_redis_60_has_no_persistence_left(tmp_path):
    compose = ('services:\n  redis:\n    image: redis:6.0\n    command: ["redis-server", "--maxmemory", "10mb"]\n')
    write(tmp_path, {"docker-compose.yml": compose})
    assert not findings(tmp_path, "VL207")  # the flag cleared the save points: nothing to persist


# --- VL204: a blind check that others wait for ---------------------------------------------------

HEALTH = ("services:\n  redis:\n    image: redis:7.2\n    healthcheck:\n      test: [\"CMD\", \"redis-cli\", \"ping\"]\n"
          "  worker:\n    image: myapp:1.0\n    depends_on:\n      redis:\n        condition: {condition}\n")


def test_vl204_unchecked_reply_is_a_warning_when_a_service_waits_for_healthy(tmp_path):
    write(tmp_path, {"docker-compose.yml": HEALTH.format(condition="service_healthy")})
    (finding,) = findings(tmp_path, "VL204")
    assert finding.severity.label == "warning"
    assert "LOADING" in finding.message and "MISCONF" in finding.message and '"worker" waits' in finding.message


def test_vl204_unchecked_reply_is_info_when_nobody_waits(tmp_path):
    write(tmp_path, {"docker-compose.yml": HEALTH.format(condition="service_started")})
    (finding,) = findings(tmp_path, "VL204")
    assert finding.severity.label == "info"


# --- VL201: flags are not claimed to be defaults --------------------------------------------------

def test_vl201_does_not_call_set_flags_defaults(tmp_path):
    compose = ('services:\n  redis:\n    image: redis:7.2\n'
               '    command: ["redis-server", "--appendonly", "yes", "--maxmemory", "100mb"]\n')
    write(tmp_path, {"docker-compose.yml": compose})
    (finding,) = findings(tmp_path, "VL201")
    assert "no password" in finding.message
    assert "maxmemory" not in finding.message.split("compiled default")[1]
    assert "AOF off" not in finding.message


# --- VL223: not raised by the production preset, and the 6.0 deprecation -------------------------

def test_vl223_is_no_error_in_the_production_preset(tmp_path):
    write(tmp_path, {"redis.conf": 'requirepass 6c0d1e7f9b2a4c58a1e3d5f7\nrename-command FLUSHALL ""\n'})
    report = run([tmp_path / "redis.conf"], select=["VL223"], preset="production")
    labels = {f.severity.label for f in report.findings if f.code == "VL223"}
    assert labels == {"warning"}  # raised from info, as VL216 and VL224 are, never to error
    assert any("deprecated since Redis 6.0" in f.message for f in report.findings)


# --- VL219: CONFIG SET dir only where it still works -----------------------------------------------

def test_vl219_mentions_config_set_dir_only_when_it_is_possible(tmp_path):
    base = 'services:\n  redis:\n    image: {image}\n    command: ["redis-server"{flags}]\n    ports:\n      - "6379:6379"\n'
    write(tmp_path / "a", {"docker-compose.yml": base.format(image="redis:7.2", flags="")})
    write(tmp_path / "b", {"docker-compose.yml": base.format(image="redis:6.2", flags="")})
    write(tmp_path / "c", {"docker-compose.yml": base.format(
        image="redis:7.2", flags=', "--enable-protected-configs", "yes"')})
    (a,), (b,), (c,) = (findings(tmp_path / x, "VL219") for x in "abc")
    assert "CONFIG SET dir" not in a.message
    assert "CONFIG SET dir" in b.message and "CONFIG SET dir" in c.message
