"""Bounded time and no hang on hostile inputs (issue 13, items 14-19): each case runs the CLI in a
subprocess with a generous timeout, so a hang is a failure, not a slow test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
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


# --- 14: include expansion -------------------------------------------------------------------

def test_redis_includes_that_double_at_every_level_are_bounded(tmp_path: Path) -> None:
    # 18 files, each including the next twice: redis-server would load 2^17 copies.
    for i in range(18):
        nested = f"include ./c{i + 1}.conf\n" * 2 if i < 17 else ""
        (tmp_path / f"c{i}.conf").write_text(f"maxmemory {i + 1}mb\n{nested}save 60 1\n")
    (tmp_path / "redis.conf").write_text("include ./c0.conf\nappendonly yes\n")
    result = _run(["--isolated", "--no-cache", "--format", "concise", "--select", "VL005", "redis.conf"], tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.count("includes expand to more than 10,000 files") == 1, result.stdout


# Counts the opens of every file in the folder, to check each is read once.
OPEN_COUNTER = """
import collections, json, os, sys
folder = os.path.realpath(sys.argv[1])
opened = collections.Counter()
def hook(event, args):
    if event == "open" and isinstance(args[0], str):
        real = os.path.realpath(args[0])
        if real.startswith(folder + os.sep):
            opened[os.path.basename(real)] += 1
sys.addaudithook(hook)
from vantage_lint.cli import main
code = main(sys.argv[2:])
sys.stderr.write("\\nOPENED " + json.dumps(opened) + "\\n")
sys.exit(code)
"""


def test_compose_include_diamond_reads_each_file_once(tmp_path: Path) -> None:
    # 15 levels of a diamond: a_i and b_i both include a_{i+1} and b_{i+1} (2^15 paths).
    for i in range(15):
        nested = f"include:\n  - a{i + 1}.yml\n  - b{i + 1}.yml\n" if i < 14 else ""
        for side in "ab":
            (tmp_path / f"{side}{i}.yml").write_text(f"{nested}services:\n  {side}{i}:\n    image: nginx:1.27\n")
    (tmp_path / "compose.yaml").write_text("include:\n  - a0.yml\n  - b0.yml\nservices:\n  web:\n    image: nginx:1.27\n")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    result = subprocess.run([sys.executable, "-c", OPEN_COUNTER, str(tmp_path), "--isolated", "--no-cache",
                             "--format", "concise", "--select", "VL0", "compose.yaml"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=LIMIT_S)
    assert "Traceback" not in result.stderr
    opened = {name: n for name, n in json.loads(result.stderr.rpartition("\nOPENED ")[2]).items()
              if name.endswith((".yml", ".yaml"))}
    assert len(opened) == 31 and set(opened.values()) == {1}, opened


# --- 16: policy templates and patterns -------------------------------------------------------

@pytest.mark.parametrize("template", ["{service:>9999999999}", "{service:d}", "{value!r}"])
def test_policy_message_format_specs_are_refused_at_load(tmp_path: Path, template: str) -> None:
    (tmp_path / ".vantage-lint.yaml").write_text(
        f'policies:\n  - id: XACME001\n    message: "x {template}"\n    schema: {{required: [labels]}}\n')
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n")
    result = _run(["."], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vantage-lint: error: .vantage-lint.yaml:3: policies[0].message: ")
    assert f"placeholder {template} has a format spec or conversion" in lines[0]


def test_backtracking_policy_pattern_is_bounded_and_fails_closed(tmp_path: Path) -> None:
    (tmp_path / ".vantage-lint.yaml").write_text(
        'select: [XACME]\npolicies:\n  - id: XACME002\n    message: "service {service}: image {value}"\n'
        '    schema: {properties: {image: {pattern: "^(a+)+$"}}}\n')
    (tmp_path / "compose.yaml").write_text(
        f'services:\n  web:\n    image: "{"a" * 40}!"\n  api:\n    image: aaaa\n')
    result = _run(["--format", "concise", "."], tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("compose.yaml:2:3: XACME002 [warning] service web: policy XACME002 was not evaluated: its "
                        "schema ran past the 1 s budget (a pattern with nested quantifiers backtracks on this value); "
                        "counted as failing (service web)")
    assert not any("api" in line for line in lines)  # the short value is checked and passes


# --- 17: linear growth -----------------------------------------------------------------------

def test_ten_thousand_services(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n" + "".join(
        f"  s{i}:\n    image: nginx:1.27\n    depends_on: [s{(i + 1) % 10_000}]\n" for i in range(10_000)))
    result = subprocess.run([sys.executable, "-m", "vantage_lint", "--isolated", "--no-cache", "--format", "concise",
                             "--select", "VL003,VL101", "compose.yaml"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=4 * LIMIT_S, env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1])))
    assert result.returncode == 1, result.stderr
    assert result.stdout.count("VL101") == 10_000


def test_include_globs_over_three_thousand_files(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    for i in range(3000):
        (tmp_path / "conf.d" / f"f{i}.conf").write_text(f"maxmemory {i}mb\n")
    (tmp_path / "redis.conf").write_text("".join(f"include ./conf.d/f{i}*.conf\n" for i in range(200)))
    result = _run(["--isolated", "--no-cache", "--format", "concise", "--select", "VL005,VL213", "redis.conf"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "in 3001 files" in result.stdout


@pytest.mark.slow
def test_three_hundred_thousand_acl_user_lines(tmp_path: Path) -> None:
    (tmp_path / "users.conf").write_text("".join(f"user u{i} on >p{i} ~* +@all\n" for i in range(300_000)))
    result = subprocess.run([sys.executable, "-m", "vantage_lint", "--isolated", "--no-cache", "--format", "concise",
                             "--select", "VL005", "users.conf"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=10 * LIMIT_S, env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1])))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


# --- 18: names no file system takes, deep chains, deep configs, unreadable files ---------------

LONG = "a" * 300


@pytest.mark.parametrize("key, text, at", [
    ("env_file", f"services:\n  web:\n    image: nginx:1.27\n    env_file: ./{LONG}.env\n", "4:15"),
    ("extends", f"services:\n  web:\n    extends: {{file: ./{LONG}.yml, service: x}}\n", "3:21"),
    ("include", f"include:\n  - ./{LONG}.yml\nservices:\n  web:\n    image: nginx:1.27\n", "2:5"),
    ("env_file-nul", 'services:\n  web:\n    image: nginx:1.27\n    env_file: "./a\\0b.env"\n', "4:15"),
    ("extends-nul", 'services:\n  web:\n    extends: {file: "./a\\0b.yml", service: x}\n', "3:21"),
    ("include-nul", 'include:\n  - "./a\\0b.yml"\nservices:\n  web:\n    image: nginx:1.27\n', "2:5"),
    ("redis-mount", "services:\n  redis:\n    image: redis:7.2\n    command: redis-server /usr/local/etc/redis/redis.conf\n"
     f"    volumes:\n      - ./{LONG}.conf:/usr/local/etc/redis/redis.conf\n", "6:9"),
])
def test_impossible_paths_are_findings_at_the_key(tmp_path: Path, key: str, text: str, at: str) -> None:
    (tmp_path / "compose.yaml").write_text(text)
    result = _run(["--isolated", "--format", "concise", "--select", "VL003", "."], tmp_path)
    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    size = 305 if key == "redis-mount" else 304  # ./ + 300 + the extension
    reason = "contains a NUL byte" if key.endswith("nul") else f"has a name of {size} bytes, over the 255-byte limit"
    assert f"compose.yaml:{at}: VL003 [error] " in result.stdout and reason in result.stdout, result.stdout


@pytest.mark.parametrize("line", [f"include ./{LONG}.conf", 'include "./a\\x00b.conf"'], ids=["long", "nul"])
def test_impossible_redis_include_paths_are_vl005(tmp_path: Path, line: str) -> None:
    (tmp_path / "redis.conf").write_text(f"{line}\nappendonly yes\n")
    result = _run(["--isolated", "--format", "concise", "--select", "VL005", "redis.conf"], tmp_path)
    assert result.returncode == 1 and "internal error" not in result.stderr, result.stderr
    assert "redis.conf:1:9: VL005 [error] redis-server refuses `include " in result.stdout
    assert "can't open config file" in result.stdout


def test_extends_chain_a_thousand_deep(tmp_path: Path) -> None:
    services = "".join(f"  s{i}:\n    image: nginx:1.27\n    extends: s{i + 1}\n" for i in range(1000))
    (tmp_path / "compose.yaml").write_text(f"services:\n{services}  s1000:\n    image: nginx:1.27\n    user: '1000'\n")
    result = _run(["--isolated", "--format", "concise", "--select", "VL003,VL101", "."], tmp_path)
    assert result.returncode == 0, result.stdout[-500:] + result.stderr  # every service inherits the user
    assert "internal error" not in result.stderr


def test_deeply_nested_baseline_and_toml_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n")
    (tmp_path / "baseline.json").write_text('{"findings": ' + "[" * 5000 + "]" * 5000 + "}")
    result = _run(["--isolated", "--baseline", "baseline.json", "."], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "vantage-lint: error: baseline.json: not a vantage-lint baseline (JSON nested too deeply)"
    (tmp_path / "pyproject.toml").write_text("[tool.vantage-lint]\nrules = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n")
    result = _run(["--config", "pyproject.toml", "."], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "vantage-lint: error: pyproject.toml:1: invalid TOML: tables or arrays nested too deeply"


@pytest.mark.skipif(os.geteuid() != 0 or not hasattr(os, "fork"), reason="needs root to switch to another user")
def test_unreadable_files_do_not_abort_a_walk_as_another_user(tmp_path: Path) -> None:
    """chmod 000 stops only a user other than root, so the walk runs in a forked child that
    became `nobody` (a fork: that user may not be able to read the interpreter's folders)."""
    from vantage_lint.cli import main

    folder = Path(tempfile.mkdtemp(prefix="vl-unreadable-"))
    try:
        for name in ("a", "b"):
            (folder / name).mkdir()
        (folder / "a" / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n")
        (folder / "b" / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n    env_file: x.env\n")
        (folder / "b" / "x.env").write_text("A=1\n")
        (folder / "b" / "redis.conf").write_text("appendonly yes\n")
        for path in folder.rglob("*"):
            path.chmod(0o777 if path.is_dir() else 0o644)
        folder.chmod(0o777)
        for locked in ("a/compose.yaml", "b/x.env", "b/redis.conf"):
            (folder / locked).chmod(0)
        log = folder / "out.txt"
        log.touch()
        log.chmod(0o666)
        # Imports everything a walk needs, as root (the child cannot read the interpreter's folders).
        main(["--isolated", "--no-cache", "-o", str(tmp_path / "warm.txt"),
              str(Path(__file__).resolve().parents[1] / "fixtures" / "vantage")])
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                os.setgid(65534)
                os.setuid(65534)
                os.chdir(folder)
                with open(log, "w") as out:
                    sys.stdout = sys.stderr = out
                    code = main(["--isolated", "--no-cache", "--format", "concise", "--select", "VL0", "a", "b"])
                    out.flush()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        text = log.read_text()
        assert os.waitstatus_to_exitcode(status) == 1, text
        assert "a/compose.yaml:1:1: VL001 [error] cannot read the file: Permission denied; not linted" in text
        assert "b/compose.yaml:4:15: VL003 [error] cannot read env_file 'x.env': Permission denied" in text
        assert "b/redis.conf:1:1: VL005 [error] cannot read the file: Permission denied; not linted" in text
    finally:
        for path in folder.rglob("*"):
            path.chmod(0o700)
        shutil.rmtree(folder)


# --- 19: line endings, control characters, paths in messages, env_file problems ----------------

def test_cr_only_file_puts_findings_on_their_lines(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_bytes(
        b"services:\r  web:\r    image: nginx:1.27\r    privileged: true\r    user: '1000'  # vantage-lint: disable=VL406\r")
    result = _run(["--isolated", "--format", "concise", "--select", "VL401,VL406,VL007,VL008", "."], tmp_path)
    assert result.stdout.splitlines()[0].startswith("compose.yaml:4:17: VL401 [error]"), result.stdout
    assert "VL008" not in result.stdout  # the suppression comment is read on its own line
    text = _run(["--isolated", "--select", "VL401", "."], tmp_path).stdout
    assert "4 |     privileged: true\n" in text


def test_yaml_control_character_error_at_its_position(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text('services:\n  web:\n    image: nginx:1.27\n    labels:\n      a: "x\x07y"\n')
    result = _run(["--isolated", "--format", "concise", "."], tmp_path)
    assert result.stdout.splitlines()[0] == (
        "compose.yaml:5:12: VL001 [error] YAML syntax error: unacceptable character #x0007: "
        "control characters are not allowed")


def test_write_errors_name_the_users_path_not_a_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n")
    result = _run(["--isolated", "-o", "missing/report.txt", "."], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "vantage-lint: error: missing/report.txt: No such file or directory"
    assert ".tmp" not in result.stderr


def test_env_file_problems_are_findings(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx:1.27\n    env_file: app.env\n"
                                           "  api:\n    image: nginx:1.27\n    env_file: [app.env]\n")
    (tmp_path / "app.env").write_text("GOOD=1\nBAD LINE=2\nX='open\n")
    result = _run(["--isolated", "--format", "concise", "--select", "VL004", "."], tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[:2] == [  # once per file, however many services read it
        'app.env:2:1: VL004 [error] variable name "BAD LINE" cannot contain a space; Compose refuses the project '
        "(it cannot read this file)",
        "app.env:3:3: VL004 [error] unterminated quoted value 'open; Compose refuses the project (it cannot read this file)",
    ], result.stdout


@pytest.mark.redis
def test_redis_server_reloads_a_repeated_include(tmp_path: Path) -> None:
    """The claim behind the include budget: redis-server loads an included file again each time
    it is named (a user defined in it is then defined twice), so repeats multiply the work and
    cannot simply be skipped."""
    (tmp_path / "users.conf").write_text("user alice on nopass ~* +@all\n")
    (tmp_path / "redis.conf").write_text("port 0\ninclude ./users.conf\ninclude ./users.conf\n")
    proc = subprocess.Popen(["redis-server", "redis.conf"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        output = proc.communicate(timeout=10)[0].decode("utf-8", "replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1 and "Duplicate user found" in output, output
    mine = _run(["--isolated", "--format", "concise", "--select", "VL005", "redis.conf"], tmp_path)
    assert "users.conf:1:6: VL005 [error] redis-server refuses `user alice" in mine.stdout, mine.stdout
    assert "Duplicate user found" in mine.stdout
