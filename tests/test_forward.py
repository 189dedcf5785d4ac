"""Chapter 1 (cosine model): properties of the derived objects, and parameter validation."""
import math

import pytest
import sympy as sp

from symnb.chapters import ch1_forward as fw
from symnb.core.lie import Generator, check_symmetry
from symnb.printed import forward as printed

CFG = fw.ForwardConfig(1.3, 0.2, (-0.8, 0.6), 3.0, 0.1, 0.5, 0.3, 0.7)


def test_paper_generator_is_a_symmetry_and_a_perturbed_one_is_not():
    assert check_symmetry(fw.paper_generator()).holds
    g = fw.paper_generator()
    wrong = Generator(g.system, g.time, (g.coefficients[0] + printed.c3 * printed.z,))
    assert not check_symmetry(wrong).holds


def test_integration_constant_is_a_first_integral_and_fixes_the_closed_form():
    assert fw.first_integral().conserved
    c_of = fw.integration_constant().subs({printed.t: 0, printed.z: 0.4, **CFG.values})
    z_at_0 = printed.closed_form.subs({printed.c: c_of, printed.t: 0, **CFG.values})
    assert float(z_at_0) == pytest.approx(0.4, abs=1e-12)


@pytest.mark.parametrize("z0, inside", [(0.0, True), (0.6, True), ((math.pi / 2 - 0.2) / 1.3 + 0.3, False)])
def test_closed_form_valid_exactly_inside_its_branch(z0, inside):
    chk = fw.closed_form_check(z0, 3.0, CFG.values)
    assert chk.in_domain is inside
    assert (chk.max_error < 1e-8) is inside


def test_F_is_constant_at_eps_zero_and_drifts_otherwise():
    assert fw.F_on_own_trajectory() == -printed.theta2 / printed.theta1
    assert fw.F_drift(CFG, 0.6, 0.0) < 1e-9
    assert fw.F_drift(CFG, 0.6, 0.1) > 1e-3
    assert fw.conserved_F(False).status == "nonzero"


def test_printed_truncation_is_not_the_lie_series():
    t2, _ = fw.lie_series_vs_truncation()
    assert sp.expand(t2 - printed.c1 * (printed.c1 * printed.t + printed.c2) / 2) == 0
    exact, truncated = fw.solution_map_errors(CFG)
    assert exact < 1e-8 < 1e-4 < truncated


@pytest.mark.parametrize("field, value, message", [
    ("theta1", 0.0, "theta1=0 is not allowed"),
    ("t_final", -1.0, "t_final=-1.0 must be > 0"),
    ("rtol", 0.1, r"rtol=0.1 must lie in \(0, 1e-3\]"),
    ("z0s", (), r"z0s=\(\) must be a non-empty list"),
    ("eps", float("nan"), "eps=nan must be a finite number"),
    ("n_points", 1, "n_points=1 must be an integer >= 2"),
])
def test_bad_notebook_parameters_are_named(field, value, message):
    kwargs = dict(theta1=1.3, theta2=0.2, z0s=(0.1,), t_final=1.0, eps=0.1, c1=0.5, c2=0.3, c3=0.7)
    kwargs[field] = value
    with pytest.raises(ValueError, match=message):
        fw.ForwardConfig(**kwargs)
