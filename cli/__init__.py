"""The process entry point: `lipabot …` / `python -m cli …` (and `python -m bot …`).

`cli.main` parses the command line and hands over to the package that does the work; `cli.checks`
is the configuration check that `check` prints and `serve` runs before starting. Nothing imports
`cli` except its own entry points: it sits above every other package.
"""
