"""The symmetry-regularized loss of eqs 16-17 / 43, generated from the SymPy quantities of eq 42.

Each regularizer is the mean square of the time derivative of one eq-42 quantity along the model's own
trajectory, evaluated on the time grid of the solve that produced the prediction:

    MSE_f = mean_{t,i} (dF_i/dt)^2,  MSE_h = mean_t (dH/dt)^2,  MSE_h~ = mean_t (dH~/dt)^2,
    MSE_p = mean_{t,i} (dP_i/dt)^2,  MSE_q = mean_{t,i} (dQ_i/dt)^2,  MSE_r = mean_{t,i} (dR_i/dt)^2,

    L_new = MSE + a1 MSE_f + a2 MSE_h + a3 MSE_h~ + a4 MSE_p + a5 MSE_q + a6 MSE_r       (eqs 17, 43).

(The paper sums over i in eq 43 and averages in eq 16; the 1/N is absorbed into the a's, as it says.)

The time derivative is available two ways, chosen by ``derivative``:
  * ``"closed"``: D_t of the quantity along the flow (`symnb.core.ode.total_derivative`, on shell), compiled once;
  * ``"autograd"``: torch.autograd of the compiled quantity with respect to t and the states, contracted with
    the model's right-hand side -- the chain rule done numerically.
Both go through `symnb.core.bridge.to_torch`; nothing is re-typed.  F, H and H~ live on the model's flow
(`model_system`); P, Q, R on the joint (z, u, v, w) flow of eq 6 (`adjoint_system`), with u_i(t) from the first
integral u f(z) = const of that flow (u f is conserved for any scalar autonomous f) and u_i(T) = dMSE/dz_i(T).

``formulation="guarded"`` evaluates the same quantities after a rewrite that removes the operations that produce
the first non-finite values in training (see `guard`): it changes no value where the printed form is finite.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from functools import lru_cache

import sympy as sp
import torch

from ..core.bridge import FieldModule, to_torch
from ..core.ode import ODESystem, total_derivative
from ..toy.model import ToyModel, adjoint_system, model_system
from ..printed import loss as printed
from ..printed.loss import S, S_star, t, theta1, theta2, u, v, w, z, z0, zs

__all__ = [
    "TERMS", "WEIGHTS", "LossSpec", "DERIVED_FOR", "check_activation", "Term", "DERIVATIVES", "FORMULATIONS", "LossConstants", "LossValues", "quantity", "time_derivative",
    "guard", "adjoint_states", "term_derivatives", "loss_terms", "combined_loss", "weights_tensor", "term_values",
]

DERIVATIVES = ("closed", "autograd")
FORMULATIONS = ("printed", "guarded")

# The argument order of every compiled expression: one signature for all quantities and their derivatives.
_ARGS = (t, z, zs, z0, u, v, w, theta1, theta2, S, S_star, *printed.CONSTANTS)


@dataclass(frozen=True)
class Term:
    """One regularizer of eq 43.

    Attributes:
        name: short key ("f", "h", ...), the suffix of MSE_name.
        weight: the paper's weight symbol name ("a1".."a6").
        quantity: the eq-42 quantity it differentiates ("F", "H", ...).
        flow: "model" (z only) or "adjoint" (the joint (z, u, v, w) flow).
        pooled: True when the quantity couples all samples (H, H~), False when it is one per sample.
    """

    name: str
    weight: str
    quantity: str
    flow: str
    pooled: bool


#: The six regularizers, in the order of a1..a6 (eq 43).
TERMS: dict[str, Term] = {
    "f": Term("f", "a1", "F", "model", False),
    "h": Term("h", "a2", "H", "model", True),
    "h_tilde": Term("h_tilde", "a3", "H_tilde", "model", True),
    "p": Term("p", "a4", "P", "adjoint", False),
    "q": Term("q", "a5", "Q", "adjoint", False),
    "r": Term("r", "a6", "R", "adjoint", False),
}


def _term(name: str) -> Term:
    if name not in TERMS:
        raise ValueError(f"unknown loss term {name!r}; valid: {list(TERMS)}")
    return TERMS[name]


def _check_choice(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; valid: {list(allowed)}")


@dataclass(frozen=True)
class LossConstants:
    """The arbitrary constants of eq 42 (epsilon, c1-c3, k2-k6); k4 and k5 do not enter eq 42.

    Raises:
        ValueError: if any constant is not a finite real number.
    """

    eps: float = 0.1
    c1: float = 1.0
    c2: float = 1.0
    c3: float = 1.0
    k2: float = 1.0
    k3: float = 1.0
    k4: float = 1.0
    k5: float = 1.0
    k6: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"constant {f.name} must be a finite real number, got {value!r}")

    def values(self) -> tuple[float, ...]:
        """The constants in the order of `symnb.printed.loss.CONSTANTS`."""
        return tuple(float(getattr(self, f.name)) for f in fields(self))

    def as_dict(self) -> dict[str, float]:
        """Plain dict (for JSON)."""
        return {k: float(x) for k, x in asdict(self).items()}


#: The weight names of eq 43, in its order (a1 multiplies MSE_f, ..., a6 MSE_r).
WEIGHTS = tuple(term.weight for term in TERMS.values())


@dataclass(frozen=True)
class LossSpec:
    """How the loss of eq 43 is put together for one run.

    Attributes:
        weights: a1..a6 by name (a mapping is accepted; stored as ((name, value), ...) in eq-43 order, missing
            names 0).
        constants: eq 42's constants (`LossConstants`).
        n_grid: points of the time grid 0..T on which the regularizers are evaluated (>= 2).
        derivative: "closed" or "autograd" (`DERIVATIVES`); formulation: "printed" or "guarded" (`FORMULATIONS`).

    Raises:
        ValueError: for an unknown weight name (listing a1..a6), a negative or non-finite weight, ``n_grid < 2``
            or an unknown derivative / formulation.
    """

    weights: tuple[tuple[str, float], ...] = ()
    constants: LossConstants = LossConstants()
    n_grid: int = 11
    derivative: str = "closed"
    formulation: str = "printed"

    def __post_init__(self) -> None:
        given = dict(self.weights)
        unknown = sorted(set(given) - set(WEIGHTS))
        if unknown:
            raise ValueError(f"unknown weight(s) {unknown}; the weights of eq 43 are {list(WEIGHTS)}")
        for name, value in given.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0:
                raise ValueError(f"weight {name} must be a finite number >= 0, got {value!r}")
        object.__setattr__(self, "weights", tuple((n, float(given.get(n, 0.0))) for n in WEIGHTS))
        if not isinstance(self.constants, LossConstants):
            raise ValueError(f"constants must be a LossConstants, got {self.constants!r}")
        if isinstance(self.n_grid, bool) or not isinstance(self.n_grid, int) or self.n_grid < 2:
            raise ValueError(f"n_grid must be an integer >= 2 (the grid includes 0 and T), got {self.n_grid!r}")
        _check_choice(self.derivative, DERIVATIVES, "derivative")
        _check_choice(self.formulation, FORMULATIONS, "formulation")

    @property
    def weight_values(self) -> tuple[float, ...]:
        """(a1, ..., a6)."""
        return tuple(v for _, v in self.weights)

    @property
    def active(self) -> tuple[str, ...]:
        """The keys of `TERMS` whose weight is non-zero (the terms a run evaluates)."""
        return tuple(name for name, a in zip(TERMS, self.weight_values) if a > 0)


# ---------------------------------------------------------------------------------------------------------
# symbolic side


def guard(expr: sp.Expr, delta: float = 1e-6) -> sp.Expr:
    """Rewrite ``expr`` so that its compiled form and its derivatives stay finite (the "guarded" formulation).

    Three rewrites, each the identity where the printed expression is finite:
      * asin(tanh(x)) -> atan(sinh(x)): the same function (the Gudermannian); the printed form's derivative is
        (1 - tanh^2)/sqrt(1 - tanh^2) = 0/0 once tanh(x) rounds to +-1;
      * atanh(y) -> atanh(clip(y, -1 + delta, 1 - delta)): c^i = atanh(sin(theta1 z0 + theta2))/theta1 is infinite
        on the fixed points sin = +-1;
      * theta1 -> theta1 bounded away from 0 by delta (with its sign) wherever it divides.
    """
    x, y = sp.Wild("x"), sp.Wild("y")
    out = expr.replace(sp.asin(sp.tanh(x)), sp.atan(sp.sinh(x)))
    lo, hi = -1 + delta, 1 - delta
    out = out.replace(sp.atanh(y), lambda y: sp.atanh(sp.Piecewise((lo, y < lo), (hi, y > hi), (y, True))))
    safe = sp.Piecewise((delta, (theta1 >= 0) & (theta1 < delta)), (-delta, (theta1 < 0) & (theta1 > -delta)),
                        (theta1, True))
    return out.replace(lambda e: e.is_Pow and e.base == theta1 and e.exp.is_negative,
                       lambda e: safe ** e.exp)


@lru_cache(maxsize=None)
def _summand(name: str) -> tuple[sp.Expr, dict, str]:
    """(per-sample expression, pools {symbol: per-sample term}, reduction) for an eq-42 quantity."""
    if name == "H":
        # H(N) = (1/N) sum_i H(1)(z_i): the printed N = 1 form is the summand, the reduction a mean
        (z1,), (s1,) = printed.sample_symbols(1)
        return printed.H(1).subs({z1: z, s1: zs}), {}, "mean"
    if name == "H_tilde":
        return printed.H_tilde_summand(), dict(printed.H_TILDE_POOLS), "sum"
    return getattr(printed, name)(), {}, "none"


def quantity(name: str) -> sp.Expr:
    """The eq-42 quantity ``name`` (F, P, Q, R per sample; H, H~ as their summand) as printed.

    Raises:
        ValueError: for an unknown name.
    """
    _check_choice(name, printed.EQ43_ORDER, "quantity")
    return _summand(name)[0]


#: The activations eq 42's quantities were derived for (§3: the paper works out sigma = cos only).
DERIVED_FOR = ("cos",)


def check_activation(activation: str) -> None:
    """Refuse regularizing a model whose activation eq 42 was not derived for.

    F, H, H~, P, Q, R are built from the cosine model's symmetry and closed form; along a tanh flow they are
    not conserved and their derivatives penalize the wrong thing, silently.  (Chapter 6 derives each activation's
    own first integrals with `symnb.core`.)

    Raises:
        ValueError: for an activation outside `DERIVED_FOR`.
    """
    if activation not in DERIVED_FOR:
        raise ValueError(f"activation {activation!r}: the regularizers of eq 43 use the quantities of eq 42, which "
                         f"the paper derives for sigma = cos only; allowed with non-zero weights a1..a6: "
                         f"{list(DERIVED_FOR)} (train {activation!r} with all weights 0, or derive its first "
                         f"integrals with symnb.core as chapter 6 does)")


def _system(term: Term, activation: str) -> ODESystem:
    return model_system(activation) if term.flow == "model" else adjoint_system(activation)


@lru_cache(maxsize=None)
def time_derivative(name: str, activation: str = "cos", formulation: str = "printed") -> tuple[sp.Expr, dict]:
    """D_t of a term's quantity along its flow (closed form): (D_t of the summand at fixed pools, D_t of each pool).

    Args:
        name: a key of `TERMS`.
        activation: the model's activation (the paper's quantities are derived for "cos").
        formulation: "printed" or "guarded" (`guard` applied before differentiating).

    Returns:
        (dq, dpools): dq = sum over states of dq/dx f_x plus dq/dt, with the pool symbols held fixed; dpools maps
        each pool symbol to D_t of its per-sample term.  The derivative of the pooled quantity is then
        sum_i dq_i + sum_pool (sum_i d q_i / d pool) * (sum_k dpool_k).

    Raises:
        ValueError: for an unknown term or formulation, or an activation other than "cos" (`check_activation`).
    """
    term = _term(name)
    _check_choice(formulation, FORMULATIONS, "formulation")
    check_activation(activation)
    expr, pools, _ = _summand(term.quantity)
    if formulation == "guarded":
        expr = guard(expr)
    system = _system(term, activation)
    return total_derivative(expr, system), {p: total_derivative(a, system) for p, a in pools.items()}


@lru_cache(maxsize=None)
def _compiled(name: str, activation: str, formulation: str) -> dict[str, Callable]:
    term = TERMS[name]
    expr, pools, reduction = _summand(term.quantity)
    if formulation == "guarded":
        expr = guard(expr)
    dq, dpools = time_derivative(name, activation, formulation)
    system = _system(term, activation)
    return {
        "q": to_torch(_ARGS, [expr]),
        "dq": to_torch(_ARGS, [dq]),
        "dq_dpool": to_torch(_ARGS, [sp.diff(expr, p) for p in pools]),
        "pools": to_torch(_ARGS, [pools[p] for p in pools]),
        "dpools": to_torch(_ARGS, [dpools[p] for p in pools]),
        "rhs": to_torch(_ARGS, list(system.rhs)),
        "states": tuple(system.states),
        "reduction": reduction,
        "n_pools": len(pools),
    }


@lru_cache(maxsize=None)
def _fused(names: tuple[str, ...], activation: str, formulation: str) -> tuple[Callable, tuple]:
    """One CSE'd function computing every closed-form piece the terms ``names`` need (shared work done once).

    Returns:
        (fn, layout): fn(*_ARGS) returns a flat list; layout[i] = (name, n_pools) tells how to slice it:
        dq, then for pooled terms dq/dpool_j and D_t pool_j for each pool.
    """
    exprs, layout = [], []
    for name in names:
        expr, pools, _ = _summand(TERMS[name].quantity)
        if formulation == "guarded":
            expr = guard(expr)
        dq, dpools = time_derivative(name, activation, formulation)
        exprs.append(dq)
        exprs += [sp.diff(expr, p) for p in pools] + [dpools[p] for p in pools]
        layout.append((name, len(pools)))
    # SymPy's own common-subexpression elimination (lambdify(..., cse=True)): shared work done once.
    return to_torch(_ARGS, exprs, cse=True), tuple(layout)


# ---------------------------------------------------------------------------------------------------------
# numeric side


@dataclass(frozen=True)
class _Point:
    """Tensors for every argument of `_ARGS` (broadcastable, shape (G, *batch, N))."""

    args: dict

    def call(self, fn: Callable) -> list[torch.Tensor]:
        return fn(*(self.args[s] for s in _ARGS))

    def replace(self, **kw) -> "_Point":
        new = dict(self.args)
        for key, value in kw.items():
            new[{"t": t, "z": z, "u": u, "v": v, "w": w}[key]] = value
        return _Point(new)


def _as_tensor(x, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(x, dtype=like.dtype, device=like.device).expand(like.shape)


def adjoint_states(model: ToyModel, trajectory: torch.Tensor, targets: torch.Tensor, theta: torch.Tensor,
                   times: torch.Tensor, *, with_vw: bool = False) -> tuple[torch.Tensor, ...]:
    """The adjoints u_i(t) (and optionally v_i, w_i) of eq 6 along a trajectory, for L = MSE.

    u_i(T) = 2 (z_i(T) - z_i*) / N; u f(z) is a first integral of the joint flow, so
    u_i(t) = u_i(T) f(z_i(T)) / f(z_i(t)) (differentiable).  v_i, w_i (terminal value 0) come from a backward
    solve of `adjoint_system` with the model's solver; they are returned detached: the eq-42 quantities are
    linear in v and w, so no time derivative depends on their values.

    Returns:
        (u,) or (u, v, w), each of the trajectory's shape (G, *batch, N).
    """
    n = trajectory.shape[-1]
    f = model.rhs(trajectory, theta)
    u_final = 2.0 * (trajectory[-1] - targets) / n
    uu = u_final * f[-1] / f
    if not with_vw:
        return (uu,)
    joint = FieldModule((z, u, v, w), adjoint_system(model.activation).rhs, params=(theta1, theta2), axis=0)
    th1, th2 = theta.detach()[..., 0:1], theta.detach()[..., 1:2]

    def field(_t, y):
        return joint(_t, y, th1, th2)

    y_final = torch.stack([trajectory[-1].detach(), u_final.detach(), torch.zeros_like(u_final),
                           torch.zeros_like(u_final)])
    with torch.no_grad():
        back = _odeint_back(field, y_final, times, model)
    return uu, back[:, 2], back[:, 3]


def _odeint_back(field: Callable, y_final: torch.Tensor, times: torch.Tensor, model: ToyModel) -> torch.Tensor:
    """Solve ``field`` backward from times[-1] and return the states on ``times`` in increasing order."""
    from torchdiffeq import odeint

    kwargs = dict(method=model.solver)
    if model.solver not in ("rk4", "euler", "midpoint"):
        kwargs.update(rtol=model.rtol, atol=model.atol)
    return odeint(field, y_final, times.flip(0), **kwargs).flip(0)


def _point(model: ToyModel, trajectory, inputs, targets, theta, times, constants: LossConstants,
           adjoints: Sequence[torch.Tensor] = ()) -> _Point:
    like = trajectory
    shape = (times.shape[0],) + (1,) * (trajectory.dim() - 1)
    args = {t: times.reshape(shape).expand(like.shape), z: trajectory, zs: _as_tensor(targets, like),
            z0: _as_tensor(inputs, like), theta1: theta[..., 0:1].expand(like.shape),
            theta2: theta[..., 1:2].expand(like.shape), S: torch.ones_like(like), S_star: torch.ones_like(like)}
    zero = torch.zeros_like(like)
    for sym, val in zip((u, v, w), tuple(adjoints) + (zero,) * (3 - len(adjoints))):
        args[sym] = val
    for sym, val in zip(printed.CONSTANTS, constants.values()):
        args[sym] = val
    return _Point(args)


def _with_pools(fns: dict, point: _Point) -> _Point:
    """Fill S, S* with their sums over the samples (last axis)."""
    if not fns["n_pools"]:
        return point
    sums = [_as_tensor(p, point.args[z]).sum(-1, keepdim=True)
            for p in point.call(fns["pools"])]
    new = dict(point.args)
    for sym, val in zip((S, S_star), sums):
        new[sym] = val.expand(point.args[z].shape)
    return _Point(new)


def _value(fns: dict, point: _Point) -> torch.Tensor:
    """The quantity at every grid point: (G, *batch, N) per sample, (G, *batch) pooled."""
    point = _with_pools(fns, point)
    (q,) = point.call(fns["q"])
    q = _as_tensor(q, point.args[z])
    if fns["reduction"] == "mean":
        return q.mean(-1)
    if fns["reduction"] == "sum":
        return q.sum(-1)
    return q


def _closed(fns: dict, point: _Point) -> torch.Tensor:
    point = _with_pools(fns, point)
    shape = point.args[z].shape
    (dq,) = point.call(fns["dq"])
    dq = _as_tensor(dq, point.args[z])
    if fns["reduction"] == "none":
        return dq
    total = dq.sum(-1)
    for dqdp, dp in zip(point.call(fns["dq_dpool"]), point.call(fns["dpools"])):
        total = total + _as_tensor(dqdp, point.args[z]).sum(-1) * _as_tensor(dp, point.args[z]).sum(-1)
    return total / shape[-1] if fns["reduction"] == "mean" else total


def _autograd(fns: dict, point: _Point) -> torch.Tensor:
    names = {t: "t", z: "z", u: "u", v: "v", w: "w"}
    movers = [t, *fns["states"]]
    with torch.enable_grad():
        # aliases (not the tensors themselves): the gradient w.r.t. an alias counts only the paths through it,
        # i.e. the partial derivative holding the other arguments (u is computed from z) fixed
        leaves = {"t": point.args[t].detach().clone().requires_grad_(True)}
        for sym in fns["states"]:
            x = point.args[sym]
            leaves[names[sym]] = x.view_as(x) if x.requires_grad else x.detach().requires_grad_(True)
        p = point.replace(**leaves)
        q = _value(fns, p)
        grads = torch.autograd.grad(q.sum(), [leaves[names[s]] for s in movers], create_graph=True,
                                    allow_unused=True)
        rates = [torch.ones_like(p.args[z])] + [_as_tensor(r, p.args[z])
                                                for r in p.call(fns["rhs"])]
        total = sum(g * r for g, r in zip(grads, rates) if g is not None)
    # pooled quantities: every sample's partials add up (the mean's 1/N is already inside q)
    return total if fns["reduction"] == "none" else total.sum(-1)


def term_derivatives(name: str, model: ToyModel, trajectory: torch.Tensor, inputs: torch.Tensor,
                     targets: torch.Tensor, theta: torch.Tensor, times: torch.Tensor,
                     constants: LossConstants = LossConstants(), *, derivative: str = "closed",
                     formulation: str = "printed", adjoints: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
    """d(quantity)/dt of one term along ``trajectory`` at every grid time.

    Args:
        name: a key of `TERMS`.
        model: supplies the activation, the solver (for v, w) and the right-hand side.
        trajectory: z on the grid, shape (G, *batch, N) (from ``model.solve``).
        inputs, targets: z(0) and z*, shape (N,) or (*batch, N).
        theta: (*batch, 2) or (2,).
        times: the grid, shape (G,).
        constants: eq 42's constants.
        derivative: "closed" or "autograd".
        formulation: "printed" or "guarded".
        adjoints: precomputed (u,) or (u, v, w) for adjoint-flow terms (else computed here).

    Returns:
        (G, *batch, N) for per-sample quantities, (G, *batch) for H and H~.

    Raises:
        ValueError: for an unknown term, derivative mode or formulation.
    """
    term = _term(name)
    _check_choice(derivative, DERIVATIVES, "derivative")
    _check_choice(formulation, FORMULATIONS, "formulation")
    fns = _compiled(name, model.activation, formulation)
    if term.flow == "adjoint" and adjoints is None:
        adjoints = adjoint_states(model, trajectory, targets, theta, times, with_vw=derivative == "autograd")
    point = _point(model, trajectory, inputs, targets, theta, times, constants, adjoints or ())
    return _closed(fns, point) if derivative == "closed" else _autograd(fns, point)


def term_values(name: str, model: ToyModel, trajectory: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor,
                theta: torch.Tensor, times: torch.Tensor, constants: LossConstants = LossConstants(), *,
                formulation: str = "printed") -> torch.Tensor:
    """The eq-42 quantity of one term along ``trajectory`` (shapes as in `term_derivatives`)."""
    term = _term(name)
    fns = _compiled(name, model.activation, formulation)
    adjoints = adjoint_states(model, trajectory, targets, theta, times, with_vw=True) if term.flow == "adjoint" \
        else ()
    return _value(fns, _point(model, trajectory, inputs, targets, theta, times, constants, adjoints))


def _fused_derivatives(active, model, trajectory, inputs, targets, theta, times, constants, formulation,
                       adjoints) -> list[torch.Tensor]:
    """Closed-form D_t of every term in ``active`` from one fused, CSE'd evaluation (same values as `_closed`)."""
    fn, layout = _fused(active, model.activation, formulation)
    point = _point(model, trajectory, inputs, targets, theta, times, constants, adjoints)
    if any(TERMS[n].quantity == "H_tilde" for n in active):
        point = _with_pools(_compiled("h_tilde", model.activation, formulation), point)
    shape = point.args[z].shape
    flat = [_as_tensor(x, point.args[z]) for x in point.call(fn)]
    out, k = [], 0
    for name, n_pools in layout:
        dq = flat[k]
        dqdp, dp = flat[k + 1:k + 1 + n_pools], flat[k + 1 + n_pools:k + 1 + 2 * n_pools]
        k += 1 + 2 * n_pools
        reduction = _summand(TERMS[name].quantity)[2]
        if reduction == "none":
            out.append(dq)
            continue
        total = dq.sum(-1)
        for a, b in zip(dqdp, dp):
            total = total + a.sum(-1) * b.sum(-1)
        out.append(total / shape[-1] if reduction == "mean" else total)
    return out


@dataclass(frozen=True)
class LossValues:
    """The data MSE and the six regularizers of eq 43 for one forward pass.

    Attributes:
        mse: mean_i (z_i(T) - z_i*)^2, shape (*batch).
        terms: MSE_name for each evaluated term, in eq-43 order (terms not evaluated are absent).
        trajectory: z on the grid, (G, *batch, N).
    """

    mse: torch.Tensor
    terms: tuple[tuple[str, torch.Tensor], ...]
    trajectory: torch.Tensor

    def term(self, name: str) -> torch.Tensor:
        """MSE_name.

        Raises:
            ValueError: if the term was not evaluated.
        """
        for key, value in self.terms:
            if key == name:
                return value
        raise ValueError(f"term {name!r} was not evaluated; evaluated: {[k for k, _ in self.terms]}")


def weights_tensor(weights, like: torch.Tensor) -> torch.Tensor:
    """a1..a6 as a tensor of shape (6,) or (B, 6) (dtype/device of ``like``).

    Raises:
        ValueError: for a wrong trailing size or non-finite / negative entries.
    """
    a = torch.as_tensor(weights, dtype=like.dtype, device=like.device)
    if a.dim() == 0 or a.shape[-1] != len(TERMS):
        raise ValueError(f"weights must have trailing size {len(TERMS)} (a1..a6), got shape {tuple(a.shape)}")
    if not torch.isfinite(a).all() or (a < 0).any():
        raise ValueError(f"weights a1..a6 must be finite and >= 0, got {a.tolist()}")
    return a


def loss_terms(model: ToyModel, inputs: torch.Tensor, targets: torch.Tensor, theta: torch.Tensor,
               times: torch.Tensor, constants: LossConstants = LossConstants(), *,
               terms: Sequence[str] | None = None, derivative: str = "closed",
               formulation: str = "printed") -> LossValues:
    """Solve the model on ``times`` and evaluate MSE and the requested regularizers of eq 43.

    Args:
        model: the toy Neural ODE.
        inputs: z(0), (N,) or (*batch, N).
        targets: z*(T), same shape rules.
        theta: (2,) or (*batch, 2).
        times: the grid 0 = t_0 < ... < t_G-1 = T (prediction at T, regularizers on every grid point).
        constants: eq 42's constants.
        terms: which regularizers to evaluate (default all six).
        derivative: "closed" or "autograd".
        formulation: "printed" or "guarded".

    Returns:
        `LossValues`.

    Raises:
        ValueError: for an unknown term, derivative or formulation.
    """
    names = list(TERMS) if terms is None else list(terms)
    for name in names:
        _term(name)
    _check_choice(derivative, DERIVATIVES, "derivative")
    _check_choice(formulation, FORMULATIONS, "formulation")
    trajectory = model.solve(inputs, theta, times)
    mse = ((trajectory[-1] - targets) ** 2).mean(-1)
    adjoints = None
    out = []
    active = tuple(n for n in TERMS if n in names)
    if derivative == "closed" and active:
        if any(TERMS[n].flow == "adjoint" for n in active):
            adjoints = adjoint_states(model, trajectory, targets, theta, times)
        for name, d in zip(active, _fused_derivatives(active, model, trajectory, inputs, targets, theta, times,
                                                      constants, formulation, adjoints or ())):
            sq = d ** 2
            out.append((name, sq.mean(0) if TERMS[name].pooled else sq.mean((0, -1))))
        return LossValues(mse, tuple(out), trajectory)
    for name in active:
        if TERMS[name].flow == "adjoint" and adjoints is None:
            adjoints = adjoint_states(model, trajectory, targets, theta, times, with_vw=derivative == "autograd")
        d = term_derivatives(name, model, trajectory, inputs, targets, theta, times, constants,
                             derivative=derivative, formulation=formulation, adjoints=adjoints)
        sq = d ** 2
        out.append((name, sq.mean(0) if TERMS[name].pooled else sq.mean((0, -1))))
    return LossValues(mse, tuple(out), trajectory)


def combined_loss(values: LossValues, weights: torch.Tensor) -> torch.Tensor:
    """L_new = MSE + sum_j a_j MSE_j (eq 43), shape (*batch); terms not evaluated must have weight 0.

    Raises:
        ValueError: if a term with a non-zero weight was not evaluated.
    """
    total = values.mse
    evaluated = dict(values.terms)
    for j, name in enumerate(TERMS):
        a = weights[..., j]
        if name in evaluated:
            total = total + a * evaluated[name]
        elif bool((a != 0).any()):
            raise ValueError(f"weight {TERMS[name].weight} is non-zero but term {name!r} was not evaluated")
    return total



