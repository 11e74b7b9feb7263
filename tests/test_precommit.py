"""The pre-commit hook (.pre-commit-hooks.yaml), checked with pre-commit itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"


def _hook() -> dict:
    (hook,) = YAML(typ="safe").load(MANIFEST.read_text())
    return hook


def _pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run([shutil.which("pre-commit") or "pre-commit", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900, check=False)


def test_manifest_is_valid(tmp_path):
    done = _pre_commit("validate-manifest", str(MANIFEST), cwd=ROOT, home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_manifest_fields():
    hook = _hook()
    assert hook["id"] == "vantage-lint" and hook["entry"] == "vantage-lint" and hook["language"] == "python"
    # redis.conf has no yaml tag: a yaml-only types filter would silently skip it
    assert hook["types"] == ["file"]
    assert hook["require_serial"] is True


@pytest.mark.parametrize("name", [
    "docker-compose.yml", "docker-compose.yaml", "docker-compose.prod.yml", "docker-compose-prod.yml",
    "compose.yaml", "compose.yml", "compose.override.yaml", "compose-dev.yaml", "deploy/docker-compose.yml",
    "redis.conf", "conf/redis-6379.conf", "sentinel.conf", "valkey.conf",
])
def test_files_pattern_matches(name):
    assert re.search(_hook()["files"], name)


@pytest.mark.parametrize("name", [
    "composer.yml", "mycompose.yml", "docker-compose.yml.bak", "compose.yaml.j2", "other.yml",
    "redis.conf.bak", "compose/x.yml", "my-redis.conf", "nginx.conf",
])
def test_files_pattern_rejects(name):
    assert not re.search(_hook()["files"], name)


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.com",
                    "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                   cwd=cwd, check=True, capture_output=True)


def _hook_repo(tmp_path: Path) -> Path:
    """A committed copy of the working tree: try-repo installs what git tracks."""
    repo = tmp_path / "hookrepo"
    repo.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, repo / name)
    if not (repo / "README.md").exists():
        (repo / "README.md").write_text("vantage-lint\n")
    shutil.copytree(ROOT / "vantage_lint", repo / "vantage_lint",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _git("init", "-q", cwd=repo)
    _git("add", "-A", cwd=repo)
    _git("commit", "-qm", "hook", cwd=repo)
    return repo


@pytest.mark.slow
def test_try_repo_end_to_end(tmp_path):
    """pre-commit installs the hook from a repository (pip install . in a virtualenv: needs the
    package index) and runs it on the matching files only."""
    hook_repo = _hook_repo(tmp_path)
    target = tmp_path / "target"
    target.mkdir()
    _git("init", "-q", cwd=target)
    (target / ".vantage-lint.yaml").write_text("select: [VL001, VL006]\nfail-on: info\n")
    (target / "deploy").mkdir()
    (target / "deploy" / "docker-compose.yml").write_text('version: "3.8"\nservices:\n  web:\n    image: nginx:1.25\n')
    (target / "redis.conf").write_text("appendonly yes\n")
    (target / "notes.yml").write_text("not: [valid yaml\n")  # not a compose file: never passed to the hook
    _git("add", "-A", cwd=target)
    home = tmp_path / "pre-commit-home"

    done = _pre_commit("try-repo", str(hook_repo), "vantage-lint", "--all-files", "--verbose", cwd=target, home=home)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert re.search(r"vantage-lint\.+Failed", output), output
    assert "deploy/docker-compose.yml" in output and "VL006" in output, output
    assert "notes.yml" not in output  # the files pattern kept it away from the hook

    (target / "deploy" / "docker-compose.yml").write_text("services:\n  web:\n    image: nginx:1.25\n")
    _git("add", "-A", cwd=target)
    done = _pre_commit("try-repo", str(hook_repo), "vantage-lint", "--all-files", cwd=target, home=home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"vantage-lint\.+Passed", done.stdout), done.stdout


def test_hook_ends_its_args_with_double_dash():
    # pre-commit runs `entry args... files...`: a file named `-x.yml` must come after `--`
    assert _hook()["args"][-1] == "--"


@pytest.mark.slow
def test_file_named_like_an_option(tmp_path):
    """A staged file named `-x.yml` reaches vantage-lint as a path (exit 1 with its finding),
    not as the unknown option `-x` (exit 2)."""
    hook_repo = _hook_repo(tmp_path)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hook_repo, capture_output=True, text=True,
                         check=True).stdout.strip()
    target = tmp_path / "target"
    target.mkdir()
    _git("init", "-q", cwd=target)
    (target / ".vantage-lint.yaml").write_text("select: [VL006]\nfail-on: info\n")
    (target / "-x.yml").write_text('version: "3.8"\nservices:\n  web:\n    image: nginx:1.25\n')
    (target / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n"
        "      - id: vantage-lint\n        files: '(^|/)-x\\.yml$'\n")
    _git("add", "-A", cwd=target)
    done = _pre_commit("run", "--all-files", "--verbose", cwd=target, home=tmp_path / "pre-commit-home")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "-x.yml:1:1: VL006" in output or ("-x.yml" in output and "VL006" in output), output
    assert "No such option" not in output, output
