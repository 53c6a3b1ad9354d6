#!/usr/bin/env bash
# bench.sh is `make bench`: find or start PostgreSQL (like `make test`), then run the
# benchmark suite (bench/), which creates a fresh `checkout_bench` database on that
# server, prints the table and writes docs/BENCHMARKS.md.
#   BENCH_ONLY=B3,B1 make bench   run a subset (its rows replace theirs in docs/BENCHMARKS.md)
#   BENCH_QUICK=1 make bench      short runs for development
# Extra arguments go to the bench command (e.g. `make bench ARGS='-runs 5'`).
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/postgres.sh ensure)"
stop_db() { scripts/postgres.sh stop "$PG_STARTED"; }
trap stop_db EXIT
export BENCH_SERVER_URL=$PG_SERVER_URL

go run ./bench "$@"
