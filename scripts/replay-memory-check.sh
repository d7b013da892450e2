#!/usr/bin/env bash
# Checks that `chronos replay` runs in constant memory: the peak resident set of a long stream
# must stay within 5 % (+8 MiB) of a stream a tenth as long. Usage: replay-memory-check.sh [LINES]
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-10000000}
chronos=.build/release/chronos
[ -x "$chronos" ] || swift build -c release --product chronos
peak() {  # peak RSS in KiB of replaying $1 generated lines
    "$chronos" generate --count "$1" --seed 5 | /usr/bin/time -f '%M' -o /tmp/chronos-rss.$$ "$chronos" replay >/dev/null
    cat /tmp/chronos-rss.$$
    rm -f /tmp/chronos-rss.$$
}
short=$(peak $((lines / 10)))
long=$(peak "$lines")
echo "replay peak RSS: $((short / 1024)) MiB for $((lines / 10)) lines, $((long / 1024)) MiB for $lines lines"
limit=$((short + short / 20 + 8192))
if [ "$long" -gt "$limit" ]; then
    echo "FAIL: replay memory grew with the stream length (limit $((limit / 1024)) MiB)" >&2
    exit 1
fi
echo "replay memory check: ok (constant memory)"
