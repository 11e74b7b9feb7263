from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"

# Tests (and the CLI processes they start) use their own result cache, never the user's.
os.environ.setdefault("VANTAGE_LINT_CACHE_DIR", tempfile.mkdtemp(prefix="vantage-lint-test-cache-"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "redis" in item.keywords and shutil.which("redis-server") is None:
            item.add_marker(pytest.mark.skip(reason="redis-server is not installed (apt-get install redis-server)"))


@pytest.fixture
def lint_dir(tmp_path):
    """Write {name: text} files into a temporary folder and return the folder."""

    def write(files: dict[str, str]) -> Path:
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return tmp_path

    return write


@pytest.fixture(autouse=True)
def _no_ci_env(monkeypatch):
    # Output format auto-detection must not depend on where the tests run.
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("VANTAGE_LINT_FORMAT", raising=False)
    os.environ.setdefault("NO_COLOR", "1")


@pytest.fixture(autouse=True)
def _own_project_cache(request, monkeypatch):
    # Tests monkeypatch rules and loaders, code the result cache's tool digest cannot see: each
    # test gets its own project entries (CLI subprocesses see the files as they are and share).
    from vantage_lint import cache

    monkeypatch.setattr(cache, "_tool_digest", f"test:{request.node.nodeid}")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A result cache of the test's own (VANTAGE_LINT_CACHE_DIR), configured before and after."""
    from vantage_lint import cache

    folder = tmp_path / "cache"
    monkeypatch.setenv("VANTAGE_LINT_CACHE_DIR", str(folder))
    cache.configure()
    yield folder
    cache.configure()
