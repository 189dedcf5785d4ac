"""The one zero-decider: one return type, numeric refutation, exact proof, relative tolerance, budget."""
import pytest
import sympy as sp

from symnb.core.integrals import is_zero
from symnb.core.lie import Generator, check_symmetry
from symnb.core.systems import textbook_system
from symnb.core.zero import ZeroDecision, ZeroStatus, decide_zero

x, y, u = sp.symbols("x y u", real=True)
HIDDEN = sp.cos(sp.asin(sp.tanh(u))) - 1 / sp.cosh(u)  # zero, but only after rewriting in exponentials


def test_one_type_everywhere():
    proved = decide_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1)
    assert isinstance(proved, ZeroDecision) and proved.status is ZeroStatus.ZERO and proved.simplified == 0
    refuted = decide_zero(x * y - 1)
    assert refuted.status is ZeroStatus.NONZERO and refuted.reason == "non-zero at a sample point"
    assert is_zero(HIDDEN) is ZeroStatus.ZERO and is_zero(x * y) is ZeroStatus.NONZERO
    # The same type from the symmetry check (symnb.core.lie) and its string comparisons still read as before.
    system = textbook_system("harmonic_oscillator")
    q, p = system.states
    statuses = check_symmetry(Generator(system, sp.S.Zero, (p, -system.parameters[0] ** 2 * q))).statuses
    assert all(s is ZeroStatus.ZERO and s == "zero" for s in statuses) and repr(statuses[0]) == "'zero'"


def test_tolerance_is_relative_to_the_scale():
    small = sp.Float(1e-3) * x**0  # a constant 1e-3: clearly non-zero in absolute terms
    assert decide_zero(small).status is ZeroStatus.NONZERO
    # Beside terms of size 1e9 that cancel, 1e-3 is below the numeric tolerance: not refuted, and not proved.
    relative = decide_zero(small, scale=sp.Float(1e9))
    assert relative.status is ZeroStatus.UNDECIDED and "no normal form reached 0" in relative.reason


def test_points_outside_the_real_domain_are_skipped_not_counted():
    # log(x) is complex for x < 0: those points are skipped; the positive ones refute.
    assert decide_zero(sp.log(x) - x).status is ZeroStatus.NONZERO
    # Complex at every real point: no point counts, and without a proof the answer is "undecided".
    nowhere = decide_zero(sp.sqrt(-1 - x**2) + sp.sqrt(-2 - x**2))
    assert nowhere.points == 0 and nowhere.status is ZeroStatus.UNDECIDED


def test_budget_makes_a_hard_identity_undecided_not_wrong():
    late = decide_zero(HIDDEN, budget_s=1e-3)
    assert late.status is ZeroStatus.UNDECIDED and late.points == 6
    assert late.reason == "numerically zero at 6 point(s); not proved within 0.001 s"
    with pytest.raises(ValueError, match="budget_s must be a number of seconds > 0 or None, got 0"):
        decide_zero(HIDDEN, budget_s=0)
