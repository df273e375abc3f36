"""W2 baseline: the PSST Benchmark notebook's TensorFlow RK4 on dx_i/dt = sin(x_i t), x_i(0) = 0.

TF1 graph mode (tensorflow.compat.v1, eager off), the Day 2 `tf.scan` RK4, float64, 499 steps over
t = 0, 0.01, .., 4.99. The notebook times graph building + session + run; here graph building and
session start are excluded: a warm-up run on a 3-point grid (t is a placeholder), then sim_s is the
median of --repeats full runs. tf.scan materialises the [n_t, n] trajectory as in the notebook; the
fetch is its last row (and max |x|, which must be 0).

Usage: bench/.venv/bin/python rk4_sin_tf.py --n N [--steps 499] [--repeats R]
"""
import numpy as np

from common import parse_args, tf1, tf_odeint_rk4, tf_time_runs

tf = tf1()


def main():
    a = parse_args(steps=499)
    t = tf.placeholder(tf.float64, [None])
    state = tf_odeint_rk4(tf, lambda x, t: tf.sin(x * t), tf.constant(np.zeros(a.n), dtype=tf.float64), t)
    fetch = tf.reduce_max(tf.abs(state[-1]))
    sim_s, m = tf_time_runs(tf, fetch, t, a.steps, a.repeats)
    print(f"sim_s: {sim_s:.6f}\nmax_abs_x: {float(m):.3g}\ntf_version: {tf.__version__}")


if __name__ == "__main__":
    main()
