"""Lie symmetries of textbook ODEs: found by the solver, confirmed by the check, wrong ones rejected."""
import pytest
import sympy as sp

from symnb.core.lie import (Generator, check_symmetry, determining_equations, finite_transformation, lie_series,
                       maps_solutions, numeric_solution_map, prolong, solve_determining_equations,
                       sympy_infinitesimals)
from symnb.core.ode import ODESystem, jet_symbol, ode_system

x = sp.Symbol("x")
y = sp.Function("y")
eps = sp.Symbol("epsilon")


def scalar(rhs):
    return ode_system(sp.Eq(y(x).diff(x), rhs), x)


def oscillator():
    t, q, p = sp.symbols("t q p")
    return ODESystem(t, (q, p), (p, -q))


def annihilates(solution):
    """Every basis generator of a solution must satisfy eq 9 -- a property, not a printed form."""
    return all(check_symmetry(g).holds for g in solution.basis())


def test_exponential_growth_symmetries_found():
    s = scalar(y(x))
    Y = s.states[0]
    sol = solve_determining_equations(determining_equations(s, {x: (x,), Y: (Y,)}))
    assert len(sol.constants) == 3 and annihilates(sol)
    # Known generators: translation d/dx, scaling y d/dy, and x d/dx + y log(y) d/dy all lie in the span.
    T, (Yc,) = sol.generator.time, sol.generator.coefficients
    span = {sp.expand(T).coeff(c) for c in sol.constants} | {sp.expand(Yc).coeff(c) for c in sol.constants}
    assert {1, x, Y, Y * sp.log(Y)} <= span


def test_homogeneous_equation_scaling_found():
    s = scalar(y(x) / x)
    X, Y = x, s.states[0]
    sol = solve_determining_equations(determining_equations(s, {x: (x,), Y: (Y,)}))
    assert annihilates(sol)
    scaling = Generator(s, X, (Y,))
    assert check_symmetry(scaling).holds
    # The scaling is in the solution space: it solves the determining equations for some constants.
    params = sp.solve([sp.expand(sol.generator.time - X).subs(x, 2), sp.expand(sol.generator.time - X).subs(x, 3),
                       sp.expand(sol.generator.coefficients[0] - Y).subs(Y, 5)], sol.constants, dict=True)
    assert params


def test_riccati_scaling_confirmed_and_translation_rejected():
    s = scalar(y(x) ** 2 - 2 / x**2)
    Y = s.states[0]
    assert check_symmetry(Generator(s, x, (-Y,))).holds
    wrong = check_symmetry(Generator(s, 1, (0,)))  # not autonomous: no translation in x
    assert not wrong.holds and wrong.statuses == ("nonzero",)


def test_bernoulli_linearising_symmetry_confirmed():
    s = scalar(y(x) + y(x) ** 3)
    Y = s.states[0]
    # w = y**-2 linearises the equation: w' = -2 w - 2, whose homogeneous solution exp(-2x) gives a symmetry.
    assert check_symmetry(Generator(s, 0, (sp.exp(-2 * x) * Y**3,))).holds
    assert not check_symmetry(Generator(s, 0, (sp.exp(2 * x) * Y**3,))).holds


def test_harmonic_oscillator_two_dimensional():
    s = oscillator()
    t, (q, p) = s.t, s.states
    assert check_symmetry(Generator(s, 1, (0, 0))).holds  # time translation
    assert check_symmetry(Generator(s, 0, (p, -q))).holds  # rotation of the phase plane
    assert check_symmetry(Generator(s, 0, (q, p))).holds  # scaling (linear system)
    assert check_symmetry(Generator(s, 0, (sp.cos(t), -sp.sin(t)))).holds  # adding a solution
    bad = check_symmetry(Generator(s, t, (0, 0)))
    assert not bad.holds


def test_prolongation_matches_direct_change_of_variables():
    # For the scaling x -> e^a x, y -> e^{2a} y, y' transforms as e^{a} y': coefficient of d/dy' is y'.
    s = scalar(y(x))
    Y = s.states[0]
    pr = prolong(Generator(s, x, (2 * Y,)), order=2)
    assert sp.simplify(pr.coefficients[0][0] - jet_symbol(Y, x)) == 0
    assert sp.simplify(pr.coefficients[1][0] - 0 * jet_symbol(Y, x, 2)) == 0  # y'' scales as e^0


def test_lie_series_and_flow_agree():
    s = scalar(y(x))
    Y = s.states[0]
    g = Generator(s, 1, (Y,))  # translation in x combined with scaling of y: a symmetry of y' = y
    flow = finite_transformation(g, eps)
    assert sp.simplify(flow.time - (x + eps)) == 0 and sp.simplify(flow.states[0] - Y * sp.exp(eps)) == 0
    series = lie_series(g, Y, eps, 5)
    assert sp.expand(sp.series(flow.states[0], eps, 0, 6).removeO() - series) == 0
    assert all(r == 0 for r in maps_solutions(flow, s))
    # The uniform scaling x d/dx + y d/dy is not a symmetry of y' = y: its flow maps solutions elsewhere.
    bad = finite_transformation(Generator(s, x, (Y,)), eps)
    assert any(r != 0 for r in maps_solutions(bad, s))


def test_non_symmetry_does_not_map_solutions():
    s = scalar(y(x))
    Y = s.states[0]
    mapping = {x: x, Y: Y + eps * x}  # shear: not a symmetry of y' = y
    assert any(sp.simplify(r) != 0 for r in maps_solutions(mapping, s))
    check = numeric_solution_map(mapping, s, [1.0], 1.0, {eps: 0.3})
    assert check.max_error > 1e-2
    good = numeric_solution_map({x: x + eps, Y: Y * sp.exp(eps)}, s, [1.0], 1.0, {eps: 0.3})
    assert good.max_error < 1e-9


def test_sympy_infinitesimals_are_symmetries_too():
    s = scalar(y(x) / x)
    for xi, eta in sympy_infinitesimals(s):
        assert check_symmetry(Generator(s, xi, (eta,))).holds


@pytest.mark.parametrize("order", [0, -1, 1.5])
def test_bad_prolongation_order(order):
    with pytest.raises(ValueError, match=f"order must be an integer >= 1, got {order!r}"):
        prolong(Generator(scalar(y(x)), 1, (0,)), order)


def test_bad_ansatz_variable_named():
    s = scalar(y(x))
    with pytest.raises(ValueError, match="ansatz key w is not a variable"):
        determining_equations(s, {sp.Symbol("w"): (x,)})


def test_sympy_infinitesimals_refuses_systems():
    with pytest.raises(ValueError, match=r"one first-order ODE; this system has states \[q, p\]"):
        sympy_infinitesimals(oscillator())


def test_separation_needs_one_variable_per_unknown():
    s = scalar(y(x))
    with pytest.raises(ValueError, match=r"unknown T\(x, y\) depends on 2 variables"):
        solve_determining_equations(determining_equations(s))
