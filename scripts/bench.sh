#!/usr/bin/env bash
# Runs every benchmark in bench/ and prints its figures. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
for script in bench/bench_*.py; do
  echo "=== $script ==="
  .venv/bin/python "$script" "$@"
done
