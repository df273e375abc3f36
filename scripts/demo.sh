#!/usr/bin/env bash
# The demo: simulates the PSST tutorial's locust antennal lobe (90 PNs + 30 LNs, 1000 ms at dt 0.01,
# RK4) on the CPU backend, plots it like the tutorial, and checks the result.
# Writes out/al.npy (voltages, + al.json), out/al_spikes.csv and out/al_*.png. The simulation (100000 RK4
# steps) takes a few seconds; building first takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

# Builds only the CLI (the same configuration as scripts/build.sh release); a no-op when up to date.
if [ ! -f build/release/build.ninja ]; then
  cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build/release --target scanflow
bin=build/release/scanflow
py=/usr/bin/python3  # Debian's python3 has numpy and matplotlib (scripts/install-deps.sh)

mkdir -p out
# Records the voltages every 0.1 ms (10 MB); drop --record V to keep all 4000-odd state variables.
"$bin" run antennal-lobe --record V --out out/al.npy --spikes out/al_spikes.csv --every 10 --stats
"$py" tools/plot_traces.py out/al.npy --spikes out/al_spikes.csv -o out/al
"$py" tools/check_antennal_lobe.py out/al.npy out/al_spikes.csv
