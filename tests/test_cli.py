"""The command line: exit status, --output, --statistics, --quiet, stdin, rule docs."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from vantage_lint.cli import main
from vantage_lint.docs import list_rules_text

ROOT = Path(__file__).resolve().parent.parent
OLD = 'version: "3.8"\nservices:\n  web:\n    image: nginx:1.25\n'
ARGS = ["--isolated", "--select", "VL006", "--format", "concise"]


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yaml").write_text(OLD)
    return tmp_path


def test_exit_status(project, capsys):
    assert main(ARGS + ["compose.yaml"]) == 0  # VL006 is info, below the default fail-on
    assert main(ARGS + ["--fail-on", "info", "compose.yaml"]) == 1
    assert main(ARGS + ["--fail-on", "info", "--exit-zero", "compose.yaml"]) == 0
    assert main(ARGS + ["--fail-on", "never", "--severity-typo", "compose.yaml"]) == 2
    capsys.readouterr()
    assert main(ARGS + ["missing.yaml"]) == 2
    assert capsys.readouterr().err == "vantage-lint: error: missing.yaml: no such file or directory\n"
    assert main(["--isolated", "--select", "VL9ZZ", "compose.yaml"]) == 2
    assert capsys.readouterr().err.startswith("vantage-lint: error: unknown rule selector 'VL9ZZ'")


def test_fail_on_from_the_configuration(project):
    (project / ".vantage-lint.yaml").write_text("select: [VL006]\nfail-on: info\n")
    assert main(["--format", "concise", "compose.yaml"]) == 1
    assert main(["--format", "concise", "--fail-on", "error", "compose.yaml"]) == 0


def test_output_file(project, capsys):
    assert main(ARGS + ["--format", "json", "--output", "report.json", "compose.yaml"]) == 0
    assert capsys.readouterr().out == ""
    data = json.loads((project / "report.json").read_text())
    assert [f["code"] for f in data["findings"]] == ["VL006"]


def test_statistics_and_quiet(project, capsys):
    assert main(ARGS + ["--statistics", "compose.yaml"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("compose.yaml:1:1: VL006 [info]")
    assert out[1] == "    1  VL006   [*] obsolete-version-key"
    assert out[2] == "Found 1 finding (1 info) in 1 file. 1 fixable with --fix (some may need --unsafe-fixes)."
    assert main(ARGS + ["--quiet", "compose.yaml"]) == 0
    assert capsys.readouterr().out.splitlines() == [out[0]]


def test_text_format_shows_the_node_and_hint(project, capsys):
    assert main(["--isolated", "--select", "VL006", "--color", "never", "compose.yaml"]) == 0
    out = capsys.readouterr().out
    assert "VL006 [obsolete-version-key]" in out and '     1 | version: "3.8"' in out and "hint:" in out


def test_stdin(project, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(OLD))
    assert main(ARGS + ["--stdin-filename", "deploy/compose.yaml", "-"]) == 0
    assert capsys.readouterr().out.startswith("deploy/compose.yaml:1:1: VL006 [info]")


def test_stdin_uses_the_configuration_of_its_file_name(project, monkeypatch, capsys):
    (project / "deploy").mkdir()
    (project / "deploy" / ".vantage-lint.yaml").write_text("select: [VL006]\nfail-on: info\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(OLD))
    assert main(["--format", "concise", "--stdin-filename", "deploy/compose.yaml", "-"]) == 1
    monkeypatch.setattr(sys, "stdin", io.StringIO("services:\n  redis:\n    image: redis:7.2\n"))
    assert main(["--format", "concise", "--stdin-filename", "deploy/redis-compose.yaml", "-"]) == 0


def test_stdin_redis_conf(project, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("maxmemory 100mb\nmaxmemory 200mb\n"))
    assert main(["--isolated", "--select", "VL226", "--format", "concise", "--stdin-filename", "redis.conf", "-"]) == 1
    assert capsys.readouterr().out.startswith("redis.conf:")


# --- rule documentation -------------------------------------------------------------------------

def test_explain(capsys):
    assert main(["--explain", "VL006"]) == 0
    by_code = capsys.readouterr().out
    assert by_code.startswith("# VL006 obsolete-version-key\n")
    assert "## What it does" in by_code and "## Fix" in by_code and "- Fix: safe" in by_code
    assert main(["--explain", "obsolete-version-key"]) == 0
    assert capsys.readouterr().out == by_code
    assert main(["--explain", "obsolete-version-kye"]) == 2
    assert capsys.readouterr().err == (
        "vantage-lint: error: unknown rule 'obsolete-version-kye' (did you mean obsolete-version-key?)\n")


def test_list_rules(capsys):
    assert main(["--list-rules"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert any(line.startswith("VL007  unused-suppression") for line in text)
    assert main(["--list-rules", "--list-format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    vl007 = next(r for r in rules if r["code"] == "VL007")
    assert vl007["fix"] == "safe" and vl007["url"].endswith("#vl007-unused-suppression")
    assert main(["--list-rules", "--list-format", "markdown"]) == 0
    assert capsys.readouterr().out == list_rules_text("markdown")


def test_docs_rules_md_is_up_to_date():
    """docs/rules.md is generated from the rules; regenerate it with
    `vantage-lint --list-rules --list-format markdown > docs/rules.md`."""
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == list_rules_text("markdown"), (
        "docs/rules.md is stale: run `vantage-lint --list-rules --list-format markdown > docs/rules.md`")


def test_the_console_script_runs():
    done = subprocess.run(["vantage-lint", "--list-rules", "--list-format", "markdown"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0 and done.stdout == list_rules_text("markdown")


def test_fix_removes_unused_suppressions(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  web:  # vantage-lint: disable=VL006 -- stale\n    image: nginx:1.25\n"
                       "    x-vantage:\n      ignore: [VL006, VL007]\n")
    assert main(["--isolated", "--select", "VL006,VL007,VL008", "--format", "concise", "--fix", "compose.yaml"]) == 1
    assert compose.read_text() == ("services:\n  web:\n    image: nginx:1.25\n"
                                   "    x-vantage:\n      ignore: [VL007]\n")
    assert "VL008" in capsys.readouterr().out  # VL007 cannot be suppressed inline: reported, not removed
