"""Time of the parameter-space symmetry finder on a width-16 layer (issue 21: target <= 5 s on 2 cores).

Each case runs in a fresh process (no SymPy cache carried over), ``--repeats`` times; the median is reported.
Cases: f = W2 relu(W1 z + b1) + b2 of width 16 with inputs = outputs = 1 and 2 (49 and 82 parameters: 2,450 and
6,806 ansatz coefficients, degree 1), and the linear layer of width 4 (GL(4), 16 generators) for scale.  The
last line is ``param_symmetry_width16_s <median seconds of the d = 2 ReLU case>``; it is machine dependent (the
ratio to the linear case, measured in the same run, is printed beside it).
"""
import argparse
import json
import statistics
import subprocess
import sys

CASES = {"relu16_d1": ("relu", 16, 1, True), "relu16_d2": ("relu", 16, 2, True),
         "linear4_d4": ("identity", 4, 4, False)}
_CHILD = """
import json, time, torch
torch.set_num_threads({threads})
from symnb.core.param_symmetry import find_parameter_symmetries, two_layer_field
t0 = time.perf_counter()
found = find_parameter_symmetries(two_layer_field({h}, {d}, activation="{act}", bias={bias}))
print(json.dumps({{"s": time.perf_counter() - t0, "generators": found.n_generators, "conserved": found.n_conserved,
                  "complete": found.complete}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'case':<14}{'median s':>10}{'generators':>12}{'conserved':>11}{'complete':>10}")
    medians = {}
    for name, (act, h, d, bias) in CASES.items():
        runs = []
        for _ in range(args.repeats):
            out = subprocess.run([sys.executable, "-c", _CHILD.format(threads=args.threads, h=h, d=d, act=act,
                                                                      bias=bias)],
                                 capture_output=True, text=True, check=True)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        medians[name] = statistics.median(r["s"] for r in runs)
        r = runs[-1]
        print(f"{name:<14}{medians[name]:>10.2f}{r['generators']:>12}{r['conserved']:>11}{str(r['complete']):>10}")
    print(f"ratio relu16_d2 / linear4_d4: {medians['relu16_d2'] / medians['linear4_d4']:.2f}")
    print(f"param_symmetry_width16_s {medians['relu16_d2']:.2f}")


if __name__ == "__main__":
    main()
