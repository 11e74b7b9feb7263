"""Built-in rules. Every module in this package registers its rules with ``@rule``.

``get_rules`` is the entry point of the built-in rule pack (group ``vantage_lint.rules``),
the same path a plugin takes.
"""

from __future__ import annotations

import importlib
import pkgutil

from vantage_lint.registry import Rule, collected_rules


def rule_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get_rules() -> list[Rule]:
    for module in rule_modules():
        importlib.import_module(f"{__name__}.{module}")
    return [r for r in collected_rules() if r.check.__module__.startswith(__name__)]
