"""Find the Lie point symmetries of an ODE system inside an ansatz, and certify each one.

The linearized symmetry condition pr X(Delta) = 0 on solutions (paper eq 9; Olver 1986, Thm 2.31) is linear in
the infinitesimals T, X_i.  Under an ansatz that makes them finite combinations of known functions with unknown
coefficients, the condition is a homogeneous linear system for the coefficients once its residual is split over
the monomials and the independent non-polynomial functions of (t, x) -- the classical method of undetermined
coefficients for determining equations (Hydon, *Symmetry Methods for Differential Equations* (2000), section 2.4;
Bluman & Anco (2002), section 2.3).  Two ansatze:

* `Polynomial(degree)`: T and every X_i a polynomial of that total degree in t and all the states; the linear
  system is solved exactly over the rationals, or over rational functions of the symbolic parameters.
* the separable dict of `symnb.core.lie.determining_equations` (each infinitesimal a function of the variables
  listed), solved by separation of variables (`solve_determining_equations`).

Find, then certify: the exact split is cross-checked against the rank of the coefficient matrix sampled at random
points; every returned generator passes `check_symmetry`; whatever could not be done exactly sets the
`Status` (``INCOMPLETE``, or ``UNDECIDED`` when the budget ran out, raised as `NotDecided` by default) with the
reason.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from .budget import BudgetExceeded, time_budget
from .coefficients import generic_branches, null_space
from .lie import (Generator, SymmetryCheck, check_symmetry, determining_equations, solve_determining_equations,
                  symmetry_condition)
from .ode import ODESystem
from .status import NotDecided, Status

__all__ = ["Polynomial", "SymmetryBasis", "find_symmetries"]


@dataclass(frozen=True)
class Polynomial:
    """Ansatz: every infinitesimal is a polynomial of total degree <= ``degree`` in t and all the states.

    Raises:
        ValueError: if ``degree`` is not an integer >= 0.
    """

    degree: int

    def __post_init__(self) -> None:
        if not isinstance(self.degree, int) or isinstance(self.degree, bool) or self.degree < 0:
            raise ValueError(f"Polynomial degree must be an integer >= 0, got {self.degree!r}")


@dataclass(frozen=True)
class SymmetryBasis:
    """The symmetries found inside an ansatz.

    Attributes:
        system: the ODE system.
        ansatz: the `Polynomial` or separable dict used.
        generators: a basis of the symmetries found, each certified (``checks[i].holds``).
        checks: `check_symmetry` of each generator.
        complete: True iff every step was exact, so the generators span all symmetries inside the ansatz
            (for generic values of symbolic parameters).
        reason: why ``complete`` is False ("" otherwise).
        budget_exceeded: True when the time budget ran out (nothing decided).
    """

    system: ODESystem
    ansatz: object
    generators: tuple[Generator, ...]
    checks: tuple[SymmetryCheck, ...]
    complete: bool
    reason: str
    budget_exceeded: bool = False

    @property
    def status(self) -> Status:
        """`Status.COMPLETE` (every step exact), `Status.INCOMPLETE` (every generator certified, the search not
        exhaustive; ``reason`` says why) or `Status.UNDECIDED` (the budget ran out: nothing decided)."""
        if self.complete:
            return Status.COMPLETE
        return Status.UNDECIDED if self.budget_exceeded else Status.INCOMPLETE


def _monomials(variables: Sequence[sp.Symbol], degree: int) -> list[sp.Expr]:
    out = [sp.S.One]
    for d in range(1, degree + 1):
        out.extend(sp.Mul(*c) for c in itertools.combinations_with_replacement(variables, d))
    return out


def _tidy(vector: Sequence[sp.Expr]) -> list[sp.Expr]:
    """Clear denominators and common factors of a null vector (a basis vector may be rescaled freely)."""
    vector = [sp.cancel(v) for v in vector]
    dens = [sp.denom(sp.together(v)) for v in vector if v != 0]
    scale = sp.lcm(dens) if dens else sp.S.One
    vector = [sp.cancel(v * scale) for v in vector]
    nums = [v for v in vector if v != 0]
    g = sp.gcd(nums) if nums else sp.S.One
    return [sp.factor(sp.cancel(v / g)) for v in vector] if g not in (0, 1) else [sp.factor(v) for v in vector]


def _polynomial(system: ODESystem, degree: int) -> tuple[list[Generator], bool, str]:
    variables = (system.t, *system.states)
    monomials = _monomials(variables, degree)
    coeffs = [[sp.Symbol(f"_c{k}_{m}") for m in range(len(monomials))] for k in range(len(variables))]
    components = [sum(c * m for c, m in zip(row, monomials)) for row in coeffs]
    generic = Generator(system, components[0], tuple(components[1:]))
    unknowns = [c for row in coeffs for c in row]
    null = null_space(symmetry_condition(generic), unknowns, variables)
    generators = []
    for vector in null.basis:
        vector = _tidy(vector)
        values = dict(zip(unknowns, vector))
        generators.append(generic.subs(values))
    return generators, null.complete, null.reason


def _separable(system: ODESystem, ansatz: Mapping[sp.Symbol, Sequence[sp.Symbol]]) -> tuple[list[Generator], bool,
                                                                                          str]:
    # Keys and listed variables are matched by name (a user's sp.symbols("x") or x(t) is the state x).
    variables = {v.name: v for v in (system.t, *system.states)}

    def own(v: Any, what: str) -> sp.Symbol:
        c = system.canonical(v, what=what)
        if c not in variables.values():
            raise ValueError(f"{what} {v} is not a variable of the system; variables are {list(variables)}")
        return c
    try:
        ansatz = {own(k, "ansatz key"): tuple(own(v, f"ansatz[{k}] entry") for v in vs) for k, vs in ansatz.items()}
    except TypeError as err:
        raise ValueError(f"ansatz must map variables to sequences of variables, got {ansatz!r}") from err
    deq = determining_equations(system, ansatz)  # ValueError on a bad ansatz, before any solving
    try:
        solution = solve_determining_equations(deq)
    except ValueError:
        raise
    except (NotImplementedError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as err:
        # SymPy internals (dsolve's KeyError 'n_' and the like) become one readable reason.
        return [], False, f"the separable solver failed: {type(err).__name__}: {err}"
    variables = (system.t, *system.states)
    out, assumed = [], set()
    for g in solution.basis():
        comps = []
        for c in g.components:
            c, generic = generic_branches(c, variables)  # the branch valid for generic parameter values
            assumed.update(generic)
            comps.append(sp.simplify(c))
        out.append(Generator(system, comps[0], tuple(comps[1:])))
    # Generic parameter values are part of the answer, not an inexact step: recorded, complete stays True.
    return out, True, ""


def find_symmetries(system: ODESystem, ansatz: Polynomial | Mapping[sp.Symbol, Sequence[sp.Symbol]], *,
                    budget_s: float | None = 60.0, throw: bool = True) -> SymmetryBasis:
    """A basis of the Lie point symmetries of ``system`` inside ``ansatz``, each certified.

    Args:
        system: dx/dt = f(t, x) (paper eq 7).
        ansatz: `Polynomial(degree)`, or a separable dict ``{variable: (variables its infinitesimal depends on)}``
            as in `symnb.core.lie.determining_equations` (the paper's choice for its toy is ``{t: (t,), z: (z,)}``).
        budget_s: wall-clock budget for the SymPy work (None: unbounded); past it nothing is decided
            (`Status.UNDECIDED`, no generators).
        throw: raise `NotDecided` when the status is `Status.UNDECIDED` (default); False returns the empty result.
            An inexact but certified search (`Status.INCOMPLETE`) is returned either way.

    Returns:
        `SymmetryBasis`: the generators (a basis of the solution space; for symbolic parameters, generic values),
        each passing `check_symmetry`, with its `Status` (``status``, ``complete``) and ``reason``.

    Raises:
        ValueError: for an ansatz that is neither a `Polynomial` nor a dict, or a dict naming unknown variables.
        NotDecided: with ``throw=True``, when the budget ran out before anything was decided.
    """
    if not isinstance(system, ODESystem):
        raise ValueError(f"system must be an ODESystem, got {type(system).__name__}")
    if not isinstance(ansatz, (Polynomial, Mapping)):
        raise ValueError(f"ansatz must be Polynomial(degree) or a dict {{variable: (variables,)}}, got {ansatz!r}")
    try:
        with time_budget(budget_s):
            if isinstance(ansatz, Polynomial):
                found, complete, reason = _polynomial(system, ansatz.degree)
            else:
                found, complete, reason = _separable(system, ansatz)
            checks = [check_symmetry(g) for g in found]
    except BudgetExceeded as err:
        result = SymmetryBasis(system, ansatz, (), (), False, f"{err} while solving; nothing certified", True)
        if throw:
            raise NotDecided(result, f"symmetries of the {len(system.states)}-state system") from err
        return result
    kept = [(g, c) for g, c in zip(found, checks) if c.holds]
    if len(kept) < len(found):
        # A candidate that the independent check does not confirm is never returned; say so.
        bad = [g.components for g, c in zip(found, checks) if not c.holds]
        complete = False
        reason = "; ".join(filter(None, [reason, f"{len(bad)} candidate(s) failed check_symmetry and were "
                                                  f"withheld: {bad}"]))
    return SymmetryBasis(system, ansatz, tuple(g for g, _ in kept), tuple(c for _, c in kept), complete, reason)
