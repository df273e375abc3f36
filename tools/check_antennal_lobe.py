#!/usr/bin/python3
"""Checks a 1000 ms antennal-lobe run against what the PSST tutorial's figure shows.

    check_antennal_lobe.py out/al.npy out/al_spikes.csv

- LNs depolarise broadly after the odor comes on at 100 ms: several of them go above -20 mV in
  broad Ca spikes (several ms wide, from about 130 ms in the tutorial's LN heatmap), starting
  within 100 ms of onset;
- some PNs spike after onset, but not all of them;
- nothing spikes before onset, beyond the first few ms while the jittered initial state settles,
  and no LN goes above -20 mV then.
Exits 1 (and says which check failed) on failure.
"""
import csv
import json
import os
import re
import sys

import numpy as np

ONSET = 100.0       # ms, when the odor ramp starts
SETTLE = 10.0       # ms allowed for the initial state to settle
DEPOLARISED = -20.0  # mV
MIN_LNS = 5         # LNs that must depolarise (about 10 of the 30 get the odor directly)
BROAD = 5.0         # ms: the median width of an LN's excursion above DEPOLARISED (Ca spikes are ~10 ms)


def excursions(t, up):
    """(start time, width) of each run of True in `up`."""
    edges = np.diff(np.r_[0, up.astype(np.int8), 0])
    begin, end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    dt = t[1] - t[0] if len(t) > 1 else 0.0
    return [(t[b], (e - b) * dt) for b, e in zip(begin, end)]


def main(npy_path, csv_path):
    rows = np.load(npy_path, mmap_mode="r")
    with open(os.path.splitext(npy_path)[0] + ".json") as f:
        meta = json.load(f)
    t0, dt_row = meta["t"]
    t = t0 + dt_row * np.arange(rows.shape[0])
    vcol = {int(m.group(1)): c for c, name in enumerate(meta["columns"]) if (m := re.fullmatch(r"V\[(\d+)\]", name))}
    pn, ln = (range(*meta["groups"][g]) for g in ("PN", "LN"))
    with open(csv_path, newline="") as f:
        spikes = [(int(r["neuron"]), float(r["t"])) for r in csv.DictReader(f)]

    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    check(t[-1] >= 999.0, f"the run covers 1000 ms (last row at t = {t[-1]:g})")
    before = (t >= SETTLE) & (t < ONSET)
    after = t >= ONSET
    v_ln = np.asarray(rows[:, [vcol[i] for i in ln]])
    ln_up = int((v_ln[after] > DEPOLARISED).any(axis=0).sum())
    check(ln_up >= MIN_LNS, f"{ln_up} of {len(ln)} LNs depolarise above {DEPOLARISED:g} mV after onset")
    widths, starts = [], []
    for i in range(v_ln.shape[1]):
        for start, width in excursions(t[after], v_ln[after, i] > DEPOLARISED):
            widths.append(width)
            starts.append(start)
    if widths:
        median = float(np.median(widths))
        check(median >= BROAD, f"LN depolarisations are broad: median width {median:.1f} ms (>= {BROAD:g})")
        check(min(starts) < ONSET + 100, f"the first LN depolarisation comes at {min(starts):.1f} ms, within 100 ms of onset")
    ln_early = int((v_ln[before] > DEPOLARISED).any(axis=0).sum())
    check(ln_early == 0, f"{ln_early} LNs above {DEPOLARISED:g} mV between {SETTLE:g} and {ONSET:g} ms")

    pn_spiking = {n for n, s in spikes if n in pn and s >= ONSET}
    check(0 < len(pn_spiking) < len(pn), f"{len(pn_spiking)} of {len(pn)} PNs spike after onset (some, not all)")
    early = [(n, s) for n, s in spikes if SETTLE <= s < ONSET]
    check(not early, f"{len(early)} spikes between {SETTLE:g} and {ONSET:g} ms (before onset)")
    settling = sum(1 for _, s in spikes if s < SETTLE)
    print(f"info  {len(spikes)} spikes in all; {settling} in the first {SETTLE:g} ms of settling")
    print(f"info  LN spikes after onset: {sum(1 for n, s in spikes if n in ln and s >= ONSET)}")

    if failures:
        print(f"check_antennal_lobe: {len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("check_antennal_lobe: all checks passed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
