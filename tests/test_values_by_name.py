"""`values` are matched to the system's parameters by name in `integrate` and `numeric_drift`, as in
`conservation_penalty`: a name, a user's Symbol (any assumptions) or the system's own Symbol all work; an unknown
name raises one error listing the system's parameters, before any integration."""
import math

import pytest
import sympy as sp
import torch

from symnb.core.bridge import integrate
from symnb.core.integrals import numeric_drift
from symnb.core.ode import ode_system

t = sp.Symbol("t")
X, V = sp.Function("x"), sp.Function("v")
OMEGA = sp.Symbol("omega", positive=True)
# The harmonic oscillator x' = v, v' = -omega^2 x: x(t) = cos(omega t) from (1, 0); E = v^2 + omega^2 x^2.
OSC = ode_system([sp.Eq(X(t).diff(t), V(t)), sp.Eq(V(t).diff(t), -OMEGA**2 * X(t))], t)
TIMES = torch.linspace(0.0, 2.0, 9, dtype=torch.float64)


@pytest.mark.parametrize("key", ["omega", sp.Symbol("omega"), sp.Symbol("omega", real=True), OMEGA])
def test_integrate_accepts_a_name_or_any_symbol_of_that_name(key):
    traj = integrate(OSC, [1.0, 0.0], TIMES, {key: 1.5})
    assert torch.allclose(traj.states[:, 0], torch.cos(1.5 * TIMES), rtol=0, atol=1e-9)


def test_numeric_drift_with_names_and_the_users_own_symbols():
    x, v, omega = sp.symbols("x v omega")  # not the system's (real) symbols: matched by name
    energy = v**2 + omega**2 * x**2
    assert numeric_drift(energy, OSC, [1.0, 0.0], 5.0, {"omega": 1.5}).max_drift < 1e-9
    # A wrong candidate still drifts: the name matching does not make everything look conserved.
    assert numeric_drift(v**2 + x**2, OSC, [1.0, 0.0], 5.0, {"omega": 1.5}).max_drift > 0.5
    # x(t) means the state x; a further symbol of the quantity (a level c) may be given by name too.
    c = sp.Symbol("c")
    drift = numeric_drift(V(t)**2 + omega**2 * X(t)**2 - c, OSC, [1.0, 0.0], 5.0, {"omega": 1.5, "c": 2.0})
    assert drift.max_drift < 1e-9 and math.isclose(float(drift.values[0]), 1.5**2 - 2.0, abs_tol=1e-12)


def test_unknown_name_lists_the_parameters():
    with pytest.raises(ValueError, match=r"values: 'omgea' is not a parameter of the system; its parameters are "
                                         r"\['omega'\]"):
        integrate(OSC, [1.0, 0.0], TIMES, {"omgea": 1.5})
    with pytest.raises(ValueError, match=r"values: 'omgea' is not a parameter of the system; its parameters are "
                                         r"\['omega'\]"):
        numeric_drift(sp.Symbol("x")**2, OSC, [1.0, 0.0], 5.0, {"omgea": 1.5})


def test_a_misspelt_symbol_key_still_fails_loudly():
    # Symbol keys that name nothing are allowed (one dict may serve several quantities), but then the parameter
    # they were meant for has no number: an error, never a silent default.
    with pytest.raises(ValueError, match=r"no numeric value for parameter\(s\) \[omega\]"):
        integrate(OSC, [1.0, 0.0], TIMES, {sp.Symbol("omgea"): 1.5})


def test_the_same_parameter_twice_and_bad_keys_are_refused():
    with pytest.raises(ValueError, match=r"values: two keys name the parameter 'omega'; give it once"):
        integrate(OSC, [1.0, 0.0], TIMES, {"omega": 1.5, OMEGA: 2.0})
    with pytest.raises(ValueError, match=r"values: key 3 must be a parameter's name or Symbol; the system's "
                                         r"parameters are \['omega'\]"):
        integrate(OSC, [1.0, 0.0], TIMES, {3: 1.5})
    with pytest.raises(ValueError, match=r"values must be a mapping \{name or Symbol: number\}, got list"):
        integrate(OSC, [1.0, 0.0], TIMES, [1.5])
