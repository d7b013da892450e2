#!/usr/bin/env bash
# QuickFIX interoperability test: starts `chronos run` on a temporary configuration, runs the
# QuickFIX (C++) initiator peer against its FIX 4.4 gateway and exits with the peer's status.
# Needs libquickfix-dev (scripts/install-deps.sh) and a built chronos (CHRONOS_BIN).
#
#   CHRONOS_BIN               binary under test (default .build/debug/chronos)
#   QUICKFIX_DATA_DICTIONARY  FIX 4.4 dictionary for QuickFIX (default: QuickFIX's own spec/FIX44.xml,
#                             taken from the quickfix source package on PyPI into .build/ on first
#                             use: Debian's libquickfix-dev ships no dictionaries)
#   QUICKFIX_PEER_KEEP_TMP    set: keep the temp dir (config, state, QuickFIX logs)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

CHRONOS_BIN="${CHRONOS_BIN:-.build/debug/chronos}"
DICTIONARY="${QUICKFIX_DATA_DICTIONARY:-.build/quickfix-spec/FIX44.xml}"
PEER=.build/quickfix-peer
READY_TIMEOUT=60
PEER_TIMEOUT=120
STOP_TIMEOUT=20

fail() { echo "test-quickfix: $*" >&2; exit 1; }

command -v g++ >/dev/null || fail "g++ not found"
[ -f /usr/include/quickfix/Application.h ] || fail "QuickFIX headers missing: install libquickfix-dev (make deps)"
[ -x "$CHRONOS_BIN" ] || fail "$CHRONOS_BIN not found: swift build --product chronos"
if [ -z "${QUICKFIX_DATA_DICTIONARY:-}" ] && [ ! -f "$DICTIONARY" ]; then
    echo "test-quickfix: fetching QuickFIX's FIX44.xml (quickfix 1.16.0 source package, PyPI)"
    mkdir -p .build/quickfix-spec
    python3 -m pip download --quiet --no-deps --no-binary :all: quickfix==1.16.0 -d .build/quickfix-spec
    tar -xzf .build/quickfix-spec/quickfix-1.16.0.tar.gz -C .build/quickfix-spec --strip-components=2 \
        quickfix-1.16.0/spec/FIX44.xml
fi
[ -f "$DICTIONARY" ] || fail "data dictionary $DICTIONARY not found"

# Build the peer when missing or older than its source or this script. QuickFIX 1.15's headers
# use dynamic exception specifications (removed in C++17) and Debian's library is built with
# std::shared_ptr and std::auto_ptr (HAVE_STD_SHARED_PTR, no HAVE_STD_UNIQUE_PTR).
if [ ! -x "$PEER" ] || [ "$here/peer.cpp" -nt "$PEER" ] || [ "$here/run.sh" -nt "$PEER" ]; then
    echo "test-quickfix: compiling $PEER"
    mkdir -p .build
    g++ -std=gnu++14 -O1 -DHAVE_STD_SHARED_PTR -Wall -Wno-deprecated -Wno-deprecated-declarations \
        -o "$PEER.tmp.$$" "$here/peer.cpp" -lquickfix -lpthread
    mv -f "$PEER.tmp.$$" "$PEER"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/chronos-quickfix.XXXXXX")"
chronos_pid=""
cleanup() {
    if [ -n "$chronos_pid" ] && kill -0 "$chronos_pid" 2>/dev/null; then
        kill -KILL "$chronos_pid" 2>/dev/null || true
        wait "$chronos_pid" 2>/dev/null || true
    fi
    if [ -n "${QUICKFIX_PEER_KEEP_TMP:-}" ]; then echo "test-quickfix: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$tmp/chronos.toml" <<EOF
[metrics]
enabled = false

[gateway]
fix_port = 0
binary_port = -1
udp_port = -1
state_dir = "$tmp/state"

[[gateway.fix_sessions]]
sender_comp_id = "CHRONOS"
target_comp_id = "QFA"
accounts = [1]

[[gateway.fix_sessions]]
sender_comp_id = "CHRONOS"
target_comp_id = "QFB"
accounts = [2]
EOF

show_logs() {
    echo "---- QuickFIX event logs" >&2
    for f in "$tmp"/log/*.event.current.log; do [ -f "$f" ] && { echo "== $(basename "$f")"; cat "$f"; } >&2; done
    echo "---- QuickFIX message logs (| for SOH)" >&2
    for f in "$tmp"/log/*.messages.current.log; do [ -f "$f" ] && { echo "== $(basename "$f")"; tr '\001' '|' <"$f"; } >&2; done
    echo "---- chronos stdout (tail)" >&2
    tail -n 20 "$tmp/chronos.out" >&2 2>/dev/null || true
    echo "---- chronos stderr (tail)" >&2
    tail -n 60 "$tmp/chronos.err" >&2 2>/dev/null || true
}

"$CHRONOS_BIN" run --config "$tmp/chronos.toml" >"$tmp/chronos.out" 2>"$tmp/chronos.err" &
chronos_pid=$!

port=""
deadline=$((SECONDS + READY_TIMEOUT))
while [ -z "$port" ]; do
    if ! kill -0 "$chronos_pid" 2>/dev/null; then
        show_logs
        fail "chronos exited before it was ready"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        show_logs
        fail "no 'gateway ready' line within ${READY_TIMEOUT} s"
    fi
    line="$(grep -m1 'gateway ready' "$tmp/chronos.out" 2>/dev/null || true)"
    if [ -n "$line" ]; then
        port="$(sed -n 's/.*fix=127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' <<<"$line")"
        [ -n "$port" ] || { show_logs; fail "ready line without fix=127.0.0.1:<port>: $line"; }
    else
        sleep 0.2
    fi
done
echo "test-quickfix: chronos ready, FIX on 127.0.0.1:$port"

mkdir -p "$tmp/log" "$tmp/store"
sed -e "s|@PORT@|$port|" -e "s|@WORKDIR@|$tmp|" -e "s|@DICTIONARY@|$DICTIONARY|" \
    "$here/peer.cfg.in" >"$tmp/peer.cfg"

status=0
timeout -k 5 "$PEER_TIMEOUT" "$PEER" "$tmp/peer.cfg" || status=$?
[ "$status" -eq 124 ] && echo "test-quickfix: the peer timed out after ${PEER_TIMEOUT} s" >&2

# Stop the exchange: SIGTERM, then SIGKILL after STOP_TIMEOUT.
kill -TERM "$chronos_pid" 2>/dev/null || true
for _ in $(seq 1 $((STOP_TIMEOUT * 5))); do
    kill -0 "$chronos_pid" 2>/dev/null || break
    sleep 0.2
done
if kill -0 "$chronos_pid" 2>/dev/null; then
    echo "test-quickfix: chronos did not exit within ${STOP_TIMEOUT} s of SIGTERM; killing it" >&2
    kill -KILL "$chronos_pid" 2>/dev/null || true
fi
wait "$chronos_pid" 2>/dev/null || true
chronos_pid=""

if [ "$status" -ne 0 ]; then
    show_logs
    echo "test-quickfix: FAILED (peer exit status $status)" >&2
    exit "$status"
fi
echo "test-quickfix: passed"
