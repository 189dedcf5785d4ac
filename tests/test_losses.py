"""The eq-43 regularizers: independent evaluations, closed form vs autograd, batching, guards, errors."""
import pytest
import sympy as sp
import torch

from symnb.toy import loss as toy_loss
from symnb.toy.data import make_dataset
from symnb.chapters.ch4_loss import flow_checks, nonfinite_origin
from symnb.toy.loss import (DERIVATIVES, TERMS, LossConstants, adjoint_states, combined_loss, guard, loss_terms,
                            term_derivatives, term_values, weights_tensor)
from symnb.toy.model import ToyModel, adjoint_system
from symnb.core.bridge import to_torch
from symnb.printed import loss as printed
from symnb.printed.loss import theta1, theta2, z, zs

F64 = torch.float64
MODEL = ToyModel(rtol=1e-10, atol=1e-12)
CONST = LossConstants(eps=0.1, c1=0.7, c2=-0.4, c3=1.3, k2=0.5, k3=-0.8, k6=1.7)


@pytest.fixture(scope="module")
def setup():
    data = make_dataset(MODEL, (1.0, 0.2), n_train=5, n_test=1, n_extrap=1, noise=0.05, seed=1)
    theta = torch.tensor([0.8, -0.1], dtype=F64)
    times = torch.linspace(0.0, 1.0, 9, dtype=F64)
    return data.train_inputs, data.train_targets, theta, times


def _exact(inputs, theta, times):
    return MODEL.closed_form(inputs, theta, times)


@pytest.mark.parametrize("name", list(TERMS))
def test_closed_form_derivative_matches_finite_differences(setup, name):
    # independent: central differences in t of the quantity itself along the exact trajectory (the adjoint u of
    # P, Q, R along the exact flow too), against the SymPy total derivative on the grid
    inputs, targets, theta, times = setup
    h = 1e-5
    d = term_derivatives(name, MODEL, _exact(inputs, theta, times), inputs, targets, theta, times, CONST)
    inner = times[1:-1]
    grids = [torch.cat([times[:1], inner + s, times[-1:]]) for s in (h, -h)]
    # u(T) must not move with the shifted grids: keep the last point at T
    plus, minus = (term_values(name, MODEL, _exact(inputs, theta, g), inputs, targets, theta, g, CONST)
                   for g in grids)
    fd = (plus[1:-1] - minus[1:-1]) / (2 * h)
    assert torch.allclose(d[1:-1], fd, atol=1e-6 * (1 + float(d.abs().max())))


@pytest.mark.parametrize("n", [1, 3])
def test_pooled_quantities_match_the_printed_n_sample_forms(setup, n):
    # H(N), H~(N) as printed (eq 42, full sums in SymPy) against the summand/pool machinery
    inputs, targets, theta, times = setup
    traj = _exact(inputs[:n], theta, times)
    zz, ss = printed.sample_symbols(n)
    for name, full in (("h", printed.H(n)), ("h_tilde", printed.H_tilde(n))):
        (fn,) = [to_torch((theta1, theta2, *zz, *ss), [full])]
        expected = fn(theta[0], theta[1], *traj.unbind(-1), *targets[:n])[0]
        got = term_values(name, MODEL, traj, inputs[:n], targets[:n], theta, times, CONST)
        assert torch.allclose(got, torch.as_tensor(expected, dtype=F64).expand(got.shape), atol=1e-13)


def test_adjoint_states_match_a_backward_solve(setup):
    inputs, targets, theta, times = setup
    traj = MODEL.solve(inputs, theta, times)
    uu, vv, ww = adjoint_states(MODEL, traj, targets, theta, times, with_vw=True)
    # v(T) = w(T) = 0; v(0), w(0) = dMSE/dtheta from autograd through the solver
    th = theta.clone().requires_grad_(True)
    mse = ((MODEL.solve(inputs, th, times)[-1] - targets) ** 2).mean()
    (g,) = torch.autograd.grad(mse, th)
    assert torch.allclose(vv[0].sum(), g[0], atol=1e-8) and torch.allclose(ww[0].sum(), g[1], atol=1e-8)
    assert float(vv[-1].abs().max()) == 0.0
    # u(0) = dMSE/dz(0) by autograd
    x = inputs.clone().requires_grad_(True)
    (gx,) = torch.autograd.grad(((MODEL.solve(x, theta, times)[-1] - targets) ** 2).mean(), x)
    assert torch.allclose(uu[0], gx, atol=1e-8)


@pytest.mark.parametrize("formulation", ["printed", "guarded"])
def test_closed_form_and_autograd_agree(setup, formulation):
    inputs, targets, _, times = setup
    thetas = torch.tensor([[0.8, -0.1], [1.3, 0.4], [-0.6, 0.2]], dtype=F64, requires_grad=True)
    traj = MODEL.solve(inputs, thetas, times)
    for name in TERMS:
        a, b = (term_derivatives(name, MODEL, traj, inputs, targets, thetas, times, CONST, derivative=d,
                                 formulation=formulation) for d in DERIVATIVES)
        assert a.shape == b.shape and a.shape[:2] == (9, 3)
        assert torch.allclose(a, b, atol=1e-11 * (1 + float(a.detach().abs().max())))
        # and their gradients with respect to theta agree too (what training uses)
        ga, gb = (torch.autograd.grad((x ** 2).sum(), thetas, retain_graph=True)[0] for x in (a, b))
        assert torch.allclose(ga, gb, atol=1e-9 * (1 + float(ga.abs().max())))


def test_batched_loss_equals_per_configuration_loss(setup):
    inputs, targets, _, times = setup
    model = ToyModel(solver="rk4")
    thetas = torch.tensor([[0.8, -0.1], [1.3, 0.4]], dtype=F64)
    weights = torch.tensor([[1.0, 0.5, 0.0, 2.0, 0.1, 0.3], [0.0, 0.0, 1.0, 0.0, 0.0, 4.0]], dtype=F64)
    batched = combined_loss(loss_terms(model, inputs, targets, thetas, times, CONST), weights)
    assert batched.shape == (2,)
    for b in range(2):
        single = combined_loss(loss_terms(model, inputs, targets, thetas[b], times, CONST), weights[b])
        assert torch.allclose(batched[b], single, rtol=1e-12)


def test_f_is_conserved_at_eps_zero_and_measures_only_solver_error():
    checks = {c.term: c for c in flow_checks(LossConstants(eps=0.0), n=6)}
    assert checks["f"].conserved and checks["f"].exact_rate < 1e-12
    rates = [r for _, r in checks["f"].solver_rates]
    assert rates[0] > rates[1] > rates[2]               # shrinks with the tolerance
    for name in ("h", "h_tilde", "p", "q", "r"):
        assert not checks[name].conserved and checks[name].exact_rate > 1e-3
    eps = {c.term: c for c in flow_checks(LossConstants(eps=0.1), n=6)}
    assert not eps["f"].conserved


def test_p_q_r_vanish_for_the_trajectory_dependent_k6(setup):
    # along the exact flow u = K cosh(theta1 (t + c)); with eps = 0 and k6 = K (one sample) dP/dt = dQ/dt =
    # dR/dt = 0 -- the constant is fixed by the trajectory, not arbitrary
    inputs, targets, theta, times = setup
    x, y = inputs[:1], targets[:1]
    traj = _exact(x, theta, times)
    (uu,) = adjoint_states(MODEL, traj, y, theta, times)
    c = torch.atanh(torch.sin(theta[0] * x + theta[1])) / theta[0]
    K = float((uu / torch.cosh(theta[0] * (times[:, None] + c)))[0])
    for name in ("p", "q", "r"):
        d = term_derivatives(name, MODEL, traj, x, y, theta, times, LossConstants(eps=0.0, k6=K))
        assert float(d.abs().max()) < 1e-12
        d1 = term_derivatives(name, MODEL, traj, x, y, theta, times, LossConstants(eps=0.0, k6=K + 0.1))
        assert float(d1.abs().max()) > 1e-3


def test_guard_is_the_identity_where_the_printed_form_is_finite():
    x = sp.Symbol("x", real=True)
    expr = sp.asin(sp.tanh(x)) + sp.atanh(sp.sin(x)) / theta1 ** 2
    guarded = guard(expr)
    assert not guarded.has(sp.asin)
    f0, f1 = (to_torch((x, theta1), [e]) for e in (expr, guarded))
    xs = torch.linspace(-1.2, 1.2, 7, dtype=F64)
    for th in (0.5, -2.0):
        assert torch.allclose(f0(xs, torch.tensor(th, dtype=F64))[0], f1(xs, torch.tensor(th, dtype=F64))[0])
    # where the printed form is infinite the guarded one is finite
    assert torch.isfinite(f1(torch.tensor(torch.pi / 2, dtype=F64), torch.tensor(0.0, dtype=F64))[0])


def test_nonfinite_origin_names_the_atanh_derivative_in_float32():
    model = ToyModel(dtype="float32")
    data = make_dataset(model, (2.0, 0.2), n_train=8, n_test=1, n_extrap=1, horizon=4.0)
    theta = model.tensor([2.0, 0.2])
    times = torch.linspace(0.0, 4.0, 11, dtype=torch.float32)
    traj = model.solve(data.train_inputs, theta, times)
    origin = nonfinite_origin("f", model, traj, data.train_inputs, data.train_targets, theta, times)
    phi = theta1 * z + theta2
    assert origin.operation == 1 / (1 - sp.sin(phi) ** 2)
    assert origin.argument_values == (0.0, -1.0)        # 1 - sin^2 rounded to 0, exponent -1
    assert origin.count > 0
    # the guarded formulation is finite on the same trajectory
    guarded = term_derivatives("f", model, traj, data.train_inputs, data.train_targets, theta, times,
                               formulation="guarded")
    assert torch.isfinite(guarded).all()
    with pytest.raises(ValueError, match=r"D_t of term 'f' is finite at every point"):
        nonfinite_origin("f", model, traj, data.train_inputs, data.train_targets, theta, times,
                         formulation="guarded")


def test_bad_arguments(setup):
    inputs, targets, theta, times = setup
    with pytest.raises(ValueError, match=r"unknown loss term 'g'; valid: \['f', 'h', 'h_tilde', 'p', 'q', 'r'\]"):
        loss_terms(MODEL, inputs, targets, theta, times, terms=["g"])
    with pytest.raises(ValueError, match=r"unknown derivative 'numeric'; valid: \['closed', 'autograd'\]"):
        loss_terms(MODEL, inputs, targets, theta, times, derivative="numeric")
    with pytest.raises(ValueError, match=r"unknown formulation 'safe'; valid: \['printed', 'guarded'\]"):
        loss_terms(MODEL, inputs, targets, theta, times, formulation="safe")
    with pytest.raises(ValueError, match=r"constant k6 must be a finite real number, got inf"):
        LossConstants(k6=float("inf"))
    with pytest.raises(ValueError, match=r"weights must have trailing size 6 \(a1..a6\), got shape \(5,\)"):
        weights_tensor([1.0] * 5, theta)
    with pytest.raises(ValueError, match=r"weights a1..a6 must be finite and >= 0, got \[nan"):
        weights_tensor([float("nan")] + [0.0] * 5, theta)
    values = loss_terms(MODEL, inputs, targets, theta, times, terms=["f"])
    with pytest.raises(ValueError, match=r"weight a2 is non-zero but term 'h' was not evaluated"):
        combined_loss(values, weights_tensor([0, 1.0, 0, 0, 0, 0], theta))
    with pytest.raises(ValueError, match=r"term 'q' was not evaluated; evaluated: \['f'\]"):
        values.term("q")
    with pytest.raises(ValueError, match=r"unknown quantity 'G'"):
        toy_loss.quantity("G")


def test_eq43_order_matches_the_registry():
    assert [TERMS[n].quantity for n in TERMS] == list(printed.EQ43_ORDER)
    assert [TERMS[n].weight for n in TERMS] == [f"a{j}" for j in range(1, 7)]
    assert TERMS["p"].flow == "adjoint" and adjoint_system("cos").states[0] == z
    assert toy_loss.quantity("H").free_symbols >= {z, zs}


@pytest.mark.parametrize("formulation", ["printed", "guarded"])
def test_fused_closed_path_equals_the_per_term_derivatives(setup, formulation):
    inputs, targets, theta, times = setup
    values = loss_terms(MODEL, inputs, targets, theta, times, CONST, formulation=formulation)
    for name in TERMS:
        d = term_derivatives(name, MODEL, values.trajectory, inputs, targets, theta, times, CONST,
                             formulation=formulation)
        expected = (d ** 2).mean(0) if TERMS[name].pooled else (d ** 2).mean((0, -1))
        assert torch.allclose(values.term(name), expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("activation", ["tanh", "sin", "identity"])
def test_regularizers_refuse_activations_eq42_was_not_derived_for(activation):
    with pytest.raises(ValueError, match=rf"activation '{activation}': the regularizers of eq 43 use the quantities "
                                         r"of eq 42, which the paper derives for sigma = cos only"):
        toy_loss.time_derivative("f", activation)
