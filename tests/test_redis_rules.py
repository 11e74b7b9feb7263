"""The Redis rules (VL201-VL224) on whole stacks: the VANTAGE document's stack, a cache stack
that follows every practice, positions, messages, severities and secrets in every format."""

from __future__ import annotations

import importlib
import io
import json
from pathlib import Path

import pytest

from tests.helpers import run, write
from vantage_lint.findings import Severity
from vantage_lint.redis.auth import Auth, Password
from vantage_lint.redis.clients import Probe
from vantage_lint.report import FORMATS, ReportOptions, render
from vantage_lint.rules.redis_service import classify_probe
from vantage_lint.shell import Word

ROOT = Path(__file__).resolve().parent.parent
VL2 = [f"VL2{n:02d}" for n in range(1, 25) if n not in (8, 9)]
SECRET = "S3cretPw0rd99x"  # 13 characters: also a VL217 finding


def found(report, code=None):
    return [(f.code, f.severity.label) for f in report.findings if code is None or f.code == code]


# --- the two reference stacks ----------------------------------------------------------------

def test_vantage_stack_gets_exactly_what_it_deserves(monkeypatch):
    monkeypatch.chdir(ROOT)
    report = run(["fixtures/vantage"], select=VL2)
    assert sorted(found(report)) == [
        ("VL204", "warning"),  # redis-cli ping without -e or a PONG check, and workers wait for service_healthy
        ("VL214", "error"),    # allkeys-lru on the Celery broker
        ("VL216", "info"),     # no auth, but published to no port: only its networks reach it
        ("VL221", "warning"),  # io-threads 2 with cpus 1.0
        ("VL223", "info"),     # FLUSHALL & co. open to the default user
        ("VL224", "info"),     # no TLS
    ]
    (eviction,) = [f for f in report.findings if f.code == "VL214"]
    assert eviction.span.path == "fixtures/vantage/docker/redis/redis.conf"
    assert (eviction.span.line, eviction.span.column, eviction.span.end_column) == (18, 18, 29)
    assert eviction.service == "redis"
    for words in ("allkeys-lru", "Celery broker", '"celery-worker"', "queue", "lost"):
        assert words in eviction.message
    assert "noeviction" in eviction.hint
    # The broker also holds the results: volatile-lru evicts only them, noeviction would let them
    # block publishing (VL227).
    assert eviction.fix is not None and eviction.fix.edits[0].content == "volatile-lru"


def test_cache_stack_following_every_practice_passes(monkeypatch):
    monkeypatch.chdir(ROOT)
    report = run(["tests/projects/redis_cache_ok"], select=VL2)
    assert found(report) == []
    assert report.files  # the redis.conf was read through the mount
    assert any(name.endswith("redis/redis.conf") for name in report.files)


def test_cache_stack_has_no_warning_from_any_rule(monkeypatch):
    monkeypatch.chdir(ROOT)
    report = run(["tests/projects/redis_cache_ok"])
    assert [(f.code, f.message) for f in report.findings if f.severity >= Severity.WARNING] == []


def test_linked_config_is_linted_once(monkeypatch):
    monkeypatch.chdir(ROOT)
    report = run(["fixtures/vantage"], select=["VL216"])
    assert len(report.findings) == 1 and report.findings[0].service == "redis"


# --- VL204 classification --------------------------------------------------------------------

def _probe(**fields) -> Probe:
    word = Word("redis-cli", 0, 0, 9)
    span = None
    base = dict(word=word, span=span, command=["ping"], errors_exit=False, output_checked=False)
    base.update(fields)
    return Probe(**base)  # type: ignore[arg-type]


AUTH = Auth(True, "requirepass", None, [Password(SECRET, None, None)])  # type: ignore[arg-type]
OPEN = Auth(False, "none", None)


@pytest.mark.parametrize(
    "fields,auth,expected",
    [
        ({}, AUTH, ["error"]),
        ({"errors_exit": True}, AUTH, ["error"]),
        ({"output_checked": True}, AUTH, ["error"]),
        ({"password": SECRET, "password_via": "REDISCLI_AUTH"}, AUTH, ["info"]),
        ({"password": SECRET, "password_via": "REDISCLI_AUTH", "output_checked": True}, AUTH, []),
        ({"password": SECRET, "password_via": "-a", "errors_exit": True}, AUTH, ["info"]),
        ({"password": "wrong-password-0000", "password_via": "-a"}, AUTH, ["error"]),
        ({"password": "$P", "password_via": "-a", "password_templated": True, "errors_exit": True}, AUTH, ["info"]),
        ({"password": SECRET, "password_via": "-u", "url_empty_user": True, "username": ""}, AUTH, ["error"]),
        ({}, OPEN, ["info"]),
        ({"errors_exit": True}, OPEN, []),
        ({}, None, ["info"]),
    ],
)
def test_classify_probe(fields, auth, expected):
    assert [v.severity.label for v in classify_probe(_probe(**fields), auth)] == expected


def test_vl204_points_at_the_redis_cli_word(tmp_path):
    write(tmp_path, {
        "redis.conf": f"requirepass {SECRET}\n",
        "docker-compose.yml": """services:
  redis:
    image: redis:7.2
    command: ["redis-server", "/etc/redis.conf"]
    volumes: ["./redis.conf:/etc/redis.conf:ro"]
    healthcheck:
      test: ["CMD-SHELL", "redis-cli ping || exit 1"]
""",
    })
    (finding,) = run([tmp_path], select=["VL204"]).findings
    assert finding.severity is Severity.ERROR
    assert (finding.span.line, finding.span.column, finding.span.end_column) == (7, 28, 37)
    assert "NOAUTH" in finding.message and "always passes" in finding.message


# --- messages and severities -----------------------------------------------------------------

def test_vl215_explains_each_tools_units(tmp_path):
    write(tmp_path, {"docker-compose.yml": """services:
  redis:
    image: redis:7.2
    command: redis-server --maxmemory 500m
    deploy: {resources: {limits: {memory: 512M}}}
"""})
    (finding,) = run([tmp_path], select=["VL215"]).findings
    assert finding.severity is Severity.WARNING
    assert "500,000,000 bytes" in finding.message and "536,870,912 bytes" in finding.message
    assert "Redis reads m as 10^6, Compose as 2^20" in finding.message
    assert "93%" in finding.message


def test_vl215_max_fraction_option(tmp_path):
    write(tmp_path, {"docker-compose.yml": """services:
  redis:
    image: redis:7.2
    command: redis-server --maxmemory 300mb
    mem_limit: 512m
"""})
    assert found(run([tmp_path], select=["VL215"])) == [("VL215", "warning")]
    relaxed = run([tmp_path], select=["VL215"], rule_options={"VL215": {"max-fraction": 0.7}})
    assert found(relaxed) == []


def test_vl212_multi_pair_save_on_redis6_is_an_error(tmp_path):
    write(tmp_path, {
        "redis.conf": "save 900 1 300 10\n",
        "docker-compose.yml": """services:
  redis:
    image: redis:6.2.14
    command: ["redis-server", "/etc/redis.conf"]
    volumes: ["./redis.conf:/etc/redis.conf:ro"]
""",
    })
    assert found(run([tmp_path], select=["VL212"])) == [("VL212", "error")]


def test_vl219_redis6_bind_switches_protected_mode_off(tmp_path):
    files = {
        "redis.conf": "bind 0.0.0.0\nprotected-mode yes\n",
        "docker-compose.yml": """services:
  redis:
    image: redis:{tag}
    command: ["redis-server", "/etc/redis.conf"]
    volumes: ["./redis.conf:/etc/redis.conf:ro"]
    ports: ["6379:6379"]
""",
    }
    for tag, expected in (("6.2", [("VL219", "error")]), ("7.2", [])):
        folder = tmp_path / tag
        write(folder, {**files, "docker-compose.yml": files["docker-compose.yml"].replace("{tag}", tag)})
        assert found(run([folder], select=["VL219"])) == expected, tag


def test_vl223_debug_is_open_on_redis6_only(tmp_path):
    for tag, shown in (("6.2", "FLUSHALL, FLUSHDB, CONFIG, DEBUG, KEYS"), ("7.2", "FLUSHALL, FLUSHDB, CONFIG, KEYS")):
        folder = tmp_path / tag
        write(folder, {
            "redis.conf": f"requirepass {SECRET}\n",
            "docker-compose.yml": f"""services:
  redis:
    image: redis:{tag}
    command: ["redis-server", "/etc/redis.conf"]
    volumes: ["./redis.conf:/etc/redis.conf:ro"]
""",
        })
        (finding,) = run([folder], select=["VL223"]).findings
        assert finding.message.endswith(f"can run {shown}")


def test_vl205_points_at_the_client_url_in_an_env_file(tmp_path):
    write(tmp_path, {
        "redis.conf": f"user default on >{SECRET} ~* &* +@all\n",
        "worker.env": "# broker\nCELERY_BROKER_URL=redis://redis:6379/0\n",
        "docker-compose.yml": """services:
  redis:
    image: redis:7.2
    command: ["redis-server", "/etc/redis.conf"]
    volumes: ["./redis.conf:/etc/redis.conf:ro"]
  worker:
    image: app:1.0
    env_file: worker.env
""",
    })
    (finding,) = run([tmp_path], select=["VL205"]).findings
    assert finding.service == "worker"
    assert finding.span.path.endswith("worker.env")
    assert (finding.span.line, finding.span.column) == (2, 19)
    assert "NOAUTH" in finding.message and "(user)" in finding.message


def test_vl202_fix_adds_ro(tmp_path):
    write(tmp_path, {
        "redis.conf": "appendonly yes\n",
        "docker-compose.yml": """services:
  redis:
    image: redis:7.2
    command: ["redis-server", "/etc/redis.conf"]
    volumes:
      - "./redis.conf:/etc/redis.conf:z"
""",
    })
    (finding,) = run([tmp_path], select=["VL202"]).findings
    assert finding.fix is not None
    assert [e.content for e in finding.fix.edits] == ['"./redis.conf:/etc/redis.conf:ro,z"']


# --- secrets ---------------------------------------------------------------------------------

SECRET_STACK = {
    "redis.conf": f"requirepass {SECRET}\nuser default on >{SECRET} ~* +@all\n",
    "docker-compose.yml": f"""services:
  redis:
    image: redis:7.2-alpine
    command: ["redis-server", "/usr/local/etc/redis/redis.conf", "--masterauth", "{SECRET}"]
    volumes:
      - ./redis.conf:/usr/local/etc/redis/redis.conf:ro
    environment:
      REDIS_PASSWORD: {SECRET}
    healthcheck:
      test: ["CMD", "redis-cli", "-a", "{SECRET}", "ping"]
  worker:
    image: example/app:1.0.0
    command: celery -A app worker -b redis://:{SECRET}@redis:6379/0
    environment:
      - CELERY_BROKER_URL=redis://:{SECRET}@redis:6379/0
      - CELERY_RESULT_BACKEND=redis://default:{SECRET}@redis:6379/1
""",
}


def _formats():
    for fmt in FORMATS:
        try:
            importlib.import_module(f"vantage_lint.report.{fmt}_format")
        except ModuleNotFoundError:
            continue
        yield fmt


@pytest.mark.parametrize("fmt", list(_formats()))
def test_no_format_prints_a_password(tmp_path, monkeypatch, fmt):
    write(tmp_path, SECRET_STACK)
    monkeypatch.chdir(tmp_path)
    report = run(["."], select=["VL"])
    codes = {f.code for f in report.findings}
    assert {"VL204", "VL206", "VL217", "VL218"} <= codes
    out = io.StringIO()
    render(report, fmt, out, ReportOptions(show_source=True))
    text = out.getvalue()
    assert text.strip()
    assert SECRET not in text
    if fmt == "json":
        json.loads(text)
