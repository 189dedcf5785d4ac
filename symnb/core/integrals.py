"""Is a quantity conserved?  Checked twice: symbolically (D_t I along the flow) and numerically (drift).

Paper eq 14 and every "conservation law" of eqs 25-27, 41-42 are claims of the form dI/dt = 0 along
solutions.  `conservation_check` computes D_t I on shell and simplifies it; `numeric_drift` measures
max_t |I(t) - I(0)| along a float64 dopri5 trajectory at tight tolerance.
"""
from __future__ import annotations

import random
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import sympy as sp
import torch

from .bridge import evaluate, integrate
from .ode import ODESystem, total_derivative

__all__ = ["ConservationCheck", "conservation_check", "Drift", "numeric_drift", "is_zero", "time_budget",
           "BudgetExceeded"]

STATUSES = ("zero", "nonzero", "undecided")


class BudgetExceeded(Exception):
    """A SymPy step ran past its time budget."""


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Raise `BudgetExceeded` inside the block after ``seconds`` (main thread, POSIX; otherwise unbounded).

    Inside an enclosing budget the enclosing one applies (one interval timer per process).
    """
    usable = (seconds is not None and threading.current_thread() is threading.main_thread()
              and hasattr(signal, "setitimer"))
    if usable and signal.getitimer(signal.ITIMER_REAL)[0] > 0:
        usable = False  # an enclosing budget is running and bounds this block too
    if not usable:
        yield
        return

    def _alarm(signum, frame):  # noqa: ARG001 -- signal handler signature
        raise BudgetExceeded(f"time budget of {seconds:g} s exceeded")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _sampled(expr: sp.Expr, samples: int, seed: int, tol: float) -> tuple[str, int]:
    """Evaluate at random real points: ("nonzero", seen) at the first clearly non-zero value, else ("small", seen)."""
    rng = random.Random(seed)
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    seen = 0
    for _ in range(samples * 4):
        point = {s: sp.Float(rng.uniform(-0.9, 0.9), 30) for s in symbols}
        value = complex(expr.subs(point).evalf(30))
        if value != value or abs(value) == float("inf") or abs(value.imag) > tol:
            continue  # outside the real domain at this point
        if abs(value.real) > tol:
            return "nonzero", seen
        seen += 1
        if seen >= samples:
            break
    return "small", seen


def is_zero(expr: sp.Expr, samples: int = 6, seed: int = 0, tol: float = 1e-9, budget_s: float | None = None) -> str:
    """Decide whether ``expr`` vanishes identically: ``"zero"``, ``"nonzero"`` or ``"undecided"``.

    Numeric first: the expression is evaluated at random real points (each free symbol uniform in (-0.9, 0.9),
    inside the domains of asin/atanh that the paper's formulas use); a clearly non-zero value proves "nonzero"
    at once, without simplifying.  Otherwise SymPy's ``simplify`` (also after rewriting trigonometric and
    hyperbolic functions as exponentials) must reach 0 for "zero"; numerically zero without a symbolic proof is
    "undecided".

    Args:
        expr: the expression.
        samples, seed, tol: the numeric screen.
        budget_s: time budget for the symbolic part (None: unbounded); past it the answer is "undecided".
    """
    expr = sp.sympify(expr)
    if expr == 0:
        return "zero"
    status, seen = _sampled(expr, samples, seed, tol)
    if status == "nonzero":
        return "nonzero"
    trig = (sp.functions.elementary.hyperbolic.HyperbolicFunction,
            sp.functions.elementary.trigonometric.TrigonometricFunction)
    try:
        with time_budget(budget_s):
            if sp.simplify(expr) == 0:
                return "zero"
            # e.g. cos(asin(tanh u)) - 1/cosh(u) only simplifies after rewriting in exponentials.
            if seen and expr.has(*trig) and sp.simplify(expr.rewrite(sp.exp)) == 0:
                return "zero"
    except BudgetExceeded:
        return "undecided"
    return "undecided"


@dataclass(frozen=True)
class ConservationCheck:
    """The symbolic verdict on one candidate conserved quantity.

    Attributes:
        quantity: the candidate I(t, x).
        derivative: D_t I along the flow, simplified.
        status: ``"zero"`` (conserved), ``"nonzero"`` (not conserved) or ``"undecided"``.
    """

    quantity: sp.Expr
    derivative: sp.Expr
    status: str

    @property
    def conserved(self) -> bool:
        return self.status == "zero"


def conservation_check(quantity: sp.Expr, system: ODESystem) -> ConservationCheck:
    """Total derivative of ``quantity`` along solutions of ``system``, simplified, and whether it is 0.

    Args:
        quantity: I(t, x), a function of t, the states and parameters.
        system: the ODE system.

    Returns:
        `ConservationCheck` (the simplified D_t I and whether it is 0).

    Raises:
        ValueError: if ``quantity`` contains jet symbols (derivatives): it must be a function of t and states.
    """
    quantity = sp.sympify(quantity)
    if quantity.free_symbols & set(system.derivatives):
        raise ValueError(f"{quantity} contains derivatives {system.derivatives}; substitute the ODE first")
    derivative = sp.simplify(total_derivative(quantity, system))
    return ConservationCheck(quantity, derivative, is_zero(derivative))


@dataclass(frozen=True)
class Drift:
    """I(t) along one float64 trajectory; ``max_drift`` = max over t of abs(I(t) - I(0))."""

    times: torch.Tensor
    values: torch.Tensor
    max_drift: float


def numeric_drift(quantity: sp.Expr, system: ODESystem, x0: Sequence[float], t_final: float,
                  values: Mapping[sp.Symbol, float] | None = None, *, t0: float = 0.0, n_points: int = 201,
                  rtol: float = 1e-12, atol: float = 1e-12) -> Drift:
    """Drift of ``quantity`` along a float64 dopri5 trajectory of ``system`` from ``x0`` at ``t0``.

    Args:
        quantity: I(t, x, parameters...).
        system: the ODE system.
        x0: initial states.
        t_final: end of the horizon.
        values: numeric values for every other symbol in the system and in ``quantity``.
        n_points: output grid size.
        t0: the initial time.
        rtol, atol: solver tolerances.

    Returns:
        `Drift`: max over the grid of abs(I(x(t)) - I(x(t0))) over the grid, and the trajectory.

    Raises:
        ValueError: if ``n_points`` < 2 or a symbol has no value.
    """
    if n_points < 2:
        raise ValueError(f"n_points must be >= 2, got {n_points}")
    times = torch.linspace(t0, t_final, n_points, dtype=torch.float64)
    traj = integrate(system, x0, times, values, rtol=rtol, atol=atol)
    series = evaluate(quantity, traj, values)
    return Drift(times, series, float((series - series[0]).abs().max()))
