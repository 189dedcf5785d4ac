"""The paper's printed formulas for the backpropagation (adjoint) dynamics (§2.1 and §3.4, eqs 5-6, 28-42).

Typed in as printed: these are the objects under audit; `symnb.chapters.ch3_adjoint` derives its own versions and compares.
Symbols: t, z, theta1, theta2 are chapter 1's (`symnb.printed.forward`); u, v, w are the adjoints a, a_theta1,
a_theta2 (the paper's renaming above eq 6); k1..k6 and c the paper's constants; epsilon the group parameter;
``sigma`` an undefined activation for the generic eq 6.  Derivatives of the unknown infinitesimals are written
as SymPy ``Derivative`` objects of ``T(t), U(u), V(v), W(w), Z(z)`` (the paper's separable ansatz, stated
before eq 32).
"""
from __future__ import annotations

import sympy as sp

from ..toy.symbols import c, epsilon, k1, k2, k3, k4, k5, k6, t, theta1, theta2, u, v, w, z  # noqa: F401

__all__ = [
    "t", "z", "u", "v", "w", "theta1", "theta2", "epsilon", "c", "k1", "k2", "k3", "k4", "k5", "k6", "sigma",
    "T", "U", "V", "W", "Z", "eq6", "eq28", "eq32", "eq32_last", "eq33_z_term", "eq34", "eq35_line", "eq35_T", "eq35_U", "eq36",
    "eq37", "eq38", "eq39_generator", "eq39", "eq40_z", "eq40", "u_closed_form", "eq41", "eq42",
]

sigma = sp.Function("sigma")
T = sp.Function("T")(t)
U = sp.Function("U")(u)
V = sp.Function("V")(v)
W = sp.Function("W")(w)
Z = sp.Function("Z")(z)

_arg = theta1 * z + theta2
_x = sp.Symbol("x", real=True)
#: sigma'(theta1 z + theta2), the derivative "with respect to its argument" (text under eq 6).
_sigma_prime = sp.Subs(sp.Derivative(sigma(_x), _x), _x, _arg)

#: eq 6, right-hand sides for general sigma, in the order (u, v, w, z) as printed.
eq6 = {
    u: -theta1 * u * _sigma_prime,
    v: -z * u * _sigma_prime,
    w: -u * _sigma_prime,
    z: sigma(_arg),
}

#: eq 28: the adjoint system for sigma = cos, right-hand sides keyed by state.
eq28 = {
    u: u * theta1 * sp.sin(_arg),
    v: u * z * sp.sin(_arg),
    w: u * sp.sin(_arg),
    z: sp.cos(_arg),
}

#: eq 32, first line: Gamma^(1) Delta_1 on Delta_1 = 0 with U_[t] = u_t (U_u - T_t) and u_t = u theta1 sin.
eq32 = (-theta1 * sp.sin(_arg) * U - u * theta1**2 * sp.cos(_arg) * Z
        + u * theta1 * sp.sin(_arg) * (sp.Derivative(U, u) - sp.Derivative(T, t)))
#: eq 32, last line (after dividing by theta1 sin): u (U_u - T_t) - U - u theta1 cot(.) Z = 0.
eq32_last = u * (sp.Derivative(U, u) - sp.Derivative(T, t)) - U - u * theta1 * sp.cot(_arg) * Z

#: text after eq 33: "cot(theta1 z + theta2) Z = constant".
eq33_z_term = sp.cot(_arg) * Z

#: eq 34: U after choosing Z = 0.
eq34 = k1 * u * sp.log(u) + k3 * u

#: eq 35, third line equated to its fourth: theta1 sin Z + cos (Z_z - T_t) "= cos T_t" (printed as equal).
eq35_line = (theta1 * sp.sin(_arg) * Z + sp.cos(_arg) * (sp.Derivative(Z, z) - sp.Derivative(T, t)),
             sp.cos(_arg) * sp.Derivative(T, t))
#: eq 35, last line: T = k2, U = k3 u.
eq35_T = k2
eq35_U = k3 * u

#: eq 36, last line: Gamma^(1) Delta_2 on Delta_2 = 0 with V_[t] = v_t (V_v - T_t), v_t = u z sin.
eq36 = (-z * sp.sin(_arg) * U - (u * sp.sin(_arg) + u * z * theta1 * sp.cos(_arg)) * Z
        + u * z * sp.sin(_arg) * (sp.Derivative(V, v) - sp.Derivative(T, t)))

#: eq 37 and eq 38: V and W.
eq37 = k3 * v + k4
eq38 = k3 * w + k5

#: the generator printed after eq 38: (T, U, V, W, Z) components.
eq39_generator = {t: k2, u: k3 * u, v: k3 * v + k4, w: k3 * w + k5, z: sp.S.Zero}

#: eq 39: the printed "point transformations e^{eps X}".
eq39 = {
    t: k2 * epsilon + t,
    u: (k3 * epsilon + 1) * u,
    v: k4 * epsilon + (k3 * epsilon + 1) * v,
    w: k5 * epsilon + (k3 * epsilon + 1) * w,
    z: z,
}

#: between eqs 39 and 40: z_bar(t_bar); here t stands for t_bar.
eq40_z = (sp.asin(sp.tanh(theta1 * (c + t))) - theta2) / theta1

#: eq 40: d u_bar/d t_bar, d v_bar/d t_bar, d w_bar/d t_bar; u stands for u_bar, t for t_bar.
eq40 = {
    u: u * theta1 * sp.tanh(theta1 * (c + t)),
    v: u * eq40_z * sp.tanh(theta1 * (c + t)),
    w: u * sp.tanh(theta1 * (c + t)),
}

#: after eq 40: u_bar = k6 cosh(theta1 (c + t_bar)); t stands for t_bar.
u_closed_form = k6 * sp.cosh(theta1 * (c + t))

_shifted = theta1 * (c + k2 * epsilon + t)

#: eq 41, last line of each of P, Q, R (in the original t, with t_bar = k2 eps + t substituted).
eq41 = {
    "P": (k3 * epsilon + 1) * u - k6 * sp.cosh(_shifted),
    "Q": ((k6 + t) / theta1 + (k3 * epsilon + 1) * v
          - k6 * sp.cosh(_shifted) * (sp.asin(sp.tanh(_shifted)) - theta2) / theta1**2),
    "R": (k3 * epsilon + 1) * w - k6 * sp.cosh(_shifted) / theta1,
}

#: eq 42: P_i, Q_i, R_i for one sample (c^i left as the constant c; the paper defines c^i from z_i(0)).
eq42 = {
    "P": (k3 * epsilon + 1) * u - k6 * sp.cosh(_shifted),
    "Q": (k6 * t / theta1 + (k3 * epsilon + 1) * v
          - k6 * sp.cosh(_shifted) * (sp.asin(sp.tanh(_shifted)) - theta2) / theta1**2),
    "R": (k3 * epsilon + 1) * w - k6 * sp.cosh(_shifted) / theta1,
}
