"""The symbols of the paper's toy model dz/dt = sigma(theta1 z + theta2) (§3.1) and its adjoint (eqs 5-6, 28).

One place for every symbol the toy, the printed formulas and the chapters share:
  * forward (§3.1-3.2): t, z real; theta1 (non-zero), theta2; the constants c, c1, c2, c3; the group parameter
    epsilon;
  * adjoint (eqs 5-6, renamed above eq 6): u, v, w = a, a_theta1, a_theta2; the constants k1..k6;
  * loss (eq 42-43): z0 = z_i(0), zs = z_i^* (a target), S, S_star (the softmax denominators of eq 27), and the
    N-sample symbols of `sample_symbols`.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

__all__ = ["t", "z", "theta1", "theta2", "c", "c1", "c2", "c3", "epsilon", "u", "v", "w", "k1", "k2", "k3", "k4",
           "k5", "k6", "z0", "zs", "S", "S_star", "sample_symbols"]

t, z = sp.symbols("t z", real=True)
theta1 = sp.Symbol("theta1", real=True, nonzero=True)
theta2 = sp.Symbol("theta2", real=True)
c, c1, c2, c3 = sp.symbols("c c1 c2 c3", real=True)
epsilon = sp.Symbol("epsilon", real=True)
u, v, w = sp.symbols("u v w", real=True)
k1, k2, k3, k4, k5, k6 = sp.symbols("k1 k2 k3 k4 k5 k6", real=True)
zs = sp.Symbol("z^*", real=True)          # one sample's target z_i^*
z0 = sp.Symbol("z_0", real=True)          # its input z_i(0)
S = sp.Symbol("S", positive=True)          # sum_j exp(z_j): the softmax denominator of the predictions
S_star = sp.Symbol("S^*", positive=True)   # sum_j exp(z_j^*): the softmax denominator of the targets


@lru_cache(maxsize=16)
def sample_symbols(n: int) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    """Symbols (z_1..z_n) and (zs_1..zs_n) for the N-sample forms of H and H~ (eqs 26-27, 42).

    Raises:
        ValueError: if ``n`` < 1.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"number of samples must be an integer >= 1, got {n!r}")
    zz = tuple(sp.Symbol(f"z_{i}", real=True) for i in range(1, n + 1))
    ss = tuple(sp.Symbol(f"z^*_{i}", real=True) for i in range(1, n + 1))
    return zz, ss
