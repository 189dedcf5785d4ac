"""Chapter 2: Noether's theorem and the paper's two loss "Hamiltonians" (§2.3, §3.3; eqs 4, 15, 26-27) on the toy
model; the general machinery is `symnb.core.noether`."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp
import torch

from ..core.audit import Verdict
from ..core.bridge import evaluate, integrate
from ..core.integrals import is_zero, numeric_drift
from ..core.noether import (Lagrangian, conserved_on_shell, energy, euler_lagrange, euler_lagrange_sympy,
                            euler_lagrange_system, noether_charge, substitute_dynamics, time_translation,
                            variational_check)
from ..core.ode import ODESystem, jet_symbol, total_derivative
from ..toy.model import model_system
from ..toy.symbols import sample_symbols, theta1, theta2, z
from ..toy.symbols import t as T
from ..printed.noether import H_eq26, H_tilde_eq27, energy_section_2_3, hamiltonian_formula_eq26_27


def h_as_printed(lag: Lagrangian, system: ODESystem) -> sp.Expr:
    """The first line of eqs 26-27, sum_i (dL/dz_i) zdot_i - L, with zdot = f substituted (as the paper does)."""
    return substitute_dynamics(hamiltonian_formula_eq26_27(lag.expr, lag.coords, lag.velocities), system)


# ---- the paper's toy model and losses -----------------------------------------------------------------------

THETA = (theta1, theta2)


def states(n: int) -> tuple[sp.Symbol, ...]:
    """z_1..z_N (real), as in `symnb.printed.loss.sample_symbols`."""
    return sample_symbols(n)[0]


def targets(n: int) -> tuple[sp.Symbol, ...]:
    """z*_1..z*_N (real), printed z^*_i."""
    return sample_symbols(n)[1]


def cosine_model(n: int) -> ODESystem:
    """dz_i/dt = cos(theta_1 z_i + theta_2), i = 1..N: N copies of `symnb.toy.model.model_system` ("cos")."""
    f = model_system("cos").rhs[0]
    zz = states(n)
    return ODESystem(T, zz, tuple(f.subs(z, zi) for zi in zz))


def mse_lagrangian(n: int) -> Lagrangian:
    """§3.3.1: L = (1/N) sum_i (z_i - z_i*)^2 (no velocity)."""
    zz, zs = states(n), targets(n)
    return Lagrangian(sp.Rational(1, n) * sum((a - b) ** 2 for a, b in zip(zz, zs)), T, zz)


def softmax(xs: Sequence[sp.Expr]) -> tuple[sp.Expr, ...]:
    """e^{x_i} / sum_j e^{x_j}."""
    den = sum(sp.exp(x) for x in xs)
    return tuple(sp.exp(x) / den for x in xs)


def cross_entropy_lagrangian(n: int) -> Lagrangian:
    """§3.3.2: L = -sum_i p_i log q_i, p = softmax(z*), q = softmax(z) (no velocity), written as printed."""
    zz = states(n)
    p, q = softmax(targets(n)), softmax(zz)
    return Lagrangian(-sum(pi * sp.log(qi) for pi, qi in zip(p, q)), T, zz)


def residual_lagrangian(system: ODESystem) -> Lagrangian:
    """L_f = (1/2) sum_i (x_t,i - f_i)^2: a regular Lagrangian whose EL solutions include the model's flow.

    Not in the paper: the honest way to make "ż = f" enter a Lagrangian through the velocity.
    """
    vel = system.derivatives
    expr = sp.Rational(1, 2) * sum((v - f) ** 2 for v, f in zip(vel, system.rhs))
    return Lagrangian(expr, system.t, system.states)


# ---- the two printed quantities along the flow ------------------------------------------------------------

def witness_point(n: int) -> dict[sp.Symbol, sp.Expr]:
    """A fixed exact point: theta = (1, 0), z_i = i/(N+1), z*_i = 0 (to evaluate a derivative at)."""
    point = {theta1: sp.Integer(1), theta2: sp.Integer(0)}
    point |= {zi: sp.Rational(i, n + 1) for i, zi in enumerate(states(n), start=1)}
    return point | {si: sp.Integer(0) for si in targets(n)}


def mse_h_derivative(n: int) -> sp.Expr:
    """Closed form of D_t H (eq 26) along the model.

    (2/N) sum_i f_i [f_i - (z_i - z_i*)(1 + theta_1 sin(theta_1 z_i + theta_2))], f_i = cos(theta_1 z_i + theta_2).
    """
    terms = []
    for zi, si in zip(states(n), targets(n)):
        f = sp.cos(theta1 * zi + theta2)
        terms.append(f * (f - (zi - si) * (1 + theta1 * sp.sin(theta1 * zi + theta2))))
    return sp.Rational(2, n) * sum(terms)


def ce_h_derivative(n: int) -> sp.Expr:
    """Closed form of D_t H~ (eq 27) along the model: -sum (q_i - p_i) cos(theta_1 z_i + theta_2)."""
    q, p = softmax(states(n)), softmax(targets(n))
    return -sum((qi - pi) * sp.cos(theta1 * zi + theta2) for qi, pi, zi in zip(q, p, states(n)))


@dataclass(frozen=True)
class FlowDerivative:
    """D_t of a quantity along a system, checked against a closed form by exact algebra.

    Attributes:
        quantity: the candidate I(t, x).
        closed_form: the claimed D_t I along the flow.
        matches: True when D_t I - closed_form cancels to 0 (after expanding logarithms of positive sums).
        at_witness: closed_form at `witness_point` (when given), a number: non-zero proves non-conservation.
    """

    quantity: sp.Expr
    closed_form: sp.Expr
    matches: bool
    at_witness: sp.Expr | None

    @property
    def conserved(self) -> bool:
        """True only when the verified closed form is literally 0 (a non-zero witness value disproves it)."""
        return self.matches and self.closed_form == 0


def flow_derivative(quantity: sp.Expr, system: ODESystem, closed_form: sp.Expr,
                    witness: dict[sp.Symbol, sp.Expr] | None = None) -> FlowDerivative:
    """Check D_t ``quantity`` along ``system`` against ``closed_form``; evaluate the closed form at ``witness``.

    Exact algebra (``expand_log(force=True)``, ``expand``, ``cancel``) instead of ``simplify``: fast, and the
    result does not depend on hash order.  ``force`` is valid here: the logarithms are of softmax terms,
    positive for real arguments.
    """
    raw = total_derivative(sp.sympify(quantity), system)
    residual = sp.cancel(sp.expand(sp.expand_log(raw - closed_form, force=True)))
    matches = residual == 0 or is_zero(residual) == "zero"
    value = sp.N(sp.sympify(closed_form).subs(witness), 12) if witness is not None else None
    return FlowDerivative(sp.sympify(quantity), sp.sympify(closed_form), bool(matches), value)


# ---- verdicts ----------------------------------------------------------------------------------------------

def _facts(n: int = 2) -> dict[str, bool]:
    """The computed facts behind the verdict rows, for N = n states (a few seconds)."""
    model, mse, ce = cosine_model(n), mse_lagrangian(n), cross_entropy_lagrangian(n)
    q, p = softmax(mse.coords), softmax(targets(n))
    d26 = flow_derivative(H_eq26(n), model, mse_h_derivative(n), witness_point(n))
    d27 = flow_derivative(H_tilde_eq27(n), model, ce_h_derivative(n), witness_point(n))
    return {
        "EL operator agrees with sympy euler_equations": all(
            sp.cancel(a - b) == 0 for lag in (mse, ce) for a, b in zip(euler_lagrange(lag), euler_lagrange_sympy(lag))),
        "the losses contain no velocity": not any(lag.expr.has(v) for lag in (mse, ce) for v in lag.velocities),
        "CE: dL/dz_i = q_i - p_i": all(sp.cancel(sp.diff(ce.expr, zi) - (qi - pi)) == 0
                                       for zi, qi, pi in zip(ce.coords, q, p)),
        "time translation is a variational symmetry of both losses": all(
            variational_check(lag, time_translation(lag)).holds for lag in (mse, ce)),
        "energy function of both losses is -L": all(sp.expand(energy(lag) + lag.expr) == 0 for lag in (mse, ce)),
        "§2.3 formula is the energy function": all(
            sp.expand(energy_section_2_3(lag.expr, lag.coords, lag.velocities) - energy(lag)) == 0
            for lag in (mse, ce)),
        "eq 26: printed H = d/dz formula with zdot = f": is_zero(h_as_printed(mse, model) - H_eq26(n)) == "zero",
        "eq 27: printed H~ != d/dz formula with zdot = f": is_zero(h_as_printed(ce, model) - H_tilde_eq27(n))
        == "nonzero",
        "eq 27: printed H~ = -L": sp.expand(sp.expand_log(H_tilde_eq27(n) + ce.expr, force=True)) == 0,
        "eq 26: D_t H has the closed form, non-zero at the witness": d26.matches and d26.at_witness != 0,
        "eq 27: D_t H~ has the closed form, non-zero at the witness": d27.matches and d27.at_witness != 0,
    }


_ROWS = (
    (Verdict("eq 4", "EL equation dL/dz_i = d/dt dL/dzdot_i; its f must leave the action 'invariant'",
             "the standard EL operator (agrees with sympy's euler_equations); it makes the action stationary, "
             "not invariant. The paper's losses contain no zdot, so eq 4 collapses to the algebraic dL/dz_i = 0 "
             "(MSE: z = z*; CE: softmax(z) = softmax(z*)): no dynamics, and not satisfied along zdot = "
             "cos(theta1 z + theta2)", "holds with a caveat"),
     ("EL operator agrees with sympy euler_equations", "the losses contain no velocity")),
    (Verdict("eq 15", "variational symmetry: J[xbar] = J[x] + boundary term",
             "a correct definition; its infinitesimal form pr X(L) + L D_t(T) = D_t(B) recovers momentum, energy, "
             "angular momentum and the Galilean boost (B = m x) and rejects wrong (X, B). Time translation is a "
             "variational symmetry of both losses (no explicit t)", "holds"),
     ("time translation is a variational symmetry of both losses",)),
    (Verdict("claim §2.3", "H = sum dL/dzdot_i zdot_i - L is conserved, dH/dt = 0",
             "D_t H = -sum zdot_i E_i(L) - dL/dt identically: conserved on solutions of the EL equations of an L "
             "without explicit t (the condition is dL/dt = 0, not 'no t in dL/dzdot'), not along an arbitrary "
             "flow. For both losses H = -L", "holds with a caveat"),
     ("energy function of both losses is -L", "§2.3 formula is the energy function")),
    (Verdict("eq 26", "H = sum dL/dz_i zdot_i - L = (2/N) sum (z_i - z_i*) cos(theta1 z_i + theta2) - L; dH/dt = 0",
             "the printed H follows from the d/dz formula (= dL/dt - L along the flow), not from §2.3's d/dzdot "
             "(which gives -L); D_t H = (2/N) sum f_i [f_i - (z_i - z_i*)(1 + theta1 sin(theta1 z_i + theta2))] "
             "is not 0, so H is not conserved (it drifts along float64 trajectories)", "wrong"),
     ("eq 26: printed H = d/dz formula with zdot = f", "energy function of both losses is -L",
      "eq 26: D_t H has the closed form, non-zero at the witness")),
    (Verdict("eq 27", "H~ = sum dL/dz_i zdot_i - L = sum p_i log q_i (= -L); dH~/dt = 0",
             "dL/dz_i = q_i - p_i is not 0, so the first line gives sum (q_i - p_i) f_i - L, not the printed -L "
             "(which is §2.3's energy); D_t H~ = -sum (q_i - p_i) cos(theta1 z_i + theta2) is not 0 (non-zero at a "
             "witness point): H~ is not conserved. It is constant on some special trajectories (sufficient: all "
             "f_i equal -- theta1 = 0, N = 1, z_i(0) = z_j(0) mod 2 pi/theta1 -- or a rest point); that these "
             "are the only ones is not shown",
             "wrong"),
     ("CE: dL/dz_i = q_i - p_i", "eq 27: printed H~ != d/dz formula with zdot = f", "eq 27: printed H~ = -L",
      "eq 27: D_t H~ has the closed form, non-zero at the witness")),
    (Verdict("claim §3.3.2", "for the cross entropy the derivatives dL/dz_i simplify to zero, so the EL equation "
             "is trivially satisfied",
             "dL/dz_i = softmax(z)_i - softmax(z*)_i, zero only where z - z* is a multiple of (1, ..., 1)", "wrong"),
     ("CE: dL/dz_i = q_i - p_i",)),
)


def noether_verdicts(n: int = 2) -> list[Verdict]:
    """Verdict rows for eqs 4, 15, 26, 27 and the claims of §2.3 and §3.3.2.

    Each row names the computed facts it rests on (`_facts`, for N = n states).

    Raises:
        RuntimeError: if a fact a row rests on does not hold: the row's text would then be unfounded.
    """
    facts = _facts(n)
    failed = [name for _, needs in _ROWS for name in needs if not facts[name]]
    if failed:
        raise RuntimeError(f"the computation no longer supports the verdict rows: {sorted(set(failed))}")
    return [row for row, _ in _ROWS]


def verdicts() -> tuple[Verdict, ...]:
    """The chapter's audit rows, for N = 2 samples (the interface of `symnb.chapters`)."""
    return tuple(noether_verdicts())


# ---- the chapter's studies (moved out of the notebook: one library call per step) ---------------------------

def known_cases() -> list[tuple[str, Lagrangian, str, tuple, sp.Expr]]:
    """Lagrangians with textbook answers and candidate (generator, gauge) pairs, right and wrong.

    Returns:
        Rows (system, Lagrangian, generator name, (T, xi), gauge B): free particle (translation, time
        translation, Galilean boost with B = m x and with the wrong B = 0), harmonic oscillator, Kepler problem
        (rotation), damped oscillator in Caldirola-Kanai form (explicit t).  Sources: Olver (1986) §4.4;
        Goldstein, *Classical Mechanics*, ch. 8 and 13.
    """
    t_, x, y = sp.symbols("t x y", real=True)
    m, k, w, g = sp.symbols("m k omega gamma", positive=True)
    xt, yt = jet_symbol(x, t_), jet_symbol(y, t_)
    free = Lagrangian(m * xt ** 2 / 2, t_, (x,))
    osc = Lagrangian(xt ** 2 / 2 - w ** 2 * x ** 2 / 2, t_, (x,))
    kepler = Lagrangian(m * (xt ** 2 + yt ** 2) / 2 + k / sp.sqrt(x ** 2 + y ** 2), t_, (x, y))
    damped = Lagrangian(sp.exp(g * t_) * (xt ** 2 - w ** 2 * x ** 2) / 2, t_, (x,))  # x'' + g x' + w^2 x = 0
    return [
        ("free particle", free, "x-translation", (0, [1]), sp.S.Zero),
        ("free particle", free, "time translation", (1, [0]), sp.S.Zero),
        ("free particle", free, "Galilean boost", (0, [t_]), m * x),
        ("free particle", free, "boost with B = 0 (wrong gauge)", (0, [t_]), sp.S.Zero),
        ("harmonic oscillator", osc, "time translation", (1, [0]), sp.S.Zero),
        ("harmonic oscillator", osc, "x-translation (wrong)", (0, [1]), sp.S.Zero),
        ("Kepler", kepler, "rotation", (0, [-y, x]), sp.S.Zero),
        ("Kepler", kepler, "x-translation (wrong)", (0, [1, 0]), sp.S.Zero),
        ("damped oscillator (explicit t)", damped, "time translation", (1, [0]), sp.S.Zero),
        ("damped oscillator (explicit t)", damped, "d/dt - (gamma/2) x d/dx", (1, [-g * x / 2]), sp.S.Zero),
    ]


def machinery_table() -> str:
    """The variational check (eq 15), Noether charge and its on-shell derivative for every `known_cases` row.

    Returns:
        A Markdown table with LaTeX cells (display with ``IPython.display.Markdown``; the book renders it as
        MyST).  A rejected generator shows its residual and no charge.
    """
    rows = ["| L | X | B | pr X(L) + L D_t T - D_t B | charge I | D_t I on EL solutions |",
            "|---|---|---|---|---|---|"]
    for name, lag, xname, (time, xi), gauge in known_cases():
        gen = lag.generator(time, xi)
        check = variational_check(lag, gen, gauge)
        if check.holds:
            charge = noether_charge(lag, gen, gauge).charge
            cells = ["$0$", f"${sp.latex(sp.expand(charge))}$", conserved_on_shell(lag, charge).status]
        else:
            cells = [f"${sp.latex(sp.factor(check.residual))}$ ({check.status})", "rejected", "-"]
        rows.append(f"| {name} | {xname} | ${sp.latex(gauge)}$ | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def charge_claims():
    """Right and wrong claimed conserved quantities, each checked along EL solutions (a pandas DataFrame)."""
    import pandas as pd

    cases = {(name, xname): lag for name, lag, xname, *_ in known_cases()}
    osc, free = cases["harmonic oscillator", "time translation"], cases["free particle", "x-translation"]
    damped = cases["damped oscillator (explicit t)", "time translation"]
    x, xt = osc.coords[0], osc.velocities[0]
    w = next(s for s in osc.expr.free_symbols if s.name == "omega")
    m = next(s for s in free.expr.free_symbols if s.name == "m")
    claims = [("harmonic oscillator", osc, xt ** 2 / 2 + w ** 2 * x ** 2 / 2, "energy"),
              ("harmonic oscillator", osc, xt ** 2 / 2 - w ** 2 * x ** 2 / 2, "L itself (wrong)"),
              ("free particle", free, m * free.coords[0], "m x (wrong)"),
              ("damped oscillator", damped, energy(damped), "energy function (explicit t)")]
    return pd.DataFrame([(name, label, conserved_on_shell(lag, q).status) for name, lag, q, label in claims],
                        columns=["system", "claimed conserved quantity", "D_t I along EL solutions"])


@dataclass(frozen=True)
class DriftStudy:
    """H (eq 26) and H~ (eq 27) along float64 trajectories of the model, one per (theta, z*).

    Attributes:
        times: the time grid.
        series: {(theta, z*): {"H (eq 26)": tensor, "H~ (eq 27)": tensor}}.
        table: a pandas DataFrame: the drifts max_t |I(t) - I(0)|, a finite-difference check of the closed form
            of D_t H, and the drift of a genuinely conserved control (the energy of `residual_lagrangian` along its
            own EL solutions, started off the model's flow), which bounds the solver's error.
        h_range, ht_range: (min, max) of the drifts of H and H~ over the table's rows.
    """

    times: torch.Tensor
    series: dict
    table: object
    h_range: tuple[float, float]
    ht_range: tuple[float, float]


def drift_study(n: int, thetas: Sequence[Sequence[float]], targets_: Sequence[Sequence[float]],
                x0: Sequence[float], horizon: float, n_points: int = 2001) -> DriftStudy:
    """Drift of H and H~ along dopri5 float64 trajectories (rtol = atol = 1e-12) for every (theta, z*).

    Raises:
        ValueError: if a target vector or x0 does not have ``n`` entries, or ``horizon`` <= 0.
    """
    import pandas as pd

    if len(x0) != n or any(len(zs) != n for zs in targets_):
        raise ValueError(f"x0 and every target vector need n = {n} entries, got x0={list(x0)!r}, "
                         f"targets={[list(zs) for zs in targets_]!r}")
    if not horizon > 0:
        raise ValueError(f"horizon={horizon!r} must be > 0")
    model, zstar = cosine_model(n), targets(n)
    quantities = {"H (eq 26)": H_eq26(n), "H~ (eq 27)": H_tilde_eq27(n)}
    dH = mse_h_derivative(n)
    res_lag = residual_lagrangian(model)
    res_flow = euler_lagrange_system(res_lag)
    control = res_flow.on_phase(energy(res_lag))
    times = torch.linspace(0.0, horizon, n_points, dtype=torch.float64)
    series, ctrl, rows = {}, {}, []
    for th in map(tuple, thetas):
        for zs in map(tuple, targets_):
            values = {theta1: th[0], theta2: th[1], **dict(zip(zstar, zs))}
            traj = integrate(model, list(x0), times, values)
            series[th, zs] = {name: evaluate(q, traj, values) for name, q in quantities.items()}
            drift = {name: float((v - v[0]).abs().max()) for name, v in series[th, zs].items()}
            if th not in ctrl:  # the control does not depend on z*
                v0 = [float(f.subs(values).subs(dict(zip(model.states, x0)))) + 0.5 for f in model.rhs]
                ctrl[th] = numeric_drift(control, res_flow.system, list(x0) + v0, horizon, values).max_drift
            fd = torch.gradient(series[th, zs]["H (eq 26)"], spacing=(traj.times,), edge_order=2)[0]
            fd_err = float((fd - evaluate(dH, traj, values)).abs().max())
            rows.append((str(th), str(zs), drift["H (eq 26)"], drift["H~ (eq 27)"],
                         "< 1e-4" if fd_err < 1e-4 else f"{fd_err:.1e}", ctrl[th] < 1e-9))
    table = pd.DataFrame(rows, columns=["theta", "z*", "drift H (eq 26)", "drift H~ (eq 27)", "FD check dH/dt",
                                        "control drift < 1e-9"])
    h, ht = table["drift H (eq 26)"], table["drift H~ (eq 27)"]
    table["drift H (eq 26)"] = h.map(lambda v: f"{v:.3g}")
    table["drift H~ (eq 27)"] = ht.map(lambda v: f"{v:.3g}")
    return DriftStudy(times, series, table, (float(h.min()), float(h.max())), (float(ht.min()), float(ht.max())))


def special_trajectories(n: int, theta: Sequence[float], target: Sequence[float], x0: Sequence[float],
                         horizon: float):
    """Drift of H and H~ on trajectories where all states move at the same speed (sufficient for H~ constant).

    Cases: theta1 = 0 (every z_i translates by t cos theta2) and initial states congruent modulo 2 pi/theta1.

    Returns:
        A pandas DataFrame (case, drift H, drift H~ < 1e-9).
    """
    import math

    import pandas as pd

    model, zstar = cosine_model(n), targets(n)
    quantities = {"H": H_eq26(n), "H~": H_tilde_eq27(n)}
    congruent = [x0[0] + 2 * math.pi * i / theta[0] for i in range(n)]
    cases = {"theta_1 = 0": ({theta1: 0.0, theta2: theta[1]}, list(x0)),
             "z_i(0) congruent mod 2 pi/theta_1": ({theta1: theta[0], theta2: theta[1]}, congruent)}
    rows = []
    for name, (vals, start) in cases.items():
        vals = vals | dict(zip(zstar, target))
        d = {q: numeric_drift(e, model, start, horizon, vals).max_drift for q, e in quantities.items()}
        rows.append((name, f"{d['H']:.3g}", d["H~"] < 1e-9))
    return pd.DataFrame(rows, columns=["case", "drift H", "drift H~ < 1e-9"])


# --------------------------------------------------------------------------------- notebook 02's parameters
from ..core.params import Param, ParameterSchema, Rule  # noqa: E402  (kept at the end: parameter schema only)

PARAMETERS = ParameterSchema((
    Param.sequence("theta", Param.sequence("theta_pair", Param.real("theta_i"), length=2),
                   "(theta_1, theta_2) pairs; theta_1 != 0 (the Hamiltonians divide by it)"),
    Param.integer("N", "number of states", low=1),
    Param.integer("seed", "seed of the initial states", low=0),
    Param.sequence("targets", Param.sequence("target", Param.real("z_star"), min_length=1),
                   "target vectors z*, N entries each"),
    Param.real("horizon", "trajectories on [0, horizon]", low=0.0, strict=True),
), rules=(
    Rule("theta", lambda v: all(pair[0] != 0 for pair in v["theta"]),
         "pairs (theta_1, theta_2) with theta_1 != 0 (H of eq 26 divides by theta_1)"),
    Rule("targets", lambda v: all(len(zs) == v["N"] for zs in v["targets"]), "target vectors of N entries each"),
))
"""Notebook 02's ``parameters`` cell (validated in its next cell and by ``symnb sweep``)."""
