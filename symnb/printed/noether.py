"""The paper's printed Noether quantities (Hao 2023, §2.3 and §3.3), typed as printed.

Each function returns the right-hand side exactly as the paper prints it, for N states, in the symbols of
`symnb.printed.loss.sample_symbols`: states ``z_i`` and targets ``z^*_i``, parameters ``theta_1, theta_2`` (real).
Nothing here is derived; `symnb.chapters.ch2_noether` derives its own objects and the notebook compares the two.
"""
from __future__ import annotations

import sympy as sp

from . import loss

__all__ = ["H_eq26", "H_tilde_eq27", "energy_section_2_3", "hamiltonian_formula_eq26_27", "EQUATIONS"]


def H_eq26(n: int) -> sp.Expr:
    """Eq 26, second line: H = (2/N) sum (z_i - z_i*) cos(theta_1 z_i + theta_2) - (1/N) sum (z_i - z_i*)^2.

    Eq 42 restates it letter for letter, so this is `symnb.printed.loss.H` (one transcription, two eq numbers).
    """
    return loss.H(n)


def H_tilde_eq27(n: int) -> sp.Expr:
    """Eq 27, second line: H~ = sum_i e^{z_i*}/(sum_j e^{z_j*}) log(e^{z_i}/(sum_j e^{z_j})).

    Eq 42 restates it letter for letter: `symnb.printed.loss.H_tilde`.
    """
    return loss.H_tilde(n)


def energy_section_2_3(lagrangian: sp.Expr, coords, velocities) -> sp.Expr:
    """§2.3 (unnumbered): H = sum_i (dL/d zdot_i) zdot_i - L, for a Lagrangian in jet symbols."""
    return sum(sp.diff(lagrangian, v) * v for v in velocities) - lagrangian


def hamiltonian_formula_eq26_27(lagrangian: sp.Expr, coords, velocities) -> sp.Expr:
    """Eqs 26 and 27, first line: H = sum_i (dL/d z_i) zdot_i - L (a derivative in z_i, not in zdot_i)."""
    return sum(sp.diff(lagrangian, x) * v for x, v in zip(coords, velocities)) - lagrangian


#: Equation number -> what the paper prints there (for the audit page and the notebook).
EQUATIONS = {
    "eq 4": r"\partial L/\partial z_i = \frac{d}{dt}\,\partial L/\partial \dot z_i",
    "eq 15": r"\bar t = \Phi(t,x,\epsilon),\ \bar x = \Psi(t,x,\epsilon),"
             r"\ J[\bar x] = J[x] + \text{boundary term}",
    "eq 26": r"H = \sum_i \frac{\partial L}{\partial z_i}\dot z_i - L"
             r" = \frac{2}{N}\sum_i (z_i-z_i^*)\cos(\theta_1 z_i+\theta_2) - \frac{1}{N}\sum_i (z_i-z_i^*)^2,"
             r"\quad \frac{dH}{dt}=0",
    "eq 27": r"\tilde H = \sum_i \frac{\partial L}{\partial z_i}\dot z_i - L = \sum_i p_i \log q_i,\quad"
             r" \frac{d\tilde H}{dt} = 0",
}
