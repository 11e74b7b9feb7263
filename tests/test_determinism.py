"""Byte-identical output across runs and --jobs values, in every machine-readable format."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "fixtures" / "vantage"
RULE_FIXTURES = ROOT / "tests" / "rules"


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """Enough projects to cross the automatic-parallelism threshold, of many shapes: copies of
    the example stack plus every failing rule fixture (each its own project)."""
    root = tmp_path_factory.mktemp("many")
    for index in range(8):
        shutil.copytree(STACK, root / f"stack{index:02d}")
    for index, case in enumerate(sorted(RULE_FIXTURES.glob("*/fail_*"))):
        if case.is_dir():
            shutil.copytree(case, root / "cases" / f"{index:03d}-{case.parent.name}-{case.name}")
    return root


def _run(tree: Path, *args: str) -> bytes:
    done = subprocess.run(
        [sys.executable, "-m", "vantage_lint", "--isolated", *args, "."],
        cwd=tree, capture_output=True, env={**os.environ, "PRE_COMMIT": ""},
    )
    assert done.returncode in (0, 1), done.stderr.decode()
    assert done.stderr == b""
    return done.stdout


@pytest.mark.parametrize("fmt", ["json", pytest.param("sarif", marks=pytest.mark.slow),
                                 pytest.param("concise", marks=pytest.mark.slow)])
def test_same_bytes_for_any_jobs_value(tree, fmt):
    serial = _run(tree, "--format", fmt, "--jobs", "1")
    assert len(serial) > 10_000
    assert _run(tree, "--format", fmt, "--jobs", "2") == serial
    assert _run(tree, "--format", fmt, "--jobs", "3") == serial
    assert _run(tree, "--format", fmt) == serial  # automatic: parallel for this many projects


def test_same_bytes_across_runs_with_and_without_cache(tree):
    first = _run(tree, "--format", "json", "--no-cache")
    assert _run(tree, "--format", "json") == first
    assert _run(tree, "--format", "json") == first  # now from the cache
