"""W3 baseline: the locust antennal lobe in TensorFlow graph mode, the PSST tutorial's formulation
(Example Implementation Locust AL, "Day 6"), float64.

As the tutorial: one state vector [V(120), n(120), m_Na, h_Na, m_A, h_A (90 each), m_Ca, h_Ca, m_KCa,
Ca (30 each), o_ach, o_gaba (one per synapse), fire_t(120)]; RK4 on tf.scan with the spike-time
integrator of tf_integrator.py (fire_t := t_k on an upward 0 mV crossing); synaptic currents through
the dense 120 x 120 scatter of the synapse vector and row sums; transmitter vectors through the
dense C * T_pre product and boolean_mask; the odor current read from a [120, n_t] table at
int(t/dt). The whole trajectory is materialised by tf.scan, as in the tutorial.

The network (connectivity, odor targets, 1 % initial noise) is drawn with scanflow's generator
(models/random.h: SplitMix64, Box-Muller) and seed, so the result can be compared with
`scanflow run antennal-lobe --seed S`; constants are models/antennal_lobe.cpp's (the current
tutorial code's, KCa phi = 1).

Timing: a warm-up run on a 3-point grid (the grid is a placeholder), then sim_s = median of
--repeats full runs; graph building and session start are excluded.
Usage: bench/.venv/bin/python al_tf.py --t-end 50 [--seed 1] [--repeats 1] [--out V.npy]
"""
import argparse
import math

import numpy as np

from common import tf1, tf_odeint_rk4, tf_time_runs, tf_upcrossings

tf = tf1()

P, L = 90, 30
N = P + L
M64 = (1 << 64) - 1


class Rng:
    """scanflow's generator (models/random.cpp), draw for draw."""

    def __init__(self, seed):
        self.seed, self.counter = seed, 0

    def next(self):
        self.counter += 1
        z = (self.seed + self.counter * 0x9E3779B97F4A7C15) & M64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53

    def normal(self):
        u1, u2 = self.uniform(), self.uniform()
        return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(6.283185307179586 * u2)

    def below(self, n):
        return min(int(self.uniform() * n), n - 1)

    def choose(self, n, k):
        pool = list(range(n))
        for i in range(k):
            j = i + self.below(n - i)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]


def draw_network(seed):
    """ach_mat, fgaba_mat [post, pre], odor targets and the initial state, as scanflow draws them."""
    rng = Rng(seed)
    ach, gaba = np.zeros((N, N)), np.zeros((N, N))
    for post in range(P, N):
        for pre in range(P):
            ach[post, pre] = 1.0 if rng.uniform() < 0.5 else 0.0
    for post in range(N):
        for pre in range(P, N):
            gaba[post, pre] = 1.0 if rng.uniform() < 0.5 else 0.0
    for i in range(P, N):
        gaba[i, i] = 0.0
    targets = rng.choose(N, int(0.33 * N))
    n_ach, n_gaba = int(ach.sum()), int(gaba.sum())
    init = ([-70.0] * N + [0.0] * N + [0.0] * (4 * P) + [0.0] * (3 * L) + [2.4e-4] * L + [0.0] * (n_ach + n_gaba) +
            [-1001.0] * N)
    y0 = np.array([x + 0.01 * x * rng.normal() for x in init])
    return ach, gaba, targets, y0


def odor_table(targets, n_t, dt):
    """current_input [120, n_t]: 10 y(t_k) into the target neurons, the tutorial's ramp."""
    t = np.arange(n_t) * dt
    y = np.where(t < 600.0, 1.0 - np.exp(-(t - 100.0) / 75.0), 0.9996 * np.exp(-(t - 600.0) / 150.0))
    y = np.where(t < 100.0, 0.0, y)
    mask = np.zeros(N)
    mask[targets] = 1.0
    return mask[:, None] * (10.0 * y)[None, :]


def tf_odeint(func, y0, t, n_, F_b):
    """tf_integrator.py: RK4 on tf.scan, the last n_ entries are last-fire times (t_k where the
    first n_ entries cross F_b upwards)."""
    def fire_times(y, out, t):
        fired = tf.logical_and(y[:n_] < F_b, out[:n_] >= F_b)
        fire_t = y[-n_:]
        fire_t = fire_t + tf.where(fired, tf.ones_like(fire_t) * (t - fire_t), tf.zeros_like(fire_t))
        return tf.concat([out[:-n_], fire_t], 0)

    return tf_odeint_rk4(tf, func, y0, t, fire_times)


def make_dXdt(ach_mat, gaba_mat, table, dt):
    n_ach, n_gaba = int(ach_mat.sum()), int(gaba_mat.sum())
    c = lambda v: tf.constant(np.asarray(v, dtype=np.float64))  # noqa: E731
    phi = 3.0 ** ((22.0 - 36.0) / 10.0)
    phi_A = 3.0 ** ((36.0 - 23.5) / 10.0)
    phi_KCa = 2.3 ** ((26.0 - 23.0) / 10.0)
    E_L, g_KL = c([-55.0] * P + [-50.0] * L), c([0.05] * P + [0.02] * L)
    g_ach, E_ach, g_gaba, E_gaba = c([0.35] * P + [0.3] * L), 0.0, 0.8, -70.0
    A_ach = c([0.5] * N)
    ach_flat, gaba_flat = ach_mat.flatten() == 1, gaba_mat.flatten() == 1
    ach_ind = tf.constant(np.arange(N * N)[ach_flat][:, None])
    gaba_ind = tf.constant(np.arange(N * N)[gaba_flat][:, None])
    ach_C, gaba_C = c(ach_mat), c(gaba_mat)
    current_input = c(table.T)  # [n_t, 120]

    gate = lambda a, b: (a / (a + b), 1.0 / ((a + b) * phi))  # noqa: E731  (x0, tau) of the Traub rates

    def traub_m(v):  # v = V + 50
        return gate(0.32 * (13.0 - v) / (tf.exp((13.0 - v) / 4.0) - 1.0),
                    0.28 * (v - 40.0) / (tf.exp((v - 40.0) / 5.0) - 1.0))

    def traub_h(v):
        return gate(0.128 * tf.exp((17.0 - v) / 18.0), 4.0 / (tf.exp((40.0 - v) / 5.0) + 1.0))

    def traub_n(v):
        return gate(0.02 * (15.0 - v) / (tf.exp((15.0 - v) / 5.0) - 1.0), 0.5 * tf.exp((10.0 - v) / 40.0))

    relax = lambda x, g: -(1.0 / g[1]) * (x - g[0])  # noqa: E731
    sigmoid = lambda x: 1.0 / (1.0 + tf.exp(x))  # noqa: E731

    def synaptic_current(o, ind, V, E, g):
        o_flat = tf.tensor_scatter_nd_update(tf.zeros(N * N, tf.float64), ind, o)
        O = tf.reshape(o_flat, (N, N))  # O[post, pre]
        return tf.reduce_sum(tf.transpose(tf.transpose(O) * (V - E) * g), 1)

    def dXdt(X, t):
        V = X[:N]
        k = X[N:2 * N]
        m_Na, h_Na, m_A, h_A = (X[2 * N + i * P:2 * N + (i + 1) * P] for i in range(4))
        b = 2 * N + 4 * P
        m_Ca, h_Ca, m_KCa, Ca = (X[b + i * L:b + (i + 1) * L] for i in range(4))
        b += 4 * L
        o_ach, o_gaba = X[b:b + n_ach], X[b + n_ach:b + n_ach + n_gaba]
        fire_t = X[-N:]
        V_p, V_l = V[:P], V[P:]

        I_stim = current_input[tf.cast(t / dt, tf.int32)]
        m_g, h_g, n_g = traub_m(V_p + 50.0), traub_h(V_p + 50.0), traub_n(V + 50.0)
        I_Na = 100.0 * tf.pow(m_Na, 3.0) * h_Na * (V_p - 50.0)
        I_A = 10.0 * tf.pow(m_A, 4.0) * h_A * (V_p - (-95.0))
        I_Ca = 3.0 * tf.pow(m_Ca, 2.0) * h_Ca * (V_l - 140.0)
        I_KCa = 0.3 * m_KCa * 1.0 * (V_l - (-90.0))
        I_K = 10.0 * tf.pow(k, 4.0) * (V - (-95.0))
        I_L = 0.15 * (V - E_L)
        I_KL = g_KL * (V - (-95.0))
        I_ach = synaptic_current(o_ach, ach_ind, V, E_ach, g_ach)
        I_gaba = synaptic_current(o_gaba, gaba_ind, V, E_gaba, g_gaba)
        dV = (I_stim + tf.concat([-I_Na - I_A, -I_Ca - I_KCa], 0) - I_K - I_L - I_KL - I_ach - I_gaba) / 1.0

        mA0 = sigmoid(-(V_p + 60.0) / 8.5)
        tau_mA = 1.0 / (tf.exp((V_p + 35.82) / 19.69) + tf.exp(-(V_p + 79.69) / 12.7) + 0.37) / phi_A
        hA0 = sigmoid((V_p + 78.0) / 6.0)
        below = 1.0 / (tf.exp((V_p + 46.05) / 5.0) + tf.exp(-(V_p + 238.4) / 37.45)) / phi_A
        tau_hA = tf.where(V_p < -63.0, below, tf.ones_like(V_p) * (19.0 / phi_A))
        mCa0, tau_mCa = sigmoid(-(V_l + 20.0) / 6.5), 1.5
        hCa0 = sigmoid((V_l + 25.0) / 12.0)
        tau_hCa = 0.3 * tf.exp((V_l - 40.0) / 13.0) + 0.002 * tf.exp((60.0 - V_l) / 29.0)
        a_KCa = 0.01 * Ca
        b_KCa = 0.02
        dCa = -2e-4 * I_Ca - (Ca - 2.4e-4) / 150.0

        # Transmitter: dense C * T_pre, then the synapses' entries (row-major order of C).
        T_ach_pre = tf.where(tf.logical_and(t > fire_t + 0.0, t < fire_t + 0.3 + 0.0), A_ach, tf.zeros_like(A_ach))
        T_gaba_pre = 1.0 / (1.0 + tf.exp(-(V - (-20.0)) / 1.5))
        T_ach = tf.boolean_mask(tf.reshape(ach_C * T_ach_pre, [-1]), ach_flat)
        T_gaba = tf.boolean_mask(tf.reshape(gaba_C * T_gaba_pre, [-1]), gaba_flat)
        do_ach = 10.0 * (1.0 - o_ach) * T_ach - 0.2 * o_ach
        do_gaba = 10.0 * (1.0 - o_gaba) * T_gaba - 0.16 * o_gaba

        return tf.concat([dV, relax(k, n_g), relax(m_Na, m_g), relax(h_Na, h_g), relax(m_A, (mA0, tau_mA)),
                          relax(h_A, (hA0, tau_hA)), relax(m_Ca, (mCa0, tau_mCa)), relax(h_Ca, (hCa0, tau_hCa)),
                          relax(m_KCa, (a_KCa / (a_KCa + b_KCa), 1.0 / ((a_KCa + b_KCa) * phi_KCa))), dCa,
                          do_ach, do_gaba, tf.zeros(N, tf.float64)], 0)

    return dXdt


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--t-end", type=float, default=50.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--out", default="")
    a = p.parse_args()
    dt = 0.01
    steps = int(round(a.t_end / dt))
    ach, gaba, targets, y0 = draw_network(a.seed)
    t = tf.placeholder(tf.float64, [None])
    state = tf_odeint(make_dXdt(ach, gaba, odor_table(targets, steps + 2, dt), dt), tf.constant(y0), t, N, 0.0)
    fetch = (state[-1, :N], tf_upcrossings(tf, state[:, :N]))
    sim_s, (v_final, count) = tf_time_runs(tf, fetch, t, steps, a.repeats, dt)
    print(f"sim_s: {sim_s:.6f}\nspikes: {int(count)}\nsteps: {steps}\nsynapses: {int(ach.sum())} + {int(gaba.sum())}")
    if a.out:
        np.save(a.out, v_final)


if __name__ == "__main__":
    main()
