#!/usr/bin/env bash
# run.sh is `make run`: find or start PostgreSQL, create the app database, build and
# start the app (which starts the Orchestrate sandbox when ORCHESTRATE_API_KEY is
# empty). Ctrl-C stops the app and any database server this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/postgres.sh ensure)"
stop_db() { scripts/postgres.sh stop "$PG_STARTED"; }
trap stop_db EXIT

if [ -z "${DATABASE_URL:-}" ]; then
  go run ./scripts/createdb "$PG_SERVER_URL" checkout
  export DATABASE_URL=$(printf '%s' "$PG_SERVER_URL" | sed -E 's#^(postgres(ql)?://[^/]*)/postgres#\1/checkout#')
fi

echo "run: building the app" >&2
go build -o bin/checkout .

public=${PUBLIC_URL:-http://localhost:8080}
cat >&2 <<MSG

  Shop:     $public/
  Admin:    $public/admin   (user: ${ADMIN_USERNAME:-admin}, password: ${ADMIN_PASSWORD:-admin})
MSG
if [ -z "${ORCHESTRATE_API_KEY:-}" ]; then
  echo "  Sandbox:  ${SANDBOX_PUBLIC_URL:-http://localhost:8081}/_sandbox/   (built-in Orchestrate sandbox; test card 4242 4242 4242 4242)" >&2
else
  echo "  Orchestrate: ${ORCHESTRATE_BASE_URL:-https://sandbox.orchestrate.global}" >&2
fi
echo "  Ctrl-C stops everything." >&2
echo >&2

# Not exec: the trap must run after the app exits to stop the database.
./bin/checkout
