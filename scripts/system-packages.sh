#!/usr/bin/env bash
# Debian packages the portal and its tests need, installed only when missing:
#   runtime: WeasyPrint's text libraries and a font (PDF documents);
#   tests:   Chromium (browser tests), poppler-utils (pdftotext, pdftoppm), postgresql-client (pg_dump, pg_restore);
#   bench:   runtime and wrk (bench/bench_service.py measures the served portal's throughput with it).
# Usage: scripts/system-packages.sh runtime|test|bench
set -euo pipefail
RUNTIME="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
TEST="$RUNTIME chromium poppler-utils postgresql-client"
BENCH="$RUNTIME wrk"
case "${1:-test}" in
  runtime) wanted="$RUNTIME" ;;
  test) wanted="$TEST" ;;
  bench) wanted="$BENCH" ;;
  *) echo "usage: $0 runtime|test|bench" >&2; exit 2 ;;
esac
missing=()
for package in $wanted; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
