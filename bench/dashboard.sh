#!/usr/bin/env bash
# API throughput while the dashboard is open, against the same server with nobody watching:
# interleaved rounds on one server of bench/bench.toml. "watched" runs a poller doing what an open
# dashboard does — the journal page's live query twice a second (GET /__emu/requests?since=…&limit=200),
# plus a data page (GET /__emu/records, 50 records) and the overview once a second.
# Bounded: ROUNDS × 2 × targets × DURATION seconds.
#   bash bench/dashboard.sh [BINARY]          # default target/release/lowcode-emu; ROUNDS=3 DURATION=4 CONNS=32
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${1:-target/release/lowcode-emu}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4}
CONNS=${CONNS:-32}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
PORT=18695
"$BIN" serve --scenario bench/bench.toml --port "$PORT" >/dev/null 2>&1 &
SERVER=$!
POLLER=""
trap 'kill $SERVER $POLLER 2>/dev/null || true' EXIT
wait_healthy "$PORT"
APP=b00000000000000000000001
FORM=b00000000000000000000101
ID=$(first_bench_id "$PORT")
BASE="http://127.0.0.1:$PORT"
# What an open dashboard asks, for as long as the poller lives (the caller kills it). One process
# for the whole run, so the poller's own start-up costs do not stand in for the emulator's.
watch() {
  exec python3 - "$BASE" "$FORM" <<'PY'
import json, sys, time, urllib.request
base, form = sys.argv[1:]
since, tick = 0, 0
while True:
    with urllib.request.urlopen(f"{base}/__emu/requests?since={since}&limit=200") as r:
        entries = json.load(r)
    if entries:
        since = entries[-1]["id"]
    if tick % 2 == 0:
        urllib.request.urlopen(f"{base}/__emu/records?platform=jiandaoyun&collection={form}&limit=50").read()
        urllib.request.urlopen(f"{base}/__emu/overview").read()
    tick += 1
    time.sleep(0.5)
PY
}
TARGETS=(
  "jdy-data-get|/api/v5/app/entry/data/get|{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data_id\":\"$ID\"}"
  "jdy-data-create|/api/v5/app/entry/data/create|{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data\":{\"_widget_1600000000001\":{\"value\":\"压测\"}}}"
)
printf '%-18s %s\n' target "median req/s: unwatched | dashboard open"
for t in "${TARGETS[@]}"; do
  IFS='|' read -r name path body <<<"$t"
  quiet="" watched=""
  for _ in $(seq 1 "$ROUNDS"); do
    quiet+="$(rps "$PORT" "$path" "$body") "
    watch & POLLER=$!
    watched+="$(rps "$PORT" "$path" "$body") "
    kill "$POLLER" 2>/dev/null || true; wait "$POLLER" 2>/dev/null || true; POLLER=""
  done
  python3 - "$name" "$quiet" "$watched" <<'PY'
import statistics, sys
name, quiet, watched = sys.argv[1:]
q = statistics.median(float(x) for x in quiet.split())
w = statistics.median(float(x) for x in watched.split())
print(f"{name:<18} unwatched {q:>8.0f}   dashboard open {w:>8.0f} ({w/q*100:5.1f} %)")
PY
done
echo "machine: $(nproc) cores; wrk -t1 -c$CONNS -d${DURATION}s, $ROUNDS interleaved rounds; $(date -u +%F)"
