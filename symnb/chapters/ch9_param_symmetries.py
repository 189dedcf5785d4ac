"""Chapter 9: symmetries of the parameter space -- what training itself conserves, found by the library.

Hao (2023) looks for symmetries of the model's ODEs in the state.  The related work surveyed by Zhao, Walters &
Yu (2025) looks one level up: a continuous symmetry of the parameters, xi . grad_theta f(z; theta) = 0 for every
input z, makes every loss built from f invariant, and gradient flow then conserves Q with grad Q = xi (Kunin et
al. 2021; Zhao et al. ICLR 2023; Marcotte et al. NeurIPS 2023).  This module runs the chapter's experiments with
`symnb.core.param_symmetry` (finder, certificates, Marcotte count), `symnb.neural.ledger` (Q along optimizer
steps beside the exact laws) and `symnb.neural.teleport`; `verdicts` holds the audit rows.

Settings of the published baselines, read from their code:

* Zhao et al. 2023, Fig. 3 (``Q_dynamics_elementwise.py``, linear case): U (5 x 50), V (10 x 50) ~ N(0, 0.1^2)
  (both drawn after ``torch.manual_seed(12345)``), X = I_10, Y ~ N(0, 1) (5 x 10, same seed), f = U V^T X,
  ``nn.MSELoss``, SGD at lr in {0.1, 0.01, 0.001} for 400k steps, float32; plotted
  dQ~ = |Q_k| / tr(U0^T U0 + V0^T V0) - |Q_0| / tr(...), with Q = tr(U^T U - V^T V).
* Zhao et al. 2022, MLP regression (``multi_layer_regression.py``): dims [4, 5, 6, 7, 8] (X: 5 x 4, W1: 6 x 5,
  W2: 7 x 6, W3: 8 x 7, Y: 8 x 4, all ``torch.rand``), leaky ReLU (0.1), loss 1/2 |Y - W3 s(W2 s(W1 X))|^2, GD at
  lr 1e-4 for 300 epochs, one teleport at epoch 5 (8 ascent steps at lr 1e-7), seeds n^2 * 12345, n = 0..4.
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import sympy as sp
import torch
from torchdiffeq import odeint, odeint_adjoint

from ..core.audit import Verdict
from ..core.param_symmetry import (ParameterField, conservation_law_count, find_parameter_symmetries,
                                   two_layer_field)
from ..core.params import Param, ParameterSchema
from ..core.stats import mean_ci
from ..neural.ledger import quadratic_form, record_ledger
from ..neural.teleport import mlp_gl_action, rescale_action, teleport

__all__ = ["PARAMETERS", "cosine_fields", "finder_table", "horizon_field", "FlowResult", "solver_check",
           "drift_table", "Fig3Result", "zhao_fig3", "HorizonResult", "horizon_experiment", "TeleportRun",
           "teleport_mlp", "teleport_node", "teleport_summary", "figure_drift", "figure_teleport", "verdicts"]

PARAMETERS = ParameterSchema((
    Param.integer("width", "hidden units of the layers in the finder's table (inputs = outputs = width)", low=1,
                  high=4),
    Param.integer("node_width", "hidden units of the Neural ODE field", low=1),
    Param.sequence("etas", Param.real("eta", low=0.0, strict=True), "learning rates of the drift-law table",
                   min_length=2),
    Param.integer("fig3_steps", "SGD steps per learning rate in Zhao et al.'s Fig. 3 setting (theirs: 400000)",
                  low=1),
    Param.integer("n_seeds", "seeds of the teleportation runs", low=2),
    Param.integer("epochs", "GD epochs of the teleportation runs (theirs: 300)", low=6),
    Param.integer("node_steps", "GD steps of the Neural ODE teleportation runs", low=6),
))
"""Notebook 09's ``parameters`` cell (validated in its next cell)."""


# ------------------------------------------------------------------------------------------ 1-2: the finder
def cosine_fields() -> tuple[ParameterField, ParameterField]:
    """The paper's toy dz/dt = cos(theta1 z + theta2) and the over-parameterised a b cos(theta1 z + theta2)."""
    th1, th2, z, a, b = sp.symbols("theta1 theta2 z a b", real=True)
    toy = ParameterField((sp.cos(th1 * z + th2),), (th1, th2), (z,), name="cos(theta1 z + theta2)")
    over = ParameterField((a * b * sp.cos(th1 * z + th2),), (a, b, th1, th2), (z,),
                          name="a b cos(theta1 z + theta2)")
    return toy, over


def finder_table(width: int = 2) -> pd.DataFrame:
    """Generators found (degree-1 ansatz), conserved Q, flagged ones, Marcotte's count, and the published count.

    Rows: the cosine toy, its over-parameterised variant, and f = W2 s(W1 z + b1) + b2 (inputs = outputs =
    width) for s = ReLU, identity (with and without biases) and tanh.
    """
    h = width
    toy, over = cosine_fields()
    cases = [(toy, "0 (only discrete: theta2 + 2 pi, theta -> -theta)"), (over, "1: a^2 - b^2"),
             (two_layer_field(h, h, activation="relu"), f"{h} rescale (Kunin; Marcotte: no others)"),
             (two_layer_field(h, h, activation="identity", bias=False),
              f"{h * h} GL({h}), {h * (h + 1) // 2} conserved (Zhao 2023)"),
             (two_layer_field(h, h, activation="identity"), f"GL({h}) = {h * h}, {h * (h + 1) // 2} conserved"),
             (two_layer_field(h, h, activation="tanh"), "0 continuous (sign flips are discrete)")]
    rows = []
    for field, published in cases:
        t0 = time.perf_counter()
        found = find_parameter_symmetries(field)
        seconds = time.perf_counter() - t0
        count = conservation_law_count(field)
        rows.append({"field": field.name, "D": len(field.params), "generators": found.n_generators,
                     "conserved Q": found.n_conserved, "no gradient-flow invariant": found.n_flagged,
                     "laws D - dim Lie": count.n_laws, "published": published,
                     "certified": found.complete and all(s.certificate.certified for s in found.symmetries),
                     "max residual": max([s.certificate.residual for s in found.symmetries], default=0.0),
                     "seconds": seconds})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ 3: solvers cannot break Q
def _node_params(width: int, d: int, seed: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    shapes = [(width, d), (width,), (d, width), (d,)]
    return [(torch.randn(s, generator=gen, dtype=torch.float64) / math.sqrt(s[-1] if len(s) > 1 else 2))
            .requires_grad_(True) for s in shapes]


class _Field(torch.nn.Module):
    def __init__(self, params: Sequence[torch.Tensor], scale: torch.Tensor | None = None):
        super().__init__()
        self.p = torch.nn.ParameterList([torch.nn.Parameter(p.detach().clone()) for p in params])
        self.scale = None if scale is None else torch.nn.Parameter(scale.detach().clone())

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        w1, b1, w2, b2 = self.p
        out = torch.relu(z @ w1.T + b1) @ w2.T + b2
        return out if self.scale is None else self.scale * out


def _rk4(f, z: torch.Tensor, n: int = 8) -> torch.Tensor:
    """z(1) of dz/dt = f(z) by n fixed RK4 steps (a fixed-step solver: the loss is a smooth function of theta)."""
    dt = 1.0 / n
    for _ in range(n):
        k1 = f(z)
        k2 = f(z + dt / 2 * k1)
        k3 = f(z + dt / 2 * k2)
        k4 = f(z + dt * k3)
        z = z + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return z


def _node_data(d: int, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Targets: a damped rotation z(1) = e^{-0.1} R(1) z(0) of random states."""
    gen = torch.Generator().manual_seed(seed + 1000)
    z0 = torch.randn(n, d, generator=gen, dtype=torch.float64)
    a = torch.zeros(d, d, dtype=torch.float64)
    a[0, 1], a[1, 0] = 1.0, -1.0
    return z0, z0 @ torch.linalg.matrix_exp(a - 0.1 * torch.eye(d, dtype=torch.float64)).T


def _cuts(params: Sequence[torch.Tensor]) -> list[tuple[int, int, torch.Tensor]]:
    out, i = [], 0
    for p in params:
        out.append((i, i + p.numel(), p))
        i += p.numel()
    return out


def _rescale_m(width: int, d: int) -> list[torch.Tensor]:
    """The M of each unit's conserved Q, from the finder's quantities for this field."""
    field = two_layer_field(width, d, activation="relu")
    found = find_parameter_symmetries(field)
    return [quadratic_form(q, field.params) for q in found.quantities]


@dataclass(frozen=True)
class FlowResult:
    """Orthogonality of each gradient to every M theta, per gradient method and tolerance, and an RK4 flow."""

    table: pd.DataFrame
    rk4_drift: float
    midpoint_drift: float
    flow_dt: float
    flow_time: float
    random_direction: float


def solver_check(width: int = 8, seed: int = 0, flow_steps: int = 5, flow_dt: float = 0.1) -> FlowResult:
    """|theta^T M g| / (|M theta| |g|) for g from backprop-through-dopri5 and from the adjoint, at rtol = atol in
    {1e-3, 1e-9}; then gradient flow in theta (``flow_steps`` steps of ``flow_dt``) by RK4 with adjoint gradients
    at 1e-3 (conserves quadratic invariants only to O(dt^4)) and by the implicit midpoint rule on the loss through
    8 fixed RK4 steps (a fixed point iterated to 1e-15; adaptive gradients jump with the step-size choices and
    stall the iteration) -- the midpoint rule conserves every
    quadratic invariant exactly: Q(th') - Q(th) = -dt m^T M g(m) = 0 at the midpoint m), with the relative drift of
    Q summed over units.  A random direction's ratio shows the orthogonality check can fail."""
    d = 2
    params = _node_params(width, d, seed)
    z0, target = _node_data(d, 32, seed)
    ms = _rescale_m(width, d)
    times = torch.tensor([0.0, 1.0], dtype=torch.float64)

    def grad(theta: torch.Tensor, adjoint: bool, tol: float) -> torch.Tensor:
        parts, i = [], 0
        for p in params:
            parts.append(theta[i:i + p.numel()].reshape(p.shape))
            i += p.numel()
        field = _Field(parts)
        solve = odeint_adjoint if adjoint else odeint
        kw = {"adjoint_params": tuple(field.parameters())} if adjoint else {}
        zt = solve(field, z0, times, rtol=tol, atol=tol, method="dopri5", **kw)[-1]
        loss = ((zt - target) ** 2).mean()
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(field.parameters()))])

    theta = torch.cat([p.detach().reshape(-1) for p in params])
    rows = []
    for adjoint in (False, True):
        for tol in (1e-3, 1e-9):
            g = grad(theta, adjoint, tol)
            ratio = max(float((theta @ m @ g).abs() / ((m @ theta).norm() * g.norm())) for m in ms)
            rows.append({"gradient": "adjoint" if adjoint else "backprop through dopri5", "rtol = atol": tol,
                         "max over units |theta^T M g| / (|M theta| |g|)": ratio})
    gen = torch.Generator().manual_seed(seed + 7)
    r = torch.randn(theta.numel(), generator=gen, dtype=torch.float64)
    random_direction = float((r @ g).abs() / (r.norm() * g.norm()))
    m_sum = sum(ms)
    scale = float(0.5 * theta.abs() @ m_sum.abs() @ theta.abs())
    q = lambda th: 0.5 * th @ m_sum @ th  # noqa: E731
    th = theta.clone()
    for _ in range(flow_steps):  # dtheta/dt = -g(theta): RK4
        k1 = -grad(th, True, 1e-3)
        k2 = -grad(th + flow_dt / 2 * k1, True, 1e-3)
        k3 = -grad(th + flow_dt / 2 * k2, True, 1e-3)
        k4 = -grad(th + flow_dt * k3, True, 1e-3)
        th = th + flow_dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    rk4_drift = float((q(th) - q(theta)).abs()) / scale
    th = theta.clone()

    def fixed_grad(v: torch.Tensor) -> torch.Tensor:  # loss through 8 fixed RK4 steps: smooth in theta
        v = v.detach().requires_grad_(True)
        w1, b1, w2, b2 = (v[a:b].reshape(p.shape) for a, b, p in _cuts(params))
        loss = ((_rk4(lambda z: torch.relu(z @ w1.T + b1) @ w2.T + b2, z0) - target) ** 2).mean()
        return torch.autograd.grad(loss, v)[0]

    for _ in range(flow_steps):  # implicit midpoint: th' = th - dt g((th + th') / 2), by fixed-point iteration
        new = th - flow_dt * fixed_grad(th)
        for _ in range(100):
            nxt = th - flow_dt * fixed_grad((th + new) / 2)
            done = float((nxt - new).abs().max()) <= 1e-15 * float(new.abs().max())
            new = nxt
            if done:
                break
        th = new
    mid_drift = float((q(th) - q(theta)).abs()) / scale
    return FlowResult(pd.DataFrame(rows), rk4_drift, mid_drift, flow_dt, flow_steps * flow_dt, random_direction)


# ----------------------------------------------------------------------------------------- 4: drift laws
def _regression(width: int, d: int, seed: int):
    params = _node_params(width, d, seed)
    gen = torch.Generator().manual_seed(seed + 99)
    x = torch.randn(64, d, generator=gen, dtype=torch.float64)
    y = torch.sin(2 * x)
    return params, x, y


OPTIMIZERS = {
    "GD": lambda p, eta: torch.optim.SGD(p, lr=eta),
    "GD + weight decay 0.1": lambda p, eta: torch.optim.SGD(p, lr=eta, weight_decay=0.1),
    "heavy ball 0.9": lambda p, eta: torch.optim.SGD(p, lr=eta, momentum=0.9),
    "Adam": lambda p, eta: torch.optim.Adam(p, lr=eta),
}


def drift_table(etas: Sequence[float] = (0.04, 0.02, 0.01), horizon: float = 2.0, width: int = 8,
                seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Rescale Q (summed over units) along ``horizon / eta`` steps of each optimizer, beside the exact laws.

    Returns:
        The table (optimizer, eta, steps, dQ, dQ / eta, |law - measured|, |Kunin - measured|, sum of first-order
        terms) and the ledgers keyed by (optimizer, eta) for the figure.
    """
    d = 2
    m = sum(_rescale_m(width, d))
    rows, ledgers = [], {}
    for name, make in OPTIMIZERS.items():
        for eta in etas:
            params, x, y = _regression(width, d, seed)
            steps = max(1, round(horizon / eta))

            def loss() -> torch.Tensor:
                w1, b1, w2, b2 = params
                return ((torch.relu(x @ w1.T + b1) @ w2.T + b2 - y) ** 2).mean()

            led = record_ledger(loss, params, make(params, eta), steps, m)
            ledgers[(name, eta)] = led
            rows.append({"optimizer": name, "eta": eta, "steps": steps, "dQ": led.drift, "dQ / eta": led.drift / eta,
                         "max |law - Q|": float((led.law - led.q).abs().max()),
                         "max |Kunin - Q|": float((led.kunin - led.q).abs().max()),
                         "sum first-order": float(led.first_order.sum())})
    return pd.DataFrame(rows), ledgers


@dataclass(frozen=True)
class Fig3Result:
    """Zhao et al. Fig. 3 (linear): dQ~ per step for each lr, and the exact law's largest deviation."""

    lrs: tuple[float, ...]
    steps: int
    dq_tilde: tuple[torch.Tensor, ...]
    loss: tuple[torch.Tensor, ...]
    law_error: tuple[float, ...]


def zhao_fig3(steps: int = 4000, lrs: Sequence[float] = (0.1, 0.01, 0.001)) -> Fig3Result:
    """Their linear two-layer setting (see the module docstring), SGD at each lr for ``steps`` steps, with the
    ledger -- in float64 (the same draws, widened): in their float32 the drift at lr 0.001 is close to the
    resolution of Q itself.  M is that of Q = tr(U^T U - V^T V) = 2 x (the sum of the finder's diagonal GL quantities)."""
    m_, n_, k_ = 5, 10, 50
    x = torch.eye(n_, dtype=torch.float64)
    torch.manual_seed(12345)
    y = torch.rand(m_, n_).normal_(mean=0, std=1).to(torch.float64)
    dq, losses, errs = [], [], []
    for lr in lrs:
        torch.manual_seed(12345)
        u = torch.rand(m_, k_).normal_(mean=0, std=0.1).to(torch.float64)
        torch.manual_seed(12345)
        v = torch.rand(n_, k_).normal_(mean=0, std=0.1).to(torch.float64)
        trace0 = float((u * u).sum() + (v * v).sum())
        u.requires_grad_(True)
        v.requires_grad_(True)
        m = torch.diag(torch.cat([torch.full((m_ * k_,), 2.0), torch.full((n_ * k_,), -2.0)])).to(torch.float64)

        def loss(u=u, v=v) -> torch.Tensor:
            return torch.nn.functional.mse_loss(u @ (v.T @ x), y)

        led = record_ledger(loss, [u, v], torch.optim.SGD([u, v], lr=lr), steps, m)
        q = 2 * led.q  # their Q = tr(U^T U - V^T V) = 2 x (1/2 theta^T M' theta) with M' = diag(1, -1)
        dq.append((q.abs() - q[0].abs()) / (2 * trace0))
        losses.append(led.loss)
        errs.append(float(((led.law - led.q).abs() / (2 * trace0)).max()))
    return Fig3Result(tuple(lrs), steps, tuple(dq), tuple(losses), tuple(errs))


# ------------------------------------------------------------------------- 5: a continuous-time symmetry
def horizon_field(width: int = 2, d: int = 1) -> ParameterField:
    """f on the unit horizon after tau = t / T: T (W2 relu(W1 z + b1) + b2), with T a parameter."""
    base = two_layer_field(width, d, activation="relu")
    horizon = sp.Symbol("T", positive=True)
    return ParameterField(tuple(horizon * e for e in base.exprs), (*base.params, horizon), base.inputs,
                          base.patterns, name=f"T (W2 relu(W1 z + b1) + b2), width {width}")


def _in_span(q: sp.Expr, basis: Sequence[sp.Expr], params: Sequence[sp.Symbol]) -> bool:
    c = sp.symbols(f"_k0:{len(basis)}")
    resid = sp.Poly(sp.expand(q - sum(ci * b for ci, b in zip(c, basis))), *params)
    return bool(sp.solve(resid.coeffs(), c, dict=True)) or all(co == 0 for co in resid.coeffs())


@dataclass(frozen=True)
class HorizonResult:
    """The horizon symmetry: found by the finder, exact for a fixed-step solver, and Q_T along GD."""

    in_span: bool
    n_conserved: int
    invariance: float
    q_drift: float
    law_error: float
    t_start: float
    t_end: float
    loss: tuple[float, float]


def horizon_experiment(width: int = 8, steps: int = 200, lr: float = 0.05, seed: int = 0) -> HorizonResult:
    """Finder on `horizon_field` (is Q_T = |W2|^2 + |b2|^2 - T^2 in the span of its Q?); the flow map of RK4 with
    8 fixed steps at (2 W2, 2 b2, T / 2) vs (W2, b2, T); GD on the loss of z(T) with T learnable, with the ledger."""
    small = horizon_field(2, 1)
    found = find_parameter_symmetries(small)
    w2 = [p for p in small.params if p.name.startswith(("W2", "b2"))]
    horizon = small.params[-1]
    q_t = sp.Rational(1, 2) * (sum(p**2 for p in w2) - horizon**2)
    in_span = _in_span(q_t, found.quantities, small.params)
    d = 2
    params = _node_params(width, d, seed)
    z0, target = _node_data(d, 32, seed)
    t_param = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    grid = torch.linspace(0, 1, 9, dtype=torch.float64)

    def z_end(ps, t_val):
        return odeint(_Field(ps, t_val), z0, grid, method="rk4")[-1]

    with torch.no_grad():
        a = z_end(params, torch.tensor(1.3, dtype=torch.float64))
        b = z_end([params[0], params[1], 2 * params[2], 2 * params[3]], torch.tensor(0.65, dtype=torch.float64))
    invariance = float((a - b).abs().max())
    all_params = [*params, t_param]

    def loss() -> torch.Tensor:
        w1, b1, w2_, b2_ = params
        zt = _rk4(lambda z: t_param * (torch.relu(z @ w1.T + b1) @ w2_.T + b2_), z0)
        return ((zt - target) ** 2).mean()

    n_w = sum(p.numel() for p in params[:2])
    diag = torch.cat([torch.zeros(n_w), torch.ones(params[2].numel() + params[3].numel()), -torch.ones(1)])
    m = torch.diag(diag).to(torch.float64)
    led = record_ledger(loss, all_params, torch.optim.SGD(all_params, lr=lr), steps, m)
    scale = float(led.q.abs().max()) or 1.0
    return HorizonResult(in_span, found.n_conserved, invariance, abs(led.drift) / scale,
                         float((led.law - led.q).abs().max()) / scale, 1.0, float(t_param.detach()),
                         (float(led.loss[0]), float(led.loss[-1])))


# ------------------------------------------------------------------------------------- 6: teleportation
@dataclass(frozen=True)
class TeleportRun:
    """Loss per epoch and cumulative wall time of each seed, with and without the teleport."""

    setting: str
    loss_plain: torch.Tensor
    loss_teleport: torch.Tensor
    time_plain: torch.Tensor
    time_teleport: torch.Tensor
    grad_ratio: tuple[float, ...]
    loss_change: tuple[float, ...]


def _mlp_init(seed: int, dims: Sequence[int]):
    torch.manual_seed(seed)
    ws = [torch.rand(dims[i + 2], dims[i + 1]) for i in range(len(dims) - 2)]
    x = torch.rand(dims[1], dims[0])
    y = torch.rand(dims[-1], dims[0])
    return ws, x, y


def _mlp_loss(ws: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    h = x
    for w in ws[:-1]:
        h = torch.nn.functional.leaky_relu(w @ h, 0.1)
    return 0.5 * torch.linalg.norm(y - ws[-1] @ h) ** 2


def teleport_mlp(n_seeds: int = 5, epochs: int = 300, lr: float = 1e-4, teleport_lr: float = 1e-7,
                 teleport_steps: int = 8, at: int = 5, cap: float = 10.0) -> TeleportRun:
    """Their MLP regression (dims [4, 5, 6, 7, 8]) with GD, with and without one GL teleport at epoch ``at``
    (their ascent: 8 steps at lr 1e-7; ``cap = inf`` is theirs, without a gradient-norm cap)."""
    dims = [4, 5, 6, 7, 8]
    out = {True: ([], []), False: ([], [])}
    ratios, changes = [], []
    for n in range(n_seeds):
        for tele in (False, True):
            ws, x, y = _mlp_init(n * n * 12345, dims)
            losses, times = [], []
            t0 = time.perf_counter()
            for epoch in range(epochs):
                if tele and epoch == at:
                    coords = [torch.zeros(dims[i + 2], dims[i + 2]) for i in range(len(ws) - 1)]
                    res = teleport(mlp_gl_action(ws, x), coords, lambda p: _mlp_loss(p, x, y),
                                   steps=teleport_steps, lr=teleport_lr, cap=cap)
                    ws = list(res.params)
                    ratios.append(res.grad_norm_after / res.grad_norm_before)
                    changes.append(abs(res.loss_after - res.loss_before) / res.loss_before)
                ps = [w.detach().requires_grad_(True) for w in ws]
                loss = _mlp_loss(ps, x, y)
                grads = torch.autograd.grad(loss, ps)
                ws = [w - lr * g for w, g in zip(ps, grads)]
                losses.append(float(loss.detach()))
                times.append(time.perf_counter() - t0)
            out[tele][0].append(losses)
            out[tele][1].append(times)
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    return TeleportRun(f"MLP, cap {cap:g}" if math.isfinite(cap) else "MLP, no cap (theirs)", t(out[False][0]), t(out[True][0]),
                       t(out[False][1]), t(out[True][1]), tuple(ratios), tuple(changes))


def teleport_node(n_seeds: int = 5, steps: int = 100, width: int = 16, lr: float = 0.05, at: int = 5,
                  cap: float = 2.0, teleport_lr: float = 0.05, teleport_steps: int = 8) -> TeleportRun:
    """A ReLU Neural ODE regression (z(1) by 8 fixed RK4 steps, target a damped rotation), GD, with and without
    one per-unit rescale teleport (gradient-norm cap ``cap``) at step ``at``."""
    d = 2
    out = {True: ([], []), False: ([], [])}
    ratios, changes = [], []
    for seed in range(n_seeds):
        z0, target = _node_data(d, 32, seed)

        def loss_of(ps):
            return ((_rk4(lambda z: torch.relu(z @ ps[0].T + ps[1]) @ ps[2].T + ps[3], z0) - target) ** 2).mean()

        for tele in (False, True):
            ps = [p.detach() for p in _node_params(width, d, seed)]
            losses, times = [], []
            t0 = time.perf_counter()
            for k in range(steps):
                if tele and k == at:
                    res = teleport(rescale_action(ps[0], ps[1], ps[2], rest=ps[3:]),
                                   [torch.zeros(width, dtype=torch.float64)], loss_of, steps=teleport_steps,
                                   lr=teleport_lr, cap=cap)
                    ps = list(res.params)
                    ratios.append(res.grad_norm_after / res.grad_norm_before)
                    changes.append(abs(res.loss_after - res.loss_before) / res.loss_before)
                var = [p.detach().requires_grad_(True) for p in ps]
                loss = loss_of(var)
                grads = torch.autograd.grad(loss, var)
                ps = [p - lr * g for p, g in zip(var, grads)]
                losses.append(float(loss.detach()))
                times.append(time.perf_counter() - t0)
            out[tele][0].append(losses)
            out[tele][1].append(times)
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    return TeleportRun(f"Neural ODE, rescale, cap {cap:g}", t(out[False][0]), t(out[True][0]),
                       t(out[False][1]), t(out[True][1]), tuple(ratios), tuple(changes))


def _ci(values: torch.Tensor) -> tuple[float, float, str]:
    # the library's one statistics helper (Student t over seeds): mean, half width, and the text; seeds whose
    # run diverged (non-finite) are left out of the interval and said so in the text, never dropped silently
    ci = mean_ci(values.tolist())
    if ci.n == 0:
        return ci.mean, ci.half_width, f"diverged ({values.numel()}/{values.numel()})"
    text = f"{ci.mean:.3g} ± {ci.half_width:.2g}" if ci.n > 1 else f"{ci.mean:.3g}"
    if ci.n < values.numel():
        text += f" ({values.numel() - ci.n} of {values.numel()} diverged)"
    return ci.mean, ci.half_width, text


def teleport_summary(runs: Sequence[TeleportRun], checkpoints: Sequence[int] = (10, 50, -1)) -> pd.DataFrame:
    """Mean loss +- 95% CI (Student t over seeds, `symnb.core.stats.mean_ci`) at the checkpoints, with and without
    the teleport, and the per-seed ratio teleport / plain; diverged seeds are left out and counted in the text."""
    rows = []
    for run in runs:
        for c in checkpoints:
            epoch = c if c >= 0 else run.loss_plain.shape[1] + c
            _, _, p = _ci(run.loss_plain[:, epoch])
            _, _, q = _ci(run.loss_teleport[:, epoch])
            r, rc, rt = _ci(run.loss_teleport[:, epoch] / run.loss_plain[:, epoch])
            rows.append({"setting": run.setting, "step": epoch + 1, "loss GD": p, "loss GD + teleport": q,
                         "ratio teleport / GD": rt, "ratio_mean": r, "ratio_ci": rc})
    return pd.DataFrame(rows)


def _time_to_reach(loss: torch.Tensor, times: torch.Tensor, level: float) -> float:
    reached = (loss <= level).nonzero()
    return float(times[reached[0, 0]]) if reached.numel() else math.nan


def teleport_wall_time(runs: Sequence[TeleportRun]) -> pd.DataFrame:
    """Wall-time comparison, paired per seed: the time plain GD takes to reach its own final loss, the time GD +
    teleport (teleport included) takes to reach that same loss, and the loss GD + teleport has at GD's wall time.

    Each entry is mean ± 95% CI over the seeds (`symnb.core.stats.mean_ci`); a seed whose teleported run never
    reaches the level (or diverged) is left out of the time columns and counted in "seeds reached".  Wall times
    depend on the machine and its load: print this table where outputs are not compared.

    Returns:
        One row per run: setting, GD time (s), GD + teleport time (s), seeds reached, time ratio teleport / GD
        and loss ratio teleport / GD at GD's final wall time.
    """
    def fmt(values: list[float], digits: str = ".2g") -> str:
        ci = mean_ci(values)
        text = ("n/a" if ci.n == 0 else f"{ci.mean:{digits}} ± {ci.half_width:.2g}" if ci.n > 1
                else f"{ci.mean:{digits}}")
        return text if ci.n == len(values) else f"{text} (n = {ci.n})"  # left-out seeds said, not hidden

    rows = []
    for run in runs:
        t_plain, t_tele, loss_at = [], [], []
        for s in range(run.loss_plain.shape[0]):
            level = float(run.loss_plain[s, -1])
            t_plain.append(_time_to_reach(run.loss_plain[s], run.time_plain[s], level))
            t_tele.append(_time_to_reach(run.loss_teleport[s], run.time_teleport[s], level))
            within = (run.time_teleport[s] <= float(run.time_plain[s, -1])).nonzero()
            at = int(within[-1, 0]) if within.numel() else 0
            loss_at.append(float(run.loss_teleport[s, at]) / level)
        ratio = [b / a for a, b in zip(t_plain, t_tele)]
        reached = sum(math.isfinite(v) for v in t_tele)
        rows.append({"setting": run.setting, "GD: s to its final loss": fmt(t_plain),
                     "GD + teleport: s to that loss": fmt(t_tele), "seeds reached": f"{reached}/{len(t_tele)}",
                     "time ratio teleport / GD": fmt(ratio, ".3g"),
                     "loss ratio at GD's wall time": fmt(loss_at, ".3g")})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------- figures
def figure_drift(ledgers: dict, fig3: Fig3Result, etas: Sequence[float]):
    """Left: |Q_k - Q_0| vs time for GD and Adam at each eta; right: Zhao et al.'s dQ~ per step."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.4))  # <= 7.2 in: text >= 9 pt at the column width
    for name, style in (("GD", "-"), ("Adam", "--")):
        for eta in etas:
            led = ledgers[(name, eta)]
            t = torch.arange(led.q.numel()) * eta
            axes[0].plot(t, (led.q - led.q[0]).abs().clamp(min=1e-18), style, label=f"{name}, eta = {eta:g}")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("time eta k", fontsize=10)
    axes[0].set_ylabel("|Q_k - Q_0| (rescale, all units)", fontsize=10)
    axes[0].legend(fontsize=9)
    for lr, dq in zip(fig3.lrs, fig3.dq_tilde):
        axes[1].plot(dq.numpy(), label=f"lr = {lr:g}")
    axes[1].set_xlabel("SGD step", fontsize=10)
    axes[1].set_ylabel("normalized drift dQ~", fontsize=10)
    axes[1].legend(fontsize=9)
    for ax in axes:
        ax.tick_params(labelsize=9)
    fig.tight_layout()
    return fig


def figure_teleport(runs: Sequence[TeleportRun]):
    """Loss vs step and vs wall time (geometric mean over the seeds that did not diverge, 95% band), with and
    without the teleport."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(runs), 2, figsize=(7.2, 3.0 * len(runs)), squeeze=False)
    for row, run in zip(axes, runs):
        for label, loss, tm in (("GD", run.loss_plain, run.time_plain),
                                ("GD + teleport", run.loss_teleport, run.time_teleport)):
            # losses spread over decades: geometric mean, band from the t-interval of log10 loss (never <= 0)
            cis = [mean_ci(column.tolist(), log=True) for column in loss.T]
            mean = torch.tensor([c.mean for c in cis])
            steps = torch.arange(1, loss.shape[1] + 1)
            row[0].plot(steps, mean, label=label)
            row[0].fill_between(steps, [c.low for c in cis], [c.high for c in cis], alpha=0.3)
            row[1].plot(tm.mean(0), mean, label=label)
        row[0].set_title(run.setting, fontsize=10)
        for ax, xl in zip(row, ("step", "wall time (s, mean over seeds)")):
            ax.set_yscale("log")
            ax.set_xlabel(xl, fontsize=10)
            ax.set_ylabel("training loss", fontsize=10)
            ax.legend(fontsize=9)
            ax.tick_params(labelsize=9)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------------- verdicts
def verdicts(table: pd.DataFrame | None = None, drift: pd.DataFrame | None = None,
             runs: Sequence[TeleportRun] | None = None) -> tuple[Verdict, ...]:
    """The chapter's audit rows (related work), each decided by a computation of this module.

    Args:
        table: `finder_table` (width 2); drift: `drift_table`; runs: (`teleport_mlp` capped, uncapped,
            `teleport_node`) -- computed here (CPU, about a minute) when not given.
    """
    table = finder_table(2) if table is None else table
    drift = drift_table()[0] if drift is None else drift
    runs = (teleport_mlp(), teleport_mlp(cap=float("inf")), teleport_node()) if runs is None else runs
    by = {r["field"]: r for r in table.to_dict("records")}
    relu, lin, tanh = (by["relu, width 2, d_in 2, d_out 2"], by["identity, width 2, d_in 2, d_out 2, no bias"],
                       by["tanh, width 2, d_in 2, d_out 2"])
    toy = by["cos(theta1 z + theta2)"]
    counts_ok = (relu["generators"] == relu["conserved Q"] == relu["laws D - dim Lie"] == 2
                 and lin["generators"] == 4 and lin["conserved Q"] == lin["laws D - dim Lie"] == 3
                 and tanh["generators"] == 0 and tanh["laws D - dim Lie"] == 0 and toy["generators"] == 0
                 and bool(table["certified"].all()))
    sgd = drift[drift["optimizer"] != "Adam"]
    law_err = float(sgd["max |law - Q|"].max())
    gd = drift[drift["optimizer"] == "GD + weight decay 0.1"]
    kunin = ", ".join(f"{e:.2g}" for e in gd["max |Kunin - Q|"])
    heavy = drift[drift["optimizer"].str.startswith("heavy ball")]
    kunin_hb = ", ".join(f"{e:.2g}" for e in heavy["max |Kunin - Q|"])
    adam = drift[drift["optimizer"] == "Adam"]
    capped, uncapped, node = runs
    early = teleport_summary([capped], checkpoints=(50,))
    r_early, c_early = float(early["ratio_mean"][0]), float(early["ratio_ci"][0])
    summary = teleport_summary([capped, node], checkpoints=(-1,))
    r_mlp, c_mlp = float(summary["ratio_mean"][0]), float(summary["ratio_ci"][0])
    r_node, c_node = float(summary["ratio_mean"][1]), float(summary["ratio_ci"][1])
    diverged = int((~torch.isfinite(uncapped.loss_teleport[:, -1])).sum())
    tele_ok = r_early + c_early < 1
    return (
        Verdict("claim Kunin/Zhao/Marcotte (related work)",
                "two-layer ReLU layers have h rescale laws, linear layers GL(h) with h(h+1)/2 conserved Q "
                "(symmetric elements only), tanh none; Marcotte: no further laws",
                f"found by symnb's finder (degree-1 ansatz, null_space, each generator certified at random "
                f"theta, z) at h = 2: ReLU {relu['generators']} generators / {relu['conserved Q']} Q, linear "
                f"(no bias) {lin['generators']} / {lin['conserved Q']} Q with {lin['no gradient-flow invariant']} "
                f"antisymmetric flagged, tanh {tanh['generators']}; D - dim Lie(V) = {relu['laws D - dim Lie']}, "
                f"{lin['laws D - dim Lie']}, {tanh['laws D - dim Lie']}; Hao's toy cos(theta1 z + theta2): "
                f"{toy['generators']} (its symmetries are discrete)",
                "holds" if counts_ok else "inconclusive"),
        Verdict("claim Kunin (related work)",
                "finite learning rate, weight decay and momentum break the rescale law in a computable way "
                "(modified law, damped oscillator); continuous-time formula with t = eta k",
                f"the exact discrete laws (GD, GD + weight decay, heavy ball) iterated from Q_0 with the measured "
                f"gradients match the measured Q to {'< 1e-12' if law_err < 1e-12 else f'{law_err:.1e}'}; the "
                f"continuous-time formula is off by {kunin} at eta = "
                f"{', '.join(f'{e:g}' for e in gd['eta'])}: first order in eta; their damped oscillator for "
                f"heavy ball (mu = 0.9) is off by {kunin_hb}, also first order; Adam's drift at fixed time does "
                f"not vanish as eta -> 0 (dQ = {', '.join(f'{v:.2g}' for v in adam['dQ'])})",
                "holds" if law_err < 1e-12 else "inconclusive"),
        Verdict("claim teleportation (related work)",
                "one teleport (GL, gradient-norm ascent) at epoch 5 speeds up GD on the MLP regression "
                "[4, 5, 6, 7, 8]",
                f"their setting in our code, {capped.loss_plain.shape[0]} seeds: with a gradient-norm cap of 10 "
                f"the loss ratio teleport / GD is {r_early:.2g} ± {c_early:.2g} (95% CI) at epoch 51 but "
                f"{r_mlp:.2g} ± {c_mlp:.2g} at epoch {capped.loss_plain.shape[1]}; without a "
                f"cap (their code) {diverged} of {uncapped.loss_plain.shape[0]} seeds diverge after the teleport "
                f"(float32); on a ReLU Neural ODE with per-unit rescale teleports the ratio at the last step is "
                f"{r_node:.2g} ± {c_node:.2g}",
                "holds with a caveat" if tele_ok else "not supported here"),
    )
