"""The conservation ledger: a quadratic conserved quantity of gradient flow, recorded along a torch optimizer's
steps beside the exact predictions of how each optimizer breaks it.

Q = 1/2 theta^T M theta with M symmetric is conserved by gradient flow of a loss L when (M theta) . grad L = 0
for every theta -- which `symnb.core.param_symmetry.find_parameter_symmetries` establishes for every loss built
from the field, and whose Q it returns (`quadratic_form` turns it into M).  Finite steps break it, in ways that
can be computed exactly (g = grad L at theta_k, with (M theta_k) . g = 0):

* GD with weight decay lambda, theta' = (1 - eta lambda) theta - eta g:
  Q_{k+1} = (1 - eta lambda)^2 Q_k + eta^2 / 2 g^T M g  (for a rescale symmetry, 2Q = |theta_in|^2 - |theta_out|^2
  and eta^2/2 g^T M g = eta^2 (|g_in|^2 - |g_out|^2)/2 per unit of Q) -- Kunin et al. (2021), eq. for the
  modified rescale law; their continuous-time form (t = eta k)
  Q(t) = e^{-2 lambda t} Q(0) + eta/2 int_0^t e^{-2 lambda (t - tau)} g^T M g dtau  agrees to O(eta).
* heavy-ball momentum mu (torch SGD, dampening 0), v' = mu v + g + lambda theta, theta' = theta - eta v':
  with S = theta^T M v, Q' = Q - eta (mu S + 2 lambda Q) + eta^2/2 v'^T M v',  S' = mu S + 2 lambda Q - eta v'^T M v'
  (a damped oscillator in (Q, S), exact with the measured v').  Kunin et al.'s continuous-time form: with
  t = eta k the modified equation eta (1 + mu)/2 theta'' + (1 - mu) theta' = -g - lambda theta gives, dotted with
  M theta (and theta' ~ -v), Q'' + 2 gamma Q' + omega^2 Q = v^T M v with gamma = (1 - mu) / (eta (1 + mu)),
  omega^2 = 4 lambda / (eta (1 + mu)); from Q(0) = Q_0, Q'(0) = 0,
  Q(t) = Q_0 h(t) + int_0^t G(t - tau) v^T M v dtau, h and G the oscillator's homogeneous solution and impulse
  response (their `metrics/rescale.py`, `optimizers/custom_momentum.py`); it agrees with the measured Q to O(eta)
  at fixed t, and for mu = 0 reduces to the GD formula above up to O(eta).
* any optimizer: Q' - Q = theta^T M dtheta + 1/2 dtheta^T M dtheta exactly; for GD the first-order term is
  -2 eta lambda Q (zero without weight decay), for Adam it is -eta theta^T M u with u the preconditioned step,
  which is not orthogonal to M theta: an O(1) drift over a fixed time eta k as eta -> 0.
"""
from __future__ import annotations

import cmath
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp
import torch

__all__ = ["quadratic_form", "Ledger", "record_ledger"]


def quadratic_form(quantity: sp.Expr, params: Sequence[sp.Symbol]) -> torch.Tensor:
    """M (float64) with quantity = 1/2 theta^T M theta, from a SymPy quadratic form in ``params``.

    Args:
        quantity: a homogeneous quadratic polynomial in ``params`` (e.g. a `ParameterSymmetry`'s Q).
        params: the parameter symbols, in the order of M's rows.

    Returns:
        The symmetric (D, D) float64 matrix M.

    Raises:
        ValueError: when ``quantity`` is not a homogeneous quadratic polynomial in ``params`` (naming it).
    """
    q = sp.expand(sp.sympify(quantity))
    foreign = q.free_symbols - set(params)
    if foreign:
        raise ValueError(f"quantity {sp.sstr(q)[:60]} depends on {sorted(map(str, foreign))}, not only on params")
    poly = sp.Poly(q, *params) if q != 0 else None
    if poly is None or any(sum(m) != 2 for m in poly.monoms()):
        raise ValueError(f"quantity {sp.sstr(q)[:60]} is not a homogeneous quadratic in the parameters; "
                         "allowed: 1/2 theta^T M theta")
    hess = sp.hessian(q, params)
    return torch.tensor([[float(hess[i, j]) for j in range(len(params))] for i in range(len(params))],
                        dtype=torch.float64)


@dataclass(frozen=True)
class Ledger:
    """Q along K optimizer steps and its predictions (all float64 tensors; index k = before step k).

    Attributes:
        q: measured Q_k, shape (K + 1,).
        law: the exact discrete law iterated from Q_0 with the measured gradients (GD, GD + weight decay,
            heavy-ball momentum); NaN for other optimizers.
        kunin: Kunin et al.'s continuous-time formula at t = eta k (GD with or without weight decay: the modified
            law; heavy-ball momentum: the damped oscillator); NaN for other optimizers.
        first_order: theta_k^T M dtheta_k, shape (K,).
        second_order: 1/2 dtheta_k^T M dtheta_k, shape (K,).
        loss: the loss at theta_k, shape (K,).
        optimizer: the optimizer's class name.
        lr: its learning rate (first parameter group).
        weight_decay: its weight decay.
        momentum: its momentum (0 where it has none).
    """

    q: torch.Tensor
    law: torch.Tensor
    kunin: torch.Tensor
    first_order: torch.Tensor
    second_order: torch.Tensor
    loss: torch.Tensor
    optimizer: str
    lr: float
    weight_decay: float
    momentum: float

    @property
    def drift(self) -> float:
        """Q_K - Q_0."""
        return float(self.q[-1] - self.q[0])


def _flat(params: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in params]).to(torch.float64)


def record_ledger(loss_fn: Callable[[], torch.Tensor], params: Sequence[torch.Tensor],
                  optimizer: torch.optim.Optimizer, steps: int, m: torch.Tensor) -> Ledger:
    """Take ``steps`` steps of ``optimizer`` on ``loss_fn`` and record Q = 1/2 theta^T M theta beside its laws.

    This is a measurement of the optimizer's own steps (any torch optimizer, unlike `symnb.train.fit`, which is
    Adam only): each step is zero_grad, loss, backward, step, with theta, g, the step and (for SGD) the momentum
    buffer read around it.

    Args:
        loss_fn: returns the scalar loss at the current parameters.
        params: the parameter tensors in the order of M's rows (flattened row-major, concatenated).
        optimizer: a torch optimizer over ``params`` (one parameter group).
        steps: number of steps (>= 1).
        m: symmetric (D, D) matrix (`quadratic_form`).

    Returns:
        A `Ledger`: measured Q, the exact discrete law, Kunin et al.'s formula and the first/second-order terms.

    Raises:
        ValueError: for steps < 1, an M of the wrong shape or not symmetric, or several parameter groups.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    d = sum(p.numel() for p in params)
    if tuple(m.shape) != (d, d):
        raise ValueError(f"M has shape {tuple(m.shape)}; the parameters need ({d}, {d})")
    if not torch.allclose(m, m.T):
        raise ValueError("M is not symmetric; allowed: the Hessian of a quadratic conserved quantity")
    if len(optimizer.param_groups) != 1:
        raise ValueError(f"optimizer has {len(optimizer.param_groups)} parameter groups; allowed: 1")
    group = optimizer.param_groups[0]
    name = type(optimizer).__name__
    lr, wd = float(group["lr"]), float(group.get("weight_decay", 0.0))
    mu = float(group.get("momentum", 0.0)) if name == "SGD" else 0.0
    sgd = name == "SGD" and not group.get("nesterov", False) and float(group.get("dampening", 0.0)) == 0.0
    m = m.to(torch.float64)
    qs, law, kun, first, second, losses = [], [], [], [], [], []
    theta = _flat(params)
    q = 0.5 * theta @ m @ theta
    qs.append(q)
    law_q, law_s, kunin_int = q, torch.zeros((), dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    oscillator = _Oscillator(float(q), lr, mu, wd) if sgd and mu > 0 else None
    law.append(q)
    kun.append(q)
    for k in range(steps):
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        g = _flat([p.grad for p in params])
        optimizer.step()
        new = _flat(params)
        step = new - theta
        first.append(theta @ m @ step)
        second.append(0.5 * step @ m @ step)
        losses.append(float(loss.detach()))
        if sgd:
            if mu > 0:
                v = _flat([optimizer.state[p]["momentum_buffer"] for p in params])
                vmv = v @ m @ v
                law_q, law_s = (law_q - lr * (mu * law_s + 2 * wd * law_q) + 0.5 * lr**2 * vmv,
                                mu * law_s + 2 * wd * law_q - lr * vmv)
                kun.append(oscillator.advance(float(vmv)))
            else:
                law_q = (1 - lr * wd) ** 2 * law_q + 0.5 * lr**2 * (g @ m @ g)
            # Kunin: int_0^t e^{-2 lambda (t - tau)} g^T M g dtau by the left rule with d tau = eta
            t = lr * (k + 1)
            kunin_int = kunin_int * math.exp(-2 * wd * lr) + lr * math.exp(-2 * wd * lr) * (g @ m @ g)
            if mu == 0:
                kun.append(math.exp(-2 * wd * t) * qs[0] + 0.5 * lr * kunin_int)
            law.append(law_q)
        else:
            law.append(torch.tensor(math.nan, dtype=torch.float64))
            kun.append(torch.tensor(math.nan, dtype=torch.float64))
        theta = new
        qs.append(0.5 * theta @ m @ theta)

    def stack(xs):
        return torch.stack([torch.as_tensor(x, dtype=torch.float64) for x in xs])

    return Ledger(stack(qs), stack(law), stack(kun), stack(first), stack(second),
                  torch.tensor(losses, dtype=torch.float64), name, lr, wd, mu)


class _Oscillator:
    """Kunin et al.'s damped-oscillator prediction for Q under heavy-ball momentum, advanced one step at a time.

    Q'' + 2 gamma Q' + omega^2 Q = F(t), F = v^T M v, Q(0) = Q_0, Q'(0) = 0, t = eta k.  The roots
    r+- = -gamma +- sqrt(gamma^2 - omega^2) (complex when under-damped) give h(t) = (r+ e^{r- t} - r- e^{r+ t}) /
    (r+ - r-) and G(s) = (e^{r+ s} - e^{r- s}) / (r+ - r-) (critical damping: e^{-gamma t}(1 + gamma t) and
    s e^{-gamma s}).
    The convolution is the sum over steps with d tau = eta, kept as damped running sums B+- = sum_j e^{r+- (t - tau_j)}
    F_j (Re r+- <= 0, so nothing overflows, unlike their undamped buffers e^{gamma tau}).
    """

    def __init__(self, q0: float, lr: float, mu: float, wd: float):
        denom = lr * (1 + mu)
        gamma, omega2 = (1 - mu) / denom, 4 * wd / denom
        disc = cmath.sqrt(gamma**2 - omega2)
        self.q0, self.lr, self.t = q0, lr, 0.0
        self.rp, self.rm = -gamma + disc, -gamma - disc
        # equal roots to rounding: the (r+ - r-) denominators would cancel catastrophically
        self.critical = abs(self.rp - self.rm) < 1e-9 * max(1.0, gamma)
        self.bp = self.bm = self.d = 0j

    def advance(self, f: float) -> torch.Tensor:
        """Add the step's F = v^T M v and return the prediction at t + eta."""
        lr, rp, rm = self.lr, self.rp, self.rm
        self.t += lr
        t = self.t
        if self.critical:
            self.d = cmath.exp(rp * lr) * (self.d + lr * (self.bp + f))
            self.bp = cmath.exp(rp * lr) * (self.bp + f)
            value = self.q0 * cmath.exp(rp * t) * (1 - rp * t) + lr * self.d
        else:
            self.bp = cmath.exp(rp * lr) * (self.bp + f)
            self.bm = cmath.exp(rm * lr) * (self.bm + f)
            value = (self.q0 * (rp * cmath.exp(rm * t) - rm * cmath.exp(rp * t))
                     + lr * (self.bp - self.bm)) / (rp - rm)
        return torch.tensor(value.real, dtype=torch.float64)
