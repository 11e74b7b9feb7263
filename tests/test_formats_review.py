"""--format rdjson (validated against reviewdog's published DiagnosticResult schema, copied
under tests/schemas/) and --format checkstyle."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from tests.test_formats import SECRET, report  # noqa: F401  (the shared fixture)
from tests.suppress_helpers import lint_test
from vantage_lint.report import ReportOptions, render
from vantage_lint.settings import Settings

RDJSON_SCHEMA = Path(__file__).parent / "schemas" / "rdjson-DiagnosticResult.json"


def _render(rep, fmt: str) -> str:
    out = io.StringIO()
    render(rep, fmt, out, ReportOptions())
    return out.getvalue()


def _validate(doc: dict) -> list[str]:
    schema = json.loads(RDJSON_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator(schema).iter_errors(doc)]


def test_rdjson_is_valid_against_reviewdogs_schema(report):  # noqa: F811
    text = _render(report, "rdjson")
    doc = json.loads(text)
    assert doc["diagnostics"], "the fixture has findings"
    assert _validate(doc) == []
    assert SECRET not in text
    first = doc["diagnostics"][0]
    assert first["severity"] in ("ERROR", "WARNING", "INFO")
    assert first["code"]["value"].startswith(("VL", "XACME"))
    assert first["location"]["range"]["start"]["line"] >= 1


def test_the_schema_copy_rejects_a_wrong_document():
    assert _validate({"diagnostics": [{"severity": "FATAL"}]})  # not a severity of the schema


@pytest.fixture
def fixable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # é before the finding: rdjson columns count UTF-8 bytes, spans count characters
    (tmp_path / "compose.yaml").write_text(textwrap.dedent("""\
        version: "3.8"  # é
        services:
          redis:
            image: redis:7.2
            restart: always
    """), encoding="utf-8")
    return lint_test(["compose.yaml"], Settings(select=["VL006"]))


def test_rdjson_suggestion_is_the_fix(fixable):
    doc = json.loads(_render(fixable, "rdjson"))
    assert _validate(doc) == []
    (diag,) = doc["diagnostics"]
    assert diag["code"]["value"] == "VL006" and diag["code"]["url"].startswith("https://")
    assert diag["location"]["path"] == "compose.yaml"
    (suggestion,) = diag["suggestions"]
    # applying the suggestion as reviewdog would (line/byte-column, exclusive end) removes the key
    lines = Path("compose.yaml").read_bytes().splitlines(keepends=True)
    start, end = suggestion["range"]["start"], suggestion["range"]["end"]

    def offset(pos: dict) -> int:
        return sum(len(line) for line in lines[: pos["line"] - 1]) + pos["column"] - 1

    data = b"".join(lines)
    fixed = data[: offset(start)] + suggestion["text"].encode() + data[offset(end):]
    assert b"version" not in fixed and fixed.startswith(b"services:")


def test_rdjson_columns_are_utf8_bytes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yaml").write_text('services:\n  "é": {image: "redis:7.2"}\n', encoding="utf-8")
    rep = lint_test(["compose.yaml"], Settings(select=["VL107"]))
    from vantage_lint.report.rdjson_format import byte_position

    source = rep.sources["compose.yaml"]
    assert byte_position(source, 2, 6) == {"line": 2, "column": 7}  # after "é" (2 bytes)
    assert _validate(json.loads(_render(rep, "rdjson"))) == []


def test_checkstyle(report):  # noqa: F811
    text = _render(report, "checkstyle")
    assert SECRET not in text
    root = ET.fromstring(text)
    assert root.tag == "checkstyle"
    errors = root.findall("./file/error")
    assert errors and all(e.get("severity") in ("error", "warning", "info") for e in errors)
    assert all(e.get("source", "").startswith("vantage-lint.") for e in errors)
    assert all(int(e.get("line")) >= 1 for e in errors)
    assert {f.get("name") for f in root.findall("file")} == {"compose.yaml"}


def test_checkstyle_without_findings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "compose.yaml").write_text("services:\n  web: {image: 'nginx:1.25'}\n")
    root = ET.fromstring(_render(lint_test(["compose.yaml"], Settings(select=["VL006"])), "checkstyle"))
    assert root.tag == "checkstyle" and list(root) == []
