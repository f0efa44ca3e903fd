#!/usr/bin/env bash
# Braintrust SDK compatibility suites: the real `braintrust` npm and PyPI packages against arbor.
#
#   tests/sdk/run.sh            # both suites
#   tests/sdk/run.sh js         # only the JS suite (node --test)
#   tests/sdk/run.sh python     # only the Python suite (pytest)
#
# Environment:
#   ARBOR_BIN      arbor binary (default: build/arbor). Each JS test file / the pytest session
#                  starts its own server on a free port with a temp data dir and a random key.
#   ARBOR_URL, ARBOR_API_KEY   use an already running server instead of spawning one.
#   ARBOR_KEEP_DATA=1          keep the temp data dirs.
#   PYTEST_ARGS    extra pytest arguments (e.g. "-k dataset -x").
# Server logs of each run are copied to tests/artifacts/sdk/.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="$REPO/tests/.venv"
REQS="$REPO/tests/requirements.txt"
JS_DIR="$HERE/js"

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(js python)
for s in "${suites[@]}"; do
  case "$s" in js|python) ;; *) echo "usage: $0 [js|python]..." >&2; exit 2 ;; esac
done

if [ -z "${ARBOR_URL:-}" ]; then
  export ARBOR_BIN="${ARBOR_BIN:-$REPO/build/arbor}"
  if [ ! -x "$ARBOR_BIN" ]; then
    echo "run.sh: arbor binary not found at $ARBOR_BIN (build it, or set ARBOR_BIN / ARBOR_URL)" >&2
    exit 1
  fi
fi

hash_of() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

ensure_venv() {
  local stamp="$VENV/.requirements.sha256" want
  want="$(hash_of "$REQS")"
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "run.sh: installing $REQS into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || return 1
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQS" || return 1
  echo "$want" > "$stamp"
}

ensure_node_modules() {
  local stamp="$JS_DIR/node_modules/.arbor-lock.sha256" want
  want="$(hash_of "$JS_DIR/package.json" "$JS_DIR/package-lock.json")"
  if [ -d "$JS_DIR/node_modules/braintrust" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "run.sh: npm ci in $JS_DIR"
  # --ignore-scripts: braintrust's postinstall only fetches the optional `bt` CLI binary.
  (cd "$JS_DIR" && BT_SKIP_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund) || return 1
  echo "$want" > "$stamp"
}

mkdir -p "$REPO/tests/artifacts/sdk"
status=0
for s in "${suites[@]}"; do
  case "$s" in
    js)
      echo "=== Braintrust JS SDK suite (braintrust@$(node -p 'require("'"$JS_DIR"'/package.json").dependencies.braintrust'))"
      if ensure_node_modules; then
        (cd "$JS_DIR" && node --test --test-concurrency=1 test/) || status=1
      else
        echo "run.sh: npm ci failed" >&2
        status=1
      fi
      ;;
    python)
      echo "=== Braintrust Python SDK suite ($(grep -i '^braintrust==' "$REQS"))"
      if ensure_venv; then
        # shellcheck disable=SC2086
        (cd "$HERE/python" && "$VENV/bin/python" -m pytest -p no:cacheprovider ${PYTEST_ARGS:-}) || status=1
      else
        echo "run.sh: venv setup failed" >&2
        status=1
      fi
      ;;
  esac
done
exit $status
