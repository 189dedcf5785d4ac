"""Benchmark: 64 training configurations in one batched solve vs a loop of 64 single runs.

The grid is 8 values of the weight a1 (eq 43) x 8 seeds, noise 0.05, fixed-step rk4 -- the kind of grid the
ablation chapter sweeps.  Both paths get the same pre-drawn datasets (drawing them is the same work either way
and is timed separately); the loop calls `symnb.train.train` once per configuration, the batched path calls
`symnb.train.train_batched` once.  It also checks that both give the same thetas.

    python benchmarks/batched_sweep.py            # CPU, about 30 s on 2 cores
    python benchmarks/batched_sweep.py --device cuda

The last line is machine-readable: ``batched_vs_loop <ratio>`` (loop time / batched time).
"""
from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("TQDM_DISABLE", "1")

import torch  # noqa: E402

from symnb.train import TrainConfig, train, train_batched  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--weights", type=int, default=8, help="values of a1")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--n-train", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest for tiny solves)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    a1_values = [10.0 ** (-3 + 4 * k / max(args.weights - 1, 1)) for k in range(args.weights)]
    configs = [TrainConfig.from_params(solver="rk4", epochs=args.epochs, n_train=args.n_train, noise=0.05, a1=a,
                                       seed=s, device=args.device) for a in a1_values for s in range(args.seeds)]
    t0 = time.perf_counter()
    cache = {}
    for c in configs:  # one draw per seed, shared by every weight (as train_batched does by itself)
        if c.seed not in cache:
            cache[c.seed] = c.dataset()
    datasets = [cache[c.seed] for c in configs]
    t_data = time.perf_counter() - t0

    train(configs[0], data=datasets[0], progress=False)      # warm-up: compile the loss expressions once
    train_batched(configs[:2], datasets=datasets[:2])

    t0 = time.perf_counter()
    loop = [train(c, data=d, progress=False, raise_on_divergence=False) for c, d in zip(configs, datasets)]
    t_loop = time.perf_counter() - t0
    t0 = time.perf_counter()
    batched = train_batched(configs, datasets=datasets)
    t_batched = time.perf_counter() - t0

    diff = max(abs(a - b) for r, q in zip(loop, batched) for a, b in zip(r.theta, q.theta))
    same_status = all(r.status == q.status for r, q in zip(loop, batched))
    n = len(configs)
    print(f"machine: {platform.machine()} {os.cpu_count()} cpus, torch {torch.__version__}, device {args.device}, "
          f"threads {torch.get_num_threads()}")
    print(f"grid: {args.weights} x a1 in [1e-3, 1e1] x {args.seeds} seeds = {n} configurations, "
          f"{args.epochs} Adam steps, n_train {args.n_train}, rk4, {configs[0].loss.n_grid}-point grid")
    print(f"data draw (shared by both paths): {t_data:.2f} s for {len(cache)} datasets")
    print(f"loop of {n} single runs: {t_loop:.2f} s ({1e3 * t_loop / (n * args.epochs):.2f} ms per run-step)")
    print(f"batched, one solve:     {t_batched:.2f} s ({1e3 * t_batched / args.epochs:.2f} ms per batched step)")
    print(f"max |theta_batched - theta_loop| = {diff:.1e}; same statuses: {same_status}")
    print(f"batched_vs_loop {t_loop / t_batched:.1f}")


if __name__ == "__main__":
    main()
