"""The book page "Your own ODE": define a system, `symnb.analyze` it, then train a neural field with the penalty
(or roll it out with projection).  Everything the page needs beyond the public API lives here: the three systems as
a new user writes them (``sp.Function`` and ``Eq``), a small MLP field trained by `symnb.train.fit`, and the drift
measurements.  The page makes no claim about the paper, so it has no audit rows.

Systems (none is used by the other chapters): Euler's rigid body with symbolic moments, the SIR epidemic model, and
the Hénon-Heiles family in its KdV integrable case (Chang, Tabor & Weiss 1982).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp
import torch
from torch import nn
from torch.func import functional_call

from ..core.bridge import to_torch
from ..core.ode import ODESystem, ode_system
from ..core.params import Param, ParameterSchema
from ..core.penalty import ConservationPenalty, conservation_penalty, project_to_level_set
from ..neural import rk4_rollout
from ..train import fit

__all__ = ["PARAMETERS", "rigid_body", "sir", "henon_heiles", "true_field", "TrainedField", "train_field", "drift",
           "projected_drift"]

PARAMETERS = ParameterSchema((
    Param.integer("steps", "Adam steps per training run", low=1),
    Param.integer("n_data", "noisy derivative samples the field is fitted to", low=4),
    Param.real("noise", "standard deviation of the derivative noise", low=0.0),
    Param.real("weight", "weight of the conservation penalty", low=0.0),
    Param.integer("seed", "seed of data, initialisation and collocation points", low=0),
))
"""The page's ``parameters`` cell, validated in its next cell."""

t = sp.Symbol("t")


def rigid_body() -> ODESystem:
    """Euler's equations I1 w1' = (I2 - I3) w2 w3 (and cyclically), written as a user would, moments symbolic.

    Returns:
        The `ODESystem` (states w1, w2, w3; parameters I1, I2, I3).
    """
    w1, w2, w3 = sp.symbols("w1 w2 w3", cls=sp.Function)
    I1, I2, I3 = sp.symbols("I1 I2 I3", positive=True)
    return ode_system([sp.Eq(w1(t).diff(t), (I2 - I3) / I1 * w2(t) * w3(t)),
                       sp.Eq(w2(t).diff(t), (I3 - I1) / I2 * w3(t) * w1(t)),
                       sp.Eq(w3(t).diff(t), (I1 - I2) / I3 * w1(t) * w2(t))], t)


def sir() -> ODESystem:
    """S' = -beta S I, I' = beta S I - gamma I, R' = gamma I (Kermack & McKendrick 1927).

    Returns:
        The `ODESystem` (states S, I, R; parameters beta, gamma).
    """
    S, I, R = sp.symbols("S I R", cls=sp.Function)
    beta, gamma = sp.symbols("beta gamma", positive=True)
    return ode_system([sp.Eq(S(t).diff(t), -beta * S(t) * I(t)),
                       sp.Eq(I(t).diff(t), beta * S(t) * I(t) - gamma * I(t)),
                       sp.Eq(R(t).diff(t), gamma * I(t))], t)


def henon_heiles() -> ODESystem:
    """H = (px**2 + py**2 + A x**2 + B y**2)/2 + x**2 y + 2 y**3, Hamilton's equations (KdV integrable case).

    Returns:
        The `ODESystem` (states x, y, px, py; parameters A, B).
    """
    x, y, px, py = sp.symbols("x y px py", cls=sp.Function)
    A, B = sp.symbols("A B", positive=True)
    return ode_system([sp.Eq(x(t).diff(t), px(t)), sp.Eq(y(t).diff(t), py(t)),
                       sp.Eq(px(t).diff(t), -A * x(t) - 2 * x(t) * y(t)),
                       sp.Eq(py(t).diff(t), -B * y(t) - x(t) ** 2 - 6 * y(t) ** 2)], t)


def true_field(system: ODESystem, values: dict[str, float]) -> Callable[[torch.Tensor], torch.Tensor]:
    """The system's right-hand side at ``values`` as a torch function x (..., n) -> dx/dt (..., n).

    Args:
        system: an autonomous system.
        values: parameter name -> number.

    Returns:
        The field.

    Raises:
        ValueError: if a parameter has no value.
    """
    missing = sorted(p.name for p in system.parameters if p.name not in values)
    if missing:
        raise ValueError(f"values: no number for {missing}; parameters are {[p.name for p in system.parameters]}")
    rhs = [f.subs({p: values[p.name] for p in system.parameters}) for f in system.rhs]
    fn = to_torch(system.states, rhs)

    def field(x: torch.Tensor) -> torch.Tensor:
        out = fn(*x.unbind(-1))
        return torch.stack([torch.as_tensor(o, dtype=x.dtype).expand(x.shape[:-1]) for o in out], -1)
    return field


@dataclass(frozen=True)
class TrainedField:
    """A small MLP vector field fitted to noisy derivatives.

    Attributes:
        module: the MLP (x -> dx/dt).
        data_loss: final mean squared error on the data.
        penalty_loss: final sum of the conservation penalties at the collocation points (0 without penalties).
        test_error: root mean squared field error against the true field on fresh points.
    """

    module: nn.Module
    data_loss: float
    penalty_loss: float
    test_error: float


def _points(n: int, dim: int, gen: torch.Generator, scale: float) -> torch.Tensor:
    return scale * (2 * torch.rand(n, dim, dtype=torch.float64, generator=gen) - 1)


def train_field(system: ODESystem, values: dict[str, float], penalties: Sequence[ConservationPenalty] = (), *,
                weight: float = 1.0, steps: int = 400, n_data: int = 24, noise: float = 0.05, seed: int = 0,
                scale: float = 1.0) -> TrainedField:
    """Fit an MLP field to ``n_data`` noisy derivatives of the true field, plus ``weight`` times each penalty at
    256 collocation points (the paper's physics-informed term, eq 43, for the system's own integrals).

    Args:
        system: the target system.
        values: its parameter values (the data's).
        penalties: collocation `ConservationPenalty` modules of the target's integrals (at ``values``).
        weight: the penalty weight.
        steps: Adam steps (`symnb.train.fit`, lr 1e-2).
        n_data: number of noisy derivative samples.
        noise: their noise level.
        seed: seed of data, initialisation and collocation points.
        scale: the sampled states lie in [-scale, scale]^n.

    Returns:
        `TrainedField`.

    Raises:
        ValueError: for a negative weight, or from `true_field` / `symnb.train.fit`.
    """
    if weight < 0:
        raise ValueError(f"weight must be >= 0, got {weight!r}")
    n = len(system.states)
    f = true_field(system, values)
    gen = torch.Generator().manual_seed(seed)
    x = _points(n_data, n, gen, scale)
    y = f(x) + noise * torch.randn(x.shape, dtype=torch.float64, generator=gen)
    colloc = _points(256, n, gen, scale)
    torch.manual_seed(seed)
    module = nn.Sequential(nn.Linear(n, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, n)).double()
    params = {k: v.detach().clone().requires_grad_(True) for k, v in module.named_parameters()}

    def loss(p):
        data = (functional_call(module, p, (x,)) - y).pow(2).mean()
        terms = {"data": data}
        if penalties:
            fc = functional_call(module, p, (colloc,))
            terms["penalty"] = sum(pen(colloc, fc) for pen in penalties)
            return data + weight * terms["penalty"], terms
        return data, terms
    result = fit(loss, params, steps=steps, lr=1e-2)
    with torch.no_grad():
        for k, v in module.named_parameters():
            v.copy_(result.params[k])
        total, terms = loss(dict(module.named_parameters()))
        test = _points(512, n, gen, scale)
        err = float((module(test) - f(test)).pow(2).mean().sqrt())
    return TrainedField(module, float(terms["data"]), float(terms.get("penalty", 0.0)), err)


def drift(field: Callable[[torch.Tensor], torch.Tensor], penalty: ConservationPenalty, x0: torch.Tensor, *,
          n_steps: int = 400, dt: float = 0.02) -> float:
    """max over an RK4 rollout of ``field`` of |I(x(t)) - I(x0)| for the integral of ``penalty``.

    Args:
        field: x -> dx/dt.
        penalty: a `ConservationPenalty` (its ``integral`` evaluates I).
        x0: initial states (B, n).
        n_steps: RK4 steps.
        dt: step size.

    Returns:
        The largest drift over the steps and the initial states.

    Raises:
        ValueError: from `symnb.neural.rk4_rollout` for a bad step count or size.
    """
    with torch.no_grad():
        xs = rk4_rollout(field, x0, n_steps, dt)
        values = penalty.integral(xs)
        return float((values - values[:1]).abs().max())


def projected_drift(field: Callable[[torch.Tensor], torch.Tensor], system: ODESystem, integral: sp.Expr,
                    values: dict[str, float], other: ConservationPenalty, x0: torch.Tensor, *, n_steps: int = 400,
                    dt: float = 0.02) -> tuple[float, float]:
    """Roll ``field`` out with projection onto the level set of ``integral`` after every step.

    Args:
        field: x -> dx/dt.
        system: the system ``integral`` belongs to.
        integral: the integral projected on (I = I(x0)).
        values: its parameter values.
        other: a second integral's penalty, whose drift is also measured (projection does not hold it).
        x0: initial states (B, n).
        n_steps: RK4 steps.
        dt: step size.

    Returns:
        (drift of ``integral``, drift of ``other``) along the projected rollout.

    Raises:
        RuntimeError: from `project_to_level_set` if a projection does not converge.
    """
    own = conservation_penalty(integral, system, values=values)
    level = own.integral(x0)

    def project(x_new: torch.Tensor, _x0: torch.Tensor) -> torch.Tensor:
        return project_to_level_set(integral, system, x_new, level, values=values)
    with torch.no_grad():
        xs = rk4_rollout(field, x0, n_steps, dt, project=project)
    a, b = own.integral(xs), other.integral(xs)
    return float((a - a[:1]).abs().max()), float((b - b[:1]).abs().max())
