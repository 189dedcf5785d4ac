"""The paper's eq 42 (the quantities that eq 43 regularizes), typed in as printed.

Hao (2023), §3.5, eq 42 lists six "conserved quantities" for the cosine toy model dz_i/dt = cos(theta1 z_i +
theta2).  They are typed here exactly as printed -- including the paper's own symbols c^i (built from z_i(0)),
u_i, v, w and the constants epsilon, c1-c3, k2, k3, k6 -- because they are what chapter 4 trains and audits.
Nothing here is simplified or corrected; `symnb.toy.loss` differentiates these expressions along the flow.

Conventions (the paper's, kept):
  * ``c^i = atanh(sin(theta1 z_i(0) + theta2)) / theta1`` (printed under eq 42) -- `c_i` below.
  * u_i = dL/dz_i(t), v = dL/dtheta1, w = dL/dtheta2: the adjoint states of eqs 5-6 / 28.  In eq 42, P carries a
    sample index on u while Q and R use v and w without one; we evaluate them per sample along that sample's joint
    (z, u, v, w) flow (eq 28), which is what the index i on P_i, Q_i, R_i asks for.
  * H and H~ are written for N samples with symbols ``z_1..z_N`` (predictions) and ``zs_1..zs_N`` (targets z*).

Eq 16/17 (and eq 43, its explicit form) combine the squared time derivatives of these quantities with the data
MSE; the weights a1..a6 multiply, in this order, F, H, H~, P, Q, R (`EQ43_ORDER`).
"""
from __future__ import annotations

import sympy as sp

__all__ = [
    "t", "z", "zs", "z0", "theta1", "theta2", "u", "v", "w", "eps", "c1", "c2", "c3", "k2", "k3", "k4", "k5", "k6",
    "S", "S_star", "CONSTANTS", "EQ43_ORDER", "c_i", "F", "H", "H_tilde", "H_tilde_summand", "H_TILDE_POOLS", "P",
    "Q", "R", "sample_symbols",
]

# the toy's symbols (`symnb.toy.symbols`), re-exported: the printed formulas are written in them
from ..toy.symbols import (S, S_star, c1, c2, c3, k2, k3, k4, k5, k6, sample_symbols, t, theta1,  # noqa: E402,F401
                           theta2, u, v, w, z, z0, zs)
from ..toy.symbols import epsilon as eps  # noqa: E402

#: The "arbitrary constants" of eq 43's sentence, in a fixed order (k4, k5 are listed by the paper but do not
#: appear in eq 42).
CONSTANTS = (eps, c1, c2, c3, k2, k3, k4, k5, k6)

#: a_1..a_6 of eqs 17/43 multiply the squared derivatives of these quantities, in this order.
EQ43_ORDER = ("F", "H", "H_tilde", "P", "Q", "R")

_phi = theta1 * z + theta2

# printed under eq 42: c^i = tanh^{-1}(sin(theta1 z_i(0) + theta2)) / theta1
c_i = sp.atanh(sp.sin(theta1 * z0 + theta2)) / theta1


def F() -> sp.Expr:
    """F_i of eq 42 (first line), as printed, for one sample z = z_i with c^i from z_i(0)."""
    return (z - sp.atan(sp.sinh(theta1 * ((c1 * eps + 1) * t + c2 * eps + c_i))) / theta1
            + eps * (c1 * sp.cos(_phi) * sp.atanh(sp.sin(_phi)) / theta1 + c3 * sp.cos(_phi)))




def H(n: int) -> sp.Expr:
    """H of eq 42 (= eq 26) for ``n`` samples, as printed: (2/N) sum (z_i - z_i*) cos(.) - (1/N) sum (z_i - z_i*)^2."""
    zz, ss = sample_symbols(n)
    return (sp.Rational(2, n) * sum((a - b) * sp.cos(theta1 * a + theta2) for a, b in zip(zz, ss))
            - sp.Rational(1, n) * sum((a - b) ** 2 for a, b in zip(zz, ss)))


def H_tilde(n: int) -> sp.Expr:
    """H~ of eq 42 (= eq 27) for ``n`` samples: sum_i softmax(z*)_i log softmax(z)_i, as printed."""
    zz, ss = sample_symbols(n)
    p_den = sum(sp.exp(b) for b in ss)
    q_den = sum(sp.exp(a) for a in zz)
    return sum(sp.exp(b) / p_den * sp.log(sp.exp(a) / q_den) for a, b in zip(zz, ss))


def H_tilde_summand() -> sp.Expr:
    """The i-th summand of H~ in eq 42, exp(z_i*)/S* log(exp(z_i)/S), with the two softmax sums as symbols.

    ``H_TILDE_POOLS`` says what S and S* stand for (sums over all samples j of the given per-sample terms).
    """
    return sp.exp(zs) / S_star * sp.log(sp.exp(z) / S)


#: S = sum_j exp(z_j), S* = sum_j exp(z_j*): the pooled sums in `H_tilde_summand`.
H_TILDE_POOLS = {S: sp.exp(z), S_star: sp.exp(zs)}


def P() -> sp.Expr:
    """P_i of eq 42: (k3 eps + 1) u_i - k6 cosh(theta1 (c^i + k2 eps + t))."""
    return (k3 * eps + 1) * u - k6 * sp.cosh(theta1 * (c_i + k2 * eps + t))


def Q() -> sp.Expr:
    """Q_i of eq 42, as printed (note k6 t / theta1; eq 41 prints (k6 + t) / theta1 instead)."""
    x = theta1 * (c_i + k2 * eps + t)
    return (k6 * t / theta1 + (k3 * eps + 1) * v
            - k6 * sp.cosh(x) * (sp.asin(sp.tanh(x)) - theta2) / theta1 ** 2)


def R() -> sp.Expr:
    """R_i of eq 42: (k3 eps + 1) w - k6 cosh(theta1 (c^i + k2 eps + t)) / theta1."""
    return (k3 * eps + 1) * w - k6 * sp.cosh(theta1 * (c_i + k2 * eps + t)) / theta1
