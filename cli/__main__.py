"""`python -m cli ...`: lipabot's command line (see `cli.main`)."""

from cli.main import main

raise SystemExit(main())
