"""Chapter 6: from an ODE system to a checked regularizer, end to end (paper §2.2 text before eq 14, §2.4, §4).

The paper says deriving symmetries and conservation laws "is typically performed manually" (§2.2) and leaves
"different hidden state dynamics" to future work (§4).  This chapter runs the general pipeline of `symnb.core`
-- `find_symmetries` -> `first_integrals` -> `conservation_penalty` -> `informativeness` -- on three textbook
systems and on the paper's toy dz/dt = sigma(theta1 z + theta2) for six activations, and decides the §4 claim.

Everything specific to the chapter lives here (the activations are the toy's registry, `symnb.toy.activations`):
the list of textbook runs, the rows of the chapter's tables, its figure data and its verdicts.
"""
from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sympy as sp
import torch

from ..core.adjoint import adjoint_of
from ..core.audit import Verdict
from ..core.data import data_path
from ..core.bridge import to_torch
from ..core.first_integrals import FirstIntegrals, first_integrals
from ..core.informativeness import Informativeness, informativeness
from ..core.noether import Lagrangian
from ..core.params import Param, ParameterSchema, Rule
from ..core.ode import ODESystem, jet_symbol
from ..core.penalty import conservation_penalty, project_to_level_set
from ..core.symmetries import Polynomial, SymmetryBasis, find_symmetries
from ..core.systems import textbook_system
from ..toy.activations import ACTIVATIONS
from ..toy.model import model_system as toy_system
from ..toy.symbols import t, theta1, theta2, z

__all__ = ["ACTIVATIONS", "THETA", "toy_system", "TextbookRun", "textbook_run", "TEXTBOOK", "ToyRun", "toy_run",
           "textbook_table", "toy_table", "paper_ansatz_rows", "write_paper_ansatz_csv", "read_paper_ansatz_csv",
           "F_curves", "equilibria", "figure", "penalty_curve", "verdicts", "PARAMETERS"]

#: The parameter point used for numbers and figures (theta1, theta2): the book's reference point.
THETA = (1.1, 0.3)
DATA = data_path("ch6_paper_ansatz.csv")

PARAMETERS = ParameterSchema((
    Param.flag("recompute_paper_ansatz", "rerun the separable solver for six activations (minutes)"),
    Param.integer("n_eps", "number of perturbation sizes in the penalty figure", low=2),
    Param.real("eps_max", "largest non-conservative perturbation", low=0.0, strict=True),
    Param.real("z_min", "left end of the z grid"),
    Param.real("z_max", "right end of the z grid"),
    Param.integer("n_z", "grid points", low=2),
), rules=(Rule("z_max", lambda v: v["z_max"] > v["z_min"], "a number > z_min"),))
"""Notebook 06's ``parameters`` cell (validated in its next cell and by ``symnb sweep``)."""


# ------------------------------------------------------------------------------------------------------------
# Textbook systems


@dataclass(frozen=True)
class TextbookRun:
    """One textbook system through the pipeline.

    Attributes:
        name: the `symnb.core.systems` key.
        symmetries: what `find_symmetries` returned under ``Polynomial(1)``.
        integrals: what `first_integrals` returned (route in ``route``).
        route: "symmetry", "basis" or "noether".
        true_penalty: max over integrals of the collocation penalty on the true field (float64).
        perturbed_penalty: min over integrals of the penalty on the field plus a small non-conservative term.
        projection_error: max |I(x) - level| after `project_to_level_set`.
        own: `informativeness` of the first integral, parameters left symbolic (the model's own parameters).
        fixed: `informativeness` of the first integral at the true parameter values, on the same family.
        seconds: wall time of find -> integrals -> penalty.
    """

    name: str
    symmetries: SymmetryBasis
    integrals: FirstIntegrals
    route: str
    true_penalty: float
    perturbed_penalty: float
    projection_error: float
    own: Informativeness
    fixed: Informativeness
    seconds: float


#: name -> (route, true parameter values, candidate basis or None)
TEXTBOOK: dict[str, tuple[str, dict[str, float]]] = {
    "harmonic_oscillator": ("symmetry", {"omega": 1.3}),
    "lotka_volterra": ("basis", {"alpha": 1.0, "beta": 0.5, "gamma": 0.7, "delta": 0.3}),
    "kepler_planar": ("noether", {"k": 1.0}),
}


def _route_integrals(name: str, system: ODESystem, symmetries: SymmetryBasis, route: str) -> FirstIntegrals:
    if route == "symmetry":
        return first_integrals(system, symmetries=symmetries)
    if route == "basis":
        x, y = system.states
        return first_integrals(system, basis=[x, y, sp.log(x), sp.log(y)])
    # Noether: the Lagrangian of a unit mass in the potential -k/r (Goldstein, ch. 3), on the coordinates (x, y).
    x, y = system.states[:2]
    k = system.parameters[0]
    xt, yt = jet_symbol(x, system.t), jet_symbol(y, system.t)
    lag = Lagrangian((xt**2 + yt**2) / 2 + k / sp.sqrt(x**2 + y**2), system.t, (x, y))
    return first_integrals(system, symmetries=symmetries, lagrangian=lag)


def _points(system: ODESystem, n: int = 64, seed: int = 0) -> torch.Tensor:
    """Float64 sample points inside the states' domains (positive states stay positive)."""
    gen = torch.Generator().manual_seed(seed)
    cols = []
    for x in system.states:
        u = torch.rand(n, dtype=torch.float64, generator=gen)
        cols.append(0.3 + 1.7 * u if x.is_positive else 0.4 + 0.8 * u)
    return torch.stack(cols, dim=-1)


def _field(system: ODESystem, values: dict) -> Callable[[torch.Tensor], torch.Tensor]:
    """x (..., n) -> f(x) at the parameter values (names), through the one system->torch bridge."""
    module = system.to_module({p.name: values[p.name] for p in system.parameters})
    return lambda x: module(torch.zeros((), dtype=x.dtype), x)


@lru_cache(maxsize=None)
def textbook_run(name: str) -> TextbookRun:
    """Run find -> integrals -> penalty -> projection -> informativeness on one textbook system.

    Raises:
        ValueError: for a system not in `TEXTBOOK`.
    """
    if name not in TEXTBOOK:
        raise ValueError(f"unknown chapter-6 system {name!r}; valid: {sorted(TEXTBOOK)}")
    route, values = TEXTBOOK[name]
    start = time.perf_counter()
    system = textbook_system(name)
    symmetries = find_symmetries(system, Polynomial(1))
    integrals = _route_integrals(name, system, symmetries, route)
    x = _points(system)
    field = _field(system, values)
    # A small non-conservative perturbation: 0.05 times the states (a radial push off every level set).
    true, perturbed, proj = [], [], []
    for integral in integrals:
        pen = conservation_penalty(integral, system, values=values)
        true.append(float(pen(x, field(x))))
        perturbed.append(float(pen(x, field(x) + 0.05 * x)))
        level = pen.integral(x[:1]).expand(len(x))
        moved = project_to_level_set(integral, system, x * 1.05, level, values=values)
        proj.append(float((pen.integral(moved) - level).abs().max()))
    seconds = time.perf_counter() - start
    main = integrals[0].expr
    fixed = main.subs({p: sp.nsimplify(values[p.name]) for p in system.parameters})
    return TextbookRun(name, symmetries, integrals, route, max(true), min(perturbed), max(proj),
                       informativeness(main, system), informativeness(fixed, system), seconds)


def _generators(basis: SymmetryBasis) -> str:
    return "; ".join(str(g.components) for g in basis.generators)


def textbook_table() -> list[dict]:
    """One row per textbook system: symmetries, integrals, penalty checks and informativeness (bounds, not digits)."""
    rows = []
    for name in TEXTBOOK:
        r = textbook_run(name)
        rows.append({
            "system": name,
            "symmetries (Polynomial(1))": _generators(r.symmetries),
            "route": r.route,
            "first integrals": "; ".join(sp.sstr(i.expr) for i in r.integrals),
            "complete": r.symmetries.complete and r.integrals.complete,
            "penalty on true field < 1e-20": r.true_penalty < 1e-20,
            "penalty on perturbed field > 1e-6": r.perturbed_penalty > 1e-6,
            "projection error < 1e-10": r.projection_error < 1e-10,
            "informative with own parameters": r.own.informative,
            "informative with true values": r.fixed.informative,
        })
    return rows


# ------------------------------------------------------------------------------------------------------------
# The paper's toy for six activations


@dataclass(frozen=True)
class ToyRun:
    """The toy dz/dt = sigma(theta1 z + theta2) through the pipeline.

    Attributes:
        name: the activation.
        symmetries: `find_symmetries` under ``Polynomial(1)`` (the fast ansatz; the paper's separable ansatz is
            in `paper_ansatz_rows`).
        forward: first integrals from those symmetries (Lie's integrating factor of time translation: the
            paper's F of eq 25 up to a function of it).
        adjoint_invariants: linear first integrals of the adjoint system (eq 6) found over the candidate basis.
        forward_info: informativeness of the first forward integral on the model family (None if none found).
        adjoint_info: informativeness of each adjoint invariant on the adjoint family.
        fixed_info: informativeness of the forward integral with theta fixed at `THETA` (data values).
    """

    name: str
    symmetries: SymmetryBasis
    forward: FirstIntegrals
    adjoint_invariants: FirstIntegrals
    forward_info: Informativeness | None
    adjoint_info: tuple[Informativeness, ...]
    fixed_info: Informativeness | None


@lru_cache(maxsize=None)
def toy_run(name: str) -> ToyRun:
    """Run the pipeline on the toy for activation ``name`` (a key of `ACTIVATIONS`).

    Raises:
        ValueError: for an unknown activation.
    """
    system = toy_system(name)
    symmetries = find_symmetries(system, Polynomial(1))
    forward = first_integrals(system, symmetries=symmetries)
    adjoint = adjoint_of(system, (theta1, theta2), names=("u", "v", "w"))
    forward_info = informativeness(forward[0], system) if len(forward) else None
    fixed = None
    if len(forward):
        fixed = informativeness(forward[0].expr.subs({theta1: sp.nsimplify(THETA[0]), theta2: sp.nsimplify(THETA[1])}),
                                system)
    adjoint_info = tuple(informativeness(i, adjoint.system) for i in adjoint.invariants)
    return ToyRun(name, symmetries, forward, adjoint.invariants, forward_info, adjoint_info, fixed)


def toy_table() -> list[dict]:
    """One row per activation: what the pipeline finds and whether the resulting penalties can inform training."""
    rows = []
    for name in ACTIVATIONS:
        r = toy_run(name)
        F = r.forward[0] if len(r.forward) else None
        rows.append({
            "sigma": name,
            "symmetries (Polynomial(1))": len(r.symmetries.generators),
            "forward integral F": sp.sstr(F.expr) if F else f"none ({r.forward.reason[:60]})",
            "F undefined where": (F.domain or "nowhere") if F else "-",
            "adjoint invariants": len(r.adjoint_invariants),
            "F penalty informative": r.forward_info.informative if r.forward_info else None,
            "adjoint penalties informative": any(i.informative for i in r.adjoint_info),
            "F at fixed theta informative": r.fixed_info.informative if r.fixed_info else None,
        })
    return rows


def paper_ansatz_rows(budget_s: float = 240.0) -> list[dict]:
    """Forward symmetries of the toy under the paper's ansatz T = T(t), Z = Z(z) (eq 20), for every activation.

    Slow (the separable solver calls dsolve; about 20-60 s per activation on a laptop core), hence cached in
    `DATA` by `write_paper_ansatz_csv`.
    """
    rows = []
    for name in ACTIVATIONS:
        system = toy_system(name)
        found = find_symmetries(system, {t: (t,), z: (z,)}, budget_s=budget_s, throw=False)
        rows.append({"sigma": name, "generators": len(found.generators), "complete": found.complete,
                     "basis": "; ".join(sp.sstr(g.components) for g in found.generators),
                     "reason": found.reason})
    return rows


def write_paper_ansatz_csv(path: Path = DATA, budget_s: float = 240.0) -> Path:
    """Recompute `paper_ansatz_rows` and write them to ``path`` (the committed `DATA`)."""
    rows = paper_ansatz_rows(budget_s)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_paper_ansatz_csv(path: Path = DATA) -> list[dict]:
    """The committed paper-ansatz rows (``generators`` as int, ``complete`` as bool).

    Raises:
        ValueError: if the file is missing (regenerate it with `write_paper_ansatz_csv`).
    """
    if not Path(path).exists():
        raise ValueError(f"{path} is missing; regenerate it with symnb.chapters.ch6_pipeline.write_paper_ansatz_csv()")
    with Path(path).open() as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["generators"] = int(r["generators"])
        r["complete"] = r["complete"] == "True"
    return rows


def F_curves(z_grid: torch.Tensor) -> dict[str, torch.Tensor]:
    """F_sigma(t=0, z) at theta = `THETA` on ``z_grid`` (float64).  F is the real integral (log|u|), so it is
    finite except at the equilibria sigma(theta1 z + theta2) = 0, where it diverges (+-inf or NaN at a grid point
    that hits one exactly)."""
    out = {}
    for name in ACTIVATIONS:
        r = toy_run(name)
        if not len(r.forward):
            continue
        expr = r.forward[0].expr.subs({theta1: THETA[0], theta2: THETA[1], t: 0})
        (vals,) = to_torch((z,), expr)(z_grid)
        out[name] = torch.as_tensor(vals, dtype=torch.float64).expand(z_grid.shape).clone()
    return out


def equilibria(name: str, z_grid: torch.Tensor) -> torch.Tensor:
    """The equilibria z* (sigma(theta1 z* + theta2) = 0 at `THETA`) inside the range of ``z_grid``, float64: the
    only places where the forward integral F of activation ``name`` is undefined."""
    sigma = toy_system(name).rhs[0].subs({theta1: sp.nsimplify(THETA[0]), theta2: sp.nsimplify(THETA[1])})
    lo, hi = float(z_grid.min()), float(z_grid.max())
    roots = sp.solveset(sp.Eq(sigma, 0), z, sp.Interval(lo, hi))
    if roots is sp.S.EmptySet:
        return torch.zeros(0, dtype=torch.float64)
    if not isinstance(roots, sp.FiniteSet):
        raise ValueError(f"equilibria of {name} on [{lo}, {hi}] are not a finite set: {roots}")
    return torch.tensor(sorted(float(r) for r in roots), dtype=torch.float64)


def figure(z_grid: torch.Tensor, eps: torch.Tensor):
    """The chapter's figure: left, F_sigma(0, z) for each activation with the equilibria marked (its only
    singularities); right, the collocation penalty of each textbook integral on f + eps x.

    Returns:
        (matplotlib Figure, {system: penalty curve}) -- the curves for the notebook's printed checks.
    """
    import matplotlib.pyplot as plt

    curves = F_curves(z_grid)
    penalties = {name: penalty_curve(name, eps) for name in TEXTBOOK}
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.2, 3.8))  # <= 7.2 in: 10 pt text stays >= 9 pt at the column width
    for k, (name, values) in enumerate(curves.items()):
        line, = left.plot(z_grid.numpy(), values.clamp(-8, 8).numpy(), label=name, color=f"C{k}")
        for zs in equilibria(name, z_grid).tolist():
            left.axvline(zs, color=line.get_color(), lw=0.8, ls=":")
    left.set_xlabel("z")
    left.set_ylabel("F(t=0, z)  (clipped to [-8, 8])")
    left.set_ylim(-8.5, 8.5)
    left.legend(fontsize=9)
    left.set_title("forward integral F; dotted: equilibria", fontsize=10)
    for name, values in penalties.items():
        right.plot(eps.numpy(), values.numpy(), marker="o", label=name)
    right.set_xlabel("perturbation size eps")
    right.set_ylabel("collocation penalty")
    right.set_yscale("symlog", linthresh=1e-6)
    right.legend(fontsize=9)
    right.set_title("penalty on f + eps x", fontsize=10)
    fig.tight_layout()
    return fig, penalties


def penalty_curve(name: str, eps: torch.Tensor) -> torch.Tensor:
    """The collocation penalty of the system's first integral on the field f + eps * x, for each eps (float64)."""
    r = textbook_run(name)
    route, values = TEXTBOOK[name]
    system = r.integrals.system
    pen = conservation_penalty(r.integrals[0], system, values=values)
    x = _points(system)
    field = _field(system, values)
    return torch.stack([pen(x, field(x) + float(e) * x) for e in eps])


# ------------------------------------------------------------------------------------------------------------
# Verdicts


def verdicts() -> tuple[Verdict, ...]:
    """The chapter's audit rows: the §2.4 method run end to end, and the §4 future-work claims on other activations."""
    books = [textbook_run(n) for n in TEXTBOOK]
    pipeline_ok = all(b.true_penalty < 1e-20 and b.perturbed_penalty > 1e-6 and b.projection_error < 1e-10
                      and b.fixed.informative for b in books)
    own_zero = all(not b.own.informative for b in books)
    toys = [toy_run(n) for n in ACTIVATIONS]
    with_F = [r for r in toys if r.forward_info is not None]
    no_F = [r.name for r in toys if r.forward_info is None]
    F_uninformative = all(not r.forward_info.informative for r in with_F)
    adj_uninformative = all(not i.informative for r in toys for i in r.adjoint_info)
    adj_found = all(len(r.adjoint_invariants) >= 3 for r in toys)
    fixed_informative = all(r.fixed_info.informative for r in with_F)
    domain_free = [r.name for r in with_F if not r.forward[0].domain]
    domain_bound = [r.name for r in with_F if r.forward[0].domain]
    # Where F is undefined: checked on the figure's grid, F is finite at every point farther than 0.02 from an
    # equilibrium sigma(theta1 z + theta2) = 0, and no arcsin/arccos occurs.
    grid = torch.linspace(-4.0, 4.0, 801, dtype=torch.float64)
    curves = F_curves(grid)
    only_at_equilibria = not any(r.forward[0].expr.has(sp.asin, sp.acos) for r in with_F)
    for name, values in curves.items():
        eq = equilibria(name, grid)
        far = (grid[:, None] - eq[None, :]).abs().min(-1).values > 0.02 if len(eq) else torch.ones_like(grid,
                                                                                                      dtype=torch.bool)
        only_at_equilibria &= bool(torch.isfinite(values[far]).all())
    rows = [
        Verdict("claim §2.4 method",
                "symmetries give conservation laws, and these give new physics-informed loss terms",
                f"automated for {len(books)} textbook systems (symmetries, integrals by 3 routes, penalty 0 on the "
                f"true field and > 0 off it, projection < 1e-10: {pipeline_ok}); an integral keeping the model's "
                f"own parameters gives an identically zero penalty on its family: {own_zero}",
                "holds with a caveat" if pipeline_ok else "inconclusive"),
        Verdict("claim §4 other activations",
                "other hidden-state dynamics (other sigma) might give more successful symmetry regularizers",
                f"settings: symmetries under Polynomial(1) and the paper's separable ansatz, integrals from them; for "
                f"sigma in {[r.name for r in with_F]} the time-translation integral F is a first integral of every "
                f"model's own flow: penalty identically 0 with zero gradient: {F_uninformative}; no closed form for "
                f"{no_F}; the adjoint invariants (>= 3 found for each sigma: {adj_found}) are uninformative too: "
                f"{adj_uninformative}; other ansatze or other dynamics are not run here",
                "not supported here" if F_uninformative and adj_uninformative else "inconclusive"),
        Verdict("claim §4 problematic symmetries",
                "the trouble is specific to cosine (its arcsin part diverges)",
                f"the real F (log|u|, no arcsin) is defined everywhere for {domain_free} and undefined only at the "
                f"equilibria sigma = 0 for {domain_bound} (only there: {only_at_equilibria}), so cos shares its "
                f"singularities with sin, tanh and the identity; with theta fixed at data values instead of the "
                f"model's own, F does inform training: {fixed_informative}",
                "not supported here" if only_at_equilibria else "inconclusive"),
    ]
    return tuple(rows)


if __name__ == "__main__":  # regenerate the committed paper-ansatz table
    print(write_paper_ansatz_csv())
