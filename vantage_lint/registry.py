"""The rule registry: the ``@rule`` decorator, rule metadata and plugin discovery.

Built-in rules and plugins use the same path: the entry-point group ``vantage_lint.rules``
whose values are callables returning a list of :class:`Rule`. A plugin that fails to load is
an error, never a silent skip: a policy gate must not lose policies quietly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from vantage_lint.findings import Applicability, Severity
from vantage_lint.lazyre import lazy

ENTRY_POINT_GROUP = "vantage_lint.rules"
BUILTIN_CODE = lazy(r"^VL\d{3}$")
PLUGIN_CODE = lazy(r"^X[A-Z]{1,4}\d{3}$")
RULE_NAME = lazy(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

# Where a rule runs: once per project, once per service, once per redis.conf, or not at all
# because the input loaders emit its findings (VL001-VL005, VL007, VL008).
SCOPES = ("project", "service", "redis", "input")

# Presets, in order: a rule of tier "production" runs only in the production preset (or when a
# configuration names it by its exact code or name); "recommended" rules run in both.
TIERS = ("recommended", "production")
# Where a project is meant to run (decided per project, see compose/deploy_context.py).
CONTEXTS = ("production", "development")
EVERYWHERE: tuple[str, ...] = CONTEXTS
# Hardening that matters only where the stack is deployed: not reported in development.
PRODUCTION_ONLY: tuple[str, ...] = ("production",)


class PluginError(Exception):
    """A rule plugin could not be loaded or declares an invalid rule."""


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    summary: str
    severity: Severity
    scope: str
    check: Callable[..., Iterable[Any]]
    doc: str
    hint: str
    fix: Applicability | None = None
    # Services a service rule applies to, by role ("redis", "celery-worker", ...); None = all.
    roles: frozenset[str] | None = None
    options_schema: dict[str, Any] = field(default_factory=dict)
    default_options: dict[str, Any] = field(default_factory=dict)
    # Marked "P" in the catalogue: raised to error by the production preset.
    production: bool = False
    tags: tuple[str, ...] = ()
    # The preset the rule belongs to (see TIERS) and the contexts it reports in (see CONTEXTS).
    tier: str = "recommended"
    contexts: tuple[str, ...] = EVERYWHERE
    # Codes whose finding on the same service states the same problem less precisely: when this
    # rule reports on a service, their findings on it are dropped (one problem, one finding).
    supersedes: tuple[str, ...] = ()
    # Hardening that nearly every service lacks: in the recommended preset its findings in one
    # file are one info finding listing the services ("N services <summarised>: ..."); the
    # production preset reports each. Empty: reported per service.
    summarised: str = ""

    @property
    def category(self) -> str:
        return {"0": "input", "1": "service", "2": "redis", "3": "celery", "4": "security"}.get(
            self.code[2:3], "plugin"
        )


_collected: list[Rule] = []


def rule(
    *,
    code: str,
    name: str,
    summary: str,
    severity: Severity,
    hint: str,
    scope: str = "service",
    fix: Applicability | None = None,
    roles: Iterable[str] | None = None,
    options_schema: dict[str, Any] | None = None,
    default_options: dict[str, Any] | None = None,
    production: bool = False,
    tags: Iterable[str] = (),
    tier: str = "recommended",
    contexts: Iterable[str] = EVERYWHERE,
    supersedes: Iterable[str] = (),
    summarised: str = "",
) -> Callable[[Callable[..., Iterable[Any]]], Callable[..., Iterable[Any]]]:
    """Register the decorated check function as a rule; its docstring is the rule's documentation."""

    def register(check: Callable[..., Iterable[Any]]) -> Callable[..., Iterable[Any]]:
        if scope not in SCOPES:
            raise PluginError(f"rule {code}: unknown scope {scope!r}")
        if tier not in TIERS:
            raise PluginError(f"rule {code}: unknown tier {tier!r}")
        where = tuple(c for c in CONTEXTS if c in set(contexts))
        if not where or len(where) != len(set(contexts)):
            raise PluginError(f"rule {code}: contexts must be a non-empty subset of {', '.join(CONTEXTS)}")
        _collected.append(
            Rule(
                code=code,
                name=name,
                summary=summary,
                severity=severity,
                scope=scope,
                check=check,
                doc=_dedent_doc(check.__doc__ or ""),
                hint=hint,
                fix=fix,
                roles=frozenset(roles) if roles is not None else None,
                options_schema=options_schema or {},
                default_options=default_options or {},
                production=production,
                tags=tuple(tags),
                tier=tier,
                contexts=where,
                supersedes=tuple(supersedes),
                summarised=summarised,
            )
        )
        return check

    return register


def _dedent_doc(doc: str) -> str:
    import inspect

    return inspect.cleandoc(doc)


def collected_rules() -> list[Rule]:
    """Rules registered so far by imported rule modules (used by ``get_rules`` callables)."""
    return list(_collected)


class RuleSet:
    """All known rules, indexed by code and by name."""

    def __init__(self, rules: Iterable[Rule]):
        self.rules: list[Rule] = sorted(rules, key=lambda r: r.code)
        self.by_code: dict[str, Rule] = {}
        self.by_name: dict[str, Rule] = {}
        for r in self.rules:
            if r.code in self.by_code:
                raise PluginError(f"rule code {r.code} is registered twice")
            if r.name in self.by_name:
                raise PluginError(f"rule name {r.name} is registered twice")
            self.by_code[r.code] = r
            self.by_name[r.name] = r

    def lookup(self, code_or_name: str) -> Rule | None:
        key = code_or_name.strip()
        return self.by_code.get(key.upper()) or self.by_name.get(key.lower())

    def matching(self, selector: str) -> list[Rule]:
        """Rules selected by a code, a code prefix (``VL2``, ``VL``, ``ALL``) or a rule name."""
        sel = selector.strip()
        if not sel:
            return []
        if sel.upper() == "ALL":
            return list(self.rules)
        named = self.by_name.get(sel.lower())
        if named is not None:
            return [named]
        prefix = sel.upper()
        return [r for r in self.rules if r.code.startswith(prefix)]

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)


_cached: RuleSet | None = None


def _rule_entry_points() -> list[tuple[str, str]]:
    """(name, "module:attr") of every ``vantage_lint.rules`` entry point.

    Scanning the installed distributions costs more than the rest of a small run, so the answer
    is cached, keyed by every import folder and its modification time: installing, upgrading or
    removing a distribution adds or removes a ``*.dist-info`` folder and so changes the key."""
    import sys

    from vantage_lint import cache

    stamps = []
    for entry in sys.path:
        try:
            stamps.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            stamps.append((entry, 0))
    digest = cache.key("entry-points", repr(stamps).encode())
    stored = cache.get(digest)
    if isinstance(stored, list):
        return [(str(name), str(value)) for name, value in stored]
    found = scan_entry_points(ENTRY_POINT_GROUP)
    if found is None:
        from importlib.metadata import entry_points

        found = sorted({(ep.name, ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP)})
    cache.put(digest, found)
    return found


def scan_entry_points(group: str) -> list[tuple[str, str]] | None:
    """``importlib.metadata.entry_points(group=group)`` for distributions installed as folders,
    without importing importlib.metadata (which costs more than a small lint run).

    Like importlib.metadata it looks in each ``sys.path`` folder for ``*.dist-info`` and
    ``*.egg-info`` folders, keeps the first distribution of each (normalised) name, and reads its
    ``entry_points.txt``. None when a ``sys.path`` entry is a zip archive or a custom finder can
    provide distributions: then only importlib.metadata knows."""
    import sys

    if any(hasattr(finder, "find_distributions") and not _is_path_finder(finder) for finder in sys.meta_path):
        return None
    seen: set[str] = set()
    found: set[tuple[str, str]] = set()
    for entry in sys.path:
        folder = entry or "."
        try:
            names = sorted(os.listdir(folder))
        except NotADirectoryError:
            if os.path.isfile(folder):
                return None  # a zip archive on the path
            continue
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            project = re.sub(r"[-_.]+", "_", name.rsplit(".", 1)[0].partition("-")[0]).lower()
            if project in seen:
                continue
            seen.add(project)
            try:
                with open(os.path.join(folder, name, "entry_points.txt"), encoding="utf-8") as handle:
                    text = handle.read()
            except OSError:
                continue
            if group in text:
                found.update(_entry_points_in(text, group))
    return sorted(found)


def _is_path_finder(finder: object) -> bool:
    from importlib.machinery import PathFinder

    return finder is PathFinder or (isinstance(finder, type) and issubclass(finder, PathFinder))


def _entry_points_in(text: str, group: str) -> list[tuple[str, str]]:
    """The ``name = value`` lines of section ``[group]`` (the entry points file format)."""
    result: list[tuple[str, str]] = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group:
            name, sep, value = line.partition("=")
            if sep:
                result.append((name.strip(), value.strip()))
    return result


def _load_reference(value: str) -> Any:
    """The object an entry point names: ``package.module:attr.attr`` (extras ignored)."""
    import importlib

    module_name, _, attrs = value.split("[", 1)[0].strip().partition(":")
    target: Any = importlib.import_module(module_name.strip())
    for attr in filter(None, attrs.strip().split(".")):
        target = getattr(target, attr)
    return target


def load_rules() -> RuleSet:
    """Load built-in rules and plugins through the ``vantage_lint.rules`` entry points (once)."""
    global _cached
    if _cached is not None:
        return _cached
    rules: list[Rule] = []
    seen_builtin = False
    for name, value in _rule_entry_points():
        try:
            factory = _load_reference(value)
            loaded = list(factory())
        except Exception as exc:  # a broken plugin must stop the gate, loudly
            raise PluginError(f"rule plugin {name!r} ({value}) failed to load: {exc}") from exc
        if value.startswith("vantage_lint."):
            seen_builtin = True
        else:
            for r in loaded:
                if not PLUGIN_CODE.match(r.code):
                    raise PluginError(
                        f"rule plugin {name!r}: code {r.code!r} must use its own prefix "
                        "(X + 1-4 letters + 3 digits, e.g. XACME101)"
                    )
        rules.extend(loaded)
    if not seen_builtin:
        # Running from a source tree that was not installed: take the built-ins directly.
        from vantage_lint.rules import get_rules

        rules.extend(get_rules())
    for r in rules:
        if not RULE_NAME.match(r.name):
            raise PluginError(f"rule {r.code}: name {r.name!r} is not kebab-case")
    _cached = RuleSet(rules)
    return _cached
