"""What the baseline scripts share: scanflow's hh-squid model written once for any array library,
the PSST tutorial's TensorFlow 1 graph-mode set-up and `tf.scan` RK4, and the timing rule
(median of the repeats).

Imported by the NumPy scripts (Debian's python, no TensorFlow) too: TensorFlow is imported only
when tf1() is called.
"""
import argparse
import os
import time

import numpy as np


def parse_args(steps, hh=False):
    """The command line of the W1 and W2 scripts: --n N, --steps S (default `steps`), --repeats R;
    with hh, also --dtype f64|f32 and --out V.npy (the final V, for the harness's check)."""
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--steps", type=int, default=steps)
    if hh:
        p.add_argument("--dtype", default="f64")
    p.add_argument("--repeats", type=int, default=1)
    if hh:
        p.add_argument("--out", default="")
    return p.parse_args()


def median_time(run, repeats):
    """Calls run() `repeats` times; returns (median wall time in s, the last call's result)."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2], result


# ---- hh-squid (models/hh_squid.cpp) -------------------------------------------------------------

def hh_squid_y0(n):
    """The initial state X = [V, m, h, n], float64."""
    return np.concatenate([np.full(n, -65.0), np.full(n, 0.05), np.full(n, 0.6), np.full(n, 0.32)])


def hh_squid_currents(n):
    """The injected currents I_i = 20 i / (N - 1), as a list of floats."""
    return [20.0 * i / (n - 1) if n > 1 else 0.0 for i in range(n)]


def hh_squid_dXdt(n, I_inj, exp, power, concat, c=float):
    """The tutorial's Day 3 style derivative over X = [V, m, h, n] (4N entries). exp, power and concat
    are the array library's (concat joins a list of vectors); c makes a constant in the run's dtype
    (float where the library converts Python numbers itself)."""
    C_m, g_Na, E_Na, g_K, E_K, g_L, E_L = map(c, (1.0, 120.0, 50.0, 36.0, -77.0, 0.3, -54.387))

    def alpha_m(V): return c(0.1) * (V + c(40)) / (c(1) - exp(-(V + c(40)) / c(10)))
    def beta_m(V): return c(4) * exp(-(V + c(65)) / c(18))
    def alpha_h(V): return c(0.07) * exp(-(V + c(65)) / c(20))
    def beta_h(V): return c(1) / (c(1) + exp(-(V + c(35)) / c(10)))
    def alpha_n(V): return c(0.01) * (V + c(55)) / (c(1) - exp(-(V + c(55)) / c(10)))
    def beta_n(V): return c(0.125) * exp(-(V + c(65)) / c(80))
    def I_Na(V, m, h): return g_Na * power(m, c(3)) * h * (V - E_Na)
    def I_K(V, k): return g_K * power(k, c(4)) * (V - E_K)
    def I_L(V): return g_L * (V - E_L)

    def dXdt(X, t):
        V, m, h, k = X[:n], X[n:2 * n], X[2 * n:3 * n], X[3 * n:]
        dVdt = (I_inj - I_Na(V, m, h) - I_K(V, k) - I_L(V)) / C_m
        dmdt = alpha_m(V) * (c(1) - m) - beta_m(V) * m
        dhdt = alpha_h(V) * (c(1) - h) - beta_h(V) * h
        dndt = alpha_n(V) * (c(1) - k) - beta_n(V) * k
        return concat([dVdt, dmdt, dhdt, dndt])

    return dXdt


# ---- TensorFlow 1 graph mode, the tutorial's way -------------------------------------------------

def tf1():
    """tensorflow.compat.v1 with eager execution off (the tutorial's graph mode), C++ logging quiet."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow.compat.v1 as tf
    tf.disable_eager_execution()
    return tf


def tf_odeint_rk4(tf, func, y0, t, after_step=None):
    """The tutorial's Day 2 RK4 on tf.scan over (t[:-1], dt): returns the [n_t, n_eq] trajectory.
    after_step(y, y_next, t), if given, rewrites each new state (tf_integrator.py's fire times)."""
    def step(y, t_dt):
        t, dt = t_dt
        k1 = func(y, t)
        half_step = t + dt / 2
        dt_cast = tf.cast(dt, y.dtype)
        k2 = func(y + dt_cast * k1 / 2, half_step)
        k3 = func(y + dt_cast * k2 / 2, half_step)
        k4 = func(y + dt_cast * k3, t + dt)
        y_next = y + tf.add_n([k1, 2 * k2, 2 * k3, k4]) * (dt_cast / 6)
        return y_next if after_step is None else after_step(y, y_next, t)

    time_delta_grid = t[1:] - t[:-1]
    y = tf.scan(step, (t[:-1], time_delta_grid), y0)
    return tf.concat([[y0], y], axis=0)


def tf_upcrossings(tf, V):
    """How many times the rows of a [n_t, N] trajectory cross 0 upwards (the spike count)."""
    return tf.reduce_sum(tf.cast(tf.logical_and(V[:-1] < 0, V[1:] >= 0), tf.int64))


def tf_time_runs(tf, fetch, t, steps, repeats, dt=0.01):
    """Runs `fetch` in a session with the time-grid placeholder t: one warm-up run on a 3-point grid
    (creates the executor), then `repeats` runs over t_k = k dt, k = 0..steps, as scanflow's grid.
    Graph building and session start are not timed. Returns (median s, the last run's values)."""
    with tf.Session() as sess:
        sess.run(fetch, {t: np.arange(3) * dt})
        grid = np.arange(steps + 1) * dt
        return median_time(lambda: sess.run(fetch, {t: grid}), repeats)
