#!/usr/bin/python3
"""Coefficients of the CPU backend's inline exp/expm1 (backends/cpu/inline_exp.cpp).

e^r - 1 = r + r^2 c(r) on r in [-ln2/2, ln2/2] (1 % wider, for the rounding of k). c is fitted by
least squares on Chebyshev nodes, which is within a small factor of the minimax fit; c's values come
from its Taylor series in long double, so the fit does not inherit the cancellation of e^r - 1 - r.
Prints the coefficients as C hex floats and the fit's contribution to the relative error of e^r.
Run: /usr/bin/python3 scripts/exp_coefficients.py
"""
from math import factorial, log

import numpy as np

A = log(2) / 2 * 1.01


def c_exact(r):
    r = np.asarray(r, dtype=np.longdouble)
    s, t = np.zeros_like(r), np.ones_like(r)
    for k in range(30):
        s += t / np.longdouble(factorial(k + 2))
        t = t * r
    return s


def c_hex(v, suffix):
    mantissa, exponent = float(v).hex().split("p")
    return mantissa.rstrip("0").rstrip(".") + "p" + exponent + suffix


nodes = np.cos(np.pi * (np.arange(2000) + 0.5) / 2000) * A
r = np.linspace(-A, A, 200001)
for name, degree, dtype, suffix, ulp in (("f64", 9, np.float64, "", 2.0 ** -53), ("f32", 4, np.float32, "f", 2.0 ** -24)):
    fit = np.polynomial.chebyshev.Chebyshev.fit(nodes, c_exact(nodes).astype(np.float64), degree, domain=[-A, A])
    coef = [dtype(v) for v in fit.convert(kind=np.polynomial.Polynomial, domain=[-A, A], window=[-A, A]).coef]
    p = np.polynomial.polynomial.polyval(r.astype(np.longdouble), np.array(coef, dtype=np.longdouble))
    err = float(np.max(np.abs((p - c_exact(r)) * r * r / np.exp(r.astype(np.longdouble)))))
    print(f"{name} (degree {degree} in c): c = " + ", ".join(c_hex(v, suffix) for v in coef))
    print(f"  fit error in e^r: {err:.2e} relative (half an ulp: {ulp:.2e})")
