#!/usr/bin/env bash
# `make test`: every test. Unit tests (ctest), sanitizer build, fuzzers, style checks, then the
# black-box suites against the real binary with the real Braintrust SDKs.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export ARBOR_BIN="$root/$build/arbor"

step() { echo; echo "==== $* ===="; }

step "unit tests"
ctest --test-dir "$build" --output-on-failure -j2

step "unit tests under ASan + UBSan"
scripts/sanitize.sh

step "fuzzers (short runs)"
scripts/fuzz.sh

step "style: clang-format and layering"
scripts/check-style.sh

step "python test environment"
scripts/python-env.sh

step "OIDC test provider (npm oidc-provider, for tests/blackbox/test_oidc.py)"
(cd tests/oidc && npm ci --ignore-scripts --no-audit --no-fund)

step "black-box: bad input and crash recovery"
tests/.venv/bin/python -m pytest -q tests/blackbox

step "Braintrust SDK suites (JavaScript and Python)"
tests/sdk/run.sh

step "OpenTelemetry OTLP ingest (real OTel JS SDK)"
tests/otel/run.sh

step "web UI (vitest + chromium)"
web/run-tests.sh
