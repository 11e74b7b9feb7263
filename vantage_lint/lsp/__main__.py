from vantage_lint.lsp.main import main

raise SystemExit(main())
