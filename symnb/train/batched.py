"""Many training runs of the toy Neural ODE in one vectorized solve: configurations as a batch dimension.

A grid over the loss weights of eq 43, seeds and noise levels trains B configurations at once: theta has shape
(B, 2), the data (B, N), the weights (B, 6), and `symnb.losses.loss_terms` evaluates every term for the whole
batch in one torchdiffeq solve.  (``torch.func.vmap`` cannot be used: torchdiffeq writes in place.)  Adam is
elementwise, and the loss summed over the batch has d(sum)/d(theta_b) = dL_b/d(theta_b), so each row follows
exactly the per-configuration update of `symnb.train.train`.

Why the results equal per-configuration runs -- and under which conditions:

* the solver must take fixed steps (rk4, euler, midpoint): an adaptive solver chooses one step size for the
  whole batch, so a row's steps would depend on the other rows;
* a batch holds configurations with the same set of non-zero weights: evaluating a term whose weight is 0 is
  not harmless, because 0 * inf = nan in the loss and the chain rule propagates 0 * nan into the gradient;
* a configuration whose loss or gradient turns non-finite is frozen at that step (as `train` stops) and
  recorded as diverged, without touching the others (rows never mix with fixed steps).

What may differ is floating-point rounding of reductions over samples in batched kernels; the test
(tests/test_batched.py) bounds the difference at 1e-10 relative.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from ..toy.data import Dataset, make_dataset
from ..toy.loss import TERMS, LossValues, combined_loss, loss_terms, weights_tensor
# train's own helpers, so that divergence attribution and final metrics are computed the same way
from .toy import TrainConfig, TrainResult, final_mse, first_nonfinite_gradient, first_nonfinite_value, write_result

__all__ = ["FIXED_STEP_SOLVERS", "BATCHED_FIELDS", "BatchPlan", "plan_batches", "train_batched"]

FIXED_STEP_SOLVERS = ("rk4", "euler", "midpoint")
# Fields that may differ inside one batch: they only enter the data, the start point or the weights.
BATCHED_FIELDS = ("seed", "noise", "theta_star", "theta_init", "a1", "a2", "a3", "a4", "a5", "a6", "output")
_DATA_FIELDS = ("activation", "dtype", "device", "theta_star", "n_train", "n_test", "n_extrap", "noise",
                "horizon", "input_range", "extrap_range", "seed")


@dataclass(frozen=True)
class BatchPlan:
    """Configurations (indices into the input list) that can train together, and why they share a batch."""

    indices: tuple[int, ...]
    active: tuple[str, ...]


def _active(cfg: TrainConfig) -> tuple[str, ...]:
    return tuple(name for name, a in zip(TERMS, cfg.weights) if a > 0)


def _shared_key(cfg: TrainConfig) -> tuple:
    fields = asdict(cfg)
    return tuple((k, v) for k, v in fields.items() if k not in BATCHED_FIELDS) + (("active", _active(cfg)),)


def plan_batches(configs: Sequence[TrainConfig], max_batch: int | None = None) -> list[BatchPlan]:
    """Group configurations that can share one solve: equal in every field outside `BATCHED_FIELDS` and
    with the same set of non-zero weights.

    Args:
        configs: the runs.
        max_batch: split groups larger than this (None: no limit).

    Returns:
        Batches in order of first appearance; every index appears once.

    Raises:
        ValueError: for ``max_batch < 1``.
    """
    if max_batch is not None and max_batch < 1:
        raise ValueError(f"max_batch must be >= 1 or None, got {max_batch!r}")
    groups: dict[tuple, list[int]] = {}
    for i, cfg in enumerate(configs):
        groups.setdefault(_shared_key(cfg), []).append(i)
    out = []
    for idx in groups.values():
        size = max_batch or len(idx)
        out.extend(BatchPlan(tuple(idx[k:k + size]), _active(configs[idx[0]])) for k in range(0, len(idx), size))
    return out


def _dataset(cfg: TrainConfig, cache: dict) -> Dataset:
    key = tuple(getattr(cfg, f) for f in _DATA_FIELDS)
    if key not in cache:
        cache[key] = make_dataset(cfg.model, cfg.theta_star, n_train=cfg.n_train, n_test=cfg.n_test,
                                  n_extrap=cfg.n_extrap, noise=cfg.noise, horizon=cfg.horizon,
                                  input_range=cfg.input_range, extrap_range=cfg.extrap_range, seed=cfg.seed)
    return cache[key]


def _row(values: LossValues, b: int) -> LossValues:
    return LossValues(values.mse[b], tuple((n, v[b]) for n, v in values.terms), values.trajectory[:, b])


def _train_group(cfgs: Sequence[TrainConfig], datas: Sequence[Dataset], active: tuple[str, ...]) -> list[TrainResult]:
    """One batched Adam run; mirrors `symnb.train.train` row by row."""
    first = cfgs[0]
    model = first.model
    n = len(cfgs)
    inputs = torch.stack([d.train_inputs for d in datas])
    targets = torch.stack([d.train_targets for d in datas])
    times = torch.linspace(0.0, first.horizon, first.n_grid, dtype=model.torch_dtype, device=model.torch_device)
    theta = model.tensor([c.theta_init for c in cfgs]).clone().requires_grad_(True)
    weights = weights_tensor([c.weights for c in cfgs], theta.detach())
    optimizer = torch.optim.Adam([theta], lr=first.lr)
    keys = ["mse", *active, "total"]
    history = [{k: [] for k in keys} for _ in range(n)]
    divergence: list[dict] = [{} for _ in range(n)]
    steps = [0] * n
    alive = [True] * n
    frozen = theta.detach().clone()
    start = time.perf_counter()
    for step in range(first.epochs):
        if not any(alive):
            break
        optimizer.zero_grad()
        values = loss_terms(model, inputs, targets, theta, times, first.constants, terms=list(active),
                            derivative=first.derivative, formulation=first.formulation)
        loss = combined_loss(values, weights)
        columns = [values.mse.detach().tolist()] + [values.term(k).detach().tolist() for k in active] \
            + [loss.detach().tolist()]
        for b in range(n):
            if alive[b]:
                for k, col in zip(keys, columns):
                    history[b][k].append(col[b])
                bad = first_nonfinite_value(_row(values, b), list(active))
                if bad is not None:
                    divergence[b] = {"step": step, "term": bad, "stage": "loss"}
        for b in range(n):
            if divergence[b] and alive[b]:
                alive[b] = False
                frozen[b] = theta.detach()[b]
        mask = torch.tensor(alive, device=theta.device)
        if not mask.any():
            break
        loss[mask].sum().backward()
        grad_ok = torch.isfinite(theta.grad).all(-1).tolist()
        for b in range(n):
            if alive[b] and not grad_ok[b]:
                bad = first_nonfinite_gradient(cfgs[b], datas[b], theta.detach()[b], times, list(active))
                divergence[b] = {"step": step, "term": bad, "stage": "gradient"}
                alive[b] = False
                frozen[b] = theta.detach()[b]
        mask = torch.tensor(alive, device=theta.device)
        with torch.no_grad():
            theta.grad[~mask] = 0.0  # dead rows: finite grads so Adam's arithmetic stays finite
        optimizer.step()
        with torch.no_grad():
            theta[~mask] = frozen[~mask]  # and they do not move (train stops at divergence)
        for b in range(n):
            steps[b] += alive[b]
    wall = (time.perf_counter() - start) / n  # the batch's time, shared equally
    results = []
    final = theta.detach()
    for b, (cfg, data) in enumerate(zip(cfgs, datas)):
        fb = final[b]
        star = model.tensor(data.theta_star)
        results.append(TrainResult(
            config=cfg, status="diverged" if divergence[b] else "ok", history=history[b],
            theta=(float(fb[0]), float(fb[1])),
            train_mse=final_mse(model, fb, data.train_inputs, data.train_targets, data.horizon),
            test_mse=final_mse(model, fb, data.test_inputs, data.test_targets, data.horizon),
            extrap_mse=final_mse(model, fb, data.extrap_inputs, data.extrap_targets, data.horizon),
            param_error=float(torch.linalg.vector_norm(fb - star)), wall_time=wall,
            time_per_step=wall / max(steps[b] + bool(divergence[b]), 1), device=str(model.torch_device),
            divergence=divergence[b]))
    return results


def train_batched(configs: Sequence[TrainConfig], *, datasets: Sequence[Dataset] | None = None,
                  max_batch: int | None = None) -> list[TrainResult]:
    """Train every configuration, batching those that can share a solve (`plan_batches`).

    Each result equals ``train(config, raise_on_divergence=False)`` up to floating-point rounding (the test
    bounds it at 1e-10 relative); results with ``config.output`` set are written with `write_result`.

    Args:
        configs: the runs; all must use a fixed-step solver.
        datasets: one per configuration (default: drawn from each config; configurations with equal data
            fields share one draw).
        max_batch: largest batch (None: no limit).

    Returns:
        One `TrainResult` per configuration, in input order (``wall_time`` is the batch's time / batch size).

    Raises:
        ValueError: for an adaptive solver (its step size would be shared across the batch), a datasets list
            of the wrong length, or a bad ``max_batch``.
    """
    configs = list(configs)
    for i, cfg in enumerate(configs):
        if cfg.solver not in FIXED_STEP_SOLVERS:
            raise ValueError(f"configs[{i}].solver = {cfg.solver!r}: batched training needs a fixed-step solver "
                             f"(an adaptive one shares its step size across the batch); allowed: "
                             f"{list(FIXED_STEP_SOLVERS)}")
    if datasets is not None and len(datasets) != len(configs):
        raise ValueError(f"got {len(datasets)} datasets for {len(configs)} configurations; give one each")
    cache: dict = {}
    data = list(datasets) if datasets is not None else [_dataset(c, cache) for c in configs]
    out: list[TrainResult | None] = [None] * len(configs)
    for plan in plan_batches(configs, max_batch):
        torch.manual_seed(configs[plan.indices[0]].seed)  # as train() does; training itself draws nothing
        results = _train_group([configs[i] for i in plan.indices], [data[i] for i in plan.indices], plan.active)
        for i, res in zip(plan.indices, results):
            out[i] = res
            if res.config.output:
                write_result(res, res.config.output)
    return out
