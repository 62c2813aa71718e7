#!/usr/bin/env bash
# A/B throughput of two emulator binaries on the same routes, interleaved (A, B, A, B …) so machine noise
# hits both alike; prints each target's median req/s per binary and B's change. Loopback only, bounded:
# ROUNDS × 2 × targets × DURATION seconds.
#   bash bench/ab.sh OLD_BINARY NEW_BINARY        # ROUNDS=3 DURATION=5 CONNS=32
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
A=${1:?usage: bench/ab.sh OLD_BINARY NEW_BINARY}
B=${2:?usage: bench/ab.sh OLD_BINARY NEW_BINARY}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-32}
PORT_A=${PORT_A:-18580}
PORT_B=${PORT_B:-18581}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
"$A" serve --scenario bench/bench.toml --port "$PORT_A" >/dev/null 2>&1 &
PA=$!
"$B" serve --scenario bench/bench.toml --port "$PORT_B" >/dev/null 2>&1 &
PB=$!
trap 'kill $PA $PB 2>/dev/null || true' EXIT
wait_healthy "$PORT_A" "$PORT_B"
APP=b00000000000000000000001
FORM=b00000000000000000000101
ID=$(first_bench_id "$PORT_A")
TARGETS=(
  "jdy-data-get|/api/v5/app/entry/data/get|{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data_id\":\"$ID\"}"
  "jdy-data-list-filter|/api/v5/app/entry/data/list|{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"limit\":100,\"filter\":{\"rel\":\"and\",\"cond\":[{\"field\":\"_widget_1600000000003\",\"method\":\"eq\",\"value\":[\"发货\"]}]}}"
  "jdy-data-create|/api/v5/app/entry/data/create|{\"app_id\":\"$APP\",\"entry_id\":\"$FORM\",\"data\":{\"_widget_1600000000001\":{\"value\":\"压测\"},\"_widget_1600000000002\":{\"value\":5}}}"
)
printf '%-22s %s\n' target "req/s per round: A (old) | B (new)"
for t in "${TARGETS[@]}"; do
  IFS='|' read -r name path body <<<"$t"
  as=(); bs=()
  for _ in $(seq 1 "$ROUNDS"); do
    as+=("$(rps "$PORT_A" "$path" "$body")")
    bs+=("$(rps "$PORT_B" "$path" "$body")")
  done
  python3 - "$name" "${as[*]}" "${bs[*]}" <<'PY'
import statistics, sys
name, a, b = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
ma, mb = statistics.median(a), statistics.median(b)
print(f"{name:<22} A {ma:>9.0f}  B {mb:>9.0f}  B/A {mb/ma*100:5.1f} %   (A {', '.join(f'{x:.0f}' for x in a)}; B {', '.join(f'{x:.0f}' for x in b)})")
PY
done
echo "machine: $(nproc) cores; wrk -t1 -c$CONNS -d${DURATION}s, $ROUNDS interleaved rounds; $(date -u +%F)"
