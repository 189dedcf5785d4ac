"""The paper's printed formulas for the forward dynamics (§3.1-3.2, eqs 19-25), typed in as printed.

These are the objects under audit; `symnb.chapters.ch1_forward` derives its own versions and compares.
Symbols: t, z real; theta1, theta2 real; c, c1, c2, c3 constants; epsilon the group parameter.
"""
from __future__ import annotations

import sympy as sp

from ..toy.symbols import c, c1, c2, c3, epsilon, t, theta1, theta2, z  # noqa: F401  (re-exported)

T = sp.Function("T")(t, z)
Z = sp.Function("Z")(t, z)

_arg = theta1 * z + theta2

#: §3.1, unnumbered: the closed-form solution of dz/dt = cos(theta1 z + theta2).
closed_form = (sp.asin(sp.tanh(theta1 * (c + t))) - theta2) / theta1

#: eq 19, last line: the linearized symmetry condition for general T(t, z), Z(t, z).
eq19 = (sp.Derivative(Z, t) + (sp.Derivative(Z, z) - sp.Derivative(T, t) - sp.Derivative(T, z) * sp.cos(_arg))
        * sp.cos(_arg) + theta1 * Z * sp.sin(_arg))

#: eq 20, right-hand form, with T = T(t), Z = Z(z) (after dividing eq 19 by cos).
_Tt, _Zz = sp.Function("T")(t), sp.Function("Z")(z)
eq20 = sp.Derivative(_Zz, z) - sp.Derivative(_Tt, t) + theta1 * _Zz * sp.tan(_arg)

#: eq 21: the infinitesimals.
eq21_T = c1 * t + c2
eq21_Z = c1 * sp.cos(_arg) * sp.atanh(sp.sin(_arg)) / theta1 + c3 * sp.cos(_arg)

#: eq 23: the printed "group transformation".
eq23_t = c2 * epsilon + (c1 * epsilon + 1) * t
eq23_z = z + epsilon * eq21_Z

#: eq 24: the two printed expressions for d z_bar / d t_bar, with t_bar written as t.
eq24_lhs = sp.cos(sp.asin(sp.tanh(theta1 * (c + t))))
eq24_antiderivative = sp.atan(sp.sinh(theta1 * (c + t))) / theta1

#: eq 25: the "conserved quantity" F, second line (in the original variables, group parameter epsilon).
eq25 = (z - sp.atan(sp.sinh(theta1 * ((c1 * epsilon + 1) * t + c2 * epsilon + c))) / theta1
        + epsilon * eq21_Z)
