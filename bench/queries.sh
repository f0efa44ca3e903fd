#!/usr/bin/env bash
# Query benchmark (Q1-Q8, S1, R1): Arbor vs PostgreSQL 15, SQLite 3 FTS5, DuckDB and ClickHouse
# (in-process, chdb) on the same seeded dataset, in one run. See bench/README.md ("Queries").
#
#   bench/queries.sh BUILD_DIR
#
# Environment:
#   BENCH_SPANS=100000  BENCH_SEED=42  BENCH_CASES=10000 (cases per experiment, Q7)
#   BENCH_Q1_TRACES=1000  BENCH_REPS=20  BENCH_QUERY_BUDGET_S=30 (a query's repetitions stop
#   after this long, at least 3)   BENCH_SYSTEMS="arbor postgres sqlite duckdb
#   clickhouse"
#   BENCH_QUERIES="Q1 ... Q8"   BENCH_PERF="Q2 Q4" (perf record -g on arbor during those queries)
#   BENCH_NO_COLD=1 (skip the Arbor restart phase)   BENCH_ARBOR_ARGS (extra `arbor serve` flags)
#   BENCH_DIR=/tmp (scratch)   BENCH_KEEP=1 (keep it)   BENCH_JSON (default
#   bench/results/queries-<UTC date>.json)   ARBOR_BIN, ARBOR_LOAD, PG_BIN
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=$(cd "${1:-build}" && pwd)
ARBOR_BIN=${ARBOR_BIN:-$BUILD_DIR/arbor}
ARBOR_LOAD=${ARBOR_LOAD:-$BUILD_DIR/bench/arbor_load}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
for f in "$ARBOR_BIN" "$ARBOR_LOAD"; do
  [ -x "$f" ] || { echo "missing $f (build first: cmake --build $BUILD_DIR --target arbor arbor_load)" >&2; exit 1; }
done
[ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL 15 not found in $PG_BIN (apt-get install postgresql)" >&2; exit 1; }

# The driver's pinned packages (duckdb, psycopg, chdb) in a project-local venv.
VENV=$HERE/.venv
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/requirements.txt"
fi

D=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/arbor-qbench.XXXXXX")
chmod 755 "$D"
PG_STARTED=""
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  local rc=$?
  set +e
  [ -n "$PG_STARTED" ] && as_postgres "$PG_BIN/pg_ctl" -D "$D/pg/data" -m immediate stop >/dev/null 2>&1
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $D"; else rm -rf "$D"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  return 1
}

# A private PostgreSQL 15 cluster, configured as in bench/run.sh (loading speed is not measured
# here, so commits are asynchronous).
PGPORT=$(free_port)
mkdir -p "$D/pg"
chown postgres: "$D/pg" 2>/dev/null || true
as_postgres "$PG_BIN/initdb" -D "$D/pg/data" -A trust -U postgres -E UTF8 >"$D/initdb.log" 2>&1
cat >>"$D/pg/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$D/pg'
shared_buffers = 2GB
work_mem = 64MB
maintenance_work_mem = 1GB
wal_buffers = 64MB
max_wal_size = 16GB
checkpoint_timeout = 30min
synchronous_commit = off
default_toast_compression = lz4
max_parallel_workers_per_gather = 2
CONF
as_postgres "$PG_BIN/pg_ctl" -D "$D/pg/data" -l "$D/pg/pg.log" -w start >/dev/null
PG_STARTED=1

mkdir -p "$HERE/results"
JSON=${BENCH_JSON:-$HERE/results/queries-$(date -u +%F).json}
ARGS=(--arbor-bin "$ARBOR_BIN" --arbor-load "$ARBOR_LOAD" --work "$D"
  --pg "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres"
  --spans "${BENCH_SPANS:-100000}" --seed "${BENCH_SEED:-42}" --cases "${BENCH_CASES:-10000}"
  --q1-traces "${BENCH_Q1_TRACES:-1000}" --reps "${BENCH_REPS:-20}"
  --query-budget-s "${BENCH_QUERY_BUDGET_S:-30}" --json-out "$JSON")
[ -n "${BENCH_SYSTEMS:-}" ] && ARGS+=(--systems "$BENCH_SYSTEMS")
[ -n "${BENCH_QUERIES:-}" ] && ARGS+=(--queries "$BENCH_QUERIES")
[ -n "${BENCH_PERF:-}" ] && ARGS+=(--perf "$BENCH_PERF")
[ -n "${BENCH_ARBOR_ARGS:-}" ] && ARGS+=(--arbor-args "$BENCH_ARBOR_ARGS")
[ "${BENCH_NO_COLD:-0}" = 1 ] && ARGS+=(--no-cold)
"$VENV/bin/python" "$HERE/queries.py" "${ARGS[@]}"
