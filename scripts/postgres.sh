#!/usr/bin/env bash
# postgres.sh finds or starts the PostgreSQL server that `make run` and `make test` use.
#
#   scripts/postgres.sh ensure   prints two lines on stdout, for `eval`:
#                                  PG_SERVER_URL=<URL of the server's postgres database>
#                                  PG_STARTED=<docker|local|> (what this call started)
#   scripts/postgres.sh stop MODE  stops what `ensure` started (MODE as printed).
#
# Order of preference (the README's quickstart documents it):
#   1. DATABASE_URL when set;
#   2. the private cluster under .data/postgres when it is already running;
#   3. a PostgreSQL already listening on localhost:5432 that accepts postgres/postgres
#      (the docker-compose credentials) or the current user without a password;
#   4. the docker-compose `postgres` service when a Docker engine answers;
#   5. a private cluster under .data/postgres, initialised from the installed server
#      binaries (as the `postgres` user when running as root), data kept between runs;
#   6. otherwise a message saying exactly what to install.
# Progress goes to stderr so stdout stays machine-readable.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
local_port=${PG_LOCAL_PORT:-54320}
pgdata_default="$root/.data/postgres"

say() { printf '%s\n' "postgres: $*" >&2; }

# find_bin NAME prints the path of a PostgreSQL server binary, newest major version first.
find_bin() {
  local name=$1 dir
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin /usr/local/pgsql/bin /opt/homebrew/opt/postgresql*/bin 2>/dev/null | sort -rV); do
    if [ -x "$dir/$name" ]; then echo "$dir/$name"; return 0; fi
  done
  return 1
}

# can_connect URL succeeds when psql (or pg_isready as a fallback) reaches URL.
can_connect() {
  local psql
  if psql=$(find_bin psql); then
    PGCONNECT_TIMEOUT=3 "$psql" "$1" -XAtqc 'select 1' >/dev/null 2>&1
  else
    return 1
  fi
}

# as_owner runs a command as the cluster owner: `postgres` when we are root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# pgdata prints the data directory of the private cluster. Root's home is often closed
# to other users, so when the `postgres` user cannot reach the checkout the cluster
# lives in /var/tmp instead (said on stderr).
pgdata() {
  if [ "$(id -u)" != 0 ]; then echo "$pgdata_default"; return; fi
  mkdir -p "$root/.data"
  if runuser -u postgres -- test -x "$root/.data" 2>/dev/null; then
    echo "$pgdata_default"
  else
    local alt="/var/tmp/checkout-postgres-$(printf '%s' "$root" | cksum | cut -d' ' -f1)"
    say "the postgres user cannot enter $root/.data; keeping the cluster in $alt"
    echo "$alt"
  fi
}

local_url="postgres://postgres@127.0.0.1:$local_port/postgres?sslmode=disable"

ensure() {
  if [ -n "${DATABASE_URL:-}" ]; then
    say "using DATABASE_URL"
    # The server URL is DATABASE_URL with its database swapped for `postgres`.
    echo "PG_SERVER_URL=$(printf '%s' "$DATABASE_URL" | sed -E 's#^(postgres(ql)?://[^/]*)/[^?]*#\1/postgres#')"
    echo "PG_STARTED="
    return
  fi

  if can_connect "$local_url"; then
    say "reusing the private cluster already running on 127.0.0.1:$local_port"
    echo "PG_SERVER_URL=$local_url"; echo "PG_STARTED="; return
  fi

  local url
  for url in "postgres://postgres:postgres@localhost:5432/postgres?sslmode=disable" \
             "postgres://${USER:-$(id -un)}@localhost:5432/postgres?sslmode=disable"; do
    if can_connect "$url"; then
      say "using the PostgreSQL listening on localhost:5432"
      echo "PG_SERVER_URL=$url"; echo "PG_STARTED="; return
    fi
  done

  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    say "starting the docker-compose postgres service"
    docker compose -f "$root/docker-compose.yml" up -d --wait postgres >&2
    echo "PG_SERVER_URL=postgres://postgres:postgres@localhost:5432/postgres?sslmode=disable"
    echo "PG_STARTED=docker"
    return
  fi

  local initdb pg_ctl data
  if initdb=$(find_bin initdb) && pg_ctl=$(find_bin pg_ctl); then
    data=$(pgdata)
    if [ ! -s "$data/PG_VERSION" ]; then
      say "initialising a private cluster in $data"
      mkdir -p "$data"
      [ "$(id -u)" = 0 ] && chown postgres: "$data"
      chmod 700 "$data"
      as_owner "$initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
      cat >>"$data/postgresql.conf" <<CONF
# Written by scripts/postgres.sh for local development and tests.
listen_addresses = '127.0.0.1'
port = $local_port
unix_socket_directories = ''
max_connections = 300
shared_buffers = 256MB
CONF
    fi
    say "starting the private cluster on 127.0.0.1:$local_port"
    as_owner "$pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null
    echo "PG_SERVER_URL=$local_url"
    echo "PG_STARTED=local"
    return
  fi

  cat >&2 <<'MSG'
postgres: no PostgreSQL server found, and none could be started. Any one of these fixes it:
  - Debian/Ubuntu: sudo apt-get install postgresql   (then run the command again)
  - macOS:         brew install postgresql@16
  - Docker:        install Docker, then run the command again (docker-compose.yml has a postgres service)
  - or set DATABASE_URL to a PostgreSQL 13+ database you can create databases on.
MSG
  exit 1
}

stop() {
  case "${1:-}" in
    docker) say "stopping the docker-compose postgres service"; docker compose -f "$root/docker-compose.yml" stop postgres >&2 ;;
    local)
      local pg_ctl data
      pg_ctl=$(find_bin pg_ctl); data=$(pgdata)
      say "stopping the private cluster"
      as_owner "$pg_ctl" -D "$data" -m fast -w stop >/dev/null ;;
    *) ;;
  esac
}

case "${1:-}" in
  ensure) ensure ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 ensure | stop MODE" >&2; exit 2 ;;
esac
