#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each briefly from the seed
# corpus in tests/fuzz/corpus. FUZZ_SECONDS sets the time per target (default 20).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${FUZZ_SECONDS:-15}
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DARBOR_FUZZ=ON > /dev/null
fi
cmake --build build-fuzz --target logs3_fuzzer wal_fuzzer btql_fuzzer btql_text_fuzzer otlp_fuzzer \
  segment_fuzzer columns_fuzzer
for target in logs3 wal btql btql_text otlp segment columns; do
  work=$(mktemp -d)
  cp tests/fuzz/corpus/$target/* "$work/"
  echo "fuzzing $target for ${seconds}s"
  status=0
  (cd "$work" && "$root"/build-fuzz/src/*/${target}_fuzzer -max_total_time="$seconds" \
    -max_len=65536 -print_final_stats=1 . > fuzz.log 2>&1) || status=$?
  grep -E "^stat::number_of_executed_units|ERROR|SUMMARY|ARBOR_CHECK|Done" "$work/fuzz.log" || true
  if [ "$status" -ne 0 ]; then
    mkdir -p tests/artifacts/fuzz && cp "$work"/crash-* "$work/fuzz.log" tests/artifacts/fuzz/ 2>/dev/null || true
  fi
  rm -rf "$work"
  if [ "$status" -ne 0 ]; then echo "fuzzer $target failed"; exit 1; fi
done
