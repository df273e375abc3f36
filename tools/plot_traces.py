#!/usr/bin/python3
"""Plots a `scanflow run --out RUN.npy [--spikes RUN.csv]` result.

    plot_traces.py RUN.npy [--spikes RUN.csv] -o OUT_PREFIX

Writes OUT_PREFIX_traces.png (voltage traces of a few neurons, or the first few columns of a model
without V), OUT_PREFIX_raster.png (with --spikes) and, for a model with PN and LN groups,
OUT_PREFIX_pn.png and OUT_PREFIX_ln.png: the PSST tutorial's voltage heatmaps (cmap Greys, time on
x, neuron on y, at 1 ms resolution like its `state[::100, :90]`).
Needs numpy and matplotlib (Debian: /usr/bin/python3 with python3-numpy, python3-matplotlib).
"""
import argparse
import csv
import json
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

MAX_TRACES = 8


def load_run(npy_path):
    # Memory-mapped: a long run's file can be larger than we want in memory.
    rows = np.load(npy_path, mmap_mode="r")
    with open(os.path.splitext(npy_path)[0] + ".json") as f:
        meta = json.load(f)
    t0, dt_row = meta["t"]
    t = t0 + dt_row * np.arange(rows.shape[0])
    return rows, meta, t


def voltage_columns(columns):
    """Column index of V[i] for each neuron i, in neuron order."""
    v = {}
    for c, name in enumerate(columns):
        m = re.fullmatch(r"V\[(\d+)\]", name)
        if m:
            v[int(m.group(1))] = c
    return [v[i] for i in sorted(v)]


def pick(n, k):
    """k indices spread evenly over range(n); all of them if n <= k."""
    return list(range(n)) if n <= k else sorted(set(np.linspace(0, n - 1, k).round().astype(int)))


def plot_traces(rows, meta, t, out):
    columns = meta["columns"]
    vcols = voltage_columns(columns)
    cols = [vcols[i] for i in pick(len(vcols), MAX_TRACES)] if vcols else pick(len(columns), MAX_TRACES)
    fig, ax = plt.subplots(figsize=(10, 4))
    for c in cols:
        ax.plot(t, np.asarray(rows[:, c]), lw=0.8, label=columns[c])
    ax.set_xlabel("time (ms)" if vcols else "time")
    ax.set_ylabel("V (mV)" if vcols else "value")
    ax.legend(loc="upper right", fontsize="small", ncol=2)
    ax.set_title(f"{len(cols)} of {len(vcols) if vcols else len(columns)} {'neurons' if vcols else 'columns'}")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def read_spikes(path):
    neurons, times = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            neurons.append(int(row["neuron"]))
            times.append(float(row["t"]))
    return np.array(neurons, dtype=int), np.array(times)


def plot_raster(spikes_path, meta, t, out):
    neurons, times = read_spikes(spikes_path)
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.scatter(times, neurons, s=2, c="k", marker="|")
    for name, (lo, hi) in meta.get("groups", {}).items():
        ax.axhline(lo - 0.5, color="0.7", lw=0.5)
        ax.text(t[-1], (lo + hi) / 2, f" {name}", va="center")
    ax.set_xlim(t[0], t[-1])
    ax.set_xlabel("time")
    ax.set_ylabel("neuron")
    ax.set_title(f"{len(times)} spikes from {len(set(neurons.tolist()))} neurons")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def plot_heatmap(rows, t, vcols, lo, hi, title, out):
    # One row per millisecond, as the tutorial's state[::100] at dt = 0.01.
    stride = max(1, int(round(1.0 / (t[1] - t[0])))) if len(t) > 1 else 1
    v = np.asarray(rows[::stride, vcols[lo:hi]]).T
    fig, ax = plt.subplots(figsize=(10, 4))
    im = ax.imshow(v, aspect="auto", cmap="Greys", interpolation="nearest",
                   extent=[t[0], t[::stride][-1], hi - lo - 0.5, -0.5])
    fig.colorbar(im, ax=ax, label="V (mV)")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("run", help="RUN.npy written by scanflow run --out (RUN.json beside it)")
    p.add_argument("--spikes", help="RUN.csv written by scanflow run --spikes")
    p.add_argument("-o", "--out", required=True, help="prefix of the PNG files")
    a = p.parse_args()

    rows, meta, t = load_run(a.run)
    written = [a.out + "_traces.png"]
    plot_traces(rows, meta, t, written[-1])
    if a.spikes:
        written.append(a.out + "_raster.png")
        plot_raster(a.spikes, meta, t, written[-1])
    groups = meta.get("groups", {})
    vcols = voltage_columns(meta["columns"])
    for name in ("PN", "LN"):
        if name in groups and vcols:
            lo, hi = groups[name]
            written.append(f"{a.out}_{name.lower()}.png")
            plot_heatmap(rows, t, vcols, lo, hi, f"{name} voltages", written[-1])
    for w in written:
        print(w)


if __name__ == "__main__":
    sys.exit(main())
