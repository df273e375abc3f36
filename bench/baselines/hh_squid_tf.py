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
import numpy as np

from common import (hh_squid_currents, hh_squid_dXdt, hh_squid_y0, parse_args, tf1, tf_odeint_rk4, tf_time_runs,
                    tf_upcrossings)

tf = tf1()


def make_dXdt(n, dtype):
    # Python constants: TensorFlow converts them to the tensors' dtype.
    I_inj = tf.constant(hh_squid_currents(n), dtype=dtype)
    return hh_squid_dXdt(n, I_inj, tf.exp, tf.pow, lambda xs: tf.concat(xs, 0))


def main():
    a = parse_args(steps=10000, hh=True)
    dtype = tf.float64 if a.dtype == "f64" else tf.float32
    n = a.n
    t = tf.placeholder(tf.float64, [None])
    state = tf_odeint_rk4(tf, make_dXdt(n, dtype), tf.constant(hh_squid_y0(n), dtype=dtype), t)
    fetch = (state[-1, :n], tf_upcrossings(tf, state[:, :n]))
    sim_s, (v_final, count) = tf_time_runs(tf, fetch, t, a.steps, a.repeats)
    print(f"sim_s: {sim_s:.6f}\nspikes: {int(count)}\nns_per_neuron_step: {1e9 * sim_s / (n * a.steps):.4f}")
    print(f"tf_version: {tf.__version__}")
    if a.out:
        np.save(a.out, v_final)


if __name__ == "__main__":
    main()
