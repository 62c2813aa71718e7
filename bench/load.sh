#!/usr/bin/env bash
# Start-up costs: the embedded demo from launch to a healthy answer, and for each platform one collection
# of COUNT (default 1 000 000) generated records — a Jiandaoyun form, a Yida form, an Astro Zero object
# (bench/load.toml) — time to healthy and resident memory once loaded.
#   bash bench/load.sh                 # PLATFORMS="jdy yida az" by default
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-1000000}
PORT=${PORT:-18480}
cargo build --release --quiet --bin lowcode-emu
BIN=./target/release/lowcode-emu

PID=
MS=
healthy_after() { # scenario-args... ; sets PID and MS (milliseconds from launch to the first 200 from /__emu/health)
  local start end
  start=$(date +%s%N)
  "$BIN" serve "$@" --port "$PORT" >/dev/null 2>&1 &
  PID=$!
  until curl -sf "http://127.0.0.1:$PORT/__emu/health" >/dev/null 2>&1; do sleep 0.005; done
  end=$(date +%s%N)
  MS=$(((end - start) / 1000000))
}

healthy_after
echo "demo: healthy after ${MS} ms"
kill "$PID"; wait "$PID" 2>/dev/null || true

SCN=$(mktemp --suffix=.toml)
trap 'rm -f "$SCN"; kill $PID 2>/dev/null || true' EXIT
for platform in ${PLATFORMS:-jdy yida az}; do
  jdy=0 yida=0 az=0
  case $platform in jdy) jdy=$COUNT ;; yida) yida=$COUNT ;; az) az=$COUNT ;; esac
  sed -e "s/JDY_COUNT/$jdy/" -e "s/YIDA_COUNT/$yida/" -e "s/AZ_COUNT/$az/" bench/load.toml >"$SCN"
  healthy_after --scenario "$SCN"
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
  echo "$platform: $COUNT generated records: healthy after ${MS} ms, rss $((rss / 1024)) MiB (peak $((hwm / 1024)) MiB)"
  kill "$PID"; wait "$PID" 2>/dev/null || true
done
