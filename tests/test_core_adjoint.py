"""adjoint_of (eqs 5-6) for symbolic systems and nn.Modules; invariants found; informativeness of penalties."""
import pytest
import sympy as sp
import torch
from torchdiffeq import odeint

from symnb.core.adjoint import adjoint_of
from symnb.core.bridge import to_torch
from symnb.core.first_integrals import certify_integral, first_integrals
from symnb.core.informativeness import informativeness
from symnb.core.ode import ODESystem
from symnb.core.symmetries import Polynomial, find_symmetries
from symnb.core.systems import textbook_system

t, z, th1, th2 = sp.symbols("t z theta1 theta2", real=True)


def _toy(sigma):
    return ODESystem(t, (z,), (sigma(th1 * z + th2),))


def _in_span(target, exprs, variables):
    """target = sum c_k exprs_k with c_k free of the variables?"""
    cs = sp.symbols(f"c0:{len(exprs)}")
    diff = sp.expand(target - sum(c * e for c, e in zip(cs, exprs)))
    gens = sorted(diff.free_symbols & set(variables), key=str)
    fs = sorted(diff.atoms(sp.Function), key=sp.default_sort_key)
    repl = {f: sp.Symbol(f"_g{i}") for i, f in enumerate(fs)}
    eqs = sp.Poly(diff.xreplace(repl), *gens, *repl.values()).coeffs()
    return bool(sp.solve(eqs, cs, dict=True))


@pytest.mark.parametrize("sigma", [sp.cos, sp.tanh])
def test_toy_adjoint_invariants_are_found(sigma):
    adj = adjoint_of(_toy(sigma), (th1, th2), names=("u", "v", "w"))
    u, v, w = adj.adjoints + adj.param_adjoints
    f = sigma(th1 * z + th2)
    # Eq 6 derived: u' = -u f_z etc. (checked against SymPy's own derivative, independently written).
    assert sp.simplify(adj.system.rhs[1] + u * sp.diff(f, z)) == 0
    assert sp.simplify(adj.system.rhs[3] + u * sp.diff(f, th2)) == 0
    found = [i.expr for i in adj.invariants]
    assert adj.invariants.complete
    variables = (t, z, u, v, w)
    for known in [u * f, u - th1 * w, th1 * v - z * u + t * u * f]:
        assert _in_span(known, found, variables)
    assert all(certify_integral(e, adj.system)[0] == "zero" for e in found)


def test_autonomous_a_dot_f_found_for_textbook_system():
    s = textbook_system("harmonic_oscillator")
    adj = adjoint_of(s)
    aq, ap = adj.adjoints
    found = [i.expr for i in adj.invariants]
    q, p = s.states
    assert _in_span(aq * s.rhs[0] + ap * s.rhs[1], found, (t, q, p, aq, ap, *adj.param_adjoints))


def test_numeric_adjoint_matches_symbolic_and_autograd():
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
    aug = adjoint_of(mlp, n_states=2)
    x0 = torch.tensor([0.4, -0.3], dtype=torch.float64)
    ts = torch.tensor([0.0, 1.0], dtype=torch.float64)
    xT = odeint(lambda _, x: mlp(x), x0, ts, rtol=1e-11, atol=1e-11)[-1]
    loss = 0.5 * xT.pow(2).sum()
    grads = torch.autograd.grad(loss, list(mlp.parameters()))
    y_T = torch.cat([xT.detach(), xT.detach(), torch.zeros(aug.n_params, dtype=torch.float64)])
    y_0 = odeint(aug, y_T, ts.flip(0), rtol=1e-11, atol=1e-11)[-1]
    assert torch.allclose(y_0[:2], x0, atol=1e-8)  # the state comes back
    assert torch.allclose(y_0[4:], torch.cat([g.reshape(-1) for g in grads]), atol=1e-7)
    # a . f is conserved along the augmented flow of an autonomous field (the Pontryagin Hamiltonian).
    path = odeint(aug, y_T, torch.linspace(1.0, 0.0, 11, dtype=torch.float64), rtol=1e-11, atol=1e-11)
    with torch.no_grad():
        hamiltonian = torch.stack([(y[2:4] * mlp(y[:2])).sum() for y in path])
    assert float((hamiltonian - hamiltonian[0]).abs().max()) < 1e-8

    # Symbolic and numeric adjoint agree on a symbolic field wrapped as a module.
    s = textbook_system("pendulum", {"g": 2})
    adj = adjoint_of(s, (), invariants=False)
    fn = to_torch((s.t, *s.states), s.rhs)

    class Field(torch.nn.Module):
        def forward(self, x):
            return torch.stack([torch.as_tensor(o, dtype=x.dtype) for o in fn(0.0, *x.unbind(-1))])
    num = adjoint_of(Field(), (), n_states=2)
    y = torch.tensor([0.3, -0.2, 0.7, 1.1], dtype=torch.float64)
    sym = to_torch((adj.system.t, *adj.system.states), adj.system.rhs)(0.0, *y.unbind(-1))
    assert torch.allclose(num(torch.tensor(0.0), y), torch.stack([torch.as_tensor(v, dtype=y.dtype) for v in sym]))


def test_toy_integral_is_uninformative_and_energy_is_informative():
    toy = _toy(sp.cos)
    F = first_integrals(toy, symmetries=find_symmetries(toy, Polynomial(0)))[0]
    verdict = informativeness(F, toy)
    assert not verdict.informative and verdict.complete
    assert "first integral of each model's own flow" in verdict.reason
    q, p, a, b = sp.symbols("q p a b", real=True)
    family = ODESystem(t, (q, p), (a * p, -b * q))
    verdict = informativeness(q**2 + p**2, family)
    assert verdict.informative and verdict.zero_set == [{a: b}]


def test_adjoint_errors():
    s = textbook_system("harmonic_oscillator")
    with pytest.raises(ValueError, match="are not parameters of the system"):
        adjoint_of(s, (sp.Symbol("k"),))
    with pytest.raises(ValueError, match="names: 1 given, need 3"):
        adjoint_of(s, names=("u",))
    with pytest.raises(ValueError, match="clash"):
        adjoint_of(s, names=("q", "b", "c"))
    with pytest.raises(ValueError, match="n_states must be a positive integer"):
        adjoint_of(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="model_family must be an ODESystem"):
        informativeness(sp.Symbol("x"), "cos")
