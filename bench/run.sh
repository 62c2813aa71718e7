#!/usr/bin/env bash
# Load benchmark on loopback: every platform's main routes against a bare hyper server, as ratios that
# hold still on a noisy machine. Servers are pinned to one core and wrk to another. In each of ROUNDS
# rounds a target runs SLICES times for DURATION seconds, alternating with the reference (ref, target,
# ref, … , ref): each slice's ratio is target / mean of the reference runs either side of it, and the
# round's ratio is the median of its slices. The host's slow spells last seconds; slices that short put
# a target and its reference in the same spell, so a spell moves the ratio far less than the req/s.
# The table gives the median of the rounds' ratios with their spread, the median req/s and p99.
# The tenant is bench/load.toml with RECORDS (default 100 000) generated records per platform. Each round
# starts from a reset tenant and runs the reads before the writes, so reads always see RECORDS records.
#   bash bench/run.sh                  # ROUNDS=3 SLICES=5 DURATION=1 WARMUP=1 CONNS=32; TARGETS="jdy-get yida-search …" for some
#   SLICES=1 DURATION=5 bash bench/run.sh   # one 5-second run per round between two reference runs (before 2026-12-02)
#   PROFILE=bench/profiles/NAME bash bench/run.sh
#                                      # also profiles each target (perf, flat by symbol) in the first round,
#                                      # in a run of its own after the measured one: PROFILE/<target>.txt
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SLICES=${SLICES:-5}
DURATION=${DURATION:-1}
# Seconds to wait after a target run before the next run (see settle).
SETTLE=${SETTLE:-0.2}
# Seconds of each target run before the measured one and discarded: the first requests after a state
# build or reset pay one-time costs (records printed once, indexes built, the allocator settling after
# hundreds of MB were freed), which are not the route's steady state. 0 measures them too.
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-32}
RECORDS=${RECORDS:-100000}
EMU_PORT=${EMU_PORT:-18180}
HELLO_PORT=${HELLO_PORT:-18190}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
BUILD=release
if [ -n "${PROFILE:-}" ]; then
  BUILD=profiling # the release build with symbols
  command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
  mkdir -p "$PROFILE"
fi
cargo build --profile "$BUILD" --quiet --bin lowcode-emu --example hello_hyper
# exec, so a backgrounded `pin …` is the server itself and `kill $!` reaches it.
pin() { if command -v taskset >/dev/null; then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }

SCN=$(mktemp --suffix=.toml)
sed -e "s/JDY_COUNT/$RECORDS/" -e "s/YIDA_COUNT/$RECORDS/" -e "s/AZ_COUNT/$RECORDS/" bench/load.toml >"$SCN"
(pin "$SERVER_CPU" ./target/$BUILD/examples/hello_hyper "127.0.0.1:$HELLO_PORT" >/dev/null) &
HELLO=$!
(pin "$SERVER_CPU" ./target/$BUILD/lowcode-emu serve --scenario "$SCN" --port "$EMU_PORT" >/dev/null 2>&1) &
EMU=$!
trap 'kill $HELLO $EMU 2>/dev/null || true; rm -f "$SCN"' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$EMU_PORT/__emu/health" >/dev/null && curl -s "http://127.0.0.1:$HELLO_PORT/" >/dev/null && break
  sleep 0.1
done

B="http://127.0.0.1:$EMU_PORT"
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

# Ids and tokens of a freshly reset tenant, and the targets that use them.
setup_targets() {
  APP=b00000000000000000000001
  FORM=b00000000000000000000101
  JDY_ID=$(curl -s "$B/api/v5/app/entry/data/list" -H "Authorization: Bearer bench-key" -d "{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"limit\":1}" | json 'd["data"][0]["_id"]')
  YAPP=APP_BENCH000000000000001
  YFORM=FORM-BENCH0000000000000000000000000000001
  Y="$B/dingtalk/web/$YAPP/v1"
  YID=$(curl -s "$Y/form/searchFormDatas.json?formUuid=$YFORM&pageSize=1" | json 'd["result"]["data"][0]["formInstId"]')
  DING=$(curl -s "$B/v1.0/oauth2/accessToken" -H 'Content-Type: application/json' -d '{"appKey":"bench-ding","appSecret":"bench-ding-secret"}' | json 'd["accessToken"]')
  AZ_TOKEN=$(curl -s "$B/baas/auth/v1.0/oauth2/token" -d 'grant_type=client_credentials&client_id=bench-client&client_secret=bench-secret' | json 'd["access_token"]')
  AZ="$B/u-route/baas/data/v1.0"
  AZ_ID=$(curl -s "$AZ/query/bench__Order__CST" -H "access-token: $AZ_TOKEN" -d '{"options":{"limit":1}}' | json 'd["result"][0]["id"]')
  OM="$B/rest/flowmanage/api"
  OM_SEC='"security":"bench-security","omflow_restapi":1'
  curl -s "$OM/omdata/edit/bench/" -d "{$OM_SEC,\"action\":\"create\",\"formdata\":[{\"id\":\"FORMITM_1\",\"value\":\"first\"}]}" >/dev/null

  # name|url|method|auth|header|body — every main read/query and write of each platform, reads first.
  ALL=(
    "jdy-get|$B/api/v5/app/entry/data/get|POST|Bearer bench-key||{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data_id\":\"$JDY_ID\"}"
    "jdy-list-filter|$B/api/v5/app/entry/data/list|POST|Bearer bench-key||{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"limit\":100,\"filter\":{\"rel\":\"and\",\"cond\":[{\"field\":\"_widget_1600000000003\",\"method\":\"eq\",\"value\":[\"发货\"]}]}}"
    "yida-search|$Y/form/searchFormDatas.json?formUuid=$YFORM&pageSize=10&searchFieldJson=%7B%22selectField_b0000003%22%3A%22%E5%8F%91%E8%B4%A7%22%7D|GET|||"
    "yida-get|$Y/form/getFormDataById.json?formInstId=$YID|GET|||"
    "yida-openapi-search|$B/v1.0/yida/forms/instances/search|POST||x-acs-dingtalk-access-token: $DING|{\"appType\":\"$YAPP\",\"formUuid\":\"$YFORM\",\"userId\":\"bench\",\"currentPage\":1,\"pageSize\":10}"
    "az-query|$AZ/query/bench__Order__CST|POST||access-token: $AZ_TOKEN|{\"condition\":{\"conditions\":[{\"field\":\"bench__state__CST\",\"operator\":\"eq\",\"value\":\"发货\"}]},\"options\":{\"limit\":10}}"
    "az-get|$AZ/bobject/bench__Order__CST/$AZ_ID|GET||access-token: $AZ_TOKEN|"
    "omflow-query|$OM/omdata-data-id/get/bench/|POST|||{$OM_SEC,\"data_no\":\"1\"}"
    "omflow-list|$OM/omdata/list/bench/|POST|||{$OM_SEC,\"limit\":10}"
    "jdy-create|$B/api/v5/app/entry/data/create|POST|Bearer bench-key||{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data\":{\"_widget_1600000000001\":{\"value\":\"压测\"},\"_widget_1600000000002\":{\"value\":5}}}"
    "yida-save|$Y/form/saveFormData.json|POST|||{\"formUuid\":\"$YFORM\",\"formDataJson\":\"{\\\"textField_b0000001\\\":\\\"压测\\\",\\\"numberField_b0000002\\\":5}\"}"
    "az-insert|$AZ/bobject/bench__Order__CST|POST||access-token: $AZ_TOKEN|{\"records\":[{\"name\":\"压测\",\"bench__amount__CST\":5}]}"
    "omflow-create|$OM/omdata/edit/bench/|POST|||{$OM_SEC,\"action\":\"create\",\"formdata\":[{\"id\":\"FORMITM_1\",\"value\":\"bench\"}]}"
  )
}

# After a run the server may still be answering requests wrk gave up on: let it finish before the next.
settle() {
  sleep "$SETTLE"
  curl -s -o /dev/null --max-time 60 "http://127.0.0.1:$EMU_PORT/__emu/health" || true
}

wrk_run() { # url method auth header body [seconds] → "rps p99_ms"
  local out
  out=$(export BODY="$5" AUTH="$3" METHOD="$2" HDR="$4"; pin "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${6:-$DURATION}s" --latency -s bench/post.lua "$1" 2>&1)
  awk '/Requests\/sec/ {rps=$2} $1=="99%" {v=$2; if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; p99=v} END {print rps, p99}' <<<"$out"
}

select_targets() {
  SELECTED=()
  for t in "${ALL[@]}"; do
    name=${t%%|*}
    if [ -z "${TARGETS:-}" ] || [[ " $TARGETS " == *" $name "* ]]; then SELECTED+=("$t"); fi
  done
}

declare -A RATIOS RPS P99
for round in $(seq 1 "$ROUNDS"); do
  # Writes of the previous round grew the tenant: back to the scenario (new ids and tokens).
  if [ "$round" -gt 1 ]; then curl -s -o /dev/null --max-time 300 -X POST "$B/__emu/reset"; fi
  setup_targets
  select_targets
  for t in "${SELECTED[@]}"; do
    IFS='|' read -r name url method auth header body <<<"$t"
    if [ "$WARMUP" -gt 0 ]; then wrk_run "$url" "$method" "$auth" "$header" "$body" "$WARMUP" >/dev/null; settle; fi
    read -r ref _ <<<"$(wrk_run "http://127.0.0.1:$HELLO_PORT/" GET "" "" "")"
    refs="$ref" runs="" p99s=""
    for _ in $(seq 1 "$SLICES"); do
      read -r rps p99 <<<"$(wrk_run "$url" "$method" "$auth" "$header" "$body")"
      settle
      read -r ref _ <<<"$(wrk_run "http://127.0.0.1:$HELLO_PORT/" GET "" "" "")"
      refs+=" $ref" runs+=" $rps" p99s+=" $p99"
    done
    read -r ratio rps p99 <<<"$(python3 - "$refs" "$runs" "$p99s" <<'PY'
import statistics, sys
refs, runs, p99s = [list(map(float, a.split())) for a in sys.argv[1:]]
ratios = [t / ((refs[i] + refs[i + 1]) / 2) for i, t in enumerate(runs)]
print(round(statistics.median(ratios), 4), round(statistics.median(runs), 2), round(statistics.median(p99s), 3))
PY
)"
    RATIOS[$name]+="$ratio "
    RPS[$name]+="$rps "
    P99[$name]+="$p99 "
    echo "round $round $name: $rps req/s, p99 ${p99} ms, ratio $ratio (slices$runs; reference$refs)" >&2
    if [ -n "${PROFILE:-}" ] && [ "$round" = 1 ]; then
      perf record -q -F 1999 -o "$PROFILE/$name.data" -p "$EMU" -- sleep "$((SLICES * DURATION))" 2>/dev/null &
      PERF=$!
      wrk_run "$url" "$method" "$auth" "$header" "$body" "$((SLICES * DURATION))" >/dev/null
      wait $PERF || true
      perf report -q -i "$PROFILE/$name.data" --no-children --sort symbol --percent-limit 0.7 --stdio 2>/dev/null |
        cut -c1-160 | sed -e 's/[[:space:]]*$//' -e '/^$/d' >"$PROFILE/$name.txt"
      rm -f "$PROFILE/$name.data"
      settle
    fi
  done
done

printf '\n%-22s %10s %16s %12s %10s\n' target ratio "spread" "req/s" "p99 ms"
for t in "${SELECTED[@]}"; do
  name=${t%%|*}
  python3 - "$name" "${RATIOS[$name]}" "${RPS[$name]}" "${P99[$name]}" <<'PY'
import statistics, sys
name, ratios, rps, p99 = sys.argv[1], *[list(map(float, a.split())) for a in sys.argv[2:]]
print(f"{name:<22} {statistics.median(ratios)*100:9.1f}% {min(ratios)*100:7.1f}–{max(ratios)*100:.1f}% {statistics.median(rps):12.0f} {statistics.median(p99):10.2f}")
PY
done
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; servers on cpu $SERVER_CPU, wrk -t1 -c$CONNS -d${DURATION}s on cpu $LOAD_CPU after ${WARMUP}s of warm-up;" \
  "$ROUNDS rounds of $SLICES slices, each framed by reference runs; $RECORDS records per platform; $(date -u +%F)"
