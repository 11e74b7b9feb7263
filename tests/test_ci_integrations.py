"""The GitHub Action and the GitLab component: parsed, pinned, and their steps run as a runner would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
INPUT_REF = re.compile(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}")
GITLAB_INPUT = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")


def _yaml_all(path: Path) -> list:
    return list(YAML(typ="safe").load_all(path.read_text(encoding="utf-8")))


def _action() -> dict:
    return _yaml_all(ROOT / "action.yml")[0]


def test_every_action_used_is_pinned_by_full_commit_sha():
    steps = _action()["runs"]["steps"]
    uses = [step["uses"] for step in steps if "uses" in step]
    assert uses, "the action uses setup-python and upload-sarif"
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), ref


def _run_action(workspace: Path, inputs: dict[str, str]) -> tuple[int, str, Path]:
    """Run the action's run-steps (not the install step: the package under test is installed) with
    the variables a GitHub runner sets."""
    action = _action()
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update(inputs)
    output_file = workspace / "github_output"
    output_file.write_text("")
    bindir = workspace / "bin"
    bindir.mkdir()
    # The console script of the package under test, whatever checkout the tests run from.
    (bindir / "vantage-lint").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m vantage_lint "$@"\n')
    (bindir / "vantage-lint").chmod(0o755)
    env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workspace),
           "GITHUB_OUTPUT": str(output_file), "GITHUB_ACTION_PATH": str(ROOT), "RUNNER_TEMP": str(workspace),
           "PYTHONPATH": str(ROOT), "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    printed, status = "", 0
    for step in action["runs"]["steps"]:
        if "run" not in step or step.get("name") == "Install vantage-lint":
            continue
        assert step["shell"] == "bash"
        step_env = {key: INPUT_REF.sub(lambda m: values[m.group(1)], str(val))
                    for key, val in step.get("env", {}).items()}
        done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=workspace, env={**env, **step_env},
                              capture_output=True, text=True, timeout=120, check=False)
        printed += done.stdout
        status = done.returncode
    return status, printed, output_file


def test_the_install_step_installs_the_actions_own_checkout():
    install = next(step for step in _action()["runs"]["steps"] if step.get("name") == "Install vantage-lint")
    assert '"$GITHUB_ACTION_PATH"' in install["run"]


def test_the_action_annotates_and_fails_on_a_broken_stack(tmp_path):
    shutil.copytree(ROOT / "fixtures" / "broken", tmp_path / "stack")
    status, printed, output_file = _run_action(tmp_path, {"paths": "stack"})
    assert status == 1
    assert re.search(r"^::error file=stack/", printed, re.M)
    assert "exit-code=1" in output_file.read_text()


def test_the_action_writes_sarif_when_asked_and_honours_fail_on(tmp_path):
    shutil.copytree(ROOT / "fixtures" / "broken", tmp_path / "stack")
    status, _, output_file = _run_action(tmp_path, {"paths": "stack", "upload-sarif": "true", "fail-on": "never"})
    assert status == 0 and "exit-code=0" in output_file.read_text()
    sarif = json.loads((tmp_path / "vantage-lint.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]


def test_the_gitlab_component_writes_code_quality_and_junit_reports(tmp_path):
    spec, job = _yaml_all(ROOT / "templates" / "vantage-lint.yml")
    inputs = {name: str(val.get("default", "")) for name, val in spec["spec"]["inputs"].items()}
    body = job["vantage-lint"]
    reports = body["artifacts"]["reports"]
    assert set(reports) == {"codequality", "junit"}
    shutil.copytree(ROOT / "fixtures" / "broken", tmp_path / "stack")
    inputs["paths"] = "stack"
    for line in body["script"]:
        if "pip install" in line:
            continue  # the package under test is installed already
        command = GITLAB_INPUT.sub(lambda m: inputs[m.group(1)], line)
        command = command.replace("vantage-lint ", f'"{sys.executable}" -m vantage_lint ', 1)
        done = subprocess.run(["sh", "-c", command], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode in (0, 1), done.stderr
    quality = json.loads((tmp_path / reports["codequality"]).read_text())
    assert quality and {"check_name", "fingerprint", "location", "severity"} <= set(quality[0])
    assert list(ET.parse(tmp_path / reports["junit"]).getroot().iter("testcase"))
