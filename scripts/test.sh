#!/usr/bin/env bash
# test.sh is `make test`: find or start PostgreSQL, then run every test with the race
# detector. Each test gets its own freshly migrated database (internal/testdb).
# Extra arguments go to `go test` (e.g. `make test ARGS='-run TestCheckout ./handlers'`).
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/postgres.sh ensure)"
stop_db() { scripts/postgres.sh stop "$PG_STARTED"; }
trap stop_db EXIT
export TEST_DATABASE_URL=$PG_SERVER_URL

# The browser tests check every page with the Nu HTML Checker; without it they
# skip (or fail, with CI set).
scripts/vnu.sh || echo "test: no Nu HTML Checker; the browser tests will skip (fail with CI set)" >&2

echo "test: go vet" >&2
go vet ./...
echo "test: go test -race" >&2
if [ $# -gt 0 ]; then
  go test -race -count=1 "$@"
else
  go test -race -count=1 ./...
fi
