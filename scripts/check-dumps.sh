#!/usr/bin/env bash
# Dumps every compiler stage of every built-in model (`scanflow compile MODEL --dump-dir`), checks
# that every .sfg parses and verifies (`scanflow check`) and that Graphviz renders every .dot to SVG
# without a single warning. Prints the render time per model and the slowest file.
#
#   scripts/check-dumps.sh [SCANFLOW_BINARY] [OUT_DIR]
#
# Defaults: build/release/scanflow, and a temporary directory that is removed afterwards. With
# OUT_DIR the dumps and the SVGs stay there.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/scanflow}
out=${2:-}
command -v dot >/dev/null || { echo "check-dumps: Graphviz 'dot' is not installed" >&2; exit 1; }
[ -x "$bin" ] || { echo "check-dumps: no scanflow binary at $bin" >&2; exit 1; }
if [ -z "$out" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

now() { echo "${EPOCHREALTIME//[.,]/}"; }  # microseconds
secs() { printf '%d.%02d' $(($1 / 1000000)) $(($1 % 1000000 / 10000)); }
failures=0
slowest=0
slowest_file=
start_all=$(now)
for model in $("$bin" models | awk '{print $1}'); do
  dir=$out/$model
  rm -rf "$dir"
  "$bin" compile "$model" --dump-dir "$dir" >/dev/null
  model_start=$(now)
  files=0
  for sfg in "$dir"/*.sfg; do
    if ! "$bin" check "$sfg" >/dev/null 2>"$sfg.err"; then
      echo "FAIL $sfg does not parse or verify: $(cat "$sfg.err")" >&2
      failures=$((failures + 1))
    fi
    rm -f "$sfg.err"
  done
  for f in "$dir"/*.dot; do
    t0=$(now)
    if ! dot -Tsvg "$f" -o "${f%.dot}.svg" 2>"$f.err"; then
      echo "FAIL $f: dot exited with an error: $(cat "$f.err")" >&2
      failures=$((failures + 1))
    elif [ -s "$f.err" ]; then
      echo "FAIL $f: dot warned: $(cat "$f.err")" >&2
      failures=$((failures + 1))
    fi
    rm -f "$f.err"
    t=$(($(now) - t0))
    if [ "$t" -gt "$slowest" ]; then
      slowest=$t
      slowest_file=$f
    fi
    files=$((files + 1))
  done
  printf '%-14s %2d stages  %6s s\n' "$model" "$files" "$(secs $(($(now) - model_start)))"
done
echo "total $(secs $(($(now) - start_all))) s; slowest: ${slowest_file#"$out"/} ($(secs "$slowest") s)"
if [ "$failures" -gt 0 ]; then
  echo "check-dumps: $failures failure(s)" >&2
  exit 1
fi
echo "check-dumps: every stage of every model parses, verifies and renders without warnings"
