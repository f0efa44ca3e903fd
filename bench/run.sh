#!/usr/bin/env bash
# Ingest benchmark (I1 throughput, I2 write->visible): Arbor vs PostgreSQL 15, same workload, same run.
#
#   bench/run.sh BUILD_DIR          (what `make bench` runs, with BUILD_DIR=build)
#
# Environment overrides:
#   BENCH_ROWS=200000  BENCH_CONNECTIONS=16  BENCH_SEED=42  BENCH_BATCH=100  BENCH_DURATION=0 (s, 0 = all rows)
#   BENCH_SYSTEMS="arbor postgres"   which systems to run
#   BENCH_DIR=/tmp                   where the scratch directory goes (data dirs of both systems)
#   BENCH_KEEP=1                     keep the scratch directory (logs, data) after the run
#   BENCH_EXTRA_ARGS=...             extra flags for both drivers (e.g. "--max-span-kb 64")
#   BENCH_ARBOR_ARGS=...             extra flags for `arbor serve` (e.g. "--memtable-mb 256")
#   ARBOR_BIN, ARBOR_LOAD, PG_BASELINE  override the binaries (default BUILD_DIR/arbor, BUILD_DIR/bench/...)
#   PG_BIN=/usr/lib/postgresql/15/bin
set -euo pipefail

BUILD_DIR=${1:-build}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
ROWS=${BENCH_ROWS:-200000}
CONNS=${BENCH_CONNECTIONS:-16}
SEED=${BENCH_SEED:-42}
BATCH=${BENCH_BATCH:-100}
DURATION=${BENCH_DURATION:-0}
SYSTEMS=${BENCH_SYSTEMS:-arbor postgres}
EXTRA=${BENCH_EXTRA_ARGS:-}
ARBOR_BIN=${ARBOR_BIN:-$BUILD_DIR/arbor}
ARBOR_LOAD=${ARBOR_LOAD:-$BUILD_DIR/bench/arbor_load}
PG_BASELINE=${PG_BASELINE:-$BUILD_DIR/bench/arbor_pg_baseline}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

D=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/arbor-bench.XXXXXX")
chmod 755 "$D"
ARBOR_PID=""
PG_STARTED=""

as_postgres() {  # PostgreSQL refuses to run as root
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  local rc=$?
  set +e
  if [ -n "$ARBOR_PID" ] && kill -0 "$ARBOR_PID" 2>/dev/null; then
    kill "$ARBOR_PID"
    for _ in $(seq 50); do kill -0 "$ARBOR_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$ARBOR_PID" 2>/dev/null
  fi
  if [ -n "$PG_STARTED" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$D/pg/data" -m immediate stop >/dev/null 2>&1
  fi
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
  echo "no free port found" >&2
  return 1
}

# jget FILE KEY: a number from the drivers' one-key-per-line JSON output ("" when null/absent).
jget() {
  sed -n "s/^ *\"$2\": *\\([^,]*\\),\\{0,1\\}$/\\1/p" "$1" | sed 's/"//g; s/^null$//' | head -n1
}

fmt() {  # fmt VALUE DECIMALS -> formatted, or "-" when empty
  if [ -z "$1" ]; then echo "-"; else printf "%.${2}f" "$1"; fi
}

ratio() {  # ratio A B -> A/B with 2 decimals, or "-"
  if [ -z "$1" ] || [ -z "$2" ]; then echo "-"; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2fx", a / b }'
}

has() { case " $SYSTEMS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

COMMON=(--rows "$ROWS" --connections "$CONNS" --seed "$SEED" --batch "$BATCH" --duration "$DURATION")
# shellcheck disable=SC2206
EXTRA_ARR=($EXTRA)

echo "== Arbor ingest benchmark (I1, I2): $(date -u +%FT%TZ)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM," \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), kernel $(uname -r)"
echo "scratch: $D on $(df -T "$D" | awk 'NR==2 {print $2 " (" $1 ")"}')"
echo "workload: rows=$ROWS connections=$CONNS batch=$BATCH seed=$SEED duration=${DURATION}s cache=n/a (ingest) extra=[$EXTRA]"
echo

ARBOR_RSS=""
ARBOR_DISK=""
ARBOR_CPU=""
if has arbor; then
  for f in "$ARBOR_BIN" "$ARBOR_LOAD"; do
    [ -x "$f" ] || { echo "missing $f (build first: make build)" >&2; exit 1; }
  done
  PORT=$(free_port)
  KEY="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
  mkdir -p "$D/arbor"
  echo "-- starting arbor on 127.0.0.1:$PORT (data $D/arbor)"
  ARBOR_BOOTSTRAP_API_KEY="$KEY" "$ARBOR_BIN" serve --data-dir "$D/arbor" --listen "127.0.0.1:$PORT" \
    --org-name bench ${BENCH_ARBOR_ARGS:-} >"$D/arbor.log" 2>&1 &
  ARBOR_PID=$!
  ready=""
  for _ in $(seq 300); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null; then ready=1; break; fi
    kill -0 "$ARBOR_PID" 2>/dev/null || break
    sleep 0.2
  done
  if [ -z "$ready" ]; then
    echo "arbor did not become ready; log:" >&2
    tail -n 30 "$D/arbor.log" >&2
    exit 1
  fi
  cpu0=$(awk '{print $14 + $15}' "/proc/$ARBOR_PID/stat")
  set +e
  "$ARBOR_LOAD" --url "http://127.0.0.1:$PORT" --key "$KEY" "${COMMON[@]}" "${EXTRA_ARR[@]}" \
    --json-out "$D/arbor.json" 2>&1 | tee "$D/arbor-load.log"
  load_rc=${PIPESTATUS[0]}
  set -e
  if kill -0 "$ARBOR_PID" 2>/dev/null; then
    cpu1=$(awk '{print $14 + $15}' "/proc/$ARBOR_PID/stat")
    ARBOR_CPU=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (b - a) / hz }')
    ARBOR_RSS=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$ARBOR_PID/status")
    kill "$ARBOR_PID"
    for _ in $(seq 100); do kill -0 "$ARBOR_PID" 2>/dev/null || break; sleep 0.1; done
  else
    echo "!! arbor exited during the run; last log lines:" >&2
    tail -n 30 "$D/arbor.log" >&2
  fi
  ARBOR_PID=""
  ARBOR_DISK=$(du -sb "$D/arbor" | cut -f1)
  [ "$load_rc" -eq 0 ] || echo "!! arbor_load exited with $load_rc (see above)"
  echo "arbor: server CPU ${ARBOR_CPU:-?} s, peak RSS ${ARBOR_RSS:-?} MiB, data dir $(numfmt --to=iec "${ARBOR_DISK:-0}")B"
  echo
fi

PG_DISK=""
if has postgres; then
  [ -x "$PG_BASELINE" ] || { echo "missing $PG_BASELINE (build first: make build)" >&2; exit 1; }
  [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL 15 not found in $PG_BIN (apt-get install postgresql)" >&2; exit 1; }
  PGPORT=$(free_port)
  P=$D/pg
  mkdir -p "$P"
  chown postgres: "$P" 2>/dev/null || true
  echo "-- starting PostgreSQL 15 on 127.0.0.1:$PGPORT (data $P/data)"
  as_postgres "$PG_BIN/initdb" -D "$P/data" -A trust -U postgres -E UTF8 >"$D/initdb.log" 2>&1
  # Durable like Arbor (fsync, synchronous_commit=on: the defaults), with memory and checkpoint
  # settings a sane deployment on this machine would use, and lz4 TOAST compression.
  cat >>"$P/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$P'
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 2GB
wal_buffers = 64MB
max_wal_size = 16GB
checkpoint_timeout = 30min
default_toast_compression = lz4
max_connections = 100
EOF
  as_postgres "$PG_BIN/pg_ctl" -D "$P/data" -l "$P/pg.log" -w start >/dev/null
  PG_STARTED=1
  set +e
  "$PG_BASELINE" --conninfo "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres" "${COMMON[@]}" \
    "${EXTRA_ARR[@]}" --json-out "$D/pg.json" 2>&1 | tee "$D/pg-load.log"
  pg_rc=${PIPESTATUS[0]}
  set -e
  PG_DISK=$(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -Atc "SELECT pg_total_relation_size('spans')" 2>/dev/null || true)
  PG_WAL=$(du -sb "$P/data/pg_wal" | cut -f1)
  as_postgres "$PG_BIN/pg_ctl" -D "$P/data" -m fast stop >/dev/null
  PG_STARTED=""
  [ "$pg_rc" -eq 0 ] || echo "!! arbor_pg_baseline exited with $pg_rc (see above)"
  echo "postgres: table+indexes $(numfmt --to=iec "${PG_DISK:-0}")B, pg_wal $(numfmt --to=iec "${PG_WAL:-0}")B"
  echo
fi

# ------------------------------------------------------------------ summary table
row() {  # row NAME JSONFILE DISK
  local f=$2
  if [ ! -s "$f" ]; then printf "%-10s %s\n" "$1" "(no result)"; return; fi
  local bytes disk_ratio="-"
  bytes=$(jget "$f" bytes_ok)
  if [ -n "$3" ] && [ -n "$bytes" ] && [ "$bytes" != 0 ]; then
    disk_ratio=$(awk -v a="$3" -v b="$bytes" 'BEGIN { printf "%.2f", a / b }')
  fi
  printf "%-10s %10s %8s %9s %9s %9s %9s %8s %s\n" "$1" \
    "$(fmt "$(jget "$f" rows_per_s)" 0)" "$(fmt "$(jget "$f" mb_per_s)" 1)" \
    "$(fmt "$(jget "$f" ack_p50_ms)" 1)" "$(fmt "$(jget "$f" ack_p99_ms)" 1)" \
    "$(fmt "$(jget "$f" vis_p50_ms)" 1)" "$(fmt "$(jget "$f" vis_p99_ms)" 1)" \
    "$disk_ratio" "$(jget "$f" rows_ok)/$(jget "$f" dataset_rows) ok, read-back $(jget "$f" verify_ok)/$(jget "$f" verify_n)"
}

echo "== Results (rows=$ROWS, connections=$CONNS, batch=$BATCH, seed=$SEED; latencies in ms; disk = bytes on disk / JSON bytes)"
printf "%-10s %10s %8s %9s %9s %9s %9s %8s %s\n" system rows/s MB/s "ack p50" "ack p99" "vis p50" "vis p99" disk notes
has arbor && row arbor "$D/arbor.json" "$ARBOR_DISK"
has postgres && row postgres "$D/pg.json" "$PG_DISK"
if has arbor && has postgres && [ -s "$D/arbor.json" ] && [ -s "$D/pg.json" ]; then
  A=$D/arbor.json
  G=$D/pg.json
  printf "%-10s %10s %8s %9s %9s %9s %9s\n" "arbor/PG" \
    "$(ratio "$(jget "$A" rows_per_s)" "$(jget "$G" rows_per_s)")" \
    "$(ratio "$(jget "$A" mb_per_s)" "$(jget "$G" mb_per_s)")" \
    "$(ratio "$(jget "$A" ack_p50_ms)" "$(jget "$G" ack_p50_ms)")" \
    "$(ratio "$(jget "$A" ack_p99_ms)" "$(jget "$G" ack_p99_ms)")" \
    "$(ratio "$(jget "$A" vis_p50_ms)" "$(jget "$G" vis_p50_ms)")" \
    "$(ratio "$(jget "$A" vis_p99_ms)" "$(jget "$G" vis_p99_ms)")"
  echo "(throughput ratios > 1 and latency ratios < 1 favour Arbor; targets: I1 >= 100k rows/s and >= 10x PG, I2 p99 < 50 ms)"
  if [ "$(jget "$A" dataset_fingerprint)" != "$(jget "$G" dataset_fingerprint)" ]; then
    echo "!! the two drivers generated different workloads (fingerprints $(jget "$A" dataset_fingerprint) vs $(jget "$G" dataset_fingerprint))"
  else
    echo "same workload on both: fingerprint $(jget "$A" dataset_fingerprint), $(jget "$A" dataset_rows) rows, $(fmt "$(jget "$A" dataset_json_bytes)" 0) JSON bytes"
  fi
fi
