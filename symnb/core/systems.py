"""Textbook ODE systems with known symmetries and first integrals, as `ODESystem` s.

These are the test bed of the general pipeline (chapters 6-8): each factory returns the system with symbolic
parameters by default, or with numbers substituted when ``values`` are given.  Nothing here is the paper's toy
model (that lives in `symnb.toy`).  The known answers quoted in the docstrings are what the tests check the
finders against (they are not used by the finders).

References: Olver (1986) *Applications of Lie Groups to Differential Equations*, examples 2.x and 4.x;
Greydanus et al. (2019) for the spring and pendulum settings; Hirsch-Smale-Devaney for Lotka-Volterra.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import sympy as sp

from .ode import ODESystem

__all__ = ["SYSTEMS", "textbook_system", "isotropic_oscillators"]  # factories are reached through SYSTEMS

t = sp.Symbol("t", real=True)


def _finish(system: ODESystem, values: Mapping[str, float] | None) -> ODESystem:
    if not values:
        return system
    values = {getattr(k, "name", k): v for k, v in values.items()}  # names or Symbols, matched by name
    by_name = {p.name: p for p in system.parameters}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise ValueError(f"values: unknown parameter(s) {unknown}; this system's parameters are {sorted(by_name)}")
    subs = {by_name[k]: sp.nsimplify(v) for k, v in values.items()}
    return ODESystem(system.t, system.states, tuple(f.subs(subs) for f in system.rhs))


def harmonic_oscillator(values: Mapping[str, float] | None = None) -> ODESystem:
    """q' = p, p' = -omega**2 q.  Known: time translation, scaling q,p -> e^s (q,p), rotation in (q, omega p);
    first integral H = (p**2 + omega**2 q**2)/2.  HNN's mass-spring is omega**2 = 1 with H = q**2 + p**2
    (the factor 2 does not change the flow: HNN integrates dq/dt = dH/dp = 2p, see `symnb.neural`)."""
    q, p = sp.symbols("q p", real=True)
    omega = sp.Symbol("omega", positive=True)
    return _finish(ODESystem(t, (q, p), (p, -omega**2 * q)), values)


def pendulum(values: Mapping[str, float] | None = None) -> ODESystem:
    """q' = p, p' = -(g/l) sin q.  Known: time translation; first integral p**2/2 + (g/l)(1 - cos q)."""
    q, p = sp.symbols("q p", real=True)
    g = sp.Symbol("g", positive=True)
    return _finish(ODESystem(t, (q, p), (p, -g * sp.sin(q))), values)


def damped_oscillator(values: Mapping[str, float] | None = None) -> ODESystem:
    """q' = p, p' = -q - gamma p (gamma > 0).  Known: no time-independent polynomial first integral."""
    q, p = sp.symbols("q p", real=True)
    gamma = sp.Symbol("gamma", positive=True)
    return _finish(ODESystem(t, (q, p), (p, -q - gamma * p)), values)


def lotka_volterra(values: Mapping[str, float] | None = None) -> ODESystem:
    """x' = alpha x - beta x y, y' = delta x y - gamma y on x, y > 0.  Known first integral
    V = delta x - gamma log x + beta y - alpha log y (any alpha, beta, gamma, delta > 0)."""
    x, y = sp.symbols("x y", positive=True)
    alpha, beta, gamma, delta = sp.symbols("alpha beta gamma delta", positive=True)
    return _finish(ODESystem(t, (x, y), (alpha * x - beta * x * y, delta * x * y - gamma * y)), values)


def hnn_spring(values: Mapping[str, float] | None = None) -> ODESystem:
    """HNN's mass-spring (Greydanus et al. 2019, section 4.1): q' = 2p, p' = -2q, Hamilton's equations of
    H = q**2 + p**2 (the harmonic oscillator with omega = 2 in the coordinates (q, p/2)).  Known first integral:
    q**2 + p**2."""
    q, p = sp.symbols("q p", real=True)
    return _finish(ODESystem(t, (q, p), (2 * p, -2 * q)), values)


def hnn_pendulum(values: Mapping[str, float] | None = None) -> ODESystem:
    """HNN's ideal pendulum (Greydanus et al. 2019, section 4.1, g = 3, m = l = 1): q' = 2p, p' = -g sin q,
    Hamilton's equations of H = g(1 - cos q) + p**2.  Known first integral: that H."""
    q, p = sp.symbols("q p", real=True)
    g = sp.Symbol("g", positive=True)
    return _finish(ODESystem(t, (q, p), (2 * p, -g * sp.sin(q))), values)


def kepler_radial(values: Mapping[str, float] | None = None) -> ODESystem:
    """The 1-D Kepler problem x' = v, v' = -k/x**2.  Known: time translation and the scaling
    3t d/dt + 2x d/dx - v d/dv; first integral v**2/2 - k/x."""
    x = sp.Symbol("x", positive=True)
    v = sp.Symbol("v", real=True)
    k = sp.Symbol("k", positive=True)
    return _finish(ODESystem(t, (x, v), (v, -k / x**2)), values)


def kepler_planar(values: Mapping[str, float] | None = None) -> ODESystem:
    """Kepler in the plane: x' = vx, y' = vy, v' = -k r/|r|**3.  Known: time translation, rotation,
    scaling 3t d/dt + 2r d/dr - v d/dv; first integrals energy |v|**2/2 - k/|r| and angular momentum
    x vy - y vx (and the Laplace-Runge-Lenz vector)."""
    x, y, vx, vy = sp.symbols("x y vx vy", real=True)
    k = sp.Symbol("k", positive=True)
    r3 = (x**2 + y**2) ** sp.Rational(3, 2)
    return _finish(ODESystem(t, (x, y, vx, vy), (vx, vy, -k * x / r3, -k * y / r3)), values)


def isotropic_oscillators(n: int = 2, values: Mapping[str, float] | None = None) -> ODESystem:
    """n identical uncoupled oscillators q_i' = p_i, p_i' = -omega**2 q_i (i = 1..n), states (q_1..q_n, p_1..p_n).
    Known: H = sum (p_i**2 + omega**2 q_i**2)/2 is invariant under U(n) acting on q_i + i p_i/omega, so the
    quadratic first integrals form an n**2-dimensional space (q_i q_j + p_i p_j/omega**2 and q_i p_j - q_j p_i);
    the N-harmonic-oscillator test bed of van der Ouderaa et al. (2024, Noether's Razor).

    Raises:
        ValueError: for n that is not an integer >= 1.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1 (number of oscillators), got {n!r}")
    qs = sp.symbols(f"q1:{n + 1}", real=True)
    ps = sp.symbols(f"p1:{n + 1}", real=True)
    omega = sp.Symbol("omega", positive=True)
    return _finish(ODESystem(t, (*qs, *ps), (*ps, *(-omega**2 * q for q in qs))), values)


def rigid_body(values: Mapping[str, float] | None = None) -> ODESystem:
    """Euler's equations of a free rigid body in body-frame angular velocities (Landau-Lifshitz, Mechanics, section
    36): I1 w1' = (I2 - I3) w2 w3 and cyclically, moments I1, I2, I3 > 0 symbolic.  Known quadratic integrals:
    the energy I1 w1**2 + I2 w2**2 + I3 w3**2 and |L|**2 = I1**2 w1**2 + I2**2 w2**2 + I3**2 w3**2."""
    w1, w2, w3 = sp.symbols("w1 w2 w3", real=True)
    I1, I2, I3 = sp.symbols("I1 I2 I3", positive=True)
    return _finish(ODESystem(t, (w1, w2, w3), ((I2 - I3) / I1 * w2 * w3, (I3 - I1) / I2 * w3 * w1,
                                               (I1 - I2) / I3 * w1 * w2)), values)


def toda_periodic_3(values: Mapping[str, float] | None = None) -> ODESystem:
    """The periodic 3-particle Toda lattice in Flaschka's variables (Flaschka 1974): a_i' = a_i (b_{i+1} - b_i),
    b_i' = 2 (a_i**2 - a_{i-1}**2), indices mod 3.  Known integrals: tr L = sum b_i, tr L**2 / 2 = sum b_i**2 / 2
    + sum a_i**2, tr L**3 / 3 and the Casimir a1 a2 a3 (four functionally independent; the polynomial integrals of
    degree <= 3 are spanned by their products: 7 of them)."""
    a = sp.symbols("a1:4", real=True)
    b = sp.symbols("b1:4", real=True)
    rhs_a = tuple(a[i] * (b[(i + 1) % 3] - b[i]) for i in range(3))
    rhs_b = tuple(2 * (a[i] ** 2 - a[i - 1] ** 2) for i in range(3))
    return _finish(ODESystem(t, (*a, *b), (*rhs_a, *rhs_b)), values)


def henon_heiles_kdv(values: Mapping[str, float] | None = None) -> ODESystem:
    """The Hénon-Heiles family H = (px**2 + py**2 + A x**2 + B y**2)/2 + x**2 y + 2 y**3 (C/D = -6: the KdV
    integrable case of Chang, Tabor & Weiss 1982), A, B symbolic.  Known: H and a second integral quartic in the
    momenta and positions (so first_integrals(system, Polynomial(4)) finds two functionally independent ones)."""
    x, y, px, py = sp.symbols("x y px py", real=True)
    A, B = sp.symbols("A B", positive=True)
    return _finish(ODESystem(t, (x, y, px, py), (px, py, -A * x - 2 * x * y, -B * y - x**2 - 6 * y**2)), values)


def sir(values: Mapping[str, float] | None = None) -> ODESystem:
    """The SIR epidemic model (Kermack & McKendrick 1927): S' = -beta S I, I' = beta S I - gamma I, R' = gamma I,
    on S, I, R > 0.  Known integrals: S + I + R and gamma log S + beta R."""
    S, I, R = sp.symbols("S I R", positive=True)
    beta, gamma = sp.symbols("beta gamma", positive=True)
    return _finish(ODESystem(t, (S, I, R), (-beta * S * I, beta * S * I - gamma * I, gamma * I)), values)


def lorenz(values: Mapping[str, float] | None = None) -> ODESystem:
    """The Lorenz system x' = sigma (y - x), y' = x (r - z) - y, z' = x y - b z.  Known time-dependent integrals at
    special parameters (Kus 1983): for b = 2 sigma, (x**2 - 2 sigma z) e^{2 sigma t}; for b = 1, r = 0,
    (y**2 + z**2) e^{2t}."""
    x, y, z = sp.symbols("x y z", real=True)
    sigma, r, b = sp.symbols("sigma r b", positive=True)
    return _finish(ODESystem(t, (x, y, z), (sigma * (y - x), x * (r - z) - y, x * y - b * z)), values)


# name -> factory(values=None) -> ODESystem
SYSTEMS: dict[str, Callable[..., ODESystem]] = {
    "harmonic_oscillator": harmonic_oscillator,
    "pendulum": pendulum,
    "damped_oscillator": damped_oscillator,
    "lotka_volterra": lotka_volterra,
    "hnn_spring": hnn_spring,
    "hnn_pendulum": hnn_pendulum,
    "kepler_radial": kepler_radial,
    "kepler_planar": kepler_planar,
    "isotropic_oscillators_2": lambda values=None: isotropic_oscillators(2, values),
    "isotropic_oscillators_3": lambda values=None: isotropic_oscillators(3, values),
    "rigid_body": rigid_body,
    "toda_periodic_3": toda_periodic_3,
    "henon_heiles_kdv": henon_heiles_kdv,
    "sir": sir,
    "lorenz": lorenz,
}


def textbook_system(name: str, values: Mapping[str, float] | None = None) -> ODESystem:
    """The textbook system ``name`` (a key of `SYSTEMS`), with parameters symbolic or set by ``values``.

    Args:
        name: one of `SYSTEMS`.
        values: parameter name (or Symbol) -> number (e.g. ``{"omega": 1}``); None keeps them symbolic.

    Returns:
        The `ODESystem`.

    Raises:
        ValueError: for an unknown name (listing the valid ones) or an unknown parameter name.
    """
    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r}; valid: {sorted(SYSTEMS)}")
    return SYSTEMS[name](values)
