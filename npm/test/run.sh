#!/usr/bin/env bash
# Packs the npm packages, installs them into a fresh project beside the built binary, and runs the node
# suite there (and tsc over the package's types). Usage: npm/test/run.sh BINARY
set -euo pipefail
binary="$(realpath "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$root/target/npm"
rm -rf "$work" && mkdir -p "$work/packs" "$work/consumer"

# The per-platform package carries the binary; the main package finds it through require.resolve.
rm -rf "$work/linux-x64" && cp -r "$root/npm/linux-x64" "$work/linux-x64"
mkdir -p "$work/linux-x64/bin" && cp "$binary" "$work/linux-x64/bin/lowcode-emu"
(cd "$work/linux-x64" && npm pack --silent --pack-destination "$work/packs" >/dev/null)
(cd "$root/npm/lowcode-emu" && npm pack --silent --pack-destination "$work/packs" >/dev/null)
ls -l "$work/packs"

cd "$work/consumer"
cat > package.json <<'JSON'
{ "name": "consumer", "version": "1.0.0", "private": true, "type": "module" }
JSON
timeout 600 npm install --silent --no-audit --no-fund \
  "$work/packs/lowcode-emu-linux-x64-0.1.0.tgz" "$work/packs/lowcode-emu-0.1.0.tgz" typescript@5.9.3 @types/node@20.19.9 vitest@3.2.7
cp "$here/emulator.test.mjs" "$here/types.ts" "$here/vitest.config.mjs" "$here/vitest.setup.mjs" "$here/emulator.vitest.mjs" .
./node_modules/.bin/tsc --noEmit --strict --module nodenext --moduleResolution nodenext --target es2022 --types node types.ts
# No LOWCODE_EMU_BIN: the binary must come from the platform package.
env -u LOWCODE_EMU_BIN timeout 300 ./node_modules/.bin/vitest run
env -u LOWCODE_EMU_BIN REQUIRE_PLATFORM_PACKAGE=1 SMALL_SCENARIO="$root/tests/pytest_plugin/small.toml" \
  timeout 300 node --test --test-reporter=spec emulator.test.mjs
