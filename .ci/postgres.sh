#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on loopback for the test suite, as the postgres user
# (the server refuses to run as root). Prints the database URL on stdout.
#   .ci/postgres.sh start [DIR]   -> prints postgresql+psycopg://... ; DIR defaults to /tmp/alliance-pg
#   .ci/postgres.sh stop [DIR]
set -euo pipefail
action=${1:-start}
dir=${2:-/tmp/alliance-pg}
port=${ALLIANCE_PG_PORT:-54329}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
      as_postgres "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! as_postgres "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    fi
    as_postgres "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='alliance_test'" | grep -q 1 \
      || as_postgres "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres alliance_test
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/alliance_test"
    ;;
  stop)
    as_postgres "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
