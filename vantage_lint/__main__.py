from vantage_lint.cli import main

raise SystemExit(main())
