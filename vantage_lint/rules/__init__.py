"""Built-in rules. Every module in this package registers its rules with ``@rule``.

``get_rules`` is the entry point of the built-in rule pack (group ``vantage_lint.rules``),
the same path a plugin takes. It answers from the generated index (``data/rule-index.json``,
see :mod:`vantage_lint.rules._index`) without importing a rule module: each rule's check
function is imported on its first call, so a run answered from the result cache imports none.
When the index does not match the rule modules on disk (a rule edited or added without
regenerating it) every module is imported instead, so the answer is always the rules' own.
"""

from __future__ import annotations

import importlib
import os

from vantage_lint.registry import Rule, collected_rules


def rule_modules() -> list[str]:
    """Names of the rule modules (helpers start with ``_``)."""
    return sorted(name[:-3] for name in os.listdir(__path__[0])
                  if name.endswith(".py") and not name.startswith("_"))


def get_rules() -> list[Rule]:
    from vantage_lint.rules._index import indexed_rules

    indexed = indexed_rules()
    return indexed if indexed is not None else imported_rules()


def imported_rules() -> list[Rule]:
    """The rules as the modules register them (imports every rule module)."""
    for module in rule_modules():
        importlib.import_module(f"{__name__}.{module}")
    return [r for r in collected_rules() if r.check.__module__.startswith(f"{__name__}.")]
