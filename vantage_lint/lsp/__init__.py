"""vantage-lint as a language server (``vantage-lint-lsp``, the ``lsp`` extra: pygls 2 + lsprotocol).

:mod:`.project` lints with the editor's unsaved texts (the engine's overlay inputs) and knows
nothing of the protocol; :mod:`.server` speaks LSP over stdio."""
