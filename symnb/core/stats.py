"""The one statistics helper: mean and 95% Student-t confidence interval over seeds (geometric for log quantities).

Every table of the book that reports "mean ± CI over seeds" (sweep reports, the chapters' baselines) computes it
here, so the same numbers always mean the same thing.  No SciPy: the t quantile is computed from the regularized
incomplete beta function (continued fraction, Numerical Recipes 3rd ed., section 6.4).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["MeanCI", "mean_ci", "t_quantile"]


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def _t_cdf(t: float, dof: float) -> float:
    tail = 0.5 * _betainc(dof / 2.0, 0.5, dof / (dof + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, dof: float) -> float:
    """The p-quantile of Student's t distribution with ``dof`` degrees of freedom (e.g. 2.776 for p=0.975, dof=4).

    Raises:
        ValueError: for p outside (0, 1) or dof <= 0.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got {p!r}")
    if not dof > 0:
        raise ValueError(f"dof must be > 0, got {dof!r}")
    if p < 0.5:
        return -t_quantile(1.0 - p, dof)
    low, high = 0.0, 1.0
    while _t_cdf(high, dof) < p:
        high *= 2.0
    for _ in range(200):  # bisection to machine precision
        mid = 0.5 * (low + high)
        if _t_cdf(mid, dof) < p:
            low = mid
        else:
            high = mid
        if high - low <= 1e-15 * max(1.0, high):
            break
    return 0.5 * (low + high)


@dataclass(frozen=True)
class MeanCI:
    """Mean over seeds with its confidence interval.

    Attributes:
        mean: the arithmetic mean, or the geometric mean for ``log=True``.
        low: the interval's lower end (nan with fewer than two finite values).
        high: the interval's upper end (nan with fewer than two finite values).
        std: the sample standard deviation (ddof=1; 0 for one value) -- of log10 values for ``log=True``.
        n: the number of finite values used (non-finite ones, e.g. diverged runs, are left out).
        level: the confidence level.
        log: whether the interval was computed on log10 (geometric mean, multiplicative interval).
    """

    mean: float
    low: float
    high: float
    std: float
    n: int
    level: float = 0.95
    log: bool = False

    @property
    def half_width(self) -> float:
        """Half the interval's width, (high - low) / 2 -- the "±" of a linear interval."""
        return (self.high - self.low) / 2.0


def mean_ci(values: Iterable[object], *, level: float = 0.95, log: bool = False) -> MeanCI:
    """Mean and Student-t confidence interval of the finite values among ``values``.

    mean ± t_{(1+level)/2, n-1} s / sqrt(n).  With ``log=True`` (errors and losses spread over decades) the same
    is computed on log10 of the values and mapped back: a geometric mean with a multiplicative interval that
    never dips below zero.

    Args:
        values: real numbers; None and non-finite values (failed or diverged runs) are left out.
        level: the confidence level, in (0, 1).
        log: compute on log10 (values must then be > 0).

    Returns:
        A `MeanCI` (all nan with no finite value; low/high nan with one).

    Raises:
        ValueError: for ``level`` outside (0, 1), or a value <= 0 with ``log=True``.
        TypeError: for a value that is not a real number (nor None).
    """
    if not (isinstance(level, float) and 0.0 < level < 1.0):
        raise ValueError(f"level must be a float in (0, 1), got {level!r}")
    values = list(values)
    # numbers.Real covers numpy and torch-free scalars (np.float32 is not a float subclass): none silently dropped.
    odd = [v for v in values if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real))]
    if odd:
        raise TypeError(f"values must be real numbers (None or nan for a failed run), got {odd[:3]}")
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if log:
        bad = [v for v in finite if v <= 0]
        if bad:
            raise ValueError(f"log=True needs values > 0, got {bad[:3]}")
        finite = [math.log10(v) for v in finite]
    n = len(finite)
    if n == 0:
        return MeanCI(math.nan, math.nan, math.nan, math.nan, 0, level, log)
    mean = math.fsum(finite) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in finite) / (n - 1)) if n > 1 else 0.0
    half = t_quantile((1.0 + level) / 2.0, n - 1) * std / math.sqrt(n) if n > 1 else math.nan
    low, high = mean - half, mean + half
    if log:
        return MeanCI(10 ** mean, 10 ** low, 10 ** high, std, n, level, log)
    return MeanCI(mean, low, high, std, n, level, log)
