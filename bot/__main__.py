"""`python -m bot ...`: lipabot's command line, kept under this name for the Procfile and README.

The one import from `bot/` upwards: this module is executed (`python -m bot`), never imported,
so it makes no import cycle; the layering test (tests/architecture) allows `__main__.py` shims.
"""

from cli.main import main

raise SystemExit(main())
