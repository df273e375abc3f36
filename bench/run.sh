#!/usr/bin/env bash
# The one benchmark command: builds scanflow and the bench programs (Release, build/bench), the
# hand-written baseline (g++ -O3 -march=native, no fast-math), makes the TensorFlow virtual
# environment (bench/.venv, tensorflow-cpu from PyPI; its rows say "skipped" if that fails), runs
# W1-W6 side by side and writes bench/RESULTS.md.
#
#   bench/run.sh            the full set (about 15 minutes on 2 cores)
#   bench/run.sh --quick    a smaller subset, one repeat (a few minutes; for development)
# Environment: BUILD_DIR (default build/bench), JOBS (default 2), SCANFLOW / BENCH_BIN to use an
# existing scanflow binary / folder with bench_rk4_sin and bench_matmul instead of building,
# NO_TF=1 to skip TensorFlow; extra arguments go to bench/harness.py (e.g. --only W1,W4).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/bench}
JOBS=${JOBS:-2}
PY=/usr/bin/python3   # Debian's python: numpy (the python3 on PATH has none)
COMMAND="bench/run.sh${*:+ $*}"
NOTE=""

# scanflow and the bench programs.
if [[ -z "${SCANFLOW:-}" || -z "${BENCH_BIN:-}" ]]; then
  if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  echo "building scanflow, bench_rk4_sin, bench_matmul in $BUILD_DIR"
  if ! ninja -C "$BUILD_DIR" -j "$JOBS" scanflow bench_rk4_sin bench_matmul >/tmp/sf_bench_build.log 2>&1; then
    grep -E "error|FAILED" /tmp/sf_bench_build.log | head -5
    [[ -x "$BUILD_DIR/scanflow" && -x "$BUILD_DIR/bench_matmul" ]] || { echo "build failed"; exit 1; }
    NOTE="The build of the current tree failed; this run used the binaries of the last successful build in $BUILD_DIR."
    echo "WARNING: $NOTE"
  fi
fi
SCANFLOW=${SCANFLOW:-$BUILD_DIR/scanflow}
BENCH_BIN=${BENCH_BIN:-$BUILD_DIR}

# Baseline (a): the hand-written loop, built with the flags the issue names (no fast-math; no FMA
# contraction either, so it rounds like the graph).
mkdir -p "$BUILD_DIR"
HAND=$BUILD_DIR/hh_squid_hand
if [[ ! -x "$HAND" || bench/baselines/hh_squid_hand.cpp -nt "$HAND" ]]; then
  g++ -std=c++20 -O3 -march=native -ffp-contract=off -fopenmp -Wall -Wextra \
    bench/baselines/hh_squid_hand.cpp -o "$HAND"
fi

# TensorFlow (baseline c): a virtual environment with tensorflow-cpu from PyPI.
TF_PY="" TF_SKIP=""
VENV=$ROOT/bench/.venv
tf_ok() { "$VENV/bin/python" -c "import tensorflow" >/dev/null 2>&1; }
if [[ -n "${NO_TF:-}" ]]; then
  TF_SKIP="NO_TF set"
elif tf_ok; then
  TF_PY=$VENV/bin/python
else
  echo "making $VENV (tensorflow-cpu from PyPI)"
  if ! "$PY" -m venv "$VENV" >/tmp/sf_bench_venv.log 2>&1; then
    TF_SKIP="python3 -m venv failed (python3-venv missing?)"
  elif ! timeout 900 "$VENV/bin/pip" install -q tensorflow-cpu >>/tmp/sf_bench_venv.log 2>&1; then
    TF_SKIP="pip install tensorflow-cpu failed (no network or no wheel for this Python): $(tail -1 /tmp/sf_bench_venv.log)"
  elif tf_ok; then
    TF_PY=$VENV/bin/python
  else
    TF_SKIP="tensorflow installed but does not import"
  fi
fi
[[ -n "$TF_SKIP" ]] && echo "TensorFlow rows skipped: $TF_SKIP"

exec "$PY" "$ROOT/bench/harness.py" --scanflow "$SCANFLOW" --hand "$HAND" --bench-bin "$BENCH_BIN" \
  --tf-python "$TF_PY" --tf-skip "$TF_SKIP" --command "$COMMAND" --note "$NOTE" "$@"
