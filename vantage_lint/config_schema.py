"""The full configuration schema for editors: the base schema with every built-in rule's options,
each described, shipped as ``schemas/vantage-lint.schema.json`` and copied to
``docs/config.schema.json``. Regenerate both with ``python -m vantage_lint.config_schema``;
a test fails when they are stale."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

SCHEMA_ID = "https://raw.githubusercontent.com/vantage-lint/vantage-lint/main/docs/config.schema.json"
PACKAGE_FILE = Path(__file__).parent / "schemas" / "vantage-lint.schema.json"
DOCS_FILE = Path(__file__).parent.parent / "docs" / "config.schema.json"


def full_schema() -> dict[str, Any]:
    """Only built-in rules: a plugin's options are validated at run time, not published here."""
    from vantage_lint.config import config_schema
    from vantage_lint.docs import rule_url
    from vantage_lint.registry import RuleSet
    from vantage_lint.rules import get_rules

    rules = RuleSet(get_rules())
    schema = config_schema(rules)
    schema["$id"] = SCHEMA_ID
    schema["description"] = ("The keys of .vantage-lint.yaml and of [tool.vantage-lint] in pyproject.toml, "
                             "with every built-in rule's options (generated; do not edit).")
    properties = schema["properties"]["rules"]["properties"]
    for rule in rules:
        for key in (rule.code, rule.name):
            # one copy per key: the code and the name share the options schema object
            options = copy.deepcopy(properties[key])
            options["description"] = f"{rule.code} {rule.name}: {rule.summary} ({rule_url(rule)})"
            for option, value in rule.default_options.items():
                prop = options.get("properties", {}).get(option)
                if isinstance(prop, dict):
                    prop.setdefault("default", value)
            properties[key] = options
    return schema


def schema_text() -> str:
    return json.dumps(full_schema(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the package copy and the docs copy (``--check``: exit 1 when either is stale)."""
    args = sys.argv[1:] if argv is None else argv
    text = schema_text()
    targets = [PACKAGE_FILE, DOCS_FILE]
    if "--check" in args:
        stale = [str(t) for t in targets if not t.exists() or t.read_text(encoding="utf-8") != text]
        for name in stale:
            print(f"stale: {name} (run python -m vantage_lint.config_schema)", file=sys.stderr)
        return 1 if stale else 0
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
