"""Derive first integrals of an ODE system, and certify each: numeric screen, then D_t I = 0 symbolically.

Three routes (paper §2.2-2.3, eq 14; the paper derives its conserved quantities by hand, eqs 22-24 and 39-42):

* ``basis`` -- the conserved part of the linear span of candidate functions h_1..h_m: sum c_j D_t h_j = 0
  identically is a homogeneous linear system for the c_j, solved exactly over the rational functions of the
  parameters (so Lotka-Volterra's V comes out with alpha, beta, gamma, delta symbolic).  The method of
  undetermined coefficients for conservation laws (Olver 1986, section 4.3; Hydon 2000, section 7.1).
* ``symmetries`` -- a Lie point symmetry X = (T, X_i) of a scalar ODE z' = f(t, z) gives the integrating factor
  1/(Z - f T) of dz - f dt (Lie's integrating factor; Hydon 2000, section 2.5); for a planar autonomous system an
  autonomous symmetry (xi, eta) gives the factor 1/(xi g - eta f) of the orbit equation g dx - f dy = 0.  The
  first integral is the potential of the exact 1-form (a function of it is reported when it is a logarithm).
* ``lagrangian`` -- Noether's theorem (Olver 1986, Thm 4.29) for generators given on the first-order state: the
  components along the Lagrangian's coordinates define a point generator; its charge (`symnb.core.noether`) is
  written back in the system's variables through the velocity map q_t = f_q.

Every candidate is screened at random points (float64 through the one bridge) and then D_t I is simplified
under a time budget; only certified integrals are returned, and ``complete=False`` says what was not decided.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp
import torch

from .bridge import to_torch
from .zero import ZeroStatus, decide_zero
from .coefficients import generic_branches, null_space, sample_value
from .lie import Generator
from .noether import noether_charge
from .ode import ODESystem, total_derivative
from .symmetries import SymmetryBasis, _tidy

__all__ = ["FirstIntegral", "FirstIntegrals", "first_integrals", "certify_integral", "real_domain"]

ROUTES = ("basis", "symmetry", "noether")


@dataclass(frozen=True)
class FirstIntegral:
    """One certified first integral I(t, x) of a system.

    Attributes:
        expr: I.
        route: ``"basis"``, ``"symmetry"`` or ``"noether"``.
        source: what it came from (the basis combination, the generator).
        derivative: D_t I along the flow after simplification (0: certified).
        domain: conditions for I to be real ("" when it is real everywhere its formula is defined).
    """

    expr: sp.Expr
    route: str
    source: str
    derivative: sp.Expr
    domain: str


@dataclass(frozen=True)
class FirstIntegrals:
    """The result of `first_integrals`: certified integrals, and whether the search was exhaustive.

    Attributes:
        system: the ODE system.
        integrals: the certified first integrals.
        complete: True iff every step was exact and every candidate decided (basis route: the integrals span
            the conserved part of the span; symmetry/Noether routes: every given generator was used).
        reason: why ``complete`` is False, or notes ("" otherwise).
    """

    system: ODESystem
    integrals: tuple[FirstIntegral, ...]
    complete: bool
    reason: str

    def __len__(self) -> int:
        return len(self.integrals)

    def __iter__(self):
        return iter(self.integrals)

    def __getitem__(self, i: int) -> FirstIntegral:
        return self.integrals[i]


def real_domain(expr: sp.Expr, variables: Sequence[sp.Symbol] = ()) -> str:
    """Where ``expr`` is real: the arguments of log and of even roots must be positive, of asin/acos in [-1, 1].

    Returns:
        A short description ("" if no such function occurs), e.g. ``"log(tanh(u)) needs tanh(u) > 0"``.
    """
    notes = []
    for a in sorted(expr.atoms(sp.log), key=sp.default_sort_key):
        arg = a.args[0]
        if not (arg.is_positive or isinstance(arg, sp.Abs)):
            notes.append(f"{sp.sstr(a)} needs {sp.sstr(arg)} > 0")
    for a in sorted(expr.atoms(sp.Pow), key=sp.default_sort_key):
        if a.exp.is_Rational and not a.exp.is_Integer and a.exp.q % 2 == 0 and not a.base.is_nonnegative:
            notes.append(f"{sp.sstr(a)} needs {sp.sstr(a.base)} >= 0")
    for a in sorted(expr.atoms(sp.asin, sp.acos, sp.atanh), key=sp.default_sort_key):
        notes.append(f"{sp.sstr(a)} needs |{sp.sstr(a.args[0])}| <= 1")
    return "; ".join(notes)


def certify_integral(expr: sp.Expr, system: ODESystem, budget_s: float | None = 20.0) -> tuple[str, sp.Expr]:
    """Is ``expr`` a first integral of ``system``?  Numeric screen first, then D_t I simplified under a budget.

    Returns:
        (status, derivative): status ``"zero"`` (certified), ``"nonzero"`` (refuted at a sample point) or
        ``"undecided"`` (numerically zero, symbolic proof not reached within the budget).
    """
    expr = sp.sympify(expr)
    derivative = total_derivative(expr, system)
    if derivative == 0:
        return "zero", sp.S.Zero
    scale = sp.Abs(sp.diff(expr, system.t)) + sum(sp.Abs(sp.diff(expr, x) * f) for x, f in zip(system.states,
                                                                                             system.rhs))
    decision = decide_zero(derivative, scale=scale, samples=12, budget_s=budget_s)
    if decision.status == ZeroStatus.NONZERO:
        return "nonzero", derivative
    return decision.status, decision.simplified


def _nonconstant(expr: sp.Expr, system: ODESystem) -> bool:
    return bool(expr.free_symbols & {system.t, *system.states})


def _independent(expr: sp.Expr, kept: Sequence[sp.Expr], system: ODESystem) -> bool:
    """Is ``expr`` linearly independent (over the parameters) of the already kept integrals?

    Needed when the candidate functions are themselves dependent (e.g. u f, u z and u for f = theta1 z + theta2):
    the null space then holds several combinations giving the same integral.
    """
    if not kept:
        return True
    ds = [sp.Symbol(f"_d{k}") for k in range(len(kept) + 1)]
    combo = sum(d * e for d, e in zip(ds, [*kept, expr]))
    return not null_space([combo], ds, (system.t, *system.states)).basis


def _by_basis(system: ODESystem, basis: Sequence[sp.Expr]) -> tuple[list[tuple[sp.Expr, str]], bool, str]:
    basis = [sp.sympify(h) for h in basis]
    cs = [sp.Symbol(f"_b{j}") for j in range(len(basis))]
    rate = sum(c * total_derivative(h, system) for c, h in zip(cs, basis))
    null = null_space([rate], cs, (system.t, *system.states))
    found = []
    for vector in null.basis:
        vector = _tidy(vector)  # clear parameter denominators and common factors; any multiple is conserved
        lead = next(v for v in vector if v != 0)
        if lead.could_extract_minus_sign():
            vector = [-v for v in vector]
        expr = sp.expand(sum(v * h for v, h in zip(vector, basis)))
        if _nonconstant(expr, system) and _independent(expr, [e for e, _ in found], system):
            found.append((expr, "span of the basis: " + ", ".join(f"{sp.sstr(v)}*{sp.sstr(h)}"
                                                                   for v, h in zip(vector, basis) if v != 0)))
    return found, null.complete, null.reason


def _potential(p: sp.Expr, q: sp.Expr, a: sp.Symbol, b: sp.Symbol) -> sp.Expr | None:
    """A function I with dI/da = p, dI/db = q (the 1-form must be closed); None if SymPy cannot integrate."""
    first = sp.integrate(sp.cancel(p), a)
    if first.has(sp.Integral):
        return None
    rest = sp.cancel(q - sp.diff(first, b))
    if rest.has(a) and sp.simplify(sp.diff(rest, a)) != 0:
        return None
    second = sp.integrate(rest, b)
    if second.has(sp.Integral):
        return None
    return first + second


def _unlog(expr: sp.Expr, system: ODESystem) -> sp.Expr:
    """If I = sum_i c_i log(h_i) + constant with rational c_i, report prod h_i**(c_i/c_1) (a function of a first
    integral is one; this one has no logarithm).  Anything else is returned unchanged."""
    variables = {system.t, *system.states}
    terms = [tm for tm in sp.Add.make_args(sp.expand(expr)) if tm.free_symbols & variables]
    pairs = []
    for tm in terms:
        coeff, rest = tm.as_coeff_Mul()
        if not isinstance(rest, sp.log) or not coeff.is_Rational:
            return expr
        pairs.append((coeff, rest.args[0]))
    if not pairs:
        return expr
    c1 = pairs[0][0]
    h = sp.factor(sp.simplify(sp.Mul(*(arg ** (c / c1) for c, arg in pairs))))
    if isinstance(h, sp.Pow) and h.exp.is_Rational:
        h = h.base if h.exp > 0 else 1 / h.base
    return sp.factor(h) if h.free_symbols & variables else expr


def _by_symmetry(system: ODESystem, generator: Generator) -> tuple[sp.Expr | None, str]:
    """Lie's integrating factor from one symmetry: (I, note) or (None, why not)."""
    t, xs, fs = system.t, system.states, system.rhs
    if len(xs) == 1:
        (z,), (f,) = xs, fs
        denom = sp.simplify(generator.coefficients[0] - f * generator.time)
        if denom == 0:
            return None, f"{generator.components} is parallel to the flow (trivial symmetry): no integrating factor"
        mu = 1 / denom
        potential = _potential(-mu * f, mu, t, z)
    elif len(xs) == 2 and system.is_autonomous:
        xi, eta = generator.coefficients
        if (xi.has(t) or eta.has(t)):
            return None, f"{generator.components} depends on t: the orbit-equation route needs an autonomous one"
        (x, y), (f, g) = xs, fs
        denom = sp.simplify(xi * g - eta * f)
        if denom == 0:
            return None, f"{generator.components} is parallel to the flow (or zero on orbits): no integrating factor"
        mu = 1 / denom
        potential = _potential(mu * g, -mu * f, x, y)
    else:
        return None, (f"the symmetry route handles one state or two autonomous states; this system has "
                      f"{len(xs)} states{'' if system.is_autonomous else ' and is not autonomous'}")
    if potential is None:
        return None, f"SymPy could not integrate the 1-form of {generator.components} in closed form"
    potential, _ = generic_branches(potential, (t, *xs))
    return _unlog(potential, system), f"integrating factor of {generator.components}"


def _by_noether(system: ODESystem, lagrangian, generator: Generator) -> tuple[sp.Expr | None, str]:
    """Noether charge of the generator's coordinate part, written in the system's variables."""

    coords = lagrangian.coords
    missing = [q for q in coords if q not in system.states]
    if missing or lagrangian.t != system.t:
        return None, f"Lagrangian coordinates {missing or coords} / time are not states / time of the system"
    index = {x: i for i, x in enumerate(system.states)}
    comps = [generator.coefficients[index[q]] for q in coords]
    others = set(system.states) - set(coords)
    if any(c.free_symbols & others for c in (generator.time, *comps)):
        return None, f"{generator.components} moves the coordinates depending on velocities: not a point symmetry of L"
    try:
        charge = noether_charge(lagrangian, lagrangian.generator(generator.time, comps))
    except ValueError as err:
        return None, f"{generator.components} is not a variational symmetry with gauge 0 ({str(err)[:80]})"
    # The velocity map q_t = f_q(t, x) of the first-order system expresses the charge in its own variables.
    velocity = {v: system.rhs[index[q]] for q, v in zip(coords, lagrangian.velocities)}
    return sp.simplify(charge.charge.subs(velocity)), f"Noether charge of {generator.components}"


def first_integrals(system: ODESystem, *, symmetries: SymmetryBasis | Sequence[Generator] | None = None,
                    basis: Sequence[sp.Expr] | None = None, lagrangian=None,
                    budget_s: float | None = 20.0) -> FirstIntegrals:
    """First integrals of ``system`` by one route, each certified (numeric screen, then D_t I = 0 symbolically).

    Args:
        system: dx/dt = f(t, x) (paper eq 7).
        symmetries: generators (a `find_symmetries` result or a sequence of `Generator`): with ``lagrangian``
            they go through Noether, without it through Lie's integrating factor (scalar or planar autonomous).
        basis: candidate functions of t and the states; the conserved part of their span is returned (a basis
            of it), with the parameters kept symbolic.
        lagrangian: a `symnb.core.noether.Lagrangian` whose coordinates are states of ``system`` (Noether route;
            needs ``symmetries``).
        budget_s: time budget for each symbolic certification.

    Returns:
        `FirstIntegrals`.

    Raises:
        ValueError: if not exactly one route is chosen (``basis``, or ``symmetries`` with or without
            ``lagrangian``), or ``lagrangian`` is given without ``symmetries``.
    """
    if not isinstance(system, ODESystem):
        raise ValueError(f"system must be an ODESystem, got {type(system).__name__}")
    if lagrangian is not None and symmetries is None:
        raise ValueError("lagrangian needs symmetries: Noether's theorem turns each given generator into a charge")
    if (basis is None) == (symmetries is None):
        raise ValueError("choose one route: basis=[candidate functions], or symmetries=[generators] "
                         f"(optionally with lagrangian=...); got basis={basis!r}, symmetries={symmetries!r}")
    notes: list[str] = []
    complete = True
    candidates: list[tuple[sp.Expr, str, str]] = []
    if basis is not None:
        if not len(basis):
            raise ValueError("basis is empty; give at least one candidate function")
        found, exact, reason = _by_basis(system, basis)
        complete &= exact
        if reason:
            notes.append(reason)
        candidates = [(e, "basis", src) for e, src in found]
    else:
        generators = symmetries.generators if isinstance(symmetries, SymmetryBasis) else tuple(symmetries)
        if isinstance(symmetries, SymmetryBasis) and not symmetries.complete:
            complete = False
            notes.append(f"the symmetry search was incomplete: {symmetries.reason}")
        for g in generators:
            if g.system != system:
                raise ValueError(f"generator {g.components} belongs to another system")
            if lagrangian is None:
                expr, note = _by_symmetry(system, g)
                route = "symmetry"
            else:
                expr, note = _by_noether(system, lagrangian, g)
                route = "noether"
            if expr is None:
                notes.append(note)
                # Trivial or non-variational generators carry no integral; a failed step is an omission.
                if not ("parallel to the flow" in note or "not a variational symmetry" in note):
                    complete = False
                continue
            if _nonconstant(expr, system):
                candidates.append((expr, route, note))
    certified = []
    for expr, route, source in candidates:
        expr, _ = generic_branches(expr, (system.t, *system.states))
        status, derivative = certify_integral(expr, system, budget_s)
        if status == "zero":
            certified.append(FirstIntegral(expr, route, source, derivative, real_domain(expr)))
        elif status == "undecided":
            complete = False
            notes.append(f"{sp.sstr(expr)}: numerically conserved but not proved within {budget_s} s; withheld")
        else:
            complete = False
            notes.append(f"{sp.sstr(expr)}: refuted by the numeric screen (D_t I != 0); withheld")
    return FirstIntegrals(system, tuple(certified), complete, "; ".join(notes))
