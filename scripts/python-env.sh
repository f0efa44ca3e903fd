#!/usr/bin/env bash
# Creates tests/.venv from the pinned tests/requirements.txt (re-created when it changes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/tests/.venv"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$root/tests/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/tests/requirements.txt"
  echo "$want" > "$stamp"
fi
