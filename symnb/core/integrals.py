"""Is a quantity conserved?  Checked twice: symbolically (D_t I along the flow) and numerically (drift).

Paper eq 14 and every "conservation law" of eqs 25-27, 41-42 are claims of the form dI/dt = 0 along
solutions.  `conservation_check` computes D_t I on shell and simplifies it; `numeric_drift` measures
max_t |I(t) - I(0)| along a float64 dopri5 trajectory at tight tolerance.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from dataclasses import dataclass

import sympy as sp
import torch

from .bridge import evaluate, integrate
from .budget import Budget, BudgetExceeded, time_budget
from .ode import ODESystem, total_derivative
from .zero import ZeroStatus, decide_zero

__all__ = ["ConservationCheck", "conservation_check", "Drift", "numeric_drift", "is_zero", "ZeroStatus",
           "time_budget", "Budget", "BudgetExceeded"]

STATUSES = tuple(ZeroStatus)


def is_zero(expr: sp.Expr, samples: int = 6, seed: int = 0, tol: float = 1e-9,
            budget_s: float | None = None) -> ZeroStatus:
    """Decide whether ``expr`` vanishes identically: `ZeroStatus` ``"zero"``, ``"nonzero"`` or ``"undecided"``.

    The status of `symnb.core.zero.decide_zero` (numeric screen at random real points, then exact normal forms);
    a `str` enum, so it compares equal to the strings.

    Args:
        expr: the expression.
        samples, seed, tol: the numeric screen.
        budget_s: time budget for the symbolic part (None: unbounded); past it the answer is "undecided".

    Raises:
        ValueError: for a ``budget_s`` that is neither None nor a positive number.
    """
    return decide_zero(expr, samples=samples, seed=seed, tol=tol, budget_s=budget_s).status


@dataclass(frozen=True)
class ConservationCheck:
    """The symbolic verdict on one candidate conserved quantity.

    Attributes:
        quantity: the candidate I(t, x).
        derivative: D_t I along the flow, simplified.
        status: `ZeroStatus` ``"zero"`` (conserved), ``"nonzero"`` (not conserved) or ``"undecided"``.
    """

    quantity: sp.Expr
    derivative: sp.Expr
    status: ZeroStatus

    @property
    def conserved(self) -> bool:
        return self.status == "zero"


def conservation_check(quantity: sp.Expr, system: ODESystem, budget_s: float | None = None) -> ConservationCheck:
    """Total derivative of ``quantity`` along solutions of ``system``, simplified, and whether it is 0.

    Args:
        quantity: the candidate I(t, x).
        system: the ODE system.
        budget_s: time budget for the symbolic work (None: unbounded); past it the status is "undecided" and
            ``derivative`` is D_t I as far as it was simplified.

    Returns:
        `ConservationCheck` (the simplified D_t I and whether it is 0).

    Raises:
        ValueError: if ``quantity`` contains jet symbols (derivatives): it must be a function of t and states;
            for a ``budget_s`` that is neither None nor a positive number.
    """
    quantity = sp.sympify(quantity)
    if quantity.free_symbols & set(system.derivatives):
        raise ValueError(f"{quantity} contains derivatives {system.derivatives}; substitute the ODE first")
    budget = Budget(budget_s)
    derivative = total_derivative(quantity, system)
    try:
        with budget:
            derivative = sp.simplify(derivative)
    except BudgetExceeded:
        return ConservationCheck(quantity, derivative, ZeroStatus.UNDECIDED)
    left = None if budget_s is None else budget.remaining()
    if left == 0:
        return ConservationCheck(quantity, derivative, ZeroStatus.UNDECIDED)
    return ConservationCheck(quantity, derivative, is_zero(derivative, budget_s=left))


@dataclass(frozen=True)
class Drift:
    """I(t) along one float64 trajectory; ``max_drift`` = max over t of abs(I(t) - I(0))."""

    times: torch.Tensor
    values: torch.Tensor
    max_drift: float


def numeric_drift(quantity: sp.Expr, system: ODESystem, x0: Sequence[float], t_final: float,
                  values: Mapping[Any, float] | None = None, *, t0: float = 0.0, n_points: int = 201,
                  rtol: float = 1e-12, atol: float = 1e-12) -> Drift:
    """Drift of ``quantity`` along a float64 dopri5 trajectory of ``system`` from ``x0`` at ``t0``.

    Args:
        quantity: I(t, x, parameters...).
        system: the ODE system.
        x0: initial states.
        t_final: end of the horizon.
        values: numbers for the system's parameters and any other symbol of ``quantity``, keyed by name or
            Symbol (matched by name; ``quantity`` may use the user's own symbols or ``x(t)``).
        n_points: output grid size.
        t0: the initial time.
        rtol, atol: solver tolerances.

    Returns:
        `Drift`: max over the grid of abs(I(x(t)) - I(x(t0))) over the grid, and the trajectory.

    Raises:
        ValueError: if ``n_points`` < 2, a symbol has no value, or a name in ``values`` is neither a parameter
            nor a symbol of ``quantity`` (the parameters are listed) -- before integrating.  Symbol keys that
            match nothing are ignored (one dict may serve several quantities).
    """
    if n_points < 2:
        raise ValueError(f"n_points must be >= 2, got {n_points}")
    quantity = sp.sympify(quantity)
    own = {s.name for s in system.known_symbols.values()}
    extra = tuple(s for s in quantity.free_symbols if s.name not in own)
    given = system.parameter_values(values, extra=extra, foreign_symbols=True)  # checked before integrating
    values = {p: v for p, v in given.items() if p in system.parameters}
    quantity = system.canonical(quantity, what="quantity", extra=extra).subs(
        {s: v for s, v in given.items() if s not in system.parameters})
    times = torch.linspace(t0, t_final, n_points, dtype=torch.float64)
    traj = integrate(system, x0, times, values, rtol=rtol, atol=atol)
    series = evaluate(quantity, traj, values)
    return Drift(times, series, float((series - series[0]).abs().max()))
