#!/usr/bin/env bash
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
TMP=$(mktemp -d -t chronos-pg.XXXXXX)
chown postgres: "$TMP"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PGPID=
cleanup() {
    if [ -n "$PGPID" ]; then
        [ -f "$TMP/data/postmaster.pid" ] && kill -QUIT "$(head -n1 "$TMP/data/postmaster.pid")" 2>/dev/null
        wait "$PGPID" 2>/dev/null || true      # reaps runuser, which reaped the postmaster
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
runuser -u postgres -- "$PGBIN/initdb" -D "$TMP/data" -U chronos --auth=trust -E UTF8 --no-sync >"$TMP/initdb.log"
runuser -u postgres -- "$PGBIN/postgres" -D "$TMP/data" -c listen_addresses=127.0.0.1 -p "$PORT" -k "$TMP" \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off >"$TMP/server.log" 2>&1 &
PGPID=$!
for _ in $(seq 100); do
    "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && break
    kill -0 "$PGPID" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
    sleep 0.1
done
"$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"
export CHRONOS_PG_PORT=$PORT CHRONOS_PG_USER=chronos
"$@"
