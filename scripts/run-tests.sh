#!/usr/bin/env bash
# Runs lint and the whole test suite, with a throwaway PostgreSQL server on loopback
# so the wallet's storage tests run against both SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

pg_dir=""
pg_out=$(mktemp)
cleanup() {
  if [ -z "$pg_dir" ] && [ -n "${pg_pid:-}" ]; then
    wait "$pg_pid" 2>/dev/null || true
    pg_dir=$(cat "$pg_out" 2>/dev/null || true)
  fi
  if [ -n "$pg_dir" ]; then scripts/pg.sh stop "$pg_dir" || true; fi
  rm -f "$pg_out"
}
trap cleanup EXIT INT TERM
# PostgreSQL starts in the background while lint runs and the Node peers are checked.
scripts/pg.sh start >"$pg_out" &
pg_pid=$!

$BIN/ruff check src tests bench
$BIN/ruff format --check src tests bench

# Node peers for the interop tests (mppx 0.11.0); those tests skip with a reason without Node.
if peers=$(scripts/install-node-peers.sh); then export LINK_NODE_PEERS_DIR="$peers"; fi

if wait "$pg_pid" && pg_dir=$(cat "$pg_out") && [ -n "$pg_dir" ]; then
  export LINK_TEST_POSTGRES_URL=$(cat "$pg_dir/url")
  echo "throwaway PostgreSQL at ${LINK_TEST_POSTGRES_URL}"
else
  pg_dir=""
  echo "PostgreSQL could not be started; PostgreSQL tests will fail" >&2
  exit 1
fi

mkdir -p test-artifacts
# One worker per core plus one (TEST_WORKERS overrides): many tests wait on a server or a
# subprocess, and the extra worker fills those waits (263 s against 288 s with one per core on
# 2 cores). loadfile keeps each module on one worker, so module-scoped wallets and peers start
# once; each worker has its own session wallet and PostgreSQL database, and runs its browser
# tests after the others.
workers=${TEST_WORKERS:-$(($(nproc) + 1))}
$BIN/python -m pytest -n "$workers" --dist loadfile --durations=15 "$@"
