#!/usr/bin/env bash
# API throughput with data pushes configured, against the same binary without them, interleaved rounds
# on loopback. Three servers of one binary on bench/bench.toml:
#   none      — no push
#   push      — the form pushes (the default: API writes do not push, as on Jiandaoyun)
#   api-push  — the form pushes and api_writes_push = true: every create also queues a signed push,
#               sent in the background to a fourth server (an emulator whose OMFlow login answers 200)
# Bounded: ROUNDS × 3 × targets × DURATION seconds.
#   bash bench/push.sh [BINARY]          # default target/release/lowcode-emu; ROUNDS=3 DURATION=5 CONNS=32
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${1:-target/release/lowcode-emu}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-32}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT
RX_PORT=18690
"$BIN" serve --port "$RX_PORT" >/dev/null 2>&1 &
HOOK="http://127.0.0.1:$RX_PORT/accounts/api/security/get/"
sed "s|^generate = { count = 100000 }|generate = { count = 100000 }\npush = { url = \"$HOOK\", secret = \"bench\" }|" bench/bench.toml >"$TMP/push.toml"
sed 's|^api_keys = \["bench-key"\]|api_keys = ["bench-key"]\napi_writes_push = true|' "$TMP/push.toml" >"$TMP/api-push.toml"
declare -A PORT=([none]=18691 [push]=18692 [api-push]=18693)
"$BIN" serve --scenario bench/bench.toml --port "${PORT[none]}" >/dev/null 2>&1 &
"$BIN" serve --scenario "$TMP/push.toml" --port "${PORT[push]}" >/dev/null 2>&1 &
"$BIN" serve --scenario "$TMP/api-push.toml" --port "${PORT[api-push]}" >/dev/null 2>&1 &
wait_healthy "$RX_PORT" "${PORT[@]}"
APP=b00000000000000000000001
FORM=b00000000000000000000101
ID=$(first_bench_id "${PORT[none]}")
TARGETS=(
  "jdy-data-create|/api/v5/app/entry/data/create|{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data\":{\"_widget_1600000000001\":{\"value\":\"压测\"},\"_widget_1600000000002\":{\"value\":5}}}"
  "jdy-data-update|/api/v5/app/entry/data/update|{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data_id\":\"$ID\",\"data\":{\"_widget_1600000000002\":{\"value\":6}}}"
  "jdy-data-get|/api/v5/app/entry/data/get|{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data_id\":\"$ID\"}"
)
printf '%-18s %s\n' target "median req/s: none | push (API writes do not push) | api-push (every write pushes)"
for t in "${TARGETS[@]}"; do
  IFS='|' read -r name path body <<<"$t"
  declare -A got=([none]="" [push]="" [api-push]="")
  for _ in $(seq 1 "$ROUNDS"); do
    for k in none push api-push; do got[$k]+="$(rps "${PORT[$k]}" "$path" "$body") "; done
  done
  python3 - "$name" "${got[none]}" "${got[push]}" "${got[api-push]}" <<'PY'
import statistics, sys
name, *runs = sys.argv[1:]
med = [statistics.median(float(x) for x in r.split()) for r in runs]
print(f"{name:<18} none {med[0]:>8.0f}   push {med[1]:>8.0f} ({med[1]/med[0]*100:5.1f} %)   api-push {med[2]:>8.0f} ({med[2]/med[0]*100:5.1f} %)")
PY
done
DELIVERED=$(curl -s "http://127.0.0.1:${PORT[api-push]}/__emu/deliveries" | python3 -c 'import collections,json,sys; print(dict(collections.Counter(d["outcome"] for d in json.load(sys.stdin))))')
echo "api-push journal (the last 1 000-odd deliveries kept): $DELIVERED"
echo "machine: $(nproc) cores; wrk -t1 -c$CONNS -d${DURATION}s, $ROUNDS interleaved rounds; $(date -u +%F)"
