"""Lint the project a document belongs to with the editor's unsaved texts, and keep what the
protocol layer needs afterwards (findings per file, the texts the fixes were computed on)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from vantage_lint.findings import Finding


@dataclass(slots=True)
class LintRun:
    root: Path
    # absolute path -> findings in that file
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    # absolute path -> text the positions and fixes refer to
    texts: dict[str, str] = field(default_factory=dict)
    # absolute paths of every file the run read (to clear diagnostics of files now clean)
    files: set[str] = field(default_factory=set)
    report: object | None = None
    error: str | None = None
    config_file: str | None = None


def absolute(root: Path, display: str) -> str:
    """The engine reports paths relative to the directory it ran in."""
    return os.path.normpath(display if os.path.isabs(display) else os.path.join(root, display))


def project_root(path: Path, workspace_roots: list[Path]) -> Path:
    """The innermost workspace folder holding ``path``, else the file's own folder."""
    inside = [r for r in workspace_roots if path == r or r in path.parents]
    return max(inside, key=lambda r: len(r.parts)) if inside else path.parent


def lint_project(root: Path, overlay: dict[Path, str]) -> LintRun:
    """Lint every compose project and redis.conf under ``root``; ``overlay`` holds unsaved texts.

    The configuration is read again on every run, so a changed ``.vantage-lint.yaml`` applies
    at once. The engine works relative to the current directory, hence the chdir (the server
    handles one request at a time)."""
    from vantage_lint.config import find_config, load_settings
    from vantage_lint.engine import Inputs, lint

    run = LintRun(root=root)
    found = find_config(root)
    run.config_file = str(found) if found is not None else None
    previous = os.getcwd()
    try:
        os.chdir(root)
        settings = load_settings([root])
        inputs = Inputs(overlay={p.resolve(): text.encode("utf-8") for p, text in overlay.items()})
        report = lint(["."], settings, inputs=inputs, jobs=1)
    except Exception as exc:  # a bad config or input is shown in the editor, never a crash
        run.error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return run
    finally:
        os.chdir(previous)
    run.report = report
    for name in report.files:
        run.files.add(absolute(root, name))
    for name, source in report.sources.items():
        run.texts[absolute(root, name)] = source.text
    for finding in report.findings:
        run.findings.setdefault(absolute(root, finding.span.path), []).append(finding)
    run.files.update(run.findings)
    return run
