#!/usr/bin/env bash
# clang-format (pinned style in .clang-format), clang-tidy (.clang-tidy), and the layering
# rule: a folder may include only folders below it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build}
files=$(git ls-files 'src/*.cc' 'src/*.h' 'bench/*.cc' 'bench/*.h')
clang-format --dry-run -Werror $files
echo "clang-format: ok"

python3 scripts/check_layers.py
echo "layering: ok"

sources=$(git ls-files 'src/*.cc' | grep -v '_fuzzer.cc$')
printf '%s\n' $sources | xargs -P 2 -n 4 clang-tidy -p "$build" --quiet 2>/dev/null
echo "clang-tidy: ok"
