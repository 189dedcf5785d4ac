"""Benchmark data for learned vector fields: HNN's spring and pendulum, Lotka-Volterra, planar Kepler.

Every data set is generated here, from a `symnb.core.systems` system (its right-hand side reaches torch through
`symnb.core.bridge.to_torch`), with seeded float64 torchdiffeq dopri5 solves at rtol = atol = 1e-10; nothing
is downloaded.  The recipe is HNN's (Greydanus et al. 2019, ``experiment-*/data.py``): sample initial states,
solve, record the exact derivative dx/dt = f(x) at the clean states, then add Gaussian noise to the states only;
the first half of the trajectories trains, the second half tests.  Each seed draws its own data set (HNN seeds
data and network together), so a `Task` holds E data sets stacked along a leading dimension.

Settings (`TASKS`):

* ``spring``: q' = 2p, p' = -2q (H = q**2 + p**2), radius of (q, p) ~ U[0.1, 1], t in [0, 3] at 30 points,
  noise 0.1; 25 train / 25 test trajectories (HNN README).
* ``pendulum``: q' = 2p, p' = -3 sin q (H = 3(1 - cos q) + p**2), radius ~ U[1.3, 2.3], 45 points, noise 0.1.
* ``lotka_volterra``: x' = x - xy, y' = -y + xy, (x0, y0) ~ U[0.5, 2]**2, t in [0, 10] at 100 points, noise 0.05
  (COMET's setting, Kasim & Lim 2022: 100 trajectories; fewer by default on the CPU, see `task`).
* ``kepler``: the planar one-body Kepler problem (k = 1), a documented subset of HNN's two-body task (the
  relative motion): r0 ~ U[0.5, 1.5] at a uniform angle, speed sqrt(k/r0) U[0.8, 1.0] perpendicular to r0
  (bound, mildly eccentric orbits), t in [0, 5] at 50 points, noise 0.05.

Rollouts run to ten times the training horizon with fixed-step RK4 at the data spacing; the reference
trajectories on that grid come from the same tight dopri5 solve.

Two data generators (`GENERATORS`): ``"torch"`` (the default above: one torch generator per seed) and
``"reference"`` (spring and pendulum only): the draw sequence of HNN's ``experiment-*/data.py`` -- numpy seeded
with the seed, per trajectory a direction ``rand(2) * 2 - 1``, a radius ``rand() * (hi - lo) + lo``, a SciPy
``solve_ivp`` (RK45, rtol 1e-10, SciPy's default atol) on ``linspace(0, 3, n_points)``, then ``randn`` noise on q
and on p -- so that seed s gives the reference code's seed-s data set.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import torch
from torchdiffeq import odeint

from ..core.ode import ODESystem
from ..core.systems import textbook_system

__all__ = ["TaskSpec", "TASKS", "GENERATORS", "Task", "task", "system_field"]

GENERATORS = ("torch", "reference")
# The reference generator's radius range per task (HNN's data.py: spring rand() * 0.9 + 0.1, pendulum rand() + 1.3).
_REFERENCE_RADIUS = {"spring": (0.1, 1.0), "pendulum": (1.3, 2.3)}


def _radius_ic(lo: float, hi: float) -> Callable[[int, torch.Generator], torch.Tensor]:
    """HNN's initial states: a uniform direction in (q, p) scaled to a radius ~ U[lo, hi]."""
    def sample(n: int, gen: torch.Generator) -> torch.Tensor:
        y = torch.rand(n, 2, generator=gen, dtype=torch.float64) * 2 - 1
        r = torch.rand(n, 1, generator=gen, dtype=torch.float64) * (hi - lo) + lo
        return y / y.norm(dim=1, keepdim=True) * r
    return sample


def _box_ic(lo: float, hi: float, dim: int) -> Callable[[int, torch.Generator], torch.Tensor]:
    def sample(n: int, gen: torch.Generator) -> torch.Tensor:
        return torch.rand(n, dim, generator=gen, dtype=torch.float64) * (hi - lo) + lo
    return sample


def _orbit_ic(n: int, gen: torch.Generator) -> torch.Tensor:
    r = torch.rand(n, generator=gen, dtype=torch.float64) + 0.5
    phi = torch.rand(n, generator=gen, dtype=torch.float64) * 2 * math.pi
    speed = (1.0 / r).sqrt() * (0.8 + 0.2 * torch.rand(n, generator=gen, dtype=torch.float64))
    pos = torch.stack([r * phi.cos(), r * phi.sin()], -1)
    vel = torch.stack([-phi.sin(), phi.cos()], -1) * speed[:, None]
    return torch.cat([pos, vel], -1)


@dataclass(frozen=True)
class TaskSpec:
    """A benchmark setting.

    Attributes:
        system: name of the `symnb.core.systems` system.
        values: its parameter values.
        sample_ic: ``(n, generator) -> (n, d)`` initial states.
        t_end: training horizon [0, t_end].
        n_points: samples per trajectory (including t = 0).
        noise: standard deviation of the Gaussian noise on the states.
        n_traj: total trajectories (half train, half test).
        source: where the setting comes from.
    """

    system: str
    values: Mapping[str, float]
    sample_ic: Callable[[int, torch.Generator], torch.Tensor] = field(repr=False)
    t_end: float
    n_points: int
    noise: float
    n_traj: int
    source: str


TASKS: dict[str, TaskSpec] = {
    "spring": TaskSpec("hnn_spring", {}, _radius_ic(0.1, 1.0), 3.0, 30, 0.1, 50, "HNN (Greydanus et al. 2019)"),
    "pendulum": TaskSpec("hnn_pendulum", {"g": 3}, _radius_ic(1.3, 2.3), 3.0, 45, 0.1, 50,
                         "HNN (Greydanus et al. 2019)"),
    "lotka_volterra": TaskSpec("lotka_volterra", {"alpha": 1, "beta": 1, "gamma": 1, "delta": 1},
                               _box_ic(0.5, 2.0, 2), 10.0, 100, 0.05, 200, "COMET (Kasim & Lim 2022)"),
    "kepler": TaskSpec("kepler_planar", {"k": 1}, _orbit_ic, 5.0, 50, 0.05, 50,
                       "subset of HNN's two-body task (relative motion)"),
}


@dataclass(frozen=True)
class Task:
    """E seeded data sets of one setting (leading dimension E = len(seeds)).

    Attributes:
        name: the `TASKS` key.
        system: the numeric `ODESystem` the data come from.
        seeds: one data seed per row.
        times: the training time grid (n_points,).
        train_x, train_dx: noisy states and exact derivatives, shape (E, n_train * n_points, d).
        test_x, test_dx: the same for the test trajectories.
        test_x0: clean initial states of the test trajectories, (E, n_test, d).
        dt: rollout step (the data spacing).
        rollout_times: (S + 1,) = 0, dt, ..., 10 t_end.
        rollout_truth: reference states on that grid, (S + 1, E, n_test, d).
    """

    name: str
    system: ODESystem
    seeds: tuple[int, ...]
    times: torch.Tensor
    train_x: torch.Tensor
    train_dx: torch.Tensor
    test_x: torch.Tensor
    test_dx: torch.Tensor
    test_x0: torch.Tensor
    dt: float
    rollout_times: torch.Tensor
    rollout_truth: torch.Tensor

    @property
    def dim(self) -> int:
        return len(self.system.states)

    def subset(self, rows: Sequence[int]) -> "Task":
        """The data sets of the given rows (indices into ``seeds``), e.g. to train one seed alone.

        Raises:
            ValueError: for an empty list or an index outside range(E).
        """
        rows = [int(r) for r in rows]
        if not rows or any(not 0 <= r < len(self.seeds) for r in rows):
            raise ValueError(f"rows must be a non-empty list of indices in range({len(self.seeds)}), got {rows}")
        idx = torch.tensor(rows)
        return replace(self, seeds=tuple(self.seeds[r] for r in rows), train_x=self.train_x[idx],
                       train_dx=self.train_dx[idx], test_x=self.test_x[idx], test_dx=self.test_dx[idx],
                       test_x0=self.test_x0[idx], rollout_truth=self.rollout_truth[:, idx])


def system_field(system: ODESystem) -> Callable[[torch.Tensor], torch.Tensor]:
    """The system's right-hand side as a torch function x (..., d) -> f(x) (autonomous systems only).

    Raises:
        ValueError: if the system has free parameters or depends on t.
    """
    if system.parameters:
        raise ValueError(f"system: give numeric values for the parameters {list(system.parameters)}")
    if not system.is_autonomous:
        raise ValueError("system: only autonomous systems are supported (the right-hand side depends on t)")
    field = system.to_module()  # the one system->torch module (autonomous: time unused)
    return lambda x: field(None, x)


def _solve(f: Callable[[torch.Tensor], torch.Tensor], x0: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return odeint(lambda _t, y: f(y), x0, times, method="dopri5", rtol=1e-10, atol=1e-10)


def _reference_data(name: str, f: Callable[[torch.Tensor], torch.Tensor], seed: int, n_traj: int,
                    times: torch.Tensor, noise: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """HNN's data.py draw sequence for one seed: (clean x0 (n, 2), noisy states (T, n, 2), clean states (T, n, 2))."""
    import numpy as np
    from scipy.integrate import solve_ivp
    lo, hi = _REFERENCE_RADIUS[name]
    rng = np.random.RandomState(seed)        # np.random.seed(seed) seeds this very stream
    rhs = lambda _t, y: f(torch.from_numpy(y)).numpy()  # noqa: E731
    t_eval = times.numpy()
    x0, noisy, clean = [], [], []
    for _ in range(n_traj):
        y0 = rng.rand(2) * 2 - 1
        y0 = y0 / np.sqrt((y0 ** 2).sum()) * (rng.rand() * (hi - lo) + lo)
        sol = solve_ivp(rhs, (0.0, float(t_eval[-1])), y0, t_eval=t_eval, rtol=1e-10).y   # (2, T)
        q = sol[0] + rng.randn(sol.shape[1]) * noise
        p = sol[1] + rng.randn(sol.shape[1]) * noise
        x0.append(y0)
        clean.append(sol.T)
        noisy.append(np.stack([q, p], -1))
    as_t = lambda a: torch.from_numpy(np.stack(a, 1 if a is not x0 else 0))  # noqa: E731
    return as_t(x0), as_t(noisy), as_t(clean)


def task(name: str, seeds: Sequence[int] = (0, 1, 2, 3, 4), *, n_traj: int | None = None,
         horizon_factor: int = 10, generator: str = "torch") -> Task:
    """Generate the data of setting ``name`` for every seed.

    Args:
        name: a key of `TASKS`.
        seeds: data seeds (one data set per seed).
        n_traj: total number of trajectories (even, >= 2; half train, half test); default the setting's.
        horizon_factor: rollouts run to ``horizon_factor * t_end``.
        generator: ``"torch"`` or ``"reference"`` (HNN's numpy draw sequence; spring and pendulum).

    Returns:
        A `Task`.

    Raises:
        ValueError: for an unknown name or generator (listing the valid ones), the reference generator on a
            task it does not cover, no seeds, an odd or too small ``n_traj`` or ``horizon_factor`` < 1.
    """
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; valid: {sorted(TASKS)}")
    if generator not in GENERATORS:
        raise ValueError(f"unknown generator {generator!r}; valid: {list(GENERATORS)}")
    if generator == "reference" and name not in _REFERENCE_RADIUS:
        raise ValueError(f"generator='reference' follows HNN's data.py, which exists for "
                         f"{sorted(_REFERENCE_RADIUS)}; got task {name!r}")
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds must name at least one data seed, got an empty sequence")
    spec = TASKS[name]
    n_traj = spec.n_traj if n_traj is None else n_traj
    if isinstance(n_traj, bool) or not isinstance(n_traj, int) or n_traj < 2 or n_traj % 2:
        raise ValueError(f"n_traj must be an even integer >= 2 (half train, half test), got {n_traj!r}")
    if isinstance(horizon_factor, bool) or not isinstance(horizon_factor, int) or horizon_factor < 1:
        raise ValueError(f"horizon_factor must be an integer >= 1, got {horizon_factor!r}")
    system = textbook_system(spec.system, dict(spec.values))
    f = system_field(system)
    dt = spec.t_end / (spec.n_points - 1)
    n_roll = horizon_factor * (spec.n_points - 1)
    rollout_times = torch.arange(n_roll + 1, dtype=torch.float64) * dt
    half = n_traj // 2
    if generator == "reference":
        drawn = [_reference_data(name, f, s, n_traj, rollout_times[: spec.n_points], spec.noise) for s in seeds]
        x0 = torch.stack([d[0] for d in drawn])                           # (E, n_traj, d)
        path = _solve(f, x0, rollout_times)                               # the rollout grid's truth (dopri5)
        states = torch.stack([d[2] for d in drawn], 1)                    # their data: SciPy's solve
        noisy = torch.stack([d[1] for d in drawn], 1)
        dx = f(states)
    else:
        gens = [torch.Generator().manual_seed(seed) for seed in seeds]
        x0 = torch.stack([spec.sample_ic(n_traj, g) for g in gens])      # (E, n_traj, d)
        # One solve for every seed and trajectory: the training grid is the start of the rollout grid.
        path = _solve(f, x0, rollout_times)                               # (S + 1, E, n_traj, d)
        states = path[: spec.n_points]
        dx = f(states)
        noise = torch.stack([torch.randn(states[:, 0].shape, generator=g, dtype=torch.float64) for g in gens], 1)
        noisy = states + spec.noise * noise

    def flat(a: torch.Tensor, sl: slice) -> torch.Tensor:  # (T, E, n, d) -> (E, n * T, d), trajectory-major (HNN)
        a = a[:, :, sl].permute(1, 2, 0, 3)
        return a.reshape(a.shape[0], -1, a.shape[-1])

    return Task(name, system, seeds, rollout_times[: spec.n_points].clone(), flat(noisy, slice(0, half)),
                flat(dx, slice(0, half)), flat(noisy, slice(half, None)), flat(dx, slice(half, None)),
                x0[:, half:], dt, rollout_times, path[:, :, half:])
