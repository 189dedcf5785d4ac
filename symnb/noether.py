"""Variational symmetries, Noether charges and the paper's two loss "Hamiltonians" (§2.3, §3.3; eqs 4, 15, 26-27).

A first-order Lagrangian L(t, x, x_t) lives on the first jet space: ``x_t`` is the jet symbol of
`symnb.ode.jet_symbol`, and D_t is the formal total derivative ``total_derivative(..., on_shell=False)``.

* Euler-Lagrange operator (eq 4): E_i(L) = dL/dx_i - D_t(dL/dx_t,i).  The paper writes eq 4 as
  dL/dz_i = d/dt dL/dzdot_i, i.e. E_i(L) = 0.  `euler_lagrange_sympy` recomputes it with
  ``sympy.calculus.euler.euler_equations`` as a cross-check.
* Variational symmetry (eq 15): a point generator X = tau d/dt + sum xi_i d/dx_i is one (with gauge term B) when
  pr X(L) + L D_t(tau) = D_t(B) identically (Olver 1986, Thm 4.12 and eq 4.36).
* Noether charge: I = sum xi_i dL/dx_t,i + tau (L - sum x_t,i dL/dx_t,i) - B.  On the jet space
  D_t I = -sum Q_i E_i(L) with characteristic Q_i = xi_i - tau x_t,i, so I is conserved on solutions of the
  Euler-Lagrange equations -- and only there.  Time translation (tau=1, xi=0, B=0) gives I = -E with the
  energy function E = sum x_t,i dL/dx_t,i - L of §2.3.

The paper's losses (the MSE of §3.3.1 and the softmax cross entropy of §3.3.2) contain no velocity: their
Euler-Lagrange equations are the algebraic conditions dL/dz_i = 0 and their energy function is -L.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import sympy as sp
from sympy.calculus.euler import euler_equations

from .audit import Verdict
from .conservation import conservation_check, is_zero
from .ode import ODESystem, jet_symbol, ode_system, total_derivative

__all__ = [
    "Lagrangian", "Generator", "VariationalCheck", "NoetherCharge",
    "euler_lagrange", "euler_lagrange_sympy", "euler_lagrange_system", "energy", "energy_flux",
    "time_translation", "variational_check", "noether_charge", "substitute_dynamics", "h_as_printed",
    "states", "targets", "THETA", "cosine_model", "mse_lagrangian", "cross_entropy_lagrangian",
    "softmax", "residual_lagrangian", "noether_verdicts",
]


@dataclass(frozen=True)
class Lagrangian:
    """A first-order Lagrangian L(t, x, x_t) of the coordinates ``coords``.

    Attributes:
        expr: L, an expression in t, the coordinates, their jet symbols x_t and parameters.
        t: the independent variable.
        coords: the dependent variables x_1..x_k (plain symbols).

    Raises:
        ValueError: if the coordinates are not distinct symbols different from t, or ``expr`` contains a
            second-order jet symbol x_tt or a Derivative (use jet symbols for velocities).
    """

    expr: sp.Expr
    t: sp.Symbol
    coords: tuple[sp.Symbol, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "expr", sp.sympify(self.expr))
        object.__setattr__(self, "coords", tuple(self.coords))
        if not self.coords or len(set(self.coords)) != len(self.coords) or self.t in self.coords:
            raise ValueError(f"coordinates must be distinct symbols other than t={self.t}, got {self.coords}")
        if not all(isinstance(x, sp.Symbol) for x in (self.t, *self.coords)):
            raise ValueError(f"t and the coordinates must be SymPy Symbols, got {self.t}, {self.coords}")
        high = self.expr.free_symbols & set(self.accelerations)
        if high or self.expr.has(sp.Derivative):
            raise ValueError(f"L = {self.expr} must be first order in jet symbols {self.velocities}")

    @cached_property
    def velocities(self) -> tuple[sp.Symbol, ...]:
        """The jet symbols x_t."""
        return tuple(jet_symbol(x, self.t) for x in self.coords)

    @cached_property
    def accelerations(self) -> tuple[sp.Symbol, ...]:
        """The jet symbols x_tt (they appear in E(L) and in D_t of first-order expressions)."""
        return tuple(jet_symbol(x, self.t, 2) for x in self.coords)

    @cached_property
    def jet(self) -> ODESystem:
        """The free first jet over (t, coords): only its t and states are used, by the off-shell D_t."""
        return ODESystem(self.t, self.coords, self.velocities)

    def D(self, expr: sp.Expr) -> sp.Expr:
        """Formal total derivative D_t of a first-order jet expression (x -> x_t, x_t -> x_tt)."""
        return total_derivative(sp.sympify(expr), self.jet, on_shell=False, order=1)

    @cached_property
    def momenta(self) -> tuple[sp.Expr, ...]:
        """dL/dx_t,i."""
        return tuple(sp.diff(self.expr, v) for v in self.velocities)

    @cached_property
    def hessian(self) -> sp.Matrix:
        """d^2 L / dx_t,i dx_t,j; L is regular (EL solvable for x_tt) when its determinant is not 0."""
        return sp.Matrix([[sp.diff(p, v) for v in self.velocities] for p in self.momenta])

    @property
    def is_regular(self) -> bool:
        return sp.simplify(self.hessian.det()) != 0


def euler_lagrange(lag: Lagrangian) -> tuple[sp.Expr, ...]:
    """E_i(L) = dL/dx_i - D_t(dL/dx_t,i) for each coordinate (eq 4 is E_i(L) = 0), unsimplified."""
    return tuple(sp.diff(lag.expr, x) - lag.D(p) for x, p in zip(lag.coords, lag.momenta))


def euler_lagrange_sympy(lag: Lagrangian) -> tuple[sp.Expr, ...]:
    """E_i(L) by ``sympy.calculus.euler.euler_equations``, translated back to jet symbols (a cross-check)."""
    funcs = [sp.Function(x.name, real=True)(lag.t) for x in lag.coords]
    to_funcs = {v: f.diff(lag.t) for v, f in zip(lag.velocities, funcs)} | dict(zip(lag.coords, funcs))
    eqs = euler_equations(lag.expr.subs(to_funcs), funcs, lag.t)
    back = {f.diff(lag.t, 2): a for f, a in zip(funcs, lag.accelerations)}
    back |= {f.diff(lag.t): v for f, v in zip(funcs, lag.velocities)}
    out = []
    for eq in eqs:
        e = (eq.lhs - eq.rhs).subs(back)
        out.append(e.subs(dict(zip(funcs, lag.coords))))
    return tuple(out)


def energy(lag: Lagrangian) -> sp.Expr:
    """The energy function E = sum_i x_t,i dL/dx_t,i - L (§2.3's H, with the derivative in the velocity)."""
    return sum((v * p for v, p in zip(lag.velocities, lag.momenta)), sp.Integer(0)) - lag.expr


def energy_flux(lag: Lagrangian) -> sp.Expr:
    """The jet-space identity D_t E = -sum_i x_t,i E_i(L) - dL/dt, returned as its right side.

    E is conserved where E(L) = 0 and L has no explicit t -- on solutions of the EL equations.
    """
    return -sum(v * e for v, e in zip(lag.velocities, euler_lagrange(lag))) - sp.diff(lag.expr, lag.t)


@dataclass(frozen=True)
class Generator:
    """A point generator X = tau d/dt + sum_i xi_i d/dx_i (tau, xi functions of t, x and parameters)."""

    tau: sp.Expr
    xi: tuple[sp.Expr, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "tau", sp.sympify(self.tau))
        object.__setattr__(self, "xi", tuple(sp.sympify(c) for c in self.xi))

    def _check(self, lag: Lagrangian) -> None:
        if len(self.xi) != len(lag.coords):
            raise ValueError(f"generator has {len(self.xi)} xi components, L has coordinates {lag.coords}")
        jets = set(lag.velocities) | set(lag.accelerations)
        if any(c.free_symbols & jets for c in (self.tau, *self.xi)):
            raise ValueError("a point generator's tau and xi may not depend on velocities")

    def prolongation(self, lag: Lagrangian) -> tuple[sp.Expr, ...]:
        """eta_i = D_t xi_i - x_t,i D_t tau: the coefficients of d/dx_t,i in pr^(1) X (paper eq 10-11)."""
        self._check(lag)
        dtau = lag.D(self.tau)
        return tuple(lag.D(c) - v * dtau for c, v in zip(self.xi, lag.velocities))

    def apply(self, lag: Lagrangian, expr: sp.Expr) -> sp.Expr:
        """pr^(1) X applied to a first-order jet expression."""
        eta = self.prolongation(lag)
        out = self.tau * sp.diff(expr, lag.t)
        out += sum(c * sp.diff(expr, x) for c, x in zip(self.xi, lag.coords))
        return out + sum(e * sp.diff(expr, v) for e, v in zip(eta, lag.velocities))

    def characteristic(self, lag: Lagrangian) -> tuple[sp.Expr, ...]:
        """Q_i = xi_i - tau x_t,i."""
        self._check(lag)
        return tuple(c - self.tau * v for c, v in zip(self.xi, lag.velocities))


def time_translation(lag: Lagrangian) -> Generator:
    """X = d/dt."""
    return Generator(sp.Integer(1), tuple(sp.Integer(0) for _ in lag.coords))


@dataclass(frozen=True)
class VariationalCheck:
    """The infinitesimal criterion pr X(L) + L D_t(tau) - D_t(B), simplified, and whether it vanishes.

    Attributes:
        holds: True when the residual is identically 0 (X is a variational symmetry with gauge term B).
        residual: pr X(L) + L D_t(tau) - D_t(B), simplified.
        status: ``"zero"``, ``"nonzero"`` or ``"undecided"`` (see `symnb.conservation.is_zero`).
    """

    holds: bool
    residual: sp.Expr
    status: str


def variational_check(lag: Lagrangian, generator: Generator, gauge: sp.Expr = 0) -> VariationalCheck:
    """Is ``generator`` a variational symmetry of ``lag`` with gauge term ``gauge`` = B(t, x)?  (eq 15)."""
    gauge = sp.sympify(gauge)
    if gauge.free_symbols & set(lag.accelerations):
        raise ValueError(f"gauge term {gauge} must be at most first order")
    residual = sp.simplify(generator.apply(lag, lag.expr) + lag.expr * lag.D(generator.tau) - lag.D(gauge))
    status = is_zero(residual)
    return VariationalCheck(status == "zero", residual, status)


@dataclass(frozen=True)
class NoetherCharge:
    """The conserved quantity of a variational symmetry.

    Attributes:
        charge: I = sum xi_i dL/dx_t,i + tau (L - sum x_t,i dL/dx_t,i) - B.
        characteristic: Q_i = xi_i - tau x_t,i.
        flux_residual: D_t I + sum Q_i E_i(L), simplified; 0 means D_t I = -Q . E(L) on the whole jet
            space, so I is constant along every solution of the Euler-Lagrange equations.
    """

    charge: sp.Expr
    characteristic: tuple[sp.Expr, ...]
    flux_residual: sp.Expr

    @property
    def conserved_on_shell(self) -> bool:
        return self.flux_residual == 0


def noether_charge(lag: Lagrangian, generator: Generator, gauge: sp.Expr = 0) -> NoetherCharge:
    """Noether's theorem for a point variational symmetry.

    Raises:
        ValueError: if (generator, gauge) fails the infinitesimal criterion (`variational_check`): a wrong
            symmetry or a wrong gauge term yields no charge.
    """
    check = variational_check(lag, generator, gauge)
    if not check.holds:
        raise ValueError(f"not a variational symmetry: pr X(L) + L D_t(tau) - D_t(B) = {check.residual} "
                         f"({check.status})")
    q = generator.characteristic(lag)
    p = lag.momenta
    charge = sum((c * m for c, m in zip(generator.xi, p)), sp.Integer(0)) - generator.tau * energy(lag) - gauge
    charge = sp.simplify(charge)
    flux = sp.simplify(lag.D(charge) + sum(c * e for c, e in zip(q, euler_lagrange(lag))))
    return NoetherCharge(charge, q, flux)


def euler_lagrange_system(lag: Lagrangian) -> ODESystem:
    """The EL equations of a regular L as a first-order system in (x, x_t): x' = x_t, x_t' = solved x_tt.

    Raises:
        ValueError: if L is degenerate (det d^2L/dx_t^2 = 0): then E(L) = 0 cannot be solved for the
            accelerations -- for an L with no velocity at all the equations are the algebraic dL/dx_i = 0.
    """
    if not lag.is_regular:
        raise ValueError(f"L = {lag.expr} is degenerate (det d^2L/dx_t^2 = 0): its Euler-Lagrange equations "
                         f"{[sp.simplify(e) for e in euler_lagrange(lag)]} = 0 are not a second-order system")
    sol = sp.solve(euler_lagrange(lag), lag.accelerations, dict=True)
    if len(sol) != 1:
        raise ValueError(f"could not solve the Euler-Lagrange equations for {lag.accelerations}: {sol}")
    acc = tuple(sp.simplify(sol[0][a]) for a in lag.accelerations)
    return ODESystem(lag.t, lag.coords + lag.velocities, lag.velocities + acc)


def substitute_dynamics(expr: sp.Expr, system: ODESystem) -> sp.Expr:
    """Replace every velocity x_t by the model's f(t, x).

    Applied to a Lagrangian this gives a *different* Lagrangian (one with no velocity): substitution does not
    commute with d/dx_t, so EL equations and energies must be computed before substituting, never after.
    """
    return sp.sympify(expr).subs(system.on_shell)


def h_as_printed(lag: Lagrangian, system: ODESystem) -> sp.Expr:
    """The first line of eqs 26-27, sum_i (dL/dz_i) zdot_i - L, with zdot = f substituted (as the paper does)."""
    from .printed.noether import hamiltonian_formula_eq26_27

    return substitute_dynamics(hamiltonian_formula_eq26_27(lag.expr, lag.coords, lag.velocities), system)


# ---- the paper's toy model and losses -----------------------------------------------------------------------

T = sp.Symbol("t", real=True)
THETA = (sp.Symbol("theta_1", real=True), sp.Symbol("theta_2", real=True))


def _check_n(n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"N must be a positive integer, got {n!r}")


def states(n: int) -> tuple[sp.Symbol, ...]:
    """z_1..z_N (real)."""
    _check_n(n)
    return tuple(sp.Symbol(f"z_{i}", real=True) for i in range(1, n + 1))


def targets(n: int) -> tuple[sp.Symbol, ...]:
    """z*_1..z*_N (real), printed z^*_i."""
    _check_n(n)
    return tuple(sp.Symbol(f"z^*_{i}", real=True) for i in range(1, n + 1))


def cosine_model(n: int) -> ODESystem:
    """dz_i/dt = cos(theta_1 z_i + theta_2), i = 1..N (eq 2 with sigma = cos, §3.1), N decoupled copies."""
    th1, th2 = THETA
    funcs = [sp.Function(z.name, real=True)(T) for z in states(n)]
    return ode_system([sp.Eq(f.diff(T), sp.cos(th1 * f + th2)) for f in funcs], T)


def mse_lagrangian(n: int) -> Lagrangian:
    """§3.3.1: L = (1/N) sum_i (z_i - z_i*)^2 (no velocity)."""
    z, zs = states(n), targets(n)
    return Lagrangian(sp.Rational(1, n) * sum((a - b) ** 2 for a, b in zip(z, zs)), T, z)


def softmax(xs: Sequence[sp.Expr]) -> tuple[sp.Expr, ...]:
    """e^{x_i} / sum_j e^{x_j}."""
    den = sum(sp.exp(x) for x in xs)
    return tuple(sp.exp(x) / den for x in xs)


def cross_entropy_lagrangian(n: int) -> Lagrangian:
    """§3.3.2: L = -sum_i p_i log q_i, p = softmax(z*), q = softmax(z) (no velocity), written as printed."""
    z = states(n)
    p, q = softmax(targets(n)), softmax(z)
    return Lagrangian(-sum(pi * sp.log(qi) for pi, qi in zip(p, q)), T, z)


def residual_lagrangian(system: ODESystem) -> Lagrangian:
    """L_f = (1/2) sum_i (x_t,i - f_i)^2: a regular Lagrangian whose EL solutions include the model's flow.

    Not in the paper: the honest way to make "ż = f" enter a Lagrangian through the velocity.
    """
    vel = system.derivatives
    expr = sp.Rational(1, 2) * sum((v - f) ** 2 for v, f in zip(vel, system.rhs))
    return Lagrangian(expr, system.t, system.states)


# ---- verdicts ----------------------------------------------------------------------------------------------

def _facts(n: int = 2) -> dict[str, bool]:
    """The symbolic facts behind the verdict rows, computed for N = n states."""
    from .printed.noether import H_eq26, H_tilde_eq27, energy_section_2_3

    model, mse, ce = cosine_model(n), mse_lagrangian(n), cross_entropy_lagrangian(n)
    q, p = softmax(mse.coords), softmax(targets(n))
    facts = {
        "el_matches_sympy": all(is_zero(a - b) == "zero" for lag in (mse, ce)
                                for a, b in zip(euler_lagrange(lag), euler_lagrange_sympy(lag))),
        "mse_no_velocity": not any(mse.expr.has(v) for v in mse.velocities),
        "ce_dL_dz_is_q_minus_p": all(is_zero(sp.diff(ce.expr, z) - (qi - pi)) == "zero"
                                     for z, qi, pi in zip(ce.coords, q, p)),
        "time_translation_symmetry": all(variational_check(lag, time_translation(lag)).holds for lag in (mse, ce)),
        "energy_is_minus_L": all(is_zero(energy(lag) + lag.expr) == "zero" for lag in (mse, ce)),
        "printed_energy_formula": all(is_zero(energy_section_2_3(lag.expr, lag.coords, lag.velocities)
                                              - energy(lag)) == "zero" for lag in (mse, ce)),
        "H26_matches_dz_formula": is_zero(h_as_printed(mse, model) - H_eq26(n)) == "zero",
        "H27_matches_dz_formula": is_zero(h_as_printed(ce, model) - H_tilde_eq27(n)) == "zero",
        "H27_is_minus_L": is_zero(H_tilde_eq27(n) + ce.expr) == "zero",
        "H26_conserved": conservation_check(H_eq26(n), model).status != "nonzero",
        "H27_conserved": conservation_check(H_tilde_eq27(n), model).status != "nonzero",
    }
    return facts


def noether_verdicts(n: int = 2) -> list[Verdict]:
    """Verdict rows for eqs 4, 15, 26, 27 and the claims of §2.3 and §3.3.2, decided by computation (N = n)."""
    f = _facts(n)

    def pick(ok: bool, good: str, bad: str) -> str:
        return good if ok else bad

    return [
        Verdict("eq 4", "EL equation dL/dz_i = d/dt dL/dzdot_i; its f must leave the action 'invariant'",
                "standard EL operator (agrees with sympy euler_equations); it makes the action stationary, not "
                "invariant. The paper's losses contain no zdot, so eq 4 collapses to the algebraic dL/dz_i = 0 "
                "(MSE: z = z*; CE: softmax(z) = softmax(z*)), which the flow zdot = cos(theta1 z + theta2) does "
                "not satisfy",
                pick(f["el_matches_sympy"] and f["mse_no_velocity"], "holds with a caveat", "wrong")),
        Verdict("eq 15", "variational symmetry: J[xbar] = J[x] + boundary term",
                "correct definition; its infinitesimal form pr X(L) + L D_t(T) = D_t(B) recovers momentum, "
                "energy, angular momentum and the Galilean boost (B = m x) and rejects wrong (X, B). Time "
                "translation is a variational symmetry of both losses (no explicit t)",
                pick(f["time_translation_symmetry"], "holds", "wrong")),
        Verdict("claim §2.3", "H = sum dL/dzdot_i zdot_i - L is conserved (dH/dt = 0)",
                "D_t H = -sum zdot_i E_i(L) - dL/dt identically: conserved only on solutions of the EL "
                "equations of an L without explicit t, not along an arbitrary flow. For both losses H = -L",
                pick(f["energy_is_minus_L"] and f["printed_energy_formula"], "holds with a caveat", "wrong")),
        Verdict("eq 26", "H = sum dL/dz_i zdot_i - L = (2/N) sum (z_i - z_i*) cos(theta1 z_i + theta2) - L, "
                "dH/dt = 0",
                "the printed H follows from the d/dz formula (= dL/dt - L along the flow), not from §2.3's d/dzdot "
                "(which gives -L); D_t H = (2/N) sum f_i [f_i - (z_i - z_i*)(1 + theta1 sin(theta1 z_i + theta2))]"
                " is not 0: H is not conserved (O(0.1-1) drift on float64 trajectories)",
                pick(f["H26_matches_dz_formula"] and not f["H26_conserved"], "wrong", "holds")),
        Verdict("eq 27", "H~ = sum dL/dz_i zdot_i - L = sum p_i log q_i, dH~/dt = 0",
                "dL/dz_i = q_i - p_i is not 0, so the first line gives sum (q_i - p_i) f_i - L, not the printed "
                "H~ = -L (which is §2.3's energy); D_t H~ = -sum (q_i - p_i) cos(theta1 z_i + theta2) is not 0: "
                "conserved only when all f_i coincide (theta1 = 0, N = 1, z_i = z_j mod 2 pi/theta1) or q = p",
                pick(f["H27_is_minus_L"] and not f["H27_matches_dz_formula"] and not f["H27_conserved"],
                     "wrong", "holds")),
        Verdict("claim §3.3.2", "for the cross entropy the derivatives dL/dz_i simplify to zero, so the EL "
                "equation is trivially satisfied",
                "dL/dz_i = softmax(z)_i - softmax(z*)_i, zero only when z - z* is a multiple of (1, ..., 1)",
                pick(f["ce_dL_dz_is_q_minus_p"], "wrong", "holds")),
    ]
