"""Bounded time and no hang on hostile inputs (issue 13, items 14-19): each case runs the CLI in a
subprocess with a generous timeout, so a hang is a failure, not a slow test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vantage_lint.engine import _auto_jobs

LIMIT_S = 30


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    return subprocess.run(
        [sys.executable, "-m", "vantage_lint", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=LIMIT_S,
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_named_compose_file_in_walked_folder_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "docker-compose.yml")
    result = _run(["."], tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    assert "not a regular file" in result.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_given_as_redis_conf_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.conf")
    result = _run(["fifo.conf"], tmp_path)
    assert result.returncode == 1, result.stderr
    assert "fifo.conf" in result.stdout and "not a regular file" in result.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_redis_include_of_fifo_does_not_block(tmp_path: Path) -> None:
    (tmp_path / "redis.conf").write_text("include ./fifo.conf\n")
    os.mkfifo(tmp_path / "fifo.conf")
    result = _run(["redis.conf"], tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr


def test_jobs_capped_by_the_work() -> None:
    assert _auto_jobs(4000, 4) == 4
    assert _auto_jobs(4000, 10_000) <= 4 * (os.cpu_count() or 1)
    assert _auto_jobs(0, 3) == 1


def test_mem_limit_overflow_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text("services:\n  redis:\n    image: redis:7\n    mem_limit: 1e400\n")
    result = _run(["docker-compose.yml"], tmp_path)
    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr
    assert "4:16" in result.stdout and "VL002" in result.stdout


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_non_finite_rule_option_is_rejected_naming_the_key(tmp_path: Path, value: str) -> None:
    (tmp_path / ".vantage-lint.yml").write_text(f"rules:\n  VL215:\n    max-fraction: {value}\n")
    (tmp_path / "docker-compose.yml").write_text("services:\n  redis:\n    image: redis:7\n")
    result = _run(["."], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "vantage-lint: error: .vantage-lint.yml:3: rules.VL215.max-fraction: is not a finite number"]


@pytest.mark.skipif(not os.path.exists("/dev/stdout"), reason="needs /dev/stdout")
@pytest.mark.parametrize("redirect", ["pipe", "append"])
def test_output_to_dev_stdout(tmp_path: Path, redirect: str) -> None:
    (tmp_path / "docker-compose.yml").write_text("services:\n  r:\n    image: redis:7\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    args = [sys.executable, "-m", "vantage_lint", "-o", "/dev/stdout", "docker-compose.yml"]
    if redirect == "pipe":
        result = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=LIMIT_S)
        out = result.stdout
    else:
        log = tmp_path / "log.txt"
        log.write_text("before\n")
        with open(log, "a") as handle:
            result = subprocess.run(args, cwd=tmp_path, env=env, stdout=handle, stderr=subprocess.PIPE,
                                    text=True, timeout=LIMIT_S)
        out = log.read_text()
        assert out.startswith("before\n")
    assert result.returncode == 1, result.stderr
    assert "Found " in out and "finding" in out


@pytest.mark.parametrize("data", [b"a: \xe9\xff\n", bytes(range(256)), b"\x00\x01binary"])
def test_binary_stdin_is_a_one_line_error(tmp_path: Path, data: bytes) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    result = subprocess.run([sys.executable, "-m", "vantage_lint", "-"], input=data, cwd=tmp_path, env=env,
                            capture_output=True, timeout=LIMIT_S)
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vantage-lint: error: stdin.yml: ")
    assert b"internal error" not in result.stderr
