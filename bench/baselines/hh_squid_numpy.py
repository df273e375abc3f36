"""Baseline (b) for W1: hh-squid in NumPy, in the PSST tutorial's style.

The tutorial's way (Day 1 RK4 loop, Day 3 vectorised neurons): one state vector X = [V, m, h, n]
(4N entries), a derivative function dXdt(X, t) written with NumPy array operations, and a Python
loop of RK4 steps over the time grid t = k*dt. The model, constants, currents I_i = 20 i/(N-1), initial
state and the RK4 expression order are those of scanflow's `hh-squid` (models/hh_squid.cpp).
Like the scanflow run it is compared with, it keeps only the final state (the tutorial's [n_eq, n_t]
trajectory would need 4N*steps*8 bytes: 32 GB at N = 10^5), and it counts upward 0 mV crossings.

Usage: /usr/bin/python3 hh_squid_numpy.py --n N --steps S [--dtype f64|f32] [--repeats R] [--out V.npy]
Prints sim_s (the integration loop only, median of --repeats), spikes and ns_per_neuron_step.
"""
import argparse
import time

import numpy as np


def make_dXdt(n, dtype):
    c = lambda x: dtype(x)  # constants in the run's dtype, as the graph's params
    C_m, g_Na, E_Na, g_K, E_K, g_L, E_L = map(c, (1.0, 120.0, 50.0, 36.0, -77.0, 0.3, -54.387))
    I_inj = np.array([20.0 * i / (n - 1) if n > 1 else 0.0 for i in range(n)]).astype(dtype)

    def alpha_m(V): return c(0.1) * (V + c(40)) / (c(1) - np.exp(-(V + c(40)) / c(10)))
    def beta_m(V): return c(4) * np.exp(-(V + c(65)) / c(18))
    def alpha_h(V): return c(0.07) * np.exp(-(V + c(65)) / c(20))
    def beta_h(V): return c(1) / (c(1) + np.exp(-(V + c(35)) / c(10)))
    def alpha_n(V): return c(0.01) * (V + c(55)) / (c(1) - np.exp(-(V + c(55)) / c(10)))
    def beta_n(V): return c(0.125) * np.exp(-(V + c(65)) / c(80))
    def I_Na(V, m, h): return g_Na * np.power(m, c(3)) * h * (V - E_Na)
    def I_K(V, k): return g_K * np.power(k, c(4)) * (V - E_K)
    def I_L(V): return g_L * (V - E_L)

    def dXdt(X, t):
        V, m, h, k = X[:n], X[n:2 * n], X[2 * n:3 * n], X[3 * n:]
        dVdt = (I_inj - I_Na(V, m, h) - I_K(V, k) - I_L(V)) / C_m
        dmdt = alpha_m(V) * (c(1) - m) - beta_m(V) * m
        dhdt = alpha_h(V) * (c(1) - h) - beta_h(V) * h
        dndt = alpha_n(V) * (c(1) - k) - beta_n(V) * k
        return np.concatenate((dVdt, dmdt, dhdt, dndt))

    return dXdt


def odeint_rk4_final(func, y0, t, n, dtype):
    """The tutorial's RK4 loop, keeping the last state and counting spikes (V up through 0)."""
    y = y0
    t_spike = np.full(n, -9999999.0, dtype=dtype)
    count = np.zeros(n, dtype=np.int64)
    for i in range(len(t) - 1):
        dt = dtype(t[i + 1] - t[i])
        k1 = func(y, t[i])
        half_step = t[i] + (t[i + 1] - t[i]) / 2
        k2 = func(y + dt * k1 / dtype(2), half_step)
        k3 = func(y + dt * k2 / dtype(2), half_step)
        k4 = func(y + dt * k3, t[i + 1])
        y1 = y + (k1 + dtype(2) * k2 + dtype(2) * k3 + k4) * (dt / dtype(6))
        fired = (y[:n] < 0) & (y1[:n] >= 0)
        t_spike = t_spike + np.where(fired, dtype(t[i]) - t_spike, dtype(0))
        count += fired
        y = y1
    return y, count


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--dtype", default="f64")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--out", default="")
    a = p.parse_args()
    dtype = np.float64 if a.dtype == "f64" else np.float32
    n = a.n
    t = np.arange(a.steps + 1) * 0.01  # t_k = k * dt in float64, as scanflow's grid
    y0 = np.concatenate([np.full(n, -65.0), np.full(n, 0.05), np.full(n, 0.6), np.full(n, 0.32)]).astype(dtype)
    dXdt = make_dXdt(n, dtype)
    times = []
    for _ in range(a.repeats):
        start = time.perf_counter()
        y, count = odeint_rk4_final(dXdt, y0, t, n, dtype)
        times.append(time.perf_counter() - start)
    sim_s = sorted(times)[len(times) // 2]
    print(f"sim_s: {sim_s:.6f}\nspikes: {int(count.sum())}\nns_per_neuron_step: {1e9 * sim_s / (n * a.steps):.4f}")
    if a.out:
        np.save(a.out, y[:n])


if __name__ == "__main__":
    main()
