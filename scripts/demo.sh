#!/usr/bin/env bash
# Sets up a virtualenv from the lock (requirements.txt) with the project, then runs the offline
# demo (no configuration needed).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.txt
.venv/bin/python -m pip install -q -e .
.venv/bin/python -m bot demo "$@"
