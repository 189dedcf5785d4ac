"""Training the toy Neural ODE with the loss of eq 43: one configuration or a batch of them, through `fit`.

`TrainConfig` is composed of parts -- the model (`symnb.toy.model.ToyModel`), the data (`DataSpec`), the loss
(`LossSpec`: weights a1..a6 by name, eq 42's constants, grid, derivative, formulation) and the optimizer
(`OptimSpec`) -- plus the seed and the output path; each part validates itself at construction, before any data is
drawn or any file written.  The notebook's flat ``parameters`` (``a1``, ``eps``, ``n_train``, ...) map onto the
parts through `TrainConfig.from_params` and back through `TrainConfig.params`; the names come from the parts'
own fields, so nothing is listed twice.

`train` (one configuration) and `train_batched` (B configurations that can share a solve) are the same code:
`_train_rows` builds the loss of eq 43 for the rows and hands it to the one loop, `symnb.train.loop.fit`.  Why the
batched rows equal per-configuration runs, and under which conditions:

* the solver must take fixed steps (rk4, euler, midpoint): an adaptive solver chooses one step size for the
  whole batch, so a row's steps would depend on the other rows;
* a batch holds configurations with the same set of non-zero weights: evaluating a term whose weight is 0 is
  not harmless, because 0 * inf = nan in the loss and the chain rule propagates 0 * nan into the gradient;
* a configuration whose loss or gradient turns non-finite is frozen at that step (`fit`) and recorded as diverged.

What may differ is floating-point rounding of reductions in batched kernels; tests/test_batched.py bounds it.
`write_result` writes a run as JSON atomically -- the unit that sweeps collect.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import torch

from ..core.io import atomic_write_json
from ..toy.data import Dataset, DataSpec, make_dataset
from ..toy.loss import (TERMS, WEIGHTS, LossConstants, LossSpec, LossValues, check_activation, combined_loss,
                        loss_terms, weights_tensor)
from ..toy.model import ToyModel
from .loop import fit

__all__ = ["OptimSpec", "TrainConfig", "TrainResult", "TrainingDiverged", "train", "train_batched", "plan_batches",
           "BatchPlan", "FIXED_STEP_SOLVERS", "write_result", "read_result", "final_mse"]

FIXED_STEP_SOLVERS = ("rk4", "euler", "midpoint")


@dataclass(frozen=True)
class OptimSpec:
    """Adam on theta = (theta1, theta2).

    Attributes:
        epochs: number of Adam steps (>= 0).
        lr: learning rate (finite, > 0).
        theta_init: the starting theta (two finite numbers).

    Raises:
        ValueError: for a bad value, naming it.
    """

    epochs: int = 100
    lr: float = 0.05
    theta_init: tuple[float, float] = (0.5, -0.3)

    def __post_init__(self) -> None:
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 0:
            raise ValueError(f"epochs must be an integer >= 0, got {self.epochs!r}")
        if isinstance(self.lr, bool) or not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr)
                                             and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        th = tuple(float(x) for x in self.theta_init)
        if len(th) != 2 or not all(math.isfinite(x) for x in th):
            raise ValueError(f"theta_init must be two finite numbers, got {self.theta_init!r}")
        object.__setattr__(self, "theta_init", th)


# flat parameter name -> (part, field): derived from the parts' own fields
_CONSTANT_NAMES = tuple(f.name for f in fields(LossConstants))
_LOSS_FIELDS = tuple(f.name for f in fields(LossSpec) if f.name not in ("weights", "constants"))
_FLAT: dict[str, tuple[str, str]] = {
    **{f.name: ("model", f.name) for f in fields(ToyModel)},
    **{f.name: ("optim", f.name) for f in fields(OptimSpec)},
    **{f.name: ("data", f.name) for f in fields(DataSpec)},
    **{name: ("weights", name) for name in WEIGHTS},
    **{name: ("constants", name) for name in _CONSTANT_NAMES},
    **{name: ("loss", name) for name in _LOSS_FIELDS},
    "seed": ("run", "seed"),
    "output": ("run", "output"),
}


@dataclass(frozen=True)
class TrainConfig:
    """One training run, composed of its parts.

    Attributes:
        model: the toy model and how to solve it (device, dtype, activation, solver, tolerances, adjoint).
        data: what data to draw (`DataSpec`; noise 0.01 by default).
        loss: the loss of eq 43 (`LossSpec`).
        optim: Adam (`OptimSpec`).
        seed: seeds the data draw and torch.
        output: path of the JSON result ("" for none).

    Raises:
        ValueError: for an invalid value (each part names it), a seed that is not an integer, or a part of the
            wrong type.
    """

    model: ToyModel = ToyModel()
    data: DataSpec = DataSpec(noise=0.01)
    loss: LossSpec = LossSpec()
    optim: OptimSpec = OptimSpec()
    seed: int = 0
    output: str = ""

    def __post_init__(self) -> None:
        for name, kind in (("model", ToyModel), ("data", DataSpec), ("loss", LossSpec), ("optim", OptimSpec)):
            if not isinstance(getattr(self, name), kind):
                raise ValueError(f"{name} must be a {kind.__name__}, got {getattr(self, name)!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if not isinstance(self.output, str):
            raise ValueError(f"output must be a path string ('' for none), got {self.output!r}")
        if self.loss.active:
            check_activation(self.model.activation)

    # ---- the flat view (notebook parameters, sweep grids)
    @classmethod
    def from_params(cls, **params) -> "TrainConfig":
        """Build a configuration from flat parameters (the names of `TrainConfig.params`); others default.

        Raises:
            ValueError: for an unknown name (listing the valid ones) or an invalid value.
        """
        unknown = sorted(set(params) - set(_FLAT))
        if unknown:
            raise ValueError(f"unknown training parameter(s) {unknown}; valid: {sorted(_FLAT)}")
        base = cls()
        parts: dict[str, dict] = {"model": {}, "optim": {}, "data": {}, "weights": {}, "constants": {}, "loss": {},
                                  "run": {}}
        for name, value in params.items():
            part, key = _FLAT[name]
            parts[part][key] = value
        loss = base.loss
        weights = {**dict(loss.weights), **parts["weights"]}
        constants = replace(loss.constants, **parts["constants"]) if parts["constants"] else loss.constants
        return cls(model=replace(base.model, **parts["model"]), data=replace(base.data, **parts["data"]),
                   loss=replace(loss, weights=tuple(weights.items()), constants=constants, **parts["loss"]),
                   optim=replace(base.optim, **parts["optim"]), **parts["run"])

    @property
    def params(self) -> dict[str, object]:
        """Every parameter, flat, fully resolved (tuples as lists: JSON-ready)."""
        out: dict[str, object] = {}
        for name, (part, key) in _FLAT.items():
            if part == "weights":
                value = dict(self.loss.weights)[key]
            elif part == "constants":
                value = getattr(self.loss.constants, key)
            elif part == "run":
                value = getattr(self, key)
            else:
                value = getattr(getattr(self, part), key)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some flat parameters changed (validated again)."""
        return TrainConfig.from_params(**{**self.params, **changes})

    def dataset(self) -> Dataset:
        """The run's data: `make_dataset` with this configuration's model, data part and seed."""
        return make_dataset(self.model, seed=self.seed, **asdict(self.data))


class TrainingDiverged(RuntimeError):
    """A non-finite loss or gradient stopped training.

    Attributes:
        step: the Adam step (0-based) at which it happened.
        term: "mse" or a key of `TERMS` -- the first term whose value (or gradient) was non-finite.
        stage: "loss" or "gradient".
        theta: theta at that moment (before the step).
    """

    def __init__(self, step: int, term: str, stage: str, theta: tuple[float, float]):
        self.step, self.term, self.stage, self.theta = step, term, stage, tuple(theta)
        label = "MSE" if term in ("mse", "total") else f"MSE_{term} (weight {TERMS[term].weight})"
        super().__init__(f"training diverged at step {step}: the {stage} of {label} is the first non-finite "
                         f"value; theta = ({theta[0]:.6g}, {theta[1]:.6g})")


@dataclass(frozen=True)
class TrainResult:
    """What a run produced (what `write_result` stores).

    Attributes:
        config: the configuration.
        status: "ok" or "diverged".
        history: per term ("mse", active terms, "total"), its value at every step.
        theta: final theta (at divergence: theta when it happened).
        train_mse: MSE of the final model on the training set.
        test_mse: the same on the test set (clean targets).
        extrap_mse: the same on the extrapolation set (clean targets).
        param_error: ||theta - theta*||_2.
        wall_time: seconds for the training loop (batched: the batch's time / batch size);
            time_per_step: wall_time / steps taken.
        device: the torch device it ran on.
        divergence: step, term, stage of the divergence ({} if none).
    """

    config: TrainConfig
    status: str
    history: dict
    theta: tuple[float, float]
    train_mse: float
    test_mse: float
    extrap_mse: float
    param_error: float
    wall_time: float
    time_per_step: float
    device: str
    divergence: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """A JSON-ready dict: the configuration as flat parameters; non-finite numbers become null."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["config"] = self.config.params
        return _finite(out)


def _finite(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _first_nonfinite_gradient(cfg: TrainConfig, data: Dataset, theta: torch.Tensor, times: torch.Tensor,
                              active: Sequence[str]) -> str:
    """The first weighted term whose gradient at ``theta`` is not finite ("total" if none alone is).

    Recomputes the forward pass at ``theta`` for this one configuration and differentiates each weighted term on
    its own.
    """
    model, weights = cfg.model, cfg.loss.weight_values
    probe = theta.detach().clone().requires_grad_(True)
    values = loss_terms(model, data.train_inputs, data.train_targets, probe, times, cfg.loss.constants,
                        terms=list(active), derivative=cfg.loss.derivative, formulation=cfg.loss.formulation)
    parts = [("mse", values.mse)] + [(n, weights[list(TERMS).index(n)] * values.term(n)) for n in active]
    for name, part in parts:
        (g,) = torch.autograd.grad(part, probe, retain_graph=True, allow_unused=True)
        if g is not None and not torch.isfinite(g).all():
            return name
    return "total"


def final_mse(model: ToyModel, theta: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor,
              horizon: float) -> float:
    """MSE of z(horizon) against ``targets``, solved from ``inputs`` with the model's own solver (no gradient)."""
    with torch.no_grad():
        times = model.tensor([0.0, horizon])
        return float(((model.solve(inputs, theta, times)[-1] - targets) ** 2).mean())


def _terms(values: LossValues) -> dict[str, torch.Tensor]:
    return {"mse": values.mse, **dict(values.terms)}


def _train_rows(cfgs: Sequence[TrainConfig], datas: Sequence[Dataset], *, batched: bool,
                progress: bool = False) -> list[TrainResult]:
    """Train ``cfgs`` (one, or a batch sharing everything but data, start point and weights) with `fit`."""
    first = cfgs[0]
    model, spec = first.model, first.loss
    active = spec.active
    if batched:
        inputs = torch.stack([d.train_inputs for d in datas])
        targets = torch.stack([d.train_targets for d in datas])
        theta0, weights0 = [c.optim.theta_init for c in cfgs], [c.loss.weight_values for c in cfgs]
    else:
        inputs, targets = datas[0].train_inputs, datas[0].train_targets
        theta0, weights0 = first.optim.theta_init, spec.weight_values
    times = torch.linspace(0.0, first.data.horizon, spec.n_grid, dtype=model.torch_dtype, device=model.torch_device)
    theta = model.tensor(theta0).clone().requires_grad_(True)
    weights = weights_tensor(weights0, theta.detach())

    def loss_fn(th: torch.Tensor):
        values = loss_terms(model, inputs, targets, th, times, spec.constants, terms=list(active),
                            derivative=spec.derivative, formulation=spec.formulation)
        return combined_loss(values, weights), _terms(values)

    def attribute(b: int) -> str:
        row = theta.detach()[b] if batched else theta.detach()
        return _first_nonfinite_gradient(cfgs[b], datas[b], row, times, active)

    torch.manual_seed(first.seed)  # training draws nothing; kept so that every run starts from the same RNG state
    fitted = fit(loss_fn, theta, steps=first.optim.epochs, lr=first.optim.lr, attribute_gradient=attribute,
                 progress=progress)
    n = len(cfgs)
    results = []
    for b, (cfg, data) in enumerate(zip(cfgs, datas)):
        final = fitted.params[b] if batched else fitted.params
        history = fitted.history[b]
        divergence = fitted.divergence[b]
        wall = fitted.wall_time / n
        star = model.tensor(data.theta_star)
        results.append(TrainResult(
            config=cfg, status="diverged" if divergence else "ok", history=history,
            theta=(float(final[0]), float(final[1])),
            train_mse=final_mse(model, final, data.train_inputs, data.train_targets, data.horizon),
            test_mse=final_mse(model, final, data.test_inputs, data.test_targets, data.horizon),
            extrap_mse=final_mse(model, final, data.extrap_inputs, data.extrap_targets, data.horizon),
            param_error=float(torch.linalg.vector_norm(final - star)), wall_time=wall,
            time_per_step=wall / max(fitted.steps[b] + bool(divergence), 1), device=str(model.torch_device),
            divergence=dict(divergence)))
    return results


def train(config: TrainConfig, *, data: Dataset | None = None, progress: bool = True,
          raise_on_divergence: bool = True) -> TrainResult:
    """Train theta with Adam on L_new (eq 43) and evaluate it.

    Args:
        config: the run.
        data: a dataset to use instead of drawing one from the config (same seed -> same data anyway).
        progress: show a tqdm bar (tqdm also honours TQDM_DISABLE=1).
        raise_on_divergence: raise `TrainingDiverged` (after writing the result with status "diverged");
            if False, return that result instead.

    Returns:
        A `TrainResult` (also written to ``config.output`` if set).

    Raises:
        TrainingDiverged: at the first non-finite loss or gradient (if ``raise_on_divergence``).
    """
    data = config.dataset() if data is None else data
    (result,) = _train_rows([config], [data], batched=False, progress=progress)
    if config.output:
        write_result(result, config.output)
    if result.divergence and raise_on_divergence:
        d = result.divergence
        raise TrainingDiverged(d["step"], d["term"], d["stage"], result.theta)
    return result


# ------------------------------------------------------------------------------------------------ batches
@dataclass(frozen=True)
class BatchPlan:
    """Configurations (indices into the input list) that can train together, and the terms they evaluate."""

    indices: tuple[int, ...]
    active: tuple[str, ...]


# Parameters that may differ inside one batch: they only enter the data, the start point or the weights.
_BATCHED = frozenset({"seed", "noise", "theta_star", "theta_init", *WEIGHTS, "output"})


def _shared_key(cfg: TrainConfig) -> tuple:
    return tuple((k, repr(v)) for k, v in cfg.params.items() if k not in _BATCHED) + (("active", cfg.loss.active),)


def plan_batches(configs: Sequence[TrainConfig], max_batch: int | None = None) -> list[BatchPlan]:
    """Group configurations that can share one solve: equal in every parameter except seed, noise, theta*,
    theta_init, the weights and the output, and with the same set of non-zero weights.

    Args:
        configs: the runs.
        max_batch: split groups larger than this (None: no limit).

    Returns:
        Batches in order of first appearance; every index appears once.

    Raises:
        ValueError: for ``max_batch < 1``.
    """
    if max_batch is not None and (isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1):
        raise ValueError(f"max_batch must be an integer >= 1 or None, got {max_batch!r}")
    groups: dict[tuple, list[int]] = {}
    for i, cfg in enumerate(configs):
        groups.setdefault(_shared_key(cfg), []).append(i)
    out = []
    for idx in groups.values():
        size = max_batch or len(idx)
        out.extend(BatchPlan(tuple(idx[k:k + size]), configs[idx[0]].loss.active) for k in range(0, len(idx), size))
    return out


def train_batched(configs: Sequence[TrainConfig], *, datasets: Sequence[Dataset] | None = None,
                  max_batch: int | None = None) -> list[TrainResult]:
    """Train every configuration, batching those that can share a solve (`plan_batches`) -- `train`'s code with
    B > 1 rows.

    Each result equals ``train(config, raise_on_divergence=False)`` up to floating-point rounding (the test
    bounds it); results with ``config.output`` set are written with `write_result`.

    Args:
        configs: the runs; all must use a fixed-step solver.
        datasets: one per configuration (default: drawn from each config; configurations with equal data
            and seed share one draw).
        max_batch: largest batch (None: no limit).

    Returns:
        One `TrainResult` per configuration, in input order (``wall_time`` is the batch's time / batch size).

    Raises:
        ValueError: for an adaptive solver (its step size would be shared across the batch), a datasets list
            of the wrong length, or a bad ``max_batch`` -- before any training.
    """
    configs = list(configs)
    for i, cfg in enumerate(configs):
        if cfg.model.solver not in FIXED_STEP_SOLVERS:
            raise ValueError(f"configs[{i}]: solver {cfg.model.solver!r}: batched training needs a fixed-step "
                             f"solver (an adaptive one shares its step size across the batch); allowed: "
                             f"{list(FIXED_STEP_SOLVERS)}")
    if datasets is not None and len(datasets) != len(configs):
        raise ValueError(f"got {len(datasets)} datasets for {len(configs)} configurations; give one each")
    plans = plan_batches(configs, max_batch)
    if datasets is None:
        draws: dict[tuple, Dataset] = {}
        datasets = []
        for c in configs:
            key = (c.model.activation, c.model.dtype, c.model.device, c.data, c.seed)
            if key not in draws:
                draws[key] = c.dataset()
            datasets.append(draws[key])
    out: list[TrainResult | None] = [None] * len(configs)
    for plan in plans:
        results = _train_rows([configs[i] for i in plan.indices], [datasets[i] for i in plan.indices], batched=True)
        for i, res in zip(plan.indices, results):
            out[i] = res
            if res.config.output:
                write_result(res, res.config.output)
    return out


def write_result(result: TrainResult, path: str | os.PathLike) -> Path:
    """Write ``result`` as JSON atomically (`symnb.core.io.atomic_write_json`), creating its directory.

    Returns:
        The path written.
    """
    return atomic_write_json(path, result.to_json(), make_parents=True)


def read_result(path: str | os.PathLike) -> dict:
    """Load a result written by `write_result` (a plain dict, as the sweep collects it)."""
    with open(path) as fh:
        return json.load(fh)
