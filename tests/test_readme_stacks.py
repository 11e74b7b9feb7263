"""README.md shows the real default output on the bundled stacks (regenerate it with
``python scripts/readme_stacks.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "readme_stacks.py"


def test_readme_shows_the_current_output_on_the_bundled_stacks():
    spec = importlib.util.spec_from_file_location("readme_stacks", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.README.read_text(encoding="utf-8")
    assert module.updated(text) == text, "README.md is stale: run python scripts/readme_stacks.py"
    assert "Context: production (no sign of a development setup); preset recommended." in text
