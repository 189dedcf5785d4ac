"""Systems of first-order ODEs in one independent variable, and the total derivative along them.

The paper writes every object it studies -- the hidden-state dynamics (eq 2), the adjoint system (eqs 5-6),
the transformed equations (eq 13) -- as dx_i/dt = f_i(t, x_1, ..., x_k) (eq 7).  `ODESystem` is that object
with plain SymPy symbols for t and the states; every other symbol in the right-hand sides is a parameter.

Jet variables: the first derivative of a state ``z`` is the symbol ``z_t``, the second ``z_tt`` and so on
(Olver 1986, section 2.3).  `total_derivative` is D_t of eq 11, either on the jet space (off shell) or
restricted to solutions (on shell, x_t = f).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

__all__ = ["ODESystem", "ode_system", "jet_symbol", "total_derivative"]


def jet_symbol(state: sp.Symbol, t: sp.Symbol, order: int = 1) -> sp.Symbol:
    """The jet coordinate for the ``order``-th derivative of ``state`` with respect to ``t``.

    Raises:
        ValueError: if ``order`` < 1.
    """
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"derivative order must be an integer >= 1, got {order!r}")
    return sp.Symbol(f"{state.name}_{t.name * order}", real=True)


@dataclass(frozen=True)
class ODESystem:
    """dx_i/dt = f_i(t, x) for i = 1..k (paper eq 7).

    Attributes:
        t: the independent variable.
        states: the dependent variables x_1..x_k (plain symbols).
        rhs: the right-hand sides f_1..f_k.

    Raises:
        TypeError: if t or a state is not a SymPy Symbol.
        ValueError: if states repeat, contain t, or rhs has the wrong length.
    """

    t: sp.Symbol
    states: tuple[sp.Symbol, ...]
    rhs: tuple[sp.Expr, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "states", tuple(self.states))
        object.__setattr__(self, "rhs", tuple(sp.sympify(f) for f in self.rhs))
        if not isinstance(self.t, sp.Symbol):
            raise TypeError(f"independent variable must be a SymPy Symbol, got {self.t!r}")
        for x in self.states:
            if not isinstance(x, sp.Symbol):
                raise TypeError(f"states must be SymPy Symbols, got {x!r}")
        if not self.states:
            raise ValueError("an ODE system needs at least one state")
        if len(set(self.states)) != len(self.states) or self.t in self.states:
            raise ValueError(f"states must be distinct and differ from t={self.t}, got {self.states}")
        if len(self.rhs) != len(self.states):
            raise ValueError(f"{len(self.states)} states but {len(self.rhs)} right-hand sides")
        for f in self.rhs:
            if f.has(sp.Derivative) or f.atoms(sp.core.function.AppliedUndef):
                raise ValueError(f"right-hand side {f} must be an expression in t, the states and parameters")

    @cached_property
    def parameters(self) -> tuple[sp.Symbol, ...]:
        """Symbols in the right-hand sides that are neither t nor a state, sorted by name."""
        free = set().union(*(f.free_symbols for f in self.rhs)) - {self.t, *self.states}
        return tuple(sorted(free, key=lambda s: s.name))

    @cached_property
    def derivatives(self) -> tuple[sp.Symbol, ...]:
        """The jet symbols x_t for each state."""
        return tuple(jet_symbol(x, self.t) for x in self.states)

    @cached_property
    def residuals(self) -> tuple[sp.Expr, ...]:
        """Delta_i = x_i,t - f_i: the equations as functions on the first jet space."""
        return tuple(d - f for d, f in zip(self.derivatives, self.rhs))

    @cached_property
    def on_shell(self) -> dict[sp.Symbol, sp.Expr]:
        """The substitution x_t -> f that restricts a jet expression to solutions."""
        return dict(zip(self.derivatives, self.rhs))

    @property
    def is_autonomous(self) -> bool:
        """True when no right-hand side depends explicitly on t."""
        return not any(f.has(self.t) for f in self.rhs)

    @cached_property
    def known_symbols(self) -> dict[str, sp.Symbol]:
        """Every symbol the system knows, by name: t, the states, their first jet symbols and the parameters."""
        return {s.name: s for s in (self.t, *self.states, *self.derivatives, *self.parameters)}

    def to_module(self, values=None, *, dtype=None, device=None, trainable: bool = False, axis: int | None = -1):
        """This system's right-hand side as a torch module f(t, y) for ``torchdiffeq.odeint`` / ``odeint_adjoint``.

        See `symnb.core.bridge.field_module` (the one system->torch bridge): parameters are stored as buffers
        (``trainable=True``: as ``nn.Parameter``), ``values`` keyed by symbol or name, ``dtype``/``device`` of the
        stored numbers (float64 / CPU by default), y laid out as (..., n) (``axis=-1``).

        Raises:
            ValueError: if ``values`` misses or adds a parameter.
        """
        from .bridge import field_module  # deferred: the bridge needs torch, the symbolic core does not

        return field_module(self, values, dtype=dtype, device=device, trainable=trainable, axis=axis)

    def parameter_values(self, values, *, what: str = "values", extra: Sequence[sp.Symbol] = (),
                         foreign_symbols: bool = False) -> dict[sp.Symbol, object]:
        """Numbers for parameters keyed by the system's own symbols, from a mapping keyed by names or Symbols.

        Keys are matched by name (a user's ``sp.Symbol("k")``, ``Symbol("k", positive=True)`` or ``"k"`` is the
        parameter ``k``), so a number is never silently ignored because of SymPy assumptions.

        Args:
            values: a mapping {name or Symbol: number} (None: no values).
            what: how the error message names the argument.
            extra: further symbols (not parameters of the system) that may be given a value, matched by name
                (e.g. the other symbols of a quantity evaluated along the flow).
            foreign_symbols: allow (and drop) Symbol keys that name nothing here, so one dict can serve the system
                and other expressions (a group parameter, constants of a map); a *name* that is not known always
                raises.  A dropped key cannot hide a typo: the parameter it was meant for is then missing.

        Returns:
            A dict keyed by the system's (or ``extra``'s) symbols; missing parameters are left to the caller
            (some callers pass them later).

        Raises:
            ValueError: for a key that is not the name of a parameter (or of an ``extra`` symbol), listing the
                system's parameters (Symbol keys only with ``foreign_symbols=False``); for a key that is not a
                string or Symbol; for two keys with the same name.
        """
        if values is None:
            return {}
        if not hasattr(values, "items"):
            raise ValueError(f"{what} must be a mapping {{name or Symbol: number}}, got {type(values).__name__}")
        known = {p.name: p for p in self.parameters}
        known.update({s.name: s for s in extra if s.name not in known})
        out: dict[sp.Symbol, object] = {}
        for key, value in values.items():
            name = key if isinstance(key, str) else key.name if isinstance(key, sp.Symbol) else None
            if name is None:
                raise ValueError(f"{what}: key {key!r} must be a parameter's name or Symbol; the system's "
                                 f"parameters are {[p.name for p in self.parameters]}")
            if name not in known and foreign_symbols and isinstance(key, sp.Symbol):
                continue
            if name not in known:
                others = f", other symbols allowed {sorted(s.name for s in extra)}" if extra else ""
                raise ValueError(f"{what}: {key!r} is not a parameter of the system; its parameters are "
                                 f"{[p.name for p in self.parameters]}{others}")
            if known[name] in out:
                raise ValueError(f"{what}: two keys name the parameter {name!r}; give it once")
            out[known[name]] = value
        return out

    def canonical(self, expr: sp.Expr | float, *, what: str = "expression", extra: Sequence[sp.Symbol] = ()
                  ) -> sp.Expr:
        """Rewrite a user's expression in the system's own symbols, matching by name.

        A user writes ``sp.symbols("x y")`` or ``x(t)`` where the system holds ``Symbol("x", real=True)``; SymPy
        treats those as different symbols, so without this step a basis, integral or Lagrangian in the user's
        symbols would look constant along the flow (a silent wrong answer).  ``x(t)`` becomes the state ``x``,
        ``Derivative(x(t), t)`` its jet symbol ``x_t``, and any symbol whose name is that of t, a state, a jet
        symbol or a parameter becomes the system's symbol.

        Args:
            expr: the user's expression (a number is allowed).
            what: how the error message names the argument (e.g. ``"basis[2]"``).
            extra: further symbols allowed to stay free (e.g. unknown constants of an ansatz), matched by name.

        Returns:
            The expression in the system's symbols.

        Raises:
            TypeError: if ``expr`` is not a SymPy expression or number.
            ValueError: naming the foreign symbols or functions, with the system's states and parameters, if
                ``expr`` uses a symbol the system does not know.
        """
        try:
            expr = sp.sympify(expr, strict=True)
        except (sp.SympifyError, TypeError) as err:
            raise TypeError(f"{what} must be a SymPy expression or a number, got {type(expr).__name__}: "
                            f"{str(expr)[:80]}") from err
        if not isinstance(expr, sp.Expr):
            raise TypeError(f"{what} must be a SymPy expression, got {type(expr).__name__}: {str(expr)[:80]}")
        known = dict(self.known_symbols)
        known.update({s.name: s for s in extra})
        by_name = {x.name: x for x in self.states}
        # x(t) -> x and Derivative(x(t), t) -> x_t (first order only: higher derivatives have no meaning here).
        derivs = {}
        for d in expr.atoms(sp.Derivative):
            f = d.expr
            if (isinstance(f, sp.core.function.AppliedUndef) and f.func.__name__ in by_name
                    and d.variables == (self.t,) and len(f.args) == 1 and f.args[0].name == self.t.name):
                derivs[d] = jet_symbol(by_name[f.func.__name__], self.t)
        expr = expr.xreplace(derivs)
        funcs = {}
        for f in expr.atoms(sp.core.function.AppliedUndef):
            if f.func.__name__ in by_name and len(f.args) == 1 and getattr(f.args[0], "name", None) == self.t.name:
                funcs[f] = by_name[f.func.__name__]
        expr = expr.xreplace(funcs)
        leftover = sorted({str(a) for a in expr.atoms(sp.core.function.AppliedUndef, sp.Derivative)})
        foreign = sorted({s.name for s in expr.free_symbols if s.name not in known})
        if leftover or foreign:
            raise ValueError(
                f"{what} uses {leftover + foreign}, which the system does not know: states are "
                f"{[x.name for x in self.states]} (write x or x(t)), t is {self.t.name}, parameters are "
                f"{[p.name for p in self.parameters]}" + (f", allowed extra symbols {[s.name for s in extra]}"
                                                          if extra else ""))
        return expr.xreplace({s: known[s.name] for s in expr.free_symbols if known[s.name] is not s})

    def velocity(self, q: sp.Symbol | str) -> sp.Symbol:
        """The velocity (jet symbol q_t) of the state ``q`` -- what a Lagrangian's kinetic energy is written in.

        Args:
            q: a state, as the system's symbol, a user's symbol or ``q(t)`` of the same name, or its name.

        Returns:
            The jet symbol ``q_t`` (`jet_symbol`).

        Raises:
            ValueError: if ``q`` is not a state (the states are listed).
        """
        name = q if isinstance(q, str) else getattr(getattr(q, "func", None), "__name__", None) \
            if isinstance(q, sp.core.function.AppliedUndef) else getattr(q, "name", None)
        by_name = {x.name: x for x in self.states}
        if name not in by_name:
            raise ValueError(f"velocity: {q!r} is not a state; states are {list(by_name)}")
        return jet_symbol(by_name[name], self.t)

    def equations(self) -> list[sp.Eq]:
        """The system as ``Eq(Derivative(x(t), t), f)`` for display."""
        funcs = {x: sp.Function(x.name)(self.t) for x in self.states}
        return [sp.Eq(sp.Derivative(funcs[x], self.t), f.subs(funcs)) for x, f in zip(self.states, self.rhs)]


def ode_system(equations: sp.Eq | list[sp.Eq], t: sp.Symbol) -> ODESystem:
    """Build an `ODESystem` from equations ``Eq(Derivative(x(t), t), f)``.

    Args:
        equations: one equation or a list; each left side is the first derivative of an undefined function of t.
        t: the independent variable.

    Returns:
        The system with each x(t) replaced by a real symbol of the same name.

    Raises:
        ValueError: if an equation is not a first-order ODE in explicit form, a derivative is of order other
            than 1 or with respect to another variable, or a right side uses a function that is not a state.
    """
    eqs = [equations] if isinstance(equations, sp.Eq) else list(equations)
    if not eqs:
        raise ValueError("no equations given")
    funcs, rhs = [], []
    for eq in eqs:
        if not isinstance(eq, sp.Eq):
            raise ValueError(f"expected Eq(Derivative(x(t), t), f), got {eq!r} (not an equation)")
        lhs = eq.lhs
        if not isinstance(lhs, sp.Derivative):
            raise ValueError(f"left side of {eq} is not a derivative: not an ODE in explicit form")
        if len(lhs.variables) != 1 or lhs.variables[0] != t:
            order = len(lhs.variables)
            if set(lhs.variables) == {t}:
                raise ValueError(f"{lhs} has order {order}; write it as a first-order system (order must be 1)")
            raise ValueError(f"{lhs} differentiates with respect to {lhs.variables}, not the variable t={t}")
        func = lhs.expr
        if not isinstance(func, sp.core.function.AppliedUndef) or func.args != (t,):
            raise ValueError(f"{func} is not an unknown function of {t} alone")
        funcs.append(func)
        rhs.append(eq.rhs)
    symbols = {f: sp.Symbol(f.func.__name__, real=True) for f in funcs}
    out = []
    for f in rhs:
        unknown = f.atoms(sp.core.function.AppliedUndef) - set(funcs)
        if unknown:
            raise ValueError(f"unknown variable {sorted(map(str, unknown))} in {f}: states are {[str(x) for x in funcs]}")
        if f.has(sp.Derivative):
            raise ValueError(f"right side {f} contains a derivative; the system must be explicit first order")
        out.append(f.subs(symbols))
    return ODESystem(t, tuple(symbols[f] for f in funcs), tuple(out))


def total_derivative(expr: sp.Expr, system: ODESystem, on_shell: bool = True, order: int = 1) -> sp.Expr:
    """D_t of ``expr`` (paper eq 11).

    Args:
        expr: a function of t, the states and (off shell) their jet symbols up to ``order``.
        system: supplies t, the states and, on shell, x_t = f.
        on_shell: if True, the result is restricted to solutions (the derivative along the flow); if False it
            is the formal total derivative on the jet space, with x_t -> x_tt etc.
        order: the highest jet order that may appear in ``expr`` (off shell only).

    Returns:
        The total derivative, unsimplified.

    Raises:
        ValueError: from `jet_symbol` if ``order`` < 1.
    """
    t = system.t
    if on_shell:
        return sp.diff(expr, t) + sum(sp.diff(expr, x) * f for x, f in zip(system.states, system.rhs))
    out = sp.diff(expr, t)
    for x in system.states:
        chain = [x] + [jet_symbol(x, t, k) for k in range(1, order + 2)]
        out += sum(sp.diff(expr, lo) * hi for lo, hi in zip(chain[:-1], chain[1:]))
    return out
