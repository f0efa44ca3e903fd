#!/usr/bin/env bash
# OTLP ingest benchmark: the same spans into Arbor over OTLP/protobuf, into Arbor over /logs3
# (as Braintrust rows) and into Arize Phoenix over OTLP/protobuf, in one run; then the time to
# load one trace and to list the newest 50 traces in Arbor and Phoenix. See bench/README.md.
#
#   bench/otlp/run.sh BUILD_DIR
#
# Environment overrides:
#   BENCH_SPANS=20000  BENCH_BATCH=500 (spans per request)  BENCH_CONNECTIONS=8  BENCH_SEED=42
#   BENCH_REPS=20 (query repetitions)  BENCH_SYSTEMS="arbor-otlp arbor-logs3 phoenix"
#   BENCH_DIR=/tmp (scratch: the data dirs)  BENCH_KEEP=1 (keep them)  ARBOR_BIN
# Results: printed, and written to bench/results/otlp-<UTC date>.json (BENCH_JSON_OUT overrides).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD_DIR=$(cd "${1:-$ROOT/build}" && pwd)
ARBOR_BIN=${ARBOR_BIN:-$BUILD_DIR/arbor}
[ -x "$ARBOR_BIN" ] || { echo "missing $ARBOR_BIN (build first: make build)" >&2; exit 1; }
SYSTEMS=${BENCH_SYSTEMS:-arbor-otlp arbor-logs3 phoenix}

# venv DIR REQUIREMENTS: a venv with the pinned requirements, re-created when they change.
venv() {
  local dir=$1 req=$2 want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    echo "-- installing $(basename "$req") into $dir" >&2
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$want" >"$dir/.requirements.sha256"
  fi
}
venv "$HERE/.venv/driver" "$HERE/requirements.txt"
PHOENIX_ARGS=()
case " $SYSTEMS " in
  *" phoenix "*)
    venv "$HERE/.venv/phoenix" "$HERE/requirements-phoenix.txt"
    PHOENIX_ARGS=(--phoenix-python "$HERE/.venv/phoenix/bin/python")
    ;;
esac

mkdir -p "$ROOT/bench/results"
OUT=${BENCH_JSON_OUT:-$ROOT/bench/results/otlp-$(date -u +%F).json}
KEEP=()
[ "${BENCH_KEEP:-0}" = 1 ] && KEEP=(--keep)
exec "$HERE/.venv/driver/bin/python" "$HERE/bench.py" --arbor-bin "$ARBOR_BIN" "${PHOENIX_ARGS[@]}" \
  --spans "${BENCH_SPANS:-20000}" --batch "${BENCH_BATCH:-500}" \
  --connections "${BENCH_CONNECTIONS:-8}" --seed "${BENCH_SEED:-42}" --reps "${BENCH_REPS:-20}" \
  --systems "$SYSTEMS" --scratch "${BENCH_DIR:-${TMPDIR:-/tmp}}" "${KEEP[@]}" --json-out "$OUT"
