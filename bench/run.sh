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
DEMO_PORT=${DEMO_PORT:-18185}
HELLO_PORT=${HELLO_PORT:-18190}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin lowcode-emu --example hello_hyper

./target/release/examples/hello_hyper "127.0.0.1:$HELLO_PORT" >/dev/null &
HELLO=$!
./target/release/lowcode-emu serve --scenario bench/bench.toml --port "$EMU_PORT" >/dev/null 2>&1 &
EMU=$!
# The embedded demo serves the Yida, Astro Zero and OMFlow targets.
./target/release/lowcode-emu serve --port "$DEMO_PORT" >/dev/null 2>&1 &
DEMO=$!
trap 'kill $HELLO $EMU $DEMO 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$EMU_PORT/__emu/health" >/dev/null && curl -sf "http://127.0.0.1:$DEMO_PORT/__emu/health" >/dev/null \
    && curl -s "http://127.0.0.1:$HELLO_PORT/" >/dev/null && break
  sleep 0.1
done
AZ_TOKEN=$(curl -s "http://127.0.0.1:$DEMO_PORT/baas/auth/v1.0/oauth2/token" \
  -d 'grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

APP=b00000000000000000000001
FORM=b00000000000000000000101
AUTH="Authorization: Bearer bench-key"
ID=$(curl -s "http://127.0.0.1:$EMU_PORT/api/v5/app/entry/data/list" -H "$AUTH" -d "{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"limit\":1,\"data_id\":\"695b0d10ffffffffff000000\"}" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d[0]["_id"] if d else "")')
[ -n "$ID" ] || ID=$(curl -s "http://127.0.0.1:$EMU_PORT/api/v5/app/entry/data/list" -H "$AUTH" -d "{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"limit\":1}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["_id"])')

run() { # name url auth body [method] [header]
  local out
  out=$(BODY="$4" AUTH="$3" METHOD="${5:-POST}" HDR="${6:-}" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s bench/post.lua "$2" 2>&1)
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
Y="http://127.0.0.1:$DEMO_PORT/dingtalk/web/APP_DEMO0000000000000001/v1"
RESULTS+=("$(run yida-search "$Y/form/searchFormDatas.json?formUuid=FORM-DEMO00000000000000000000000000000001&searchFieldJson=%7B%22selectField_k1a2b3c6%22%3A%22%E9%87%87%E8%B4%AD%E9%83%A8%22%7D" "" "" GET)")
RESULTS+=("$(run astrozero-query "http://127.0.0.1:$DEMO_PORT/u-route/baas/data/v1.0/query/demo__Supplier__CST" "" '{"condition":{"conditions":[{"field":"demo__rating__CST","operator":"eq","value":"A"}]},"options":{"limit":10}}' POST "access-token: $AZ_TOKEN")")
RESULTS+=("$(run omflow-create "http://127.0.0.1:$DEMO_PORT/rest/flowmanage/api/omdata/edit/incident/" "" '{"security":"omflow-demo-security","omflow_restapi":1,"action":"create","formdata":[{"id":"FORMITM_1","value":"bench"}]}')")
RESULTS+=("$(run admin-health "http://127.0.0.1:$EMU_PORT/__emu/health" "" '{}' GET)")

BASE_RPS=$(cut -d'|' -f2 <<<"${RESULTS[0]}")
printf '\n%-22s %12s %10s %10s %8s\n' target req/s p50 p99 ratio
for r in "${RESULTS[@]}"; do
  IFS='|' read -r name rps p50 p99 <<<"$r"
  ratio=$(python3 -c "print(f'{float(\"$rps\")/float(\"$BASE_RPS\")*100:.0f}%')" 2>/dev/null || echo "?")
  printf '%-22s %12s %10s %10s %8s\n' "$name" "$rps" "$p50" "$p99" "$ratio"
done
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; wrk -t$THREADS -c$CONNS -d${DURATION}s on loopback; $(date -u +%F)"
