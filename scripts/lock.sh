#!/usr/bin/env bash
# Regenerates requirements.txt (the pinned runtime dependencies the Heroku buildpack installs)
# from pyproject.toml's [project] dependencies, with uv's resolver, for every platform.
# Then run `bash scripts/test.sh`: it installs from the new lock and tests it.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${TMPDIR:-/tmp}/lipabot-lock-tools"
[ -x "$tools/bin/uv" ] || { python3 -m venv "$tools" && "$tools/bin/pip" install -q uv; }
# The current pins are the starting point: uv keeps them unless told to move them.
[ -f requirements.txt ] && cp requirements.txt requirements.body
"$tools/bin/uv" pip compile pyproject.toml --universal --python-version 3.11 --quiet \
    --no-header "$@" -o requirements.body
{
    echo "# Pinned runtime dependencies of lipabot: what the Heroku Python buildpack (and Render,"
    echo "# Railway, Fly.io, Koyeb) install, and what scripts/test.sh tests against."
    echo "# Generated from pyproject.toml by uv; do not edit by hand. After changing the dependencies"
    echo "# in pyproject.toml:                    bash scripts/lock.sh"
    echo "# To move every pin to the newest allowed: bash scripts/lock.sh --upgrade"
    echo "# To move one package:                   bash scripts/lock.sh --upgrade-package httpx"
    echo "# tests/unit/test_lock.py fails when this file and pyproject.toml disagree."
    cat requirements.body
} > requirements.txt
rm requirements.body
