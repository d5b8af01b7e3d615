#!/usr/bin/env bash
# Runs every benchmark in bench/ and prints its figures. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each benchmark exits 1 when it misses its target; all of them run, and the
# run exits 1 at the end if any missed.
status=0
for script in bench/bench_*.py; do
  echo "=== $script ==="
  .venv/bin/python "$script" "$@" || status=1
done
exit $status
