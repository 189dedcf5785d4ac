"""Before training: can a conservation penalty tell the models of a family apart at all?

For a model class dx/dt = f_theta(t, x) and a quantity I(t, x; theta), the collocation penalty (`conservation_penalty`)
is mean (D_t I along f_theta)**2.  If D_t I vanishes identically in x for every theta -- I is a first integral of
each model's own flow -- the penalty is 0 for every parameter value and so is its gradient: it carries no
information, whatever its weight.  This is the book's central finding on the paper's toy (the quantities of eqs
22-24 and 39-42 are integrals of the model's own flow; chapters 1-4), here as a function.  Otherwise the penalty
vanishes exactly on the sub-family where the split coefficients of D_t I vanish, which is reported.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from .first_integrals import certify_integral
from .budget import BudgetExceeded, time_budget
from .coefficients import split_identically
from .ode import ODESystem

__all__ = ["Informativeness", "informativeness"]


@dataclass(frozen=True)
class Informativeness:
    """Whether a conservation penalty is identically zero on a model family, and why.

    Attributes:
        informative: False iff the penalty (and its gradient) vanish for every model of the family.
        rate: D_t I along the family's flow (0 when not informative).
        zero_set: the parameter conditions under which the penalty vanishes identically (``[]``: never;
            ``None``: not determined), as SymPy solutions.
        complete: False when a step could not be decided exactly (see ``reason``).
        reason: the symbolic reason, in words.
    """

    informative: bool
    rate: sp.Expr
    zero_set: list | None
    complete: bool
    reason: str


def informativeness(integral: Any, model_family: ODESystem, *, budget_s: float | None = 20.0) -> Informativeness:
    """Is the conservation penalty of ``integral`` identically zero on ``model_family``?

    Args:
        integral: I(t, x; theta), a SymPy expression or a `first_integrals` result (``.expr``), written in the
            family's t and states.
        model_family: dx/dt = f_theta(t, x) with the trainable parameters as symbols.
        budget_s: time budget for the symbolic steps.

    Returns:
        `Informativeness`.

    Raises:
        ValueError: if ``model_family`` is not an `ODESystem` or ``integral`` is not an expression of its
            t, states and symbols.
    """
    if not isinstance(model_family, ODESystem):
        raise ValueError(f"model_family must be an ODESystem (f_theta with symbolic parameters), got "
                         f"{type(model_family).__name__}")
    expr = sp.sympify(getattr(integral, "expr", integral))
    if not isinstance(expr, sp.Expr):
        raise ValueError(f"integral must be a SymPy expression, got {integral!r}")
    status, rate = certify_integral(expr, model_family, budget_s)
    params = model_family.parameters
    if status == "zero":
        return Informativeness(False, sp.S.Zero, None, True,
                               f"D_t I = 0 along dx/dt = f_theta for every value of {list(params)}: I is a first "
                               "integral of each model's own flow, so the penalty is identically 0 and its gradient "
                               "in the parameters is 0 -- it cannot inform training")
    if status == "undecided":
        return Informativeness(True, rate, None, False,
                               "D_t I is numerically zero at the sample points but not proved zero within the "
                               "budget: informativeness undecided")
    # Informative.  Where does it vanish?  Split D_t I over the states; the coefficients give conditions on theta.
    unknowns = list(params) or [sp.Symbol("_none")]
    split = split_identically(sp.expand(rate), (model_family.t, *model_family.states), unknowns)
    zero_set, complete, note = None, False, split.reason
    if split.exact and split.equations:
        try:
            with time_budget(budget_s):
                zero_set = sp.solve(list(split.equations), list(params), dict=True) if params else []
            complete = True
        except (BudgetExceeded, NotImplementedError) as err:
            note = f"solving for the zero set failed: {err}"
    where = ("for no parameter value" if zero_set == [] else
             f"only on {zero_set}" if zero_set else "on a set not determined")
    return Informativeness(True, sp.simplify(rate), zero_set, complete,
                           f"D_t I along the family is not identically zero; the penalty vanishes identically "
                           f"{where}{'; ' + note if note and not complete else ''}")
