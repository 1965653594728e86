#!/usr/bin/env bash
# Sets up a virtualenv from the lock (requirements.txt, exactly what a deploy installs), adds the
# project and its test extra, then runs lint, the type checker (mypy, on the packages
# pyproject.toml lists) and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.txt
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
