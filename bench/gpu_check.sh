#!/usr/bin/env bash
# The CUDA backend on a GPU machine, in one go (under 8 minutes on an H100 with 16 cores):
#   1. configure and build (Release) scanflow, the tests and the GPU benchmark;
#   2. the cuda: tests, device tests included (cuda vs interpreter on every model and strategy, the
#      Day 5 TensorFlow trajectories, random graphs), after the NVRTC + ptxas compile checks;
#   3. the benchmarks: hh-squid N = 10^6, 10^4 steps, f64 and f32 under each strategy beside the
#      floor computed from its operations and bytes; antennal-lobe per-step cost (persistent, graph,
#      launch); antennal-lobe 1000 ms on the GPU and on the CPU backend; JAX jit(lax.scan) if present.
# Writes a markdown section naming the card to $OUT/RESULTS-gpu.md (OUT defaults to BUILD_DIR/out).
#
# Usage: bench/gpu_check.sh            (from anywhere; the repository is this script's parent)
# Environment: JOBS (default 16), BUILD_DIR (default build/gpu), OUT, CUDA_HOME (/usr/local/cuda),
#              SKIP_BENCH=1 to stop after the tests.
set -u
cd "$(dirname "$0")/.."
JOBS=${JOBS:-16}
BUILD_DIR=${BUILD_DIR:-build/gpu}
OUT=${OUT:-$BUILD_DIR/out}
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export PATH="$CUDA_HOME/bin:$PATH"
export SCANFLOW_CACHE_DIR=${SCANFLOW_CACHE_DIR:-$BUILD_DIR/cuda-cache}
mkdir -p "$OUT"
RESULTS="$OUT/RESULTS-gpu.md"
LOG="$OUT/gpu_check.log"
: > "$LOG"
start=$(date +%s)

say() { echo "[gpu_check $(( $(date +%s) - start ))s] $*" | tee -a "$LOG"; }
DEADLINE=${DEADLINE:-460}  # seconds: phases are cut to what is left of it (the device loan is 8 minutes)
# Runs a phase with a time limit (never past the deadline); its output goes to the log and the terminal.
phase() {
  local limit=$1; shift
  local left=$(( DEADLINE - ($(date +%s) - start) ))
  if [ "$left" -lt 10 ]; then say "SKIPPED (deadline): $*"; return 124; fi
  [ "$limit" -gt "$left" ] && limit=$left
  say "$*"
  timeout "$limit" "$@" 2>&1 | tee -a "$LOG"
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 124 ] && say "TIMED OUT after ${limit}s: $*"
  return "$rc"
}

card=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
card=${card:-"no GPU visible to nvidia-smi"}
say "card: $card"

# ---- 1. build -----------------------------------------------------------------------------------
phase 120 cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release || { say "configure failed"; exit 1; }
phase 240 cmake --build "$BUILD_DIR" -j "$JOBS" --target scanflow scanflow_tests bench_gpu_bench || { say "build failed"; exit 1; }

# ---- 2. tests -----------------------------------------------------------------------------------
# Every cuda: test but the two long ones that need no GPU (the NVRTC + ptxas sweep and the host
# emulation: CI runs them).
phase 240 "$BUILD_DIR/scanflow_tests" -tc='cuda:*' -tce='*NVRTC and assemble*,*host emulation*' --duration=true \
  > "$OUT/cuda_tests.txt"
tests_rc=$?
cat "$OUT/cuda_tests.txt" >> "$LOG"
grep -E "MESSAGE|test cases|assertions|Status|ERROR|FAILED" "$OUT/cuda_tests.txt" | head -80
say "cuda tests exit code: $tests_rc"

{
  echo "## CUDA backend on $(echo "$card" | cut -d, -f1)"
  echo
  echo "Measured by bench/gpu_check.sh on $(date -u '+%Y-%m-%d %H:%M UTC'); card: $card; host: $(nproc) cores."
  echo
  echo "### Tests (cuda:*, device tests active)"
  echo
  echo '```'
  grep -E "test cases|assertions|Status" "$OUT/cuda_tests.txt"
  grep -E "MESSAGE" -A0 "$OUT/cuda_tests.txt" | sed 's/^.*MESSAGE: //' | head -60
  echo '```'
  echo
} > "$RESULTS"

if [ "${SKIP_BENCH:-0}" = 1 ]; then say "SKIP_BENCH=1: done"; exit "$tests_rc"; fi

# ---- 3. benchmarks ------------------------------------------------------------------------------
B="$BUILD_DIR/bench_gpu_bench"
{
  echo "### hh-squid, N = 10^6, 10^4 steps (final state, V every 1000 steps): measured beside the floor"
  echo
  echo "The floor is max(ops / peak op rate, bytes / peak bandwidth) from the device attributes (no FMA:"
  echo "64 FP64 or 128 FP32 lanes per SM at the SM clock; memory clock x bus width x 2), with ops counted"
  echo "from the scan body (arithmetic 1, division 8, sqrt 8, exp/log family 20, pow 40) and bytes = inputs,"
  echo "states and outputs read once and written once. Time: the second of two runs, wall clock."
  echo
  echo "| run | strategy | time | floor | time/floor | per neuron-step |"
  echo "|---|---|---|---|---|---|"
} >> "$RESULTS"
for dtype in f64 f32; do
  for s in elementwise persistent graph launch; do
    phase 60 "$B" squid 1000000 10000 "$dtype" "$s" | grep '^|' >> "$RESULTS"
  done
done

{
  echo
  echo "### antennal-lobe (120 neurons), 1000 ms = 10^5 steps, V every 100 steps streamed to a sink"
  echo
  echo "| run | strategy | per step | detail | spikes |"
  echo "|---|---|---|---|---|"
} >> "$RESULTS"
for s in persistent graph launch; do
  phase 60 "$B" lobe-step "$s" 1000 | grep '^|' >> "$RESULTS"
done
{
  echo
  echo "| run | backend | time | steps | spikes |"
  echo "|---|---|---|---|---|"
} >> "$RESULTS"
phase 60 "$B" lobe cuda 1000 | grep '^|' >> "$RESULTS"
phase 90 "$B" lobe cpu 1000 | grep '^|' >> "$RESULTS"  # the CPU backend on this machine's cores, if built

{
  echo
  echo "### JAX jit(lax.scan) on the same card (bench/baselines/jax_hh_squid.py)"
  echo
} >> "$RESULTS"
if python3 -c 'import jax' 2>/dev/null; then
  for dtype in f64 f32; do
    left=$(( DEADLINE - ($(date +%s) - start) ))
    [ "$left" -lt 20 ] && { echo "    jax $dtype: skipped (deadline)" >> "$RESULTS"; continue; }
    r=$(timeout $(( left < 100 ? left : 100 )) python3 bench/baselines/jax_hh_squid.py --n 1000000 --steps 10000 --dtype "$dtype" --repeats 2 2>>"$LOG" | tail -1)
    say "$r"
    echo "    ${r:-jax $dtype: failed or timed out (see gpu_check.log)}" >> "$RESULTS"
  done
else
  echo "JAX is not installed in this image's python3: no JAX baseline." >> "$RESULTS"
fi

say "done in $(( $(date +%s) - start ))s; results in $RESULTS"
cat "$RESULTS"
exit "$tests_rc"
