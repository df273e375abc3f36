#!/usr/bin/env bash
# Installs everything scanflow needs from Debian packages. Safe to run again (a no-op when done).
# The CUDA toolkit is not a Debian package: it is used when present at /usr/local/cuda.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build make pkg-config
  llvm-14-dev libomp-14-dev
  libfmt-dev libcli11-dev doctest-dev
  libopenblas-dev
  graphviz
  python3-numpy python3-matplotlib
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
