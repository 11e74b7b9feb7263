"""Baselines: adopt vantage-lint on an existing stack by recording today's findings and
reporting only new ones.

An entry matches a finding by rule code, file, service and the fingerprint of the offending
node (:func:`vantage_lint.engine.fingerprint`), never by line number, so edits elsewhere in the
file keep it matched. Paths are stored relative to the baseline file's folder, so the
baseline works from any working directory. Entries are counted: two identical findings
need two entries.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vantage_lint import __version__
from vantage_lint.secrets import redact

if TYPE_CHECKING:
    from vantage_lint.engine import Report
    from vantage_lint.findings import Finding

FORMAT_VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be read (reported as a one-line error, exit 2)."""


Key = tuple[str, str, str, str]


def _stored_path(path: str, base: Path) -> str:
    """A finding's path (relative to the working directory) as stored: relative to ``base``."""
    absolute = Path(os.path.abspath(path))
    try:
        return Path(os.path.relpath(absolute, os.path.abspath(base))).as_posix()
    except ValueError:  # another drive on Windows
        return absolute.as_posix()


def _key(finding: Finding, base: Path, report: Report) -> Key:
    """The entry of a finding. Its fingerprint is recomputed with the stored path, so the
    working directory the linter runs from does not change it."""
    from vantage_lint.engine import fingerprint

    stored = _stored_path(finding.span.path, base)
    twin = dataclasses.replace(finding, span=finding.span._replace(path=stored))
    return (finding.code, stored, finding.service or "", fingerprint(twin, report.sources.get(finding.span.path)))


def baseline_dict(report: Report, path: Path) -> dict[str, Any]:
    base = path.parent
    entries = []
    for finding in report.findings:
        code, stored, service, fingerprint = _key(finding, base, report)
        entries.append({
            "code": code,
            "path": stored,
            "service": service or None,
            "fingerprint": fingerprint,
            # for people reading the file; never used for matching
            "line": finding.span.line,
            "message": redact(finding.message),
        })
    entries.sort(key=lambda e: (e["path"], e["code"], e["service"] or "", e["fingerprint"], e["line"]))
    return {"tool": "vantage-lint", "version": __version__, "format": FORMAT_VERSION, "findings": entries}


def write_baseline_file(report: Report, path: Path) -> None:
    """Write every current finding of ``report`` to ``path`` (atomically)."""
    from vantage_lint.fsutil import atomic_write_text

    text = json.dumps(baseline_dict(report, path), indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)


def read_baseline(path: Path) -> Counter[Key]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline)") from None
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: not a vantage-lint baseline (invalid JSON: {exc})") from None
    except RecursionError:
        raise BaselineError(f"{path}: not a vantage-lint baseline (JSON nested too deeply)") from None
    entries = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: not a vantage-lint baseline (no findings list)")
    counts: Counter[Key] = Counter()
    for index, entry in enumerate(entries):
        try:
            counts[(str(entry["code"]), str(entry["path"]), str(entry.get("service") or ""),
                    str(entry["fingerprint"]))] += 1
        except (KeyError, TypeError, AttributeError):
            raise BaselineError(f"{path}: entry {index} lacks code, path or fingerprint") from None
    return counts


def apply_baseline(report: Report, path: Path) -> int:
    """Move findings recorded in the baseline to ``report.suppressed``; return how many entries
    matched nothing any more (fixed since the baseline was written)."""
    from vantage_lint.suppress import suppressed_copy

    remaining = read_baseline(path)
    base = path.parent
    kept: list[Finding] = []
    for finding in report.findings:
        key = _key(finding, base, report)
        if remaining[key] > 0:
            remaining[key] -= 1
            report.suppressed.append(suppressed_copy(finding, "baseline", None))
        else:
            kept.append(finding)
    report.findings = kept
    return sum(remaining.values())
