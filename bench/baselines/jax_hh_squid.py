"""JAX baseline for the GPU benchmark: hh-squid as one jit(lax.scan) over the time grid.

The model, constants, currents I_i = 20 i/(N-1), initial state and RK4 order are those of scanflow's
`hh-squid` (models/hh_squid.cpp); like the scanflow run it is compared with, it keeps the final
state and counts upward 0 mV crossings (no per-step trajectory). The scan is compiled once (not
timed), then run --repeats times; the time is the median, after block_until_ready.

Usage: python3 jax_hh_squid.py --n N --steps S [--dtype f64|f32] [--repeats R]
Prints one line: jax <device> n=N steps=S dtype=D sim_s=... spikes=... ns_per_neuron_step=...
"""
import argparse
import statistics
import time

import jax
import jax.numpy as jnp


def run(n, steps, dtype, repeats):
    c = lambda x: jnp.asarray(x, dtype)
    C_m, g_Na, E_Na, g_K, E_K, g_L, E_L = map(c, (1.0, 120.0, 50.0, 36.0, -77.0, 0.3, -54.387))
    I_inj = (20.0 * jnp.arange(n) / max(n - 1, 1)).astype(dtype)
    dt = c(0.01)

    def deriv(V, m, h, k):
        alpha_m = c(0.1) * (V + 40) / (1 - jnp.exp(-(V + 40) / 10))
        beta_m = c(4) * jnp.exp(-(V + 65) / 18)
        alpha_h = c(0.07) * jnp.exp(-(V + 65) / 20)
        beta_h = 1 / (1 + jnp.exp(-(V + 35) / 10))
        alpha_n = c(0.01) * (V + 55) / (1 - jnp.exp(-(V + 55) / 10))
        beta_n = c(0.125) * jnp.exp(-(V + 65) / 80)
        I_Na = g_Na * m ** 3 * h * (V - E_Na)
        I_K = g_K * k ** 4 * (V - E_K)
        I_L = g_L * (V - E_L)
        return ((I_inj - I_Na - I_K - I_L) / C_m, alpha_m * (1 - m) - beta_m * m,
                alpha_h * (1 - h) - beta_h * h, alpha_n * (1 - k) - beta_n * k)

    def step(carry, _):
        y, count = carry
        k1 = deriv(*y)
        k2 = deriv(*[a + dt * b / 2 for a, b in zip(y, k1)])
        k3 = deriv(*[a + dt * b / 2 for a, b in zip(y, k2)])
        k4 = deriv(*[a + dt * b for a, b in zip(y, k3)])
        y1 = tuple(a + (p + 2 * q + 2 * r + s) * (dt / 6) for a, p, q, r, s in zip(y, k1, k2, k3, k4))
        fired = (y[0] < 0) & (y1[0] >= 0)
        return (y1, count + fired.astype(jnp.int32)), None

    @jax.jit
    def simulate(y0):
        (y, count), _ = jax.lax.scan(step, (y0, jnp.zeros(n, jnp.int32)), None, length=steps)
        return y, count

    y0 = (jnp.full(n, -65.0, dtype), jnp.full(n, 0.05, dtype), jnp.full(n, 0.6, dtype), jnp.full(n, 0.32, dtype))
    simulate(y0)[1].block_until_ready()  # compile
    times, spikes = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        y, count = simulate(y0)
        count.block_until_ready()
        times.append(time.perf_counter() - t0)
        spikes = int(count.sum())
    return statistics.median(times), spikes


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=1000000)
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--dtype", default="f64")
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    if a.dtype == "f64":
        jax.config.update("jax_enable_x64", True)
    dtype = jnp.float64 if a.dtype == "f64" else jnp.float32
    s, spikes = run(a.n, a.steps, dtype, a.repeats)
    print(f"jax {jax.devices()[0].device_kind} n={a.n} steps={a.steps} dtype={a.dtype} sim_s={s:.4f} "
          f"spikes={spikes} ns_per_neuron_step={s * 1e9 / (a.n * a.steps):.4f}")


if __name__ == "__main__":
    main()
