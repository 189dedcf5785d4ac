"""Derive first integrals of an ODE system, and certify each: numeric screen, then D_t I = 0 symbolically.

Routes are objects (`ROUTES`), each saying whether it applies to a request before any work (`classify_routes`,
after SymPy's ``classify_ode``); the paper derives its conserved quantities by hand (§2.2-2.3, eq 14, eqs 22-24 and
39-42):

* ``basis`` -- the conserved part of the linear span of candidate functions (`Polynomial(d)`: every polynomial in
  the states of total degree <= d; `Basis`: given functions such as 1/r or log x, monomials times them, and
  time factors e^{kt} with k solved for): sum c_j D_t h_j = 0 identically is a homogeneous linear system for the
  c_j, solved exactly over the rational functions of the parameters (so Lotka-Volterra's V comes out with alpha,
  beta, gamma, delta symbolic).  The method of undetermined coefficients for conservation laws (Olver 1986,
  section 4.3; Hydon 2000, section 7.1), through the shared engine `symnb.core.coefficients`.
* ``symmetry`` -- Lie's integrating factor: for a scalar ODE z' = f(t, z) a symmetry X = (T, Z) gives the factor
  1/(Z - f T) of dz - f dt; for an autonomous system of n >= 2 states, n - 1 symmetries whose state parts
  commute and are transversal to the flow F give the dual coframe of (F, X_1, .., X_{n-1}): its last n - 1 forms
  are closed and annihilate F, so their potentials are n - 1 first integrals (Olver 1986, section 2.5 and
  exercise 2.19; Hydon 2000, section 2.5).  For n = 2 this is the factor 1/(xi g - eta f) of the orbit equation.
* ``noether`` -- Noether's theorem (Olver 1986, Thm 4.29) for generators given on the first-order state, with a
  Lagrangian in the system's coordinates and velocities (`ODESystem.velocity`, `Lagrangian.mechanical`).

Antiderivatives are real: log(u) of an integration is written log(u**2)/2 = log|u| (SymPy's complex branch has a
constant imaginary part), so a domain note appears only where the integral is truly undefined.  Every candidate
is screened at random points (float64 through the one bridge) and then D_t I is simplified under a time budget;
only certified integrals are returned, and the `Status` says what was not decided.  A user's symbols, ``x(t)``
and parameter names are matched to the system's by name (`ODESystem.canonical`).
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from .zero import ZeroStatus, decide_zero
from .coefficients import generic_branches, null_space
from .status import NotDecided, Status
from .lie import Generator
from .noether import Lagrangian, noether_charge
from .ode import ODESystem, total_derivative
from .symmetries import Polynomial, SymmetryBasis, _tidy

__all__ = ["Status", "NotDecided", "Basis", "FirstIntegral", "FirstIntegrals", "Route", "ROUTES", "classify_routes",
           "first_integrals", "certify_integral", "real_domain", "integral_expr"]


@dataclass(frozen=True)
class Basis:
    """An ansatz for the ``basis`` route: the candidate functions whose conserved combinations are searched.

    Candidates: the monomials of total degree 1..``degree`` in the states; each of ``functions`` times every
    monomial of degree 0..``function_degree``; with ``time_factor`` also e^{kt} P(x) for polynomials P of degree
    <= ``degree``, k solved for (autonomous polynomial systems).  Symbols are matched to the system's by name.

    Attributes:
        degree: the polynomial degree (>= 0; 0 means no monomials).
        functions: further functions of t and the states (e.g. ``1/sqrt(x**2 + y**2)``, ``log(x)``).
        function_degree: degree of the monomials multiplying each function (default 0: the function alone).
        time_factor: also search e^{kt} P(x) with k an eigenvalue of P -> -D_t P (Lorenz at special parameters).

    Raises:
        ValueError: for a negative or non-integer degree, or an empty ansatz.
    """

    degree: int = 0
    functions: tuple = ()
    function_degree: int = 0
    time_factor: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "functions", tuple(self.functions))
        for name in ("degree", "function_degree"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"Basis {name} must be an integer >= 0, got {v!r}")
        if not self.functions and self.degree == 0:
            raise ValueError("Basis is empty: give degree >= 1 or at least one function")

    def candidates(self, system: ODESystem) -> list[sp.Expr]:
        """The candidate functions in ``system``'s symbols (monomials first, then the functions times monomials).

        Raises:
            ValueError: if a function uses a symbol the system does not know.
        """
        funcs = [system.canonical(f, what=f"Basis.functions[{i}]") for i, f in enumerate(self.functions)]
        out = _monomials(system.states, self.degree)
        for f in funcs:
            out.extend(sp.expand(f * m) for m in [sp.S.One, *_monomials(system.states, self.function_degree)])
        return list(dict.fromkeys(o for o in out if o.free_symbols & {system.t, *system.states}))


def _monomials(states: Sequence[sp.Symbol], degree: int) -> list[sp.Expr]:
    return [sp.Mul(*c) for d in range(1, degree + 1) for c in itertools.combinations_with_replacement(states, d)]


@dataclass(frozen=True)
class FirstIntegral:
    """One certified first integral I(t, x) of a system.

    Attributes:
        expr: I.
        route: ``"basis"``, ``"symmetry"`` or ``"noether"``.
        source: what it came from (the basis combination, the generator).
        derivative: D_t I along the flow after simplification (0: certified).
        domain: where I is undefined or not real ("" when it is real everywhere its formula is defined).
    """

    expr: sp.Expr
    route: str
    source: str
    derivative: sp.Expr
    domain: str


@dataclass(frozen=True)
class FirstIntegrals:
    """The result of `first_integrals`: certified integrals, and how far the search went.

    Attributes:
        system: the ODE system.
        integrals: the certified first integrals.
        status: a `Status`.
        reason: why the status is not COMPLETE, or notes ("" otherwise); each note once.
        route: the route that ran.
    """

    system: ODESystem
    integrals: tuple[FirstIntegral, ...]
    status: Status
    reason: str
    route: str = "basis"

    @property
    def complete(self) -> bool:
        """``status is Status.COMPLETE``."""
        return self.status is Status.COMPLETE

    def __len__(self) -> int:
        return len(self.integrals)

    def __iter__(self):
        return iter(self.integrals)

    def __getitem__(self, i: int) -> FirstIntegral:
        return self.integrals[i]

    def __repr__(self) -> str:  # short: a result passed where one integral is expected must not flood the screen
        return (f"FirstIntegrals({len(self.integrals)} integral(s) by {self.route!r}, status={self.status.value}"
                f"{', reason=' + repr(self.reason[:80]) if self.reason else ''})")


def integral_expr(integral: Any, system: ODESystem, what: str = "integral") -> sp.Expr:
    """One integral as an expression in ``system``'s symbols (a user's symbols and ``x(t)`` matched by name).

    Args:
        integral: a SymPy expression, a number, or a `FirstIntegral` (its ``.expr``).
        system: the system whose symbols the expression must use.
        what: the argument's name in error messages.

    Returns:
        The expression in the system's symbols.

    Raises:
        ValueError: for a `FirstIntegrals` (several integrals: pick one), or an expression with symbols the system
            does not know (named, with the states).
        TypeError: for an object that is not an expression.
    """
    if isinstance(integral, FirstIntegrals):
        raise ValueError(f"{what} must be one integral, got a FirstIntegrals with {len(integral)} integral(s); "
                         f"pass one of them, e.g. result[0]")
    return system.canonical(getattr(integral, "expr", integral), what=what)


def _real_log(expr: sp.Expr) -> sp.Expr:
    """log(u) -> log(u**2)/2 = log|u| for a real u not known positive: the real antiderivative of u'/u.

    SymPy's antiderivatives use the complex branch (for 1/cos it differs from the real one by a constant i*pi/theta1);
    log(u**2)/2 has the same derivative and is real wherever u != 0.
    """
    def fix(e: sp.log) -> sp.Expr:
        a = e.args[0]
        if a.is_nonnegative or a.has(sp.I) or a.is_real is False or (isinstance(a, sp.Pow) and a.exp == 2):
            return e
        return sp.log(a**2) / 2
    return expr.replace(lambda e: isinstance(e, sp.log), fix)


def _nonzero(a: sp.Expr) -> bool:
    """Cheap proof that a real expression has no real zero (positive, or positive after rewriting in exp)."""
    if a.is_positive or a.is_negative or a.is_nonzero:
        return True
    try:
        b = sp.together(a.rewrite(sp.exp))
        return bool(b.is_positive or b.is_negative)
    except (TypeError, ValueError, AttributeError):
        return False


def real_domain(expr: sp.Expr, variables: Sequence[sp.Symbol] = ()) -> str:
    """Where ``expr`` fails to be defined or real: zeros of log's argument, negative arguments of log and of even
    roots, |argument| > 1 of asin/acos/atanh.

    Args:
        expr: the expression.
        variables: unused (kept for callers); the symbols' assumptions decide positivity.

    Returns:
        A short description ("" if the expression is real and defined wherever its symbols' assumptions hold),
        e.g. ``"log(u**2)/2 = log|u|: undefined where u = 0"``.
    """
    notes = []
    for a in sorted(expr.atoms(sp.log), key=sp.default_sort_key):
        arg = a.args[0]
        if isinstance(arg, sp.Pow) and arg.exp == 2 and not arg.base.has(sp.I):
            if not _nonzero(arg.base):
                notes.append(f"log|{sp.sstr(arg.base)}| undefined where {sp.sstr(arg.base)} = 0")
        elif isinstance(arg, sp.Abs):
            if not _nonzero(arg.args[0]):
                notes.append(f"log|{sp.sstr(arg.args[0])}| undefined where {sp.sstr(arg.args[0])} = 0")
        elif arg.is_nonnegative and not arg.is_positive:
            notes.append(f"{sp.sstr(a)} undefined where {sp.sstr(arg)} = 0")
        elif not arg.is_positive:
            notes.append(f"{sp.sstr(a)} needs {sp.sstr(arg)} > 0")
    for a in sorted(expr.atoms(sp.Pow), key=sp.default_sort_key):
        if a.exp.is_Rational and not a.exp.is_Integer and a.exp.q % 2 == 0 and not a.base.is_nonnegative:
            notes.append(f"{sp.sstr(a)} needs {sp.sstr(a.base)} >= 0")
    for a in sorted(expr.atoms(sp.asin, sp.acos, sp.atanh), key=sp.default_sort_key):
        notes.append(f"{sp.sstr(a)} needs |{sp.sstr(a.args[0])}| <= 1")
    return "; ".join(dict.fromkeys(notes))


def certify_integral(expr: sp.Expr, system: ODESystem, budget_s: float | None = 20.0) -> tuple[str, sp.Expr]:
    """Is ``expr`` a first integral of ``system``?  Numeric screen first, then D_t I simplified under a budget.

    Args:
        expr: I(t, x), in the system's symbols or the user's (matched by name; ``x(t)`` is the state x).
        system: the ODE system.
        budget_s: seconds for the symbolic proof (None: unbounded).

    Returns:
        (status, derivative): status ``"zero"`` (certified), ``"nonzero"`` (refuted at a sample point) or
        ``"undecided"`` (numerically zero, symbolic proof not reached within the budget).

    Raises:
        ValueError: if ``expr`` uses symbols the system does not know, or is a `FirstIntegrals`.
    """
    expr = integral_expr(expr, system)
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

    Needed when the candidate functions are themselves dependent (e.g. u f, u z and u for f = theta1 z + theta2),
    or when two generators give the same integral up to sign.
    """
    if not kept:
        return True
    ds = [sp.Symbol(f"_d{k}") for k in range(len(kept) + 1)]
    combo = sum(d * e for d, e in zip(ds, [*kept, expr]))
    return not null_space([combo], ds, (system.t, *system.states)).basis


def _by_basis(system: ODESystem, basis: Sequence[sp.Expr]) -> tuple[list[tuple[sp.Expr, str]], bool, str]:
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
        if _nonconstant(expr, system):
            found.append((expr, "span of the basis: " + ", ".join(f"{sp.sstr(v)}*{sp.sstr(h)}"
                                                                   for v, h in zip(vector, basis) if v != 0)))
    return found, null.complete, null.reason


def _is_polynomial_field(system: ODESystem) -> bool:
    return system.is_autonomous and all(f.is_polynomial(*system.states) for f in system.rhs)


def _exponential(system: ODESystem, degree: int) -> tuple[list[tuple[sp.Expr, str]], bool, str]:
    """Integrals e^{kt} P(x), P a polynomial of degree <= ``degree``: D_t(e^{kt} P) = e^{kt}(k P + L P) with
    L P = grad P . f, so P is an eigenvector of L with eigenvalue -k.  L is restricted to its largest invariant
    subspace inside the polynomials of degree <= ``degree`` (W <- {w in W : L w in W} until it stops shrinking),
    where it is a square matrix whose eigenvectors are found exactly."""
    xs = system.states
    mons = _monomials(xs, degree)
    images = [sp.Poly(sp.expand(total_derivative(m, system)), *xs) for m in mons]
    keys = [sp.Poly(m, *xs).monoms()[0] for m in mons]
    extra = sorted({mo for p in images for mo in p.monoms()} - set(keys))
    rows = keys + extra
    at = {mo: i for i, mo in enumerate(rows)}
    A = sp.zeros(len(rows), len(mons))
    for j, p in enumerate(images):
        for mo, c in zip(p.monoms(), p.coeffs()):
            A[at[mo], j] = c
    E = sp.zeros(len(rows), len(mons))
    for i in range(len(mons)):
        E[i, i] = 1
    N = sp.eye(len(mons))
    while N.cols:
        null = sp.Matrix.hstack(A * N, -E * N).nullspace(simplify=True)
        if not null:
            N = sp.zeros(len(mons), 0)
            break
        Y = sp.Matrix.hstack(*null)[:N.cols, :]
        cols = (N * Y).columnspace(simplify=True)
        if len(cols) == N.cols:
            break
        N = sp.Matrix.hstack(*cols) if cols else sp.zeros(len(mons), 0)
    if not N.cols:
        return [], True, ""
    B = sp.simplify((N.T * N).inv() * N.T * A[:len(mons), :] * N)
    found = []
    for lam, _, vecs in B.eigenvects(simplify=True):
        lam = sp.simplify(lam)
        if lam == 0:  # time-independent: found by the polynomial span itself
            continue
        for v in vecs:
            coeffs = _tidy(list(N * v))
            if next(c for c in coeffs if c != 0).could_extract_minus_sign():
                coeffs = [-c for c in coeffs]
            P = sp.expand(sum(c * m for c, m in zip(coeffs, mons)))
            found.append((sp.exp(-lam * system.t) * P, f"e^(k t) P with k = {sp.sstr(-lam)}: L P = {sp.sstr(lam)} P"))
    return found, True, ""


def _potential(omega: Sequence[sp.Expr], variables: Sequence[sp.Symbol]) -> sp.Expr | None:
    """A function I with dI/dx_j = omega_j (the 1-form must be closed); None if SymPy cannot integrate."""
    total = sp.S.Zero
    for j, x in enumerate(variables):
        rest = sp.cancel(sp.together(omega[j] - sp.diff(total, x)))
        if rest == 0:
            continue
        if any(rest.has(y) and sp.simplify(sp.diff(rest, y)) != 0 for y in variables[:j]):
            return None
        part = sp.integrate(rest, x)
        if part.has(sp.Integral):
            return None
        total += part
    return total


def _unlog(expr: sp.Expr, system: ODESystem) -> sp.Expr:
    """If I = sum_i c_i log|h_i| + constant with rational c_i, report prod h_i**e_i with integer exponents e_i
    proportional to the c_i, even where h_i may be negative (a function of a first integral is one; this one has
    no logarithm and is real).  Anything else is returned unchanged."""
    variables = {system.t, *system.states}
    terms = [tm for tm in sp.Add.make_args(sp.expand(expr)) if tm.free_symbols & variables]
    pairs = []
    for tm in terms:
        coeff, rest = tm.as_coeff_Mul()
        if not isinstance(rest, sp.log) or not coeff.is_Rational:
            return expr
        arg = rest.args[0]
        if isinstance(arg, sp.Pow) and arg.exp == 2:  # log(u**2)/2 = log|u|
            pairs.append((2 * coeff, arg.base, True))
        else:
            pairs.append((coeff, arg, not arg.is_nonnegative))
    if not pairs:
        return expr
    ratios = [c / pairs[0][0] for c, _, _ in pairs]
    q = sp.ilcm(1, *[r.q for r in ratios])
    exps = [int(r * q) for r in ratios]
    if any(e % 2 and signed for e, (_, _, signed) in zip(exps, pairs)):
        exps = [2 * e for e in exps]  # even powers: |h|**e = h**e, real for either sign of h
    h = sp.factor(sp.Mul(*(arg ** e for e, (_, arg, _) in zip(exps, pairs))))
    return h if h.free_symbols & variables else expr


def _finish_potential(potential: sp.Expr, system: ODESystem) -> sp.Expr:
    potential, _ = generic_branches(potential, (system.t, *system.states))
    return _unlog(_real_log(potential), system)


def _scalar_or_planar(system: ODESystem, generator: Generator) -> tuple[sp.Expr | None, str, bool]:
    """Lie's integrating factor from one symmetry: (I, note, omitted) -- omitted False when the generator
    provably carries no integral (parallel to the flow)."""
    t, xs, fs = system.t, system.states, system.rhs
    if len(xs) == 1:
        (z,), (f,) = xs, fs
        denom = sp.simplify(generator.coefficients[0] - f * generator.time)
        if denom == 0:
            return None, f"{generator.components} is parallel to the flow (trivial symmetry): no integrating factor", False
        potential = _potential((-f / denom, 1 / denom), (t, z))
    else:
        xi, eta = generator.coefficients
        if xi.has(t) or eta.has(t):
            return None, f"{generator.components} depends on t: the orbit-equation route needs an autonomous one", True
        (x, y), (f, g) = xs, fs
        denom = sp.simplify(xi * g - eta * f)
        if denom == 0:
            return None, f"{generator.components} is parallel to the flow (or zero on orbits): no integrating factor", False
        potential = _potential((g / denom, -f / denom), (x, y))
    if potential is None:
        return None, f"SymPy could not integrate the 1-form of {generator.components} in closed form", True
    return _finish_potential(potential, system), f"integrating factor of {generator.components}", True


def _usable(system: ODESystem, generators: Sequence[Generator]) -> list[Generator]:
    """Generators whose state part is free of t and not zero (candidates for the orbit coframe)."""
    return [g for g in generators if not any(c.has(system.t) for c in g.coefficients)
            and any(c != 0 for c in g.coefficients)]


def _coframe(system: ODESystem, generators: Sequence[Generator]) -> tuple[list[tuple[sp.Expr, str]], str]:
    """n >= 3 states: n - 1 commuting symmetries transversal to the flow give n - 1 integrals (module docstring)."""
    xs, n = system.states, len(system.states)
    F = sp.Matrix(system.rhs)
    usable = _usable(system, generators)
    parts = [sp.Matrix(g.coefficients) for g in usable]

    def bracket(a: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
        return b.jacobian(xs) * a - a.jacobian(xs) * b

    tried = 0
    for combo in itertools.combinations(range(len(usable)), n - 1):
        tried += 1
        if tried > 60:
            break
        if any(sp.simplify(bracket(parts[i], parts[j])) != sp.zeros(n, 1)
               for i, j in itertools.combinations(combo, 2)):
            continue
        M = sp.Matrix.hstack(F, *(parts[i] for i in combo))
        det = sp.factor(M.det())
        if det == 0:
            continue
        inv = M.adjugate() / det
        out = []
        for r in range(1, n):
            potential = _potential([sp.cancel(inv[r, c]) for c in range(n)], xs)
            if potential is None:
                return [], (f"SymPy could not integrate the closed 1-form dual to {usable[combo[r - 1]].components} "
                            "in closed form")
            out.append((_finish_potential(potential, system),
                        f"coframe of the flow and {[usable[i].components for i in combo]}"))
        return out, ""
    return [], (f"the symmetry route for {n} states needs {n - 1} symmetries whose state parts are free of t, "
                f"commute pairwise and are transversal to the flow (det(F, X_1..X_{n - 1}) != 0); among the "
                f"{len(usable)} usable of the {len(generators)} given "
                f"({[g.components for g in usable]}) no such {n - 1} exist -- try first_integrals(system, "
                "Polynomial(d)) instead")


def _noether(system: ODESystem, lagrangian: Lagrangian, generator: Generator) -> tuple[sp.Expr | None, str, bool]:
    """Noether charge of the generator's coordinate part, written in the system's variables."""
    coords = lagrangian.coords
    index = {x: i for i, x in enumerate(system.states)}
    comps = [generator.coefficients[index[q]] for q in coords]
    others = set(system.states) - set(coords)
    if any(c.free_symbols & others for c in (generator.time, *comps)):
        return None, f"{generator.components} moves the coordinates depending on velocities: not a point symmetry of L", False
    try:
        charge = noether_charge(lagrangian, lagrangian.generator(generator.time, comps))
    except ValueError as err:
        return None, f"{generator.components} is not a variational symmetry with gauge 0 ({str(err)[:80]})", False
    # The velocity map q_t = f_q(t, x) of the first-order system expresses the charge in its own variables.
    velocity = {v: system.rhs[index[q]] for q, v in zip(coords, lagrangian.velocities)}
    return sp.simplify(charge.charge.subs(velocity)), f"Noether charge of {generator.components}", True


@dataclass(frozen=True)
class _Request:
    candidates: tuple[sp.Expr, ...] | None
    time_factor: bool
    degree: int
    generators: tuple[Generator, ...] | None
    lagrangian: Lagrangian | None
    notes: tuple[str, ...] = ()
    exact: bool = True


def _per_generator(system: ODESystem, request: "_Request", derive) -> tuple[list, bool, list[str]]:
    """Run ``derive(generator) -> (expr | None, note, omission)`` over the request's generators: keep the
    non-constant integrals, collect the notes of the generators that gave none (an omission makes it inexact)."""
    notes, exact, found = list(request.notes), request.exact, []
    for g in request.generators:
        expr, note, omission = derive(g)
        if expr is None:
            notes.append(note)
            exact &= not omission
        elif _nonconstant(expr, system):
            found.append((expr, note))
    return found, exact, notes


class Route:
    """A way to derive first integrals (SymPy's ``SingleODESolver`` pattern): it says whether it applies to a
    request (`matches`, cheap, before any work) and then produces candidates, which `first_integrals` certifies.

    Attributes:
        name: the key in `ROUTES`.
        needs: what the route needs, in words.
    """

    name = ""
    needs = ""

    def matches(self, system: ODESystem, request: _Request) -> str:
        """"" when the route applies to ``system`` and ``request``, otherwise why not (one sentence)."""
        raise NotImplementedError

    def candidates(self, system: ODESystem, request: _Request) -> tuple[list[tuple[sp.Expr, str]], bool, list[str]]:
        """(candidates (expr, source), exact, notes)."""
        raise NotImplementedError


class BasisRoute(Route):
    """The conserved part of the span of an ansatz (`Polynomial`, `Basis` or a list of functions)."""

    name = "basis"
    needs = "an ansatz: Polynomial(d), Basis(...) or a list of candidate functions"

    def matches(self, system: ODESystem, request: _Request) -> str:
        if request.candidates is None:
            return f"the basis route needs {self.needs}"
        if request.time_factor and not _is_polynomial_field(system):
            return "Basis(time_factor=True) needs an autonomous system with polynomial right-hand sides"
        return ""

    def candidates(self, system, request):
        found, exact, reason = _by_basis(system, list(request.candidates)) if request.candidates else ([], True, "")
        notes = [reason] if reason else []
        if request.time_factor:
            more, ok, note = _exponential(system, max(request.degree, 1))
            found += more
            exact &= ok
            notes += [note] if note else []
        return found, exact, notes


class SymmetryRoute(Route):
    """Lie's integrating factor (one state, or two autonomous states) and the dual coframe of n - 1 commuting
    symmetries (n >= 3 autonomous states)."""

    name = "symmetry"
    needs = "symmetries (a find_symmetries result or Generators), no lagrangian"

    def matches(self, system: ODESystem, request: _Request) -> str:
        if request.generators is None or request.lagrangian is not None:
            return f"the symmetry route needs {self.needs}"
        n = len(system.states)
        if n >= 2 and not system.is_autonomous:
            return (f"the symmetry route handles one state, or an autonomous system; this one has {n} states and "
                    f"its right-hand side depends on {system.t} (the orbit equations change with time)")
        if n >= 3 and len(_usable(system, request.generators)) < n - 1:
            usable = _usable(system, request.generators)
            return (f"the symmetry route for {n} states needs {n - 1} symmetries with t-free, nonzero state parts "
                    f"(commuting, transversal to the flow); of the {len(request.generators)} given only "
                    f"{len(usable)} qualify ({[g.components for g in usable]}) -- try first_integrals(system, "
                    "Polynomial(d)) instead")
        return ""

    def candidates(self, system, request):
        notes, exact, found = list(request.notes), request.exact, []
        if len(system.states) >= 3:
            found, why = _coframe(system, request.generators)
            if why:
                notes.append(why)
                exact = False
            return found, exact, notes
        return _per_generator(system, request, lambda g: _scalar_or_planar(system, g))


class NoetherRoute(Route):
    """Noether's theorem: a variational point symmetry of L gives a charge, written in the system's variables."""

    name = "noether"
    needs = "symmetries and a lagrangian in the system's coordinates and velocities"

    def matches(self, system: ODESystem, request: _Request) -> str:
        if request.generators is None or request.lagrangian is None:
            return f"the noether route needs {self.needs}"
        return ""

    def candidates(self, system, request):
        return _per_generator(system, request, lambda g: _noether(system, request.lagrangian, g))


#: name -> route object (the registry of `first_integrals(..., route=...)`).
ROUTES: dict[str, Route] = {r.name: r for r in (BasisRoute(), SymmetryRoute(), NoetherRoute())}


def _canonical_lagrangian(system: ODESystem, lagrangian: Any) -> Lagrangian:
    if not isinstance(lagrangian, Lagrangian):
        raise ValueError(f"lagrangian must be a symnb Lagrangian (e.g. Lagrangian.mechanical(T, V, system=...)), "
                         f"got {type(lagrangian).__name__}")
    coords = []
    for q in lagrangian.coords:
        c = system.canonical(q, what="lagrangian coordinate")
        if c not in system.states:
            raise ValueError(f"lagrangian coordinate {q} is not a state of the system; states are "
                             f"{[x.name for x in system.states]}")
        coords.append(c)
    expr = system.canonical(lagrangian.expr, what="lagrangian")
    lag = Lagrangian(expr, system.t, tuple(coords))
    if not expr.free_symbols & set(lag.velocities):
        raise ValueError(f"the lagrangian L = {sp.sstr(expr)[:80]} does not depend on the system's velocities "
                         f"{[v.name for v in lag.velocities]}: write them with system.velocity(q) (or build L with "
                         "Lagrangian.mechanical(T, V, system=...)); states such as momenta are not velocities")
    return lag


def _request(system: ODESystem, ansatz: Any, symmetries: Any, lagrangian: Any) -> _Request:
    candidates, time_factor, degree = None, False, 0
    if ansatz is not None:
        if isinstance(ansatz, Polynomial):
            if ansatz.degree < 1:
                raise ValueError(f"Polynomial degree for first integrals must be >= 1 (degree 0 is the constants), "
                                 f"got {ansatz.degree}")
            ansatz = Basis(ansatz.degree)
        if isinstance(ansatz, Basis):
            candidates, time_factor, degree = tuple(ansatz.candidates(system)), ansatz.time_factor, ansatz.degree
        elif isinstance(ansatz, (str, bytes, Mapping)) or not isinstance(ansatz, Sequence):
            raise ValueError(f"ansatz must be Polynomial(d), Basis(...) or a list of candidate functions, got "
                             f"{type(ansatz).__name__}: {str(ansatz)[:60]}")
        else:
            if not len(ansatz):
                raise ValueError("basis is empty; give at least one candidate function")
            candidates = tuple(system.canonical(h, what=f"basis[{i}]") for i, h in enumerate(ansatz))
    generators, notes, exact = None, [], True
    if symmetries is not None:
        if isinstance(symmetries, SymmetryBasis):
            generators = symmetries.generators
            if not symmetries.complete:
                exact = False
                notes.append(f"the symmetry search was incomplete: {symmetries.reason}")
        elif isinstance(symmetries, Generator):
            generators = (symmetries,)
        else:
            generators = tuple(symmetries)
        for g in generators:
            if not isinstance(g, Generator):
                raise ValueError(f"symmetries must be a find_symmetries result or Generators, got "
                                 f"{type(g).__name__}")
            if g.system != system:
                raise ValueError(f"generator {g.components} belongs to another system")
    lag = _canonical_lagrangian(system, lagrangian) if lagrangian is not None else None
    return _Request(candidates, time_factor, degree, generators, lag, tuple(notes), exact)


def classify_routes(system: ODESystem, ansatz: Any = None, *, symmetries: Any = None, lagrangian: Any = None
                    ) -> dict[str, str]:
    """Which routes apply to this request (SymPy's ``classify_ode`` for first integrals).

    Args:
        system: the ODE system.
        ansatz, symmetries, lagrangian: as for `first_integrals`.

    Returns:
        ``{route name: ""}`` for every route that applies, ``{route name: why not}`` for the others (one sentence).

    Raises:
        ValueError: for an input `first_integrals` would refuse (foreign symbols, a Lagrangian without velocities).
    """
    if not isinstance(system, ODESystem):
        raise ValueError(f"system must be an ODESystem, got {type(system).__name__}")
    request = _request(system, ansatz, symmetries, lagrangian)
    return {name: route.matches(system, request) for name, route in ROUTES.items()}


def first_integrals(system: ODESystem, ansatz: Polynomial | Basis | Sequence[sp.Expr] | None = None, *,
                    basis: Basis | Sequence[sp.Expr] | None = None,
                    symmetries: SymmetryBasis | Sequence[Generator] | None = None, lagrangian: Any = None,
                    route: str | None = None, budget_s: float | None = 20.0, throw: bool = True) -> FirstIntegrals:
    """First integrals of ``system`` by one route, each certified (numeric screen, then D_t I = 0 symbolically).

    Args:
        system: dx/dt = f(t, x) (paper eq 7).
        ansatz: `Polynomial(d)` (every polynomial integral of degree <= d in the states), a `Basis` (given
            functions, monomials times them, e^{kt} factors) or a list of candidate functions; parameters stay
            symbolic (the answer is the one for generic values).  User symbols and ``x(t)`` are matched by name.
        basis: the same as ``ansatz`` (older keyword).
        symmetries: generators (a `find_symmetries` result or a sequence of `Generator`): with ``lagrangian``
            they go through Noether, without it through Lie's integrating factor / the orbit coframe.
        lagrangian: a `symnb.core.noether.Lagrangian` in the system's coordinates and velocities (Noether route).
        route: force a route (a key of `ROUTES`); by default the one the inputs name.
        budget_s: time budget for each symbolic certification.
        throw: raise `NotDecided` when the status is `Status.UNDECIDED` (default); False returns the result.

    Returns:
        `FirstIntegrals` (certified integrals, `Status`, reason).

    Raises:
        ValueError: if not exactly one kind of input is given, ``route`` is unknown or does not apply (before any
            work), an expression uses symbols the system does not know, or the Lagrangian has no velocities.
        NotDecided: with ``throw=True``, when a candidate could not be decided within the budget.
    """
    if not isinstance(system, ODESystem):
        raise ValueError(f"system must be an ODESystem, got {type(system).__name__}")
    if ansatz is not None and basis is not None:
        raise ValueError("give the ansatz once: first_integrals(system, ansatz) or basis=..., not both")
    ansatz = basis if ansatz is None else ansatz
    if lagrangian is not None and symmetries is None:
        raise ValueError("lagrangian needs symmetries: Noether's theorem turns each given generator into a charge")
    if (ansatz is None) == (symmetries is None):
        raise ValueError("choose one route: an ansatz (Polynomial(d), Basis(...) or basis=[candidate functions]), "
                         f"or symmetries=[generators] (optionally with lagrangian=...); got ansatz={ansatz!r}, "
                         f"symmetries={symmetries!r}")
    if route is not None and route not in ROUTES:
        raise ValueError(f"unknown route {route!r}; valid: {sorted(ROUTES)}")
    request = _request(system, ansatz, symmetries, lagrangian)
    if route is None:
        route = "basis" if ansatz is not None else ("noether" if lagrangian is not None else "symmetry")
    why_not = ROUTES[route].matches(system, request)
    if why_not:
        raise ValueError(f"route {route!r} does not apply: {why_not}")
    found, exact, notes = ROUTES[route].candidates(system, request)
    certified: list[FirstIntegral] = []
    undecided = False
    for expr, source in found:
        expr, _ = generic_branches(expr, (system.t, *system.states))
        if not _independent(expr, [c.expr for c in certified], system):
            continue
        status, derivative = certify_integral(expr, system, budget_s)
        if status == "zero":
            certified.append(FirstIntegral(expr, route, source, derivative, real_domain(expr)))
        elif status == "undecided":
            undecided = True
            notes.append(f"{sp.sstr(expr)}: numerically conserved but not proved within {budget_s} s; withheld")
        else:
            exact = False
            notes.append(f"{sp.sstr(expr)}: refuted by the numeric screen (D_t I != 0); withheld")
    status = Status.UNDECIDED if undecided else Status.COMPLETE if exact else Status.INCOMPLETE
    result = FirstIntegrals(system, tuple(certified), status, "; ".join(dict.fromkeys(n for n in notes if n)), route)
    if throw and status is Status.UNDECIDED:
        raise NotDecided(result, f"first integrals of {len(system.states)}-state system")
    return result
