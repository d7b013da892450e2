#!/usr/bin/env bash
# The exchange at line rate with its persister on, for minutes, then nothing may be missing
# (docs/persistence.md, "Crash trials and soak"). Release build, real processes:
#   1. the floor: `chronos run` with the persister off, loaded by `chronos loadgen` (binary
#      protocol, SOAK_SESSIONS sessions, SOAK_WINDOW orders in flight each) for SOAK_FLOOR_SECONDS:
#      the gateway's rate on this machine, in this run;
#   2. the soak: the same exchange with its persister on (SOAK_STORE: sqlite, or postgresql under
#      scripts/with-postgres.sh) loaded the same way for SOAK_MINUTES minutes;
#   3. SIGTERM (the persister stores every shard's stream before the shards stop), then the checks:
#      every shard's journal rebuilds (`chronos journal verify`), the store is whole
#      (`chronos status --persist-store`: no gap, integrity), its high-water mark of each shard is
#      the journal's last sequence, and it holds one accepted `orders` row per order the load
#      generator saw answered and not rejected. Prints the soak's rate ÷ the floor's (the target is ≥ 0.8).
# Usage: scripts/soak-line.sh [chronos binary]   (make soak-line SOAK_MINUTES=10)
set -euo pipefail
BIN=${1:-.build/release/chronos}
MINUTES=${SOAK_MINUTES:-10}
STORE=${SOAK_STORE:-sqlite}
SESSIONS=${SOAK_SESSIONS:-20}
WINDOW=${SOAK_WINDOW:-8}
FLOOR_SECONDS=${SOAK_FLOOR_SECONDS:-60}
DIR=$(mktemp -d -t chronos-soak-line.XXXXXX)
echo "soak-line: $MINUTES min, store $STORE, $SESSIONS sessions × $WINDOW in flight; files in $DIR"

PID=
# The CPU seconds (user + system) the running exchange has used.
cpu_seconds() {
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$PID/stat"
}

stop_exchange() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        local started=$SECONDS
        kill -TERM "$PID"
        wait "$PID" || { echo "soak-line: chronos run exited $?" >&2; return 1; }
        # The persister stores what it has not yet stored before the shards stop: a store that
        # kept up stops in a second or two, one that fell behind takes the backlog's time.
        echo "soak-line: chronos run stopped in $((SECONDS - started)) s"
    fi
    PID=
}
trap 'stop_exchange || true' EXIT

# $1 CPU seconds over $2 orders, in µs.
per_order() { python3 -c 'import sys; print(f"{float(sys.argv[1]) * 1e6 / float(sys.argv[2]):.1f}")' "$1" "$2"; }

# $1: the folder, $2: persistence enabled (true/false).
write_config() {
    local dir=$1 enabled=$2
    mkdir -p "$dir"
    {
        printf '[metrics]\nenabled = false\n\n[gateway]\nhost = "127.0.0.1"\nfix_port = -1\nbinary_port = 0\n'
        printf 'udp_port = -1\nstate_dir = "%s/state"\nmax_messages_per_second = 10000000\n\n' "$dir"
        # Every order reaches the engine: a session's resting orders (the crossing flow leaves a few
        # percent resting) must not reach the default 10,000 open orders per account within the run.
        printf '[risk]\nmax_open_orders = 1000000\n\n'
        printf '[persistence]\nenabled = %s\nstore = "%s"\n' "$enabled" "$STORE"
        if [ "$STORE" = postgresql ]; then
            printf 'postgresql_host = "127.0.0.1"\npostgresql_port = %s\npostgresql_user = "%s"\n' \
                "$CHRONOS_PG_PORT" "$CHRONOS_PG_USER"
            printf 'postgresql_database = "%s"\n' "$DATABASE"
        fi
        for i in $(seq "$SESSIONS"); do
            printf '\n[[gateway.binary_sessions]]\nusername = "load%s"\npassword = "load"\naccounts = [%s]\n' \
                "$i" "$((1000 + i))"
        done
    } >"$dir/chronos.toml"
}

# Starts `chronos run` on $1/chronos.toml; sets PID and PORT (the binary port of its ready line).
start_exchange() {
    local dir=$1
    "$BIN" run --config "$dir/chronos.toml" --metrics-port=-1 >"$dir/stdout.log" 2>"$dir/exchange.log" &
    PID=$!
    for _ in $(seq 600); do
        PORT=$(sed -n 's/.*binary=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/stdout.log" | head -n1)
        [ -n "$PORT" ] && return 0
        kill -0 "$PID" 2>/dev/null || { cat "$dir/exchange.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "soak-line: chronos run did not get ready" >&2
    exit 1
}

# Loads the exchange at $1 for $2 seconds; prints loadgen's summary; sets RATE and ANSWERED.
load() {
    local dir=$1 seconds=$2
    "$BIN" loadgen --config "$dir/chronos.toml" --protocol binary --port "$PORT" --sessions "$SESSIONS" \
        --window "$WINDOW" --orders 16000000 --duration "$seconds" --floor none --answer-timeout 30 \
        >"$dir/loadgen.log" 2>&1 || { tail -n 20 "$dir/loadgen.log" >&2; exit 1; }
    grep -A1 '^path ' "$dir/loadgen.log"
    local line
    line=$(grep '^exchange ' "$dir/loadgen.log" | grep -v ':' | tail -n1)
    ANSWERED=$(echo "$line" | awk '{gsub(",", "", $4); print $4}')
    REJECTED=$(echo "$line" | awk '{gsub(",", "", $5); print $5}')
    RATE=$(echo "$line" | awk '{gsub(",", "", $NF); print $NF}')
    local unanswered
    unanswered=$(echo "$line" | awk '{gsub(",", "", $7); print $7}')
    [ "$unanswered" = 0 ] || { echo "soak-line: $unanswered orders unanswered" >&2; exit 1; }
}

if [ "$STORE" = postgresql ]; then
    DATABASE=chronos_soak_$$
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
    "$PGBIN/createdb" -h 127.0.0.1 -p "$CHRONOS_PG_PORT" -U "$CHRONOS_PG_USER" "$DATABASE"
fi

# 1. The floor.
write_config "$DIR/floor" false
start_exchange "$DIR/floor"
load "$DIR/floor" "$FLOOR_SECONDS"
FLOOR_RATE=$RATE
FLOOR_CPU=$(cpu_seconds)
FLOOR_ANSWERED=$ANSWERED
stop_exchange
echo "soak-line: floor (persister off): $FLOOR_RATE orders/s; exchange CPU $(per_order "$FLOOR_CPU" "$FLOOR_ANSWERED") µs/order"

# 2. The soak.
write_config "$DIR/soak" true
start_exchange "$DIR/soak"
load "$DIR/soak" "${SOAK_SECONDS:-$((MINUTES * 60))}"
SOAK_RATE=$RATE
SOAK_CPU=$(cpu_seconds)
stop_exchange
echo "soak-line: soak (persister on, $STORE): $SOAK_RATE orders/s, $ANSWERED orders answered;" \
    "exchange CPU $(per_order "$SOAK_CPU" "$ANSWERED") µs/order until the load ended"

# 3. The checks.
CONFIG="$DIR/soak/chronos.toml"
ACCEPTED_ORDERS="SELECT count(*) FROM orders WHERE status <> 'rejected'"
"$BIN" status --persist-store --config "$CONFIG" --check-events 0 --timeout 600 | tee "$DIR/status.txt"
SHARDS=$(grep -c '^\[\[shards\]\]' "$CONFIG" || true)
[ "$SHARDS" -gt 0 ] || SHARDS=1
for shard in $(seq 0 $((SHARDS - 1))); do
    "$BIN" journal verify --config "$CONFIG" --shard "$shard" | tee "$DIR/journal-$shard.txt"
    JOURNALED=$(sed -n 's/.*last journaled sequence: \([0-9]*\).*/\1/p' "$DIR/journal-$shard.txt")
    STORED=$(sed -n "s/.*shard $shard: high-water mark \([0-9]*\).*/\1/p" "$DIR/status.txt" | head -n1)
    echo "soak-line: shard $shard: journal $JOURNALED, store $STORED"
    [ "$JOURNALED" = "$STORED" ] || { echo "soak-line: shard $shard: the store is not the journal" >&2; exit 1; }
done
if [ "$STORE" = sqlite ]; then
    ORDERS=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' \
        "$DIR/soak/state/chronos.sqlite" "$ACCEPTED_ORDERS")
else
    ORDERS=$("$PGBIN/psql" -h 127.0.0.1 -p "$CHRONOS_PG_PORT" -U "$CHRONOS_PG_USER" -d "$DATABASE" -tAc "$ACCEPTED_ORDERS")
fi
# Orders rejected (by the gateway's risk checks, which the engine never sees, or by the engine) are
# answered but not accepted: every accepted order has its row, and no other order does.
ACCEPTED=$((ANSWERED - REJECTED))
echo "soak-line: accepted orders stored $ORDERS, answered and not rejected $ACCEPTED"
[ "$ORDERS" = "$ACCEPTED" ] || { echo "soak-line: the store's accepted orders are not the answered ones" >&2; exit 1; }
python3 -c 'import sys; r=float(sys.argv[2])/float(sys.argv[1]); print(f"soak-line: soak ÷ floor = {r:.2f} (target ≥ 0.80)"); sys.exit(0 if r >= 0.8 else 3)' \
    "$FLOOR_RATE" "$SOAK_RATE"
rm -rf "$DIR"
