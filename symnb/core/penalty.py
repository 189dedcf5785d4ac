"""From a certified first integral to a torch loss: conservation penalties and projection onto level sets.

A first integral I(t, x) of dx/dt = f(t, x) satisfies D_t I = dI/dt + grad I . f = 0 on solutions (paper eq 14).
For a learned vector field f_theta that identity is a loss (the paper's physics-informed term, eqs 41-43, for any
integral instead of the toy's):

* ``kind="collocation"``: mean over points x of (dI/dt(x) + grad I(x) . f_theta(x))**2 -- needs only the field's
  values at the points, so any ``nn.Module`` works;
* ``kind="trajectory"``: mean over times and trajectories of (I(x(t)) - I(x(0)))**2 (the drift the conserved
  quantity must not show).

`project_to_level_set` moves points back onto I = level by Newton steps along grad I (the projection used by
invariant-preserving integrators, Hairer-Lubich-Wanner, *Geometric Numerical Integration* (2006), section IV.4).

Every formula reaches torch through `symnb.core.bridge.to_torch`: I and its partial derivatives are
differentiated by SymPy, never typed in.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy as sp
import torch
from torch import nn

from .bridge import to_torch
from .first_integrals import FirstIntegrals
from .ode import ODESystem

__all__ = ["KINDS", "ConservationPenalty", "conservation_penalty", "project_to_level_set"]

KINDS = ("collocation", "trajectory")


def _integral_expr(integral: Any) -> sp.Expr:
    """A SymPy expression, or the ``.expr`` of a `first_integrals` result."""
    if isinstance(integral, FirstIntegrals):
        # The whole result, not one of its integrals; its repr (system, every integral) runs to kilobytes.
        raise ValueError(f"integral is a FirstIntegrals result holding {len(integral)} integral(s); pass one "
                         f"FirstIntegral, e.g. result[0] (or result[0].expr), not the whole result")
    expr = getattr(integral, "expr", integral)
    try:
        expr = sp.sympify(expr)
    except (sp.SympifyError, TypeError) as err:
        raise ValueError(f"integral must be a SymPy expression or have an .expr attribute, got "
                         f"{_short(integral)} ({type(integral).__name__})") from err
    if not isinstance(expr, sp.Expr):
        raise ValueError(f"integral must be a SymPy expression, got {_short(expr)} ({type(expr).__name__})")
    return expr


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _substitute(expr: sp.Expr, system: ODESystem, values: Mapping[Any, float] | None) -> sp.Expr:
    """``expr`` with numbers for every symbol other than t and the states (keys: symbols or their names)."""
    if not isinstance(system, ODESystem):
        raise ValueError(f"system must be an ODESystem, got {type(system).__name__}")
    bad = expr.free_symbols & set(system.derivatives)
    if bad:
        raise ValueError(f"integral contains derivative symbol(s) {sorted(map(str, bad))}: it must be a function "
                         f"of t={system.t} and the states {list(system.states)} only")
    others = expr.free_symbols - {system.t, *system.states}
    by_name = {str(k): v for k, v in (values or {}).items()}
    missing = sorted(s.name for s in others if s.name not in by_name)
    if missing:
        raise ValueError(f"values: no number for symbol(s) {missing} of the integral {expr}; give values="
                         f"{{name: number}} for every symbol other than t and the states {list(system.states)}")
    return expr.subs({s: by_name[s.name] for s in others})


class _Compiled:
    """I, dI/dt and grad_x I of one integral as torch functions of (t, x) with x of shape (..., n).

    Pickles (Dask workers, DataLoader workers, ``torch.save``) as the SymPy expression and the system; the
    lambdified function, a closure, is rebuilt on first use after unpickling.
    """

    def __init__(self, expr: sp.Expr, system: ODESystem) -> None:
        self.expr, self.system = expr, system
        self.time_dependent = expr.has(system.t)
        self._fn = self._compile()

    def _compile(self):
        args = (self.system.t, *self.system.states)
        # SymPy differentiates; to_torch (the only lambdify) compiles.  One call: I, dI/dt, dI/dx_1..dI/dx_n.
        # evalf folds numeric sub-expressions such as log(2): torch functions refuse Python numbers.
        exprs = [self.expr, sp.diff(self.expr, self.system.t), *(sp.diff(self.expr, x) for x in self.system.states)]
        return to_torch(args, [e.evalf() for e in exprs])

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_fn"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._fn = None

    @property
    def fn(self):
        if self._fn is None:
            self._fn = self._compile()
        return self._fn

    def __call__(self, x: torch.Tensor, t: torch.Tensor | float | None) -> tuple[torch.Tensor, torch.Tensor,
                                                                                  torch.Tensor]:
        """(I, dI/dt, grad I) at x (..., n); I and dI/dt of shape (...), grad I of shape (..., n)."""
        if t is None:
            if self.time_dependent:
                raise ValueError(f"the integral {self.expr} depends on t={self.system.t}: pass t (a number or a "
                                 f"tensor broadcastable to the batch shape {tuple(x.shape[:-1])})")
            t = torch.zeros((), dtype=x.dtype, device=x.device)
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        out = self.fn(t, *x.unbind(-1))
        shape = x.shape[:-1]
        # Constant expressions come back as Python numbers; make every output a tensor of the batch shape.
        out = [torch.as_tensor(o, dtype=x.dtype, device=x.device).expand(shape) for o in out]
        return out[0], out[1], torch.stack(out[2:], dim=-1)


def _check_points(name: str, x: torch.Tensor, n: int, ndim: tuple[int, ...], layout: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape {layout}, got {type(x).__name__}")
    if x.ndim not in ndim or x.shape[-1] != n:
        raise ValueError(f"{name} has shape {tuple(x.shape)}; expected {layout} with n={n} (the number of states)")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating tensor (float32 or float64), got dtype {x.dtype}")


class ConservationPenalty(nn.Module):
    """The conservation penalty of one first integral (see `conservation_penalty`).

    Attributes:
        expr: I(t, x) with the parameter values substituted.
        kind: ``"collocation"`` or ``"trajectory"``.
        system: the system the integral belongs to (supplies t and the order of the states).
    """

    def __init__(self, expr: sp.Expr, system: ODESystem, kind: str) -> None:
        super().__init__()
        self.expr, self.system, self.kind = expr, system, kind
        self._compiled = _Compiled(expr, system)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, I={self.expr}"

    def integral(self, x: torch.Tensor, t: torch.Tensor | float | None = None) -> torch.Tensor:
        """I(t, x) at points x of shape (..., n)."""
        return self._compiled(x, t)[0]

    def forward(self, *args: torch.Tensor, t: torch.Tensor | float | None = None) -> torch.Tensor:
        """Collocation: ``penalty(x, fx, t=None)``; trajectory: ``penalty(xs, t=None)``.

        A leading batch dimension E (an ensemble of E independent fields, `symnb.neural.ensemble`) gives one
        penalty per member in one call: the mean runs over the points (and times) of each member only.

        Args:
            x, fx: (collocation) points (B, n) or (E, B, n) and the field's values there, same shape, dtype and
                device.
            xs: (trajectory) states (T, B, n) or (T, E, B, n) along B trajectories (per member); row 0 is the
                initial state.
            t: times, needed only when I depends on t: broadcastable to the batch shape, e.g. (B,)
                (collocation) or (T, B) (trajectory, ``ts[:, None]``).

        Returns:
            A scalar tensor, or shape (E,) for batched input (differentiable in x, fx and anything they depend
            on).

        Raises:
            ValueError: for a wrong number of tensors, shapes, dtypes, or a missing ``t``.
        """
        n = len(self.system.states)
        if self.kind == "collocation":
            if len(args) != 2:
                raise ValueError(f"collocation penalty takes (x, fx), got {len(args)} tensor argument(s)")
            x, fx = args
            _check_points("x", x, n, (2, 3), "(B, n) or (E, B, n)")
            _check_points("fx", fx, n, (2, 3), "(B, n) or (E, B, n)")
            if fx.shape != x.shape:
                raise ValueError(f"fx has shape {tuple(fx.shape)} but x has shape {tuple(x.shape)}; they must match")
            _, dt, grad = self._compiled(x, t)
            rate = dt + (grad * fx).sum(-1)  # D_t I along the field fx (paper eq 14)
            return rate.pow(2).mean(-1)
        if len(args) != 1:
            raise ValueError(f"trajectory penalty takes (xs,) of shape (T, B, n), got {len(args)} tensor argument(s)")
        (xs,) = args
        _check_points("xs", xs, n, (3, 4), "(T, B, n) or (T, E, B, n)")
        values = self._compiled(xs, t)[0]
        return (values - values[:1]).pow(2).mean(dim=(0, -1))


def conservation_penalty(integral: Any, system: ODESystem, kind: str = "collocation",
                         values: Mapping[Any, float] | None = None) -> ConservationPenalty:
    """A torch module penalising the violation of the first integral ``integral`` of ``system``.

    Args:
        integral: I(t, x) as a SymPy expression, or a result of `first_integrals` (its ``.expr`` is used).
        system: the ODE system whose t and states I is written in (the penalty does not use its right-hand side:
            the field to be penalised is passed at call time).
        kind: ``"collocation"`` -- ``penalty(x, fx)`` = mean_b (dI/dt + grad I(x_b) . fx_b)**2 for points x (B, n)
            and any field's values fx (B, n) there (paper eq 14 as a loss, cf. eqs 41-43); ``"trajectory"`` --
            ``penalty(xs)`` = mean_{t,b} (I(x_t,b) - I(x_0,b))**2 for states xs (T, B, n).  Both take a leading
            ensemble dimension E and then return one value per member.
        values: numbers for every symbol of I other than t and the states (keys: symbols or names).

    Returns:
        A `ConservationPenalty` (an ``nn.Module`` without parameters).  It computes in the dtype and on the
        device of its inputs (float32 or float64; CPU or CUDA).

    Raises:
        ValueError: for an unknown ``kind``, an integral that is not an expression of t and the states, or a
            missing parameter value.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; allowed: {list(KINDS)}")
    expr = _substitute(_integral_expr(integral), system, values)
    return ConservationPenalty(expr, system, kind)


def _check_finite(value: torch.Tensor, y: torch.Tensor, steps: int, expr: sp.Expr) -> None:
    """Raise where I is nan/inf: the point lies outside I's real domain (log of a non-positive number, ...)."""
    bad = ~torch.isfinite(value)
    if not bool(bad.any()):
        return
    point = y.reshape(-1, y.shape[-1])[bad.reshape(-1).nonzero()[0, 0]].tolist()
    where = "at the given point(s)" if steps == 0 else f"after {steps} Newton step(s)"
    needs = sorted({f"{sp.sstr(a.args[0])} > 0" for a in expr.atoms(sp.log)}
                   | {f"{sp.sstr(a.base)} >= 0" for a in expr.atoms(sp.Pow) if a.exp.is_Rational and not a.exp.is_Integer}
                   | {f"|{sp.sstr(a.args[0])}| <= 1" for a in expr.atoms(sp.asin, sp.acos, sp.atanh)})
    raise ValueError(f"I={expr} is not a finite real number {where} at {int(bad.sum())} point(s), e.g. x="
                     f"{[round(v, 6) for v in point]}: the projection left I's real domain"
                     f"{' (it needs ' + ', '.join(needs) + ')' if needs else ''}; "
                     "start inside the domain and closer to the level set")


def project_to_level_set(integral: Any, system: ODESystem, x: torch.Tensor, level: torch.Tensor | float, *,
                         values: Mapping[Any, float] | None = None, t: torch.Tensor | float | None = None,
                         iters: int = 50, tol: float | None = None) -> torch.Tensor:
    """Project points onto the level set I(t, x) = level by Newton steps along grad I.

    Each step is x <- x - (I(x) - level) grad I(x) / |grad I(x)|**2, the minimum-norm Newton step for the one
    equation I = level (Hairer, Lubich & Wanner 2006, section IV.4, "standard projection"); it converges
    quadratically near a regular point of the level set.

    Args:
        integral: I as a SymPy expression or a `first_integrals` result.
        system: the system I belongs to.
        x: points (n,) or (B, n), float32 or float64, any device.
        level: the target value, a number or a tensor broadcastable to (B,) (e.g. I at the initial states).
        values: numbers for the symbols of I other than t and the states.
        t: the time, when I depends on t.
        iters: the maximum number of Newton steps (>= 1).
        tol: stop when max |I(x) - level| <= tol; default 1e-12 * max(1, |level|) in float64,
            1e-5 * max(1, |level|) in float32.

    Returns:
        The projected points, same shape, dtype and device as ``x``.

    Raises:
        ValueError: for bad shapes, ``iters`` < 1, a missing parameter value, a point where grad I = 0 (no
            direction to move along), or a point (given or reached) outside I's real domain (I is nan there).
        RuntimeError: if the tolerance is not reached within ``iters`` steps (never a silent inaccurate answer).
    """
    if not isinstance(iters, int) or isinstance(iters, bool) or iters < 1:
        raise ValueError(f"iters must be an integer >= 1, got {iters!r}")
    n = len(system.states) if isinstance(system, ODESystem) else None
    compiled = _Compiled(_substitute(_integral_expr(integral), system, values), system)
    if not isinstance(x, torch.Tensor) or x.ndim not in (1, 2) or x.shape[-1] != n or not x.is_floating_point():
        raise ValueError(f"x must be a floating tensor of shape (n,) or (B, n) with n={n}, got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    level = torch.as_tensor(level, dtype=x.dtype, device=x.device)
    scale = float(level.abs().max().clamp(min=1.0))
    if tol is None:
        tol = (1e-12 if x.dtype == torch.float64 else 1e-5) * scale
    y = x
    for step in range(iters):
        value, _, grad = compiled(y, t)
        _check_finite(value, y, step, compiled.expr)
        gap = value - level
        if float(gap.abs().max()) <= tol:
            return y
        norm2 = grad.pow(2).sum(-1)
        if bool((norm2 == 0).any()):
            raise ValueError(f"grad I vanishes at a point to project (a critical point of I={compiled.expr}); "
                             "the level set has no normal direction there")
        y = y - (gap / norm2).unsqueeze(-1) * grad
    value = compiled(y, t)[0]
    _check_finite(value, y, iters, compiled.expr)
    worst = float((value - level).abs().max())
    if worst <= tol:
        return y
    raise RuntimeError(f"projection onto I={compiled.expr} did not reach tol={tol:g} in {iters} Newton steps "
                       f"(max |I - level| = {worst:.3g}); increase iters or start closer to the level set")
