# Shared by the A/B scripts (bench/ab.sh, bench/push.sh): source it after `cd` to the repository.

# Waits (at most 20 s) until each given port answers /__emu/health.
wait_healthy() { # port...
  for p in "$@"; do
    for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$p/__emu/health" >/dev/null && break; sleep 0.1; done
  done
}

# The first record id of bench/bench.toml's form, served on the given port.
first_bench_id() { # port
  curl -s "http://127.0.0.1:$1/api/v5/app/entry/data/list" -H "Authorization: Bearer bench-key" \
    -d '{"app_id":"b00000000000000000000001","entry_id":"b00000000000000000000101","limit":1}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["_id"])'
}

# Requests per second of one wrk run posting BODY to a path (CONNS connections, DURATION seconds).
rps() { # port path body
  BODY="$3" AUTH="Bearer bench-key" wrk -t1 -c"$CONNS" -d"${DURATION}s" -s bench/post.lua "http://127.0.0.1:$1$2" 2>&1 | awk '/Requests\/sec/ {print $2}'
}
