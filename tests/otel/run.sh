#!/usr/bin/env bash
# OTLP ingest against arbor with the real OpenTelemetry SDKs: JS (traces and logs over the
# OTLP/HTTP JSON and protobuf exporters and the gRPC exporters), then Python (tests/otel/python:
# http/protobuf and gRPC exporters, and the Braintrust SDK's braintrust.otel integration).
# Each test file starts its own server (tests/sdk/js/lib/arbor.mjs, tests/pylib); ARBOR_BIN
# picks the binary (default build/arbor). ARBOR_URL and ARBOR_API_KEY point the JS traces tests
# at a running one.
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
node --test --test-concurrency=1 test/
"$REPO/scripts/python-env.sh"
cd "$REPO"
exec "$REPO/tests/.venv/bin/python" -m pytest -p no:cacheprovider -q tests/otel/python
