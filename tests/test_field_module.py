"""`ODESystem.to_module`: the one system -> torch module, with odeint and odeint_adjoint, dtype/device, pickling."""
import io
import pickle

import pytest
import sympy as sp
import torch
from torchdiffeq import odeint, odeint_adjoint

from symnb.core.bridge import integrate, vector_field
from symnb.core.systems import textbook_system


def _oscillator():
    return textbook_system("harmonic_oscillator")  # q' = p, p' = -omega**2 q


def test_solution_matches_the_closed_form_and_integrate():
    system = _oscillator()
    field = system.to_module({"omega": 2.0})
    times = torch.linspace(0, 3, 31, dtype=torch.float64)
    ys = odeint(field, torch.tensor([1.0, 0.0], dtype=torch.float64), times, rtol=1e-12, atol=1e-12)
    # q = cos(2 t), p = -2 sin(2 t): an independent closed form.
    assert torch.allclose(ys[:, 0], torch.cos(2 * times), atol=1e-9)
    assert torch.allclose(ys[:, 1], -2 * torch.sin(2 * times), atol=1e-9)
    omega = system.parameters[0]
    ref = integrate(system, [1.0, 0.0], times, {omega: 2.0}).states
    assert torch.allclose(ys, ref, atol=1e-10)


def test_adjoint_gradient_of_a_trainable_parameter_matches_the_analytic_one():
    # L = q(T) with q = cos(omega T): dL/domega = -T sin(omega T).
    system = _oscillator()
    field = system.to_module({"omega": 1.3}, trainable=True)
    assert [n for n, _ in field.named_parameters()] == ["params.omega"] and not list(field.buffers())
    times = torch.tensor([0.0, 2.0], dtype=torch.float64)
    grads = []
    for solve in (odeint, odeint_adjoint):
        field.zero_grad()
        solve(field, torch.tensor([1.0, 0.0], dtype=torch.float64), times, rtol=1e-11, atol=1e-11)[-1, 0].backward()
        grads.append(float(field.value("omega").grad))
    expected = -2.0 * torch.sin(torch.tensor(1.3 * 2.0, dtype=torch.float64)).item()
    assert grads[0] == pytest.approx(expected, abs=1e-7) and grads[1] == pytest.approx(expected, abs=1e-7)


def test_buffers_by_default_and_dtype_device_pass_through():
    system = _oscillator()
    field = system.to_module({sp.Symbol("omega"): 2.0}, dtype=torch.float32, device="cpu")
    assert not list(field.parameters()) and field.value("omega").dtype == torch.float32
    y = torch.tensor([[1.0, 0.5]], dtype=torch.float32)
    out = field(torch.tensor(0.0), y)
    assert out.dtype == torch.float32 and out.shape == (1, 2)
    assert torch.equal(out, torch.tensor([[0.5, -4.0]]))
    assert field.to(torch.float64).value("omega").dtype == torch.float64


def test_pickle_and_torch_save_round_trip():
    field = textbook_system("lotka_volterra").to_module({"alpha": 1.1, "beta": 0.4, "gamma": 0.4, "delta": 0.1})
    y = torch.tensor([[0.3, 0.1], [1.0, 0.2]], dtype=torch.float64)
    expected = field(torch.tensor(0.0), y)
    again = pickle.loads(pickle.dumps(field))
    assert torch.equal(again(torch.tensor(0.0), y), expected)
    buffer = io.BytesIO()
    torch.save(field, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert torch.equal(loaded(torch.tensor(0.0), y), expected)


def test_values_errors_and_the_old_call_path():
    system = _oscillator()
    with pytest.raises(ValueError, match=r"values must give a number for each parameter \['omega'\]; missing "
                                         r"\['omega'\], unknown \['w'\]"):
        system.to_module({"w": 1.0})
    with pytest.raises(ValueError, match=r"values must give a number for each parameter \['omega'\]; missing"):
        system.to_module()
    with pytest.raises(ValueError, match=r"no stored value for 'g'; stored parameters: \['omega'\]"):
        system.to_module({"omega": 1.0}).value("g")
    # vector_field: numbers passed at call time, states along axis 0.
    q, p = system.states
    field = vector_field(system.states, system.rhs, params=system.parameters, axis=0)
    out = field(None, torch.tensor([[1.0], [2.0]]), torch.tensor(3.0))
    assert torch.equal(out, torch.tensor([[2.0], [-9.0]]))
    with pytest.raises(ValueError, match=r"no numbers for the parameters \['omega'\]"):
        field(None, torch.tensor([[1.0], [2.0]]))
