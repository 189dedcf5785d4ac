"""Conservation penalties and level-set projection (symnb.core.penalty)."""
import pytest
import sympy as sp
import torch

from symnb.core.bridge import integrate
from symnb.core.penalty import conservation_penalty, project_to_level_set
from symnb.core.systems import textbook_system


def _field(system, values):
    """The system's own vector field as a torch function, via the bridge (independent of the penalty)."""
    from symnb.core.bridge import to_torch
    rhs = [f.subs(values) for f in system.rhs]
    fn = to_torch((system.t, *system.states), rhs)

    def f(x):
        out = fn(torch.zeros((), dtype=x.dtype), *x.unbind(-1))
        return torch.stack([torch.as_tensor(o, dtype=x.dtype).expand(x.shape[:-1]) for o in out], -1)
    return f


def _energy(system):
    q, p = system.states
    (omega,) = system.parameters
    return (p**2 + omega**2 * q**2) / 2, omega


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_collocation_zero_on_true_field_positive_on_perturbed(dtype):
    system = textbook_system("harmonic_oscillator")
    energy, omega = _energy(system)
    pen = conservation_penalty(energy, system, values={"omega": 1.3})
    x = torch.randn(64, 2, dtype=dtype, generator=torch.Generator().manual_seed(0))
    f = _field(system, {omega: 1.3})
    exact = pen(x, f(x))
    assert exact.dtype == dtype
    assert float(exact) < (1e-10 if dtype == torch.float32 else 1e-25)
    perturbed = f(x) + 0.1 * x  # adds a non-conservative (radial) component
    # Independent value: D_t E along the radial field 0.1 x is 0.1 (p**2 + omega**2 q**2).
    expected = (0.1 * (x[:, 1] ** 2 + 1.3**2 * x[:, 0] ** 2)).pow(2).mean()
    assert float(pen(x, perturbed)) > 1e-3
    assert torch.allclose(pen(x, perturbed), expected, rtol=1e-4)


def test_collocation_time_dependent_integral_needs_t():
    # x' = x has the time-dependent integral x exp(-t).
    from symnb.core.ode import ODESystem
    t, x = sp.symbols("t x", real=True)
    system = ODESystem(t, (x,), (x,))
    pen = conservation_penalty(x * sp.exp(-t), system)
    pts = torch.linspace(-1, 1, 7, dtype=torch.float64)[:, None]
    ts = torch.linspace(0, 2, 7, dtype=torch.float64)
    assert float(pen(pts, pts, t=ts)) < 1e-28
    assert float(pen(pts, 2 * pts, t=ts)) > 1e-3
    with pytest.raises(ValueError, match="depends on t"):
        pen(pts, pts)


def test_trajectory_penalty_zero_on_solution_and_positive_on_wrong_one():
    system = textbook_system("kepler_radial", {"k": 1})
    x, v = system.states
    energy = v**2 / 2 - 1 / x
    times = torch.linspace(0, 2, 21, dtype=torch.float64)
    xs = torch.stack([integrate(system, x0, times).states for x0 in [(1.0, 1.5), (1.5, 1.3)]], dim=1)
    pen = conservation_penalty(energy, system, kind="trajectory")
    assert float(pen(xs)) < 1e-20
    wrong = xs.clone()
    wrong[..., 1] *= 1.1
    assert float(pen(wrong)) > 1e-6


def test_gradient_reaches_mlp_weights():
    system = textbook_system("harmonic_oscillator", {"omega": 1})
    q, p = system.states
    pen = conservation_penalty((p**2 + q**2) / 2, system)
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    x = torch.randn(32, 2)
    loss = pen(x, mlp(x))
    loss.backward()
    grads = [w.grad for w in mlp.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_accepts_first_integral_like_object():
    class Found:  # duck-typed stand-in for a first_integrals result
        def __init__(self, expr):
            self.expr = expr
    system = textbook_system("harmonic_oscillator", {"omega": 1})
    q, p = system.states
    pen = conservation_penalty(Found(q**2 + p**2), system)
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    assert float(pen.integral(x)) == pytest.approx(5.0)


def test_lotka_volterra_log_integral_in_float64():
    system = textbook_system("lotka_volterra", {"alpha": 1, "beta": 0.5, "gamma": 0.7, "delta": 0.3})
    x, y = system.states
    V = 0.3 * x - 0.7 * sp.log(x) + 0.5 * y - sp.log(y)
    pen = conservation_penalty(V, system)
    pts = torch.rand(40, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.1
    f = _field(system, {})
    assert float(pen(pts, f(pts))) < 1e-26


@pytest.mark.parametrize("dtype", [torch.float64])
def test_projection_lands_on_level_set(dtype):
    system = textbook_system("kepler_planar", {"k": 1})
    x, y, vx, vy = system.states
    energy = (vx**2 + vy**2) / 2 - 1 / sp.sqrt(x**2 + y**2)
    gen = torch.Generator().manual_seed(3)
    pts = torch.rand(20, 4, dtype=dtype, generator=gen) + 0.5
    level = torch.full((20,), -0.2, dtype=dtype)
    out = project_to_level_set(energy, system, pts, level)
    pen = conservation_penalty(energy, system, kind="trajectory")
    values = pen.integral(out)
    assert float((values - level).abs().max()) < 1e-10
    single = project_to_level_set(energy, system, pts[0], -0.2)
    assert single.shape == (4,)


def test_projection_refuses_critical_point_and_bad_iters():
    system = textbook_system("harmonic_oscillator", {"omega": 1})
    q, p = system.states
    origin = torch.zeros(1, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="grad I vanishes"):
        project_to_level_set(q**2 + p**2, system, origin, 1.0)
    with pytest.raises(ValueError, match="iters must be an integer >= 1, got 0"):
        project_to_level_set(q**2 + p**2, system, origin + 1, 1.0, iters=0)
    with pytest.raises(RuntimeError, match="did not reach tol"):
        project_to_level_set(q**2 + p**2, system, origin + 1, 100.0, iters=1)


def test_ensemble_dimension_gives_one_penalty_per_member():
    """(E, B, n) points / (T, E, B, n) states: member e's value is the unbatched penalty of its own slice."""
    system = textbook_system("harmonic_oscillator")
    energy, _ = _energy(system)
    gen = torch.Generator().manual_seed(1)
    x, fx = (torch.randn(3, 16, 2, generator=gen, dtype=torch.float64) for _ in range(2))
    xs = torch.randn(5, 3, 8, 2, generator=gen, dtype=torch.float64)
    for kind, args, member in (("collocation", (x, fx), lambda e: (x[e], fx[e])),
                               ("trajectory", (xs,), lambda e: (xs[:, e],))):
        pen = conservation_penalty(energy, system, kind=kind, values={"omega": 0.7})
        batched = pen(*args)
        assert batched.shape == (3,)
        single = torch.stack([pen(*member(e)) for e in range(3)])
        assert single.shape == (3,) and float(single.min()) > 1e-3   # random fields/states violate E
        assert torch.allclose(batched, single, rtol=1e-14, atol=0)


def test_bad_inputs_raise_readable_errors():
    system = textbook_system("harmonic_oscillator")
    energy, _ = _energy(system)
    with pytest.raises(ValueError, match="unknown kind 'bogus'; allowed"):
        conservation_penalty(energy, system, kind="bogus")
    with pytest.raises(ValueError, match=r"no number for symbol\(s\) \['omega'\]"):
        conservation_penalty(energy, system)
    pen = conservation_penalty(energy, system, values={"omega": 1.0})
    with pytest.raises(ValueError, match=r"x has shape \(4, 3\); expected \(B, n\) or \(E, B, n\) with n=2"):
        pen(torch.zeros(4, 3), torch.zeros(4, 3))
    with pytest.raises(ValueError, match="fx has shape"):
        pen(torch.zeros(4, 2), torch.zeros(5, 2))
    with pytest.raises(ValueError, match="takes \\(x, fx\\)"):
        pen(torch.zeros(4, 2))
    traj = conservation_penalty(energy, system, kind="trajectory", values={"omega": 1.0})
    with pytest.raises(ValueError, match=r"xs has shape \(4, 2\); expected \(T, B, n\) or \(T, E, B, n\)"):
        traj(torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r"x has shape \(2, 3, 4, 2\)"):
        pen(torch.zeros(2, 3, 4, 2), torch.zeros(2, 3, 4, 2))
    q, _ = system.states
    with pytest.raises(ValueError, match="derivative symbol"):
        conservation_penalty(system.derivatives[0] * q, system)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_penalty_follows_cuda_inputs():
    system = textbook_system("harmonic_oscillator", {"omega": 1})
    q, p = system.states
    pen = conservation_penalty(q**2 + p**2, system)
    x = torch.randn(8, 2, device="cuda")
    value = pen(x, torch.stack([x[:, 1], -x[:, 0]], -1))
    assert value.device.type == "cuda" and float(value) < 1e-10
