"""Small helpers shared by the tests."""

from __future__ import annotations

from pathlib import Path

from vantage_lint.engine import Inputs, Report, lint
from vantage_lint.settings import Settings


def run(paths, *, select: list[str] | None = None, environ: dict[str, str] | None = None, **settings) -> Report:
    """Lint with no configuration file and an empty environment (tests are hermetic)."""
    config = Settings(**settings)
    if select is not None:
        config.select = select
    return lint([Path(p) for p in paths], config, inputs=Inputs(environ=environ or {}))


def codes(report: Report) -> list[str]:
    return [f.code for f in report.findings]


def write(folder: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative name -> text) under ``folder``, creating folders; return it."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder
