"""The per-project result cache: a project's findings, reused while none of its inputs changed.

An entry belongs to one lint target (a Compose project or a redis.conf) under one *run key*:
the tool (its version and the files of the installed package), the rules (plugins by the
content of their modules), the settings, the environment (interpolation reads it; all of it
but the shell's per-command bookkeeping, see ``SHELL_BOOKKEEPING``) and the working directory
(paths are reported relative to it). The entry holds the target's findings
and the :class:`~vantage_lint.source.ReadLog` of everything the target read, probed or globbed
through the source layer; it is used only when looking again gives the same answer for every
one of them, so an edit to any file the project read, or a file appearing where one was looked
for, is a miss. Readers need not declare their inputs: using the source layer is enough.

Findings are stored after secrets were masked, exactly as they leave the worker, so a hit gives
the same report as a miss, byte for byte. Storage is :mod:`vantage_lint.cache` (atomic JSON
files; a damaged entry is a miss). Runs on edited, unsaved or standard-input text (the fixer,
``-``) are neither looked up nor stored: their text is not on disk to be compared again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from vantage_lint import cache
from vantage_lint.compose.deploy_context import DeployContext
from vantage_lint.findings import Applicability, Edit, Finding, Fix, Severity, Span
from vantage_lint.source import ReadLog, Reader, content_digest

NAMESPACE = "project"
# Variables the shell sets anew for every command it starts (``_`` is the command's own path):
# in the key they would make ``vantage-lint`` and ``python -m vantage_lint`` miss each other's
# entries. They are inputs only of a project whose files name them, whose entry then records
# their values (see :func:`store`).
SHELL_BOOKKEEPING = ("_", "SHLVL", "OLDPWD")
FORMAT = 1  # bump when the entry layout changes

def _module_digest(module_name: str) -> str:
    """Content digest of the file a plugin's rule lives in ('' when it has none)."""
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    if not path:
        return ""
    try:
        with open(path, "rb") as handle:
            return content_digest(handle.read())
    except OSError:
        return ""


def _rule_signature(rule: Any) -> str:
    """Everything a rule declares except its check function (which its module stands for)."""
    return repr((rule.code, rule.name, rule.summary, int(rule.severity), rule.scope, rule.doc, rule.hint,
                 rule.fix, sorted(rule.roles) if rule.roles is not None else None,
                 sorted(rule.options_schema.items()), sorted(rule.default_options.items()),
                 rule.production, rule.tags))


def _rules_part(rules: Iterable[Any]) -> str:
    rows = []
    for rule in rules:
        module = getattr(rule.check, "__module__", "") or ""
        if module.startswith("vantage_lint."):
            rows.append(rule.code)  # the tool digest covers built-in rules
        else:
            rows.append(f"{_rule_signature(rule)}@{module}:{_module_digest(module)}")
    return "\n".join(rows)


def _settings_part(settings: Any) -> str | None:
    rows = []
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if f.name == "policies":
            # A policy from a configuration file is its specification (all in the rule's text);
            # one built in code may close over anything: not cacheable.
            if any(getattr(p.check, "__module__", None) != "vantage_lint.policies" for p in value):
                return None
            value = [_rule_signature(p) for p in value]
        rows.append(f"{f.name}={value!r}")
    return "\n".join(rows)


def run_key(settings: Any, rules: Iterable[Any], environ: Mapping[str, str] | None, cwd: Path) -> str | None:
    """The part of every entry's key shared by all targets of a run; None when the run cannot
    be cached (caching off, or custom policies given as code)."""
    if cache.folder() is None:
        return None
    settings_part = _settings_part(settings)
    if settings_part is None:
        return None
    env = os.environ if environ is None else environ
    steady = sorted((name, value) for name, value in env.items() if name not in SHELL_BOOKKEEPING)
    digest = hashlib.sha256()
    for part in (str(FORMAT), cache.tool_digest(), _rules_part(rules), settings_part,
                 repr(steady), str(cwd.absolute())):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


def _target_key(key: str, target: Any) -> str:
    identity = repr((key, target.kind, [str(p.absolute()) for p in target.files], target.explicit,
                     [str(p) for p in target.env_files] if target.env_files is not None else None,
                     str(target.project_directory) if target.project_directory else None))
    return cache.key(NAMESPACE, identity.encode("utf-8", "surrogatepass"))


def lookup(key: str, target: Any, reader: Reader, environ: Mapping[str, str] | None = None
           ) -> tuple[list[Finding], list[str], DeployContext | None] | None:
    """The stored findings, files read and context of ``target``, if nothing it read has changed."""
    entry = cache.get(_target_key(key, target))
    if not isinstance(entry, dict):
        return None
    try:
        log = ReadLog.from_list(entry["log"])
        if not log.unchanged(reader, os.environ if environ is None else environ):
            return None
        where = DeployContext(*map(str, entry["context"])) if entry["context"] is not None else None
        return ([decode_finding(row) for row in entry["findings"]], [str(name) for name in entry["read"]], where)
    except (KeyError, TypeError, ValueError):
        return None  # an entry of another layout or a damaged one: a miss


def store(key: str, target: Any, log: ReadLog, findings: list[Finding], read: list[str], reader: Reader,
          environ: Mapping[str, str] | None = None, where: DeployContext | None = None) -> None:
    env = os.environ if environ is None else environ
    texts = [source.text for source in map(reader.source_at, log.files()) if source is not None]
    if any(_names(text, name) for text in texts for name in SHELL_BOOKKEEPING):
        for name in SHELL_BOOKKEEPING:
            log.note_env(name, env.get(name))
    cache.put(_target_key(key, target), {
        "log": log.as_list(),
        "read": read,
        "findings": [encode_finding(f) for f in findings],
        "context": [where.path, where.context, where.reason, where.decided_by] if where is not None else None,
    })


def _names(text: str, name: str) -> bool:
    """Could ``text`` refer to the variable ``name`` (``$_``, ``${_}``, ``$OLDPWD``...)?"""
    return f"${name}" in text or f"${{{name}" in text


# --- findings as JSON ------------------------------------------------------------------------

# Every field of Finding, in order; a test fails when Finding gains one this codec does not know.
FINDING_FIELDS = ("code", "name", "severity", "message", "hint", "span", "service", "fix",
                  "fix_applicability", "fingerprint", "explicit_severity", "services", "depends_on")


def encode_finding(f: Finding) -> list[Any]:
    s = f.span
    fix = None
    if f.fix is not None:
        fix = [f.fix.title, [[e.path, e.start, e.end, e.content] for e in f.fix.edits], f.fix.applicability.value]
    return [f.code, f.name, int(f.severity), f.message, f.hint,
            [s.path, s.line, s.column, s.end_line, s.end_column, s.start, s.end],
            f.service, fix, f.fix_applicability.value if f.fix_applicability is not None else None,
            f.fingerprint, f.explicit_severity, list(f.services), list(f.depends_on)]


def decode_finding(row: list[Any]) -> Finding:
    code, name, severity, message, hint, span, service, fix, applicability, fingerprint, explicit, services, depends = row
    decoded_fix = None
    if fix is not None:
        title, edits, fix_applicability = fix
        decoded_fix = Fix(title, tuple(Edit(*edit) for edit in edits), Applicability(fix_applicability))
    return Finding(
        code=code, name=name, severity=Severity(severity), message=message, hint=hint, span=Span(*span),
        service=service, fix=decoded_fix,
        fix_applicability=Applicability(applicability) if applicability is not None else None,
        fingerprint=fingerprint, explicit_severity=explicit, services=tuple(services), depends_on=tuple(depends),
    )
