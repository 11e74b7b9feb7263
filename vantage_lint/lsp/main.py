"""Entry point of ``vantage-lint-lsp``: a one-line error when the ``lsp`` extra is missing."""

from __future__ import annotations

import sys

MISSING = ("vantage-lint-lsp: error: the language server needs the 'lsp' extra "
           "(pygls 2 and lsprotocol): pip install 'vantage-lint[lsp]'")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--version" in args:
        from vantage_lint import __version__

        print(f"vantage-lint-lsp {__version__}")
        return 0
    if "-h" in args or "--help" in args:
        print("usage: vantage-lint-lsp [--stdio]\n\nThe vantage-lint language server; it speaks LSP over stdio.")
        return 0
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        print(MISSING, file=sys.stderr)
        return 2
    from vantage_lint.lsp.server import build_server

    build_server().start_io()
    return 0
