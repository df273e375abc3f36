"""W2 baseline: the PSST Benchmark notebook's NumPy RK4 on dx_i/dt = sin(x_i t), x_i(0) = 0.

The notebook's loop RK4 (k4 at t[i] + dt) over t = arange(0, 5, 0.01): 500 points, 499 steps,
float64. Only the current state is kept (the notebook's [n, n_t] array would be 4 GB at n = 10^6;
scanflow's run records only the final state too). The solution is identically 0: max |x| is printed.

Usage: /usr/bin/python3 rk4_sin_numpy.py --n N [--steps 499] [--repeats R]
"""
import numpy as np

from common import median_time, parse_args


def f(x, t):
    return np.sin(x * t)


def odeint_rk4_final(func, y0, t):
    y = y0
    for i in range(len(t) - 1):
        dt = t[i + 1] - t[i]
        k1 = func(y, t[i])
        half_step = t[i] + dt / 2
        k2 = func(y + dt * k1 / 2, half_step)
        k3 = func(y + dt * k2 / 2, half_step)
        k4 = func(y + dt * k3, t[i] + dt)
        y = y + (k1 + 2 * k2 + 2 * k3 + k4) * (dt / 6)
    return y


def main():
    a = parse_args(steps=499)
    t = np.arange(a.steps + 1) * 0.01
    sim_s, y = median_time(lambda: odeint_rk4_final(f, np.zeros(a.n), t), a.repeats)
    print(f"sim_s: {sim_s:.6f}\nmax_abs_x: {float(np.abs(y).max()):.3g}")


if __name__ == "__main__":
    main()
