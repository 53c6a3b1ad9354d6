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

# Development mail goes to the app's in-memory catcher on a fixed port unless
# SMTP_URL says otherwise.
export MAIL_CATCHER_ADDR=${MAIL_CATCHER_ADDR:-127.0.0.1:1025}

echo "run: building the app" >&2
go build -o bin/checkout .

# The app runs in the background so the addresses are printed only once it
# answers /readyz (database reachable, migrations applied). Not exec: the EXIT
# trap must stop the database after the app. Ctrl-C reaches the app directly
# (same process group); stop_app also forwards INT and TERM sent to the script.
./bin/checkout &
app=$!
stop_app() { kill -TERM "$app" 2>/dev/null || true; }
trap stop_app INT TERM

addr=${ADDR:-:8080}
port=${addr##*:}
host=${addr%:*}
host=${host#[}
host=${host%]}
case $host in "" | 0.0.0.0 | "::") host=127.0.0.1 ;; esac

# ready answers whether GET /readyz is 200, over bash's /dev/tcp (no curl needed).
ready() {
  local status=""
  exec 3<>"/dev/tcp/$host/$port" || return 1
  printf 'GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" >&3
  IFS= read -r -t 5 status <&3 || true
  exec 3<&- 3>&-
  [[ $status == "HTTP/1."?" 200"* ]]
}

echo "run: starting the app; waiting for http://$host:$port/readyz" >&2
deadline=$((SECONDS + 120))
until ready 2>/dev/null; do
  if ! kill -0 "$app" 2>/dev/null; then
    status=0
    wait "$app" || status=$?
    echo "run: the app exited (status $status) before it was ready; its log is above" >&2
    exit "$status"
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "run: the app did not answer /readyz within 120s; stopping it" >&2
    stop_app
    wait "$app" || true
    exit 1
  fi
  sleep 0.2
done

public=${PUBLIC_URL:-http://localhost:8080}
cat >&2 <<MSG

  Shop:     $public/
  Admin:    $public/admin   (user: ${ADMIN_USERNAME:-admin}, password: ${ADMIN_PASSWORD:-admin})
MSG
if [ -z "${ORCHESTRATE_API_KEY:-}" ]; then
  echo "  Sandbox:  ${SANDBOX_PUBLIC_URL:-http://localhost:8081}/_sandbox/   (built-in Orchestrate sandbox; test card 4242 4242 4242 4242; API key sk_sandbox_dev)" >&2
  if [ -z "${SMTP_URL:-}" ] && [ "$MAIL_CATCHER_ADDR" != off ]; then
    echo "  Mail:     ${SANDBOX_PUBLIC_URL:-http://localhost:8081}/_sandbox/mail   (local mail catcher, SMTP on $MAIL_CATCHER_ADDR; nothing leaves this machine)" >&2
  fi
else
  echo "  Orchestrate: ${ORCHESTRATE_BASE_URL:-https://sandbox.orchestrate.global}" >&2
fi
echo "  Ctrl-C stops everything." >&2
echo >&2

# wait returns early when a trapped signal arrives; keep waiting until the app
# has shut down, and exit with its status.
while :; do
  status=0
  wait "$app" || status=$?
  kill -0 "$app" 2>/dev/null || break
done
exit "$status"
