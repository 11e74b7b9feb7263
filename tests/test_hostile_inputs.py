"""Hostile inputs: each gives a finding or a one-line error (exit 2), in bounded time, never a traceback."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from vantage_lint.cli import main

TIME_BOUND = 20.0  # seconds; a hang or an exponential blow-up would exceed it by far


def lint_json(capsys, *args: str) -> tuple[int, dict | None, str]:
    start = time.monotonic()
    code = main(["--format", "json", "--isolated", *args])
    elapsed = time.monotonic() - start
    out, err = capsys.readouterr()
    assert elapsed < TIME_BOUND, f"took {elapsed:.1f}s"
    assert "Traceback" not in err
    return code, (json.loads(out) if out.strip() else None), err


def codes_of(report: dict | None) -> set[str]:
    return {f["code"] for f in (report or {}).get("findings", [])}


COMPOSE_CASES = {
    "binary": b"\x7fELF\x02\x01\x01\x00\x00\x00garbage\x00\xff",
    "latin1": "services:\n  caf\xe9:\n    image: x:1\n".encode("latin-1"),
    "utf16": "services:\n  a:\n    image: x:1\n".encode("utf-16"),
    "empty": b"",
    "comment_only": b"# nothing here\n",
    "scalar_top": b"just a string\n",
    "list_top": b"- a\n- b\n",
    "tabs": b"services:\n\ta:\n\t\timage: x\n",
    "duplicate_keys": b"services:\n  a:\n    image: x:1\n  a:\n    image: y:1\n",
    "deep_nesting": b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "alias_bomb": b"a: &a [x,x,x,x,x,x,x,x,x,x]\n"
    + b"".join(
        b"%c: &%c [%s]\n" % (c, c, b",".join([b"*%c" % (c - 1)] * 10)) for c in range(ord("b"), ord("j"))
    ),
    "merge_on_scalar": b"x: &s hello\nservices:\n  a:\n    <<: *s\n    image: x:1\n",
    "three_mb_line": b"services:\n  a:\n    image: '" + b"x" * (3 * 1024 * 1024) + b"'\n",
}


@pytest.mark.parametrize("name", sorted(COMPOSE_CASES))
def test_hostile_compose_file(tmp_path, capsys, name):
    path = tmp_path / "docker-compose.yml"
    path.write_bytes(COMPOSE_CASES[name])
    code, report, err = lint_json(capsys, str(path))
    assert code == 1, err
    assert "VL001" in codes_of(report)


def test_bom_is_accepted(tmp_path, capsys):
    path = tmp_path / "docker-compose.yml"
    path.write_bytes(b"\xef\xbb\xbfservices:\n  a:\n    image: x:1.0\n")
    _code, report, _err = lint_json(capsys, str(path))
    assert "VL001" not in codes_of(report)


def test_fifty_megabyte_file(tmp_path, capsys):
    path = tmp_path / "docker-compose.yml"
    with open(path, "wb") as handle:
        handle.write(b"services:\n")
        handle.truncate(50 * 1024 * 1024)
    code, report, _err = lint_json(capsys, str(path))
    assert code == 1
    assert any("limit" in f["message"] for f in report["findings"])


def test_extends_cycle(tmp_path, capsys):
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  a:\n    image: x:1\n    extends: b\n  b:\n    image: x:1\n    extends: a\n")
    code, report, _err = lint_json(capsys, str(path))
    assert code == 1 and "VL003" in codes_of(report)


def test_include_loop(tmp_path, capsys):
    (tmp_path / "compose.yaml").write_text("include:\n  - other.yaml\nservices:\n  a:\n    image: x:1\n")
    (tmp_path / "other.yaml").write_text("include:\n  - compose.yaml\nservices:\n  b:\n    image: x:1\n")
    code, report, _err = lint_json(capsys, str(tmp_path / "compose.yaml"))
    assert code == 1 and "VL003" in codes_of(report)


def test_redis_conf_including_itself(tmp_path, capsys):
    path = tmp_path / "redis.conf"
    path.write_text(f"maxmemory 1mb\ninclude {path}\n")
    code, report, _err = lint_json(capsys, str(path))
    assert code in (0, 1)
    assert report is not None


def test_redis_conf_with_nul_bytes(tmp_path, capsys):
    path = tmp_path / "redis.conf"
    path.write_bytes(b"maxmemory 1mb\nport\x00 6379\n")
    code, report, _err = lint_json(capsys, str(path))
    assert code == 1 and "VL005" in codes_of(report)


def test_symlink_loop_in_folder_walk(tmp_path, capsys):
    (tmp_path / "sub").mkdir()
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    (tmp_path / "sub" / "compose.yaml").write_text("services:\n  a:\n    image: x:1.0\n")
    code, report, _err = lint_json(capsys, str(tmp_path))
    assert code in (0, 1) and report is not None


def test_unreadable_file_given_by_name(tmp_path, capsys):
    dangling = tmp_path / "docker-compose.yml"
    os.symlink(tmp_path / "missing.yml", dangling)
    code, _report, err = lint_json(capsys, str(dangling))
    assert code == 2
    assert err.count("\n") == 1 and "docker-compose.yml" in err


def test_missing_path_given_by_name(tmp_path, capsys):
    code, _report, err = lint_json(capsys, str(tmp_path / "nope.yml"))
    assert code == 2 and "nope.yml" in err and err.count("\n") == 1


def test_folder_with_many_unrelated_files(tmp_path, capsys):
    for i in range(10_000):
        (tmp_path / f"file{i}.txt").write_bytes(b"")
    code, report, _err = lint_json(capsys, str(tmp_path))
    assert code == 0 and report["findings"] == []
