"""Conventions every registered rule follows (docs, hints, fixtures, unique codes)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vantage_lint.registry import BUILTIN_CODE, RULE_NAME, load_rules

RULES = list(load_rules())
RULES_DIR = Path(__file__).parent / "rules"
HEADINGS = ("## What it does", "## Why it matters", "## Example", "## Fix")


def test_codes_and_names_unique():
    assert len({r.code for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_metadata(rule):
    assert BUILTIN_CODE.match(rule.code)
    assert RULE_NAME.match(rule.name)
    assert rule.summary and rule.summary.endswith("."), rule.summary
    assert rule.hint.endswith("."), rule.hint
    positions = [rule.doc.find(h) for h in HEADINGS]
    assert all(p >= 0 for p in positions), f"{rule.code} doc lacks one of {HEADINGS}"
    assert positions == sorted(positions), f"{rule.code} doc headings out of order"
    assert "```" in rule.doc, f"{rule.code} doc has no fenced example"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_has_pass_and_fail_fixtures(rule):
    dirs = [p for p in RULES_DIR.glob(f"{rule.code}_*") if p.is_dir()]
    assert dirs, f"no fixture folder tests/rules/{rule.code}_<name>/"
    names = [e.name for d in dirs for e in d.iterdir()]
    assert any(n.startswith("fail_") for n in names), f"{rule.code} has no fail_ fixture"
    assert any(n.startswith("pass_") for n in names), f"{rule.code} has no pass_ fixture"


def test_every_rule_module_registers_a_rule():
    from vantage_lint.rules import rule_modules

    modules = {r.check.__module__.rsplit(".", 1)[-1] for r in RULES}
    assert set(rule_modules()) <= modules
