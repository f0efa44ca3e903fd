#!/usr/bin/env bash
# The web UI's tests: type check, vitest component tests, then the browser tests (real
# chromium via playwright-core against a real `arbor serve` seeded with the Braintrust JS SDK).
# ARBOR_BIN picks the binary (default build/arbor).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$HERE/../scripts/build-web.sh"
cd "$HERE"
echo "web: tsc --noEmit"
node_modules/.bin/tsc --noEmit -p .
echo "web: vitest"
node_modules/.bin/vitest run
echo "web: browser tests (chromium)"
mkdir -p ../tests/artifacts/ui
node --test --test-concurrency=1 e2e/
