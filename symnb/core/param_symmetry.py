"""Symmetries of the parameter space: generators xi(theta) with xi . grad_theta f(z; theta) = 0 for every input z.

A vector field f(z; theta) (a Neural ODE's right-hand side, a layer, any SymPy-expressible map) is unchanged to
first order when its parameters move along xi(theta) iff xi . grad_theta f = 0 identically in z.  Then every loss
built from f -- for any data, any solver, any horizon -- is invariant too, and gradient flow
dtheta/dt = -grad L conserves Q wherever xi = grad Q (Kunin et al. 2021; Zhao et al. 2023; Marcotte et al. 2023).

`find_parameter_symmetries` writes xi in a polynomial ansatz in theta with unknown coefficients and solves
"xi . grad_theta f = 0 identically in (z, theta)" with the undetermined-coefficients engine of
`symnb.core.coefficients` (`null_space`: exact split, exact solve, sampled-rank certificate) -- the machinery the
state-space finders use.  ReLU enters through activation-pattern symbols s_j (f is multilinear in them, so an
identity in s is the same as an identity on every pattern in {0, 1}^h); a smooth sigma either as the SymPy
function itself (tanh: sigma' is a polynomial in sigma) or, for an undefined sigma, with sigma(u_j) and
sigma'(u_j) as independent symbols.  Each generator is then certified on its own (`certify_generator`: random
theta, z), the generators that are gradients give the conserved quantities Q, and the others are flagged "no
gradient-flow invariant".  `conservation_law_count` gives Marcotte et al.'s count D - dim Lie(V) numerically.
"""
from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import sympy as sp
import torch
from sympy.core.function import AppliedUndef

from .bridge import to_torch
from .coefficients import null_space
from .budget import Budget, BudgetExceeded

__all__ = ["ParameterField", "ACTIVATIONS", "two_layer_field", "ParameterSymmetry", "ParameterSymmetries",
           "find_parameter_symmetries", "GeneratorCertificate", "certify_generator", "LawCount",
           "conservation_law_count"]

CONSERVED = "conserved under gradient flow"
NOT_GRADIENT = "no gradient-flow invariant"


@dataclass(frozen=True)
class ParameterField:
    """A vector field f(z; theta) as SymPy expressions.

    Attributes:
        exprs: the output components f_o.
        params: theta, the trainable parameters (the symmetry acts on these).
        inputs: z, the inputs (the identity must hold for all of them).
        patterns: ReLU activation-pattern symbols s_j with their pre-activations u_j (s_j = 1 where u_j > 0):
            treated as independent variables by the finder, set from u_j when a point is sampled.
        names: optional label (shown in tables).
    """

    exprs: tuple[sp.Expr, ...]
    params: tuple[sp.Symbol, ...]
    inputs: tuple[sp.Symbol, ...]
    patterns: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        if not self.exprs:
            raise ValueError("ParameterField.exprs is empty; give at least one output expression")
        if not self.params:
            raise ValueError("ParameterField.params is empty; give the trainable parameter symbols")
        if len(set(self.params)) != len(self.params):
            raise ValueError(f"ParameterField.params has repeated symbols: {list(self.params)}")
        overlap = set(self.params) & set(self.inputs)
        if overlap:
            raise ValueError(f"symbols {sorted(map(str, overlap))} are both parameters and inputs; allowed: "
                             "disjoint params and inputs")
        known = set(self.params) | set(self.inputs) | {s for s, _ in self.patterns}
        foreign = set().union(*(sp.sympify(e).free_symbols for e in self.exprs)) - known
        if foreign:
            raise ValueError(f"field uses undeclared symbols {sorted(map(str, foreign))}; allowed: the declared "
                             f"params {[str(p) for p in self.params]}, inputs and pattern symbols")


def _matrix(name: str, rows: int, cols: int) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i}{j}" if max(rows, cols) <= 10
                                                        else f"{name}_{i}_{j}", real=True))


def _relu(u: sp.Matrix, k: int):
    s = [sp.Symbol(f"s_{j}", real=True) for j in range(len(u))]
    return sp.Matrix([s[j] * u[j] for j in range(len(u))]), tuple(zip(s, u))


def _identity(u: sp.Matrix, k: int):
    return u, ()


def _tanh(u: sp.Matrix, k: int):
    return u.applyfunc(sp.tanh), ()


def _generic(u: sp.Matrix, k: int):
    sigma = sp.Function("sigma")
    return u.applyfunc(sigma), ()


#: activation name -> builder (pre-activations -> activations, pattern symbols)
ACTIVATIONS: dict[str, Callable] = {"relu": _relu, "identity": _identity, "tanh": _tanh, "sigma": _generic}


def two_layer_field(width: int, d_in: int = 1, d_out: int | None = None, activation: str = "relu",
                    bias: bool = True) -> ParameterField:
    """f(z) = W2 sigma(W1 z + b1) + b2 as a `ParameterField` (the Neural ODE vector field of chapter 9).

    Args:
        width: hidden units h (>= 1).
        d_in: input dimension (>= 1); d_out: output dimension (default d_in: a vector field on R^d).
        activation: a key of `ACTIVATIONS` (``sigma``: an undefined smooth function).
        bias: include b1, b2.

    Returns:
        The `ParameterField` (symbols W1_i_j, b1_i, W2_i_j, b2_i in ``params``).

    Raises:
        ValueError: for a size < 1 or an unknown activation (listing the valid ones).
    """
    d_out = d_in if d_out is None else d_out
    for name, value in (("width", width), ("d_in", d_in), ("d_out", d_out)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; valid: {sorted(ACTIVATIONS)}")
    w1, w2 = _matrix("W1", width, d_in), _matrix("W2", d_out, width)
    b1 = sp.Matrix([sp.Symbol(f"b1_{j}", real=True) for j in range(width)]) if bias else sp.zeros(width, 1)
    b2 = sp.Matrix([sp.Symbol(f"b2_{o}", real=True) for o in range(d_out)]) if bias else sp.zeros(d_out, 1)
    z = sp.Matrix([sp.Symbol(f"z_{k}", real=True) for k in range(d_in)])
    act, patterns = ACTIVATIONS[activation](w1 * z + b1, width)
    out = w2 * act + b2
    params = (*w1, *(b1 if bias else []), *w2, *(b2 if bias else []))
    return ParameterField(tuple(out), tuple(params), tuple(z), patterns,
                          f"{activation}, width {width}, d_in {d_in}, d_out {d_out}" + ("" if bias else ", no bias"))


# ------------------------------------------------------------------------------------------------ finder
@dataclass(frozen=True)
class GeneratorCertificate:
    """Independent numeric check of one generator: the largest relative residual of xi dot grad f at random (theta, z).

    Attributes:
        residual: the largest relative residual over the points and outputs.
        certified: residual below the tolerance and xi not the zero field.
        points: the number of points evaluated.
    """

    residual: float
    certified: bool
    points: int


@dataclass(frozen=True)
class ParameterSymmetry:
    """One generator xi(theta) (components along ``params``) and what gradient flow conserves with it.

    Attributes:
        xi: the components of the generator.
        quantity: Q with grad Q = xi (conserved by gradient flow of any loss built from f), or None.
        status: ``"conserved under gradient flow"`` or ``"no gradient-flow invariant"`` (xi is not a gradient,
            e.g. an antisymmetric (compact) element of GL(h)).
        certificate: the independent numeric check.
    """

    xi: tuple[sp.Expr, ...]
    quantity: sp.Expr | None
    status: str
    certificate: GeneratorCertificate


@dataclass(frozen=True)
class ParameterSymmetries:
    """What `find_parameter_symmetries` found.

    Attributes:
        field: the field searched.
        degree: the ansatz degree in theta.
        symmetries: a basis of the generators: the gradient ones (with Q) first, then the flagged ones.
        complete: True when every block of the linear system was certified by `null_space` and every generator
            by `certify_generator`; otherwise ``reason`` says what was not decided.
        reason: empty, or why the answer is not certified complete.
        unknowns: number of ansatz coefficients.
    """

    field: ParameterField
    degree: int
    symmetries: tuple[ParameterSymmetry, ...]
    complete: bool
    reason: str
    unknowns: int

    @property
    def n_generators(self) -> int:
        return len(self.symmetries)

    @property
    def quantities(self) -> tuple[sp.Expr, ...]:
        return tuple(s.quantity for s in self.symmetries if s.quantity is not None)

    @property
    def n_conserved(self) -> int:
        return len(self.quantities)

    @property
    def n_flagged(self) -> int:
        return self.n_generators - self.n_conserved


def _independent(exprs: Sequence[sp.Expr]) -> tuple[list[sp.Expr], dict[sp.Symbol, str]]:
    """Replace an undefined sigma(u) and its derivatives by independent symbols (generic smooth sigma)."""
    mapping: dict[sp.Expr, sp.Symbol] = {}
    out = []
    for e in exprs:
        atoms = sorted(e.atoms(sp.Subs, sp.Derivative) | {a for a in e.atoms(AppliedUndef)}, key=sp.default_sort_key)
        for a in sorted(atoms, key=lambda a: -sp.count_ops(a)):  # derivatives before the function inside them
            if a not in mapping:
                mapping[a] = sp.Symbol(f"_sig{len(mapping)}", real=True)
        out.append(e.xreplace(mapping) if mapping else e)
    return out, {s: sp.sstr(a) for a, s in mapping.items()}


def _gradients(field: ParameterField) -> tuple[list[list[sp.Expr]], tuple[sp.Symbol, ...]]:
    """d f_o / d theta_a (pattern symbols held constant: ReLU is linear on each pattern), and the extra symbols."""
    grads = [[sp.expand(sp.diff(f, p)) for p in field.params] for f in field.exprs]
    flat, names = _independent([g for row in grads for g in row])
    n = len(field.params)
    return [flat[o * n:(o + 1) * n] for o in range(len(field.exprs))], tuple(names)


def _monomials(params: Sequence[sp.Symbol], degree: int) -> list[tuple[int, ...]]:
    out = []
    for d in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(len(params)), d):
            e = [0] * len(params)
            for i in combo:
                e[i] += 1
            out.append(tuple(e))
    return out


def _blocks(support: Mapping[int, set]) -> tuple[set[int], list[list[int]]]:
    """Sparse pre-pass on "sum_u c_u r_u = 0 identically": unknowns forced to zero (an equation -- a monomial --
    produced by that unknown alone) and the connected blocks of the rest (unknowns sharing a monomial)."""
    by_key: dict[object, set[int]] = {}
    for u, keys in support.items():
        for k in keys:
            by_key.setdefault(k, set()).add(u)
    zero: set[int] = set()
    queue = [k for k, us in by_key.items() if len(us) == 1]
    while queue:
        k = queue.pop()
        alive = by_key[k] - zero
        if len(alive) == 1:
            (u,) = alive
            zero.add(u)
            queue.extend(k2 for k2 in support[u] if len(by_key[k2] - zero) == 1)
    parent = {u: u for u in support if u not in zero}

    def find(u: int) -> int:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for us in by_key.values():
        alive = [u for u in us if u not in zero]
        for u in alive[1:]:
            parent[find(u)] = find(alive[0])
    groups: dict[int, list[int]] = {}
    for u in parent:
        groups.setdefault(find(u), []).append(u)
    return zero, sorted(groups.values())


def _poly_support(expr: sp.Expr, gens: Sequence[sp.Expr]) -> dict[tuple[int, ...], sp.Expr]:
    return dict(sp.Poly(expr, *gens).terms()) if expr != 0 else {}


def _solve(exprs_of: Callable[[list[int]], list[sp.Expr]], unknowns: Sequence[sp.Symbol],
           support: Mapping[int, set], variables: Sequence[sp.Symbol], split_blocks: bool
           ) -> tuple[list[dict[int, sp.Expr]], bool, list[str]]:
    """Null space of the linear system, block by block through `null_space`; vectors as {unknown index: value}."""
    if split_blocks:
        zero, blocks = _blocks(support)
    else:
        zero, blocks = set(), [list(range(len(unknowns)))]
    vectors, complete, notes = [], True, []
    for block in blocks:
        ns = null_space(exprs_of(block), [unknowns[u] for u in block], variables)
        if not ns.complete:
            complete = False
            notes.append(ns.reason)
        for vec in ns.basis:
            vectors.append({block[i]: v for i, v in enumerate(vec) if v != 0})
    return vectors, complete, notes


def find_parameter_symmetries(field: ParameterField, degree: int = 1, *, samples: int = 6, seed: int = 0,
                              tol: float = 1e-9, max_unknowns: int = 50_000,
                              budget_s: float | None = None) -> ParameterSymmetries:
    """All generators xi(theta), polynomial of degree <= ``degree``, with xi . grad_theta f(z; theta) = 0 for all z.

    The unknowns are the coefficients c_{a,m} of xi_a = sum_m c_{a,m} theta^m; the condition
    sum_a xi_a d f_o / d theta_a = 0 must hold identically in the inputs, the pattern symbols and theta.  A sparse
    pre-pass (monomial supports) sets to zero the coefficients that alone produce some monomial and splits the
    rest into independent blocks; each block is solved and certified by `symnb.core.coefficients.null_space`.
    (The pre-pass is skipped when the field holds trigonometric or algebraic functions, whose relations can
    merge monomials.)  Each generator is then certified by `certify_generator`.  The generators that are
    gradients (curl-free, again through `null_space`) give Q with grad Q = xi, Q(0) = 0; the complement is flagged.

    Args:
        field: the field f(z; theta).
        degree: ansatz degree in theta (0: translations; 1: linear fields, the GL / rescale / scale family; 2).
        samples: random points per generator certificate; seed: their seed; tol: relative residual accepted.
        max_unknowns: refuse larger ansätze before any work.
        budget_s: wall-clock budget (seconds) for the symbolic work; past it the result is returned with
            ``complete=False`` and no generators.

    Returns:
        `ParameterSymmetries`.

    Raises:
        ValueError: for a degree outside 0..2, or an ansatz with more than ``max_unknowns`` coefficients.
    """
    if isinstance(degree, bool) or not isinstance(degree, int) or not 0 <= degree <= 2:
        raise ValueError(f"degree must be 0, 1 or 2, got {degree!r}")
    monos = _monomials(field.params, degree)
    n_unknowns = len(field.params) * len(monos)
    if n_unknowns > max_unknowns:
        raise ValueError(f"the degree-{degree} ansatz for {len(field.params)} parameters has {n_unknowns} "
                         f"coefficients, more than max_unknowns = {max_unknowns}; allowed: a lower degree or a "
                         "larger max_unknowns")
    budget = Budget(budget_s)  # validates budget_s before any work; the library's one budget, any thread
    try:
        with budget:
            return _find(field, degree, monos, samples, seed, tol)
    except BudgetExceeded as err:
        return ParameterSymmetries(field, degree, (), False, f"not decided: {err}", n_unknowns)


def _find(field: ParameterField, degree: int, monos: list[tuple[int, ...]], samples: int, seed: int,
          tol: float) -> ParameterSymmetries:
    params = field.params
    grads, extra = _gradients(field)
    pattern_syms = tuple(s for s, _ in field.patterns)
    variables = (*field.inputs, *pattern_syms, *extra, *params)
    funcs = sorted({a for row in grads for g in row for a in g.atoms(sp.Function)
                    if a.free_symbols & set(variables)}, key=sp.default_sort_key)
    special = any(isinstance(f, (sp.sin, sp.cos, sp.tan)) for f in funcs) or any(
        a.exp.is_Rational and not a.exp.is_Integer for row in grads for g in row for a in g.atoms(sp.Pow))
    gens = (*variables, *funcs)
    offset = len(variables) - len(params)
    unknowns, index = [], []
    for a, p in enumerate(params):
        for m in monos:
            unknowns.append(sp.Symbol(f"_c{len(unknowns)}"))
            index.append((a, m))
    support: dict[int, set] = {}
    if not special:
        g_support = [[_poly_support(g, gens) for g in row] for row in grads]
        for u, (a, m) in enumerate(index):
            keys = set()
            for o in range(len(grads)):
                for mono in g_support[o][a]:
                    shifted = list(mono)
                    for i, e in enumerate(m):
                        shifted[offset + i] += e
                    keys.add((o, tuple(shifted)))
            support[u] = keys

    def monomial(m: tuple[int, ...]) -> sp.Expr:
        return sp.Mul(*[p**e for p, e in zip(params, m) if e])

    def exprs_of(block: list[int]) -> list[sp.Expr]:
        return [sp.Add(*[unknowns[u] * monomial(index[u][1]) * grads[o][index[u][0]] for u in block])
                for o in range(len(grads))]

    vectors, complete, notes = _solve(exprs_of, unknowns, support, variables, not special)
    xis = []
    for vec in vectors:
        xi = [sp.S.Zero] * len(params)
        for u, v in vec.items():
            a, m = index[u]
            xi[a] += v * monomial(m)
        xis.append(tuple(sp.expand(x) for x in xi))
    gradient, flagged, g_complete, g_notes = _gradient_split(xis, params)
    complete &= g_complete
    notes += g_notes
    symmetries = []
    certifier = _Certifier(field, grads, extra)
    for xi, q in [_oriented(x, _potential(x, params)) for x in gradient] + [(x, None) for x in flagged]:
        cert = certifier.check(xi, samples, seed, tol)
        if not cert.certified:
            complete = False
            notes.append(f"generator {[sp.sstr(x) for x in xi if x != 0][:4]} failed its numeric certificate "
                         f"(residual {cert.residual:.1e})")
        symmetries.append(ParameterSymmetry(xi, q, CONSERVED if q is not None else NOT_GRADIENT, cert))
    return ParameterSymmetries(field, degree, tuple(symmetries), complete, "; ".join(dict.fromkeys(notes)),
                               len(unknowns))


def _gradient_split(xis: list[tuple[sp.Expr, ...]], params: Sequence[sp.Symbol]):
    """Split span(xis) into the gradient fields (curl-free: d xi_a/d theta_b = d xi_b/d theta_a) and a complement."""
    if not xis:
        return [], [], True, []
    d = [sp.Symbol(f"_d{k}") for k in range(len(xis))]
    position = {p: b for b, p in enumerate(params)}
    curls: dict[tuple[int, int], dict[int, sp.Expr]] = {}
    for k, xi in enumerate(xis):
        for a, xa in enumerate(xi):
            for b in sorted(position[p] for p in xa.free_symbols if p in position):
                if a == b:
                    continue
                c = sp.diff(xa, params[b])
                if c != 0:
                    pair = (min(a, b), max(a, b))
                    sign = 1 if a < b else -1
                    curls.setdefault(pair, {})[k] = curls.get(pair, {}).get(k, 0) + sign * c
    support = {k: {pair for pair, ks in curls.items() if k in ks} for k in range(len(xis))}
    by_pair = {pair: ks for pair, ks in curls.items()}

    def exprs_of(block: list[int]) -> list[sp.Expr]:
        pairs = sorted({p for k in block for p in support[k]})
        return [sp.expand(sp.Add(*[d[k] * by_pair[p][k] for k in block if k in by_pair[p]])) for p in pairs] or [
            sp.S.Zero]

    # No forced zeros here: a generator with nonzero curl is not a gradient, but may combine with others.
    parent = list(range(len(xis)))

    def find(u: int) -> int:
        while parent[u] != u:
            u = parent[u]
        return u

    for ks in by_pair.values():
        ks = list(ks)
        for k in ks[1:]:
            parent[find(k)] = find(ks[0])
    blocks: dict[int, list[int]] = {}
    for k in range(len(xis)):
        blocks.setdefault(find(k), []).append(k)
    gradient, flagged, complete, notes = [], [], True, []
    for block in blocks.values():
        ex = exprs_of(block)
        if all(e == 0 for e in ex):
            gradient += [xis[k] for k in block]
            continue
        ns = null_space(ex, [d[k] for k in block], list(params))
        if not ns.complete:
            complete = False
            notes.append(ns.reason)
        basis = sp.Matrix([list(v) for v in ns.basis]) if ns.basis else sp.zeros(0, len(block))
        for v in ns.basis:
            gradient.append(tuple(sp.expand(sum(c * xis[block[i]][a] for i, c in enumerate(v)))
                                  for a in range(len(params))))
        comp = basis.nullspace() if ns.basis else [sp.eye(len(block))[:, i] for i in range(len(block))]
        for v in comp:
            flagged.append(tuple(sp.expand(sum(v[i] * xis[block[i]][a] for i in range(len(block))))
                                 for a in range(len(params))))
    return gradient, flagged, complete, notes


def _oriented(xi: tuple[sp.Expr, ...], q: sp.Expr) -> tuple[tuple[sp.Expr, ...], sp.Expr]:
    """Fix the sign of (xi, Q) so that the first parameter Q depends on enters with a positive coefficient."""
    poly = sp.Poly(q, *sorted(q.free_symbols, key=sp.default_sort_key)) if q.free_symbols else None
    lead = poly.coeffs()[0] if poly is not None else q
    if lead.is_number and lead < 0:
        return tuple(-x for x in xi), -q
    return xi, q


def _potential(xi: Sequence[sp.Expr], params: Sequence[sp.Symbol]) -> sp.Expr:
    """Q with grad Q = xi and Q(0) = 0: Q = sum over homogeneous parts xi^(k) of theta . xi^(k) / (k + 1)."""
    q = sp.S.Zero
    for p, x in zip(params, xi):
        if x == 0:
            continue
        for mono, coeff in sp.Poly(x, *params).terms():
            q += p * coeff / (sum(mono) + 1) * sp.Mul(*[s**e for s, e in zip(params, mono) if e])
    q = sp.expand(q)
    index = {p: a for a, p in enumerate(params)}
    touched = {index[p] for p in q.free_symbols if p in index} | {a for a, x in enumerate(xi) if x != 0}
    if any(sp.expand(sp.diff(q, params[a]) - xi[a]) != 0 for a in touched):
        raise RuntimeError("internal: the potential of a curl-free generator does not reproduce it")
    return q


def _sample_point(field: ParameterField, symbols: Sequence[sp.Symbol], rng: random.Random
                  ) -> dict[sp.Symbol, float]:
    point = {s: rng.uniform(-1.5, 1.5) for s in symbols}
    for s, u in field.patterns:  # the activation pattern of this (theta, z)
        point[s] = 1.0 if float(u.xreplace(point)) > 0 else 0.0
    return point


def certify_generator(field: ParameterField, xi: Sequence[sp.Expr], *, samples: int = 6, seed: int = 0,
                      tol: float = 1e-9) -> GeneratorCertificate:
    """Check xi . grad_theta f(z; theta) = 0 numerically at random (theta, z), independently of the solver.

    The residual at each point is ``|sum_a xi_a df_o/dtheta_a| / (|xi| |grad f| + 1e-300)``, maximised over points and
    outputs; a generator is certified when it stays below ``tol`` and is not the zero field.  ReLU patterns are
    set from the sampled point's pre-activations; an undefined sigma's values are random.

    Args:
        field: the `ParameterField` f(z; theta).
        xi: the generator's components along ``field.params``.
        samples: random (theta, z) points (>= 1).
        seed: the seed of the points.
        tol: the largest relative residual that certifies.

    Returns:
        A `GeneratorCertificate` (largest residual, whether certified, points used).

    Raises:
        ValueError: when ``xi`` has the wrong length or ``samples`` < 1.
    """
    if len(xi) != len(field.params):
        raise ValueError(f"xi has {len(xi)} components; the field has {len(field.params)} parameters")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be an integer >= 1, got {samples!r}")
    return _Certifier(field, *_gradients(field)).check(xi, samples, seed, tol)


class _Certifier:
    """The compiled gradients of a field, reused for every generator."""

    def __init__(self, field: ParameterField, grads: list[list[sp.Expr]], extra: tuple[sp.Symbol, ...]):
        self.field, self.n_out = field, len(grads)
        self.symbols = (*field.inputs, *extra, *field.params)
        self.args = (*self.symbols, *[s for s, _ in field.patterns])
        self.grad_fn = to_torch(self.args, [g.evalf() for row in grads for g in row])

    def check(self, xi: Sequence[sp.Expr], samples: int, seed: int, tol: float) -> GeneratorCertificate:
        field, n = self.field, len(self.field.params)
        xi_fn = to_torch(self.args, [sp.sympify(x).evalf() for x in xi])
        rng = random.Random(seed)
        worst = 0.0
        for _ in range(samples):
            point = _sample_point(field, self.symbols, rng)
            args = [torch.tensor(point[s], dtype=torch.float64) for s in self.args]
            x = torch.stack([torch.as_tensor(v, dtype=torch.float64) for v in xi_fn(*args)])
            g = torch.stack([torch.as_tensor(v, dtype=torch.float64) for v in self.grad_fn(*args)]).reshape(
                self.n_out, n)
            if float(x.norm()) == 0.0:
                return GeneratorCertificate(float("inf"), False, samples)
            worst = max(worst, float((g @ x).abs().max() / (x.norm() * g.norm() + 1e-300)))
        return GeneratorCertificate(worst, worst <= tol, samples)


# ---------------------------------------------------------------------------- Marcotte et al.'s count
@dataclass(frozen=True)
class LawCount:
    """Marcotte et al.'s count of conservation laws, evaluated at one random theta (numerically).

    Attributes:
        n_params: D.
        ranks: dim of the span of V, of V + [V, V], ... at theta (one entry per bracket depth).
        n_laws: D - last rank: the number of independent conservation laws of gradient flow for any data,
            if the depth was enough (missed brackets can only lower the rank, so this is an upper bound).
        stable: whether the last two ranks agree (the Lie algebra closed at this depth).
    """

    n_params: int
    ranks: tuple[int, ...]
    n_laws: int
    stable: bool


def conservation_law_count(field: ParameterField, *, n_inputs: int = 48, depth: int = 3, seed: int = 0,
                           max_fields: int = 60) -> LawCount:
    """D - dim Lie(V)(theta), V = span{grad_theta f_o(z; theta) : z, o} (Marcotte, Gribonval, Peyré 2023).

    Fields are sampled at ``n_inputs`` random inputs (ReLU patterns frozen at the random theta, where they are
    locally constant); brackets [X, Y] = DY X - DX Y are taken with forward-mode autodiff (float64) up to
    ``depth``, keeping a basis of fields that raise the rank at theta (at most ``max_fields`` per depth).

    Args:
        field: the `ParameterField` f(z; theta).
        n_inputs: random inputs z whose gradient fields span V (>= 1).
        depth: bracket depth (>= 1).
        seed: the seed of theta and the inputs.
        max_fields: at most this many fields kept per depth.

    Returns:
        A `LawCount` (D, the ranks per depth, the number of laws, whether the ranks stabilised).

    Raises:
        ValueError: for n_inputs < 1 or depth < 1.
    """
    if isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or n_inputs < 1:
        raise ValueError(f"n_inputs must be an integer >= 1, got {n_inputs!r}")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
    grads, extra = _gradients(field)
    if extra:
        raise ValueError("conservation_law_count needs a concrete activation (relu, identity, tanh), not an "
                         "undefined sigma")
    pattern_syms = [s for s, _ in field.patterns]
    args = (*field.inputs, *pattern_syms, *field.params)
    fn = to_torch(args, [g for row in grads for g in row])
    rng = random.Random(seed)
    theta0 = {p: rng.uniform(-1.5, 1.5) for p in field.params}
    n = len(field.params)
    fields: list[Callable[[torch.Tensor], torch.Tensor]] = []
    for _ in range(n_inputs):
        z = {s: rng.uniform(-6.0, 6.0) for s in field.inputs}  # wide: every unit's pattern changes
        pat = {s: 1.0 if float(u.xreplace({**z, **theta0})) > 0 else 0.0 for s, u in field.patterns}
        head = [torch.tensor(z[s], dtype=torch.float64) for s in field.inputs] + \
               [torch.tensor(pat[s], dtype=torch.float64) for s in pattern_syms]
        for o in range(len(grads)):
            def v(theta: torch.Tensor, head=head, o=o) -> torch.Tensor:
                out = fn(*head, *theta.unbind())
                return torch.stack([torch.as_tensor(x, dtype=torch.float64) * torch.ones((), dtype=theta.dtype)
                                    for x in out[o * n:(o + 1) * n]])
            fields.append(v)
    t0 = torch.tensor([theta0[p] for p in field.params], dtype=torch.float64)

    def bracket(x: Callable, y: Callable) -> Callable:
        def b(theta: torch.Tensor) -> torch.Tensor:
            _, dy_x = torch.func.jvp(y, (theta,), (x(theta),))
            _, dx_y = torch.func.jvp(x, (theta,), (y(theta),))
            return dy_x - dx_y
        return b

    def rank(vals: list[torch.Tensor]) -> int:
        if not vals:
            return 0
        sv = torch.linalg.svdvals(torch.stack(vals))
        return int((sv > 1e-9 * sv[0]).sum()) if float(sv[0]) > 0 else 0

    basis, values = [], []
    for f in fields:
        val = f(t0)
        if rank(values + [val]) > len(values):
            basis.append(f)
            values.append(val)
    ranks = [len(values)]
    level = list(basis)
    for _ in range(depth - 1):
        new = []
        for x, y in itertools.combinations(basis, 2) if len(level) == len(basis) else itertools.product(basis, level):
            if len(values) >= n or len(new) >= max_fields:
                break
            b = bracket(x, y)
            val = b(t0)
            if rank(values + [val]) > len(values):
                new.append(b)
                values.append(val)
        ranks.append(len(values))
        basis += new
        level = new
        if not new:
            break
    stable = len(ranks) >= 2 and ranks[-1] == ranks[-2]
    return LawCount(n, tuple(ranks), n - ranks[-1], stable)
