"""The one answer to "is this expression identically zero?": a numeric screen, then exact normal forms.

Every conservation check, symmetry residual and integral certificate of the library asks this question; they all
call `decide_zero` (or its status-only form `symnb.core.integrals.is_zero`) and get one type back.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

import mpmath
import sympy as sp

from .budget import Budget, BudgetExceeded

__all__ = ["ZeroStatus", "ZeroDecision", "decide_zero"]

_TRIG = (sp.functions.elementary.trigonometric.TrigonometricFunction,
         sp.functions.elementary.trigonometric.InverseTrigonometricFunction)
_HYPERBOLIC = (sp.functions.elementary.hyperbolic.HyperbolicFunction,
               sp.functions.elementary.hyperbolic.InverseHyperbolicFunction)


class ZeroStatus(StrEnum):
    """The verdict; a `str` enum, so ``status == "zero"``, f-strings and reprs read as the plain strings did."""

    ZERO = "zero"            # proved: an exact normal form reached 0
    NONZERO = "nonzero"      # refuted: clearly non-zero at a sample point
    UNDECIDED = "undecided"  # numerically zero (or no point inside the real domain), no proof within the budget

    def __repr__(self) -> str:
        return repr(self.value)  # tuples of statuses print as ('zero', ...), as in the stored notebook outputs


@dataclass(frozen=True)
class ZeroDecision:
    """`decide_zero`'s answer.

    Attributes:
        status: the `ZeroStatus`.
        simplified: 0 when proved, else the last normal form reached (the expression itself when refuted).
        points: how many sample points inside the real domain the numeric screen evaluated.
        reason: why the answer is not "zero" (empty when proved).
    """

    status: ZeroStatus
    simplified: sp.Expr
    points: int
    reason: str = ""


def _sample(symbol: sp.Symbol, rng: random.Random) -> mpmath.mpf:
    # Inside the declared domain (positive symbols stay positive); unrestricted ones in (-0.9, 0.9), inside the
    # domains of asin/atanh that the paper's formulas use.
    if symbol.is_positive or symbol.is_nonnegative:
        value = rng.uniform(0.3, 2.0)
    elif symbol.is_negative or symbol.is_nonpositive:
        value = -rng.uniform(0.3, 2.0)
    else:
        value = rng.uniform(-0.9, 0.9)
    return mpmath.mpf(value)


def _evaluator(exprs: list[sp.Expr], symbols: list[sp.Symbol]):
    """exprs as one compiled mpmath function of the symbols (30 digits, no adaptive-precision escalation on
    values that cancel to 0, which makes ``evalf`` crawl exactly on the identities we test)."""
    try:
        fn = sp.lambdify(symbols, exprs, modules="mpmath")
    except Exception:  # noqa: BLE001 -- a function mpmath lacks: fall back to SymPy's own evaluation
        return lambda *values: [e.subs(dict(zip(symbols, values))).evalf(30) for e in exprs]
    return fn


def _screen(expr: sp.Expr, scale: sp.Expr, samples: int, seed: int, tol: float) -> tuple[bool, int]:
    """(refuted, points): evaluate at random real points (30 digits), |expr| > tol * max(1, |scale|) refutes."""
    rng = random.Random(seed)
    symbols = sorted(expr.free_symbols | scale.free_symbols, key=lambda s: s.name)
    fn = _evaluator([expr, scale], symbols)
    seen = 0
    with mpmath.workdps(30):
        for _ in range(samples * 4):
            point = [_sample(s, rng) for s in symbols]
            try:
                value, size = (complex(v) for v in fn(*point))
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                continue  # not a number here (a pole, an undefined function value)
            size = abs(size)
            if value != value or size != size or abs(value) == float("inf") or size == float("inf"):
                continue  # outside the real domain at this point
            if abs(value.imag) > tol * max(1.0, size):
                continue  # complex: outside the real domain at this point
            if abs(value.real) > tol * max(1.0, size):
                return True, seen
            seen += 1
            if seen >= samples:
                break
    return False, seen


def _steps(expr: sp.Expr):
    """Exact normal forms, cheapest first: most true identities are proved in milliseconds."""
    trig, hyperbolic = expr.has(*_TRIG), expr.has(*_HYPERBOLIC)
    yield lambda e: sp.cancel(sp.together(sp.expand(e)))  # rational functions
    if trig or hyperbolic:
        yield lambda e: sp.cancel(sp.together(sp.expand(e.rewrite(sp.tan))))  # rational in tan of the half angle
    if trig or hyperbolic:
        yield lambda e: sp.cancel(sp.together(sp.expand(e.rewrite(sp.exp))))
    yield sp.simplify
    if trig or hyperbolic:
        # e.g. cos(asin(tanh u)) - 1/cosh(u) only simplifies after rewriting in exponentials.
        yield lambda e: sp.simplify(e.rewrite(sp.exp))


def decide_zero(expr: sp.Expr, *, scale: sp.Expr | None = None, samples: int = 6, seed: int = 0,
                tol: float = 1e-9, budget_s: float | None = None) -> ZeroDecision:
    """Decide whether ``expr`` vanishes identically.

    Numeric first: ``expr`` is evaluated (30 digits) at random real points inside the symbols' declared domains;
    a value above ``tol * max(1, |scale|)`` proves "nonzero" at once.  Otherwise exact normal forms (cancel /
    together / expand, also after rewriting trigonometric functions in tan and trigonometric or hyperbolic ones
    in exp, then ``simplify``) must reach 0 for "zero"; numerically zero without a proof is "undecided".

    Args:
        expr: the expression.
        scale: the size the numeric tolerance is relative to (e.g. the sum of the magnitudes of the terms
            that cancel); None: absolute.
        samples, seed, tol: the numeric screen.
        budget_s: time budget for the symbolic part (None: unbounded); past it the answer is "undecided".

    Returns:
        A `ZeroDecision`.

    Raises:
        ValueError: for a ``budget_s`` that is neither None nor a positive number.
    """
    Budget(budget_s)  # validates before any work
    expr = sp.sympify(expr)
    if expr == 0:
        return ZeroDecision(ZeroStatus.ZERO, sp.S.Zero, 0)
    refuted, seen = _screen(expr, sp.S.One if scale is None else sp.sympify(scale), samples, seed, tol)
    if refuted:
        return ZeroDecision(ZeroStatus.NONZERO, expr, seen, "non-zero at a sample point")
    simplified = expr
    try:
        with Budget(budget_s):
            for step in _steps(expr):
                simplified = step(expr)
                if simplified == 0:
                    return ZeroDecision(ZeroStatus.ZERO, sp.S.Zero, seen)
    except BudgetExceeded:
        return ZeroDecision(ZeroStatus.UNDECIDED, simplified, seen,
                            f"numerically zero at {seen} point(s); not proved within {budget_s:g} s")
    return ZeroDecision(ZeroStatus.UNDECIDED, simplified, seen,
                        f"numerically zero at {seen} point(s); no normal form reached 0")
