#!/usr/bin/env bash
# Where a route's user-space CPU goes, as call-graph shares: starts the profiling build on the bench
# tenant (server on cpu 0, wrk on cpu 1, loopback only), records 3 s of user-space samples with dwarf
# call graphs under wrk -c32, and prints the shares under the request pipeline and the handler.
#   bash bench/user_profile.sh jdy-get|jdy-list-filter|jdy-create|omflow-create|az-query  [OUT]   (OUT: a file for the report)
#   EXPAND="Trace::record json_fields" bash bench/user_profile.sh jdy-get   # also splits these functions' shares
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=${1:?route: jdy-get, jdy-list-filter, jdy-create, omflow-create or az-query}
OUT=${2:-/dev/stdout}
PORT=${PORT:-18280}
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf >/dev/null; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --profile profiling --quiet --bin lowcode-emu
SCN=$(mktemp --suffix=.toml)
DATA=$(mktemp --suffix=.perf)
AZ_COUNT=0
[ "$NAME" = az-query ] && AZ_COUNT=100000
sed -e "s/JDY_COUNT/100000/" -e "s/YIDA_COUNT/0/" -e "s/AZ_COUNT/$AZ_COUNT/" bench/load.toml >"$SCN"
taskset -c 0 ./target/profiling/lowcode-emu serve --scenario "$SCN" --port "$PORT" >/dev/null 2>&1 &
EMU=$!
trap 'kill $EMU 2>/dev/null || true; rm -f "$SCN" "$DATA"' EXIT
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$PORT/__emu/health" >/dev/null && break; sleep 0.1; done
B="http://127.0.0.1:$PORT"
APP=b00000000000000000000001
FORM=b00000000000000000000101
export METHOD=POST AUTH="" HDR=""
case $NAME in
  jdy-get)
    ID=$(curl -s "$B/api/v5/app/entry/data/list" -H "Authorization: Bearer bench-key" -d "{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"limit\":1}" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["_id"])')
    URL="$B/api/v5/app/entry/data/get" AUTH="Bearer bench-key" BODY="{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data_id\":\"$ID\"}"
    HANDLER=jiandaoyun::data::get ;;
  jdy-list-filter)
    URL="$B/api/v5/app/entry/data/list" AUTH="Bearer bench-key"
    BODY="{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"limit\":100,\"filter\":{\"rel\":\"and\",\"cond\":[{\"field\":\"_widget_1600000000003\",\"method\":\"eq\",\"value\":[\"发货\"]}]}}"
    HANDLER=jiandaoyun::data::list ;;
  jdy-create)
    URL="$B/api/v5/app/entry/data/create" AUTH="Bearer bench-key"
    BODY="{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data\":{\"_widget_1600000000001\":{\"value\":\"压测\"},\"_widget_1600000000002\":{\"value\":5}}}"
    HANDLER=jiandaoyun::data::create ;;
  omflow-create)
    URL="$B/rest/flowmanage/api/omdata/edit/bench/"
    BODY='{"security":"bench-security","omflow_restapi":1,"action":"create","formdata":[{"id":"FORMITM_1","value":"bench"}]}'
    HANDLER=omflow::tickets::create ;;
  az-query)
    TOKEN=$(curl -s "$B/baas/auth/v1.0/oauth2/token" -d 'grant_type=client_credentials&client_id=bench-client&client_secret=bench-secret' |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
    URL="$B/u-route/baas/data/v1.0/query/bench__Order__CST" HDR="access-token: $TOKEN"
    BODY='{"condition":{"conditions":[{"field":"bench__state__CST","operator":"eq","value":"发货"}]},"options":{"limit":10}}'
    HANDLER=astrozero::data::query ;;
  *) echo "unknown route $NAME" >&2; exit 2 ;;
esac
export URL BODY AUTH HDR
timeout 30 taskset -c 1 wrk -t1 -c32 -d1s -s bench/post.lua "$URL" >/dev/null
perf record -q -e cpu-clock:u --call-graph dwarf,16384 -F 999 -o "$DATA" -p "$EMU" -- sleep 3 2>/dev/null &
PERF=$!
RPS=$(timeout 30 taskset -c 1 wrk -t1 -c32 -d4s -s bench/post.lua "$URL" | awk '/Requests\/sec/ {print $2}')
wait $PERF || true
SCRIPT=$(perf script -i "$DATA" 2>/dev/null)
{
  echo "# $NAME: user-space CPU only (perf -e cpu-clock:u, dwarf call graphs, 3 s at -c32, $RPS req/s under perf), at $(git rev-parse --short HEAD)."
  echo "# Inclusive share of all user-space samples under each function, by callee (bench/inclusive.py)."
  echo
  python3 bench/inclusive.py "pipeline::handle" 1 13 <<<"$SCRIPT"
  echo
  python3 bench/inclusive.py "run_handler::{{closure}}" 3 5 <<<"$SCRIPT"
  echo
  python3 bench/inclusive.py "$HANDLER" 1 15 <<<"$SCRIPT"
  for f in ${EXPAND:-}; do
    echo
    python3 bench/inclusive.py "$f" 2 15 <<<"$SCRIPT"
  done
} >"$OUT"
