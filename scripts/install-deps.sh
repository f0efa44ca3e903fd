#!/usr/bin/env bash
# Installs the Debian packages Arbor builds and tests with, only when some are missing.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config ccache clang clang-format clang-tidy libclang-rt-14-dev
  libboost1.81-dev libboost-system1.81-dev libboost-context1.81-dev libboost-json1.81-dev
  libssl-dev libsqlite3-dev libsodium-dev libargon2-dev libgtest-dev libgmock-dev libpq-dev zlib1g-dev
  libgrpc++-dev
  postgresql python3-venv curl chromium zstd
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
