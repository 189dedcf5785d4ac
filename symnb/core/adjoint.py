"""The adjoint (backpropagation) system of any ODE dx/dt = f(t, x; theta), and its invariants found by the pipeline.

Paper eqs 5-6 (Chen et al. 2018; Pontryagin): with a(t) = dL/dx(t) and a_theta(t) = dL/dtheta accumulated
backward from the terminal time,

    x' = f,    a' = -a . df/dx,    a_theta' = -a . df/dtheta,

an ODE system of 2n + P states.  `adjoint_of` builds it symbolically (SymPy differentiates f) for any system and
parameter list, or numerically for a torch ``nn.Module`` vector field (vector-Jacobian products by autograd).
Its linear invariants (conserved quantities linear in the adjoint variables, such as a . f for autonomous f) are
then found with `first_integrals` over the basis {a_k g : g in 1, t, x_j, f_j, t f_j} -- nothing is typed in.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp
import torch
from torch import nn

from .first_integrals import FirstIntegrals, first_integrals
from .ode import ODESystem

__all__ = ["AdjointSystem", "NumericAdjoint", "adjoint_of", "linear_invariants"]


@dataclass(frozen=True)
class AdjointSystem:
    """The augmented adjoint system of eq 6 for a symbolic ``forward`` system.

    Attributes:
        forward: dx/dt = f(t, x; theta).
        params: the parameters theta differentiated (in order).
        system: the augmented `ODESystem` with states (x, a, a_theta).
        adjoints: the adjoint states a_i (one per forward state).
        param_adjoints: the states a_theta_j (one per parameter).
        invariants: linear first integrals found (`linear_invariants`), or None if not requested.
    """

    forward: ODESystem
    params: tuple[sp.Symbol, ...]
    system: ODESystem
    adjoints: tuple[sp.Symbol, ...]
    param_adjoints: tuple[sp.Symbol, ...]
    invariants: FirstIntegrals | None


class NumericAdjoint(nn.Module):
    """The augmented adjoint dynamics of an ``nn.Module`` vector field, evaluated by autograd (eqs 5-6).

    ``forward(t, y)`` with y = (x, a, a_theta) flattened on the last axis (n + n + P entries, unbatched) returns
    (f(x), -a . df/dx, -a . df/dtheta): pass it to ``torchdiffeq.odeint`` backward in time.  The field is called as
    ``field(x)`` (or ``field(t, x)`` when ``takes_time``) on x of shape (n,).
    """

    def __init__(self, field: nn.Module, n: int, params: Sequence[nn.Parameter], takes_time: bool = False) -> None:
        super().__init__()
        self.field, self.n, self.takes_time = field, n, takes_time
        self._params = list(params)
        self.n_params = sum(p.numel() for p in self._params)

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        n = self.n
        if y.shape != (2 * n + self.n_params,):
            raise ValueError(f"state has shape {tuple(y.shape)}; expected ({2 * n + self.n_params},) = (x, a, a_theta)")
        with torch.enable_grad():
            x = y[:n].detach().requires_grad_(True)
            a = y[n:2 * n]
            fx = self.field(t, x) if self.takes_time else self.field(x)
            grads = torch.autograd.grad(fx, [x, *self._params], grad_outputs=a, allow_unused=True)
        flat = [g if g is not None else torch.zeros_like(p) for g, p in zip(grads, [x, *self._params])]
        return torch.cat([fx.detach(), -flat[0], *(-g.reshape(-1) for g in flat[1:])])


def linear_invariants(adjoint: AdjointSystem, budget_s: float | None = 20.0) -> FirstIntegrals:
    """First integrals of the adjoint system linear in the adjoint variables, found by `first_integrals`.

    The candidate basis is {a_k g} for every adjoint variable a_k (state and parameter adjoints) and g in
    {1, t, x_j, f_j, t f_j}: wide enough to contain a . f for autonomous f (the Pontryagin Hamiltonian) and the
    invariants of the paper's toy (u - theta1 w, theta1 v - z u + t u f).

    Returns:
        The `FirstIntegrals` (route "basis"), each certified.
    """
    fwd = adjoint.forward
    factors = [sp.S.One, fwd.t, *fwd.states, *fwd.rhs, *(fwd.t * f for f in fwd.rhs)]
    basis = list(dict.fromkeys(sp.expand(a * g) for a in (*adjoint.adjoints, *adjoint.param_adjoints)
                               for g in factors))
    return first_integrals(adjoint.system, basis=basis, budget_s=budget_s)


def adjoint_of(system: ODESystem | nn.Module, params: Sequence[sp.Symbol] | Sequence[nn.Parameter] | None = None, *,
               names: Sequence[str] | None = None, invariants: bool = True, n_states: int | None = None,
               takes_time: bool = False) -> AdjointSystem | NumericAdjoint:
    """The adjoint system of eqs 5-6 for ``system`` and the parameters ``params``.

    Args:
        system: an `ODESystem` (symbolic: the result is an `AdjointSystem`), or an ``nn.Module`` vector field
            x -> f(x) (numeric: the result is a `NumericAdjoint`; give ``n_states``).
        params: symbolic: parameters of the system (default: all of ``system.parameters``); numeric: module
            parameters (default: all of ``system.parameters()``).
        names: symbolic: names for the adjoint states, n + P of them (default ``a_<state>``, ``a_<param>``;
            the paper's toy uses u, v, w).
        invariants: symbolic: also find the linear invariants (`linear_invariants`).
        n_states: numeric: the dimension n of x.
        takes_time: numeric: the module is called as ``field(t, x)``.

    Returns:
        `AdjointSystem` or `NumericAdjoint`.

    Raises:
        ValueError: for a parameter that is not one of the system's, a wrong number of names, names clashing with
            existing symbols, or a module without ``n_states``.
    """
    if isinstance(system, nn.Module):
        if not isinstance(n_states, int) or n_states < 1:
            raise ValueError(f"n_states must be a positive integer for an nn.Module vector field, got {n_states!r}")
        plist = list(system.parameters()) if params is None else list(params)
        return NumericAdjoint(system, n_states, plist, takes_time)
    if not isinstance(system, ODESystem):
        raise ValueError(f"system must be an ODESystem or an nn.Module, got {type(system).__name__}")
    params = tuple(system.parameters if params is None else params)
    bad = [p for p in params if p not in system.parameters]
    if bad:
        raise ValueError(f"params {bad} are not parameters of the system; its parameters are {list(system.parameters)}")
    n = len(system.states)
    names = list(names) if names is not None else [f"a_{s.name}" for s in (*system.states, *params)]
    if len(names) != n + len(params):
        raise ValueError(f"names: {len(names)} given, need {n + len(params)} (one per state and per parameter)")
    taken = {s.name for s in (system.t, *system.states, *system.parameters)}
    clash = sorted(set(names) & taken)
    if clash or len(set(names)) != len(names):
        raise ValueError(f"names {clash or names} clash with the system's symbols {sorted(taken)} or repeat")
    symbols = [sp.Symbol(nm, real=True) for nm in names]
    a, a_theta = symbols[:n], symbols[n:]
    f = system.rhs
    # Eq 6: a_i' = -sum_j a_j df_j/dx_i ; a_theta_k' = -sum_j a_j df_j/dtheta_k.
    rhs_a = [-sum(aj * sp.diff(fj, xi) for aj, fj in zip(a, f)) for xi in system.states]
    rhs_theta = [-sum(aj * sp.diff(fj, th) for aj, fj in zip(a, f)) for th in params]
    augmented = ODESystem(system.t, (*system.states, *a, *a_theta), (*f, *rhs_a, *rhs_theta))
    result = AdjointSystem(system, params, augmented, tuple(a), tuple(a_theta), None)
    if invariants:
        result = AdjointSystem(system, params, augmented, tuple(a), tuple(a_theta), linear_invariants(result))
    return result
