"""The generated index of the built-in rules: their metadata without importing their modules.

``python -m vantage_lint.rules._index`` regenerates ``vantage_lint/data/rule-index.json`` from
the rule modules (``--check``: exit 1 when it is stale; a test runs that). The index records a
digest of every module in this package; when one differs at run time the index is not used.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from vantage_lint.findings import Applicability, Severity
from vantage_lint.registry import Rule

RULES_DIR = Path(__file__).parent
INDEX_FILE = RULES_DIR.parent / "data" / "rule-index.json"
REGEN = "python -m vantage_lint.rules._index"


class LazyCheck:
    """A rule's check function, imported on its first call. It carries the function's
    ``__module__`` and ``__name__`` so that code asking where a rule lives needs no import."""

    def __init__(self, module: str, name: str):
        self.__module__ = module
        self.__name__ = name
        self._function: Callable[..., Iterable[Any]] | None = None

    def resolve(self) -> Callable[..., Iterable[Any]]:
        if self._function is None:
            self._function = getattr(importlib.import_module(self.__module__), self.__name__)
        return self._function

    def __call__(self, *args: Any, **kwargs: Any) -> Iterable[Any]:
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<check {self.__module__}.{self.__name__}>"


def module_digests() -> dict[str, str]:
    """Content digest of every module of the rules package (helpers included: their constants
    can be decorator arguments)."""
    from vantage_lint.source import content_digest

    digests = {}
    for name in sorted(os.listdir(RULES_DIR)):
        if name.endswith(".py") and name != "_index.py":
            with open(RULES_DIR / name, "rb") as handle:
                digests[name] = content_digest(handle.read())
    return digests


def indexed_rules() -> list[Rule] | None:
    """The rules from the index, or None when it is missing, damaged or stale."""
    try:
        with open(INDEX_FILE, encoding="utf-8") as handle:
            index = json.load(handle)
        if index.get("modules") != module_digests():
            return None
        return [_rule(entry) for entry in index["rules"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _rule(entry: dict[str, Any]) -> Rule:
    return Rule(
        code=entry["code"],
        name=entry["name"],
        summary=entry["summary"],
        severity=Severity(entry["severity"]),
        scope=entry["scope"],
        check=LazyCheck(entry["module"], entry["function"]),
        doc=entry["doc"],
        hint=entry["hint"],
        fix=Applicability(entry["fix"]) if entry["fix"] is not None else None,
        roles=frozenset(entry["roles"]) if entry["roles"] is not None else None,
        options_schema=entry["options_schema"],
        default_options=entry["default_options"],
        production=entry["production"],
        tags=tuple(entry["tags"]),
        tier=entry["tier"],
        contexts=tuple(entry["contexts"]),
        supersedes=tuple(entry["supersedes"]),
        summarised=entry["summarised"],
    )


def _entry(rule: Rule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "module": rule.check.__module__,
        "function": rule.check.__name__,
        "summary": rule.summary,
        "severity": int(rule.severity),
        "scope": rule.scope,
        "hint": rule.hint,
        "fix": rule.fix.value if rule.fix is not None else None,
        "roles": sorted(rule.roles) if rule.roles is not None else None,
        "options_schema": rule.options_schema,
        "default_options": rule.default_options,
        "production": rule.production,
        "tags": list(rule.tags),
        "tier": rule.tier,
        "contexts": list(rule.contexts),
        "supersedes": list(rule.supersedes),
        "summarised": rule.summarised,
        "doc": rule.doc,
    }


def index_text() -> str:
    from vantage_lint.rules import imported_rules

    rules = sorted(imported_rules(), key=lambda r: r.code)
    for rule in rules:
        if getattr(importlib.import_module(rule.check.__module__), rule.check.__name__, None) is not rule.check:
            raise SystemExit(f"rule {rule.code}: its check function is not the module attribute "
                             f"{rule.check.__module__}.{rule.check.__name__}, so it cannot be indexed")
    index = {"generated_by": REGEN, "modules": module_digests(), "rules": [_entry(r) for r in rules]}
    return json.dumps(index, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = index_text()
    if "--check" in args:
        current = INDEX_FILE.read_text(encoding="utf-8") if INDEX_FILE.exists() else ""
        if current != text:
            print(f"stale: {INDEX_FILE} (run {REGEN})", file=sys.stderr)
            return 1
        return 0
    INDEX_FILE.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
