#!/usr/bin/env bash
# Fuzzing at scale, bounded in time: every property test (filters, value decoders, Yida search,
# Astro Zero conditions, templates and the text index, the scenario loader, the workflow engine, the
# tenant tools: recordings, answer shapes, the scenario writer) and the all-routes
# request fuzzer, with FUZZ_CASES cases each. A failure prints the minimal failing input; add it
# as a regression test.
#   bash bench/fuzz.sh                 # FUZZ_CASES=50000, at most SECONDS_EACH=600 per suite
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_CASES=${FUZZ_CASES:-50000}
# Optimised, but with overflow checks and debug assertions: an arithmetic overflow is a finding.
export CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true
SECONDS_EACH=${SECONDS_EACH:-600}
cargo test --release --quiet --lib --test it --no-run
status=0
run() {
  echo "== $* (FUZZ_CASES=$FUZZ_CASES, at most ${SECONDS_EACH}s)"
  local started=$SECONDS
  if timeout "$SECONDS_EACH" cargo test --release --quiet "$@" 2>&1 | grep -E 'test result|panicked|minimal failing|FAILED'; then :; fi
  local rc=${PIPESTATUS[0]}
  if [ "$rc" = 124 ]; then echo "   (time limit reached: no failure within ${SECONDS_EACH}s)"; elif [ "$rc" != 0 ]; then status=1; fi
  echo "   $((SECONDS - started))s"
}
run --lib
run --test it fuzz_routes::
exit $status
