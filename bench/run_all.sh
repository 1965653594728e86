#!/usr/bin/env bash
# Runs every benchmark in turn; each prints a table and writes bench/results/<name>-latest.json.
# Needs the project's .venv with the bench extra (pip install -e '.[test,bench]') and, for the
# PostgreSQL figures, a server on 127.0.0.1:5432 (user postgres) — without one they use SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}

for bench in upstream callbacks callback_cpu e2e memory outbox_cost logging_cost telegram_webhook profile_callbacks; do
    echo
    echo "=== bench.$bench ($(date -u +%H:%M:%S) UTC)"
    start=$(date +%s)
    "$PY" -m "bench.$bench"
    echo "--- bench.$bench took $(( $(date +%s) - start )) s"
done
