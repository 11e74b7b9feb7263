"""The generated configuration schema for editors (package copy and docs/ copy)."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
from ruamel.yaml import YAML

from vantage_lint import config_schema


def _shipped() -> dict:
    text = resources.files("vantage_lint").joinpath("schemas/vantage-lint.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def test_schema_files_are_not_stale():
    # fails after a rule's options or the base schema changed: run python -m vantage_lint.config_schema
    assert config_schema.main(["--check"]) == 0
    assert config_schema.DOCS_FILE.read_text(encoding="utf-8") == config_schema.PACKAGE_FILE.read_text(encoding="utf-8")


def test_schema_is_valid_and_describes_every_rule():
    from vantage_lint.registry import RuleSet
    from vantage_lint.rules import get_rules

    schema = _shipped()
    jsonschema.Draft202012Validator.check_schema(schema)
    rules = schema["properties"]["rules"]["properties"]
    for rule in RuleSet(get_rules()):
        assert rules[rule.code]["description"].startswith(f"{rule.code} {rule.name}: ")
        assert rule.name in rules


def test_schema_accepts_a_real_configuration_and_rejects_a_typo():
    doc = YAML(typ="safe").load(
        "select: [VL1, VL2]\nignore: [VL221]\nfail-on: warning\nseverity: {VL104: error}\n"
        "rules:\n  VL215: {max-fraction: 0.6}\n  missing-healthcheck: {images-with-healthcheck: [acme/*]}\n")
    validator = jsonschema.Draft202012Validator(_shipped())
    assert list(validator.iter_errors(doc)) == []
    # the same table as [tool.vantage-lint] in pyproject.toml (already parsed into a dict)
    assert not list(validator.iter_errors({"select": ["VL2"], "rules": {"VL303": {"max-per-cpu": 3}}}))
    assert list(validator.iter_errors({"rules": {"VL215": {"max-fractoin": 0.6}}}))
    assert list(validator.iter_errors({"fail_on": "warning"}))
