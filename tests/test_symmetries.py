"""find_symmetries: every textbook symmetry inside the ansatz is found, nothing false is returned."""
import pytest
import sympy as sp

from symnb.core.lie import Generator, check_symmetry
from symnb.core.ode import ODESystem
import symnb
from symnb.core.status import NotDecided, Status
from symnb.core.symmetries import Polynomial, SymmetryBasis, find_symmetries
from symnb.core.systems import textbook_system


def _in_span(target, generators):
    """Is ``target`` (components) a linear combination (coefficients free of t and states) of the generators?"""
    cs = sp.symbols(f"a0:{len(generators)}")
    system = generators[0].system
    eqs = []
    for k, comp in enumerate(target):
        diff = sp.expand(comp - sum(c * g.components[k] for c, g in zip(cs, generators)))
        eqs.extend(sp.Poly(diff, system.t, *system.states).coeffs() if diff != 0 else [])
    return bool(sp.solve(eqs, cs, dict=True)) if eqs else True


def _span_dim(generators):
    system = generators[0].system
    rows = []
    for g in generators:
        row = []
        for comp in g.components:
            row.extend(sp.Poly(sp.expand(comp), system.t, *system.states).as_dict().items())
        rows.append(dict(row))
    keys = sorted({k for r in rows for k in r})
    return sp.Matrix([[r.get(k, 0) for k in keys] for r in rows]).rank()


def test_harmonic_oscillator_time_scaling_rotation():
    s = textbook_system("harmonic_oscillator")
    q, p = s.states
    omega = sp.Symbol("omega", positive=True)
    found = find_symmetries(s, Polynomial(1))
    assert found.complete and found.reason == ""
    assert all(c.holds for c in found.checks)
    for known in [(1, 0, 0), (0, q, p), (0, omega * p, -omega**3 * q)]:  # rotation in (q, omega p)
        assert _in_span(known, found.generators)
    assert _span_dim(found.generators) == len(found.generators)


def test_kepler_radial_scaling_is_not_dropped():
    s = textbook_system("kepler_radial")
    x, v = s.states
    t = s.t
    for ansatz in [Polynomial(1), {t: (t,), x: (x,), v: (v,)}]:
        found = find_symmetries(s, ansatz)
        assert found.complete, found.reason
        assert len(found.generators) == 2
        assert _in_span((1, 0, 0), found.generators)
        assert _in_span((3 * t, 2 * x, -v), found.generators)


def test_kepler_planar_time_rotation_scaling():
    s = textbook_system("kepler_planar", {"k": 1})
    x, y, vx, vy = s.states
    found = find_symmetries(s, Polynomial(1))
    assert found.complete, found.reason
    assert len(found.generators) == 3
    for known in [(1, 0, 0, 0, 0), (0, -y, x, -vy, vx), (3 * s.t, 2 * x, 2 * y, -vx, -vy)]:
        assert _in_span(known, found.generators)


def test_no_false_symmetry_and_perturbed_one_rejected():
    s = textbook_system("damped_oscillator", {"gamma": sp.Rational(1, 3)})
    found = find_symmetries(s, Polynomial(1))
    assert found.complete
    # Every generator is independently a symmetry; a scaling of t (a symmetry of the undamped problem) is not.
    assert all(check_symmetry(g).holds for g in found.generators)
    q, p = s.states
    assert not _in_span((s.t, 0, 0), found.generators)
    assert not check_symmetry(Generator(s, s.t, (0, 0))).holds


def test_toy_under_paper_ansatz():
    # The paper's model with sigma = identity (the cos case takes ~1 min: benchmarks/compiler.py and chapter 6).
    # For dz/dt = f(z) with T = T(t), Z = Z(z) the textbook answer (Hydon 2000, ch. 2) is T = a + c t,
    # Z = f (c * integral dz/f + d): three generators.
    t, z, th1, th2 = sp.symbols("t z theta1 theta2", real=True)
    f = th1 * z + th2
    toy = ODESystem(t, (z,), (f,))
    found = find_symmetries(toy, {t: (t,), z: (z,)})
    assert found.complete, found.reason
    assert len(found.generators) == 3
    assert all(c.holds for c in found.checks)
    known = [(1, 0), (0, f), (t, f * sp.log(f) / th1)]
    for T, Z in known:
        assert any(sp.simplify(g.time - T) == 0 and sp.simplify(g.coefficients[0] - Z) == 0
                   for g in found.generators)


def test_bad_ansatz_messages():
    s = textbook_system("harmonic_oscillator")
    with pytest.raises(ValueError, match="Polynomial degree must be an integer >= 0, got -1"):
        Polynomial(-1)
    with pytest.raises(ValueError, match="ansatz must be Polynomial"):
        find_symmetries(s, 3)
    with pytest.raises(ValueError, match=r"ansatz key uses \[.w.\], which the system does not know"):
        find_symmetries(s, {sp.Symbol("w"): ()})


def test_time_budget_raises_not_decided_by_default():
    t, z, th1, th2 = sp.symbols("t z theta1 theta2", real=True)
    toy = ODESystem(t, (z,), (sp.cos(th1 * z + th2),))
    with pytest.raises(NotDecided, match=r"symmetries of the 1-state system not decided: time budget of 0\.5 s "
                                         r"exceeded while solving; nothing certified \(pass throw=False") as info:
        find_symmetries(toy, {t: (t,), z: (z,)}, budget_s=0.5)
    assert isinstance(info.value.result, SymmetryBasis) and info.value.result.status is Status.UNDECIDED
    assert symnb.NotDecided is NotDecided  # one error for both finders (first_integrals raises it too)
    found = find_symmetries(toy, {t: (t,), z: (z,)}, budget_s=0.5, throw=False)
    assert found.status is Status.UNDECIDED and not found.complete and found.generators == ()
    assert "time budget of 0.5 s exceeded" in found.reason


def test_status_is_the_shared_enum():
    # Exact search: COMPLETE; a search that ran but could not be exact is INCOMPLETE and is returned, not raised.
    t, x, y = sp.symbols("t x y", real=True)
    found = find_symmetries(ODESystem(t, (x, y), (y, -x)), Polynomial(1))
    assert found.status is Status.COMPLETE and found.status is symnb.Status.COMPLETE
    inexact = SymmetryBasis(found.system, found.ansatz, found.generators, found.checks, False, "a step was inexact")
    assert inexact.status is Status.INCOMPLETE


def test_constraint_step_keeps_relations_with_any_ratio_and_half_angles():
    # The separable solver's constraint step (symnb.core.lie) on hand-made constraints with known solutions.
    from symnb.core.lie import _constraint_relations
    x, k = sp.symbols("x k", positive=True)
    K1, K2, K3 = sp.symbols("K1 K2 K3")
    # 3 K1 - 2 K2 = 0 (the Kepler ratio) and a parameter-dependent one, K3 = k K1: both must survive exactly.
    rel = _constraint_relations((3 * K1 - 2 * K2) * x**2 + (K3 - k * K1) / x, [K1, K2, K3], [x])
    sol = {K1: 2, K2: 3, K3: 2 * k}
    assert all(sp.simplify(v.subs(sol) - sol[c]) == 0 for c, v in rel.items()) and len(rel) == 2
    # sin(x) = 2 tan(x/2) / (1 + tan(x/2)**2): K1 stays free, only K2 = 0 is forced.
    identity = sp.sin(x) - 2 * sp.tan(x / 2) / (1 + sp.tan(x / 2) ** 2)
    assert _constraint_relations(K1 * identity + K2 * x, [K1, K2], [x]) == {K2: 0}
