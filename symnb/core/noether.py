"""Variational symmetries, Noether charges and the paper's two loss "Hamiltonians" (§2.3, §3.3; eqs 4, 15, 26-27).

A first-order Lagrangian L(t, x, x_t) lives on the first jet space: ``x_t`` is the jet symbol of
`symnb.core.ode.jet_symbol`, and D_t is the formal total derivative ``total_derivative(..., on_shell=False)``.

* Euler-Lagrange operator (eq 4): E_i(L) = dL/dx_i - D_t(dL/dx_t,i).  The paper writes eq 4 as
  dL/dz_i = d/dt dL/dzdot_i, i.e. E_i(L) = 0.  `euler_lagrange_sympy` recomputes it with
  ``sympy.calculus.euler.euler_equations`` as a cross-check.
* Variational symmetry (eq 15): a point generator X = tau d/dt + sum xi_i d/dx_i is one (with gauge term B) when
  pr X(L) + L D_t(tau) = D_t(B) identically (Olver 1986, Thm 4.12 and eq 4.36).  X is a `symnb.core.lie.Generator`
  on the Lagrangian's jet space (`Lagrangian.generator`) and pr X is `symnb.core.lie.prolong`.
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

from .integrals import ConservationCheck, conservation_check, is_zero
from .lie import Generator, prolong
from .ode import ODESystem, jet_symbol, total_derivative

__all__ = [
    "Lagrangian", "VariationalCheck", "NoetherCharge", "euler_lagrange", "euler_lagrange_sympy",
    "EulerLagrangeFlow", "euler_lagrange_system", "conserved_on_shell", "energy", "energy_flux", "time_translation",
    "variational_check", "noether_charge", "substitute_dynamics",
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
        # A velocity written as a plain Symbol("x_t") is the jet symbol x_t: match by name, never by assumptions.
        own = {s.name: s for s in (*self.velocities, *self.accelerations, *self.coords, self.t)}
        object.__setattr__(self, "expr", self.expr.xreplace(
            {s: own[s.name] for s in self.expr.free_symbols if s.name in own and own[s.name] is not s}))
        high = self.expr.free_symbols & set(self.accelerations)
        if high or self.expr.has(sp.Derivative):
            raise ValueError(f"L = {self.expr} must be first order in jet symbols {self.velocities}")

    @classmethod
    def mechanical(cls, kinetic: sp.Expr, potential: sp.Expr, *, system: ODESystem,
                   coords: Sequence[sp.Symbol] | None = None) -> "Lagrangian":
        """L = T - V on coordinates that are states of ``system`` (user symbols matched by name).

        Args:
            kinetic: T, written with the velocities ``system.velocity(q)`` (or plain symbols named ``q_t``).
            potential: V(t, q).
            system: the first-order system whose states include the coordinates.
            coords: the coordinates (default: the states whose velocity appears in T).

        Returns:
            The `Lagrangian` T - V in the system's symbols.

        Raises:
            ValueError: if T has no velocity of the system, or a coordinate is not a state.
        """
        T = system.canonical(kinetic, what="kinetic energy T")
        V = system.canonical(potential, what="potential V")
        if coords is None:
            coords = [x for x, v in zip(system.states, system.derivatives) if T.has(v)]
        else:
            coords = [system.canonical(q, what="coordinate") for q in coords]
        if not coords:
            raise ValueError(f"T = {sp.sstr(T)[:80]} has none of the system's velocities "
                             f"{[v.name for v in system.derivatives]}; write them with system.velocity(q)")
        bad = [q for q in coords if q not in system.states]
        if bad:
            raise ValueError(f"coordinates {bad} are not states of the system {[x.name for x in system.states]}")
        return cls(T - V, system.t, tuple(coords))

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

    def generator(self, time: sp.Expr, coefficients: Sequence[sp.Expr]) -> Generator:
        """The point generator X = time d/dt + sum_i coefficients[i] d/dx_i on this Lagrangian's jet space.

        Raises:
            ValueError: for the wrong number of coefficients, or components depending on velocities.
        """
        gen = Generator(self.jet, time, tuple(coefficients))
        _check_generator(self, gen)
        return gen

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
        """det d^2L/dx_t^2 is not identically 0: the EL equations can be solved for the accelerations."""
        return sp.simplify(self.hessian.det()) != 0


def euler_lagrange(lag: Lagrangian) -> tuple[sp.Expr, ...]:
    """E_i(L) = dL/dx_i - D_t(dL/dx_t,i) for each coordinate (eq 4 is E_i(L) = 0), unsimplified.

    Args:
        lag: the `Lagrangian`.

    Returns:
        One expression E_i(L) per coordinate, on the second jet space.

    Raises:
        Nothing: a `Lagrangian` validates itself on construction.
    """
    return tuple(sp.diff(lag.expr, x) - lag.D(p) for x, p in zip(lag.coords, lag.momenta))


def euler_lagrange_sympy(lag: Lagrangian) -> tuple[sp.Expr, ...]:
    """E_i(L) by ``sympy.calculus.euler.euler_equations``, translated back to jet symbols (a cross-check)."""
    funcs = [sp.Function(x.name, real=True)(lag.t) for x in lag.coords]
    to_funcs = {v: f.diff(lag.t) for v, f in zip(lag.velocities, funcs)} | dict(zip(lag.coords, funcs))
    back = {f.diff(lag.t, 2): a for f, a in zip(funcs, lag.accelerations)}
    back |= {f.diff(lag.t): v for f, v in zip(funcs, lag.velocities)}
    out = []
    for f in funcs:  # one call per function: euler_equations drops an equation that is identically 0 = 0
        eqs = euler_equations(lag.expr.subs(to_funcs), [f], lag.t)
        e = eqs[0].lhs - eqs[0].rhs if eqs else sp.Integer(0)
        out.append(e.subs(back).subs(dict(zip(funcs, lag.coords))))
    return tuple(out)


def energy(lag: Lagrangian) -> sp.Expr:
    """The energy function E = sum_i x_t,i dL/dx_t,i - L (§2.3's H, with the derivative in the velocity)."""
    return sum((v * p for v, p in zip(lag.velocities, lag.momenta)), sp.Integer(0)) - lag.expr


def energy_flux(lag: Lagrangian) -> sp.Expr:
    """The jet-space identity D_t E = -sum_i x_t,i E_i(L) - dL/dt, returned as its right side.

    E is conserved where E(L) = 0 and L has no explicit t -- on solutions of the EL equations.
    """
    return -sum(v * e for v, e in zip(lag.velocities, euler_lagrange(lag))) - sp.diff(lag.expr, lag.t)


def _check_generator(lag: Lagrangian, gen: Generator) -> None:
    if gen.system.t != lag.t or gen.system.states != lag.coords:
        raise ValueError(f"generator acts on ({gen.system.t}, {gen.system.states}), L on ({lag.t}, {lag.coords}); "
                         "build it with Lagrangian.generator")
    jets = set(lag.velocities) | set(lag.accelerations)
    if any(c.free_symbols & jets for c in gen.components):
        raise ValueError("a point generator's components may not depend on velocities")


def time_translation(lag: Lagrangian) -> Generator:
    """X = d/dt."""
    return lag.generator(1, [0] * len(lag.coords))


@dataclass(frozen=True)
class VariationalCheck:
    """The infinitesimal criterion pr X(L) + L D_t(tau) - D_t(B), simplified, and whether it vanishes.

    Attributes:
        holds: True when the residual is identically 0 (X is a variational symmetry with gauge term B).
        residual: pr X(L) + L D_t(tau) - D_t(B), simplified.
        status: ``"zero"``, ``"nonzero"`` or ``"undecided"`` (see `symnb.core.integrals.is_zero`).
    """

    holds: bool
    residual: sp.Expr
    status: str


def variational_check(lag: Lagrangian, generator: Generator, gauge: sp.Expr = 0) -> VariationalCheck:
    """Is ``generator`` a variational symmetry of ``lag`` with gauge term ``gauge`` = B(t, x)?  (eq 15).

    ``generator`` is a `symnb.core.lie.Generator` on ``lag.jet`` (`Lagrangian.generator`); its first prolongation
    (`symnb.core.lie.prolong`, paper eqs 10-11) acts on L.

    Args:
        lag: the `Lagrangian`.
        generator: a point generator on ``lag.jet``.
        gauge: the gauge term B(t, x) (at most first order).

    Returns:
        `VariationalCheck` (``holds``, residual, status).

    Raises:
        ValueError: for a generator on another jet space, with velocity-dependent components, or a gauge term of
            second order.
    """
    _check_generator(lag, generator)
    gauge = sp.sympify(gauge)
    if gauge.free_symbols & set(lag.accelerations):
        raise ValueError(f"gauge term {gauge} must be at most first order")
    pr_l = prolong(generator, 1).apply(lag.expr)
    residual = sp.simplify(pr_l + lag.expr * lag.D(generator.time) - lag.D(gauge))
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

    Args:
        lag: the `Lagrangian`.
        generator: a point generator on ``lag.jet`` (`Lagrangian.generator`).
        gauge: the gauge term B(t, x).

    Returns:
        `NoetherCharge` (charge, characteristic, flux residual).

    Raises:
        ValueError: if (generator, gauge) fails the infinitesimal criterion (`variational_check`): a wrong
            symmetry or a wrong gauge term yields no charge.
    """
    check = variational_check(lag, generator, gauge)
    if not check.holds:
        raise ValueError(f"not a variational symmetry: pr X(L) + L D_t(tau) - D_t(B) = {check.residual} "
                         f"({check.status})")
    q = tuple(c - generator.time * v for c, v in zip(generator.coefficients, lag.velocities))
    p = lag.momenta
    charge = sum((c * m for c, m in zip(generator.coefficients, p)), sp.Integer(0)) - generator.time * energy(lag)
    charge -= gauge
    charge = sp.simplify(charge)
    flux = sp.simplify(lag.D(charge) + sum(c * e for c, e in zip(q, euler_lagrange(lag))))
    return NoetherCharge(charge, q, flux)


@dataclass(frozen=True)
class EulerLagrangeFlow:
    """The EL equations of a regular L as a first-order system on phase space.

    Attributes:
        system: states (x_1..x_k, x_1'..x_k'), equations x_i' = x_i' (as a state) and x_i'' = solved x_tt,i.
        to_phase: x_t,i -> the state x_i' (jet symbols cannot be states: the system's own jets are x_t).
    """

    system: ODESystem
    to_phase: dict[sp.Symbol, sp.Symbol]

    def on_phase(self, expr: sp.Expr) -> sp.Expr:
        """A jet expression (t, x, x_t) as a function of the system's states."""
        return sp.sympify(expr).subs(self.to_phase)


def euler_lagrange_system(lag: Lagrangian) -> EulerLagrangeFlow:
    """Solve E(L) = 0 for the accelerations of a regular L.

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
    to_phase = {v: sp.Symbol(f"{x.name}'", real=True) for x, v in zip(lag.coords, lag.velocities)}
    acc = tuple(sp.simplify(sol[0][a]).subs(to_phase) for a in lag.accelerations)
    vel = tuple(to_phase.values())
    return EulerLagrangeFlow(ODESystem(lag.t, lag.coords + vel, vel + acc), to_phase)


def conserved_on_shell(lag: Lagrangian, quantity: sp.Expr) -> ConservationCheck:
    """`symnb.core.integrals.conservation_check` of a jet function along the EL equations of a regular L."""
    flow = euler_lagrange_system(lag)
    return conservation_check(flow.on_phase(quantity), flow.system)


def substitute_dynamics(expr: sp.Expr, system: ODESystem) -> sp.Expr:
    """Replace every velocity x_t by the model's f(t, x).

    Applied to a Lagrangian this gives a *different* Lagrangian (one with no velocity): substitution does not
    commute with d/dx_t, so EL equations and energies must be computed before substituting, never after.
    """
    return sp.sympify(expr).subs(system.on_shell)
