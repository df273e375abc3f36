"""Runs the scanflow benchmarks (W1-W6 of the CPU backend issue) side by side with their baselines
and writes bench/RESULTS.md. Started by bench/run.sh, which builds what it needs first.

Every program reports its own simulation time (`sim_s`: scanflow's --stats, the baselines print the
same key), so process start-up, graph building, compilation and JIT are excluded from the speed
figures; compile and JIT times have their own table (W6). Each figure is the median of the repeats
(in W1, scanflow and the hand-written loop take turns, run by run). The machine is shared and
noisy: only ratios from the same run mean anything.

scanflow runs on the `cpu` backend when `scanflow run --help` lists it; until then on a stand-in
(`ref`, the reference executor), which is slow, so its runs use fewer steps (ns per step is what is
compared) and the targets are marked "n/a".
"""
import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = os.path.join(ROOT, "bench", "baselines")
PY = "/usr/bin/python3"  # Debian's python with numpy (the python3 on PATH has none)


class Ctx:
    """What the run knows: paths, the chosen backend, sizes, and the log."""

    def __init__(self, a):
        self.a = a
        self.quick = a.quick
        self.sf = a.scanflow
        self.hand = a.hand
        self.bench_dir = a.bench_bin
        self.tf_py = a.tf_python
        self.tf_skip = a.tf_skip
        self.tmp = tempfile.mkdtemp(prefix="sf_bench_")
        self.repeats = 1 if a.quick else 3
        self.log = open(os.path.join(self.tmp, "log.txt"), "w", buffering=1)
        help_text = run_text([self.sf, "run", "--help"])
        self.backend = "cpu" if re.search(r"\bcpu\b", help_text) else a.standin
        self.has_threads = "--threads" in help_text
        self.has_strict = "--strict-fp" in help_text
        self.is_cpu = self.backend == "cpu"
        self.probe_ns = None
        self.fast = False  # set by probe(): full-size runs only when the backend is fast enough

    def probe(self):
        """ns per neuron-step of hh-squid (N = 1000, 2000 steps) on the chosen backend. A backend slower
        than 150 ns (the stand-in, or an unfinished cpu backend) gets the reduced sizes."""
        self.probe_dtype = {}
        for dtype in ("f64", "f32"):
            k = run_keys(self, [self.sf, "run", "hh-squid", "--size", 1000, "--dtype", dtype, "--t-end", 20, "--record",
                                "V", "--every", 2000, "--backend", self.backend, "--stats"], timeout=300)
            self.probe_dtype[dtype] = float(k["sim_s"]) * 1e9 / (1000 * 2000)
        self.probe_ns = self.probe_dtype["f64"]
        self.fast = self.probe_ns < 150

    def say(self, msg):
        print(msg, flush=True)
        self.log.write(msg + "\n")


def run_text(cmd, timeout=None):
    p = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    return p.stdout


def run_keys(ctx, cmd, timeout=240):
    """Runs cmd; returns its `key: value` lines as a dict (raises with the output on failure)."""
    cmd = [str(c) for c in cmd]
    t0 = time.time()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        ctx.log.write(f"$ {' '.join(cmd)}  # timed out after {timeout} s\n")
        raise RuntimeError(f"timed out after {timeout} s: {' '.join(cmd)}")
    ctx.log.write(f"$ {' '.join(cmd)}  # {time.time() - t0:.1f} s, rc {p.returncode}\n{p.stdout}\n")
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (rc {p.returncode}):\n{p.stdout[-2000:]}")
    keys = {}
    for line in p.stdout.splitlines():
        m = re.match(r"^([A-Za-z_]\w*): (\S.*)$", line)
        if m:
            keys[m.group(1)] = m.group(2)
    return keys


LONG_RUN_S = 8.0  # a run at least this long is not repeated: it averages the machine's noise itself


def timed(ctx, cmd, repeats=None):
    """Median sim_s over `repeats` processes (one if the first takes LONG_RUN_S or more), and the
    keys of the last run."""
    repeats = repeats or ctx.repeats
    runs = [run_keys(ctx, cmd)]
    if float(runs[0]["sim_s"]) < LONG_RUN_S:
        runs += [run_keys(ctx, cmd) for _ in range(repeats - 1)]
    return statistics.median(float(r["sim_s"]) for r in runs), runs[-1]


def timed_in_turn(ctx, named_cmds, repeats=None):
    """Like timed() for several commands that take turns (a, b, a, b, ...), so that a slow spell of the
    shared machine falls on all of them alike and their ratio keeps its meaning. One (median sim_s, keys
    of the last run) per command, or None for a command that failed (logged; the others go on)."""
    repeats = repeats or ctx.repeats
    runs = {name: [] for name, _ in named_cmds}
    failed = set()
    for round_ in range(repeats):
        for name, cmd in named_cmds:
            if name in failed:
                continue
            try:
                runs[name].append(run_keys(ctx, cmd))
            except Exception as e:  # noqa: BLE001 - a broken baseline must not stop the others
                ctx.say(f"  {name}: FAILED: {str(e).splitlines()[0][:300]}")
                failed.add(name)
        if round_ == 0 and all(float(r[0]["sim_s"]) >= LONG_RUN_S for r in runs.values() if r):
            break
    return [None if name in failed or not runs[name] else
            (statistics.median(float(r["sim_s"]) for r in runs[name]), runs[name][-1]) for name, _ in named_cmds]


def attempt(ctx, what, f):
    """f(), or None with the failure logged (a broken baseline must not stop the run)."""
    try:
        return f()
    except Exception as e:  # noqa: BLE001 - any failure becomes a table cell
        ctx.say(f"  {what}: FAILED: {str(e).splitlines()[0][:300]}")
        return None


def budget_steps(n, budget, full):
    """Steps for a slow implementation: about `budget` neuron-steps, at least 20, at most `full`."""
    return int(min(full, max(20, round(budget / n))))


def fmt_t(x, digits=3):
    return "–" if x is None else f"{x:.{digits}g}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_r(x):
    return "–" if x is None else (f"{x:.2f}x" if x < 100 else f"{x:.0f}x")


def mark(ok, applicable=True):
    if not applicable:
        return "n/a"
    return "–" if ok is None else ("**met**" if ok else "**not met**")


# ---- the machine -------------------------------------------------------------------------------

def machine(ctx):
    lscpu = run_text(["lscpu"])
    model = re.search(r"Model name:\s*(.*)", lscpu)
    flags = re.search(r"Flags:\s*(.*)", lscpu)
    isa = [f for f in ("avx2", "avx512f", "fma") if flags and f in flags.group(1).split()]
    tf = "not used"
    if ctx.tf_py:
        tf = run_text([ctx.tf_py, "-c", "import os; os.environ['TF_CPP_MIN_LOG_LEVEL']='3'; import tensorflow as t; "
                       "print(t.__version__)"]).strip().splitlines()[-1]
    git = run_text(["git", "-C", ROOT, "log", "-1", "--format=%h %cd", "--date=short"]).strip()
    dirty = run_text(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]).strip()
    return [
        ("CPU", f"{model.group(1).strip() if model else '?'}, {os.cpu_count()} cores ({', '.join(isa)})"),
        ("OS", f"{platform.platform()}"),
        ("C++", run_text(["g++", "--version"]).splitlines()[0] + "; LLVM 14 (JIT)"),
        ("Python", f"{platform.python_version()} (Debian), NumPy {np.__version__}, BLAS: "
                   f"{os.path.realpath('/usr/lib/x86_64-linux-gnu/libblas.so.3')}"),
        ("TensorFlow", tf if ctx.tf_py else f"skipped: {ctx.tf_skip}"),
        ("scanflow", f"commit {git}{' + uncommitted changes' if dirty else ''}; backend `{ctx.backend}`"
                     + ("" if ctx.is_cpu else " (stand-in: the cpu backend is not in this build)")
                     + f"; {ctx.probe_ns:.0f} ns per neuron-step on the hh-squid probe"),
        ("load", open("/proc/loadavg").read().split()[0] + " (1-min load average at the start)"),
    ]


# ---- W1: hh-independent ------------------------------------------------------------------------

def pick_hand_variant(ctx):
    """The fastest hand-written variant on this machine: ISA (AVX2 / AVX-512) x vectors interleaved."""
    has512 = "avx512f" in open("/proc/cpuinfo").read()
    best = None
    for isa in ["avx2"] + (["avx512"] if has512 else []):
        for il in (1, 2, 4):
            s, _ = timed(ctx, [ctx.hand, "--n", 4096, "--steps", 1000, "--isa", isa, "--interleave", il], 3)
            ctx.log.write(f"hand variant {isa} x{il}: {s:.4f} s\n")
            if best is None or s < best[0]:
                best = (s, isa, il)
    return best[1], best[2]


def final_v(path):
    x = np.load(path)
    return x[-1] if x.ndim == 2 else x


def compare(ref, x, dtype):
    """Final V of a baseline against scanflow's: (ok, text). f64: every neuron within 1e-6 mV, no NaN.
    f32 (rounding moves spikes by a step): 99 % of neurons within 0.5 mV, a NaN counting as outside
    (the tutorial's rate formula has an unguarded 0/0 at V = -40 and -55 mV that float32 can hit)."""
    nan_ref, nan_x = int(np.isnan(ref).sum()), int(np.isnan(x).sum())
    both = ~(np.isnan(x) | np.isnan(ref))
    d = np.abs(x - ref)[both]
    worst = float(d.max()) if d.size else float("nan")
    nans = (f", {nan_x} NaN" if nan_x else "") + (f", {nan_ref} NaN in scanflow's" if nan_ref else "")
    if dtype == "f64":
        ok = nan_x == 0 and nan_ref == 0 and worst <= 1e-6
        return ok, f"max dV {worst:.1e} mV{nans}"
    frac = float((d <= 0.5).sum()) / x.size
    ok = nan_ref == 0 and frac >= 0.99
    return ok, f"{100 * frac:.1f} % within 0.5 mV (max {worst:.2g}){nans}"


def w1(ctx):
    ctx.say("W1 hh-independent (hh-squid)")
    Ns = [1000, 10000] if ctx.quick else [1000, 10000, 100000]
    full = 2000 if ctx.quick else 10000
    slow_budget = 1e6 if ctx.quick else 3e6  # neuron-steps of a NumPy / TensorFlow run
    # scanflow's steps: all of them unless a run would take more than cap_s by the probe (3 s per run
    # for a slow backend, 90 s otherwise), so the run always ends.
    cap_s = (90 if ctx.fast else 3) / (3 if ctx.quick else 1)
    sf_budget = cap_s * 1e9 / ctx.probe_ns
    isa, il = pick_hand_variant(ctx)
    ctx.say(f"  hand-written variant: {isa}, {il} vectors interleaved")
    out = {"isa": isa, "il": il, "rows": [], "checks": [], "full": full, "scaling": None}

    def sf_cmd(n, dtype, steps, path, threads=None):
        c = [ctx.sf, "run", "hh-squid", "--size", n, "--dtype", dtype, "--record", "V", "--every", steps, "--t-end",
             f"{steps * 0.01:.2f}", "--backend", ctx.backend, "--stats", "--out", path]
        if threads and ctx.has_threads:
            c += ["--threads", threads]
        return c

    def py_cmd(py, script, n, dtype, steps, path, repeats):
        c = [py, os.path.join(BASE, script), "--n", n, "--dtype", dtype, "--steps", steps, "--repeats", repeats]
        return c + (["--out", path] if path else [])

    finals = {}  # (impl, dtype, n, steps) -> (final V path, spikes)
    for dtype in ("f64", "f32"):
        for n in Ns:
            row = {"dtype": dtype, "n": n}
            sf_steps = budget_steps(n, cap_s * 1e9 / ctx.probe_dtype[dtype], full)
            sf_path = os.path.join(ctx.tmp, f"sf_{dtype}_{n}_{sf_steps}.npy")

            def hand_cmd(steps):
                return [ctx.hand, "--n", n, "--steps", steps, "--dtype", dtype, "--isa", isa, "--interleave", il,
                        "--out", os.path.join(ctx.tmp, f"hand_{dtype}_{n}_{steps}.npy")]
            # scanflow and the hand-written loop take turns (the target is their ratio).
            sf_r, hand_r = timed_in_turn(ctx, [("scanflow", sf_cmd(n, dtype, sf_steps, sf_path)),
                                               ("hand", hand_cmd(full))])
            if sf_r:
                row["sf"] = (sf_r[0], sf_steps)
                row["sf_jit_ms"] = float(sf_r[1].get("jit_ms", "nan"))
                finals[("sf", dtype, n, sf_steps)] = (sf_path, int(sf_r[1]["spikes"]))
            if hand_r:
                row["hand"] = (hand_r[0], full)
                finals[("hand", dtype, n, full)] = (hand_cmd(full)[-1], int(hand_r[1]["spikes"]))
            if sf_steps != full:  # a slow stand-in: the hand loop once more at its steps, for the check
                r = attempt(ctx, "hand", lambda: timed(ctx, hand_cmd(sf_steps), 1))
                if r:
                    finals[("hand", dtype, n, sf_steps)] = (hand_cmd(sf_steps)[-1], int(r[1]["spikes"]))
            steps = budget_steps(n, slow_budget, full)
            path = os.path.join(ctx.tmp, f"numpy_{dtype}_{n}_{steps}.npy")
            r = attempt(ctx, "numpy", lambda: run_keys(ctx, py_cmd(PY, "hh_squid_numpy.py", n, dtype, steps, path,
                                                                   ctx.repeats)))
            if r:
                row["numpy"] = (float(r["sim_s"]), steps)
                finals[("numpy", dtype, n, steps)] = (path, int(r["spikes"]))
            if ctx.tf_py:
                path = os.path.join(ctx.tmp, f"tf_{dtype}_{n}_{steps}.npy")
                r = attempt(ctx, "tf", lambda: run_keys(ctx, py_cmd(ctx.tf_py, "hh_squid_tf.py", n, dtype, steps,
                                                                    path, ctx.repeats)))
                if r:
                    row["tf"] = (float(r["sim_s"]), steps)
                    finals[("tf", dtype, n, steps)] = (path, int(r["spikes"]))
            out["rows"].append(row)
            ctx.say("  " + " ".join(f"{k}={fmt_t(v[0] * 1e9 / (n * v[1]))}ns" for k, v in row.items()
                                    if isinstance(v, tuple)) + f" ({dtype}, N={n})")

    # The checks: every baseline's final V and spike total against scanflow's at the same N and steps
    # (scanflow is run once more where no timed run matches and that run is short).
    for (impl, dtype, n, steps), (path, spikes) in sorted(finals.items()):
        if impl == "sf":
            continue
        key = ("sf", dtype, n, steps)
        if key not in finals and (ctx.probe_ns * n * steps * 1e-9 <= 10 or n == Ns[0]):
            p = os.path.join(ctx.tmp, f"sf_{dtype}_{n}_{steps}.npy")
            r = attempt(ctx, "scanflow check run", lambda: run_keys(ctx, sf_cmd(n, dtype, steps, p)))
            if r:
                finals[key] = (p, int(r["spikes"]))
        if key not in finals:
            continue
        ok, text = compare(final_v(finals[key][0]), final_v(path), dtype)
        sf_spikes = finals[key][1]
        spikes_ok = spikes == sf_spikes if dtype == "f64" else abs(spikes - sf_spikes) <= 0.005 * max(sf_spikes, 1)
        out["checks"].append((impl, dtype, n, steps, ok and spikes_ok, f"{text}; spikes {spikes} vs {sf_spikes}"))

    # Thread scaling at the largest N (both scanflow and the hand-written loop).
    n = Ns[-1]
    steps = 1000 if ctx.fast else budget_steps(n, sf_budget / 2, 1000)
    sc = {}
    for threads in (1, 2):
        if ctx.has_threads:
            r = attempt(ctx, "scanflow threads", lambda: timed(ctx, sf_cmd(n, "f64", steps, os.path.join(
                ctx.tmp, "scale.npy"), threads)))
            sc[("sf", threads)] = r[0] if r else None
        r = attempt(ctx, "hand threads", lambda: timed(ctx, [ctx.hand, "--n", n, "--steps", 1000, "--isa", isa,
                                                             "--interleave", il, "--threads", threads]))
        sc[("hand", threads)] = r[0] if r else None
    out["scaling"] = (n, steps, sc)
    return out


# ---- W2: rk4-sin -------------------------------------------------------------------------------

def w2(ctx):
    ctx.say("W2 rk4-sin")
    ns = [1, 100, 10000, 100000] if ctx.quick else [1, 100, 10000, 100000, 1000000]
    rows = []
    for n in ns:
        row = {"n": n}
        if ctx.probe_ns / 10 * n * 499 * 1e-9 <= 10:  # skip sizes a slow backend would take minutes on
            sfg = os.path.join(ctx.tmp, f"rk4_sin_{n}.sfg")
            npy = os.path.join(ctx.tmp, f"rk4_sin_{n}.npy")

            def sf():
                run_keys(ctx, [os.path.join(ctx.bench_dir, "bench_rk4_sin"), "--n", n, "-o", sfg])
                s, k = timed(ctx, [ctx.sf, "run", sfg, "--backend", ctx.backend, "--stats", "--out", npy])
                return s, float(np.abs(np.load(npy)[-1]).max())
            r = attempt(ctx, "scanflow", sf)
            if r:
                row["sf"], row["sf_max"] = r
        big = n >= 1000000
        reps = 1 if big else ctx.repeats
        r = attempt(ctx, "numpy", lambda: run_keys(ctx, [PY, os.path.join(BASE, "rk4_sin_numpy.py"), "--n", n,
                                                         "--repeats", reps]))
        if r:
            row["numpy"], row["numpy_max"] = float(r["sim_s"]), float(r["max_abs_x"])
        if ctx.tf_py and not big:  # n = 10^6: ~75 s and a 4 GB trajectory here; the tutorial's figure stops at 10^5
            r = attempt(ctx, "tf", lambda: run_keys(ctx, [ctx.tf_py, os.path.join(BASE, "rk4_sin_tf.py"), "--n", n,
                                                          "--repeats", reps]))
            if r:
                row["tf"], row["tf_max"] = float(r["sim_s"]), float(r["max_abs_x"])
        row["single"] = big
        rows.append(row)
        ctx.say(f"  n={n}: " + " ".join(f"{k}={fmt_t(row.get(k))}s" for k in ("sf", "numpy", "tf")))
    return rows


# ---- W3: antennal-lobe -------------------------------------------------------------------------

def w3(ctx):
    ctx.say("W3 antennal-lobe")
    rows = []
    full = 100 if ctx.quick else 1000  # ms

    def sf(backend, t_end, threads=None):
        steps = int(round(t_end / 0.01))
        npy = os.path.join(ctx.tmp, f"al_{backend}.npy")
        s, k = timed(ctx, [ctx.sf, "run", "antennal-lobe", "--t-end", t_end, "--record", "V", "--every", 100,
                           "--backend", backend, "--stats", "--out", npy] + (["--threads", threads] if threads else []))
        return {"what": f"scanflow `{backend}`" + (f" --threads {threads}" if threads else ""), "t_end": t_end,
                "steps": steps, "sim_s": s, "spikes": int(k["spikes"]), "npy": npy}

    # The interpreter and TensorFlow simulate check_t ms; TensorFlow's final V and spike count are
    # checked against the interpreter's. (Longer runs drift apart at round-off level near an LN's
    # calcium-spike threshold: TensorFlow's exp is Eigen's, not glibc's. See bench/README.md.)
    check_t = 10 if ctx.quick else 50

    def sf_full(threads=None):
        """The whole 1000 ms when a check_t run says it takes a minute at most, else check_t."""
        r = sf(ctx.backend, check_t, threads)
        if r["sim_s"] * full / check_t <= 60:
            r = sf(ctx.backend, full, threads)
        return r

    r = attempt(ctx, "scanflow", sf_full)
    if r:
        rows.append(r)
    if ctx.is_cpu and ctx.has_threads:  # one thread: what the per-step barriers of a coupled scan cost
        r = attempt(ctx, "scanflow 1 thread", lambda: sf_full(1))
        if r:
            rows.append(r)
    r = attempt(ctx, "interp", lambda: sf("interp", check_t))
    interp = r
    if r:
        rows.append(r)
    if ctx.tf_py:
        npy = os.path.join(ctx.tmp, "al_tf.npy")
        r = attempt(ctx, "tf", lambda: run_keys(ctx, [ctx.tf_py, os.path.join(BASE, "al_tf.py"), "--t-end", check_t,
                                                      "--repeats", 1, "--out", npy]))
        if r:
            row = {"what": "TensorFlow graph mode (tf.scan, f64)", "t_end": check_t, "steps": int(r["steps"]),
                   "sim_s": float(r["sim_s"]), "spikes": int(r["spikes"]), "single": True}
            if interp:
                d = float(np.abs(np.load(npy) - final_v(interp["npy"])).max())
                ok = d <= 1e-6 and row["spikes"] == interp["spikes"]
                row["check"] = (f"{'pass' if ok else '**FAIL**'}: final V within {d:.1e} mV of the interpreter's, "
                                f"spikes {row['spikes']} vs {interp['spikes']}")
            rows.append(row)
    for r in rows:
        ctx.say(f"  {r['what']}: {r['t_end']} ms in {r['sim_s']:.3f} s")
    return rows


# ---- W4: matmul --------------------------------------------------------------------------------

def w4(ctx):
    ctx.say("W4 matmul")
    Ns = [256, 1024] if ctx.quick else [256, 512, 1024, 2048]
    rows = []
    for dtype in ("f64", "f32"):
        for n in Ns:
            row = {"dtype": dtype, "n": n}
            reps = 3 if n >= 2048 else 5
            prev = [x for x in rows if x["dtype"] == dtype and "sf" in x]
            guess = prev[-1]["sf"] * (n / prev[-1]["n"]) ** 3 * reps if prev else 0
            if guess > 60:  # a backend without BLAS: the larger sizes would take minutes
                row["sf_note"] = f"not run (~{guess:.0f} s)"
            elif n <= 256 or prev:
                r = attempt(ctx, "scanflow", lambda: run_keys(ctx, [os.path.join(ctx.bench_dir, "bench_matmul"),
                                                                    "--n", n, "--dtype", dtype, "--backend",
                                                                    ctx.backend, "--repeats", reps]))
                if r:
                    row["sf"], row["sf_err"] = float(r["sim_s"]), float(r["max_rel_err"])
            r = attempt(ctx, "numpy", lambda: run_keys(ctx, [PY, os.path.join(BASE, "matmul_numpy.py"), "--n", n,
                                                             "--dtype", dtype, "--repeats", reps]))
            if r:
                row["numpy"] = float(r["sim_s"])
            rows.append(row)
            ctx.say(f"  {dtype} N={n}: sf={fmt_t(row.get('sf'))}s numpy={fmt_t(row.get('numpy'))}s")
    return rows


# ---- W5: denormals -----------------------------------------------------------------------------

def w5(ctx):
    ctx.say("W5 denormals (net3, I_table = 0)")
    long_ms, short_ms = (10000, 1000) if ctx.fast else (100, 10)
    if ctx.quick:
        long_ms, short_ms = long_ms // 10, short_ms // 10
    # One thread: net3 has 3 neurons, and the point is the arithmetic's speed, not the thread team's.
    one = ["--threads", "1"] if ctx.has_threads else []
    modes = [("FTZ (default)", one)]
    if ctx.has_strict:
        modes.append(("--strict-fp", one + ["--strict-fp"]))
    rows = []
    for dtype in ("f64", "f32"):
        for label, flags in modes:
            row = {"dtype": dtype, "mode": label}
            for t_end in (short_ms, long_ms):
                if t_end == long_ms and row[short_ms] and row[short_ms] * (long_ms / 0.01) * 1e-9 > 60:
                    row[t_end] = None  # a slow backend: the long run would take minutes
                    row["note"] = f"{long_ms} ms not run (~{row[short_ms] * (long_ms / 0.01) * 1e-9:.0f} s)"
                    continue
                r = attempt(ctx, "net3", lambda: timed(ctx, [ctx.sf, "run", "net3", "--set", "I_table=0", "--dtype",
                                                             dtype, "--t-end", t_end, "--record", "V", "--every",
                                                             int(round(t_end / 0.01)), "--backend", ctx.backend,
                                                             "--stats", *flags]))
                row[t_end] = None if r is None else r[0] / (t_end / 0.01) * 1e9
            rows.append(row)
            ctx.say(f"  {dtype} {label}: {fmt_t(row[short_ms])} ns/step ({short_ms} ms), "
                    f"{fmt_t(row[long_ms])} ns/step ({long_ms} ms)")
    return {"short": short_ms, "long": long_ms, "rows": rows}


# ---- W6: compile and JIT time ------------------------------------------------------------------

def w6(ctx):
    ctx.say("W6 compile_ms / jit_ms")
    names = [line.split()[0] for line in run_text([ctx.sf, "models"]).splitlines() if line.strip()]
    rows = []
    for m in names:
        def one():
            runs = [run_keys(ctx, [ctx.sf, "run", m, "--t-end", 1, "--backend", ctx.backend, "--stats"])
                    for _ in range(ctx.repeats)]
            med = lambda k: statistics.median(float(r.get(k, "nan")) for r in runs)  # noqa: E731
            return {"model": m, "build_ms": med("build_ms"), "compile_ms": med("compile_ms"), "jit_ms": med("jit_ms")}
        r = attempt(ctx, m, one)
        if r:
            rows.append(r)
            ctx.say(f"  {m}: compile {r['compile_ms']:.1f} ms, jit {r['jit_ms']:.1f} ms")
    return rows


# ---- RESULTS.md --------------------------------------------------------------------------------

def write_results(ctx, info, res, path, elapsed):
    L = []
    w = L.append
    sf_name = f"scanflow `{ctx.backend}`"
    w("# scanflow benchmarks\n")
    w(f"Generated by `{ctx.a.command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
      f"({elapsed / 60:.1f} min{', --quick subset' if ctx.quick else ''}). See bench/README.md for the "
      "workloads and baselines. Times are each program's own simulation time (start-up, graph building, "
      "compilation and JIT excluded), median of "
      f"{ctx.repeats} repeat{'s' if ctx.repeats > 1 else ''} (one run where a run takes {LONG_RUN_S:g} s or more, "
      "and where marked). The machine is shared by "
      "several jobs, so absolute times are noisy; the ratios come from one run.\n")
    if ctx.a.note:
        w(f"**{ctx.a.note}**\n")
    if not ctx.is_cpu:
        w(f"**The cpu backend is not in this build**: the scanflow rows use `{ctx.backend}` (the reference "
          "executor) as a stand-in, with fewer steps where it is slow; the targets are not evaluated.\n")
    elif not ctx.fast:
        w(f"**The cpu backend ran at {ctx.probe_ns:.0f} ns per neuron-step on the hh-squid probe** (more than 150): "
          "the scanflow runs use fewer steps and smaller sizes so that the run ends; the ratios are per step.\n")
    w("| | |\n|---|---|")
    for k, v in info:
        w(f"| {k} | {v} |")
    w("")

    targets = []
    if "W1" in res:
        r1 = res["W1"]
        w("## W1 hh-independent: `hh-squid`, ns per neuron-step\n")
        w(f"scanflow: `scanflow run hh-squid --size N --dtype D --record V --every STEPS --t-end STEPS*0.01 "
          f"--backend {ctx.backend} --stats` (V recorded only at the start and the end, spikes as events). "
          f"Hand-written: `hh_squid_hand` ({r1['isa']}, {r1['il']} vectors interleaved: the fastest variant on "
          f"this machine); the two take turns, run by run. NumPy and TensorFlow use fewer steps at large N "
          "(column \"steps\"); ns per neuron-step is steady-state throughput. Ratio = baseline time / scanflow "
          "time (> 1: scanflow faster).\n")
        w(f"| dtype | N | {sf_name} | hand C++ | NumPy | TF graph | steps sf / hand / NumPy, TF | "
          "sf vs hand | sf vs NumPy | sf vs TF |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for row in r1["rows"]:
            n = row["n"]
            ns = {k: row[k][0] * 1e9 / (n * row[k][1]) for k in ("sf", "hand", "numpy", "tf") if k in row}
            steps = " / ".join(str(row[k][1]) if k in row else "–" for k in ("sf", "hand", "numpy"))
            w(f"| {row['dtype']} | {n:,} | {fmt_t(ns.get('sf'))} | {fmt_t(ns.get('hand'))} | "
              f"{fmt_t(ns.get('numpy'))} | {fmt_t(ns.get('tf')) if ctx.tf_py else 'skipped'} | {steps} | "
              f"{fmt_r(ratio(ns.get('hand'), ns.get('sf')))} | {fmt_r(ratio(ns.get('numpy'), ns.get('sf')))} | "
              f"{fmt_r(ratio(ns.get('tf'), ns.get('sf')))} |")
            if row["dtype"] == "f64" and n >= 10000:
                slow = ratio(ns.get("sf"), ns.get("hand"))
                targets.append((f"W1 f64 N={n:,}: scanflow within 1.15x of hand-written",
                                f"{fmt_r(slow)} of hand", mark(None if slow is None else slow <= 1.15, ctx.is_cpu)))
                fast = ratio(ns.get("numpy"), ns.get("sf"))
                targets.append((f"W1 f64 N={n:,}: >= 10x NumPy", fmt_r(fast),
                                mark(None if fast is None else fast >= 10, ctx.is_cpu)))
                fast = ratio(ns.get("tf"), ns.get("sf"))
                targets.append((f"W1 f64 N={n:,}: >= 10x TensorFlow graph mode",
                                fmt_r(fast) if ctx.tf_py else f"TF skipped: {ctx.tf_skip}",
                                mark(None if fast is None else fast >= 10, ctx.is_cpu and bool(ctx.tf_py))))
        w("")
        jit = ", ".join(f"{r['dtype']} N={r['n']:,}: {r['sf_jit_ms']:.0f}" for r in r1["rows"] if "sf_jit_ms" in r)
        w(f"scanflow's JIT in these runs (jit_ms, not in the times above): {jit}. From 10^8 element-steps on, the "
          "element loop computes exp inline rather than through libmvec (docs/ARCHITECTURE.md, \"Vector math\"): "
          "less time per step for about 100 ms more JIT.\n")
        n, steps, sc = r1["scaling"]
        w(f"Thread scaling, f64, N = {n:,} (scanflow {steps} steps, hand-written 1000 steps). The hand-written "
          "loop's own speed-up shows what the machine gave this run: other jobs share its two cores.\n")
        w("| | 1 thread (s) | 2 threads (s) | speed-up |\n|---|---|---|---|")
        for k, name in (("sf", sf_name), ("hand", "hand C++")):
            one, two = sc.get((k, 1)), sc.get((k, 2))
            if k == "sf" and not ctx.has_threads:
                w(f"| {name} | – | – | no --threads option in this build |")
                continue
            w(f"| {name} | {fmt_t(one)} | {fmt_t(two)} | {fmt_r(ratio(one, two))} |")
        s = ratio(sc.get(("sf", 1)), sc.get(("sf", 2)))
        targets.append((f"W1 thread scaling N={n:,}: 2 threads >= 1.8x one", fmt_r(s),
                        mark(None if s is None else s >= 1.8, ctx.is_cpu and ctx.has_threads)))
        w("")
        w("Checks, each baseline against scanflow at the same N and steps: final V of every neuron "
          "(f64: within 1e-6 mV; f32: 99 % of neurons within 0.5 mV, since float32 rounding moves spikes by a "
          "step) and the spike total (f64: equal; f32: within 0.5 %):\n")
        w("| baseline | dtype | N | steps | result | detail |\n|---|---|---|---|---|---|")
        for impl, dtype, n, steps, ok, text in r1["checks"]:
            w(f"| {impl} | {dtype} | {n:,} | {steps} | {'pass' if ok else '**FAIL**'} | {text} |")
        w("")

    if "W2" in res:
        w("## W2 rk4-sin: dx/dt = sin(x t), x(0) = 0, RK4, 499 steps, f64 (seconds)\n")
        w("The PSST Benchmark notebook's second benchmark. scanflow runs a graph file written by "
          "`bench_rk4_sin --n N` (`scanflow run rk4_sin.sfg --backend ... --stats`); NumPy and TensorFlow "
          "are the notebook's loop RK4 and `tf.scan` RK4. The exact solution is 0; \"max |x|\" is the "
          "largest final |x| over the three implementations. TensorFlow is not run at n = 10^6 (about 75 s and a "
          "4 GB trajectory on this machine; the tutorial's 2021 figure stops at 10^5).\n")
        w(f"| n | {sf_name} | NumPy | TF graph | NumPy / sf | TF / sf | max \\|x\\| |\n|---|---|---|---|---|---|---|")
        for row in res["W2"]:
            mx = max([row[k] for k in ("sf_max", "numpy_max", "tf_max") if k in row] or [float("nan")])
            note = " (1 run)" if row["single"] else ""
            tf_cell = "skipped" if not ctx.tf_py else "not run (time)" if row["single"] else fmt_t(row.get("tf"))
            w(f"| {row['n']:,} | {fmt_t(row.get('sf'))} | {fmt_t(row.get('numpy'))}{note} | {tf_cell} | "
              f"{fmt_r(ratio(row.get('numpy'), row.get('sf')))} | {fmt_r(ratio(row.get('tf'), row.get('sf')))} | "
              f"{mx:g} |")
        w("")

    if "W3" in res:
        rows = res["W3"]
        w("## W3 antennal-lobe: 120 neurons + ~3100 synapses, dt 0.01 ms, f64\n")
        w("scanflow: `scanflow run antennal-lobe --t-end T --record V --every 100 --backend B --stats` "
          "(V of the 120 neurons every 1 ms, the tutorial's plotted resolution). Slower implementations "
          "simulate a shorter T; the comparison is per simulated ms.\n")
        w("| implementation | simulated (ms) | steps | sim time (s) | ms of wall time per simulated ms | "
          "spikes | vs scanflow |\n|---|---|---|---|---|---|---|")
        base = rows[0]["sim_s"] / rows[0]["t_end"] if rows and rows[0]["what"].startswith(sf_name) else None
        tf_ratio = None
        for r in rows:
            per = r["sim_s"] / r["t_end"]
            rr = ratio(per, base)
            if r["what"].startswith("TensorFlow"):
                tf_ratio = rr
            w(f"| {r['what']} | {r['t_end']} | {r['steps']:,} | {r['sim_s']:.3f}{' (1 run)' if r.get('single') else ''}"
              f" | {per * 1e3:.3g} | {r['spikes']} | {fmt_r(rr)} |")
        w("")
        for r in rows:
            if "check" in r:
                w(f"Check, TensorFlow against the interpreter over {r['t_end']} ms (same network, seed 1, drawn "
                  f"with scanflow's generator): {r['check']}.")
        if not any(r["what"].startswith("TensorFlow") for r in rows):
            w(f"TensorFlow row: skipped: {ctx.tf_skip}")
        targets.append(("W3: >= 30x TensorFlow graph mode", fmt_r(tf_ratio),
                        mark(None if tf_ratio is None else tf_ratio >= 30, ctx.is_cpu and tf_ratio is not None)))
        w("")

    if "W4" in res:
        w("## W4 matmul: C = A B through a graph vs NumPy (same OpenBLAS), seconds\n")
        w("scanflow: `bench_matmul --n N --dtype D --backend B` (a graph with two N x N inputs and one "
          "matmul, compiled once, median of 5 runs, 3 at N = 2048); NumPy: `A @ B`. Ratio = scanflow / NumPy "
          "(< 1: scanflow faster).\n")
        w(f"| dtype | N | {sf_name} | NumPy | sf / NumPy | GFLOP/s sf | GFLOP/s NumPy | max rel. err |")
        w("|---|---|---|---|---|---|---|---|")
        for row in res["W4"]:
            n = row["n"]
            fl = 2.0 * n ** 3 * 1e-9
            rr = ratio(row.get("sf"), row.get("numpy"))
            w(f"| {row['dtype']} | {n} | {row.get('sf_note') or fmt_t(row.get('sf'))} | {fmt_t(row.get('numpy'))} | "
              f"{fmt_r(rr)} | "
              f"{fmt_t(ratio(fl, row.get('sf')))} | {fmt_t(ratio(fl, row.get('numpy')))} | "
              f"{fmt_t(row.get('sf_err'), 2)} |")
            if n == 2048:
                targets.append((f"W4 {row['dtype']} N=2048: within 1.1x of NumPy", fmt_r(rr),
                                mark(None if rr is None else rr <= 1.1, ctx.is_cpu)))
        w("")

    if "W5" in res:
        r5 = res["W5"]
        s, l = r5["short"], r5["long"]
        w(f"## W5 denormals: `net3` with `--set I_table=0`, ns per step, {l} ms vs {s} ms\n")
        w("Without input the synaptic and gating variables decay towards 0; where they reach subnormal "
          "numbers, a run without flush-to-zero slows down. The cpu backend flushes subnormals to zero by "
          "default; `--strict-fp` keeps them. `--threads 1` (net3 has three neurons).\n")
        w(f"| dtype | mode | {s} ms | {l} ms | {l} ms / {s} ms |\n|---|---|---|---|---|")
        for row in r5["rows"]:
            rr = ratio(row[l], row[s])
            w(f"| {row['dtype']} | {row['mode']} | {fmt_t(row[s])} | {row.get('note') or fmt_t(row[l])} | {fmt_r(rr)} |")
            if row["mode"].startswith("FTZ") and row["dtype"] == "f64":
                targets.append((f"W5 f64 FTZ: ns/step at {l} ms within 10 % of {s} ms", fmt_r(rr),
                                mark(None if rr is None else abs(rr - 1) <= 0.10, ctx.fast)))
        if not ctx.has_strict:
            w("\n(no --strict-fp option in this build: the strict row is missing)")
        w("")

    if "W6" in res:
        w("## W6 compile and JIT time per model\n")
        w(f"`scanflow run MODEL --t-end 1 --backend {ctx.backend} --stats` (the model's default size; the "
          "simulated time does not change the code), median of the repeats. compile_ms: graph passes and "
          "lowering; jit_ms: code generation by the backend (0 for backends that generate none).\n")
        w("| model | build_ms | compile_ms | jit_ms |\n|---|---|---|---|")
        for r in res["W6"]:
            w(f"| {r['model']} | {r['build_ms']:.1f} | {r['compile_ms']:.1f} | {r['jit_ms']:.1f} |")
            if r["model"] == "antennal-lobe":
                targets.append(("JIT of antennal-lobe under 150 ms (reported)", f"{r['jit_ms']:.1f} ms",
                                mark(r["jit_ms"] < 150, ctx.is_cpu)))
        w("")

    w("## Targets of the CPU backend issue\n")
    w("| target | measured | status |\n|---|---|---|")
    for t, v, m in targets:
        w(f"| {t} | {v} | {m} |")
    w("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--scanflow", required=True)
    p.add_argument("--hand", required=True)
    p.add_argument("--bench-bin", required=True, help="folder with bench_rk4_sin and bench_matmul")
    p.add_argument("--tf-python", default="")
    p.add_argument("--tf-skip", default="")
    p.add_argument("--standin", default="ref")
    p.add_argument("--only", default="W1,W2,W3,W4,W5,W6")
    p.add_argument("--results", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    p.add_argument("--command", default="bench/run.sh")
    p.add_argument("--note", default="", help="a line for the top of RESULTS.md")
    a = p.parse_args()
    ctx = Ctx(a)
    start = time.time()
    ctx.probe()
    ctx.say(f"scanflow backend: {ctx.backend} ({ctx.probe_ns:.0f} ns per neuron-step on the probe: "
            f"{'full' if ctx.fast else 'reduced'} sizes); log: {ctx.log.name}")
    info = machine(ctx)
    res = {}
    for w, f in (("W1", w1), ("W2", w2), ("W3", w3), ("W4", w4), ("W5", w5), ("W6", w6)):
        if w in a.only.split(","):
            t0 = time.time()
            res[w] = f(ctx)
            ctx.say(f"  ({w}: {time.time() - t0:.0f} s)")
    write_results(ctx, info, res, a.results, time.time() - start)
    ctx.log.close()
    print(f"wrote {a.results} ({(time.time() - start) / 60:.1f} min); log {ctx.log.name}")


if __name__ == "__main__":
    sys.exit(main())
