"""Lie point symmetries of systems of first-order ODEs (paper §2.2, eqs 7-13).

A generator X = T d/dt + sum_i X_i d/dx_i acts on the jet space through its prolongation (eq 10-11):
the coefficient of d/dx_i,t is X_i^[t] = D_t(X_i) - x_i,t D_t(T).  X is a symmetry of Delta_i = x_i,t - f_i = 0
iff pr X(Delta_i) vanishes on solutions (eq 9, the linearized symmetry condition).  For first-order systems
the condition holds identically once x_t = f is substituted, so it cannot be split by powers of x_t: every
first-order ODE has infinitely many symmetries, and one restricts the infinitesimals by an ansatz (as the paper
does, T = T(t), Z = Z(z)) and separates variables.

References: Olver, *Applications of Lie Groups to Differential Equations* (1986), Thm 2.36 and §2.3
(prolongation formula); Arrigo, *Symmetry Analysis of Differential Equations* (2015), ch. 2 (ODE symmetries,
the exponential map and the flow of a generator).
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
import torch
from torchdiffeq import odeint

from .coefficients import null_space
from .integrals import is_zero
from .zero import ZeroStatus
from .bridge import evaluate, integrate, vector_field
from .ode import ODESystem, jet_symbol, total_derivative

__all__ = [
    "Generator", "prolong", "symmetry_condition", "DeterminingEquations", "determining_equations",
    "SymmetrySolution", "solve_determining_equations", "sympy_infinitesimals", "SymmetryCheck", "check_symmetry",
    "lie_series", "GroupTransformation", "finite_transformation", "transformed_derivative", "maps_solutions",
    "SolutionMapCheck", "numeric_solution_map", "numeric_flow",
]


@dataclass(frozen=True)
class Generator:
    """X = time * d/dt + sum_i coefficients[i] * d/d states[i] (paper eq 8's T and X_i).

    Raises:
        ValueError: if the number of coefficients differs from the number of states.
    """

    system: ODESystem
    time: sp.Expr
    coefficients: tuple[sp.Expr, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", sp.sympify(self.time))
        object.__setattr__(self, "coefficients", tuple(sp.sympify(c) for c in self.coefficients))
        if len(self.coefficients) != len(self.system.states):
            raise ValueError(f"{len(self.coefficients)} coefficients for states {list(self.system.states)}")

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        return (self.system.t, *self.system.states)

    @property
    def components(self) -> tuple[sp.Expr, ...]:
        """(T, X_1, ..., X_k) in the order of `variables`."""
        return (self.time, *self.coefficients)

    def apply(self, expr: sp.Expr) -> sp.Expr:
        """X(expr): the generator as a derivation on functions of (t, x)."""
        return sum(c * sp.diff(expr, v) for c, v in zip(self.components, self.variables))

    def subs(self, *args, **kwargs) -> "Generator":
        """A copy with ``.subs`` applied to every component (e.g. to fix arbitrary constants)."""
        return Generator(self.system, self.time.subs(*args, **kwargs),
                         tuple(c.subs(*args, **kwargs) for c in self.coefficients))

    def as_expr(self) -> sp.Expr:
        """The generator written with symbols ``d_t``, ``d_z``... standing for the partial derivatives (display)."""
        return sum(c * sp.Symbol(f"\\partial_{{{v.name}}}") for c, v in zip(self.components, self.variables))


@dataclass(frozen=True)
class Prolongation:
    """The coefficients of pr^(n) X: ``coefficients[k-1][i]`` multiplies d/d x_i^(k) (paper eqs 10-11)."""

    generator: Generator
    coefficients: tuple[tuple[sp.Expr, ...], ...]

    @property
    def order(self) -> int:
        return len(self.coefficients)

    def apply(self, expr: sp.Expr) -> sp.Expr:
        """pr X(expr) for ``expr`` on the jet space up to this order."""
        g, t = self.generator, self.generator.system.t
        out = g.apply(expr)
        for k, row in enumerate(self.coefficients, start=1):
            for x, coeff in zip(g.system.states, row):
                out += coeff * sp.diff(expr, jet_symbol(x, t, k))
        return out


def prolong(generator: Generator, order: int = 1) -> Prolongation:
    """The ``order``-th prolongation of ``generator`` (paper eqs 10-11; Olver 1986, Thm 2.36).

    X_i^[t] = D_t(X_i) - x_i,t D_t(T) and X_i^[t...t] = D_t(X_i^[t...]) - x_i^(k) D_t(T).  (Eq 11 prints
    the factor multiplying D_t(T) as a second derivative of X_i; it must be the jet coordinate x_i^(k).)

    Raises:
        ValueError: if ``order`` is not an integer >= 1.
    """
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"prolongation order must be an integer >= 1, got {order!r}")
    system, t = generator.system, generator.system.t
    dT = total_derivative(generator.time, system, on_shell=False, order=0)
    rows, previous = [], generator.coefficients
    for k in range(1, order + 1):
        row = tuple(total_derivative(c, system, on_shell=False, order=k - 1) - jet_symbol(x, t, k) * dT
                    for c, x in zip(previous, system.states))
        rows.append(row)
        previous = row
    return Prolongation(generator, tuple(rows))


def symmetry_condition(generator: Generator) -> tuple[sp.Expr, ...]:
    """pr^(1) X (Delta_i) restricted to Delta = 0, one expression per equation (paper eq 9)."""
    system = generator.system
    pr = prolong(generator, 1)
    return tuple(sp.expand(pr.apply(delta).subs(system.on_shell)) for delta in system.residuals)


@dataclass(frozen=True)
class DeterminingEquations:
    """The linearized symmetry condition with unknown infinitesimals under an ansatz.

    Attributes:
        generator: X with unknown functions (T, and the upper-cased state names) as coefficients.
        unknowns: those unknown functions, applied to their arguments.
        equations: one expression per ODE; X is a symmetry iff all vanish identically.
    """

    generator: Generator
    unknowns: tuple[sp.Expr, ...]
    equations: tuple[sp.Expr, ...]


def _coefficient_name(system: ODESystem, variable: sp.Symbol) -> str:
    if variable == system.t:
        return "T"
    name = variable.name.upper()
    clash = name == "T" or name == variable.name or sum(x.name.upper() == name for x in system.states) > 1
    return f"X_{system.states.index(variable) + 1}" if clash else name


def determining_equations(system: ODESystem, ansatz: Mapping[sp.Symbol, Sequence[sp.Symbol]] | None = None
                          ) -> DeterminingEquations:
    """The determining equations of ``system`` (paper eqs 9, 19, 32-38).

    Args:
        system: the ODE system.
        ansatz: for each variable (t or a state), the variables its infinitesimal may depend on; missing
            entries depend on all of (t, states).  The paper's choice for dz/dt = cos(theta1 z + theta2) is
            ``{t: (t,), z: (z,)}``.  An empty tuple means the infinitesimal is an arbitrary constant.

    Returns:
        `DeterminingEquations`.

    Raises:
        ValueError: if the ansatz names a variable that is not t or a state, or lets an infinitesimal depend
            on something else.
    """
    variables = (system.t, *system.states)
    ansatz = dict(ansatz or {})
    for key, deps in ansatz.items():
        if key not in variables:
            raise ValueError(f"ansatz key {key!r} is not a variable of the system; variables are {list(variables)}")
        bad = [d for d in deps if d not in variables]
        if bad:
            raise ValueError(f"ansatz for {key} depends on unknown variable(s) {bad}; variables are {list(variables)}")
    unknowns = []
    for v in variables:
        deps = tuple(ansatz.get(v, variables))
        name = _coefficient_name(system, v)
        unknowns.append(sp.Function(name)(*deps) if deps else sp.Symbol(name))
    generator = Generator(system, unknowns[0], tuple(unknowns[1:]))
    equations = tuple(sp.simplify(e) for e in symmetry_condition(generator))
    return DeterminingEquations(generator, tuple(unknowns), equations)


@dataclass(frozen=True)
class SymmetrySolution:
    """Infinitesimals solving the determining equations.

    Attributes:
        generator: X with the solved coefficients; arbitrary constants are ``C1, C2, ...``.
        constants: the arbitrary constants left in the generator.
        steps: human-readable record of the separation steps (the equation differentiated, what was solved).
    """

    generator: Generator
    constants: tuple[sp.Symbol, ...]
    steps: tuple[str, ...]

    def basis(self) -> tuple[Generator, ...]:
        """One generator per arbitrary constant (that constant 1, the others 0)."""
        out = []
        for c in self.constants:
            g = self.generator.subs({k: (1 if k == c else 0) for k in self.constants})
            out.append(g)
        return tuple(out)


def _functions_in(expr: sp.Expr, unknowns: Sequence[sp.Expr]) -> list[sp.Expr]:
    heads = {u.func for u in unknowns if isinstance(u, sp.core.function.AppliedUndef)}
    return [f for f in expr.atoms(sp.core.function.AppliedUndef) if f.func in heads]


_PREFERRED_HINTS = ("1st_linear", "nth_linear_constant_coeff_homogeneous", "nth_linear_euler_eq_homogeneous",
                    "Bernoulli", "separable", "1st_exact", "default")


def _solve_ode_for(eq: sp.Expr, func: sp.Expr, counter: itertools.count) -> sp.Expr:
    """dsolve ``eq = 0`` for the one-variable unknown ``func``; fresh constant names from ``counter``.

    SymPy's default hint may return an implicit or unevaluated-integral answer; we take the first hint in
    `_PREFERRED_HINTS` that gives ``func = explicit expression``.
    """
    # Try hints directly: classify_ode evaluates every hint (including integrals) and is far slower.
    for hint in _PREFERRED_HINTS:
        try:
            sol = sp.dsolve(sp.Eq(eq, 0), func, hint=hint)
        except (ValueError, NotImplementedError):
            continue  # hint does not apply to this equation
        sol = sol[0] if isinstance(sol, list) else sol
        if sol.lhs == func and not sol.rhs.has(sp.Integral):
            break
    else:
        raise NotImplementedError(f"dsolve gives no explicit solution of {sp.sstr(eq)} = 0 for {func}")
    rhs = sol.rhs
    fresh = sorted((c for c in rhs.free_symbols - eq.free_symbols if c.name.startswith("C")), key=lambda c: c.name)
    return rhs.subs({c: sp.Symbol(f"_K{next(counter)}") for c in fresh})


def _constraint_relations(expr: sp.Expr, constants: Sequence[sp.Symbol], variables: Sequence[sp.Symbol]
                          ) -> dict[sp.Symbol, sp.Expr]:
    """Linear relations among ``constants`` that make ``expr`` vanish identically in its other symbols.

    ``expr`` is linear in the constants.  It is split exactly over the monomials and the independent functions of
    its variables (`symnb.core.coefficients.null_space`) and the linear system is solved exactly -- relations with any ratio, and with
    coefficients depending on the parameters, are kept.  The split is certified against the rank of the
    sampled coefficient matrix.

    Raises:
        NotImplementedError: if the exact split and the sampled rank disagree (never a silent drop).
    """
    expr = sp.expand(expr)
    present = [c for c in constants if expr.has(c)]
    if not present:
        return {}
    null = null_space([expr], present, variables)
    if not null.complete:
        raise NotImplementedError(f"constraint {sp.sstr(expr)} = 0 on the constants {present}: {null.reason}")
    if not null.equations:
        return {}
    sol = sp.solve(list(null.equations), present, dict=True)
    if not sol:  # homogeneous linear equations always have the zero solution: an empty answer is a SymPy failure
        raise NotImplementedError(f"sympy.solve found no solution of the homogeneous constraints {null.equations}")
    return sol[0]


def _strip_factors(expr: sp.Expr, unknowns: Sequence[sp.Expr]) -> sp.Expr:
    """Drop multiplicative factors free of unknown functions (they do not change "= 0" generically)."""
    expr = sp.factor_terms(sp.numer(sp.together(expr)))
    if isinstance(expr, sp.Mul):
        kept = [a for a in expr.args if _functions_in(a, unknowns)]
        return sp.Mul(*kept) if kept else sp.S.One
    return expr


def _normalisations(eq: sp.Expr, unknowns: Sequence[sp.Expr]) -> list[sp.Expr]:
    """``eq`` and ``eq`` divided by the coefficient of each unknown (or derivative) it is linear in.

    Dividing first is what lets one differentiation isolate a single function: e.g. the paper divides
    eq 19 by cos(theta1 z + theta2) to reach eq 20.
    """
    out = [eq]
    atoms = set(_functions_in(eq, unknowns)) | {d for d in eq.atoms(sp.Derivative) if _functions_in(d, unknowns)}
    for a in sorted(atoms, key=sp.default_sort_key):
        c = sp.simplify(sp.diff(eq, a))
        if c != 0 and not _functions_in(c, unknowns) and not c.atoms(sp.Derivative):
            out.append(sp.expand(sp.simplify(eq / c)))
    return out


def _separate_once(eq: sp.Expr, variables: Sequence[sp.Symbol], unknowns: Sequence[sp.Expr]
                   ) -> tuple[sp.Symbol, sp.Expr, sp.Expr] | None:
    """A variable w such that d(eq)/dw involves one unknown, a function of w, and no other variable."""
    for w in variables:
        d = sp.simplify(sp.diff(eq, w))
        if d == 0:
            continue
        d = _strip_factors(d, unknowns)
        funcs = _functions_in(d, unknowns)
        heads = {g.func for g in funcs}
        if len(heads) != 1 or (d.free_symbols & set(variables)) - {w}:
            continue
        (f,) = [u for u in unknowns if getattr(u, "func", None) in heads]
        if f.args == (w,):
            return w, f, d
    return None


def solve_determining_equations(deq: DeterminingEquations, max_rounds: int = 12) -> SymmetrySolution:
    """Solve determining equations whose unknowns depend on one variable each, by separation of variables.

    Repeats: for an equation E and a variable w, if dE/dw contains unknown functions of w only (and no other
    variable outside the parameters and w), solve that ODE with ``dsolve`` and substitute.  When an equation
    contains a single unknown function of one variable and explicit dependence on that variable only, solve it
    directly.  Equations left with no unknown functions constrain the integration constants; those relations
    are found by sampling (see `_constraint_relations`).  This is the procedure of the paper's eqs 20-21 and 32-38.

    Raises:
        ValueError: if an unknown depends on more than one variable (no separation is possible).
        NotImplementedError: if the equations cannot be separated within ``max_rounds``.
    """
    system = deq.generator.system
    variables = (system.t, *system.states)
    for u in deq.unknowns:
        if isinstance(u, sp.core.function.AppliedUndef) and len(u.args) != 1:
            raise ValueError(f"unknown {u} depends on {len(u.args)} variables; separation needs one each "
                             "(choose an ansatz such as {t: (t,), z: (z,)})")
    counter = itertools.count(1)
    solved: dict[sp.Expr, sp.Expr] = {}
    steps: list[str] = []
    equations = list(deq.equations)

    def current(e: sp.Expr) -> sp.Expr:
        return sp.simplify(e.subs(solved).doit())

    for _ in range(max_rounds):
        equations = [current(e) for e in equations]
        pending = [e for e in equations if _functions_in(e, deq.unknowns)]
        if not pending:
            break
        progress = False
        for eq in sorted(pending, key=sp.count_ops):
            funcs = _functions_in(eq, deq.unknowns)
            heads = {f.func for f in funcs}
            if len(heads) == 1:
                (f,) = [u for u in deq.unknowns if getattr(u, "func", None) in heads]
                w = f.args[0]
                if not (eq.free_symbols & set(variables)) - {w}:
                    solved[f] = _solve_ode_for(eq, f, counter)
                    steps.append(f"solve {sp.sstr(eq)} = 0 for {f}: {f} = {sp.sstr(solved[f])}")
                    progress = True
                    break
            for candidate in _normalisations(eq, deq.unknowns):
                found = _separate_once(candidate, variables, deq.unknowns)
                if found is not None:
                    w, f, d = found
                    solved[f] = _solve_ode_for(d, f, counter)
                    steps.append(f"d/d{w} of {sp.sstr(candidate)} = 0 gives {sp.sstr(d)} = 0, "
                                 f"so {f} = {sp.sstr(solved[f])}")
                    progress = True
                    break
            if progress:
                break
        if not progress:
            raise NotImplementedError("could not separate the determining equations "
                                      f"{[sp.sstr(e) for e in pending]}; solve them by hand or change the ansatz")
    # Constants of integration: rename to C1.. in order of appearance, after the constraints below.
    generator = deq.generator.subs(solved)
    generator = Generator(system, sp.simplify(generator.time.doit()),
                          tuple(sp.simplify(c.doit()) for c in generator.coefficients))
    constants = sorted({s for e in generator.components for s in e.free_symbols if s.name.startswith("_K")},
                       key=lambda s: int(s.name[2:]))
    for i in range(len(system.states)):
        r = symmetry_condition(generator)[i]
        # Relations found earlier are applied first, so each residual only constrains what is still free.
        rel = _constraint_relations(sp.simplify(r), constants, variables)
        if rel:
            steps.append(f"identically in the variables: {sp.sstr(rel)}")
            generator = generator.subs(rel)
            constants = [k for k in constants if k not in rel]
    generator = Generator(system, sp.simplify(generator.time), tuple(sp.simplify(c) for c in generator.coefficients))
    left = sorted({s for e in generator.components for s in e.free_symbols if s.name.startswith("_K")},
                  key=lambda s: int(s.name[2:]))
    names = {s: sp.Symbol(f"C{i}") for i, s in enumerate(left, start=1)}
    generator = generator.subs(names)
    return SymmetrySolution(generator, tuple(names.values()), tuple(steps))


def sympy_infinitesimals(system: ODESystem, hint: str = "default") -> list[tuple[sp.Expr, sp.Expr]]:
    """What SymPy's own ``sympy.solvers.ode.infinitesimals`` finds for a scalar first-order ODE.

    Returns:
        A list of (xi, eta) pairs: xi multiplies d/dt, eta d/dx, written in our symbols.

    Raises:
        ValueError: if ``system`` is not a single equation (SymPy's heuristics handle one ODE only).
    """
    if len(system.states) != 1:
        raise ValueError(f"sympy's infinitesimals handles one first-order ODE; this system has states "
                         f"{list(system.states)}")
    t, (x,) = system.t, system.states
    func = sp.Function(x.name)(t)
    eq = sp.Eq(sp.Derivative(func, t), system.rhs[0].subs(x, func))
    found = sp.solvers.ode.infinitesimals(eq, func, hint=hint)
    return [(sp.sympify(d[sp.Symbol("xi")] if sp.Symbol("xi") in d else list(d.values())[0]).subs(func, x),
             sp.sympify(list(d.values())[1]).subs(func, x)) for d in found]


@dataclass(frozen=True)
class SymmetryCheck:
    """Whether a generator is a symmetry: ``residuals[i]`` = pr X(Delta_i)|_{Delta=0}, simplified."""

    generator: Generator
    residuals: tuple[sp.Expr, ...]
    statuses: tuple[ZeroStatus, ...]

    @property
    def holds(self) -> bool:
        return all(s == "zero" for s in self.statuses)


def check_symmetry(generator: Generator) -> SymmetryCheck:
    """Check a proposed generator against its system (eq 9), for any number of equations.

    Each residual is simplified; one that does not simplify to 0 is evaluated at random points to tell
    "nonzero" from "undecided" (see `symnb.core.integrals.is_zero`).
    """
    residuals = tuple(sp.simplify(r) for r in symmetry_condition(generator))
    return SymmetryCheck(generator, residuals, tuple(is_zero(r) for r in residuals))


def lie_series(generator: Generator, expr: sp.Expr, eps: sp.Symbol, order: int) -> sp.Expr:
    """The truncated exponential map sum_{k<=order} eps^k/k! X^k(expr) (paper eq 12).

    Raises:
        ValueError: if ``order`` < 0.
    """
    if not isinstance(order, int) or order < 0:
        raise ValueError(f"series order must be an integer >= 0, got {order!r}")
    term, total = sp.sympify(expr), sp.S.Zero
    for k in range(order + 1):
        total += eps**k / sp.factorial(k) * term
        term = sp.simplify(generator.apply(term))
    return total


@dataclass(frozen=True)
class GroupTransformation:
    """The finite transformation (t, x) -> (t_bar, x_bar) generated by X with group parameter ``eps``."""

    generator: Generator
    eps: sp.Symbol
    time: sp.Expr
    states: tuple[sp.Expr, ...]

    def as_dict(self) -> dict[sp.Symbol, sp.Expr]:
        return dict(zip(self.generator.variables, (self.time, *self.states)))


@lru_cache(maxsize=64)
def _flow(generator: Generator, eps: sp.Symbol) -> GroupTransformation:
    s = sp.Symbol("_s")
    bars = [sp.Function(f"_{v.name}bar")(s) for v in generator.variables]
    to_bar = dict(zip(generator.variables, bars))
    eqs = [sp.Eq(b.diff(s), c.subs(to_bar, simultaneous=True)) for b, c in zip(bars, generator.components)]
    ics = {b.subs(s, 0): v for b, v in zip(bars, generator.variables)}
    try:
        sols = sp.dsolve(eqs, bars, ics=ics) if len(eqs) > 1 else [sp.dsolve(eqs[0], bars[0], ics=ics)]
    except (NotImplementedError, ValueError) as err:
        raise NotImplementedError(f"SymPy cannot integrate the flow of {generator.as_expr()}: {err}") from err
    sols = sols if isinstance(sols, list) else [sols]
    by_func = {sol.lhs: sp.simplify(sol.rhs.subs(s, eps)) for sol in sols}
    values = [by_func[b] for b in bars]
    return GroupTransformation(generator, eps, values[0], tuple(values[1:]))


def finite_transformation(generator: Generator, eps: sp.Symbol) -> GroupTransformation:
    """The exact one-parameter group exp(eps X): the flow d(x_bar)/d(eps) = X(x_bar), x_bar(0) = x (eq 12).

    Raises:
        NotImplementedError: if SymPy cannot integrate the flow in closed form.
    """
    return _flow(generator, eps)


def transformed_derivative(transformation: Mapping[sp.Symbol, sp.Expr] | GroupTransformation,
                           system: ODESystem) -> tuple[sp.Expr, ...]:
    """d x_bar_i / d t_bar along solutions: D_t(x_bar_i) / D_t(t_bar) on shell."""
    mapping = transformation.as_dict() if isinstance(transformation, GroupTransformation) else transformation
    dt = total_derivative(mapping[system.t], system)
    return tuple(total_derivative(mapping[x], system) / dt for x in system.states)


def maps_solutions(transformation: Mapping[sp.Symbol, sp.Expr] | GroupTransformation,
                   system: ODESystem) -> tuple[sp.Expr, ...]:
    """Residuals d x_bar/d t_bar - f(t_bar, x_bar) along solutions; all zero iff solutions map to solutions (eq 13).

    Returns:
        One simplified residual per state.
    """
    mapping = transformation.as_dict() if isinstance(transformation, GroupTransformation) else transformation
    image = {v: mapping[v] for v in (system.t, *system.states)}
    rhs_bar = [f.subs(image, simultaneous=True) for f in system.rhs]
    return tuple(sp.simplify(d - r) for d, r in zip(transformed_derivative(mapping, system), rhs_bar))


@dataclass(frozen=True)
class SolutionMapCheck:
    """Numeric test of a transformation: transformed trajectory points vs a fresh solve through them.

    ``max_error`` is max |x_bar(t_bar_j) - solve(t_bar_j)| over the grid.
    """

    t_bar: torch.Tensor
    x_bar: torch.Tensor
    x_solved: torch.Tensor
    max_error: float


def numeric_flow(generator: Generator, points: torch.Tensor, eps: float, values: Mapping[sp.Symbol, float],
                 rtol: float = 1e-12, atol: float = 1e-12) -> torch.Tensor:
    """exp(eps X) applied to ``points`` (rows of (t, x_1..x_k)) by integrating d(p)/d(eps) = X(p) in float64.

    This is the exact group transformation of eq 12 when SymPy cannot integrate the flow in closed form.

    Raises:
        ValueError: if a symbol in the generator has no value in ``values``.
    """
    comps = [sp.sympify(c).subs(values) for c in generator.components]
    leftover = set().union(*(c.free_symbols for c in comps)) - set(generator.variables)
    if leftover:
        raise ValueError(f"no numeric value for symbol(s) {sorted(map(str, leftover))} in the generator")
    field = vector_field(generator.variables, comps)  # autonomous in eps
    grid = torch.tensor([0.0, eps], dtype=torch.float64)
    with torch.no_grad():
        return odeint(field, points.to(torch.float64), grid, rtol=rtol, atol=atol)[-1]


def numeric_solution_map(transformation: Mapping[sp.Symbol, sp.Expr] | GroupTransformation | Generator,
                         system: ODESystem, x0: Sequence[float], t_final: float, values: Mapping[sp.Symbol, float],
                         n_points: int = 101, eps: float | None = None, rtol: float = 1e-12,
                         atol: float = 1e-12) -> SolutionMapCheck:
    """Transform a float64 trajectory point by point and compare with the solution through its first image.

    Args:
        transformation: a closed-form map (t, x) -> (t_bar, x_bar), or a `Generator`, whose exact flow
            exp(eps X) is then integrated numerically (`numeric_flow`).
        system: the ODE system.
        x0, t_final, n_points: the trajectory (from t = 0).
        values: numbers for the system's parameters and every other symbol of the map.
        eps: the group parameter, required with a `Generator`.

    Raises:
        ValueError: if ``eps`` is missing for a generator, or the transformed times are not strictly monotone
            (the map is not a valid reparametrisation on this trajectory), or a symbol has no value.
    """
    times = torch.linspace(0.0, t_final, n_points, dtype=torch.float64)
    traj = integrate(system, x0, times, values, rtol=rtol, atol=atol)
    if isinstance(transformation, Generator):
        if eps is None:
            raise ValueError("eps (the group parameter) is required to flow a Generator")
        image = numeric_flow(transformation, torch.cat([times[:, None], traj.states], dim=-1), eps, values,
                             rtol=rtol, atol=atol)
        t_bar, x_bar = image[:, 0], image[:, 1:]
    else:
        mapping = transformation.as_dict() if isinstance(transformation, GroupTransformation) else transformation
        t_bar = evaluate(mapping[system.t], traj, values)
        x_bar = torch.stack([evaluate(mapping[x], traj, values) for x in system.states], dim=-1)
    steps = t_bar.diff()
    if not (bool((steps > 0).all()) or bool((steps < 0).all())):
        raise ValueError("transformed times t_bar are not strictly monotone along this trajectory")
    solved = integrate(system, x_bar[0].tolist(), t_bar, values, rtol=rtol, atol=atol).states
    return SolutionMapCheck(t_bar, x_bar, solved, float((solved - x_bar).abs().max()))
