"""Baselines match by rule, file, service and node fingerprint, never by line."""

from __future__ import annotations

import json

import pytest

from tests.suppress_helpers import lint_test
from vantage_lint.baseline import BaselineError, apply_baseline, write_baseline_file
from vantage_lint.cli import main
from vantage_lint.settings import Settings

COMPOSE = """\
version: "3.8"
services:
  web:
    image: nginx:1.25
  worker:
    image: "python:3.12"
"""

SELECT = ["VL006", "VL990", "VL991"]


def _lint(path):
    return lint_test([path], Settings(select=list(SELECT)))


def test_baselined_findings_survive_lines_added_above(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)
    baseline = tmp_path / "baseline.json"
    report = _lint(compose)
    assert len(report.findings) == 5
    write_baseline_file(report, baseline)
    data = json.loads(baseline.read_text())
    assert data["tool"] == "vantage-lint" and len(data["findings"]) == 5
    assert {e["path"] for e in data["findings"]} == {"compose.yaml"}

    # unrelated edits: a comment block on top, a new service before the old ones, reindent nothing
    compose.write_text("# deployed by CI\n# owner: platform\n" + COMPOSE.replace(
        "services:\n", "services:\n  cache:\n    image: redis:7.2\n"))
    report = _lint(compose)
    assert apply_baseline(report, baseline) == 0
    assert sorted((f.code, f.service) for f in report.findings) == [("VL990", "cache"), ("VL991", "cache")]
    assert len(report.suppressed) == 5 and {f.suppressed_by for f in report.suppressed} == {"baseline"}


def test_changed_node_is_a_new_finding_and_the_old_entry_is_stale(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)
    baseline = tmp_path / "baseline.json"
    write_baseline_file(_lint(compose), baseline)
    compose.write_text(COMPOSE.replace("nginx:1.25", "nginx:1.27"))
    report = _lint(compose)
    assert apply_baseline(report, baseline) == 1
    assert [(f.code, f.service) for f in report.findings] == [("VL991", "web")]


def test_paths_are_relative_to_the_baseline_file(tmp_path, monkeypatch):
    (tmp_path / "deploy").mkdir()
    (tmp_path / "ci").mkdir()
    compose = tmp_path / "deploy" / "compose.yaml"
    compose.write_text(COMPOSE)
    baseline = tmp_path / "ci" / "baseline.json"
    monkeypatch.chdir(tmp_path)
    write_baseline_file(_lint("deploy/compose.yaml"), baseline)
    assert {e["path"] for e in json.loads(baseline.read_text())["findings"]} == {"../deploy/compose.yaml"}
    monkeypatch.chdir(tmp_path / "deploy")
    report = _lint("compose.yaml")
    apply_baseline(report, baseline)
    assert report.findings == []


def test_identical_findings_need_one_entry_each(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)
    baseline = tmp_path / "baseline.json"
    report = _lint(compose)
    report.findings = report.findings + [report.findings[0]]  # the same finding twice
    write_baseline_file(report, baseline)
    data = json.loads(baseline.read_text())
    data["findings"] = [e for e in data["findings"] if e["code"] != "VL006"] + [
        next(e for e in data["findings"] if e["code"] == "VL006")]
    baseline.write_text(json.dumps(data))
    report = _lint(compose)
    report.findings = report.findings + [report.findings[0]]
    apply_baseline(report, baseline)
    assert [f.code for f in report.findings] == ["VL006"]


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "baseline file not found (create it with --write-baseline)"),
        ("{not json", "not a vantage-lint baseline (invalid JSON"),
        ('{"findings": [{"code": "VL006"}]}', "entry 0 lacks code, path or fingerprint"),
        ("[]", "not a vantage-lint baseline (no findings list)"),
    ],
)
def test_bad_baseline_files(tmp_path, content, message):
    baseline = tmp_path / "baseline.json"
    if content is not None:
        baseline.write_text(content)
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)
    with pytest.raises(BaselineError, match=message.replace("(", r"\(").replace(")", r"\)")):
        apply_baseline(_lint(compose), baseline)


def test_cli_baseline_round_trip(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    args = ["--isolated", "--select", "VL006", "--fail-on", "info", "--format", "concise", "compose.yaml"]
    assert main(args + ["--write-baseline", "baseline.json"]) == 1
    capsys.readouterr()
    assert main(args + ["--baseline", "baseline.json"]) == 0
    assert capsys.readouterr().out == "No findings in 1 file. 1 suppressed.\n"
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    assert main(args + ["--baseline", "baseline.json"]) == 0
    assert "1 baseline entry no longer match" in capsys.readouterr().err
    assert main(args + ["--baseline", "missing.json"]) == 2
    err = capsys.readouterr().err
    assert err == "vantage-lint: error: missing.json: baseline file not found (create it with --write-baseline)\n"


def test_line_numbers_in_messages_do_not_change_the_fingerprint(tmp_path, monkeypatch):
    # VL001 names the line of the first definition; a comment added on top shifts it
    monkeypatch.chdir(tmp_path)
    compose = tmp_path / "compose.yaml"
    text = "services:\n  web:\n    image: nginx:1.25\n    image: nginx:1.27\n"
    compose.write_text(text)
    baseline = tmp_path / "baseline.json"
    report = lint_test([compose], Settings(select=["VL001"]))
    (duplicate,) = report.findings
    assert "line 3" in duplicate.message
    write_baseline_file(report, baseline)
    compose.write_text("# owner: platform\n" + text)
    report = lint_test([compose], Settings(select=["VL001"]))
    assert "line 4" in report.findings[0].message
    assert apply_baseline(report, baseline) == 0
    assert report.findings == [] and len(report.suppressed) == 1
