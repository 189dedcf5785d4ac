"""Symmetry teleportation (Zhao, Dehmamy, Walters, Yu, NeurIPS 2022; ICLR 2024): move the parameters along the
loss level set by a group element chosen to enlarge the gradient norm, then keep optimising.

`teleport` is generic: it takes a group action (group coordinates -> transformed parameter tensors, the identity
at zero) and ascends |grad L|^2 at the transformed point with respect to the group coordinates (double backprop),
keeping the new gradient norm at most ``cap`` times the old one (larger group steps are halved until they
satisfy it: a GD step at a fixed learning rate diverges where the gradient grows without bound).  The actions:

* `rescale_action`: per-unit rescaling of a ReLU layer pair, (W1[j], b1[j], W2[:, j]) -> (c W1[j], c b1[j],
  W2[:, j] / c), c = e^a -- the h generators `find_parameter_symmetries` finds for ReLU;
* `gl_action`: GL(h) of a linear layer pair, (W1, b1, W2) -> (g W1, g b1, W2 g^-1), g = exp(T);
* `mlp_gl_action`: their data-dependent GL action on a leaky-ReLU MLP W_L ... sigma(W_1 X) (eq. 8 of the 2022
  paper): U -> U (I + T)^-1, V -> sigma^-1((I + T) sigma(V h)) h^+, which leaves the loss on the training inputs
  unchanged when each layer input h has full column rank (their code uses U (I - T), equal to first order).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

__all__ = ["TeleportResult", "teleport", "rescale_action", "gl_action", "mlp_gl_action"]

Action = Callable[[Sequence[torch.Tensor]], list[torch.Tensor]]


@dataclass(frozen=True)
class TeleportResult:
    """Parameters after a teleport and what it changed (loss should be unchanged to rounding).

    Attributes:
        params: the parameter tensors after the group element was applied.
        loss_before: the loss before the teleport.
        loss_after: the loss after it (equal up to rounding for an exact symmetry).
        grad_norm_before: the gradient norm before.
        grad_norm_after: the gradient norm after.
    """

    params: tuple[torch.Tensor, ...]
    loss_before: float
    loss_after: float
    grad_norm_before: float
    grad_norm_after: float


def _grad_norm_sq(loss_of: Callable, params: Sequence[torch.Tensor], create_graph: bool) -> tuple:
    loss = loss_of(params)
    grads = torch.autograd.grad(loss, params, create_graph=create_graph)
    return loss, sum((g**2).sum() for g in grads)


def teleport(action: Action, coords: Sequence[torch.Tensor], loss_of: Callable[[Sequence[torch.Tensor]], torch.Tensor],
             *, steps: int = 8, lr: float = 1e-3, cap: float = float("inf")) -> TeleportResult:
    """Gradient ascent of the squared gradient norm over the group coordinates, then apply the group element found.

    Args:
        action: group coordinates -> the transformed parameter tensors (identity at zero coordinates); it
            closes over the current parameters.
        coords: zero tensors of the group coordinates' shapes.
        loss_of: loss of a list of parameter tensors.
        steps: ascent steps (>= 1); lr: ascent step size (> 0).
        cap: the new gradient norm may be at most ``cap`` times the old one (>= 1); a step past it is halved
            (up to 30 times, then the ascent stops).

    Returns:
        A `TeleportResult`: the new parameters, and the loss and gradient norm before and after.

    Raises:
        ValueError: for steps < 1, lr <= 0 or cap < 1.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    if not cap >= 1:
        raise ValueError(f"cap must be >= 1 (a multiple of the current gradient norm), got {cap!r}")
    coords = [c.detach().clone() for c in coords]
    start = [p.detach().requires_grad_(True) for p in action(coords)]
    loss0, n0 = _grad_norm_sq(loss_of, start, False)
    limit = cap**2 * float(n0)
    for _ in range(steps):
        var = [c.clone().requires_grad_(True) for c in coords]
        _, norm = _grad_norm_sq(loss_of, action(var), True)
        grads = torch.autograd.grad(norm, var)
        scale = lr
        for _ in range(30):
            trial = [c + scale * g for c, g in zip(coords, grads)]
            try:
                moved = [p.detach().requires_grad_(True) for p in action(trial)]
                _, n = _grad_norm_sq(loss_of, moved, False)
            except torch.linalg.LinAlgError:  # a group element too far out (singular, non-finite): step back
                n = torch.tensor(float("inf"))
            if torch.isfinite(n) and float(n) <= limit:
                coords = trial
                break
            scale /= 2
        else:
            break
    final = tuple(p.detach() for p in action(coords))
    loss1, n1 = _grad_norm_sq(loss_of, [p.clone().requires_grad_(True) for p in final], False)
    return TeleportResult(final, float(loss0.detach()), float(loss1.detach()), float(n0.detach()) ** 0.5,
                          float(n1.detach()) ** 0.5)


def _free(rest: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    # untouched parameters still count in |grad L|^2: fresh leaves that require grad
    return [r.detach().clone().requires_grad_(True) for r in rest]


def rescale_action(w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, rest: Sequence[torch.Tensor] = ()
                   ) -> Action:
    """Per-unit rescaling of a ReLU pair (coordinates: one log-scale per hidden unit); ``rest`` passes through."""
    w1, b1, w2 = w1.detach(), b1.detach(), w2.detach()

    def act(coords: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        c = torch.exp(coords[0])
        return [w1 * c[:, None], b1 * c, w2 / c[None, :], *_free(rest)]
    return act


def gl_action(w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, rest: Sequence[torch.Tensor] = ()) -> Action:
    """GL(h) on a linear pair (coordinates: T in gl(h), g = exp(T)); ``rest`` passes through."""
    w1, b1, w2 = w1.detach(), b1.detach(), w2.detach()

    def act(coords: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        g, g_inv = torch.linalg.matrix_exp(coords[0]), torch.linalg.matrix_exp(-coords[0])
        return [g @ w1, g @ b1, w2 @ g_inv, *_free(rest)]
    return act


def mlp_gl_action(weights: Sequence[torch.Tensor], x: torch.Tensor, slope: float = 0.1) -> Action:
    """The data-dependent GL action on consecutive layer pairs of h_{l+1} = leaky(W_l h_l), output W_L h_L.

    Coordinates: one T_l (k x k, k = rows of W_l) per hidden layer; applied from the first pair to the last, each
    with the pseudo-inverse of its (transformed) input -- exact when every layer input has full column rank.
    """
    weights = [w.detach() for w in weights]

    def sigma(u):
        return torch.nn.functional.leaky_relu(u, slope)

    def sigma_inv(u):
        return torch.nn.functional.leaky_relu(u, 1.0 / slope)

    def act(coords: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        ws = list(weights)
        h = x
        for m, t in enumerate(coords):
            eye = torch.eye(t.shape[0], dtype=t.dtype)
            v_out = sigma_inv((eye + t) @ sigma(ws[m] @ h)) @ torch.linalg.pinv(h)
            ws[m + 1], ws[m] = ws[m + 1] @ torch.linalg.inv(eye + t), v_out
            h = sigma(ws[m] @ h)
        return ws
    return act
