"""The paper's printed Noether quantities (Hao 2023, §2.3 and §3.3), typed as printed.

Each function returns the right-hand side exactly as the paper prints it, for N states, in the symbols that
`symnb.noether` uses: states ``z_i`` and targets ``z^*_i`` (real), parameters ``theta_1, theta_2`` (real).
Nothing here is derived; the library derives its own objects and the notebook compares the two.
"""
from __future__ import annotations

import sympy as sp

__all__ = ["H_eq26", "H_tilde_eq27", "energy_section_2_3", "hamiltonian_formula_eq26_27", "EQUATIONS"]


def _symbols(n: int) -> tuple[list[sp.Symbol], list[sp.Symbol], sp.Symbol, sp.Symbol]:
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"N must be a positive integer, got {n!r}")
    z = [sp.Symbol(f"z_{i}", real=True) for i in range(1, n + 1)]
    zs = [sp.Symbol(f"z^*_{i}", real=True) for i in range(1, n + 1)]
    return z, zs, sp.Symbol("theta_1", real=True), sp.Symbol("theta_2", real=True)


def H_eq26(n: int) -> sp.Expr:
    """Eq 26, second line: H = (2/N) sum (z_i - z_i*) cos(theta_1 z_i + theta_2) - (1/N) sum (z_i - z_i*)^2."""
    z, zs, th1, th2 = _symbols(n)
    return (sp.Rational(2, n) * sum((zi - si) * sp.cos(th1 * zi + th2) for zi, si in zip(z, zs))
            - sp.Rational(1, n) * sum((zi - si) ** 2 for zi, si in zip(z, zs)))


def H_tilde_eq27(n: int) -> sp.Expr:
    """Eq 27, second line: H~ = sum_i e^{z_i*}/(sum_j e^{z_j*}) log(e^{z_i}/(sum_j e^{z_j}))."""
    z, zs, _, _ = _symbols(n)
    p_den = sum(sp.exp(s) for s in zs)
    q_den = sum(sp.exp(x) for x in z)
    return sum(sp.exp(si) / p_den * sp.log(sp.exp(zi) / q_den) for zi, si in zip(z, zs))


def energy_section_2_3(lagrangian: sp.Expr, coords, velocities) -> sp.Expr:
    """§2.3 (unnumbered): H = sum_i (dL/d zdot_i) zdot_i - L, for a Lagrangian in jet symbols."""
    return sum(sp.diff(lagrangian, v) * v for v in velocities) - lagrangian


def hamiltonian_formula_eq26_27(lagrangian: sp.Expr, coords, velocities) -> sp.Expr:
    """Eqs 26 and 27, first line: H = sum_i (dL/d z_i) zdot_i - L (a derivative in z_i, not in zdot_i)."""
    return sum(sp.diff(lagrangian, x) * v for x, v in zip(coords, velocities)) - lagrangian


#: Equation number -> what the paper prints there (for the audit page and the notebook).
EQUATIONS = {
    "eq 4": r"\partial L/\partial z_i = \frac{d}{dt}\,\partial L/\partial \dot z_i",
    "eq 15": r"\bar t = \Phi(t,x,\epsilon),\ \bar x = \Psi(t,x,\epsilon),\ J[\bar x] = J[x] + \text{boundary term}",
    "eq 26": r"H = \sum_i \frac{\partial L}{\partial z_i}\dot z_i - L = \frac{2}{N}\sum_i (z_i-z_i^*)\cos(\theta_1 z_i+\theta_2)"
             r" - \frac{1}{N}\sum_i (z_i-z_i^*)^2,\quad \frac{dH}{dt}=0",
    "eq 27": r"\tilde H = \sum_i \frac{\partial L}{\partial z_i}\dot z_i - L = \sum_i p_i \log q_i,\quad"
             r" \frac{d\tilde H}{dt} = 0",
}
