"""Wall time of the symbolic "compiler": ODE -> symmetries -> first integrals -> torch penalty, per system.

For each chapter-6 system (harmonic oscillator, Lotka-Volterra, planar Kepler, 1-D Kepler, the paper's cos toy)
it times `find_symmetries` (Polynomial(1)), `first_integrals` (the system's route), and `conservation_penalty`
(compile plus one float64 evaluation on 256 points); separately, the 4-D adjoint system of the cos toy
(eqs 5-6: `adjoint_of` with its invariants found, then a penalty); and three systems from the integrability
literature through ``first_integrals(system, Polynomial(d))`` alone (no symmetry search): Euler's rigid body with
symbolic moments (d = 2), the periodic 3-particle Toda lattice in Flaschka's variables (d = 3) and the Hénon-Heiles
KdV integrable case with symbolic A, B (d = 4).  Each case runs in a fresh process so that
SymPy's caches do not carry over from one system to the next.

    python benchmarks/compiler.py [--threads 1]

The last line is machine-readable: ``compiler_worst_s <seconds>`` (target: <= 10 s per system on 2 cores).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CASES = ("harmonic_oscillator", "lotka_volterra", "kepler_planar", "kepler_radial", "toy_cos", "adjoint_cos_4d",
         "rigid_body", "toda_periodic_3", "henon_heiles_kdv")
#: the integrability cases: system -> polynomial degree of the ansatz
POLYNOMIAL = {"rigid_body": 2, "toda_periodic_3": 3, "henon_heiles_kdv": 4}

_CHILD = r"""
import json, sys, time
import sympy as sp
import torch
torch.set_num_threads({threads})
from symnb.core.first_integrals import first_integrals
from symnb.core.penalty import conservation_penalty
from symnb.core.symmetries import Polynomial, find_symmetries
name = {name!r}
times = {{}}
start = time.perf_counter()
if name == "adjoint_cos_4d":
    from symnb.core.adjoint import adjoint_of
    from symnb.toy.model import model_system as toy_system
    from symnb.toy.symbols import theta1, theta2
    adj = adjoint_of(toy_system("cos"), (theta1, theta2), names=("u", "v", "w"))
    times["adjoint+invariants"] = time.perf_counter() - start
    system, integral, values = adj.system, adj.invariants[0], {{"theta1": 1.1, "theta2": 0.3}}
    found = len(adj.invariants)
elif name in {polynomial!r}:
    from symnb.core.systems import textbook_system
    system = textbook_system(name)
    values = {{p.name: 1.0 + 0.5 * k for k, p in enumerate(system.parameters)}}
    ints = first_integrals(system, Polynomial({polynomial!r}[name]))
    times["first_integrals"] = time.perf_counter() - start
    integral, found = ints[0], len(ints)
else:
    t0 = time.perf_counter()
    if name == "toy_cos":
        from symnb.chapters.ch6_pipeline import toy_system
        system, values = toy_system("cos"), {{"theta1": 1.1, "theta2": 0.3}}
    else:
        from symnb.core.systems import textbook_system
        system = textbook_system(name)
        values = {{p.name: 1.0 for p in system.parameters}}
    sym = find_symmetries(system, Polynomial(1))
    times["find_symmetries"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if name == "lotka_volterra":
        x, y = system.states
        ints = first_integrals(system, basis=[x, y, sp.log(x), sp.log(y)])
    elif name == "kepler_planar":
        from symnb import Lagrangian
        from symnb.core.ode import jet_symbol
        x, y = system.states[:2]
        k = system.parameters[0]
        lag = Lagrangian((jet_symbol(x, system.t)**2 + jet_symbol(y, system.t)**2) / 2 + k / sp.sqrt(x**2 + y**2),
                         system.t, (x, y))
        ints = first_integrals(system, symmetries=sym, lagrangian=lag)
    else:
        ints = first_integrals(system, symmetries=sym)
    times["first_integrals"] = time.perf_counter() - t0
    integral, found = ints[0], len(ints)
t0 = time.perf_counter()
pen = conservation_penalty(integral, system, values=values)
x = torch.rand(256, len(system.states), dtype=torch.float64) + 0.5
pen(x, torch.randn_like(x), t=0.0)  # t: some integrals (the toy F) depend on time
times["penalty"] = time.perf_counter() - t0
times["total"] = time.perf_counter() - start
print(json.dumps({{"times": times, "integrals": found}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    args = parser.parse_args()
    print(f"{'case':<22}{'find':>9}{'integrals':>11}{'penalty':>9}{'total s':>9}{'found':>7}")
    load = os.getloadavg()[0]
    print(f"# load average (1 min) at start: {load:.2f} on {os.cpu_count()} cores (other jobs share this machine)")
    worst = 0.0
    for name in args.cases:
        out = subprocess.run([sys.executable, "-c", _CHILD.format(name=name, threads=args.threads, polynomial=POLYNOMIAL)],
                             capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        t = result["times"]
        first = t.get("find_symmetries", t.get("adjoint+invariants", 0.0))
        print(f"{name:<22}{first:>9.2f}{t.get('first_integrals', 0.0):>11.2f}{t['penalty']:>9.3f}"
              f"{t['total']:>9.2f}{result['integrals']:>7}")
        worst = max(worst, t["total"])
    print(f"compiler_worst_s {worst:.2f}")


if __name__ == "__main__":
    main()
