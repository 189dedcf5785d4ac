"""The one training loop: Adam on a batch of B >= 1 independent configurations, with divergence detection.

Every trainer in symnb (the toy model of the paper, ensembles of neural vector fields, learned conserved
quantities) is this loop plus a loss function.  ``params`` is a tensor or a dict of tensors; the loss function
returns ``(total, terms)``:

* unbatched: ``total`` is a scalar and each term a scalar -- one configuration;
* batched: ``total`` has shape (B,) and each term (B,); row b of every parameter tensor (its leading dimension)
  belongs to configuration b.  The loss summed over rows has d(sum)/d(row b) = dL_b/d(row b) and Adam is
  elementwise, so each row follows exactly the update it would get alone (up to the rounding of batched
  kernels); with a fixed-step solver the rows never mix.

A configuration whose loss or gradient turns non-finite stops at that step: unbatched, the loop ends; batched,
its rows are frozen (finite zero gradient, values restored after the step) while the others go on.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from tqdm import tqdm   # plain tqdm: tqdm.auto warns on stderr in kernels without ipywidgets

__all__ = ["FitResult", "fit"]

Params = torch.Tensor | dict[str, torch.Tensor]
LossFn = Callable[[Params], tuple[torch.Tensor, Mapping[str, torch.Tensor]]]


@dataclass(frozen=True)
class FitResult:
    """What `fit` produced.

    Attributes:
        params: the final parameters (detached; a diverged row holds its values at the divergent step).
        history: one dict per configuration: term name -> value at every step taken, plus "total".
        divergence: one dict per configuration: ``{"step", "term", "stage"}`` or ``{}``.
        steps: Adam steps taken by each configuration.
        wall_time: seconds of the whole loop.
        batched: whether ``params`` carried a batch dimension.
    """

    params: Params
    history: tuple[dict[str, list[float]], ...]
    divergence: tuple[dict, ...]
    steps: tuple[int, ...]
    wall_time: float
    batched: bool


def _tensors(params: Params) -> list[torch.Tensor]:
    return list(params.values()) if isinstance(params, dict) else [params]


def _first_nonfinite(total: torch.Tensor, terms: Mapping[str, torch.Tensor], b: int | None) -> str | None:
    for name, value in terms.items():
        v = value if b is None else value[b]
        if not torch.isfinite(v).all():
            return name
    v = total if b is None else total[b]
    return None if torch.isfinite(v).all() else "total"


def fit(loss_fn: LossFn, params: Params, *, steps: int, lr: float,
        attribute_gradient: Callable[[int], str] | None = None, progress: bool = False,
        desc: str = "train") -> FitResult:
    """Minimise ``loss_fn`` over ``params`` with Adam for ``steps`` steps.

    Args:
        loss_fn: ``params -> (total, terms)``; ``total`` scalar (one configuration) or shape (B,).
        params: leaf tensor(s) with ``requires_grad=True``; batched: leading dimension B.
        steps: number of Adam steps (>= 0).
        lr: Adam's learning rate (> 0).
        attribute_gradient: called with a row index when that row's gradient is non-finite; returns the name of
            the term responsible (default: "total").
        progress: show a tqdm bar (tqdm also honours TQDM_DISABLE=1).
        desc: the bar's label.

    Returns:
        A `FitResult`.

    Raises:
        ValueError: for ``steps < 0``, ``lr <= 0`` or parameters that are not leaf tensors requiring grad.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if not (isinstance(lr, (int, float)) and lr > 0 and lr == lr and lr != float("inf")):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    tensors = _tensors(params)
    for p in tensors:
        if not (isinstance(p, torch.Tensor) and p.is_leaf and p.requires_grad):
            raise ValueError("params must be leaf tensors with requires_grad=True")
    optimizer = torch.optim.Adam(tensors, lr=lr)
    history: list[dict[str, list[float]]] | None = None
    divergence: list[dict] = []
    taken: list[int] = []
    alive: list[bool] = []
    frozen = [p.detach().clone() for p in tensors]
    batched = False

    def stop(b: int, why: dict) -> None:  # row b diverged: record why, keep its parameters as they are now
        divergence[b] = why
        alive[b] = False
        for f, p in zip(frozen, tensors):
            f[b if batched else ...] = p.detach()[b if batched else ...]

    start = time.perf_counter()
    for step in tqdm(range(steps), disable=not progress, desc=desc, leave=False):
        optimizer.zero_grad()
        total, terms = loss_fn(params)
        if history is None:  # first step: learn B and the term names from the loss itself
            batched = total.dim() > 0
            n = total.shape[0] if batched else 1
            history = [{k: [] for k in [*terms, "total"]} for _ in range(n)]
            divergence, taken, alive = [{} for _ in range(n)], [0] * n, [True] * n
        columns = [(k, v.detach().reshape(-1).tolist()) for k, v in [*terms.items(), ("total", total)]]
        for b in range(len(history)):
            if not alive[b]:
                continue
            for k, col in columns:
                history[b][k].append(col[b])
            bad = _first_nonfinite(total, terms, b if batched else None)
            if bad is not None:
                stop(b, {"step": step, "term": bad, "stage": "loss"})
        if not any(alive):
            break
        if batched:
            total[torch.tensor(alive, device=total.device)].sum().backward()
        else:
            total.backward()
        grads_ok = [True] * len(alive)
        for p in tensors:
            g = p.grad if p.grad is not None else torch.zeros_like(p)
            ok = torch.isfinite(g).reshape(len(alive), -1).all(1) if batched else torch.isfinite(g).all()[None]
            grads_ok = [a and bool(o) for a, o in zip(grads_ok, ok.tolist())]
        for b in range(len(alive)):
            if alive[b] and not grads_ok[b]:
                term = attribute_gradient(b) if attribute_gradient is not None else "total"
                stop(b, {"step": step, "term": term, "stage": "gradient"})
        if not any(alive):
            break
        if batched:
            dead = ~torch.tensor(alive, device=tensors[0].device)
            with torch.no_grad():
                for p in tensors:
                    if p.grad is not None:
                        p.grad[dead] = 0.0  # dead rows: finite grads so Adam's arithmetic stays finite
        optimizer.step()
        if batched:
            with torch.no_grad():
                for f, p in zip(frozen, tensors):
                    p[dead] = f[dead]  # and they do not move
        for b in range(len(alive)):
            taken[b] += alive[b]
    wall = time.perf_counter() - start
    if history is None:  # steps == 0: nothing was evaluated; one empty record per row
        total, terms = loss_fn(params)  # (with grad: a loss may differentiate internally)
        batched = total.dim() > 0
        n = total.shape[0] if batched else 1
        history = [{k: [] for k in [*terms, "total"]} for _ in range(n)]
        divergence, taken = [{} for _ in range(n)], [0] * n
    final: Params = ({k: v.detach() for k, v in params.items()} if isinstance(params, dict) else params.detach())
    return FitResult(final, tuple(history), tuple(divergence), tuple(taken), wall, batched)
