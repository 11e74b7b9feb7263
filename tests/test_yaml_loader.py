"""The Compose YAML loader reads what Compose reads (YAML 1.2), with positions."""

from __future__ import annotations

from vantage_lint import lint
from vantage_lint.compose.yaml_loader import parse_yaml
from vantage_lint.source import decode


def _load(text: str):
    return parse_yaml(decode(text.encode(), "compose.yaml"))


def test_colon_inside_a_flow_plain_scalar_is_yaml_1_2():
    loaded = _load("services:\n  web:\n    security_opt: [no-new-privileges:true]\n")
    assert loaded.problems == []
    item = loaded.root.items["services"].items["web"].items["security_opt"].items[0]
    assert item.value == "no-new-privileges:true"
    assert (item.span.line, item.span.column) == (3, 20)


def test_syntax_error_keeps_its_position():
    loaded = _load("services:\n  web:\n    image: [nginx\n")
    (problem,) = loaded.problems
    assert problem.code == "VL001" and problem.span.line == 4


def test_unquoted_no_new_privileges_satisfies_vl405(tmp_path):
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  web:\n    image: nginx:1.27\n    security_opt: [no-new-privileges:true]\n")
    codes = {f.code for f in lint([compose]).findings}
    assert "VL001" not in codes and "VL405" not in codes
