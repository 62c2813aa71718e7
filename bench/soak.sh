#!/usr/bin/env bash
# Soak: SOAK_SECONDS (default 60) of mixed load on loopback — reads, filtered lists, updates of the
# same records (state stays the same size) and the dashboard's admin calls (the journal's live query,
# filtered record pages) — while sampling the emulator's RSS.
# Every update also queues a signed data push (the form pushes and api_writes_push is on) to a
# receiver (a second emulator whose OMFlow login answers 200), so the outbox runs full tilt too.
# Memory must level off: the journal is a bounded ring (it keeps up to [server] journal_size
# request/response bodies, so it fills during the first seconds), the outbox keeps a bounded number
# of deliveries, and nothing else may grow.
#   bash bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECONDS=${SOAK_SECONDS:-60}
PORT=${PORT:-18380}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin lowcode-emu
RX_PORT=$((PORT + 1))
./target/release/lowcode-emu serve --port "$RX_PORT" >/dev/null 2>&1 &
RX=$!
SCN=$(mktemp --suffix=.toml)
sed "s|^generate = { count = 100000 }|generate = { count = 100000 }\npush = { url = \"http://127.0.0.1:$RX_PORT/accounts/api/security/get/\", secret = \"soak\" }|; s|^api_keys = \[\"bench-key\"\]|api_keys = [\"bench-key\"]\napi_writes_push = true|" bench/bench.toml >"$SCN"
./target/release/lowcode-emu serve --scenario "$SCN" --port "$PORT" >/dev/null 2>&1 &
EMU=$!
trap 'kill $EMU $RX 2>/dev/null || true; rm -f "$SCN"' EXIT
for p in "$RX_PORT" "$PORT"; do
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$p/__emu/health" >/dev/null && break; sleep 0.1; done
done
B="http://127.0.0.1:$PORT/api/v5/app/entry/data"
APP=b00000000000000000000001
FORM=b00000000000000000000101
ID=$(curl -s "$B/list" -H "Authorization: Bearer bench-key" -d "{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"limit\":1}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["_id"])')
rss() { awk '/VmRSS/ {print $2}' "/proc/$EMU/status"; }
LOADERS=()
load() { # url body
  BODY="$2" AUTH="Bearer bench-key" wrk -t1 -c16 -d"${SOAK_SECONDS}s" -s bench/post.lua "$1" >/dev/null 2>&1 &
  LOADERS+=($!)
}
echo "rss at start: $(rss) KiB"
load "$B/get" "{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data_id\":\"$ID\"}"
load "$B/list" "{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"limit\":100,\"filter\":{\"rel\":\"and\",\"cond\":[{\"field\":\"_widget_1600000000003\",\"method\":\"eq\",\"value\":[\"发货\"]}]}}"
load "$B/update" "{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data_id\":\"$ID\",\"data\":{\"_widget_1600000000002\":{\"value\":7}}}"
# An open dashboard, hard: its journal query and filtered record pages, back to back on two connections.
A="http://127.0.0.1:$PORT/__emu"
for u in "$A/requests?limit=200" "$A/records?platform=jiandaoyun&collection=$FORM&limit=50&q=%E5%8F%91%E8%B4%A7"; do
  wrk -t1 -c1 -d"${SOAK_SECONDS}s" "$u" >/dev/null 2>&1 &
  LOADERS+=($!)
done
SAMPLES=()
for t in $(seq 5 5 "$SOAK_SECONDS"); do
  sleep 5
  SAMPLES+=("$(rss)")
  echo "t=${t}s rss=$(rss) KiB"
done
wait "${LOADERS[@]}" 2>/dev/null || true
curl -s "http://127.0.0.1:$PORT/__emu/deliveries" | python3 -c 'import collections,json,sys; d=json.load(sys.stdin); print("deliveries kept:", len(d), dict(collections.Counter(x["outcome"] for x in d)))'
python3 - "${SAMPLES[@]}" <<'PY'
import sys
s = [int(x) for x in sys.argv[1:]]
h = len(s) // 2
first, second = max(s[:h] or s), max(s[h:])
growth = (second - first) / first * 100
print(f"peak rss first half {first} KiB, second half {second} KiB, growth {growth:+.1f}%")
sys.exit(0 if growth < 10 else 1)
PY
