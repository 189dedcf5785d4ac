"""Evaluation protocols for learned vector fields: HNN's README evaluation, reproduced, and symnb's.

A protocol says how a trained field is scored by its energy MSE: which initial states, which solver, which
"energy", which statistics.  Two are registered (`PROTOCOLS`):

* ``"hnn_readme"``: the evaluation behind the numbers of HNN's README (Greydanus et al. 2019;
  ``analyze-spring.ipynb`` cells 17, 20, 21 and ``analyze-pend.ipynb`` cells 17, 19, 20 of
  github.com/greydanus/hamiltonian-nn): 15 initial states drawn from numpy's global generator as left by the
  notebook's earlier cells, ``x0 = rand(2) * 1.6 - 0.8`` pushed out by ``0.2 * sign(x0)`` (so |q|, |p| in
  [0.2, 1]); true and model paths from SciPy's ``solve_ivp`` (RK45, rtol 1e-12, SciPy's default atol 1e-6) on
  [0, 20] with 100 output points; energy ``q**2 + p**2`` (the spring's H, also on the pendulum); one seed, the
  mean over the 15 rollouts with their "bootstrap" error ``std of 5 split means / sqrt(5)``.
  Their spring analysis also rescales time "to compensate for noise effects": it multiplies the caller's
  ``t_span`` and ``t_eval`` by 1 + 0.9 * 0.1 = 1.09 *in place*, so the factor compounds from rollout to rollout
  (`time_rescale`: ``"as_published"`` = ``"compounding"`` on the spring, ``"none"`` on the pendulum, as their
  notebooks do; ``"once"`` and ``"none"`` are the corrected variants).
* ``"symnb"``: the test trajectories' own initial states (the first 15, from the test distribution), fixed-step
  RK4 at the data spacing, the system's true invariant, at least 5 seeds with a Student-t interval.

`evaluate_energy` runs either protocol on one model's field (a callable x (N, d) -> dx/dt (N, d)).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from .ensemble import rk4_rollout

__all__ = ["Protocol", "PROTOCOLS", "TIME_RESCALES", "protocol", "reference_initial_states", "EnergyScore",
           "evaluate_energy", "bootstrap_error", "rescale_horizons"]

TIME_RESCALES = ("as_published", "compounding", "once", "none")
_RESCALE = 1 + 0.9 * 0.1   # their integrate_models: t *= 1 + .9 * noise_std, noise_std = 0.1


@dataclass(frozen=True)
class Protocol:
    """An evaluation protocol (see the module docstring).

    Attributes:
        name: its registry key.
        initial_states: ``"reference_draw"`` (HNN's notebook draw) or ``"test"`` (the test trajectories' x0).
        solver: ``"rk45"`` (SciPy solve_ivp, ``rtol``) or ``"rk4"`` (fixed step at the data spacing).
        energy: ``"q2p2"`` (q**2 + p**2) or ``"invariant"`` (the system's certified first integral).
        statistics: ``"bootstrap"`` (one seed, HNN's split error) or ``"t_interval"`` (over >= ``min_seeds`` seeds).
        time_rescale: one of `TIME_RESCALES` (rk45 only).
        horizon: rollouts on [0, horizon].
        n_rollouts: number of initial states.
        n_points: output points of the rk45 paths.
        rtol: solve_ivp's relative tolerance (atol stays SciPy's default, as in the reference).
        min_seeds: seeds the protocol asks for.
    """

    name: str
    initial_states: str
    solver: str
    energy: str
    statistics: str
    time_rescale: str = "none"
    horizon: float = 20.0
    n_rollouts: int = 15
    n_points: int = 100
    rtol: float = 1e-12
    min_seeds: int = 1

    def __post_init__(self) -> None:
        allowed = {"initial_states": ("reference_draw", "test"), "solver": ("rk45", "rk4"),
                   "energy": ("q2p2", "invariant"), "statistics": ("bootstrap", "t_interval"),
                   "time_rescale": TIME_RESCALES}
        for name, valid in allowed.items():
            if getattr(self, name) not in valid:
                raise ValueError(f"{name} must be one of {list(valid)}, got {getattr(self, name)!r}")
        if self.time_rescale != "none" and self.solver != "rk45":
            raise ValueError(f"time_rescale={self.time_rescale!r} is part of the rk45 (HNN) evaluation; "
                             f"solver={self.solver!r} allows only 'none'")


PROTOCOLS: dict[str, Protocol] = {
    "hnn_readme": Protocol("hnn_readme", "reference_draw", "rk45", "q2p2", "bootstrap", "as_published"),
    "symnb": Protocol("symnb", "test", "rk4", "invariant", "t_interval", min_seeds=5),
}


def protocol(name: str, **changes) -> Protocol:
    """The registered protocol ``name``, optionally with fields changed (e.g. ``time_rescale="none"``).

    Raises:
        ValueError: for an unknown name (listing the valid ones), an unknown field or a value a field does not
            allow.
    """
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; valid: {sorted(PROTOCOLS)}")
    fields = set(Protocol.__dataclass_fields__) - {"name"}
    bad = sorted(set(changes) - fields)
    if bad:
        raise ValueError(f"unknown protocol field(s) {bad}; valid: {sorted(fields)}")
    return replace(PROTOCOLS[name], **changes)


# numpy draws the reference notebooks make before their evaluation loop (after their last np.random.seed(0)):
# spring: get_dataset() (50 x [rand(2), rand(), randn(30), randn(30)]), then get_trajectory(radius=1, y0=...)
# (randn(30) twice); pendulum: get_dataset(radius=2.0) (50 x [rand(2), randn(45), randn(45)]), then
# get_trajectory(t_span=[0, 4], radius=2.1, y0=...) (randn(60) twice).
_DRAWS_BEFORE = {
    "spring": [("rand", 2), ("rand", 1), ("randn", 30), ("randn", 30)] * 50 + [("randn", 30)] * 2,
    "pendulum": [("rand", 2), ("randn", 45), ("randn", 45)] * 50 + [("randn", 60)] * 2,
}


def reference_initial_states(system: str, n: int = 15) -> np.ndarray:
    """The initial states of HNN's evaluation loop (analyze-spring cell 20, analyze-pend cell 19), replayed.

    Args:
        system: ``"spring"`` or ``"pendulum"``.
        n: how many (the README uses 15).

    Returns:
        (n, 2) float64 states with |q|, |p| in [0.2, 1].

    Raises:
        ValueError: for another system or n < 1.
    """
    if system not in _DRAWS_BEFORE:
        raise ValueError(f"reference initial states exist for {sorted(_DRAWS_BEFORE)}; got {system!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    rng = np.random.RandomState(0)
    for kind, size in _DRAWS_BEFORE[system]:
        getattr(rng, kind)(size)
    out = []
    for _ in range(n):
        x0 = rng.rand(2) * 1.6 - 0.8
        out.append(x0 + 0.2 * np.sign(x0))
    return np.array(out)


def rescale_horizons(mode: str, horizon: float, n: int) -> list[tuple[float, float]]:
    """(truth horizon, model horizon) of each of n rollouts under a time-rescale mode.

    ``"compounding"`` replays analyze-spring: cell 18 already rescaled ``t_span`` once (to 21.8), and every call
    of ``integrate_models`` multiplies it again after the true solve, so rollout i compares the truth on
    [0, 20 * 1.09**(i + 1)] with the model on [0, 20 * 1.09**(i + 2)], both at 100 points.  ``"once"``: truth on
    [0, 20], model on [0, 21.8].  ``"none"``: both on [0, 20].

    Raises:
        ValueError: for an unknown mode ("as_published" must be resolved by the caller).
    """
    if mode == "compounding":
        return [(horizon * _RESCALE ** (i + 1), horizon * _RESCALE ** (i + 2)) for i in range(n)]
    if mode == "once":
        return [(horizon, horizon * _RESCALE)] * n
    if mode == "none":
        return [(horizon, horizon)] * n
    raise ValueError(f"mode must be one of ['compounding', 'once', 'none'], got {mode!r}")


@dataclass(frozen=True)
class EnergyScore:
    """One model's energy MSE under a protocol.

    Attributes:
        protocol: the protocol used (time_rescale resolved).
        per_rollout: the energy MSE of each rollout, (n_rollouts,).
        mean: their mean (HNN's reported figure).
        error: HNN's bootstrap error (``statistics == "bootstrap"``), else NaN (intervals are over seeds).
        x0: the initial states used, (n_rollouts, d).
    """

    protocol: Protocol
    per_rollout: np.ndarray
    mean: float
    error: float
    x0: np.ndarray


def bootstrap_error(values: np.ndarray, splits: int = 5) -> float:
    """HNN's error bar: the standard deviation of the means of ``splits`` equal parts, divided by sqrt(splits).

    Raises:
        ValueError: if len(values) is not a positive multiple of ``splits``.
    """
    values = np.asarray(values, dtype=float)
    if splits < 1 or len(values) == 0 or len(values) % splits:
        raise ValueError(f"values: need a positive multiple of splits={splits} entries, got {len(values)}")
    return float(np.std([v.mean() for v in np.split(values, splits)]) / math.sqrt(splits))


def _solve(fun: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, t_end: float, n_points: int,
           rtol: float) -> np.ndarray:
    from scipy.integrate import solve_ivp
    t_eval = np.linspace(0.0, t_end, n_points)
    sol = solve_ivp(lambda _t, y: fun(y), (0.0, t_end), x0, t_eval=t_eval, rtol=rtol)
    if sol.y.shape[1] != n_points:   # an aborted solve (a field that blows up) has no energy on the full grid
        return np.full((n_points, len(x0)), np.nan)
    return sol.y.T


def evaluate_energy(prot: Protocol, model_field: Callable[[torch.Tensor], torch.Tensor],
                    true_field: Callable[[torch.Tensor], torch.Tensor], *, system: str,
                    invariant: Callable[[torch.Tensor], torch.Tensor] | None = None,
                    test_x0: torch.Tensor | None = None, dt: float | None = None,
                    model_dtype: torch.dtype = torch.float32) -> EnergyScore:
    """Energy MSE of one model under protocol ``prot``.

    Args:
        prot: a `Protocol` (from `protocol`).
        model_field: x (N, d) -> the model's dx/dt (N, d), in ``model_dtype``.
        true_field: x (N, d) -> the true dx/dt, float64.
        system: the task name (resolves ``"as_published"`` and the reference draw).
        invariant: x (..., d) -> the true invariant (..., ) (``energy == "invariant"``).
        test_x0: the test trajectories' initial states, (n_test, d) (``initial_states == "test"``).
        dt: the data spacing (``solver == "rk4"``).
        model_dtype: the dtype the model is called in (the reference calls its float32 model with float32 input).

    Returns:
        An `EnergyScore`.

    Raises:
        ValueError: when an argument the protocol needs is missing, before any work.
    """
    if prot.energy == "invariant" and invariant is None:
        raise ValueError("invariant: the protocol's energy is 'invariant'; pass the system's first integral")
    if prot.initial_states == "test" and (test_x0 is None or len(test_x0) < prot.n_rollouts):
        raise ValueError(f"test_x0: the protocol starts from the first {prot.n_rollouts} test states; got "
                         f"{None if test_x0 is None else len(test_x0)}")
    if prot.solver == "rk4" and not (dt and dt > 0):
        raise ValueError(f"dt: the rk4 protocol steps at the data spacing; got {dt!r}")
    mode = prot.time_rescale
    if mode == "as_published":
        mode = "compounding" if system == "spring" else "none"
    x0 = reference_initial_states(system, prot.n_rollouts) if prot.initial_states == "reference_draw" \
        else test_x0[: prot.n_rollouts].detach().to("cpu", torch.float64).numpy()

    def energy(x: np.ndarray) -> np.ndarray:
        if prot.energy == "q2p2":
            return (x ** 2).sum(-1)
        return invariant(torch.from_numpy(x)).numpy()

    if prot.solver == "rk4":
        steps = int(round(prot.horizon / dt))
        xt = torch.from_numpy(x0)
        from scipy.integrate import solve_ivp
        grid = np.arange(steps + 1) * dt
        f_true = lambda _t, y: true_field(torch.from_numpy(y)[None])[0].numpy()  # noqa: E731
        truth = np.stack([solve_ivp(f_true, (0.0, grid[-1]), x, t_eval=grid, method="DOP853", rtol=1e-10,
                                    atol=1e-10).y.T for x in x0], 1)          # (S + 1, n, d), tight reference
        model = rk4_rollout(lambda x: model_field(x.to(model_dtype)).detach().to(torch.float64), xt, steps,
                            dt).numpy()
        per = ((energy(truth) - energy(model)) ** 2).mean(0)
    else:
        f_true = lambda y: true_field(torch.from_numpy(y)[None])[0].numpy()  # noqa: E731
        f_model = lambda y: model_field(torch.from_numpy(y).to(model_dtype)[None])[0].detach().to(  # noqa: E731
            torch.float64).numpy()
        per = []
        for x, (t_true, t_model) in zip(x0, rescale_horizons(mode, prot.horizon, len(x0))):
            truth = _solve(f_true, x, t_true, prot.n_points, prot.rtol)
            model = _solve(f_model, x, t_model, prot.n_points, prot.rtol)
            per.append(float(((energy(truth) - energy(model)) ** 2).mean()))
        per = np.array(per)
    error = bootstrap_error(per) if prot.statistics == "bootstrap" and len(per) % 5 == 0 else float("nan")
    return EnergyScore(replace(prot, time_rescale=mode if prot.solver == "rk45" else "none"), per,
                       float(per.mean()), error, x0)
