"""Training the toy Neural ODE with the loss of eq 43, with divergence detection and an atomic JSON result.

`TrainConfig` holds every knob (the notebook's ``parameters`` cell maps onto it one to one) and validates them
at construction -- before any data is drawn or any file written.  `train` runs Adam on theta = (theta1, theta2),
records every term at every step, and stops at the first non-finite loss or gradient with `TrainingDiverged`,
which names the step, the term that first went non-finite and theta at that moment.  `write_result` writes the
run as JSON atomically (temporary file in the same directory, then ``os.replace``) -- the unit that sweeps collect.
"""
from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
from tqdm import tqdm   # plain tqdm: tqdm.auto warns on stderr in kernels without ipywidgets

from ..core.io import atomic_write_json
from ..toy.data import Dataset, make_dataset
from ..toy.loss import (DERIVATIVES, FORMULATIONS, TERMS, LossConstants, LossValues, combined_loss, loss_terms,
                     weights_tensor)
from ..toy.model import ToyModel

__all__ = ["TrainConfig", "TrainResult", "TrainingDiverged", "train", "write_result", "read_result", "final_mse",
           "first_nonfinite_value", "first_nonfinite_gradient"]

_WEIGHTS = ("a1", "a2", "a3", "a4", "a5", "a6")
_CONSTANTS = tuple(f.name for f in fields(LossConstants))


@dataclass(frozen=True)
class TrainConfig:
    """One training run (the notebook's ``parameters`` cell).

    Attributes:
        device, dtype, activation, solver, rtol, atol, adjoint: the model (`ToyModel`).
        epochs: number of Adam steps (>= 0); lr: learning rate (> 0).
        n_train, n_test, n_extrap, noise, seed, horizon, theta_star, input_range, extrap_range: the data.
        theta_init: the starting theta.
        a1..a6: the weights of eq 43 (>= 0, finite).
        eps, c1, c2, c3, k2..k6: eq 42's constants.
        n_grid: points of the time grid 0..T on which the regularizers are evaluated (>= 2).
        derivative: "closed" or "autograd"; formulation: "printed" or "guarded".
        output: path of the JSON result ("" for none).

    Raises:
        ValueError: for any invalid value (one clear message naming it and what is allowed).
    """

    device: str = "cpu"
    dtype: str = "float64"
    activation: str = "cos"
    solver: str = "dopri5"
    rtol: float = 1e-6
    atol: float = 1e-8
    adjoint: bool = False
    epochs: int = 100
    lr: float = 0.05
    n_train: int = 32
    n_test: int = 64
    n_extrap: int = 64
    noise: float = 0.01
    seed: int = 0
    horizon: float = 1.0
    theta_star: tuple[float, float] = (1.0, 0.2)
    theta_init: tuple[float, float] = (0.5, -0.3)
    input_range: tuple[float, float] = (-1.0, 1.0)
    extrap_range: tuple[float, float] = (1.5, 2.5)
    a1: float = 0.0
    a2: float = 0.0
    a3: float = 0.0
    a4: float = 0.0
    a5: float = 0.0
    a6: float = 0.0
    eps: float = 0.1
    c1: float = 1.0
    c2: float = 1.0
    c3: float = 1.0
    k2: float = 1.0
    k3: float = 1.0
    k4: float = 1.0
    k5: float = 1.0
    k6: float = 1.0
    n_grid: int = 11
    derivative: str = "closed"
    formulation: str = "printed"
    output: str = ""

    def __post_init__(self) -> None:
        for name in ("theta_star", "theta_init", "input_range", "extrap_range"):
            object.__setattr__(self, name, tuple(float(x) for x in getattr(self, name)))
        for name in ("epochs", "n_train", "n_test", "n_extrap", "n_grid", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        if self.epochs < 0:
            raise ValueError(f"epochs must be >= 0, got {self.epochs}")
        if self.n_grid < 2:
            raise ValueError(f"n_grid must be >= 2 (the grid includes 0 and T), got {self.n_grid}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        for name in _WEIGHTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0:
                raise ValueError(f"weight {name} must be a finite number >= 0, got {value!r}")
        if len(self.theta_init) != 2 or not all(math.isfinite(x) for x in self.theta_init):
            raise ValueError(f"theta_init must be two finite numbers, got {self.theta_init!r}")
        if self.derivative not in DERIVATIVES:
            raise ValueError(f"unknown derivative {self.derivative!r}; valid: {list(DERIVATIVES)}")
        if self.formulation not in FORMULATIONS:
            raise ValueError(f"unknown formulation {self.formulation!r}; valid: {list(FORMULATIONS)}")
        self.constants  # validates eq 42's constants
        self.model      # validates device (cuda absent -> error), dtype, solver, activation, tolerances
        # the data's own checks, on a throw-away one-sample draw (cheap), so that nothing fails after start
        make_dataset(ToyModel(self.activation), self.theta_star, n_train=1, n_test=1, n_extrap=1,
                     noise=self.noise, horizon=self.horizon, input_range=self.input_range,
                     extrap_range=self.extrap_range)

    @property
    def model(self) -> ToyModel:
        """The `ToyModel` this configuration describes."""
        return ToyModel(self.activation, self.solver, self.rtol, self.atol, bool(self.adjoint), self.device,
                        self.dtype)

    @property
    def constants(self) -> LossConstants:
        """Eq 42's constants."""
        return LossConstants(**{name: getattr(self, name) for name in _CONSTANTS})

    @property
    def weights(self) -> tuple[float, ...]:
        """(a1, ..., a6)."""
        return tuple(float(getattr(self, name)) for name in _WEIGHTS)

    def replace(self, **changes) -> "TrainConfig":
        """A copy with some fields changed (validated again)."""
        return TrainConfig(**{**asdict(self), **changes})


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
        label = "MSE" if term == "mse" else f"MSE_{term} (weight {TERMS[term].weight})"
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
        train_mse, test_mse, extrap_mse: MSE of the final model on the three sets (clean targets for test/extrap).
        param_error: ||theta - theta*||_2.
        wall_time: seconds for the training loop; time_per_step: wall_time / steps taken.
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
        """A JSON-ready dict (non-finite numbers become null)."""
        return _finite(asdict(self))


def _finite(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def first_nonfinite_value(values: LossValues, active: Sequence[str]) -> str | None:
    """The first of "mse" and the ``active`` term names whose value is not finite, or None if all are."""
    if not torch.isfinite(values.mse).all():
        return "mse"
    for name in active:
        if not torch.isfinite(values.term(name)).all():
            return name
    return None


def first_nonfinite_gradient(cfg: TrainConfig, data: Dataset, theta: torch.Tensor, times: torch.Tensor,
                             active: Sequence[str]) -> str:
    """The first weighted term whose gradient at ``theta`` is not finite ("total" if none alone is).

    Recomputes the forward pass at ``theta`` and differentiates each weighted term on its own.
    """
    model, weights = cfg.model, cfg.weights
    probe = theta.detach().clone().requires_grad_(True)
    values = loss_terms(model, data.train_inputs, data.train_targets, probe, times, cfg.constants, terms=active,
                        derivative=cfg.derivative, formulation=cfg.formulation)
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
    torch.manual_seed(config.seed)
    model = config.model
    if data is None:
        data = make_dataset(model, config.theta_star, n_train=config.n_train, n_test=config.n_test,
                            n_extrap=config.n_extrap, noise=config.noise, horizon=config.horizon,
                            input_range=config.input_range, extrap_range=config.extrap_range, seed=config.seed)
    times = torch.linspace(0.0, config.horizon, config.n_grid, dtype=model.torch_dtype, device=model.torch_device)
    theta = model.tensor(config.theta_init).clone().requires_grad_(True)
    weights = weights_tensor(config.weights, theta.detach())
    active = [name for name, a in zip(TERMS, config.weights) if a > 0]
    optimizer = torch.optim.Adam([theta], lr=config.lr)
    history: dict[str, list[float]] = {name: [] for name in ["mse", *active, "total"]}
    divergence: dict = {}
    steps = 0
    start = time.perf_counter()
    for step in tqdm(range(config.epochs), disable=not progress, desc="train", leave=False):
        optimizer.zero_grad()
        values = loss_terms(model, data.train_inputs, data.train_targets, theta, times, config.constants,
                            terms=active, derivative=config.derivative, formulation=config.formulation)
        loss = combined_loss(values, weights)
        history["mse"].append(float(values.mse.detach()))
        for name in active:
            history[name].append(float(values.term(name).detach()))
        history["total"].append(float(loss.detach()))
        bad = first_nonfinite_value(values, active)
        stage = "loss"
        if bad is None:
            loss.backward()
            if not torch.isfinite(theta.grad).all():
                bad, stage = first_nonfinite_gradient(config, data, theta, times, active), "gradient"
        if bad is not None:
            divergence = {"step": step, "term": bad, "stage": stage}
            break
        optimizer.step()
        steps += 1
    wall = time.perf_counter() - start
    final = theta.detach()
    theta_out = (float(final[0]), float(final[1]))
    star = model.tensor(data.theta_star)
    result = TrainResult(
        config=config, status="diverged" if divergence else "ok", history=history, theta=theta_out,
        train_mse=final_mse(model, final, data.train_inputs, data.train_targets, data.horizon),
        test_mse=final_mse(model, final, data.test_inputs, data.test_targets, data.horizon),
        extrap_mse=final_mse(model, final, data.extrap_inputs, data.extrap_targets, data.horizon),
        param_error=float(torch.linalg.vector_norm(final - star)), wall_time=wall,
        time_per_step=wall / max(steps + bool(divergence), 1), device=str(model.torch_device),
        divergence=divergence)
    if config.output:
        write_result(result, config.output)
    if divergence and raise_on_divergence:
        raise TrainingDiverged(divergence["step"], divergence["term"], divergence["stage"], theta_out)
    return result


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
