import pytest
import sympy as sp
import torch

from symnb.core.integrals import conservation_check, is_zero, numeric_drift
from symnb.core.bridge import integrate, resolve_device
from symnb.core.ode import ODESystem, jet_symbol, ode_system, total_derivative

t = sp.Symbol("t")
z = sp.Function("z")
w = sp.Function("w")


def test_parse_and_total_derivative_on_and_off_shell():
    s = ode_system([sp.Eq(z(t).diff(t), w(t)), sp.Eq(w(t).diff(t), -z(t))], t)
    Z, W = s.states
    energy = Z**2 + W**2
    assert sp.simplify(total_derivative(energy, s)) == 0
    off = total_derivative(energy, s, on_shell=False)
    assert off == 2 * Z * jet_symbol(Z, t) + 2 * W * jet_symbol(W, t)


def test_oscillator_energy_conserved_symbolically_and_numerically():
    s = ode_system([sp.Eq(z(t).diff(t), w(t)), sp.Eq(w(t).diff(t), -z(t))], t)
    Z, W = s.states
    assert conservation_check(Z**2 + W**2, s).conserved
    assert numeric_drift(Z**2 + W**2, s, [1.0, 0.0], 10.0).max_drift < 1e-9
    wrong = conservation_check(Z**2 + 2 * W**2, s)
    assert wrong.status == "nonzero"
    assert numeric_drift(Z**2 + 2 * W**2, s, [1.0, 0.0], 10.0).max_drift > 0.5


def test_integrate_matches_closed_form():
    k = sp.Symbol("k")
    s = ode_system(sp.Eq(z(t).diff(t), k * z(t)), t)
    traj = integrate(s, [2.0], torch.linspace(0, 1, 5, dtype=torch.float64), {k: -0.7})
    exact = 2.0 * torch.exp(-0.7 * traj.times)
    assert torch.allclose(traj.states[:, 0], exact, rtol=1e-10, atol=0)


def test_is_zero_detects_hidden_identity():
    a = sp.Symbol("a")
    assert is_zero(sp.sin(a) ** 2 + sp.cos(a) ** 2 - 1) == "zero"
    assert is_zero(sp.sin(a) - a) == "nonzero"


def test_not_an_ode():
    with pytest.raises(ValueError, match="not a derivative: not an ODE"):
        ode_system(sp.Eq(z(t), 1), t)


def test_unknown_variable_named():
    with pytest.raises(ValueError, match=r"unknown variable \['q\(t\)'\]"):
        ode_system(sp.Eq(z(t).diff(t), sp.Function("q")(t)), t)


def test_second_order_refused():
    with pytest.raises(ValueError, match="has order 2.*order must be 1"):
        ode_system(sp.Eq(z(t).diff(t, 2), -z(t)), t)


def test_wrong_independent_variable():
    s = sp.Symbol("s")
    with pytest.raises(ValueError, match=r"with respect to \(s,\), not the variable t=t"):
        ode_system(sp.Eq(sp.Function("z")(s).diff(s), 1), t)


def test_jet_order_must_be_positive():
    with pytest.raises(ValueError, match="derivative order must be an integer >= 1, got 0"):
        jet_symbol(sp.Symbol("z"), t, 0)


def test_missing_parameter_value():
    k = sp.Symbol("k")
    s = ode_system(sp.Eq(z(t).diff(t), k * z(t)), t)
    with pytest.raises(ValueError, match=r"no numeric value for parameter\(s\) \[k\]"):
        integrate(s, [1.0], [0.0, 1.0])


def test_unknown_solver_lists_valid():
    s = ODESystem(t, (sp.Symbol("x"),), (1,))
    with pytest.raises(ValueError, match="unknown solver 'rk45'; valid: .*dopri5"):
        integrate(s, [0.0], [0.0, 1.0], method="rk45")


def test_device_errors():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device='cuda' was asked for but torch sees no CUDA device"):
            resolve_device("cuda")


def test_canonical_matches_user_symbols_by_name():
    t = sp.Symbol("t")
    x, y = sp.Function("x"), sp.Function("y")
    w = sp.Symbol("w", positive=True)
    system = ode_system([sp.Eq(x(t).diff(t), y(t)), sp.Eq(y(t).diff(t), -w**2 * x(t))], t)
    X, Y, W = sp.symbols("x y w")  # the user's own symbols: no assumptions, so not equal to the system's
    assert X not in system.states
    got = system.canonical(X**2 + W**2 * Y**2)
    assert got.free_symbols <= {*system.states, *system.parameters}
    assert sp.expand(got - (system.states[0]**2 + system.parameters[0]**2 * system.states[1]**2)) == 0
    assert system.canonical(x(t) * x(t).diff(t)) == system.states[0] * system.derivatives[0]


def test_canonical_names_foreign_symbols():
    t = sp.Symbol("t")
    x = sp.Function("x")
    system = ode_system(sp.Eq(x(t).diff(t), -x(t)), t)
    with pytest.raises(ValueError, match=r"basis\[1\] uses \['z'\], which the system does not know: states are \['x'\]"):
        system.canonical(sp.Symbol("z") * sp.Symbol("x"), what="basis[1]")
    with pytest.raises(TypeError, match=r"integral must be a SymPy expression or a number, got str"):
        system.canonical("x", what="integral")
