"""Rule documentation as a product: ``--explain``, ``--list-rules`` (text, markdown, json) and
the generated reference ``docs/rules.md`` (``vantage-lint --list-rules --list-format markdown``).

Everything comes from the rules themselves (decorator metadata and docstrings), so the docs
cannot drift from the code.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from vantage_lint.findings import Severity
from vantage_lint.registry import Rule, load_rules

DOCS_URL = "https://github.com/vantage-lint/vantage-lint/blob/main/docs/rules.md"
CATEGORIES = (
    ("input", "VL0xx input and meta"),
    ("service", "VL1xx every service"),
    ("redis", "VL2xx Redis"),
    ("celery", "VL3xx Celery"),
    ("security", "VL4xx container security"),
    ("plugin", "Plugins"),
)


def rule_url(rule: Rule) -> str:
    return f"{DOCS_URL}#{anchor(rule)}"


def anchor(rule: Rule) -> str:
    """The GitHub anchor of the heading ``VL101 root-user``."""
    return f"{rule.code.lower()}-{rule.name}"


def explain_rule(key: str, policies: list[Rule] | None = None) -> str:
    """The documentation of a rule (or of a custom policy in ``policies``), by code or name."""
    from vantage_lint.discovery import UsageError

    rules = load_rules()
    rule = rules.lookup(key)
    if rule is None and policies:
        rule = next((p for p in policies if p.code == key.strip().upper() or p.name == key.strip().lower()), None)
    if rule is None:
        words = [r.code for r in rules] + [r.name for r in rules]
        close = difflib.get_close_matches(key.strip(), words, n=1) or difflib.get_close_matches(
            key.strip().upper(), words, n=1)
        raise UsageError(f"unknown rule {key!r}" + (f" (did you mean {close[0]}?)" if close else ""))
    return rule_markdown(rule, level=1)


def what_it_does(rule: Rule) -> str:
    """The first paragraph of the rule's ``## What it does`` section, on one line."""
    lines = rule.doc.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "## What it does") + 1
    except StopIteration:
        return ""
    paragraph: list[str] = []
    for line in lines[start:]:
        if not line.strip():
            if paragraph:
                break
            continue
        if line.startswith("#"):
            break
        paragraph.append(line.strip())
    return " ".join(paragraph)


def _severity_text(rule: Rule) -> str:
    text = rule.severity.label
    if rule.production:
        text += " (error in the production preset)"
    elif rule.code in ("VL216", "VL223", "VL224") and rule.severity < Severity.WARNING:
        text += " (warning in the production preset)"
    return text


def _tier_text(rule: Rule) -> str:
    if rule.tier == "production":
        return "production (not in the default `recommended` preset; select it by code or name to add it)"
    return "recommended (the default) and production"


def _contexts_text(rule: Rule) -> str:
    if tuple(rule.contexts) == ("production",):
        return "production only (production hardening: not reported in development context)"
    if tuple(rule.contexts) == ("development",):
        return "development only"
    return "production and development"


def _applies_to(rule: Rule) -> str:
    if "policy" in rule.tags:
        return "each redis.conf" if rule.scope == "redis" else "the services the policy selects"
    if rule.roles:
        return "services with role " + ", ".join(sorted(rule.roles))
    return {
        "service": "every service",
        "project": "the Compose project",
        "redis": "each redis.conf (and redis-server options)",
        "input": "the input files (reported while reading them)",
    }.get(rule.scope, rule.scope)


def _options(rule: Rule) -> list[str]:
    properties = rule.options_schema.get("properties") or {}
    lines = []
    for name, schema in properties.items():
        default = json.dumps(rule.default_options.get(name))
        description = schema.get("description", "") if isinstance(schema, dict) else ""
        lines.append(f"  - `{name}` (default `{default}`)" + (f": {description}" if description else ""))
    return lines


def rule_markdown(rule: Rule, level: int = 2) -> str:
    head = "#" * level
    fix = rule.fix.value if rule.fix is not None else "none"
    lines = [
        f"{head} {rule.code} {rule.name}",
        "",
        rule.summary,
        "",
        f"- Default severity: {_severity_text(rule)}",
        f"- Preset: {_tier_text(rule)}",
        f"- Context: {_contexts_text(rule)}",
        f"- Applies to: {_applies_to(rule)}",
        *([f"- Supersedes: {', '.join(rule.supersedes)} (their finding on the same service is not reported "
           "when this rule reports: one problem, one finding)"] if rule.supersedes else []),
        *([f"- Recommended preset: reported once per file at info, listing the services that "
           f"{rule.summarised} (the production preset, or selecting or setting the severity of the "
           "rule by code or name, reports each service)"] if rule.summarised else []),
        f"- Fix: {fix}",
        f"- Hint: {rule.hint}",
    ]
    options = _options(rule)
    if options:
        lines += ["- Options (`rules: {" + rule.code + ": {...}}` in the configuration):", *options]
    lines += ["", _demote(rule.doc, level), ""]
    return "\n".join(lines)


def _demote(doc: str, level: int) -> str:
    """Rule docstrings use ``##`` headings; nest them one level below the rule's heading."""
    out = []
    in_fence = False
    for line in doc.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith("## "):
            line = "#" * (level + 1) + line[2:]
        out.append(line)
    return "\n".join(out).strip()


def rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "summary": rule.summary,
        "severity": rule.severity.label,
        "production": rule.production,
        "tier": rule.tier,
        "contexts": list(rule.contexts),
        "supersedes": list(rule.supersedes),
        "summarised": bool(rule.summarised),
        "category": rule.category,
        "scope": rule.scope,
        "roles": sorted(rule.roles) if rule.roles else None,
        "fix": rule.fix.value if rule.fix is not None else None,
        "hint": rule.hint,
        "options": rule.options_schema.get("properties", {}),
        "default_options": rule.default_options,
        "url": rule_url(rule),
    }


def list_rules_text(fmt: str = "text") -> str:
    rules = load_rules()
    if fmt == "json":
        return json.dumps([rule_json(r) for r in rules], indent=2) + "\n"
    if fmt == "markdown":
        return rules_markdown()
    width = max((len(r.name) for r in rules), default=20)
    return "".join(
        f"{r.code}  {r.name:<{width}}  {r.severity.label:<7} {'P' if r.production else ' '} "
        f"{'production-preset' if r.tier == 'production' else '                 '} "
        f"{'production-only' if 'development' not in r.contexts else '               '} "
        f"{'fix' if r.fix else '   '}  {r.summary}\n"
        for r in rules
    )


def rules_markdown() -> str:
    """The generated rule reference (docs/rules.md)."""
    rules = list(load_rules())
    out = [
        "# vantage-lint rule reference",
        "",
        "<!-- Generated by `vantage-lint --list-rules --list-format markdown > docs/rules.md`; do not edit. -->",
        "",
        "Every rule has a code and a name; `select`, `ignore`, `severity`, suppressions and",
        "`--explain` accept either. Severity is the `recommended` preset's; the `production` preset",
        "(`extends: production`) raises the rules marked **P** to error. **fix** says what `--fix`",
        "may do: `safe` (applied by `--fix`) or `unsafe` (only with `--unsafe-fixes`).",
        "",
        "## Presets and contexts",
        "",
        "- **preset** `recommended` (the default) reports what is wrong or dangerous in the stack;",
        "  `production` adds the hardening that every service or every Redis usually lacks (marked",
        "  `production` below) and raises the **P** rules to error. A `production` rule joins the",
        "  `recommended` preset only when a selector names it exactly (`extend-select: [VL404]`).",
        "- **context**: each project is checked as `production` or `development`, decided from",
        "  evidence (a file named `*.dev.yml`/`*.local.yml`, a folder `dev/` or `.devcontainer/`, a",
        "  comment such as \"for local development\", the source bind-mounted into a server run with",
        "  `--reload`, `*_ENV=development`) unless a file is named for deployment (`prod`, `staging`...),",
        "  or set with `--context` / `context:`. Rules marked `prod` in the context column are",
        "  production hardening and are not reported in development; the others report everywhere.",
        "",
        "| code | name | severity | preset | context | fix | summary |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rules:
        severity = r.severity.label + (" **P**" if r.production else "")
        where = "prod" if tuple(r.contexts) == ("production",) else "all"
        out.append(f"| [{r.code}](#{anchor(r)}) | {r.name} | {severity} | {r.tier} | {where} | "
                   f"{r.fix.value if r.fix else ''} | {r.summary.replace('|', '&#124;')} |")
    for category, title in CATEGORIES:
        members = [r for r in rules if r.category == category]
        if not members:
            continue
        out += ["", f"## {title}", ""]
        for r in members:
            out.append(rule_markdown(r, level=3))
    return "\n".join(out).rstrip() + "\n"
