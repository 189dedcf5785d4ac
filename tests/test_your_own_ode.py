"""A user's own ODE: symbols matched by name, Polynomial(d)/Basis integrals against textbook answers, routes that
say whether they apply, and a clear error for each misuse of issue 18."""
import pytest
import sympy as sp
import torch

from symnb import (Basis, FirstIntegrals, Lagrangian, NotDecided, Polynomial, Status, classify_routes,
                   conservation_penalty, find_symmetries, first_integrals, informativeness, ode_system)
from symnb.core.first_integrals import ROUTES
from symnb.core.integrals import numeric_drift
from symnb.core.ode import ODESystem
from symnb.core.systems import textbook_system


def _proportional(a, b, system):
    ratio = sp.simplify(a / b)
    return ratio != 0 and not (ratio.free_symbols & {system.t, *system.states})


def _in_span(target, found, system):
    """target is a linear combination (constant coefficients) of the found integrals: least squares over 40 random
    points at one random parameter value, residual at rounding level."""
    gen = torch.Generator().manual_seed(0)
    params = {p: 0.5 + float(torch.rand((), generator=gen)) for p in system.parameters}
    rows, rhs = [], []
    for _ in range(40):
        point = {v: 0.2 + float(torch.rand((), generator=gen)) for v in (system.t, *system.states)}
        point.update(params)
        rows.append([float(i.expr.subs(point)) for i in found])
        rhs.append(float(target.subs(point)))
    m, b = torch.tensor(rows, dtype=torch.float64), torch.tensor(rhs, dtype=torch.float64)
    coef = torch.linalg.lstsq(m, b[:, None]).solution
    return float((m @ coef - b[:, None]).abs().max()) < 1e-9 * max(1.0, float(b.abs().max()))


def _oscillator():
    t = sp.Symbol("t")
    x, y = sp.symbols("x y", cls=sp.Function)
    return ode_system([sp.Eq(x(t).diff(t), y(t)), sp.Eq(y(t).diff(t), -x(t))], t), t, x, y


# ---------------------------------------------------------------------------------------------------- symbols

def test_users_own_symbols_and_x_of_t_give_the_energy():
    system, t, xf, yf = _oscillator()
    x, y = sp.symbols("x y")  # not the system's real symbols: matched by name
    for basis in ([x**2, y**2], [xf(t) ** 2, yf(t) ** 2]):
        found = first_integrals(system, basis=basis)
        assert found.status is Status.COMPLETE and len(found) == 1
        assert _proportional(found[0].expr, x**2 + y**2, system) or _proportional(
            found[0].expr, system.states[0] ** 2 + system.states[1] ** 2, system)


def test_foreign_symbol_is_named_with_the_states():
    system, *_ = _oscillator()
    with pytest.raises(ValueError, match=r"basis\[1\] uses \['w'\], which the system does not know: states are "
                                         r"\['x', 'y'\]"):
        first_integrals(system, basis=[sp.Symbol("x") ** 2, sp.Symbol("w")])


def test_penalty_and_symmetry_ansatz_accept_user_symbols_and_names():
    system, t, *_ = _oscillator()
    x, y = sp.symbols("x y")
    pen = conservation_penalty(x**2 + y**2, system)
    pts = torch.tensor([[0.3, -0.7], [1.1, 0.2]], dtype=torch.float64)
    rot = torch.stack([pts[:, 1], -pts[:, 0]], -1)
    assert float(pen(pts, rot)) < 1e-28 and float(pen(pts, pts)) > 1e-3
    found = find_symmetries(system, {sp.Symbol("t"): (sp.Symbol("t"),), x: (x,), y: (y,)})
    assert found.complete and len(found.generators) >= 2
    lv = textbook_system("lotka_volterra")
    V = sp.Symbol("delta") * sp.Symbol("x") - sp.Symbol("gamma") * sp.log(sp.Symbol("x"))
    by_name = conservation_penalty(V, lv, values={"delta": 0.3, "gamma": 0.7})
    by_symbol = conservation_penalty(V, lv, values={sp.Symbol("delta"): 0.3, sp.Symbol("gamma"): 0.7})
    assert by_name.expr == by_symbol.expr
    assert textbook_system("harmonic_oscillator", {sp.Symbol("omega"): 2}) == textbook_system("harmonic_oscillator",
                                                                                              {"omega": 2})


def test_trivial_and_plural_integrals_are_refused():
    system, *_ = _oscillator()
    with pytest.raises(ValueError, match=r"integral 0 is a constant \(no t, no state\)"):
        conservation_penalty(sp.Integer(0), system)
    found = first_integrals(system, Polynomial(2))
    with pytest.raises(ValueError, match=r"must be one integral, got a FirstIntegrals with 1 integral\(s\); pass "
                                         r"one of them, e.g. result\[0\]"):
        conservation_penalty(found, system)
    with pytest.raises(ValueError, match="must be one integral, got a FirstIntegrals"):
        informativeness(found, system)
    assert len(repr(found)) < 200


def test_lagrangian_with_plain_velocity_symbol_works_and_without_velocities_is_refused():
    s = textbook_system("kepler_planar")
    x, y, vx, vy = sp.symbols("x y vx vy")  # the user's symbols, not the system's
    k = sp.Symbol("k")
    r = sp.sqrt(x**2 + y**2)
    xt, yt = sp.symbols("x_t y_t")  # plain symbols named like the jet symbols: matched by name
    lag = Lagrangian((xt**2 + yt**2) / 2 + k / r, sp.Symbol("t"), (x, y))
    found = first_integrals(s, symmetries=find_symmetries(s, Polynomial(1)), lagrangian=lag)
    X, Y, VX, VY = s.states
    assert any(_proportional(i.expr, X * VY - Y * VX, s) for i in found)
    helper = Lagrangian.mechanical((s.velocity("x") ** 2 + s.velocity(y) ** 2) / 2, -k / r, system=s)
    assert sp.simplify(helper.expr - s.canonical(lag.expr)) == 0
    in_momenta = Lagrangian((vx**2 + vy**2) / 2 + k / r, sp.Symbol("t"), (x, y))
    with pytest.raises(ValueError, match=r"does not depend on the system's velocities \['x_t', 'y_t'\]"):
        first_integrals(s, symmetries=find_symmetries(s, Polynomial(1)), lagrangian=in_momenta)
    with pytest.raises(ValueError, match=r"velocity: 'q' is not a state; states are \['x', 'y', 'vx', 'vy'\]"):
        s.velocity("q")


# ------------------------------------------------------------------------------------------- textbook answers

def test_harmonic_oscillator_polynomial_2_keeps_omega_symbolic():
    s = textbook_system("harmonic_oscillator")
    q, p = s.states
    (omega,) = s.parameters
    found = first_integrals(s, Polynomial(2))
    assert found.complete and len(found) == 1
    assert _proportional(found[0].expr, p**2 + omega**2 * q**2, s)


def test_lotka_volterra_log_integral_from_a_basis_object():
    s = textbook_system("lotka_volterra")
    x, y = sp.symbols("x y")
    found = first_integrals(s, Basis(1, functions=[sp.log(x), sp.log(y)]))
    a, b, g, d = sp.symbols("alpha beta gamma delta", positive=True)
    assert found.complete and len(found) == 1
    assert _proportional(found[0].expr, d * s.states[0] - g * sp.log(s.states[0]) + b * s.states[1]
                         - a * sp.log(s.states[1]), s)


def test_kepler_energy_angular_momentum_and_runge_lenz_with_one_over_r():
    s = textbook_system("kepler_planar")
    x, y, vx, vy = s.states
    (k,) = s.parameters
    r = sp.sqrt(x**2 + y**2)
    found = first_integrals(s, Basis(3, functions=[1 / r], function_degree=1))
    assert found.complete and len(found) == 4
    L = x * vy - y * vx
    for target in ((vx**2 + vy**2) / 2 - k / r, L, vy * L - k * x / r, -vx * L - k * y / r):
        assert _in_span(target, found, s)


def test_rigid_body_two_quadratic_integrals_with_symbolic_moments():
    s = textbook_system("rigid_body")
    w1, w2, w3 = s.states
    I1, I2, I3 = s.parameters
    found = first_integrals(s, Polynomial(2))
    assert found.complete and len(found) == 2
    assert _in_span(I1 * w1**2 + I2 * w2**2 + I3 * w3**2, found, s)
    assert _in_span(I1**2 * w1**2 + I2**2 * w2**2 + I3**2 * w3**2, found, s)


def test_toda_flaschka_integrals_up_to_degree_3():
    s = textbook_system("toda_periodic_3")
    a, b = s.states[:3], s.states[3:]
    found = first_integrals(s, Polynomial(3))
    # sum b, tr L^2, tr L^3, a1 a2 a3 and the products of degree <= 3 of the first two: 7, rank 4 (Flaschka 1974).
    assert found.complete and len(found) == 7
    jac = sp.Matrix([[sp.diff(i.expr, v) for v in s.states] for i in found])
    point = {v: sp.Rational(k + 2, 7) * (-1) ** k for k, v in enumerate(s.states)}
    assert jac.subs(point).rank() == 4
    trL3 = sum(bi**3 for bi in b) + 3 * sum(a[i] ** 2 * (b[i] + b[(i + 1) % 3]) for i in range(3))
    assert _in_span(trL3, found, s) and _in_span(a[0] * a[1] * a[2], found, s)


def test_henon_heiles_kdv_case_second_integral_at_degree_4():
    s = textbook_system("henon_heiles_kdv")
    x, y, px, py = s.states
    A, B = s.parameters
    found = first_integrals(s, Polynomial(4))
    H = (px**2 + py**2 + A * x**2 + B * y**2) / 2 + x**2 * y + 2 * y**3
    assert found.complete and len(found) == 2 and _in_span(H, found, s)
    jac = sp.Matrix([[sp.diff(i.expr, v) for v in s.states] for i in found])
    assert jac.subs({x: 0.3, y: -0.4, px: 0.7, py: 0.2, A: 1, B: 2}).rank() == 2  # a second, independent one
    assert numeric_drift(found[1].expr, s, (0.3, -0.2, 0.1, 0.25), 2.0, {A: 1.0, B: 2.0}).max_drift < 1e-8


def test_lorenz_time_dependent_integral_with_k_solved_for():
    s = textbook_system("lorenz", {"sigma": 10, "b": 20, "r": 28})  # b = 2 sigma (Kus 1983)
    x, y, z = s.states
    found = first_integrals(s, Basis(2, time_factor=True))
    assert found.complete and len(found) == 1
    assert _proportional(found[0].expr, (x**2 - 20 * z) * sp.exp(20 * s.t), s)
    generic = first_integrals(textbook_system("lorenz"), Basis(2, time_factor=True))
    assert generic.complete and len(generic) == 0


def test_sir_integrals():
    s = textbook_system("sir")
    S, I, R = s.states
    beta, gamma = s.parameters
    found = first_integrals(s, Basis(1, functions=[sp.log(S)]))
    assert found.complete and len(found) == 2
    assert _in_span(S + I + R, found, s) and _in_span(gamma * sp.log(S) + beta * R, found, s)


# ------------------------------------------------------------------------------------------------------ routes

def test_routes_say_whether_they_apply_and_a_forced_route_raises_first():
    rb = textbook_system("rigid_body")
    sym = find_symmetries(rb, Polynomial(1))
    applies = classify_routes(rb, symmetries=sym)
    assert set(applies) == set(ROUTES) and applies["basis"] and applies["noether"]
    assert "needs 2 symmetries with t-free, nonzero state parts" in applies["symmetry"]
    with pytest.raises(ValueError, match=r"route 'symmetry' does not apply: the symmetry route for 3 states needs 2"):
        first_integrals(rb, symmetries=sym)
    with pytest.raises(ValueError, match=r"route 'symmetry' does not apply: the symmetry route needs symmetries"):
        first_integrals(rb, Polynomial(2), route="symmetry")
    with pytest.raises(ValueError, match=r"unknown route 'magic'; valid: \['basis', 'noether', 'symmetry'\]"):
        first_integrals(rb, Polynomial(2), route="magic")
    assert classify_routes(rb, Polynomial(2))["basis"] == ""


def test_symmetry_route_past_two_states_by_the_coframe():
    t, u, v, w = sp.symbols("t u v w", real=True)
    s = ODESystem(t, (u, v, w), (u, 2 * v, 3 * w))
    found = first_integrals(s, symmetries=find_symmetries(s, Polynomial(1)))
    assert found.complete and len(found) == 2  # n - 1 integrals from two commuting scalings
    assert _proportional(found[0].expr, (u**3 / w) ** 2, s) and _proportional(found[1].expr, (v**3 / w**2) ** 2, s)


def test_reason_is_said_once_and_undecided_raises():
    s = textbook_system("pendulum")
    found = first_integrals(s, symmetries=find_symmetries(s, Polynomial(1)), throw=False)
    for note in found.reason.split("; "):
        assert found.reason.count(note) == 1
    t, z = sp.symbols("t z", real=True)
    toy = ODESystem(t, (z,), (sp.cos(z),))
    hard = sp.Symbol("t") - sp.integrate(1 / sp.cos(z), z)  # SymPy's own: no budget proves it in 1e-6 s
    with pytest.raises(NotDecided, match="not decided: .* numerically conserved but not proved"):
        first_integrals(toy, basis=[hard], budget_s=1e-6)
    result = first_integrals(toy, basis=[hard], budget_s=1e-6, throw=False)
    assert result.status is Status.UNDECIDED and len(result) == 0


def test_bad_ansatz_and_basis_objects():
    s = textbook_system("harmonic_oscillator")
    with pytest.raises(ValueError, match="Basis degree must be an integer >= 0, got -1"):
        Basis(-1)
    with pytest.raises(ValueError, match="Basis is empty: give degree >= 1 or at least one function"):
        Basis(0)
    with pytest.raises(ValueError, match=r"ansatz must be Polynomial\(d\), Basis\(...\) or a list"):
        first_integrals(s, "x**2")
    with pytest.raises(ValueError, match=r"Polynomial degree for first integrals must be >= 1"):
        first_integrals(s, Polynomial(0))
    with pytest.raises(ValueError, match="Basis\\(time_factor=True\\) needs an autonomous system with polynomial"):
        first_integrals(textbook_system("pendulum"), Basis(2, time_factor=True))
    assert isinstance(first_integrals(s, Polynomial(1)), FirstIntegrals)


# ----------------------------------------------------------------------------------------------------- analyze

def test_analyze_rigid_body_report():
    from symnb import Analysis, analyze
    s = textbook_system("rigid_body")
    report = analyze(s, Polynomial(2), values={"I1": 1.0, sp.Symbol("I2"): 2.0, "I3": 3.0})
    assert isinstance(report, Analysis) and len(report.rows) == 2 and report.integrals.complete
    assert all(r.route == "basis" and r.domain == "" for r in report.rows)
    # With the moments fixed at data values, each integral can tell moment values apart (it is the target's).
    assert all(r.informs.informative for r in report.rows)
    assert report.not_decided == () and any("symmetry route not used" in n for n in report.notes)
    pts = torch.tensor([[0.3, -0.5, 0.8]], dtype=torch.float64)
    w1, w2, w3 = pts[0]
    true = torch.tensor([[(2 - 3) / 1 * w2 * w3, (3 - 1) / 2 * w3 * w1, (1 - 2) / 3 * w1 * w2]], dtype=torch.float64)
    assert all(float(p(pts, true)) < 1e-28 for p in report.penalties)
    md, page = report._repr_markdown_(), report._repr_html_()
    assert md.count("\n| ") == 3 and "<table>" in page and "undefined where" in page


def test_analyze_sir_rule_of_thumb_and_misuse():
    from symnb import analyze
    s = textbook_system("sir")
    report = analyze(s, Basis(1, functions=[sp.log(sp.Symbol("S"))]), values={"beta": 0.5, "gamma": 0.2})
    informs = {sp.sstr(r.expr): r.informs.informative for r in report.rows}
    assert informs["I + R + S"] is False  # conserved by every (beta, gamma): constrains no parameter
    assert sum(informs.values()) == 1
    with pytest.raises(ValueError, match=r"values: 'R0' is not a parameter of the system; parameters are "
                                         r"\['beta', 'gamma'\]"):
        analyze(s, Polynomial(1), values={"R0": 2.0})
    with pytest.raises(ValueError, match=r"ansatz must be Polynomial\(d\) or Basis\(...\), got 2"):
        analyze(s, 2)
    plain = analyze(textbook_system("harmonic_oscillator"), Polynomial(2))
    assert len(plain.rows) == 1  # the symmetry route's (H)**4 is a function of H: not a second row
    assert plain.not_decided == ("penalties and informativeness need values for ['omega']",)
