"""vantage-lint: a linter and policy checker for Docker Compose stacks, strongest on Redis + Celery.

The library API is :func:`lint`; the command line is a thin layer over it.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "lint", "Report", "Settings", "Inputs"]


def __getattr__(name: str):  # lazy: importing the package stays cheap for the CLI
    if name in ("lint", "Report", "Inputs"):
        from vantage_lint import engine

        return getattr(engine, name)
    if name == "Settings":
        from vantage_lint.settings import Settings

        return Settings
    raise AttributeError(name)
