#!/usr/bin/env bash
# The full test suite: installs dependencies, builds Release and ASan+UBSan, runs every test in both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
for flavour in release asan; do
  echo "== $flavour: build" >&2
  scripts/build.sh "$flavour"
  echo "== $flavour: test" >&2
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "build/$flavour" --output-on-failure
done
echo "== all tests passed (release, asan+ubsan)" >&2
