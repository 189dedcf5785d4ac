"""The one bridge from SymPy to torch, and float64 torchdiffeq trajectories of an `ODESystem`.

Every formula that reaches torch goes through `to_torch` (``sympy.lambdify(..., "torch")``); nothing is
re-typed by hand.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
import torch
from torchdiffeq import odeint

from .ode import ODESystem

__all__ = ["to_torch", "vector_field", "Trajectory", "integrate", "DEVICES", "resolve_device"]

# Solvers of torchdiffeq we expose; the dict's keys are the accepted names (torchdiffeq's own style).
SOLVERS = ("dopri5", "dopri8", "bosh3", "adaptive_heun", "fehlberg2", "rk4", "euler", "midpoint", "explicit_adams",
           "implicit_adams")
DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str) -> torch.device:
    """Map ``"auto" | "cpu" | "cuda"`` (or ``"cuda:N"``) to a torch device.

    Raises:
        ValueError: for an unknown name, or ``cuda`` asked for on a machine without a usable CUDA device.
    """
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(f"device={name!r} was asked for but torch sees no CUDA device here; "
                             f"allowed: {list(DEVICES)} (use 'auto' or 'cpu')")
        return torch.device(name)
    raise ValueError(f"unknown device {name!r}; allowed: {list(DEVICES)} or 'cuda:N'")


@lru_cache(maxsize=512)
def _lambdify(args: tuple[sp.Symbol, ...], exprs: tuple[sp.Expr, ...]) -> Callable:
    return sp.lambdify(args, list(exprs), modules="torch")


def to_torch(args: Sequence[sp.Symbol], exprs: Sequence[sp.Expr] | sp.Expr) -> Callable[..., list[torch.Tensor]]:
    """Compile SymPy expressions into a torch function of ``args`` (cached per argument/expression tuple).

    Args:
        args: the symbols, in call order.
        exprs: one expression or a sequence.

    Returns:
        A function taking one tensor (or number) per symbol and returning a list of tensors, one per
        expression (a single expression still returns a one-element list).  Constant expressions come back
        as Python numbers; `torch.as_tensor` them if a tensor is needed.

    Raises:
        Nothing: SymPy's printer errors (a function with no torch counterpart) propagate unchanged.
    """
    exprs = (sp.sympify(exprs),) if isinstance(exprs, (sp.Basic, int, float)) else tuple(map(sp.sympify, exprs))
    return _lambdify(tuple(args), exprs)


def vector_field(states: Sequence[sp.Symbol], exprs: Sequence[sp.Expr], *, t: sp.Symbol | None = None,
                 params: Sequence[sp.Symbol] = (), axis: int = -1) -> Callable[..., torch.Tensor]:
    """The right-hand side dy/dt = f(t, y) as a torchdiffeq field, compiled by `to_torch` -- the one wrapper.

    Args:
        states: the symbols of y's components, in order along ``axis``.
        exprs: f, one expression per state.
        t: the time symbol if f depends on it (None: autonomous; the time argument is ignored).
        params: symbols whose values are passed after the state, as extra arguments of the field.
        axis: the dimension of y that holds the components (-1: y is (..., k); 0: y is (k, ...)).

    Returns:
        ``field(t, y, *param_values) -> dy/dt`` with y's shape, dtype and device (constant components are
        broadcast).

    Raises:
        ValueError: if the number of expressions differs from the number of states.
    """
    states, exprs = tuple(states), tuple(sp.sympify(e) for e in exprs)
    if len(states) != len(exprs):
        raise ValueError(f"{len(exprs)} expressions for {len(states)} states {list(states)}")
    fn = to_torch(((t,) if t is not None else ()) + states + tuple(params), exprs)

    def field(time: torch.Tensor, y: torch.Tensor, *values) -> torch.Tensor:
        comps = y.unbind(axis)
        out = fn(*((time,) if t is not None else ()), *comps, *values)
        return torch.stack([torch.as_tensor(o, dtype=y.dtype, device=y.device).expand(comps[0].shape) for o in out],
                           dim=axis)

    return field


@dataclass(frozen=True)
class Trajectory:
    """A numerical solution: ``states[i, j]`` is state j at ``times[i]``."""

    times: torch.Tensor
    states: torch.Tensor
    system: ODESystem


def _check_values(system: ODESystem, values: Mapping[sp.Symbol, float]) -> dict[sp.Symbol, float]:
    missing = [p for p in system.parameters if p not in values]
    if missing:
        raise ValueError(f"no numeric value for parameter(s) {missing}; the system's parameters are "
                         f"{list(system.parameters)}")
    return {p: values[p] for p in system.parameters}


def integrate(system: ODESystem, x0: Sequence[float], times: Sequence[float] | torch.Tensor,
              values: Mapping[sp.Symbol, float] | None = None, *, method: str = "dopri5", rtol: float = 1e-12,
              atol: float = 1e-12) -> Trajectory:
    """Solve ``system`` from ``x0`` at ``times[0]`` with torchdiffeq in float64 on the CPU.

    Args:
        system: the ODE system.
        x0: initial states, one per state.
        times: increasing (or decreasing) output times; the first is the initial time.
        values: numeric values for the system's parameters.
        method: a torchdiffeq solver name.
        rtol, atol: tolerances.

    Returns:
        A `Trajectory`.

    Raises:
        ValueError: for a wrong number of initial states, a missing parameter value or an unknown method.
    """
    if method not in SOLVERS:
        raise ValueError(f"unknown solver {method!r}; valid: {list(SOLVERS)}")
    if len(x0) != len(system.states):
        raise ValueError(f"x0 has {len(x0)} entries but the system has states {list(system.states)}")
    params = _check_values(system, values or {})
    rhs = tuple(sp.sympify(f).subs(params) for f in system.rhs)
    field = vector_field(system.states, rhs, t=system.t)
    t = torch.as_tensor(times, dtype=torch.float64)
    y0 = torch.as_tensor(x0, dtype=torch.float64)
    with torch.no_grad():
        ys = odeint(field, y0, t, method=method, rtol=rtol, atol=atol)
    return Trajectory(t, ys, system)


def evaluate(expr: sp.Expr, trajectory: Trajectory, values: Mapping[sp.Symbol, float] | None = None) -> torch.Tensor:
    """Evaluate a function of (t, states, parameters) at every point of ``trajectory`` (float64 tensor)."""
    system = trajectory.system
    params = {p: v for p, v in (values or {}).items()}
    expr = sp.sympify(expr).subs(params)
    leftover = expr.free_symbols - {system.t, *system.states}
    if leftover:
        raise ValueError(f"no numeric value for symbol(s) {sorted(map(str, leftover))} in {expr}")
    (out,) = to_torch((system.t, *system.states), expr)(trajectory.times, *trajectory.states.unbind(-1))
    return torch.as_tensor(out, dtype=torch.float64).expand(trajectory.times.shape).clone()
