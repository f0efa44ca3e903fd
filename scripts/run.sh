#!/usr/bin/env bash
# `make run`: start Arbor on the embedded default (local data dir) and print the URL and a key.
set -euo pipefail
bin=$1 data_dir=$2 listen=$3
url="http://$listen"
if [ -f "$data_dir/catalog.db" ]; then
  # Keys are stored hashed, so an existing key cannot be shown again: mint a fresh one.
  key=$("$bin" keys create --data-dir "$data_dir" --name "make-run")
else
  key="arb_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
fi
echo
echo "  Arbor:   $url"
echo "  API key: $key"
echo
echo "  Point the Braintrust SDKs at it:"
echo "    export BRAINTRUST_APP_URL=$url BRAINTRUST_API_URL=$url BRAINTRUST_API_KEY=$key"
echo
exec env ARBOR_BOOTSTRAP_API_KEY="$key" "$bin" serve --data-dir "$data_dir" --listen "$listen"
