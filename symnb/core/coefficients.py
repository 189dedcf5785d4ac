"""The undetermined-coefficients engine shared by every finder (symmetries, first integrals, informativeness,
parameter-space symmetries).

A finder writes its unknown as a linear combination sum_j c_j r_j of candidate functions with unknown
coefficients c_j, forms the condition it must satisfy (a symmetry condition, a conservation law, ...) and asks
for every c that makes the condition vanish *identically* in the variables.  `split_identically` turns "= 0
identically" into exact linear equations (monomials and independent functions of the variables); `null_space`
solves them over the rational functions of the parameters and certifies the rank against a sampled matrix
(`stacked_rank`), so a missed dependency is reported instead of silently dropping solutions.

References: Olver, *Applications of Lie Groups to Differential Equations* (1986), section 2.4 (splitting the
determining equations); Hereman, "Symbolic software for Lie symmetry analysis" (1997) for the general scheme.
"""
from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp
import torch

from .bridge import to_torch

__all__ = ["sample_value", "Split", "split_identically", "generic_branches", "NullSpace", "null_space",
           "stacked_rank"]


def sample_value(symbol: sp.Symbol, rng: random.Random) -> float:
    """A random real value inside the symbol's declared domain (positive symbols stay positive)."""
    if symbol.is_positive or symbol.is_nonnegative:
        return rng.uniform(0.3, 2.0)
    if symbol.is_negative:
        return -rng.uniform(0.3, 2.0)
    return rng.uniform(-1.5, 1.5)


@dataclass(frozen=True)
class Split:
    """Exact linear equations equivalent to "expr = 0 identically".

    Attributes:
        equations: linear equations in the unknowns (empty when ``failed``).
        exact: False where a function was assumed algebraically independent of the variables.
        reason: the assumptions made, or why the split failed.
        failed: True when the expression could not be split at all (``equations`` is then meaningless).
    """

    equations: tuple[sp.Expr, ...]
    exact: bool
    reason: str
    failed: bool = False


def split_identically(expr: sp.Expr, variables: Sequence[sp.Symbol], unknowns: Sequence[sp.Symbol]) -> Split:
    """Split ``expr`` (linear in ``unknowns``) into linear equations that hold iff it vanishes identically.

    The numerator over a common denominator is written as a polynomial in the variables and in fresh symbols for
    the non-polynomial functions of the variables: an algebraic power b**(p/q) becomes s**p with s = b**(1/q),
    reduced modulo s**q - b; sin(a), cos(a) are reduced modulo sin**2 + cos**2 - 1; other functions (exp, log,
    tanh, ...) are treated as independent.  Every equation returned is necessary only if those functions are
    algebraically independent of the variables -- ``exact=False`` flags where that was assumed for a function
    whose independence is not guaranteed (the caller cross-checks numerically).
    """
    variables = tuple(variables)
    expr, generic = generic_branches(sp.sympify(expr), variables)
    # Re-evaluate trigonometric atoms so that shifted arguments (cos(u - pi/2) -> sin(u)) are recognised.
    trig = sp.functions.elementary.trigonometric.TrigonometricFunction
    expr = sp.expand(expr.replace(lambda e: isinstance(e, trig), lambda e: e.func(e.args[0])))
    expr = _commensurate_trig(expr, variables)
    reductions: list[tuple[sp.Symbol, sp.Expr]] = []
    subs: dict[sp.Expr, sp.Expr] = {}
    fresh = itertools.count()
    # Algebraic powers, grouped by base.
    powers = [a for a in expr.atoms(sp.Pow) if a.exp.is_Rational and not a.exp.is_Integer
              and a.base.free_symbols & set(variables)]
    by_base: dict[sp.Expr, list[sp.Pow]] = {}
    for a in powers:
        by_base.setdefault(a.base, []).append(a)
    for base, items in by_base.items():
        q = sp.ilcm(1, *[a.exp.q for a in items])
        s = sp.Symbol(f"_s{next(fresh)}")
        for a in items:
            subs[a] = s ** (a.exp * q)
        reductions.append((s, s**q - base))
    expr = expr.xreplace(subs)
    funcs = sorted((f for f in expr.atoms(sp.Function) if f.free_symbols & set(variables)), key=sp.default_sort_key)
    entangled = [f for f in funcs if f.free_symbols & set(unknowns)]
    if entangled:
        return Split((), False, failed=True, reason=f"not splittable: unknowns inside the function(s) {[sp.sstr(f)[:60] for f in entangled]}")
    fsubs: dict[sp.Expr, sp.Symbol] = {}
    assumed = []
    for f in funcs:
        fsubs[f] = sp.Symbol(f"_f{next(fresh)}")
    for f in funcs:
        if isinstance(f, sp.sin) and sp.cos(f.args[0]) in fsubs:
            reductions.append((fsubs[f], fsubs[f] ** 2 + fsubs[sp.cos(f.args[0])] ** 2 - 1))
        elif not isinstance(f, (sp.sin, sp.cos)):
            assumed.append(f)
    expr = expr.xreplace(fsubs)
    gens = tuple(dict.fromkeys((*variables, *(s for s, _ in reductions), *fsubs.values())))
    num = sp.expand(sp.numer(sp.together(expr)))
    try:
        for s, rel in reductions:  # monic in s: the remainder is the canonical representative
            num = sp.expand(sp.rem(num, sp.expand(rel.xreplace(fsubs)), s))
        poly = sp.Poly(num, *gens)
    except sp.PolynomialError as err:
        return Split((), False, failed=True, reason=f"not polynomial after substitution: {err}")
    equations = tuple(c for c in poly.coeffs() if c != 0)
    bad = [e for e in equations if e.free_symbols & set(gens)]
    if bad:
        return Split((), False, failed=True, reason=f"coefficients still depend on the variables: {bad[:2]}")
    notes = [f"treated {sorted(map(str, assumed))} as algebraically independent of the variables"] if assumed else []
    notes += [f"assumed generic parameters ({c})" for c in generic]
    return Split(equations, not assumed, "; ".join(notes))


def _commensurate_trig(expr: sp.Expr, variables: Sequence[sp.Symbol]) -> sp.Expr:
    """Write trigonometric functions of commensurate arguments (u, u/2, 2u, ...) through one base argument.

    tan, cot, sec, csc become quotients of sin and cos; for each group of arguments whose ratios are rational,
    sin(n w) and cos(n w) are expanded (multiple-angle formulas) in sin(w), cos(w) with w = u / lcm(denominators).
    Afterwards sin and cos of one argument are related only by sin**2 + cos**2 = 1, which the split reduces.
    """
    variables = set(variables)
    expr = expr.replace(lambda e: isinstance(e, (sp.tan, sp.cot, sp.sec, sp.csc)) and bool(e.free_symbols & variables),
                        lambda e: {sp.tan: sp.sin(e.args[0]) / sp.cos(e.args[0]),
                                   sp.cot: sp.cos(e.args[0]) / sp.sin(e.args[0]),
                                   sp.sec: 1 / sp.cos(e.args[0]), sp.csc: 1 / sp.sin(e.args[0])}[e.func])
    args = sorted({a.args[0] for a in expr.atoms(sp.sin, sp.cos) if a.free_symbols & variables}, key=sp.default_sort_key)
    groups: list[tuple[sp.Expr, dict[sp.Expr, sp.Rational]]] = []
    for arg in args:
        for ref, members in groups:
            ratio = sp.cancel(arg / ref)
            if ratio.is_Rational:
                members[arg] = ratio
                break
        else:
            groups.append((arg, {arg: sp.S.One}))
    mapping = {}
    for ref, members in groups:
        if len(members) < 2:
            continue
        d = sp.ilcm(1, *[r.q for r in members.values()])
        base = sp.expand(ref / d)
        w = sp.Dummy("w")
        for arg, ratio in members.items():
            n = int(ratio * d)
            for fn in (sp.sin, sp.cos):
                mapping[fn(arg)] = sp.expand_trig(fn(n * w)).subs(w, base)
    return sp.expand(expr.xreplace(mapping)) if mapping else expr


def generic_branches(expr: sp.Expr, variables: Sequence[sp.Symbol]) -> tuple[sp.Expr, list[str]]:
    """Replace each Piecewise whose first condition is a generic one on the parameters (Ne, And of Ne) by that
    branch; return the conditions assumed.  Other Piecewise stay (and make the split inexact)."""
    assumed: list[str] = []

    def generic(cond: sp.Basic) -> bool:
        if cond.free_symbols & set(variables):
            return False
        if isinstance(cond, sp.Ne):
            return True
        if isinstance(cond, sp.Or):  # theta > 0 | theta < 0 is theta != 0
            return all(isinstance(c, (sp.StrictGreaterThan, sp.StrictLessThan)) for c in cond.args)
        return isinstance(cond, sp.And) and all(generic(c) for c in cond.args)

    def pick(pw: sp.Piecewise) -> sp.Expr:
        value, cond = pw.args[0]
        if generic(cond):
            assumed.append(str(cond))
            return value
        return pw

    for _ in range(10):  # nested Piecewise: repeat until none is generic
        new = expr.replace(lambda e: isinstance(e, sp.Piecewise), pick)
        if new == expr:
            break
        expr = new
    return expr, sorted(set(assumed))


@dataclass(frozen=True)
class NullSpace:
    """Solutions c of sum_j c_j r_j = 0 identically: ``basis`` vectors over the parameters; ``complete`` flag."""

    basis: tuple[tuple[sp.Expr, ...], ...]
    equations: tuple[sp.Expr, ...]
    complete: bool
    reason: str


def null_space(exprs: Sequence[sp.Expr], unknowns: Sequence[sp.Symbol], variables: Sequence[sp.Symbol]
               ) -> NullSpace:
    """All combinations of ``unknowns`` (appearing linearly in ``exprs``) that make every expr vanish identically.

    Exact: each expression is split by `split_identically` and the homogeneous linear system is solved over the
    field of rational functions of the remaining symbols (the parameters: a generic-parameter answer).  Certified
    independently: the rank of the sampled matrix [dr/dc_j (random point)] must equal the exact rank, else some
    dependency among the functions was missed and ``complete`` is False with the reason.
    """
    from sympy.polys.matrices import DomainMatrix

    unknowns = list(unknowns)
    equations, notes, exact = [], [], True
    for e in exprs:
        split = split_identically(sp.expand(e), variables, unknowns)
        if split.failed:
            return NullSpace((), (), False, f"could not split {sp.sstr(e)[:80]}: {split.reason}")
        equations.extend(split.equations)
        exact &= split.exact
        if split.reason:
            notes.append(split.reason)
    if equations:
        matrix, _ = sp.linear_eq_to_matrix(equations, unknowns)
        dm = DomainMatrix.from_Matrix(matrix).to_field()
        null = dm.nullspace().to_Matrix()
        basis = [tuple(sp.cancel(v) for v in null.row(i)) for i in range(null.rows)]
        rank = len(unknowns) - len(basis)
    else:
        basis = [tuple(sp.S.One if j == i else sp.S.Zero for j in range(len(unknowns))) for i in range(len(unknowns))]
        rank = 0
    # Independent numeric certificate: the sampled coefficient functions of every expression, stacked.
    trig = sp.functions.elementary.trigonometric.TrigonometricFunction
    generic_exprs = [generic_branches(sp.sympify(e), variables)[0] for e in exprs]
    generic_exprs = [e.replace(lambda a: isinstance(a, trig), lambda a: a.func(a.args[0])) for e in generic_exprs]
    columns_per_expr = [_columns(e, unknowns) for e in generic_exprs]
    symbols = sorted(set().union(*(c.free_symbols for cols in columns_per_expr for c in cols)) - set(unknowns),
                     key=lambda s: s.name)
    stacked = stacked_rank(columns_per_expr, symbols, len(unknowns) + 8, variables)
    if stacked is None:
        return NullSpace(tuple(basis), tuple(equations), False,
                          "no real sample points found to certify the null space numerically")
    if stacked < rank:
        return NullSpace(tuple(basis), tuple(equations), False,
                         f"the exact split has rank {rank} but the sampled system only {stacked}: a dependency "
                          f"among the functions was missed ({'; '.join(notes) or 'no assumption recorded'}), so "
                          "solutions may be missing")
    if stacked > rank:
        return NullSpace(tuple(basis), tuple(equations), False,
                         f"sampled rank {stacked} exceeds exact rank {rank}: the exact solve is not trusted")
    return NullSpace(tuple(basis), tuple(equations), True, "")


def _columns(expr: sp.Expr, unknowns: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """d expr / d c_j for each unknown: one pass over the expanded terms (expr is linear in the unknowns), instead
    of one differentiation of the whole expression per unknown."""
    index = {c: j for j, c in enumerate(unknowns)}
    cols: list[list[sp.Expr]] = [[] for _ in unknowns]
    for term in sp.Add.make_args(sp.expand(expr)):
        hits = [f for f in sp.Mul.make_args(term) if f in index]
        if len(hits) != 1 or term.free_symbols & (set(index) - {hits[0]}):
            return [sp.diff(sp.expand(expr), c) for c in unknowns]  # not plainly linear: the general way
        cols[index[hits[0]]].append(term / hits[0])
    return [sp.Add(*c) for c in cols]


def stacked_rank(columns_per_expr: Sequence[Sequence[sp.Expr]], symbols: Sequence[sp.Symbol], n_points: int,
                 variables: Sequence[sp.Symbol]) -> int | None:
    """Numerical rank of all expressions' sampled coefficient rows stacked (shared columns = unknowns).

    The variables change from point to point; every other symbol (a parameter) keeps one random value, so the
    rank is that of the system at one generic parameter value.
    """
    n = len(columns_per_expr[0]) if columns_per_expr else 0
    flat = [c.evalf() for cols in columns_per_expr for c in cols]  # numeric constants folded for torch
    fn = to_torch(tuple(symbols), tuple(flat))
    rng = random.Random(7)
    fixed = {s: sample_value(s, rng) for s in symbols if s not in set(variables)}
    rows, tries = [], 0
    while len(rows) < n_points * len(columns_per_expr) and tries < 40 * n_points:
        tries += 1
        point = [torch.tensor(fixed[s] if s in fixed else sample_value(s, rng), dtype=torch.float64)
                 for s in symbols]
        with torch.no_grad():
            vals = [float(torch.as_tensor(v, dtype=torch.float64)) for v in fn(*point)]
        if all(v == v and abs(v) != float("inf") for v in vals):
            rows.extend(vals[k * n:(k + 1) * n] for k in range(len(columns_per_expr)))
    if len(rows) < n_points:
        return None
    m = torch.tensor(rows, dtype=torch.float64)
    norms = m.norm(dim=0)
    # A column at rounding level of the largest one is a function that vanishes identically (e.g. sin(u) -
    # cos(u - pi/2) evaluated in float64): normalising it would turn rounding noise into rank.
    keep = norms > 1e-11 * float(norms.max().clamp(min=1.0))
    if not bool(keep.any()):
        return 0
    m = m[:, keep] / norms[keep]
    sv = torch.linalg.svdvals(m)
    return int((sv > 1e-9 * sv[0]).sum())
