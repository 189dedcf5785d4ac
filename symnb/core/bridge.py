"""The one bridge from SymPy to torch, and float64 torchdiffeq trajectories of an `ODESystem`.

Every formula that reaches torch goes through `to_torch` (``sympy.lambdify(..., "torch")``); nothing is
re-typed by hand.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy as sp
import torch
from torch import nn
from torchdiffeq import odeint

__all__ = ["to_torch", "FieldModule", "field_module", "vector_field", "Trajectory", "integrate", "DEVICES",
           "resolve_device"]

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
def _lambdify(args: tuple[sp.Symbol, ...], exprs: tuple[sp.Expr, ...], cse: bool = False) -> Callable:
    return sp.lambdify(args, list(exprs), modules="torch", cse=cse)


def to_torch(args: Sequence[sp.Symbol], exprs: Sequence[sp.Expr] | sp.Expr, *,
             cse: bool = False) -> Callable[..., list[torch.Tensor]]:
    """Compile SymPy expressions into a torch function of ``args`` (cached per argument/expression tuple).

    Args:
        args: the symbols, in call order.
        exprs: one expression or a sequence.
        cse: eliminate common subexpressions first (SymPy's ``lambdify(..., cse=True)``): one torch op per shared
            subexpression instead of one per occurrence -- fewer ops forward and backward for large formulas.

    Returns:
        A function taking one tensor (or number) per symbol and returning a list of tensors, one per
        expression (a single expression still returns a one-element list).  Constant expressions come back
        as Python numbers; `torch.as_tensor` them if a tensor is needed.

    Raises:
        Nothing: SymPy's printer errors (a function with no torch counterpart) propagate unchanged.
    """
    exprs = (sp.sympify(exprs),) if isinstance(exprs, (sp.Basic, int, float)) else tuple(map(sp.sympify, exprs))
    return _lambdify(tuple(args), exprs, bool(cse))


class FieldModule(nn.Module):
    """A right-hand side dy/dt = f(t, y) compiled by `to_torch`, as an ``nn.Module`` -- the one system->torch wrapper.

    ``module(t, y)`` works with ``torchdiffeq.odeint`` and ``odeint_adjoint``.  The parameters' numbers live in
    the module: as **buffers** by default (they follow ``.to(dtype/device)`` and ``state_dict`` but are not
    trained), as **nn.Parameters** with ``trainable=True`` (then ``odeint_adjoint`` and optimizers see them).
    Each is registered under its symbol's name in ``module.params`` (``module.params.theta1``).  Numbers passed
    at call time, ``module(t, y, *values)``, replace the stored ones (e.g. per-configuration tensors that
    broadcast against y).

    Pickles (Dask, DataLoader workers, ``torch.save``) as the SymPy expressions and symbols; the lambdified
    function is rebuilt on first use after unpickling.

    Args:
        states: the symbols of y's components, in order along ``axis``.
        exprs: f, one expression per state.
        t: the time symbol if f depends on it (None: autonomous; the time argument is ignored).
        params: symbols whose numbers are stored (``values``) or passed at call time.
        values: a number (or tensor) for each of ``params``, keyed by symbol or name; None: pass them at call time.
        axis: the dimension of y that holds the components (-1: y is (..., k); 0: y is (k, ...)); None for one
            state whose values fill y elementwise (y of any shape).
        dtype, device: of the stored numbers (None: float64 on the CPU); the output has y's dtype and device.
        trainable: store the numbers as ``nn.Parameter`` instead of buffers.

    Raises:
        ValueError: if the number of expressions differs from the number of states, ``axis=None`` with several
            states, or ``values`` misses or adds a parameter.
    """

    def __init__(self, states: Sequence[sp.Symbol], exprs: Sequence[sp.Expr], *, t: sp.Symbol | None = None,
                 params: Sequence[sp.Symbol] = (), values: Mapping[Any, Any] | None = None, axis: int | None = -1,
                 dtype: torch.dtype | None = None, device: str | torch.device | None = None,
                 trainable: bool = False) -> None:
        super().__init__()
        states, exprs, params = tuple(states), tuple(sp.sympify(e) for e in exprs), tuple(params)
        if len(states) != len(exprs):
            raise ValueError(f"{len(exprs)} expressions for {len(states)} states {list(states)}")
        if axis is None and len(states) != 1:
            raise ValueError(f"axis=None (elementwise) needs one state, got states {list(states)}")
        self.states, self.exprs, self.t, self.symbols, self.axis = states, exprs, t, params, axis
        self.params = nn.Module()
        self._keys: tuple[str, ...] = ()
        if values is not None:
            by_name = {getattr(k, "name", k): v for k, v in values.items()}
            names = [p.name for p in params]
            missing, extra = [n for n in names if n not in by_name], sorted(set(by_name) - set(names))
            if missing or extra:
                raise ValueError(f"values must give a number for each parameter {names}; missing {missing}, "
                                 f"unknown {extra}")
            dtype = torch.float64 if dtype is None else dtype
            device = torch.device("cpu") if device is None else torch.device(device)
            keys = []
            for i, p in enumerate(params):
                key = p.name if p.name.isidentifier() and p.name not in keys else f"param{i}"
                number = torch.as_tensor(by_name[p.name], dtype=dtype, device=device).clone()
                if trainable:
                    self.params.register_parameter(key, nn.Parameter(number))
                else:
                    self.params.register_buffer(key, number)
                keys.append(key)
            self._keys = tuple(keys)
        self._fn = None

    def _compiled(self) -> Callable:
        if self._fn is None:
            self._fn = to_torch(((self.t,) if self.t is not None else ()) + self.states + self.symbols, self.exprs)
        return self._fn

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fn": None}

    def value(self, name: str) -> torch.Tensor:
        """The stored number of the parameter called ``name``.

        Raises:
            ValueError: for a name that is not a stored parameter.
        """
        names = [p.name for p in self.symbols] if self._keys else []
        if name not in names:
            raise ValueError(f"no stored value for {name!r}; stored parameters: {names}")
        return getattr(self.params, self._keys[names.index(name)])

    def forward(self, time: torch.Tensor, y: torch.Tensor, *values) -> torch.Tensor:
        """dy/dt at (time, y).

        Args:
            time: the time (ignored by an autonomous field).
            y: the states, components along ``axis``.
            values: optional call-time numbers, one per parameter in order, replacing the stored ones.

        Returns:
            dy/dt with y's shape, dtype and device (constant components are broadcast).

        Raises:
            ValueError: if no numbers are stored and none are passed, or the count of call-time values is wrong.
        """
        if not values:
            if self.symbols and not self._keys:
                raise ValueError(f"no numbers for the parameters {[p.name for p in self.symbols]}: pass them "
                                 "at call time, module(t, y, *values), or build the module with values=")
            values = tuple(getattr(self.params, k) for k in self._keys)
        elif len(values) != len(self.symbols):
            raise ValueError(f"{len(values)} call-time value(s) for the parameters {[p.name for p in self.symbols]}")
        comps = (y,) if self.axis is None else y.unbind(self.axis)
        out = self._compiled()(*((time,) if self.t is not None else ()), *comps, *values)
        if self.axis is None:  # elementwise: the output broadcasts y against call-time values
            out = torch.as_tensor(out[0], dtype=y.dtype, device=y.device)
            return out.expand(y.shape) if out.dim() == 0 else out
        return torch.stack([torch.as_tensor(o, dtype=y.dtype, device=y.device).expand(comps[0].shape) for o in out],
                           dim=self.axis)

    def extra_repr(self) -> str:
        return f"states={[s.name for s in self.states]}, rhs={[sp.sstr(e) for e in self.exprs]}"


def field_module(system: Any, values: Mapping[Any, Any] | None = None, *, dtype: torch.dtype | None = None,
                 device: str | torch.device | None = None, trainable: bool = False,
                 axis: int | None = -1) -> FieldModule:
    """``system``'s right-hand side as a torch module f(t, y) (what `ODESystem.to_module` returns).

    Args:
        system: an `ODESystem`.
        values: a number for each of ``system.parameters``, keyed by symbol or name (None if it has none).
        dtype, device: of the stored numbers (float64 / CPU by default); the output follows y's.
        trainable: parameters as ``nn.Parameter`` (trained, seen by ``odeint_adjoint``) instead of buffers.
        axis: where y holds the states (-1: y is (..., n); 0: (n, ...)); None: one state, y elementwise.

    Returns:
        A `FieldModule` for ``torchdiffeq.odeint(module, y0, times)`` and ``odeint_adjoint``.

    Raises:
        ValueError: if ``values`` misses or adds a parameter (the allowed names are listed).
    """
    return FieldModule(system.states, system.rhs, t=system.t, params=system.parameters, values=values or {},
                       axis=axis, dtype=dtype, device=device, trainable=trainable)


def vector_field(states: Sequence[sp.Symbol], exprs: Sequence[sp.Expr], *, t: sp.Symbol | None = None,
                 params: Sequence[sp.Symbol] = (), axis: int = -1) -> FieldModule:
    """The right-hand side as a `FieldModule` whose parameter numbers are passed at call time.

    Kept for existing callers: ``field(t, y, *param_values) -> dy/dt`` with y's shape, dtype and device.  New code
    uses `ODESystem.to_module` / `field_module`.

    Raises:
        ValueError: if the number of expressions differs from the number of states.
    """
    return FieldModule(states, exprs, t=t, params=params, axis=axis)


@dataclass(frozen=True)
class Trajectory:
    """A numerical solution: ``states[i, j]`` is state j at ``times[i]``."""

    times: torch.Tensor
    states: torch.Tensor
    system: ODESystem


def _check_values(system: ODESystem, values: Mapping[Any, float] | None) -> dict[sp.Symbol, float]:
    # Names or Symbols, matched by name; an unknown name raises, listing the parameters.  Symbols that are not
    # the system's pass (callers share one dict with a map's constants); a missing parameter still raises below.
    values = system.parameter_values(values, foreign_symbols=True)
    missing = [p for p in system.parameters if p not in values]
    if missing:
        raise ValueError(f"no numeric value for parameter(s) {missing}; the system's parameters are "
                         f"{list(system.parameters)}")
    return {p: values[p] for p in system.parameters}


def integrate(system: ODESystem, x0: Sequence[float], times: Sequence[float] | torch.Tensor,
              values: Mapping[Any, float] | None = None, *, method: str = "dopri5", rtol: float = 1e-12,
              atol: float = 1e-12) -> Trajectory:
    """Solve ``system`` from ``x0`` at ``times[0]`` with torchdiffeq in float64 on the CPU.

    Args:
        system: the ODE system.
        x0: initial states, one per state.
        times: increasing (or decreasing) output times; the first is the initial time.
        values: a number for each of the system's parameters, keyed by name or Symbol (matched by name).
        method: a torchdiffeq solver name.
        rtol, atol: tolerances.

    Returns:
        A `Trajectory`.

    Raises:
        ValueError: for a wrong number of initial states, a missing parameter value, a key of ``values`` that is
            not a parameter (the parameters are listed) or an unknown method.
    """
    if method not in SOLVERS:
        raise ValueError(f"unknown solver {method!r}; valid: {list(SOLVERS)}")
    if len(x0) != len(system.states):
        raise ValueError(f"x0 has {len(x0)} entries but the system has states {list(system.states)}")
    params = _check_values(system, values)
    rhs = tuple(sp.sympify(f).subs(params) for f in system.rhs)
    field = FieldModule(system.states, rhs, t=system.t)
    t = torch.as_tensor(times, dtype=torch.float64)
    y0 = torch.as_tensor(x0, dtype=torch.float64)
    with torch.no_grad():
        ys = odeint(field, y0, t, method=method, rtol=rtol, atol=atol)
    return Trajectory(t, ys, system)


def evaluate(expr: sp.Expr, trajectory: Trajectory, values: Mapping[Any, float] | None = None) -> torch.Tensor:
    """Evaluate a function of (t, states, parameters) at every point of ``trajectory`` (float64 tensor).

    Symbols of ``expr`` and keys of ``values`` (names or Symbols) are matched to the system's by name.

    Raises:
        ValueError: for a key of ``values`` that names neither a parameter nor a symbol of ``expr``, or a symbol
            left without a number.
    """
    system = trajectory.system
    expr = sp.sympify(expr)
    own = {s.name for s in system.known_symbols.values()}
    extra = tuple(s for s in expr.free_symbols if s.name not in own)
    expr = system.canonical(expr, what="quantity", extra=extra)
    expr = expr.subs(system.parameter_values(values, extra=extra, foreign_symbols=True))
    leftover = expr.free_symbols - {system.t, *system.states}
    if leftover:
        raise ValueError(f"no numeric value for symbol(s) {sorted(map(str, leftover))} in {expr}")
    (out,) = to_torch((system.t, *system.states), expr)(trajectory.times, *trajectory.states.unbind(-1))
    return torch.as_tensor(out, dtype=torch.float64).expand(trajectory.times.shape).clone()
