#!/usr/bin/env bash
# Installs what the tests need (Debian's Chromium, poppler, WeasyPrint's libraries;
# idempotently) and runs the
# whole suite: on SQLite, and in CI (CI=true) also on the local PostgreSQL in a
# throw-away database. TEST_DATABASES=sqlite|postgres|"sqlite postgres" chooses.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

scripts/system-packages.sh test

echo "=== ruff check ==="
.venv/bin/ruff check . || { echo "ruff found problems (see above; 'ruff check --fix' mends many)" >&2; exit 1; }

if [ -z "${TEST_DATABASES:-}" ]; then
  if [ "${CI:-}" = "true" ]; then TEST_DATABASES="sqlite postgres"; else TEST_DATABASES="sqlite"; fi
fi

postgres_url() {
  # The machine's PostgreSQL trusts local connections as postgres or root.
  local user
  for user in postgres root; do
    if $PY -c "import psycopg,sys; psycopg.connect('postgresql://$user@127.0.0.1:5432/test', connect_timeout=3).close()" 2>/dev/null; then
      echo "postgres://$user@127.0.0.1:5432/accretion_run_$$"
      return 0
    fi
  done
  echo "PostgreSQL is not reachable on 127.0.0.1:5432 as postgres or root" >&2
  return 1
}

WORKERS="${TEST_WORKERS:-2}"
status=0
if [ $# -eq 0 ]; then
  # The whole suite: the clinical core's tests run once, where Django cannot be imported (they need no
  # database); the database runs leave them out.
  echo "=== Clinical core without Django ==="
  PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 DJANGO_SETTINGS_MODULE= $PY -m pytest -q --noconftest -p tests.without_django \
    -p _hypothesis_pytestplugin -p xdist -n "$WORKERS" -W ignore::pytest.PytestConfigWarning tests/clinical
  set -- --ignore=tests/clinical
fi
for db in $TEST_DATABASES; do
  case "$db" in
    sqlite)   url="sqlite:///accretion.sqlite3"
              export TEST_SQLITE_PATH="$(mktemp -d)/accretion-test.sqlite3" ;;
    postgres) url="$(postgres_url)" ;;
    *) echo "unknown database '$db' in TEST_DATABASES" >&2; exit 2 ;;
  esac
  echo "=== Test suite on $db ==="
  start=$(date +%s)
  # pytest-django creates test_<name> (per worker) and drops it at the end.
  DATABASE_URL="$url" $PY -m pytest -n "$WORKERS" -q "$@" || status=$?
  echo "=== $db: $(( $(date +%s) - start )) s, exit $status ==="
  [ $status -ne 0 ] && break
done
exit $status
