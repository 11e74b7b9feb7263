"""Regenerate the output shown in README.md's "What it says about the bundled stacks".

The block between ``<!-- stacks:begin -->`` and ``<!-- stacks:end -->`` is the real output of
the default run (and of the production preset's summary) on ``fixtures/vantage`` and
``fixtures/broken``; ``tests/test_readme_stacks.py`` fails when it is stale.

Usage: python scripts/readme_stacks.py [--check]
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BEGIN, END = "<!-- stacks:begin -->", "<!-- stacks:end -->"


def _run(*args: str) -> str:
    from vantage_lint.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["--isolated", "--no-cache", "--color", "never", *args])
    return out.getvalue().rstrip("\n")


def _last_line(*args: str) -> str:
    return _run(*args).splitlines()[-1]


def block() -> str:
    previous = os.getcwd()
    os.chdir(ROOT)
    try:
        vantage = _run("fixtures/vantage")
        broken = _run("--format", "concise", "fixtures/broken")
        vantage_production = _last_line("--preset", "production", "fixtures/vantage")
        broken_production = _last_line("--preset", "production", "fixtures/broken")
    finally:
        os.chdir(previous)
    return "\n".join([
        BEGIN,
        "```console",
        "$ vantage-lint fixtures/vantage",
        vantage,
        "```",
        "",
        "<details><summary><code>vantage-lint --format concise fixtures/broken</code></summary>",
        "",
        "```console",
        "$ vantage-lint --format concise fixtures/broken",
        broken,
        "```",
        "</details>",
        "",
        "With `--preset production` (hardening included, **P** rules raised to error):",
        "",
        "```console",
        "$ vantage-lint --preset production fixtures/vantage | tail -1",
        vantage_production,
        "$ vantage-lint --preset production fixtures/broken | tail -1",
        broken_production,
        "```",
        END,
    ])


def updated(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + block() + text[end:]


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    new = updated(text)
    if "--check" in argv:
        if new != text:
            print("README.md: the bundled stacks' output is stale; run python scripts/readme_stacks.py")
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
