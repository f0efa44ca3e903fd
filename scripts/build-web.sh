#!/usr/bin/env bash
# Builds the web UI into web/dist (served by `arbor serve`). Cheap when nothing changed:
# `npm ci` runs only when package.json / package-lock.json changed (a stamp in node_modules),
# `vite build` only when an input is newer than the last build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/web"
stamp=node_modules/.arbor-lock.sha256
want="$(sha256sum package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ ! -x node_modules/.bin/vite ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "build-web: npm ci in $PWD"
  npm ci --ignore-scripts --no-audit --no-fund
  echo "$want" > "$stamp"
  rm -f dist/index.html  # dependencies changed: rebuild
fi
inputs=(src public index.html vite.config.ts tsconfig.json package-lock.json)
if [ ! -f dist/index.html ] || [ -n "$(find "${inputs[@]}" -newer dist/index.html -print -quit)" ]; then
  echo "build-web: vite build"
  node_modules/.bin/vite build --logLevel warn
fi
