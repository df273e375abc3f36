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
import numpy as np

from common import hh_squid_currents, hh_squid_dXdt, hh_squid_y0, median_time, parse_args


def make_dXdt(n, dtype):
    # Constants in the run's dtype, as the graph's params.
    I_inj = np.array(hh_squid_currents(n)).astype(dtype)
    return hh_squid_dXdt(n, I_inj, np.exp, np.power, np.concatenate, c=dtype)


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
    a = parse_args(steps=10000, hh=True)
    dtype = np.float64 if a.dtype == "f64" else np.float32
    n = a.n
    t = np.arange(a.steps + 1) * 0.01  # t_k = k * dt in float64, as scanflow's grid
    y0 = hh_squid_y0(n).astype(dtype)
    dXdt = make_dXdt(n, dtype)
    sim_s, (y, count) = median_time(lambda: odeint_rk4_final(dXdt, y0, t, n, dtype), a.repeats)
    print(f"sim_s: {sim_s:.6f}\nspikes: {int(count.sum())}\nns_per_neuron_step: {1e9 * sim_s / (n * a.steps):.4f}")
    if a.out:
        np.save(a.out, y[:n])


if __name__ == "__main__":
    main()
