"""Baseline (c) for W1: hh-squid in TensorFlow graph mode with tf.scan, the PSST tutorial's way.

TF1-style graph (tensorflow.compat.v1, eager execution off, tf.Session), the Day 2 RK4 integrator
(`tf.scan` of `_step_func` over (t[:-1], dt), `tf.add_n([k1, 2*k2, 2*k3, k4]) * (dt_cast/6)`) and a
Day 3 style derivative over the concatenated state X = [V, m, h, n]. Model, constants, currents
and initial state are scanflow's `hh-squid`. As in the tutorial, tf.scan materialises the whole
[steps+1, 4N] trajectory in the graph; the fetch is reduced in the graph (final V and the spike
count from the trajectory's 0 mV up-crossings) so the timing is TensorFlow's, not a 3 GB copy to Python.

Timing: the time grid is a placeholder; one warm-up run on a 3-point grid creates the session's
executor, then sim_s is the wall time of the full run (median of --repeats) (graph building and session start excluded).

Usage: bench/.venv/bin/python hh_squid_tf.py --n N --steps S [--dtype f64|f32] [--repeats R] [--out V.npy]
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()


def tf_odeint_rk4(func, y0, t):
    """The tutorial's Day 2 RK4 on tf.scan: returns the [n_t, n_eq] trajectory."""
    def _step_func(func, t, dt, y):
        k1 = func(y, t)
        half_step = t + dt / 2
        dt_cast = tf.cast(dt, y.dtype)
        k2 = func(y + dt_cast * k1 / 2, half_step)
        k3 = func(y + dt_cast * k2 / 2, half_step)
        k4 = func(y + dt_cast * k3, t + dt)
        return tf.add_n([k1, 2 * k2, 2 * k3, k4]) * (dt_cast / 6)

    def scan_func(y, t_dt):
        t, dt = t_dt
        return y + _step_func(func, t, dt, y)

    time_delta_grid = t[1:] - t[:-1]
    y = tf.scan(scan_func, (t[:-1], time_delta_grid), y0)
    return tf.concat([[y0], y], axis=0)


def make_dXdt(n, dtype):
    C_m, g_Na, E_Na, g_K, E_K, g_L, E_L = 1.0, 120.0, 50.0, 36.0, -77.0, 0.3, -54.387
    I_inj = tf.constant([20.0 * i / (n - 1) if n > 1 else 0.0 for i in range(n)], dtype=dtype)

    def alpha_m(V): return 0.1 * (V + 40.0) / (1.0 - tf.exp(-(V + 40.0) / 10.0))
    def beta_m(V): return 4.0 * tf.exp(-(V + 65.0) / 18.0)
    def alpha_h(V): return 0.07 * tf.exp(-(V + 65.0) / 20.0)
    def beta_h(V): return 1.0 / (1.0 + tf.exp(-(V + 35.0) / 10.0))
    def alpha_n(V): return 0.01 * (V + 55.0) / (1.0 - tf.exp(-(V + 55.0) / 10.0))
    def beta_n(V): return 0.125 * tf.exp(-(V + 65.0) / 80.0)
    def I_Na(V, m, h): return g_Na * tf.pow(m, 3.0) * h * (V - E_Na)
    def I_K(V, k): return g_K * tf.pow(k, 4.0) * (V - E_K)
    def I_L(V): return g_L * (V - E_L)

    def dXdt(X, t):
        V, m, h, k = X[:n], X[n:2 * n], X[2 * n:3 * n], X[3 * n:]
        dVdt = (I_inj - I_Na(V, m, h) - I_K(V, k) - I_L(V)) / C_m
        dmdt = alpha_m(V) * (1.0 - m) - beta_m(V) * m
        dhdt = alpha_h(V) * (1.0 - h) - beta_h(V) * h
        dndt = alpha_n(V) * (1.0 - k) - beta_n(V) * k
        return tf.concat([dVdt, dmdt, dhdt, dndt], 0)

    return dXdt


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--dtype", default="f64")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--out", default="")
    a = p.parse_args()
    dtype = tf.float64 if a.dtype == "f64" else tf.float32
    n = a.n
    y0 = np.concatenate([np.full(n, -65.0), np.full(n, 0.05), np.full(n, 0.6), np.full(n, 0.32)])
    t = tf.placeholder(tf.float64, [None])
    state = tf_odeint_rk4(make_dXdt(n, dtype), tf.constant(y0, dtype=dtype), t)
    V = state[:, :n]
    spikes = tf.reduce_sum(tf.cast(tf.logical_and(V[:-1] < 0, V[1:] >= 0), tf.int64))
    fetch = (state[-1, :n], spikes)
    with tf.Session() as sess:
        sess.run(fetch, {t: np.arange(3) * 0.01})  # warm-up: builds the executor
        grid = np.arange(a.steps + 1) * 0.01      # t_k = k * dt, as scanflow's grid
        times = []
        for _ in range(a.repeats):
            start = time.perf_counter()
            v_final, count = sess.run(fetch, {t: grid})
            times.append(time.perf_counter() - start)
        sim_s = sorted(times)[len(times) // 2]
    print(f"sim_s: {sim_s:.6f}\nspikes: {int(count)}\nns_per_neuron_step: {1e9 * sim_s / (n * a.steps):.4f}")
    print(f"tf_version: {tf.__version__}")
    if a.out:
        np.save(a.out, v_final)


if __name__ == "__main__":
    main()
