#!/usr/bin/env bash
# The development server and, beside it, the background worker (accretion/jobs): `make run` calls this.
# The worker stops with the server (Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
ACCRETION=.venv/bin/accretion
"$ACCRETION" worker --interval 2 &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null; wait "$worker" 2>/dev/null || true' EXIT
"$ACCRETION" runserver "$1"
