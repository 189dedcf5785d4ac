"""Synthetic data for the toy Neural ODE: inputs z(0), targets z(T) from a ground-truth theta*.

Targets come from the closed-form solution where one exists (sigma = cos, every branch; `ToyModel.closed_form`),
checked against a tight float64 dopri5 solve; for other activations the tight solve is the target.  Three sets:
train (noisy targets), test (same input range, clean) and extrapolation (inputs outside the training range, clean).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..toy.model import ToyModel

__all__ = ["DataSpec", "Dataset", "make_dataset"]


@dataclass(frozen=True)
class Dataset:
    """Inputs z(0) and targets z(T) for train / test / extrapolation.

    Attributes:
        train_inputs, train_targets: the training set (targets carry the noise).
        test_inputs, test_targets: clean, inputs drawn from the training range.
        extrap_inputs, extrap_targets: clean, inputs drawn from ``extrap_range``.
        theta_star: the ground truth (theta1*, theta2*).
        horizon: T.
        noise: standard deviation of the Gaussian noise on the training targets.
        closed_form_error: max |closed form - tight solve| over all inputs (0.0 when there is no closed form);
            targets use the closed form where this difference is <= 1e-8, the tight solve elsewhere.
    """

    train_inputs: torch.Tensor
    train_targets: torch.Tensor
    test_inputs: torch.Tensor
    test_targets: torch.Tensor
    extrap_inputs: torch.Tensor
    extrap_targets: torch.Tensor
    theta_star: tuple[float, float]
    horizon: float
    noise: float
    closed_form_error: float


def _check_range(name: str, r: Sequence[float]) -> tuple[float, float]:
    if len(r) != 2 or not all(math.isfinite(float(x)) for x in r) or not float(r[0]) < float(r[1]):
        raise ValueError(f"{name} must be (low, high) with finite low < high, got {tuple(r)!r}")
    return float(r[0]), float(r[1])


@dataclass(frozen=True)
class DataSpec:
    """What data to draw (everything but the seed, which belongs to the run).

    Attributes:
        theta_star: the ground truth (theta1*, theta2*); theta1* != 0.
        n_train, n_test, n_extrap: set sizes (>= 1).
        noise: Gaussian noise std on the training targets (>= 0).
        horizon: T > 0.
        input_range: (low, high) of the training/test inputs.
        extrap_range: (low, high) of the extrapolation inputs.

    Raises:
        ValueError: for non-positive sizes or horizon, negative or non-finite noise, bad ranges or theta* -- at
            construction, before anything is drawn.
    """

    theta_star: tuple[float, float] = (1.0, 0.2)
    n_train: int = 32
    n_test: int = 64
    n_extrap: int = 64
    noise: float = 0.0
    horizon: float = 1.0
    input_range: tuple[float, float] = (-1.0, 1.0)
    extrap_range: tuple[float, float] = (1.5, 2.5)

    def __post_init__(self) -> None:
        for name in ("n_train", "n_test", "n_extrap"):
            n = getattr(self, name)
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {n!r}")
        noise, horizon = self.noise, self.horizon
        if isinstance(noise, bool) or not (isinstance(noise, (int, float)) and math.isfinite(noise) and noise >= 0):
            raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
        if isinstance(horizon, bool) or not (isinstance(horizon, (int, float)) and math.isfinite(horizon)
                                             and horizon > 0):
            raise ValueError(f"horizon must be a finite number > 0, got {horizon!r}")
        ts = self.theta_star
        if len(ts) != 2 or not all(math.isfinite(float(x)) for x in ts) or float(ts[0]) == 0:
            raise ValueError(f"theta_star must be two finite numbers with theta1 != 0, got {tuple(ts)!r}")
        object.__setattr__(self, "theta_star", (float(ts[0]), float(ts[1])))
        object.__setattr__(self, "input_range", _check_range("input_range", self.input_range))
        object.__setattr__(self, "extrap_range", _check_range("extrap_range", self.extrap_range))


def make_dataset(model: ToyModel, theta_star: Sequence[float] = (1.0, 0.2), *, n_train: int = 32,
                 n_test: int = 64, n_extrap: int = 64, noise: float = 0.0, horizon: float = 1.0,
                 input_range: Sequence[float] = (-1.0, 1.0), extrap_range: Sequence[float] = (1.5, 2.5),
                 seed: int = 0) -> Dataset:
    """Draw a dataset for ``model``'s activation from theta* (uniform inputs, seeded).

    Args:
        model: supplies activation, dtype and device.
        theta_star, n_train, n_test, n_extrap, noise, horizon, input_range, extrap_range: as `DataSpec`.
        seed: seed of the torch generator (data only).

    Returns:
        A `Dataset` in the model's dtype on its device.

    Raises:
        ValueError: as `DataSpec`.
    """
    spec = DataSpec(tuple(theta_star), n_train, n_test, n_extrap, noise, horizon, tuple(input_range),
                    tuple(extrap_range))
    theta_star, noise, horizon = spec.theta_star, spec.noise, spec.horizon
    n_train, n_test, n_extrap = spec.n_train, spec.n_test, spec.n_extrap
    (lo, hi), (elo, ehi) = spec.input_range, spec.extrap_range

    gen = torch.Generator().manual_seed(int(seed))
    draw = lambda n, a, b: a + (b - a) * torch.rand(n, generator=gen, dtype=torch.float64)  # noqa: E731
    inputs = [draw(n_train, lo, hi), draw(n_test, lo, hi), draw(n_extrap, elo, ehi)]
    theta = torch.tensor([float(x) for x in theta_star], dtype=torch.float64)
    times = torch.tensor([0.0, float(horizon)], dtype=torch.float64)
    tight = ToyModel(model.activation, "dopri5", rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        solved = [tight.solve(x, theta, times)[-1] for x in inputs]
        if model.activation == "cos":
            closed = [tight.closed_form(x, theta, times)[-1] for x in inputs]
            diffs = [(a - b).abs() for a, b in zip(closed, solved)]
            # the closed form is used where valid: finite and within 1e-8 of the tight solve (it is not on a fixed
            # point or at theta1 = 0); elsewhere the solve is the target
            targets = [torch.where(d <= 1e-8, a, b) for a, b, d in zip(closed, solved, diffs)]
            error = max(float(torch.nan_to_num(d, nan=float("inf")).max()) for d in diffs)
        else:
            targets, error = solved, 0.0
    noisy = targets[0] + float(noise) * torch.randn(n_train, generator=gen, dtype=torch.float64)
    cast = model.tensor
    return Dataset(cast(inputs[0]), cast(noisy), cast(inputs[1]), cast(targets[1]), cast(inputs[2]),
                   cast(targets[2]), (float(theta_star[0]), float(theta_star[1])), float(horizon), float(noise),
                   error)
