"""Resolved lint settings: which rules run, at which severity, with which options.

This is the in-memory form every entry point fills (CLI flags, config files, library calls);
the engine reads only this.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vantage_lint.findings import Severity
from vantage_lint.registry import Rule, RuleSet


@dataclass(slots=True)
class Settings:
    select: list[str] = field(default_factory=lambda: ["ALL"])
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    # code or name -> severity, applied after the preset.
    severity: dict[str, Severity] = field(default_factory=dict)
    preset: str = "recommended"
    # "auto": decided per project from evidence (compose/deploy_context.py); or forced.
    context: str = "auto"
    fail_on: Severity = Severity.WARNING
    # code or name -> options for that rule.
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    # service name -> declared roles.
    roles: dict[str, list[str]] = field(default_factory=dict)
    # glob -> selectors ignored in matching files.
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    # False: comments and x-vantage.ignore suppress nothing. A list names the selectors that may
    # be suppressed inline; a mapping selector -> bool decides per rule (most specific wins).
    allow_inline_suppressions: bool | list[str] | dict[str, bool] = True
    # custom policy rules built from the configuration (Rule objects with scope project).
    policies: list[Rule] = field(default_factory=list)
    config_path: str | None = None

    def enabled(self, rules: RuleSet) -> list[Rule]:
        """Rules selected after select / extend-select / ignore; the most specific selector wins."""
        chosen: list[Rule] = []
        selectors = [(s, True) for s in self.select + self.extend_select] + [(s, False) for s in self.ignore]
        for rule in rules:
            best_len, best_on = -1, False
            for selector, on in selectors:
                weight = _specificity(selector, rule)
                if weight > best_len or (weight == best_len and not on):
                    best_len, best_on = weight, on
            if best_len >= 0 and best_on and self._in_tier(rule, best_len):
                chosen.append(rule)
        return chosen

    def _in_tier(self, rule: Rule, weight: int) -> bool:
        """A production-tier rule runs in the recommended preset only when a selector names it
        exactly (its code or its name), never through ``ALL`` or a prefix such as ``VL4``."""
        if rule.tier != "production" or self.preset == "production":
            return True
        return weight == 100 or weight == len(rule.code)

    def summarises(self, rule: Rule) -> bool:
        """Are ``rule``'s findings summarised once per file? Only in the recommended preset, and
        not when the configuration asks for the rule by its code or name (a selector or a
        severity): whoever names it wants each finding."""
        if not rule.summarised or self.preset == "production":
            return False
        named = (rule.code, rule.name)
        return not any(s in named for s in self.select + self.extend_select) and not any(
            key in self.severity for key in named)

    def forced_context(self) -> str | None:
        """The context set by ``--context``/``context:``; None lets the evidence decide. The
        production preset is for deployed stacks, so it implies production unless told otherwise."""
        if self.context != "auto":
            return self.context
        return "production" if self.preset == "production" else None

    def severity_for(self, rule: Rule) -> Severity:
        severity = rule.severity
        if self.preset == "production":
            if rule.production:
                severity = Severity.ERROR
            elif rule.code in ("VL216", "VL223", "VL224"):
                severity = max(severity, Severity.WARNING)
        for key in (rule.code, rule.name):
            if key in self.severity:
                severity = self.severity[key]
        return severity

    def enabled_policies(self) -> list[Rule]:
        """Custom policies kept by select / extend-select / ignore, like built-in rules."""
        if not self.policies:
            return []
        return self.enabled(RuleSet(self.policies))

    def inline_allowed(self, rule: Rule) -> bool:
        """May a comment or ``x-vantage.ignore`` in a linted file suppress ``rule``?"""
        allowed = self.allow_inline_suppressions
        if isinstance(allowed, bool):
            return allowed
        if isinstance(allowed, list):
            return any(_specificity(selector, rule) >= 0 for selector in allowed)
        best_len, best = -1, True
        for selector, on in allowed.items():
            weight = _specificity(selector, rule)
            if weight < 0:
                continue
            if weight > best_len or (weight == best_len and not on):
                best_len, best = weight, bool(on)
        return best

    def ignored_in(self, path: str, rule: Rule) -> bool:
        """Does a ``per-file-ignores`` glob matching ``path`` ignore ``rule``? Globs match the
        path as reported, the path relative to the configuration file's folder, or the file name."""
        if not self.per_file_ignores:
            return False
        candidates = {path, path.rsplit("/", 1)[-1]}
        if self.config_dir is not None:
            try:
                candidates.add(Path(path).absolute().relative_to(self.config_dir.absolute()).as_posix())
            except ValueError:
                pass
        for glob, selectors in self.per_file_ignores.items():
            if any(fnmatch.fnmatch(candidate, glob) for candidate in candidates):
                if any(_specificity(selector, rule) >= 0 for selector in selectors):
                    return True
        return False

    @property
    def config_dir(self) -> Path | None:
        return Path(self.config_path).parent if self.config_path else None

    def options_for(self, rule: Rule) -> dict[str, Any]:
        options: dict[str, Any] = {}
        for key in (rule.code, rule.name):
            options.update(self.rule_options.get(key, {}))
        return options


def _specificity(selector: str, rule: Rule) -> int:
    """How specifically ``selector`` names ``rule`` (-1: not at all). Names beat any prefix."""
    sel = selector.strip()
    if sel.upper() == "ALL":
        return 0
    if sel.lower() == rule.name:
        return 100
    if rule.code.startswith(sel.upper()):
        return len(sel)
    return -1
