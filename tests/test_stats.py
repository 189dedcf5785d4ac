"""The one statistics helper: Student-t quantiles against printed tables, mean ± CI, geometric CI."""
import math

import pytest

from symnb.core.stats import mean_ci, t_quantile
from symnb.runs.report import ResultTable, summarize


@pytest.mark.parametrize("dof,expected", [(1, 12.706204736), (2, 4.302652730), (4, 2.776445105),
                                          (9, 2.262157163), (30, 2.042272456), (100, 1.983971519), (1000, 1.962339081)])
def test_t_quantile_matches_the_printed_table(dof, expected):
    # Two-sided 95% critical values of Student's t (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
    assert t_quantile(0.975, dof) == pytest.approx(expected, abs=1e-8)
    assert t_quantile(0.025, dof) == pytest.approx(-expected, abs=1e-8)


def test_mean_ci_by_hand_and_its_edge_cases():
    s = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0, float("nan"), None])
    assert (s.n, s.mean, s.std) == (5, 3.0, pytest.approx(math.sqrt(2.5)))
    half = 2.776445105 * math.sqrt(2.5) / math.sqrt(5)
    assert s.low == pytest.approx(3.0 - half, abs=1e-8) and s.high == pytest.approx(3.0 + half, abs=1e-8)
    assert s.half_width == pytest.approx(half, abs=1e-8)
    one = mean_ci([7.0])
    assert one.mean == 7.0 and one.std == 0.0 and math.isnan(one.low) and math.isnan(one.high)
    assert mean_ci([]).n == 0 and math.isnan(mean_ci([]).mean)
    with pytest.raises(ValueError, match="level must be a float in"):
        mean_ci([1.0, 2.0], level=95)
    with pytest.raises(ValueError, match=r"log=True needs values > 0, got \[0.0\]"):
        mean_ci([0.0, 1.0], log=True)


def test_geometric_interval_is_multiplicative():
    s = mean_ci([1e-4, 1e-2], log=True)
    assert s.mean == pytest.approx(1e-3)
    half = 12.706204736 * math.sqrt(2.0) / math.sqrt(2)  # log10 values -4, -2: std sqrt(2)
    assert s.low == pytest.approx(10 ** (-3 - half), rel=1e-7) and s.high == pytest.approx(10 ** (-3 + half), rel=1e-7)
    assert s.low > 0


def test_report_summarize_uses_the_helper():
    rows = tuple({"a": 1, "seed": k, "loss": v} for k, v in enumerate([1.0, 2.0, 4.0]))
    (stat,) = summarize(ResultTable(("a", "seed"), ("loss",), rows), "a", "loss")
    ref = mean_ci([1.0, 2.0, 4.0])
    assert (stat.mean, stat.std, stat.ci95_low, stat.ci95_high) == (ref.mean, ref.std, ref.low, ref.high)
    assert stat.ci95_low < stat.mean < stat.ci95_high
