"""The result cache: same output with and without it, and never a failure because of it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


from vantage_lint import cache, lint
from vantage_lint.registry import _load_reference

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "fixtures" / "vantage"


def _as_rows(report) -> list[tuple]:
    return [(f.code, f.path, f.span.line, f.span.column, f.message) for f in report.findings]


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.json")) if folder.exists() else []


def test_cached_run_gives_the_same_findings(cache_dir):
    first = _as_rows(lint([STACK]))
    stored = _entries(cache_dir)
    assert stored, "the first run stores its schema result"
    second = _as_rows(lint([STACK]))
    assert second == first
    assert _entries(cache_dir) == stored  # nothing new: every lookup hit


def test_a_changed_file_misses(cache_dir, tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    compose = project / "docker-compose.yml"
    compose.write_text("services:\n  web:\n    image: nginx:1.27\n")
    assert not [f for f in lint([compose]).findings if f.code == "VL002"]
    compose.write_text("services:\n  web:\n    image: nginx:1.27\n    helthcheck: {}\n")
    schema = [f for f in lint([compose]).findings if f.code == "VL002"]
    assert schema and "helthcheck" in schema[0].message
    assert schema[0].span.line == 4


def test_a_damaged_entry_is_a_miss(cache_dir):
    expected = _as_rows(lint([STACK]))
    for entry in _entries(cache_dir):
        entry.write_text("{not json")
    assert _as_rows(lint([STACK])) == expected


def test_disabled_cache_writes_nothing(cache_dir):
    cache.configure(enabled=False)
    lint([STACK])
    assert _entries(cache_dir) == []


def test_unwritable_cache_folder_is_ignored(tmp_path, monkeypatch):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    monkeypatch.setenv("VANTAGE_LINT_CACHE_DIR", str(blocker / "cache"))
    cache.configure()
    assert lint([STACK]).findings


def test_key_depends_on_namespace_and_payload():
    assert cache.key("a", b"x") != cache.key("b", b"x")
    assert cache.key("a", b"x") != cache.key("a", b"y")
    assert cache.key("a", b"x") == cache.key("a", b"x")


def test_no_cache_flag(tmp_path):
    folder = tmp_path / "cache"
    env = {"VANTAGE_LINT_CACHE_DIR": str(folder), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "vantage_lint", "--isolated", "--no-cache", "--format", "json",
                           str(STACK)], capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["summary"]["findings"] > 0
    assert _entries(folder) == []


def test_entry_point_reference_loader():
    assert _load_reference("vantage_lint.rules:get_rules") is not None
    assert _load_reference("os.path:join [extra]") is __import__("os").path.join


def test_cache_folder_is_private(cache_dir):
    lint([STACK])
    assert cache_dir.is_dir()
    assert cache_dir.stat().st_mode & 0o077 == 0
    assert all(sub.stat().st_mode & 0o077 == 0 for sub in cache_dir.iterdir() if sub.is_dir())
