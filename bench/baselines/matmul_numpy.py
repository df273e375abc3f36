"""W4 baseline: C = A @ B in NumPy (Debian's numpy, BLAS = OpenBLAS through libblas.so.3), N x N.

A and B are uniform in [0, 1) (generated outside the timing); prints the median of the repeats.
Usage: /usr/bin/python3 matmul_numpy.py --n 2048 [--dtype f64|f32] [--repeats 5]
"""
import argparse

import numpy as np

from common import median_time

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=512)
p.add_argument("--dtype", default="f64")
p.add_argument("--repeats", type=int, default=5)
a = p.parse_args()
dtype = np.float64 if a.dtype == "f64" else np.float32
rng = np.random.default_rng(1)
A = rng.uniform(size=(a.n, a.n)).astype(dtype)
B = rng.uniform(size=(a.n, a.n)).astype(dtype)
med, C = median_time(lambda: A @ B, a.repeats)
print(f"sim_s: {med:.6f}\ngflops: {2 * a.n ** 3 / med * 1e-9:.2f}")
