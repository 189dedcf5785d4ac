"""Cost of one training step of the toy Neural ODE under the eq-43 loss, relative to the plain-MSE baseline.

One run, one dataset, one starting theta: baseline; each regularizer alone; all six; closed-form vs autograd
time derivatives; direct vs adjoint backprop; and the closed-form solution of the toy model as the floor.
A step = forward (solve + loss terms) + backward + Adam update.  Timings are medians over repeated steps.

    python benchmarks/loss_step.py [--steps 40] [--threads 1]

The last line is machine-readable: ``all_terms_vs_baseline <ratio>`` (target: <= 1.3 with closed-form
derivatives).
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from symnb.toy.data import make_dataset
from symnb.toy.loss import TERMS, LossConstants, combined_loss, loss_terms, weights_tensor
from symnb.toy.model import ToyModel


def _timed_step(step, theta, opt) -> float:
    start = time.perf_counter()
    opt.zero_grad()
    step(theta).backward()
    opt.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-train", type=int, default=32)
    parser.add_argument("--n-grid", type=int, default=11)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model = ToyModel()
    data = make_dataset(model, (1.0, 0.2), n_train=args.n_train, n_test=1, n_extrap=1, noise=0.01)
    times = torch.linspace(0.0, 1.0, args.n_grid, dtype=torch.float64)
    constants = LossConstants()
    x, y = data.train_inputs, data.train_targets

    def loss_step(terms, derivative="closed", m=model):
        weights = weights_tensor([1.0 if n in terms else 0.0 for n in TERMS], times)

        def step(theta):
            values = loss_terms(m, x, y, theta, times, constants, terms=terms, derivative=derivative)
            return combined_loss(values, weights)
        return step

    def floor(theta):
        return ((model.closed_form(x, theta, times[[0, -1]])[-1] - y) ** 2).mean()

    cases = [("baseline (MSE only)", loss_step([]))]
    cases += [(f"MSE + MSE_{n}", loss_step([n])) for n in TERMS]
    cases += [("all six terms, closed-form D_t", loss_step(list(TERMS))),
              ("all six terms, autograd D_t", loss_step(list(TERMS), "autograd")),
              ("baseline, adjoint backprop", loss_step([], m=ToyModel(adjoint=True))),
              ("all six terms, adjoint backprop", loss_step(list(TERMS), m=ToyModel(adjoint=True))),
              ("closed-form solution (floor)", floor)]
    # round robin: every case sees the same machine load (the machine is shared); the first rounds warm up the
    # lambdify caches and are dropped; tiny lr keeps theta (hence the solver's work) in place
    state = {}
    for name, _ in cases:
        theta = torch.tensor([0.5, -0.3], dtype=torch.float64, requires_grad=True)
        state[name] = (theta, torch.optim.Adam([theta], lr=1e-4), [])
    for k in range(args.steps + 2):
        for name, step in cases:
            theta, opt, samples = state[name]
            sec = _timed_step(step, theta, opt)
            if k >= 2:
                samples.append(sec)
    results = {name: statistics.median(state[name][2]) for name, _ in cases}
    base = results["baseline (MSE only)"]
    print(f"toy Neural ODE, dopri5 rtol={model.rtol:g}, float64, N={args.n_train}, grid={args.n_grid}, "
          f"threads={args.threads}; median of {args.steps} steps")
    print(f"{'case':<36}{'ms/step':>10}{'x baseline':>12}")
    for name, sec in results.items():
        print(f"{name:<36}{sec * 1e3:>10.2f}{sec / base:>12.2f}")
    print(f"all_terms_vs_baseline {results['all six terms, closed-form D_t'] / base:.3f}")


if __name__ == "__main__":
    main()
