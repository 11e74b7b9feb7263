"""Writes (issue 13, items 10-13): `--fix` never damages a file or reaches beyond what it should.

Each case runs the CLI in a subprocess (a hang fails the test) and checks the bytes and mode of
every protected file afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIMIT_S = 60


def _cli(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run([sys.executable, "-m", "vantage_lint", "--isolated", "--no-cache", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=LIMIT_S, **kwargs)


def _snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), stat.S_IMODE(path.stat().st_mode)


# --- 10: flow collections with a comment before the closing bracket ---------------------------

FLOW = """\
services:
  web:
    image: nginx:1.27
    security_opt: [
      "label:disable",
      # keep labels off
    ]
    logging: {
      driver: json-file,  # default
      # no options yet
    }
"""

FLOW_FIXED = """\
services:
  web:
    image: nginx:1.27
    security_opt: [
      "label:disable", "no-new-privileges:true",
      # keep labels off
    ]
    logging: {
      driver: json-file, options: {max-size: "10m", max-file: "3"},  # default
      # no options yet
    }
"""


def test_flow_collection_fix_goes_after_the_last_entry_not_into_the_comment(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(FLOW)
    run = _cli(["--select", "VL106,VL405", "--fix", "--unsafe-fixes", "compose.yaml"], tmp_path)
    assert path.read_text() == FLOW_FIXED
    assert "Fixed 2 findings (0 remaining)." in run.stderr, run.stderr
    assert run.returncode == 0
    again = _cli(["--select", "VL106,VL405", "--fix", "--unsafe-fixes", "compose.yaml"], tmp_path)
    assert path.read_text() == FLOW_FIXED  # idempotent: no second copy
    assert "Fixed 0 findings (0 remaining)." in again.stderr


@pytest.mark.parametrize("text, expected", [
    ('    security_opt: ["label:disable",  # c\n    ]\n',
     '    security_opt: ["label:disable", "no-new-privileges:true",  # c\n    ]\n'),
    ('    security_opt: [\n      "label:disable"  # c\n      # d\n    ]\n',
     '    security_opt: [\n      "label:disable", "no-new-privileges:true"  # c\n      # d\n    ]\n'),
    ('    security_opt: [  # none yet\n    ]\n',
     '    security_opt: ["no-new-privileges:true"  # none yet\n    ]\n'),
], ids=["trailing-comma", "no-comma", "empty"])
def test_flow_sequence_siblings(tmp_path: Path, text: str, expected: str) -> None:
    head = "services:\n  web:\n    image: nginx:1.27\n"
    path = tmp_path / "compose.yaml"
    path.write_text(head + text)
    run = _cli(["--select", "VL405", "--fix", "--unsafe-fixes", "compose.yaml"], tmp_path)
    assert path.read_text() == head + expected, run.stderr
    assert "Fixed 1 finding (0 remaining)." in run.stderr


# --- 11: redis.conf outside the project, or shared ------------------------------------------

REDIS_SERVICE = """\
  {name}:
    image: redis:7.2
    command: redis-server /usr/local/etc/redis/redis.conf
    volumes:
      - {source}:/usr/local/etc/redis/redis.conf:ro
"""
WORKER = """\
  worker:
    image: python:3.12
    command: celery -A app worker
    environment:
      CELERY_BROKER_URL: redis://{name}:6379/0
"""
CONF = "appendonly no\nmaxmemory 100mb\nmaxmemory-policy allkeys-lru\n"


def test_redis_conf_outside_the_project_is_never_rewritten(tmp_path: Path) -> None:
    shared = tmp_path / "shared" / "redis.conf"
    shared.parent.mkdir()
    shared.write_text(CONF)
    project = tmp_path / "p"
    project.mkdir()
    (project / "compose.yaml").write_text(
        "services:\n" + REDIS_SERVICE.format(name="redis", source="../shared/redis.conf") + WORKER.format(name="redis"))
    before = _snapshot(shared)
    run = _cli(["--format", "concise", "--fix", "--unsafe-fixes", "."], project)
    assert _snapshot(shared) == before
    assert ("compose.yaml:6:9: VL003 [warning] the host file '../shared/redis.conf' mounted at "
            "/usr/local/etc/redis/redis.conf for Redis service \"redis\" is outside the project folder; not read"
            ) in run.stdout
    diff = _cli(["--diff", "--unsafe-fixes", "."], project)
    assert "redis.conf" not in diff.stdout


def test_redis_conf_shared_with_another_project_is_not_rewritten(tmp_path: Path) -> None:
    (tmp_path / "redis.conf").write_text(CONF)
    (tmp_path / "compose.yaml").write_text("services:\n" + REDIS_SERVICE.format(name="cache", source="./redis.conf"))
    (tmp_path / "celery.yml").write_text(
        "services:\n" + REDIS_SERVICE.format(name="broker", source="./redis.conf") + WORKER.format(name="broker"))
    before = _snapshot(tmp_path / "redis.conf")
    run = _cli(["--select", "VL2", "--fix", "--unsafe-fixes", "compose.yaml", "celery.yml"], tmp_path)
    assert _snapshot(tmp_path / "redis.conf") == before
    assert "redis.conf is read by other projects of this run too, and the fix would change them" in run.stderr
    # Alone, the same project gets the fix: only the sharing withheld it.
    alone = _cli(["--select", "VL210", "--fix", "--unsafe-fixes", "compose.yaml"], tmp_path)
    assert (tmp_path / "redis.conf").read_text().startswith("appendonly yes\n"), alone.stderr


def test_redis_conf_shared_by_two_services_gets_no_fix(tmp_path: Path) -> None:
    (tmp_path / "redis.conf").write_text(CONF)
    (tmp_path / "compose.yaml").write_text(
        "services:\n" + REDIS_SERVICE.format(name="cache", source="./redis.conf")
        + REDIS_SERVICE.format(name="broker", source="./redis.conf") + WORKER.format(name="broker"))
    before = _snapshot(tmp_path / "redis.conf")
    run = _cli(["--select", "VL210,VL214", "--format", "concise", "--fix", "--unsafe-fixes", "."], tmp_path)
    assert _snapshot(tmp_path / "redis.conf") == before
    assert "VL210" in run.stdout and "Fixed 0 findings" in run.stderr


# --- 12: read-only files, hard links, metadata, signals -------------------------------------

VERSIONED = 'version: "3.8"\nservices:\n  web:\n    image: nginx:1.27\n'


def test_read_only_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(VERSIONED)
    path.chmod(0o444)
    before = _snapshot(path)
    run = _cli(["--select", "VL006", "--fix", "compose.yaml"], tmp_path)
    assert _snapshot(path) == before
    assert run.returncode == 2
    assert "vantage-lint: error: compose.yaml is read-only (mode 0444); not written" in run.stderr
    assert list(tmp_path.glob(".*.tmp")) == []


@pytest.mark.skipif(os.geteuid() != 0 or not hasattr(os, "fork"), reason="needs root to switch to another user")
def test_file_the_user_cannot_write_is_refused(tmp_path: Path) -> None:
    from vantage_lint.cli import main

    # Every module the fix needs is imported here, as root: the other user may not be able to
    # read the interpreter's own folders, so the child is a fork, not a new interpreter.
    warm = tmp_path / "warm"
    warm.mkdir()
    (warm / "compose.yaml").write_text(VERSIONED)
    cwd = os.getcwd()
    try:
        os.chdir(warm)
        assert main(["--isolated", "--no-cache", "--select", "VL006", "--fix", "compose.yaml"]) == 0
    finally:
        os.chdir(cwd)
    # A folder the other user may write (so only the file's own permission stops the write),
    # with a root-owned 0644 file in it.
    folder = Path(tempfile.mkdtemp(prefix="vl-writes-"))
    try:
        folder.chmod(0o777)
        path = folder / "compose.yaml"
        path.write_text(VERSIONED)
        path.chmod(0o644)
        before = _snapshot(path)
        log = folder / "stderr.txt"
        log.touch()
        log.chmod(0o666)
        pid = os.fork()
        if pid == 0:  # the child: become nobody, run the fix, report by exit status
            code = 3
            try:
                os.setgid(65534)
                os.setuid(65534)
                os.chdir(folder)
                with open(log, "w") as err:
                    sys.stderr = err
                    code = main(["--isolated", "--no-cache", "--select", "VL006", "--fix", "compose.yaml"])
                    err.flush()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 2, log.read_text()
        assert _snapshot(path) == before
        assert "compose.yaml is read-only (mode 0644); not written" in log.read_text()
        assert sorted(p.name for p in folder.iterdir()) == ["compose.yaml", "stderr.txt"]
    finally:
        shutil.rmtree(folder)


def test_hard_linked_file_is_refused_not_split(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(VERSIONED)
    other = tmp_path / "elsewhere.yaml"
    os.link(path, other)
    run = _cli(["--select", "VL006", "--fix", "compose.yaml"], tmp_path)
    assert run.returncode == 2
    assert "compose.yaml has 2 hard links, which replacing it would split; not written" in run.stderr
    assert path.read_text() == VERSIONED and os.path.samefile(path, other)


def test_extended_attributes_and_mode_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(VERSIONED)
    path.chmod(0o640)
    try:
        os.setxattr(path, "user.vantage-test", b"kept")
    except (OSError, AttributeError) as exc:
        pytest.skip(f"the file system here has no user extended attributes ({exc})")
    run = _cli(["--select", "VL006", "--fix", "compose.yaml"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert path.read_text() == VERSIONED.replace('version: "3.8"\n', "")
    assert os.getxattr(path, "user.vantage-test") == b"kept"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


# Sends a signal to itself in the middle of the write (after the temporary file is written,
# before the rename): the temporary file must be gone and the original untouched.
SIGNAL_RUNNER = textwrap.dedent("""
    import os, signal, sys
    number = int(sys.argv[1])
    real_fsync = os.fsync
    def fsync(fd):
        real_fsync(fd)
        if not os.path.isdir(os.readlink(f"/proc/self/fd/{fd}")):
            os.kill(os.getpid(), number)
    os.fsync = fsync
    from vantage_lint.cli import main
    sys.exit(main(sys.argv[2:]))
""")


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_during_write_leaves_no_temporary_file(tmp_path: Path, number: int) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(VERSIONED)
    env = dict(os.environ, PYTHONPATH=str(ROOT), VANTAGE_LINT_NO_CACHE="1")
    run = subprocess.run([sys.executable, "-c", SIGNAL_RUNNER, str(int(number)), "--isolated", "--select", "VL006",
                          "--fix", "compose.yaml"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=LIMIT_S)
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compose.yaml"]
    assert path.read_text() == VERSIONED


# --- 13: symbolic links, --diff, partial failures, VL007 in a string ------------------------

def test_symlinked_compose_file_is_fixed_once_and_stays_a_link(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(VERSIONED)
    (tmp_path / "compose.yaml").symlink_to("docker-compose.yml")
    diff = _cli(["--select", "VL006", "--diff", "."], tmp_path)
    assert diff.stdout.count("+++ ") == 1, diff.stdout
    run = _cli(["--select", "VL006", "--fix", "."], tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Fixed 1 finding (0 remaining)." in run.stderr
    assert (tmp_path / "compose.yaml").is_symlink()
    assert (tmp_path / "docker-compose.yml").read_text() == VERSIONED.replace('version: "3.8"\n', "")


def test_symlink_and_target_named_together_are_one_patch(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(VERSIONED)
    (tmp_path / "compose.yaml").symlink_to("docker-compose.yml")
    diff = _cli(["--select", "VL006", "--diff", "compose.yaml", "docker-compose.yml"], tmp_path)
    assert diff.stdout.count("+++ ") == 1, diff.stdout
    run = _cli(["--select", "VL006", "--fix", "compose.yaml", "docker-compose.yml"], tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "docker-compose.yml").read_text() == VERSIONED.replace('version: "3.8"\n', "")


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=LIMIT_S)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_is_one_patch_per_file_that_git_apply_accepts(tmp_path: Path) -> None:
    bom_crlf = b"\xef\xbb\xbfversion: \"3.8\"\r\nservices:\r\n  web:\r\n    image: nginx:1.27\r\n    privileged: false"
    (tmp_path / "compose.yaml").write_bytes(bom_crlf)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "docker-compose.yml").write_text('version: "3"\nservices:\n  a:\n    image: nginx:1\n')
    assert _git(["init", "-q", "."], tmp_path).returncode == 0
    env = dict(os.environ, PYTHONPATH=str(ROOT), VANTAGE_LINT_NO_CACHE="1")
    diff = subprocess.run([sys.executable, "-m", "vantage_lint", "--isolated", "--select", "VL006,VL107",
                           "--unsafe-fixes", "--diff", "."], cwd=tmp_path, env=env, capture_output=True,
                          timeout=LIMIT_S)  # bytes: the CRLF of the patch must survive
    assert diff.returncode == 1
    patch = tmp_path.parent / "fix.patch"
    patch.write_bytes(diff.stdout)
    assert diff.stdout.count(b"+++ b/compose.yaml") == 1 and diff.stdout.count(b"+++ b/sub/docker-compose.yml") == 1
    check = _git(["apply", "--check", str(patch)], tmp_path)
    assert check.returncode == 0, check.stderr
    # Applying the patch gives exactly what --fix writes (BOM and CRLF kept).
    assert _git(["apply", str(patch)], tmp_path).returncode == 0
    applied = {p: (tmp_path / p).read_bytes() for p in ("compose.yaml", "sub/docker-compose.yml")}
    (tmp_path / "compose.yaml").write_bytes(bom_crlf)
    (tmp_path / "sub" / "docker-compose.yml").write_text('version: "3"\nservices:\n  a:\n    image: nginx:1\n')
    _cli(["--select", "VL006,VL107", "--unsafe-fixes", "--fix", "."], tmp_path)
    assert {p: (tmp_path / p).read_bytes() for p in applied} == applied
    assert applied["compose.yaml"].startswith(b"\xef\xbb\xbfservices:\r\n")


def test_partial_write_failure_says_what_was_and_was_not_written(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "compose.yaml").write_text(VERSIONED)
    (tmp_path / "b" / "compose.yaml").chmod(0o444)
    run = _cli(["--select", "VL006", "--fix", "a/compose.yaml", "b/compose.yaml"], tmp_path)
    assert run.returncode == 2
    assert "vantage-lint: error: b/compose.yaml is read-only (mode 0444); not written" in run.stderr
    assert "vantage-lint: wrote a/compose.yaml; not written: b/compose.yaml" in run.stderr
    assert (tmp_path / "a" / "compose.yaml").read_text() == VERSIONED.replace('version: "3.8"\n', "")
    assert (tmp_path / "b" / "compose.yaml").read_text() == VERSIONED


@pytest.mark.parametrize("text", [
    '{"services": {"web": {"command":"echo # vantage-lint: disable=VL406", "image":"nginx:1.27"}}}\n',
    '{"services": {"web": {"image":"nginx:1.27", "command":"echo hi # vantage-lint: disable=VL102"}}}\n',
    'services:\n  web:\n    image: nginx:1.27\n    command: ["sh", "-c",\n      "echo # vantage-lint: disable=VL406"]\n',
    'services:\n  web:\n    image: nginx:1.27\n    labels: {"note":\'x # vantage-lint: disable=VL406\'}\n',
], ids=["json-first", "json-last", "flow-continued", "single-quoted"])
def test_vl007_fix_never_deletes_text_inside_a_string(tmp_path: Path, text: str) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text(text)
    run = _cli(["--format", "concise", "--fix", "--select", "VL007,VL008", "compose.yaml"], tmp_path)
    assert path.read_text() == text
    assert "VL007" not in run.stdout and "VL008" not in run.stdout, run.stdout


def test_a_real_trailing_comment_after_a_json_value_is_still_a_suppression(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text('{"services": {"web": {"image":"nginx:1.27"}}}  # vantage-lint: disable=VL406\n')
    _cli(["--fix", "--select", "VL007,VL406", "compose.yaml"], tmp_path)
    assert path.read_text() == '{"services": {"web": {"image":"nginx:1.27"}}}\n'


def test_the_same_file_linked_from_another_folder_is_another_project(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "compose.yaml").write_text(VERSIONED)
    (tmp_path / "b" / "compose.yaml").symlink_to("../a/compose.yaml")
    run = _cli(["--select", "VL006", "--format", "concise", "."], tmp_path)
    assert [line.split(":")[0] for line in run.stdout.splitlines() if "VL006" in line] == \
        ["a/compose.yaml", "b/compose.yaml"]
    fixed = _cli(["--select", "VL006", "--fix", "."], tmp_path)
    assert fixed.returncode == 0, fixed.stderr  # one file on disk: written once, not "changed on disk"
    assert (tmp_path / "a" / "compose.yaml").read_text() == VERSIONED.replace('version: "3.8"\n', "")
    assert (tmp_path / "b" / "compose.yaml").is_symlink()
