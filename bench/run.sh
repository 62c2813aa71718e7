#!/usr/bin/env bash
# Load benchmark on loopback: the emulator against a bare hyper server, same machine, same run.
# Prints req/s, p50, p99 and the ratio to the bare server. Bounded: DURATION seconds per target.
#   bash bench/run.sh            # DURATION=10 CONNS=64 THREADS=2 by default
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
EMU_PORT=${EMU_PORT:-18180}
HELLO_PORT=${HELLO_PORT:-18190}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin lowcode-emu --example hello_hyper

./target/release/examples/hello_hyper "127.0.0.1:$HELLO_PORT" >/dev/null &
HELLO=$!
./target/release/lowcode-emu serve --scenario bench/bench.toml --port "$EMU_PORT" >/dev/null 2>&1 &
EMU=$!
trap 'kill $HELLO $EMU 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$EMU_PORT/__emu/health" >/dev/null && curl -s "http://127.0.0.1:$HELLO_PORT/" >/dev/null && break
  sleep 0.1
done

APP=b00000000000000000000001
FORM=b00000000000000000000101
AUTH="Authorization: Bearer bench-key"
ID=$(curl -s "http://127.0.0.1:$EMU_PORT/api/v5/app/entry/data/list" -H "$AUTH" -d "{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"limit\":1,\"data_id\":\"695b0d10ffffffffff000000\"}" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d[0]["_id"] if d else "")')
[ -n "$ID" ] || ID=$(curl -s "http://127.0.0.1:$EMU_PORT/api/v5/app/entry/data/list" -H "$AUTH" -d "{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"limit\":1}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["_id"])')

run() { # name url auth body
  local out
  out=$(BODY="$4" AUTH="$3" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s bench/post.lua "$2" 2>&1)
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  echo "$1|$rps|$p50|$p99"
}

RESULTS=()
RESULTS+=("$(run hello-hyper "http://127.0.0.1:$HELLO_PORT/" "" '{}')")
RESULTS+=("$(run jdy-data-get "http://127.0.0.1:$EMU_PORT/api/v5/app/entry/data/get" "Bearer bench-key" "{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data_id\":\"$ID\"}")")
RESULTS+=("$(run jdy-data-list-filter "http://127.0.0.1:$EMU_PORT/api/v5/app/entry/data/list" "Bearer bench-key" "{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"limit\":100,\"filter\":{\"rel\":\"and\",\"cond\":[{\"field\":\"_widget_1600000000003\",\"method\":\"eq\",\"value\":[\"发货\"]}]}}")")
RESULTS+=("$(run jdy-data-create "http://127.0.0.1:$EMU_PORT/api/v5/app/entry/data/create" "Bearer bench-key" "{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data\":{\"_widget_1600000000001\":{\"value\":\"压测\"},\"_widget_1600000000002\":{\"value\":5}}}")")
RESULTS+=("$(run admin-health "http://127.0.0.1:$EMU_PORT/__emu/health" "" '{}')")

BASE_RPS=$(cut -d'|' -f2 <<<"${RESULTS[0]}")
printf '\n%-22s %12s %10s %10s %8s\n' target req/s p50 p99 ratio
for r in "${RESULTS[@]}"; do
  IFS='|' read -r name rps p50 p99 <<<"$r"
  ratio=$(python3 -c "print(f'{float(\"$rps\")/float(\"$BASE_RPS\")*100:.0f}%')" 2>/dev/null || echo "?")
  printf '%-22s %12s %10s %10s %8s\n' "$name" "$rps" "$p50" "$p99" "$ratio"
done
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; wrk -t$THREADS -c$CONNS -d${DURATION}s on loopback; $(date -u +%F)"
