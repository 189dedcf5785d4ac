"""One call from a user's ODE to the verdict: symmetries -> first integrals -> certification -> informativeness ->
a ready conservation penalty, reported as one frozen object that renders as a table in Jupyter.

The report answers the questions a researcher with a new ODE asks before regularizing a neural field with it
(paper §2.4 and §4): which Lie point symmetries does it have inside an ansatz, which first integrals inside an
ansatz (with the route and where each is undefined), which of them can carry information when the parameters are
learned, the penalty ready to add to a loss, how long each step took and what was not decided, and why.

Rule of thumb (chapters 1-4 and 6): an integral written in the *model's own* parameters is conserved by every model
of the family, so its penalty constrains nothing; an integral of the *target* (parameters fixed at data values, or
a generic learned field) does.
"""
from __future__ import annotations

import html
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

from .first_integrals import Basis, FirstIntegrals, Status, classify_routes, first_integrals
from .informativeness import Informativeness, informativeness
from .ode import ODESystem
from .penalty import ConservationPenalty, conservation_penalty
from .symmetries import Polynomial, SymmetryBasis, find_symmetries

__all__ = ["AnalysisRow", "Analysis", "analyze"]


@dataclass(frozen=True)
class AnalysisRow:
    """One certified first integral in an `Analysis`.

    Attributes:
        expr: I(t, x), parameters symbolic.
        route: the route that derived it (``"basis"``, ``"symmetry"``, ``"noether"``).
        domain: where I is undefined or not real ("" if nowhere).
        informs: `Informativeness` of I with the parameters fixed at ``values`` on the family with the parameters
            free (can its penalty tell parameter values apart?); None without values or parameters.
        penalty: the collocation `ConservationPenalty` of I at ``values`` (None when a parameter has no value).
    """

    expr: sp.Expr
    route: str
    domain: str
    informs: Informativeness | None
    penalty: ConservationPenalty | None


@dataclass(frozen=True)
class Analysis:
    """What `analyze` found for one system.

    Attributes:
        system: the ODE system.
        ansatz: the ansatz of the integrals.
        symmetries: the `SymmetryBasis` (None if ``symmetry_ansatz=None``).
        integrals: the basis-route `FirstIntegrals`.
        rows: every certified integral (basis route, then symmetry route where it applies and adds one).
        seconds: (step, wall seconds) for each step.
        not_decided: what was not decided and why (empty when everything was).
        notes: what was decided but is worth saying (a route that does not apply, and why).
    """

    system: ODESystem
    ansatz: Any
    symmetries: SymmetryBasis | None
    integrals: FirstIntegrals
    rows: tuple[AnalysisRow, ...]
    seconds: tuple[tuple[str, float], ...]
    not_decided: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def penalties(self) -> tuple[ConservationPenalty, ...]:
        """The ready penalties, one per integral that has one."""
        return tuple(r.penalty for r in self.rows if r.penalty is not None)

    @property
    def total_seconds(self) -> float:
        """Sum of the steps' wall times."""
        return sum(s for _, s in self.seconds)

    def _table(self) -> tuple[list[str], list[list[str]]]:
        head = ["#", "first integral", "route", "undefined where", "informs a parameter fit", "penalty"]
        body = []
        for k, r in enumerate(self.rows):
            informs = "n/a (no values)" if r.informs is None else ("yes" if r.informs.informative else "no")
            body.append([str(k + 1), sp.sstr(r.expr), r.route, r.domain or "nowhere", informs,
                         "ready" if r.penalty is not None else "needs values"])
        return head, body

    def _summary(self) -> list[str]:
        sym = ("not searched" if self.symmetries is None else
               f"{len(self.symmetries.generators)} ({self.symmetries.status.value}): "
               + "; ".join(sp.sstr(g.components) for g in self.symmetries.generators))
        eqs = "; ".join(f"d{x.name}/d{self.system.t.name} = {sp.sstr(f)}"
                        for x, f in zip(self.system.states, self.system.rhs))
        return [f"system: {eqs}",
                f"symmetries (Polynomial(1)): {sym}",
                f"integrals ({self.ansatz!r}): {len(self.rows)}, status {self.integrals.status.value}",
                "time: " + ", ".join(f"{k} {v:.2f} s" for k, v in self.seconds),
                "not decided: " + ("; ".join(self.not_decided) if self.not_decided else "nothing")] + \
               [f"note: {n}" for n in self.notes]

    def _repr_markdown_(self) -> str:
        head, body = self._table()
        esc = lambda s: s.replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")  # noqa: E731
        lines = [f"- {esc(s)}" for s in self._summary()] + ["", "| " + " | ".join(head) + " |",
                                                              "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in body]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head, body = self._table()
        items = "".join(f"<li>{html.escape(s)}</li>" for s in self._summary())
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body)
        return (f"<ul>{items}</ul><table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head)
                + f"</tr></thead><tbody>{rows}</tbody></table>")

    def __repr__(self) -> str:
        return f"Analysis({len(self.rows)} integral(s), {len(self.not_decided)} not decided, {self.total_seconds:.1f} s)"


def _values(system: ODESystem, values: Mapping[Any, float] | None) -> dict[sp.Symbol, float]:
    out = {}
    params = {p.name: p for p in system.parameters}
    for k, v in (values or {}).items():
        name = k if isinstance(k, str) else getattr(k, "name", None)
        if name not in params:
            raise ValueError(f"values: {k!r} is not a parameter of the system; parameters are {sorted(params)}")
        out[params[name]] = v
    return out


def _adds(expr: sp.Expr, kept: list[sp.Expr], system: ODESystem) -> bool:
    """Is ``expr`` functionally independent of ``kept`` (the Jacobian rank grows at two random points)?"""
    if not kept:
        return True
    variables = (system.t, *system.states)
    for seed in (3, 11):
        point = {v: sp.Rational(seed * (k + 2) % 13 + 3, 11) for k, v in enumerate(variables)}
        point.update({p: sp.Rational(seed * (k + 5) % 7 + 4, 5) for k, p in enumerate(system.parameters)})
        jac = [[sp.N(sp.diff(e, v).subs(point), 30) for v in variables] for e in [*kept, expr]]
        if sp.Matrix(jac).rank(iszerofunc=lambda z: abs(z) < 1e-20) > sp.Matrix(jac[:-1]).rank(
                iszerofunc=lambda z: abs(z) < 1e-20):
            return True
    return False


def analyze(system: ODESystem, ansatz: Polynomial | Basis = Polynomial(2), *, values: Mapping[Any, float] | None = None,
            symmetry_ansatz: Polynomial | None = Polynomial(1), budget_s: float | None = 20.0) -> Analysis:
    """Symmetries, first integrals, informativeness and ready penalties of ``system`` in one call.

    Args:
        system: dx/dt = f(t, x) (paper eq 7), parameters symbolic.
        ansatz: the integrals' ansatz (`Polynomial(d)` or `Basis`).
        values: numbers for the parameters (names or Symbols): with them each integral gets a penalty and its
            informativeness for a parameter fit; without them both are reported as needing values.
        symmetry_ansatz: the symmetries' ansatz (None: skip the symmetry search and the symmetry route).
        budget_s: time budget of each symbolic step.

    Returns:
        `Analysis` (renders as a table in Jupyter).

    Raises:
        ValueError: for a system that is not an `ODESystem`, a bad ansatz, or a value for an unknown parameter.
    """
    if not isinstance(system, ODESystem):
        raise ValueError(f"system must be an ODESystem, got {type(system).__name__}")
    if not isinstance(ansatz, (Polynomial, Basis)):
        raise ValueError(f"ansatz must be Polynomial(d) or Basis(...), got {ansatz!r}")
    if symmetry_ansatz is not None and not isinstance(symmetry_ansatz, Polynomial):
        raise ValueError(f"symmetry_ansatz must be Polynomial(d) or None, got {symmetry_ansatz!r}")
    vals = _values(system, values)
    seconds, not_decided, notes = [], [], []
    symmetries = None
    if symmetry_ansatz is not None:
        start = time.perf_counter()
        symmetries = find_symmetries(system, symmetry_ansatz, budget_s=budget_s, throw=False)
        seconds.append(("symmetries", time.perf_counter() - start))
        if not symmetries.complete:
            not_decided.append(f"symmetries: {symmetries.reason}")
    start = time.perf_counter()
    integrals = first_integrals(system, ansatz, budget_s=budget_s, throw=False)
    found = [(i.expr, i.route, i.domain) for i in integrals]
    if integrals.status is not Status.COMPLETE:
        not_decided.append(f"integrals ({integrals.status.value}): {integrals.reason}")
    if symmetries is not None and symmetries.generators:
        why = classify_routes(system, symmetries=symmetries)["symmetry"]
        if why:
            notes.append(f"symmetry route not used: {why}")
        else:
            extra = first_integrals(system, symmetries=symmetries, budget_s=budget_s, throw=False)
            # Add what the polynomial ansatz could not express (the toy's F with logarithms, for instance).
            for i in extra:
                if _adds(i.expr, [e for e, _, _ in found], system):
                    found.append((i.expr, i.route, i.domain))
            if extra.status is Status.UNDECIDED:
                not_decided.append(f"symmetry route (undecided): {extra.reason}")
            elif extra.status is Status.INCOMPLETE:
                notes.append(f"symmetry route (incomplete): {extra.reason}")
    seconds.append(("integrals", time.perf_counter() - start))
    start = time.perf_counter()
    rows = []
    complete_values = bool(system.parameters) and set(vals) >= set(system.parameters)
    for expr, route, domain in found:
        informs = penalty = None
        if complete_values or not system.parameters:
            fixed = expr.subs({p: sp.nsimplify(v) for p, v in vals.items()})
            penalty = conservation_penalty(fixed, system, values={p.name: v for p, v in vals.items()})
            if system.parameters:
                informs = informativeness(fixed, system, budget_s=budget_s)
                if not informs.complete:
                    not_decided.append(f"informativeness of {sp.sstr(expr)[:60]}: {informs.reason}")
        rows.append(AnalysisRow(expr, route, domain, informs, penalty))
    seconds.append(("informativeness+penalty", time.perf_counter() - start))
    if system.parameters and not complete_values:
        not_decided.append(f"penalties and informativeness need values for {[p.name for p in system.parameters]}")
    return Analysis(system, ansatz, symmetries, integrals, tuple(rows), tuple(seconds), tuple(not_decided),
                    tuple(notes))
