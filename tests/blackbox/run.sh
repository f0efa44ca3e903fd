#!/usr/bin/env bash
# Runs the black-box suite (bad input, auth/isolation, crash durability) against build/arbor.
# Usage: tests/blackbox/run.sh [pytest args...]   (ARBOR_BIN overrides the binary)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="$REPO/tests/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$REPO/tests/requirements.txt"
fi
cd "$REPO"
# Default to the whole suite unless a test path (file, dir or node id) was given.
paths=()
for a in "$@"; do
  case "$a" in -*) ;; *) [ -e "${a%%::*}" ] && paths+=("$a") ;; esac
done
if [ ${#paths[@]} -eq 0 ]; then set -- "$HERE" "$@"; fi
exec "$VENV/bin/python" -m pytest -p no:cacheprovider -ra "$@"
