"""Chapter 7 training cost: 8 seeds as one vmap'd ensemble vs a loop of 8, and penalty / projection vs vanilla.

HNN's spring (25 train trajectories x 30 points), the chapter's network (width 2 x ``--width`` tanh), float64,
Adam through `symnb.train.fit`.  A training step = forward + loss + backward + Adam update; times are the mean over
``--steps`` steps after one warm-up step.  The projection line times one RK4 rollout step of the ensemble with
the level-set projection against one without.

    python benchmarks/ensemble.py [--steps 20] [--width 200] [--threads 1]

The last two lines are machine-readable: ``ensemble_vs_loop <ratio>`` (loop time / ensemble time; target >= 5
on 2 cores) and ``penalty_vs_vanilla <ratio>`` (collocation-penalty step / vanilla step; target <= 1.3).
"""
from __future__ import annotations

import argparse
import time

import torch

from symnb.chapters.ch7_beyond import BeyondConfig, _loss_fn, _project, _Setup
from symnb.train import fit
from symnb.neural.ensemble import MLPEnsemble, rk4_rollout


def _step_time(setup: _Setup, seeds: tuple[int, ...], method: str, steps: int) -> float:
    ens = MLPEnsemble(setup.data.dim, seeds, width=setup.cfg.width, head="hnn" if method == "hnn" else "field")
    loss = _loss_fn(setup, ens, method)
    fit(loss, ens.params, steps=1, lr=1e-3)                       # warm-up
    return fit(loss, ens.params, steps=steps, lr=1e-3).wall_time / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--width", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = tuple(range(8))
    batch = _Setup(BeyondConfig("spring", seeds=seeds, width=args.width))
    ens_time = _step_time(batch, seeds, "vanilla", args.steps)
    loop_time = 0.0
    for e, seed in enumerate(seeds):                               # the same work, one seed at a time
        single = _Setup(BeyondConfig("spring", seeds=(seed,), width=args.width), batch.data.subset([e]))
        loop_time += _step_time(single, (seed,), "vanilla", args.steps)
    times = {m: _step_time(batch, seeds, m, args.steps) for m in ("vanilla", "collocation", "trajectory", "hnn")}
    ens = MLPEnsemble(batch.data.dim, seeds, width=args.width)
    field = lambda x: ens.field(x).detach()  # noqa: E731
    rollout = {}
    with torch.no_grad():
        for name, project in (("plain", None), ("projected", _project(batch))):
            rk4_rollout(field, batch.x0, 1, batch.data.dt, project=project)
            start = time.perf_counter()
            rk4_rollout(field, batch.x0, args.steps, batch.data.dt, project=project)
            rollout[name] = (time.perf_counter() - start) / args.steps
    print(f"HNN spring, 8 seeds, MLP 2x{args.width} tanh, float64, threads={args.threads}; mean of {args.steps} "
          f"steps")
    print(f"{'case':<44}{'ms/step':>10}{'x vanilla':>11}")
    print(f"{'loop of 8 single-seed fits (sum)':<44}{loop_time * 1e3:>10.2f}{loop_time / ens_time:>11.2f}")
    for name, sec in times.items():
        print(f"{'ensemble of 8, ' + name:<44}{sec * 1e3:>10.2f}{sec / times['vanilla']:>11.2f}")
    print(f"{'RK4 rollout step, no projection':<44}{rollout['plain'] * 1e3:>10.2f}{'':>11}")
    print(f"{'RK4 rollout step, projected on H = H(x0)':<44}{rollout['projected'] * 1e3:>10.2f}"
          f"{rollout['projected'] / rollout['plain']:>11.2f}")
    print(f"projection_vs_plain_rollout {rollout['projected'] / rollout['plain']:.3f}")
    print(f"ensemble_vs_loop {loop_time / ens_time:.3f}")
    print(f"penalty_vs_vanilla {times['collocation'] / times['vanilla']:.3f}")


if __name__ == "__main__":
    main()
