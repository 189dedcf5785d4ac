"""Euler-Lagrange operator, variational symmetries and Noether charges; the paper's H and H~ (eqs 4, 15, 26, 27)."""
from pathlib import Path

import pytest
import sympy as sp

from symnb.core.audit import verdict_table
from symnb.core.integrals import conservation_check, numeric_drift
from symnb.core.noether import (Lagrangian, conserved_on_shell, energy, energy_flux, euler_lagrange,
                                euler_lagrange_sympy, euler_lagrange_system, noether_charge, substitute_dynamics,
                                time_translation, variational_check)
from symnb.chapters.ch2_noether import (THETA, ce_h_derivative, cosine_model, cross_entropy_lagrangian,
                                        flow_derivative, h_as_printed, mse_h_derivative, mse_lagrangian,
                                        noether_verdicts, residual_lagrangian, softmax, states, targets,
                                        witness_point)
from symnb.core.ode import jet_symbol, total_derivative
from symnb.printed.noether import H_eq26, H_tilde_eq27, energy_section_2_3, hamiltonian_formula_eq26_27

t = sp.Symbol("t", real=True)
x, y = sp.symbols("x y", real=True)
m, k, w, g = sp.symbols("m k omega gamma", positive=True)
xt, yt = jet_symbol(x, t), jet_symbol(y, t)
ROOT = Path(__file__).resolve().parents[1]


def free_particle():
    return Lagrangian(m * xt**2 / 2, t, (x,))


def oscillator():
    return Lagrangian(xt**2 / 2 - w**2 * x**2 / 2, t, (x,))


def central(potential):
    return Lagrangian(m * (xt**2 + yt**2) / 2 - potential, t, (x, y))


def caldirola_kanai():
    """Damped oscillator x'' + gamma x' + omega^2 x = 0 from L = e^{gamma t} (x_t^2 - omega^2 x^2) / 2."""
    return Lagrangian(sp.exp(g * t) * (xt**2 - w**2 * x**2) / 2, t, (x,))


def conserved(quantity, lag):
    return conserved_on_shell(lag, quantity).conserved


def test_euler_lagrange_known_equations():
    xtt = jet_symbol(x, t, 2)
    assert euler_lagrange(free_particle()) == (-m * xtt,)
    assert sp.expand(euler_lagrange(oscillator())[0] - (-w**2 * x - xtt)) == 0
    damped = euler_lagrange(caldirola_kanai())[0]
    assert sp.simplify(damped + sp.exp(g * t) * (xtt + g * xt + w**2 * x)) == 0


@pytest.mark.parametrize("lag", [free_particle(), oscillator(), caldirola_kanai(),
                                 central(sp.Function("V")(x**2 + y**2)), central(-k / sp.sqrt(x**2 + y**2)),
                                 mse_lagrangian(1), mse_lagrangian(3), cross_entropy_lagrangian(1),
                                 cross_entropy_lagrangian(3)],
                         ids=["free", "oscillator", "damped", "central-V", "kepler", "mse1", "mse3", "ce1", "ce3"])
def test_euler_lagrange_agrees_with_sympy(lag):
    for ours, theirs in zip(euler_lagrange(lag), euler_lagrange_sympy(lag), strict=True):
        assert sp.simplify(ours - theirs) == 0


def test_free_particle_momentum_energy_and_boost():
    lag = free_particle()
    assert noether_charge(lag, lag.generator(0, (1,))).charge == m * xt
    tt = noether_charge(lag, time_translation(lag))
    assert sp.expand(tt.charge + energy(lag)) == 0 and sp.expand(energy(lag) - m * xt**2 / 2) == 0
    boost = noether_charge(lag, lag.generator(0, (t,)), gauge=m * x)
    assert sp.expand(boost.charge - (m * t * xt - m * x)) == 0
    for charge in (tt, boost):
        assert charge.conserved_on_shell
    assert conserved(m * xt, lag) and conserved(m * t * xt - m * x, lag)


def test_wrong_symmetry_or_gauge_is_rejected():
    lag = free_particle()
    check = variational_check(lag, lag.generator(0, (t,)))  # the boost without its gauge term
    assert not check.holds and check.status == "nonzero" and sp.simplify(check.residual - m * xt) == 0
    with pytest.raises(ValueError, match="not a variational symmetry"):
        noether_charge(lag, lag.generator(0, (t,)))
    with pytest.raises(ValueError, match="not a variational symmetry"):
        osc = oscillator()
        noether_charge(osc, osc.generator(0, (1,)))  # translation: the spring breaks it
    assert not variational_check(lag, lag.generator(0, (x,))).holds  # scaling


def test_wrong_charge_is_not_conserved():
    assert conserved(xt**2 / 2 + w**2 * x**2 / 2, oscillator())
    assert not conserved(xt**2 / 2 - w**2 * x**2 / 2, oscillator())  # the Lagrangian, not the energy
    assert not conserved(m * x, free_particle())
    assert not conserved(xt, oscillator())


def test_oscillator_energy_from_time_translation():
    lag = oscillator()
    charge = noether_charge(lag, time_translation(lag))
    assert sp.expand(charge.charge + xt**2 / 2 + w**2 * x**2 / 2) == 0
    assert charge.characteristic == (-xt,) and charge.conserved_on_shell


def test_central_force_angular_momentum():
    lag = central(sp.Function("V")(x**2 + y**2))
    rotation = lag.generator(0, (-y, x))
    charge = noether_charge(lag, rotation)
    assert sp.expand(charge.charge - m * (x * yt - y * xt)) == 0 and charge.conserved_on_shell
    kepler = central(-k / sp.sqrt(x**2 + y**2))
    assert conserved(m * (x * yt - y * xt), kepler)
    assert not variational_check(kepler, kepler.generator(0, (1, 0))).holds  # no translation symmetry
    assert not conserved(m * xt, kepler)


def test_explicit_time_dependence_breaks_energy_conservation():
    lag = caldirola_kanai()
    check = variational_check(lag, time_translation(lag))
    assert not check.holds and sp.simplify(check.residual - g * lag.expr) == 0
    assert not conserved(energy(lag), lag)
    assert sp.simplify(lag.D(energy(lag)) - energy_flux(lag)) == 0  # D_t E = -x_t E(L) - dL/dt
    # the damped oscillator keeps a conserved quantity from X = d/dt - (gamma/2) x d/dx
    charge = noether_charge(lag, lag.generator(1, (-g * x / 2,)))
    assert charge.conserved_on_shell and conserved(charge.charge, lag)
    expected = -sp.exp(g * t) * (xt**2 / 2 + w**2 * x**2 / 2 + g * x * xt / 2)
    assert sp.simplify(charge.charge - expected) == 0


def test_input_validation():
    with pytest.raises(ValueError, match="first order"):
        Lagrangian(jet_symbol(x, t, 2) ** 2, t, (x,))
    with pytest.raises(ValueError, match="distinct"):
        Lagrangian(x, t, (x, x))
    with pytest.raises(ValueError, match="velocities"):
        free_particle().generator(0, (xt,))
    with pytest.raises(ValueError, match="coefficients"):
        free_particle().generator(0, (1, 0))
    with pytest.raises(ValueError, match="Lagrangian.generator"):
        variational_check(free_particle(), central(0).generator(0, (1, 0)))  # a generator on (x, y)
    with pytest.raises(ValueError, match="degenerate"):
        euler_lagrange_system(mse_lagrangian(2))
    with pytest.raises(ValueError, match="integer >= 1"):
        states(0)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_paper_losses_have_algebraic_euler_lagrange_equations(n):
    mse, ce = mse_lagrangian(n), cross_entropy_lagrangian(n)
    z, zs = states(n), targets(n)
    assert euler_lagrange(mse) == tuple(sp.Rational(2, n) * (a - b) for a, b in zip(z, zs))
    for zi, e, qi, pi in zip(z, euler_lagrange(ce), softmax(z), softmax(zs)):
        assert sp.cancel(e - (qi - pi)) == 0  # not zero, as §3.3.2 says
    for lag in (mse, ce):
        assert sp.expand(energy(lag) + lag.expr) == 0  # no velocity: the energy function is -L
        assert variational_check(lag, time_translation(lag)).holds
        assert not lag.is_regular


def test_printed_h_is_the_dz_formula_not_the_energy():
    n = 2
    model, mse, ce = cosine_model(n), mse_lagrangian(n), cross_entropy_lagrangian(n)
    assert sp.expand(h_as_printed(mse, model) - H_eq26(n)) == 0
    assert sp.expand(energy_section_2_3(mse.expr, mse.coords, mse.velocities) - energy(mse)) == 0
    assert sp.expand(H_eq26(n) - energy(mse)) != 0
    # eq 27: the printed result is -L, which the eq's own d/dz formula does not give
    assert sp.expand(sp.expand_log(H_tilde_eq27(n) + ce.expr, force=True)) == 0
    gap = sp.cancel(sp.expand_log(h_as_printed(ce, model) - H_tilde_eq27(n), force=True))
    assert gap != 0 and gap.subs(witness_point(n)).evalf() != 0
    raw = hamiltonian_formula_eq26_27(mse.expr, mse.coords, mse.velocities)
    assert sp.expand(substitute_dynamics(raw, model) - (total_derivative(mse.expr, model) - mse.expr)) == 0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_printed_quantities_are_not_conserved_along_the_flow(n):
    model = cosine_model(n)
    d26 = flow_derivative(H_eq26(n), model, mse_h_derivative(n), witness_point(n))
    d27 = flow_derivative(H_tilde_eq27(n), model, ce_h_derivative(n), witness_point(n))
    assert d26.matches and d26.at_witness > 0.1 and not d26.conserved
    assert d27.matches
    if n == 1:  # one class: softmax is 1, L = 0 and H~ = 0 trivially
        assert d27.closed_form == 0 and d27.conserved
    else:
        assert abs(d27.at_witness) > 1e-3 and not d27.conserved


def test_flow_derivative_rejects_a_wrong_closed_form():
    model = cosine_model(2)
    assert not flow_derivative(H_eq26(2), model, 0).matches
    assert not flow_derivative(H_eq26(2), model, 2 * mse_h_derivative(2)).matches


def test_when_the_printed_quantities_are_constant():
    th1, _ = THETA
    model = cosine_model(3)
    assert sp.cancel(ce_h_derivative(3).subs(th1, 0)) == 0  # uniform translation: softmax is shift invariant
    assert sp.expand(mse_h_derivative(3).subs(th1, 0)) != 0
    assert conservation_check(H_eq26(1), cosine_model(1)).status == "nonzero"
    # dH/dt = L'' - L' along the flow
    lag = mse_lagrangian(3).expr
    dl = total_derivative(lag, model)
    assert sp.expand(mse_h_derivative(3) - (total_derivative(dl, model) - dl)) == 0


def test_residual_lagrangian_energy_is_conserved_and_zero_on_the_flow():
    model = cosine_model(2)
    lag = residual_lagrangian(model)
    assert lag.is_regular
    e = energy(lag)
    assert sp.expand(e - sum(v**2 - f**2 for v, f in zip(lag.velocities, model.rhs)) / 2) == 0
    assert conserved_on_shell(lag, e).conserved
    assert substitute_dynamics(e, model) == 0 and substitute_dynamics(lag.expr, model) == 0
    # the model's flow solves these EL equations: x_t = f and x_tt = D_t f on the flow
    on_flow = model.on_shell | {a: total_derivative(f, model) for a, f in zip(lag.accelerations, model.rhs)}
    assert all(sp.simplify(el.subs(on_flow)) == 0 for el in euler_lagrange(lag))


def test_numeric_drift_separates_conserved_from_printed():
    model = cosine_model(2)
    th1, th2 = THETA
    values = {th1: 1.3, th2: 0.4, **dict(zip(targets(2), (0.5, -0.7)))}
    drift = numeric_drift(H_eq26(2), model, [0.2, -1.0], 4.0, values, n_points=101)
    assert drift.max_drift > 1e-2
    drift_ce = numeric_drift(H_tilde_eq27(2), model, [0.2, -1.0], 4.0, values, n_points=101)
    assert drift_ce.max_drift > 1e-3
    lag = residual_lagrangian(model)
    flow = euler_lagrange_system(lag)
    control = numeric_drift(flow.on_phase(energy(lag)), flow.system, [0.2, -1.0, 0.3, 0.9], 4.0, values)
    assert control.max_drift < 1e-9


def test_verdicts_and_audit_page_agree():
    rows = noether_verdicts()
    assert [r.eq for r in rows][:4] == ["eq 4", "eq 15", "claim §2.3", "eq 26"]
    assert {r.eq: r.verdict for r in rows}["eq 26"] == "wrong"
    assert {r.eq: r.verdict for r in rows}["eq 27"] == "wrong"
    page = (ROOT / "book" / "audit" / "ch2.md").read_text()
    assert verdict_table(rows) in page
    for label in ("ch2-eq4", "ch2-eq15", "ch2-eq26", "ch2-eq27"):
        assert f"({label})=" in page
