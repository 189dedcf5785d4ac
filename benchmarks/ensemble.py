"""Chapter 7 training cost: how close a 5-member ensemble step gets to the machine's matrix-product rate, what the
collocation penalty costs beyond its arithmetic floor, and what one seed costs against a reference-style step.

HNN's spring at HNN's size (25 train trajectories x 30 points = 750 states, MLP 2 x 200 tanh), float32, Adam
through `symnb.train.fit`.  Every time is the mean over ``--steps`` steps after one warm-up step, the fastest of
three runs (the least disturbed by other load on a shared machine); all are measured in this run, so only their
ratios are meaningful.

* ``gemm_fraction``: the time of the step's matrix products alone -- the same shapes (per layer: forward
  (E, N, in) x (E, in, out), backward input and weight gradients), run back to back as batched ``torch.bmm`` --
  divided by the time of the whole 5-member vanilla training step.  1 would mean the step is nothing but its
  matrix products at the rate this machine reaches for them; the rest is tanh, the loss, autograd, ``vmap`` and
  Adam.  Target >= 0.7.  The tanh forward and backward on the same shapes are timed as well: they cannot be
  avoided, so gemm / (gemm + tanh) bounds the fraction from above on this machine.
* ``penalty_overhead``: (collocation-penalty step / vanilla step) / ((N + M) / N), N = 750 training states,
  M = 256 collocation points per member: the penalty's cost beyond the arithmetic floor of evaluating the network
  at M more points.  Target <= 1.1.
* per member: the ensemble step / 5, beside one step of a single-seed model written the way the reference code
  trains (an ``nn.Module`` MLP without last-layer bias, ``torch.optim.Adam`` with weight decay 1e-4), so a reader
  sees what one seed costs in each.

    python benchmarks/ensemble.py [--steps 20] [--threads 1]

The last two lines are machine-readable: ``gemm_fraction <x>`` and ``penalty_overhead <x>``.
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from symnb.chapters.ch7_beyond import BeyondConfig, _loss_fn, _Setup
from symnb.neural.ensemble import MLPEnsemble
from symnb.train import fit

REPEATS = 3
MEMBERS = 5
WIDTH = 200


def _best(fn, steps: int) -> float:
    """Seconds per call of ``fn`` (which runs ``steps`` steps), fastest of REPEATS runs after a warm-up."""
    fn(1)
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn(steps)
        best = min(best, (time.perf_counter() - start) / steps)
    return best


def _ensemble_step(setup: _Setup, method: str, steps: int) -> float:
    ens = MLPEnsemble(setup.data.dim, setup.cfg.seeds, width=WIDTH, dtype=torch.float32)
    loss = _loss_fn(setup, ens, method)
    return _best(lambda n: fit(loss, ens.params, steps=n, lr=1e-3), steps)


def _gemm_time(dims: list[int], points: int, steps: int) -> float:
    """The vanilla step's matrix products alone: per layer the forward product and the two backward products."""
    ops = []
    for a, b in zip(dims[:-1], dims[1:]):
        x, w, g = (torch.randn(MEMBERS, points, a), torch.randn(MEMBERS, a, b), torch.randn(MEMBERS, points, b))
        ops += [(x, w), (g, w.transpose(1, 2)), (x.transpose(1, 2), g)]

    def run(n: int) -> None:
        for _ in range(n):
            for left, right in ops:
                torch.bmm(left, right)
    return _best(run, steps)


def _elementwise_time(points: int, steps: int) -> float:
    """The step's unavoidable elementwise work: tanh forward and its backward (1 - t**2) * g, two hidden layers."""
    h, g = torch.randn(MEMBERS, points, WIDTH), torch.randn(MEMBERS, points, WIDTH)

    def run(n: int) -> None:
        for _ in range(n):
            for _layer in range(2):
                t = torch.tanh(h)
                (1 - t * t) * g
    return _best(run, steps)


def _reference_step(x: torch.Tensor, dx: torch.Tensor, steps: int) -> float:
    """One single-seed step written as the reference trains: nn.Module MLP, torch.optim.Adam(weight_decay=1e-4)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, WIDTH), nn.Tanh(), nn.Linear(WIDTH, WIDTH), nn.Tanh(),
                          nn.Linear(WIDTH, 2, bias=False))
    opt = torch.optim.Adam(model.parameters(), 1e-3, weight_decay=1e-4)

    def run(n: int) -> None:
        for _ in range(n):
            loss = (model(x) - dx).pow(2).mean()
            loss.backward()
            opt.step()
            opt.zero_grad()
    return _best(run, steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = tuple(range(MEMBERS))
    setup = _Setup(BeyondConfig("spring", seeds=seeds, width=WIDTH, dtype="float32"))
    n_train, n_colloc = setup.train_x.shape[1], setup.colloc.shape[1]
    vanilla = _ensemble_step(setup, "vanilla", args.steps)
    colloc = _ensemble_step(setup, "collocation", args.steps)
    gemm = _gemm_time([2, WIDTH, WIDTH, 2], n_train, args.steps)
    elementwise = _elementwise_time(n_train, args.steps)
    single = _reference_step(setup.train_x[0].clone(), setup.train_dx[0].clone(), args.steps)
    dims = [2, WIDTH, WIDTH, 2]
    gflop = 3 * sum(2 * a * b for a, b in zip(dims[:-1], dims[1:])) * n_train * MEMBERS / 1e9
    floor = (n_train + n_colloc) / n_train
    print(f"HNN spring, {MEMBERS} members, MLP 2x{WIDTH} tanh, {n_train} states, float32, threads={args.threads}; "
          f"mean of {args.steps} steps, fastest of {REPEATS} runs")
    print(f"{'case':<58}{'ms/step':>9}")
    print(f"{'matrix products of a 5-member vanilla step (bmm only)':<58}{gemm * 1e3:>9.2f}   "
          f"{gflop / gemm:.1f} GFLOP/s")
    print(f"{'tanh forward + backward alone (2 hidden layers)':<58}{elementwise * 1e3:>9.2f}")
    print(f"{'5-member vanilla step (symnb ensemble)':<58}{vanilla * 1e3:>9.2f}   {gflop / vanilla:.1f} GFLOP/s")
    print(f"{'5-member collocation step (M = %d points per member)' % n_colloc:<58}{colloc * 1e3:>9.2f}")
    print(f"{'per member: ensemble step / 5':<58}{vanilla / MEMBERS * 1e3:>9.2f}")
    print(f"{'single seed, reference-style step (nn.Module + Adam wd)':<58}{single * 1e3:>9.2f}")
    print(f"collocation / vanilla = {colloc / vanilla:.3f}; arithmetic floor (N + M) / N = {floor:.3f}")
    print(f"upper bound on gemm_fraction from the tanh work alone: gemm / (gemm + tanh) = "
          f"{gemm / (gemm + elementwise):.3f}")
    print(f"gemm_fraction {gemm / vanilla:.3f}")
    print(f"penalty_overhead {colloc / vanilla / floor:.3f}")


if __name__ == "__main__":
    main()
