"""W2 baseline: the PSST Benchmark notebook's TensorFlow RK4 on dx_i/dt = sin(x_i t), x_i(0) = 0.

TF1 graph mode (tensorflow.compat.v1, eager off), the Day 2 `tf.scan` RK4, float64, 499 steps over
t = 0, 0.01, .., 4.99. The notebook times graph building + session + run; here graph building and
session start are excluded: a warm-up run on a 3-point grid (t is a placeholder), then sim_s is the
median of --repeats full runs. tf.scan materialises the [n_t, n] trajectory as in the notebook; the
fetch is its last row (and max |x|, which must be 0).

Usage: bench/.venv/bin/python rk4_sin_tf.py --n N [--steps 499] [--repeats R]
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()


def tf_odeint_rk4(func, y0, t):
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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--steps", type=int, default=499)
    p.add_argument("--repeats", type=int, default=1)
    a = p.parse_args()
    t = tf.placeholder(tf.float64, [None])
    state = tf_odeint_rk4(lambda x, t: tf.sin(x * t), tf.constant(np.zeros(a.n), dtype=tf.float64), t)
    fetch = tf.reduce_max(tf.abs(state[-1]))
    with tf.Session() as sess:
        sess.run(fetch, {t: np.arange(3) * 0.01})
        grid = np.arange(a.steps + 1) * 0.01
        times = []
        for _ in range(a.repeats):
            start = time.perf_counter()
            m = sess.run(fetch, {t: grid})
            times.append(time.perf_counter() - start)
    sim_s = sorted(times)[len(times) // 2]
    print(f"sim_s: {sim_s:.6f}\nmax_abs_x: {float(m):.3g}\ntf_version: {tf.__version__}")


if __name__ == "__main__":
    main()
