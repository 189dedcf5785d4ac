"""The toy Neural ODE: closed form vs solver, the adjoint flow, batching, and parameter errors."""
import random

import pytest
import sympy as sp
import torch

from symnb.core.integrals import conservation_check, is_zero
from symnb.toy.data import make_dataset
from symnb.toy.model import ACTIVATIONS, ToyModel, activation, adjoint_system, closed_form_expr, model_system
from symnb.core.ode import total_derivative
from symnb.printed.loss import t, theta1, theta2, u, z, z0

F64 = torch.float64


def _times(T=2.0, n=9):
    return torch.linspace(0.0, T, n, dtype=F64)


def test_closed_form_solves_the_ode_on_every_branch():
    # D_t z(t) - cos(theta1 z(t) + theta2) must vanish with s = (-1)^k, for even and odd branches
    expr, k, s = closed_form_expr()
    for kk in (0, 1, -1, 2):
        e = expr.subs({k: kk, s: (-1) ** kk})
        residual = sp.diff(e, t) - sp.cos(theta1 * e + theta2)
        rng = random.Random(kk)
        for _ in range(5):
            th1, th2 = sp.Float(rng.uniform(0.3, 2.0), 40), sp.Float(rng.uniform(-0.5, 0.5), 40)
            # pick z0 on branch kk: phi0 = kk*pi + uniform(-1.2, 1.2)
            phi0 = kk * sp.pi + sp.Float(rng.uniform(-1.2, 1.2), 40)
            point = {theta1: th1, theta2: th2, z0: (phi0 - th2) / th1, t: sp.Float(rng.uniform(0, 2), 40)}
            assert abs(complex(residual.subs(point).evalf(30))) < 1e-20
        # and it starts at z0
        start = (kk * sp.pi + sp.Rational(1, 3) - sp.Rational(1, 10)) / sp.Rational(13, 10)
        value = e.subs({t: 0, theta1: sp.Rational(13, 10), theta2: sp.Rational(1, 10), z0: start})
        assert abs(float((value - start).evalf(40))) < 1e-30


def test_closed_form_branch_zero_is_the_printed_solution():
    # §3.1: z(t) = (asin(tanh(theta1 (c + t))) - theta2) / theta1, c = atanh(sin(theta1 z0 + theta2)) / theta1
    c = sp.atanh(sp.sin(theta1 * z0 + theta2)) / theta1
    printed = (sp.asin(sp.tanh(theta1 * (c + t))) - theta2) / theta1
    expr, k, s = closed_form_expr()
    diff = expr.subs({k: 0, s: 1}) - printed
    assert is_zero(diff) in ("zero", "undecided")
    assert abs(float(diff.subs({theta1: 0.8, theta2: 0.3, z0: 0.4, t: 1.7}))) < 1e-14


@pytest.mark.parametrize("theta", [(1.0, 0.2), (-1.5, 0.7), (2.5, -0.4)])
def test_solver_matches_closed_form(theta):
    inputs = torch.linspace(-2.0, 3.0, 13, dtype=F64)   # several branches of theta1 z0 + theta2
    th = torch.tensor(theta, dtype=F64)
    exact = ToyModel().closed_form(inputs, th, _times())
    solved = ToyModel(rtol=1e-11, atol=1e-12).solve(inputs, th, _times())
    assert solved.shape == exact.shape == (9, 13)
    assert float((solved - exact).abs().max()) < 1e-8


def test_batched_theta_matches_one_by_one():
    inputs = torch.linspace(-1.0, 1.0, 5, dtype=F64)
    thetas = torch.tensor([[1.0, 0.2], [0.5, -0.3], [-0.8, 1.0]], dtype=F64)
    model = ToyModel(solver="rk4")   # fixed step: the batch cannot change the steps
    batched = model.solve(inputs, thetas, _times())
    assert batched.shape == (9, 3, 5)
    for b in range(3):
        assert torch.equal(batched[:, b], model.solve(inputs, thetas[b], _times()))
        assert torch.allclose(model.closed_form(inputs, thetas, _times())[:, b],
                              model.closed_form(inputs, thetas[b], _times()), atol=1e-14, rtol=0)


def test_adjoint_and_direct_backprop_agree_with_closed_form_gradient():
    inputs = torch.linspace(-1.0, 1.0, 6, dtype=F64)
    grads = []
    for build in (lambda th: ToyModel(rtol=1e-10, atol=1e-12).solve(inputs, th, _times()),
                  lambda th: ToyModel(rtol=1e-10, atol=1e-12, adjoint=True).solve(inputs, th, _times()),
                  lambda th: ToyModel().closed_form(inputs, th, _times())):
        th = torch.tensor([0.9, 0.1], dtype=F64, requires_grad=True)
        (build(th)[-1] ** 2).sum().backward()
        grads.append(th.grad)
    assert torch.allclose(grads[0], grads[2], atol=1e-7)
    assert torch.allclose(grads[1], grads[2], atol=1e-7)


def test_float32_solve_keeps_dtype():
    model = ToyModel(dtype="float32")
    out = model.solve(model.tensor([0.1, 0.2]), model.tensor([1.0, 0.2]), model.tensor([0.0, 1.0]))
    assert out.dtype == torch.float32


def test_adjoint_system_is_eq_28_for_cos():
    phi = theta1 * z + theta2
    sys = adjoint_system("cos")
    expected = (sp.cos(phi), u * theta1 * sp.sin(phi), u * z * sp.sin(phi), u * sp.sin(phi))
    assert all(sp.simplify(a - b) == 0 for a, b in zip(sys.rhs, expected))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_u_times_f_is_a_first_integral_of_the_adjoint_flow(name):
    # the closed form u(t) = u(T) f(z(T)) / f(z(t)) used by the losses rests on this
    sys = adjoint_system(name)
    assert conservation_check(u * model_system(name).rhs[0], sys).status == "zero"
    assert sp.simplify(total_derivative(u, sys) + u * sp.diff(sys.rhs[0], z)) == 0


def test_data_targets_from_closed_form_agree_with_tight_solve():
    data = make_dataset(ToyModel(), (1.0, 0.2), n_train=8, n_test=8, n_extrap=8, noise=0.0)
    assert data.closed_form_error < 1e-10
    assert float(data.extrap_inputs.min()) >= 1.5 and float(data.train_inputs.max()) <= 1.0
    noisy = make_dataset(ToyModel(), (1.0, 0.2), n_train=400, n_test=1, n_extrap=1, noise=0.1, seed=3)
    clean = make_dataset(ToyModel(), (1.0, 0.2), n_train=400, n_test=1, n_extrap=1, noise=0.0, seed=3)
    assert float((noisy.train_targets - clean.train_targets).std()) == pytest.approx(0.1, rel=0.15)


@pytest.mark.parametrize("kwargs, match", [
    (dict(activation="relu"), r"unknown activation 'relu'; valid: \['cos'"),
    (dict(solver="rk45"), r"unknown solver 'rk45'; valid: \['dopri5'"),
    (dict(dtype="float16"), r"unknown dtype 'float16'; valid: \['float32', 'float64'\]"),
    (dict(rtol=0.0), r"rtol must be a number in \(0, 1\), got 0.0"),
    (dict(atol=float("nan")), r"atol must be a number in \(0, 1\), got nan"),
    (dict(device="tpu"), r"unknown device 'tpu'"),
])
def test_bad_model_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ToyModel(**kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_cuda_absent_is_refused():
    with pytest.raises(ValueError, match=r"device='cuda' was asked for but torch sees no CUDA device"):
        ToyModel(device="cuda")


def test_closed_form_only_for_cos_and_unknown_activation():
    with pytest.raises(ValueError, match=r"closed form implemented for activation 'cos' only, got 'tanh'"):
        ToyModel("tanh").closed_form(torch.zeros(1, dtype=F64), torch.ones(2, dtype=F64), _times())
    with pytest.raises(ValueError, match=r"unknown activation 'gelu'"):
        activation("gelu")


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_train=0), r"n_train must be an integer >= 1, got 0"),
    (dict(noise=-0.1), r"noise must be a finite number >= 0, got -0.1"),
    (dict(horizon=0.0), r"horizon must be a finite number > 0, got 0.0"),
    (dict(input_range=(1.0, -1.0)), r"input_range must be \(low, high\) with finite low < high"),
])
def test_bad_data_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_dataset(ToyModel(), **kwargs)
    with pytest.raises(ValueError, match=r"theta_star must be two finite numbers with theta1 != 0"):
        make_dataset(ToyModel(), (0.0, 1.0))
