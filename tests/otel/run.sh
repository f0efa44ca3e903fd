#!/usr/bin/env bash
# OTLP trace ingest against arbor with the real OpenTelemetry JS SDK and both OTLP/HTTP
# exporters (JSON and protobuf). Each test file starts its own server (see
# tests/sdk/js/lib/arbor.mjs); ARBOR_BIN picks the binary (default build/arbor), ARBOR_URL and
# ARBOR_API_KEY use a running one.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
if [ -z "${ARBOR_URL:-}" ]; then
  export ARBOR_BIN="${ARBOR_BIN:-$REPO/build/arbor}"
  if [ ! -x "$ARBOR_BIN" ]; then
    echo "run.sh: arbor binary not found at $ARBOR_BIN (build it, or set ARBOR_BIN / ARBOR_URL)" >&2
    exit 1
  fi
fi
cd "$HERE"
stamp=node_modules/.arbor-lock.sha256
want="$(sha256sum package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ ! -d node_modules/@opentelemetry/sdk-trace-node ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "run.sh: npm ci in $HERE"
  npm ci --ignore-scripts --no-audit --no-fund
  echo "$want" > "$stamp"
fi
mkdir -p "$REPO/tests/artifacts/sdk"
exec node --test --test-concurrency=1 test/
