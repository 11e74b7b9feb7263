"""Every rule's fixtures: ``fail_*`` must give the rule's code, ``pass_*`` must not.

Layout: ``tests/rules/<CODE>_<slug>/{pass_*,fail_*}``; an entry is a file (a compose file or a
redis.conf) or a folder (a project with several files). ``options.json`` in the rule folder sets
the rule's options. ``VANTAGE_RULE=VL101`` limits the run to one rule.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers import run

RULES_DIR = Path(__file__).parent / "rules"


def _cases():
    only = os.environ.get("VANTAGE_RULE")
    for rule_dir in sorted(p for p in RULES_DIR.iterdir() if p.is_dir()):
        code = rule_dir.name.split("_", 1)[0]
        if only and code != only:
            continue
        for entry in sorted(rule_dir.iterdir()):
            if entry.name.startswith(("pass_", "fail_")) and not entry.name.endswith((".expected", ".fixed")):
                yield pytest.param(code, entry, id=f"{code}/{entry.name}")


@pytest.mark.parametrize("code,entry", list(_cases()))
def test_fixture(code: str, entry: Path, monkeypatch):
    monkeypatch.chdir(entry.parent)
    options_file = entry.parent / "options.json"
    options = json.loads(options_file.read_text()) if options_file.exists() else {}
    report = run([entry.name], select=[code], rule_options={code: options} if options else {})
    found = [f for f in report.findings if f.code == code]
    if entry.name.startswith("fail_"):
        assert found, f"{entry.name}: expected a {code} finding, got {[(f.code, f.message) for f in report.findings]}"
        for f in found:
            assert f.hint.strip().endswith("."), f.hint
            assert f.span.line >= 1 and f.span.column >= 1
    else:
        assert not found, f"{entry.name}: unexpected {[(f.span.line, f.message) for f in found]}"
