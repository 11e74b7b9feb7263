"""The per-project result cache: every input of a project is in its key, and a hit is a miss's twin."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from vantage_lint import cache, lint, project_cache
from vantage_lint.engine import _Runner
from vantage_lint.findings import Applicability, Edit, Finding, Fix, Severity, Span
from vantage_lint.report import ReportOptions, render
from vantage_lint.source import ReadLog, Reader, exists, glob_paths, is_file, read_source, recording

ROOT = Path(__file__).resolve().parent.parent

COMPOSE = """\
services:
  redis:
    image: redis:${REDIS_TAG}
    command: ["redis-server", "/usr/local/etc/redis/redis.conf"]
    volumes:
      - ./redis:/usr/local/etc/redis:ro
  worker:
    image: app:1.0
    command: celery -A app worker
    env_file: worker.env
"""


@pytest.fixture
def computed(monkeypatch):
    """How many targets were linted for real (not answered from the cache)."""
    calls: list[str] = []
    original = _Runner.run

    def counting(self, target):
        calls.append(target.files[0].name)
        return original(self, target)

    monkeypatch.setattr(_Runner, "run", counting)
    return calls


@pytest.fixture
def project(tmp_path, monkeypatch):
    folder = tmp_path / "stack"
    (folder / "redis").mkdir(parents=True)
    (folder / "docker-compose.yml").write_text(COMPOSE)
    (folder / ".env").write_text("REDIS_TAG=7.2\n")
    (folder / "worker.env").write_text("CELERY_BROKER_URL=redis://redis:6379/0\n")
    (folder / "redis" / "redis.conf").write_text("include extra.conf\nappendonly yes\n")
    (folder / "redis" / "extra.conf").write_text("maxmemory 64mb\n")
    monkeypatch.chdir(folder)
    return folder


def _json(report) -> str:
    out = io.StringIO()
    render(report, "json", out, ReportOptions())
    return out.getvalue()


def _text(report) -> str:
    out = io.StringIO()
    render(report, "text", out, ReportOptions())
    return out.getvalue()


def _fresh(paths) -> tuple[str, str]:
    cache.configure(enabled=False)
    try:
        report = lint(paths)
        return _json(report), _text(report)
    finally:
        cache.configure()


def test_second_run_is_answered_from_the_cache_with_the_same_report(cache_dir, project, computed):
    expected = _fresh(["."])
    computed.clear()
    first = lint(["."])
    assert computed == ["docker-compose.yml"]
    second = lint(["."])
    assert computed == ["docker-compose.yml"], "the second run must not lint the project again"
    assert (_json(first), _text(first)) == expected
    assert (_json(second), _text(second)) == expected


EDITS = {
    "the compose file": lambda p: (p / "docker-compose.yml").write_text(COMPOSE.replace("app:1.0", "app:latest")),
    ".env": lambda p: (p / ".env").write_text("REDIS_TAG=latest\n"),
    ".env deleted": lambda p: (p / ".env").unlink(),
    "the env_file": lambda p: (p / "worker.env").write_text("CELERY_BROKER_URL=redis://other:6379/0\n"),
    "the env_file deleted": lambda p: (p / "worker.env").unlink(),
    "the mounted redis.conf": lambda p: (p / "redis" / "redis.conf").write_text(
        "include extra.conf\nappendonly no\n"),
    "the included redis.conf": lambda p: (p / "redis" / "extra.conf").write_text("maxmemory 64mb\nmaxmemory-policy allkeys-lru\n"),
    "an override file appearing": lambda p: (p / "docker-compose.override.yml").write_text(
        "services:\n  worker:\n    privileged: true\n"),
}


@pytest.mark.parametrize("what", list(EDITS))
def test_an_edit_to_any_input_is_a_miss(cache_dir, project, computed, what):
    lint(["."])
    lint(["."])
    assert len(computed) == 1
    EDITS[what](project)
    after = lint(["."])
    assert len(computed) == 2, f"an edit to {what} must be a miss"
    lint(["."])
    assert len(computed) == 2, "and the new state is cached in turn"
    assert (_json(after), _text(after)) == _fresh(["."])


def test_env_file_template_appearing_is_a_miss(cache_dir, project, computed):
    (project / ".env").unlink()
    lint(["."])
    (project / ".env.example").write_text("REDIS_TAG=7.4\n")
    report = lint(["."])
    assert len(computed) == 2
    assert _json(report) == _fresh(["."])[0]


def test_environment_and_settings_are_in_the_key(cache_dir, project, computed, monkeypatch):
    from vantage_lint import Settings

    lint(["."])
    monkeypatch.setenv("REDIS_TAG", "6.2")
    lint(["."])
    assert len(computed) == 2
    lint(["."], Settings(ignore=["VL1"]))
    assert len(computed) == 3
    lint(["."], Settings(ignore=["VL1"]))
    assert len(computed) == 3


def test_a_redis_conf_target_and_its_glob_include(cache_dir, tmp_path, monkeypatch, computed):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "redis.conf").write_text("include conf.d/*.conf\nappendonly yes\n")
    (tmp_path / "conf.d" / "a.conf").write_text("maxmemory 1mb\n")
    lint(["redis.conf"])
    lint(["redis.conf"])
    assert len(computed) == 1
    (tmp_path / "conf.d" / "b.conf").write_text("maxmemory-policy noeviction\n")
    report = lint(["redis.conf"])
    assert len(computed) == 2, "a new file matched by an include wildcard is a miss"
    assert _json(report) == _fresh(["redis.conf"])[0]


def test_fixes_and_unsaved_text_are_not_cached(cache_dir, project, computed):
    from vantage_lint.engine import Inputs

    lint(["."], inputs=Inputs(overlay={(project / "docker-compose.yml").resolve(): COMPOSE.encode()}))
    lint(["."], inputs=Inputs(overlay={(project / "docker-compose.yml").resolve(): COMPOSE.encode()}))
    assert len(computed) == 2
    assert not [p for p in cache_dir.rglob("*.json") if p.read_text().startswith('{"log"')]


def test_cached_and_uncached_cli_output_identical_byte_for_byte(tmp_path):
    env = {"VANTAGE_LINT_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    targets = [str(ROOT / "fixtures"), str(ROOT / "tests" / "projects")]

    def run(*flags: str) -> bytes:
        done = subprocess.run([sys.executable, "-m", "vantage_lint", "--isolated", *flags, *targets],
                              capture_output=True, env=env, cwd=ROOT)
        assert done.returncode in (0, 1), done.stderr
        return done.stdout

    for fmt in ("json", "text", "sarif"):
        uncached = run("--no-cache", "--format", fmt)
        assert run("--format", fmt) == uncached  # fills the cache
        assert run("--format", fmt) == uncached  # answered from it
    assert any(p.read_text().startswith('{"log"') for p in (tmp_path / "cache").rglob("*.json"))


def test_read_log_notes_reads_probes_and_globs(tmp_path):
    (tmp_path / "a.conf").write_text("x")
    log = ReadLog()
    reader = Reader(tmp_path)
    with recording(log):
        reader(tmp_path / "a.conf")
        reader(tmp_path / "a.conf")  # from memory: still an input
        assert not is_file(tmp_path / "missing")
        assert exists(tmp_path)
        assert glob_paths(str(tmp_path / "*.conf")) == [tmp_path / "a.conf"]
        with pytest.raises(OSError):
            read_source(tmp_path / "gone.env", "gone.env")
    kinds = sorted(kind for kind, _ in log.entries)
    assert kinds == ["file", "file", "glob", "probe", "probe"]
    assert log.unchanged(Reader(tmp_path))
    (tmp_path / "gone.env").write_text("A=1\n")
    assert not log.unchanged(Reader(tmp_path))
    (tmp_path / "gone.env").unlink()
    (tmp_path / "a.conf").write_text("y")
    assert not log.unchanged(Reader(tmp_path))
    round_trip = ReadLog.from_list(json.loads(json.dumps(log.as_list())))
    assert round_trip.entries == log.entries


def test_codec_knows_every_finding_field():
    assert tuple(f.name for f in dataclasses.fields(Finding)) == project_cache.FINDING_FIELDS
    finding = Finding(
        code="VL101", name="n", severity=Severity.ERROR, message="m", hint="h.",
        span=Span("a.yml", 1, 2, 3, 4, 5, 6), service="web",
        fix=Fix("t", (Edit("a.yml", 1, 2, "x"),), Applicability.UNSAFE),
        fix_applicability=Applicability.SAFE, fingerprint="f", explicit_severity=True,
    )
    assert project_cache.decode_finding(json.loads(json.dumps(project_cache.encode_finding(finding)))) == finding


def test_a_damaged_project_entry_is_a_miss(cache_dir, project, computed):
    expected = _fresh(["."])[0]
    lint(["."])
    for entry in cache_dir.rglob("*.json"):
        if entry.read_text().startswith('{"log"'):
            entry.write_text('{"log": [], "read": [], "findings": [[1]]}')
    assert _json(lint(["."])) == expected
    assert len(computed) == 3  # the fresh run, the first, and the one the damaged entry could not answer


def test_shell_bookkeeping_variables_count_only_where_a_file_names_them(cache_dir, project, computed, monkeypatch):
    monkeypatch.setenv("_", "/usr/bin/vantage-lint")
    lint(["."])
    monkeypatch.setenv("_", "/usr/bin/python3")  # `python -m vantage_lint` instead
    lint(["."])
    assert len(computed) == 1, "the command's own path is not an input of this project"
    (project / "docker-compose.yml").write_text(COMPOSE.replace("app:1.0", "app:${OLDPWD}"))
    monkeypatch.setenv("OLDPWD", "/srv/a")
    first = lint(["."])
    lint(["."])
    assert len(computed) == 2
    monkeypatch.setenv("OLDPWD", "/srv/b")
    second = lint(["."])
    assert len(computed) == 3, "a variable the project names is an input"
    assert _json(first) != _json(second)


def test_parallel_run_answers_hits_itself_and_forks_for_the_misses(cache_dir, tmp_path, monkeypatch):
    """Above the parallel threshold the hits are answered in the parent; the report is the same
    as a serial run's and as an uncached one's, whichever targets missed."""
    from vantage_lint import engine

    root = tmp_path / "many"
    for index in range(engine.PARALLEL_THRESHOLD + 6):
        folder = root / f"p{index:03d}"
        folder.mkdir(parents=True)
        (folder / "docker-compose.yml").write_text(f"services:\n  web{index}:\n    image: nginx:1.27\n")
    monkeypatch.chdir(tmp_path)
    expected = _fresh(["many"])
    assert _json(lint(["many"], jobs=2)) == expected[0]  # all miss: workers
    (root / "p003" / "docker-compose.yml").write_text("services:\n  web:\n    image: nginx:latest\n")
    expected = _fresh(["many"])
    forked = []
    original = engine._run_in_workers
    monkeypatch.setattr(engine, "_run_in_workers", lambda *a: forked.append(1) or original(*a))
    report = lint(["many"], jobs=2)
    assert (_json(report), _text(report)) == expected
    assert forked == [], "one miss is linted in the parent, no worker pool"
    assert _json(lint(["many"], jobs=1)) == expected[0]
