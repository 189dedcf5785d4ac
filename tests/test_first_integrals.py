"""first_integrals: textbook integrals found by each route, none invented, each conserved numerically too."""
import pytest
import sympy as sp

from symnb.core.first_integrals import certify_integral, first_integrals, real_domain
from symnb.core.integrals import numeric_drift
from symnb.core.lie import Generator
from symnb.core.ode import ODESystem, jet_symbol
from symnb.core.symmetries import Polynomial, find_symmetries
from symnb.core.systems import textbook_system


def _proportional(a, b, system):
    """a = c b with c free of t and the states (a function of an integral differs; this is the strict test)."""
    ratio = sp.simplify(a / b)
    return not (ratio.free_symbols & {system.t, *system.states}) and ratio != 0


def test_lotka_volterra_V_with_symbolic_parameters():
    s = textbook_system("lotka_volterra")
    x, y = s.states
    alpha, beta, gamma, delta = (sp.Symbol(n, positive=True) for n in ("alpha", "beta", "gamma", "delta"))
    found = first_integrals(s, basis=[x, y, sp.log(x), sp.log(y)])
    assert found.complete and len(found) == 1
    V = delta * x - gamma * sp.log(x) + beta * y - alpha * sp.log(y)  # Hirsch-Smale-Devaney, section 11.2
    assert _proportional(found[0].expr, V, s)
    # Independent numeric evidence at one parameter point.
    values = {alpha: 1.0, beta: 0.5, gamma: 0.7, delta: 0.3}
    drift = numeric_drift(found[0].expr, s, (1.0, 2.0), 5.0, values)
    assert drift.max_drift < 1e-9


def test_damped_oscillator_has_no_polynomial_integral():
    s = textbook_system("damped_oscillator")
    q, p = s.states
    found = first_integrals(s, basis=[q, p, q**2, q * p, p**2, q**3, p**3])
    assert found.complete and len(found) == 0


def test_harmonic_oscillator_energy_from_its_scaling_symmetry():
    s = textbook_system("harmonic_oscillator")
    q, p = s.states
    (omega,) = s.parameters
    found = first_integrals(s, symmetries=find_symmetries(s, Polynomial(1)))
    assert found.complete, found.reason
    assert len(found) >= 1
    assert any(_proportional(i.expr, (p**2 + omega**2 * q**2) / 2, s) for i in found)
    assert all(i.route == "symmetry" for i in found)


def test_scalar_integrating_factor_gives_time_dependent_integral():
    # x' = x: time translation gives I = t - log x (the flow's own clock), conserved and with a domain note.
    t, x = sp.symbols("t x", real=True)
    s = ODESystem(t, (x,), (x,))
    found = first_integrals(s, symmetries=[Generator(s, 1, (0,))])
    assert len(found) == 1
    assert certify_integral(found[0].expr, s)[0] == "zero"
    assert sp.simplify(sp.diff(found[0].expr, t)) != 0
    # The real antiderivative log|x| (not SymPy's log x): undefined only at the equilibrium x = 0.
    assert found[0].domain == "log|x| undefined where x = 0"


def test_noether_on_planar_kepler_gives_energy_and_angular_momentum():
    s = textbook_system("kepler_planar")
    x, y, vx, vy = s.states
    (k,) = s.parameters
    xt, yt = jet_symbol(x, s.t), jet_symbol(y, s.t)
    from symnb import Lagrangian
    lag = Lagrangian((xt**2 + yt**2) / 2 + k / sp.sqrt(x**2 + y**2), s.t, (x, y))
    found = first_integrals(s, symmetries=find_symmetries(s, Polynomial(1)), lagrangian=lag)
    exprs = [i.expr for i in found]
    energy = (vx**2 + vy**2) / 2 - k / sp.sqrt(x**2 + y**2)
    assert any(_proportional(e, energy, s) for e in exprs)
    assert any(_proportional(e, x * vy - y * vx, s) for e in exprs)
    # The Kepler scaling is a symmetry of the equations but not variational: no charge, and it is said.
    assert "not a variational symmetry" in found.reason
    assert all(i.route == "noether" for i in found)


def test_false_candidate_is_refuted():
    s = textbook_system("harmonic_oscillator", {"omega": 1})
    q, p = s.states
    assert certify_integral(q**2 + 2 * p**2, s)[0] == "nonzero"
    assert certify_integral(q**2 + p**2, s)[0] == "zero"


def test_real_domain_of_log_tanh():
    u = sp.Symbol("u", real=True)
    assert "tanh(u) > 0" in real_domain(sp.log(sp.tanh(u)))
    assert real_domain(u**2) == ""
    # log|u| is undefined only at u = 0; log|tanh(u) + 1| nowhere (tanh + 1 = 2 e^{2u}/(e^{2u} + 1) > 0).
    assert real_domain(sp.log(u**2) / 2) == "log|u| undefined where u = 0"
    assert real_domain(sp.log((sp.tanh(u) + 1) ** 2)) == ""


def test_route_errors():
    s = textbook_system("harmonic_oscillator")
    q, p = s.states
    with pytest.raises(ValueError, match="choose one route"):
        first_integrals(s)
    with pytest.raises(ValueError, match="choose one route"):
        first_integrals(s, basis=[q], symmetries=[])
    with pytest.raises(ValueError, match="lagrangian needs symmetries"):
        first_integrals(s, basis=[q], lagrangian=object())
    with pytest.raises(ValueError, match="basis is empty"):
        first_integrals(s, basis=[])
