#!/usr/bin/env bash
# Configures and builds one flavour into build/<flavour>: release (default) or asan.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
case "$flavour" in
  release) args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSF_SANITIZE=ON) ;;
  *) echo "build.sh: unknown flavour '$flavour' (release, asan)" >&2; exit 1 ;;
esac
dir=build/$flavour
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
fi
cmake --build "$dir" -- -j"$(nproc)"
