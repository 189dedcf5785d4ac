"""The computations behind issue 13's claim corrections, each against an independent evaluation."""
import math

import pytest
import sympy as sp
import torch

from symnb.chapters import ch1_forward as fw
from symnb.chapters import ch3_adjoint as adj
from symnb.chapters import ch4_loss as ch4
from symnb.core.lie import Generator, check_symmetry, numeric_flow

CFG = fw.ForwardConfig(1.3, 0.2, (-0.8, 0.0, 0.6), 4.0, 0.1, 0.5, 0.3, 0.7)


def test_transformed_constant_is_the_constant_of_the_image():
    """c_bar(c) must equal c(t, z) evaluated at the image of (t, z) under the exact flow (integrated numerically)."""
    consts = {fw.c1: CFG.c1, fw.c2: CFG.c2, fw.c3: CFG.c3}
    values = {**CFG.values, **consts, fw.epsilon: CFG.eps}
    const_of = lambda tv, zv: float(fw.integration_constant().subs({fw.t: tv, fw.z: zv, **CFG.values}))  # noqa
    for t0, z0 in ((0.0, 0.6), (1.3, -0.4)):
        image = numeric_flow(fw.paper_generator().subs(consts), torch.tensor([[t0, z0]], dtype=torch.float64),
                             CFG.eps, values)[0]
        predicted = float(fw.transformed_constant().subs({fw.c: const_of(t0, z0), **values}))
        assert predicted == pytest.approx(const_of(float(image[0]), float(image[1])), abs=1e-9)


def test_reused_constant_is_what_breaks_eq25():
    d = fw.reused_constant_drifts(CFG).drifts
    assert d[("exact", "c_bar")] < 1e-9
    assert d[("exact", "c")] > 1e-3 and d[("printed", "c")] > 1e-3
    # the printed F of eq 25 is eq 23's map with the reused c: the same drift as `F_drift`
    assert d[("printed", "c")] == pytest.approx(fw.F_drift(CFG, CFG.z0s[-1], CFG.eps), rel=1e-6)


def test_symmetries_outside_eq21_family():
    """A member of the general family with concrete T and Phi, checked by `check_symmetry` (not in the module)."""
    arg = fw.theta1 * fw.z + fw.theta2
    G = fw.integration_constant() + fw.t
    T = fw.t * fw.z
    gen = Generator(fw.cosine_model(), T, (sp.cos(arg) * (T + sp.sin(fw.t - G)),))
    assert check_symmetry(gen).holds
    # and something that is not of that form is rejected: the check can fail
    assert not check_symmetry(Generator(fw.cosine_model(), fw.t ** 2, (sp.cos(arg),))).holds
    uniq = fw.uniqueness_check()
    assert uniq.general_residual == 0 and not uniq.unique


def test_adjoint_closed_form_on_both_branches():
    branches = adj.u_closed_form_branches(phases=(0.4, 2.5, -2.0))
    assert [b.cos_sign for b in branches] == [1, -1, -1]
    assert all(b.signed_error < 1e-8 for b in branches)
    assert all(b.unsigned_error > 1e-3 for b in branches if b.cos_sign < 0)
    with pytest.raises(ValueError, match=r"phase=1\.57079.* is a rest point"):
        adj.u_closed_form_branches(phases=(math.pi / 2,))


def test_eqs29_to_31_differences_vanish():
    assert all(d == 0 for d in adj.eq29_first_order())
    assert all(c.agrees for c in adj.eq30_residuals())
    assert all(d == 0 for d in adj.eq31_coefficients())


def test_matched_k6_conserves_prq_only_per_sample():
    r = ch4.adjoint_readings()
    assert max(r.per_sample.values()) < 1e-9
    assert r.shared["P"] < 1e-9  # P has no v, w
    assert r.shared["Q"] > 1e-3 and r.shared["R"] > 1e-3
    assert min(r.k6_default.values()) > 1e-3


def test_broken_latex_keeps_every_term_and_fits_the_width():
    """A long sum is split between its terms, in order, with no line over the width (issue 19: equations that ran
    off the page); a short one stays on one line; '= 0' equations keep their right side."""
    xs = sp.symbols("x0:30")
    expr = sum(x * sp.sin(x) for x in xs)
    tex = fw.broken_latex(expr, "S", width=40)
    lines = tex.removeprefix(r"\begin{aligned}").removesuffix(r"\end{aligned}").split(r" \\ &\quad ")
    assert len(lines) > 3 and all(fw._visible(line) <= 40 + 12 for line in lines)
    found = [int(m) for m in __import__("re").findall(r"x_\{(\d+)\}", tex)]
    order = [int(str(t.args[0])[1:]) if t.args[0].is_Symbol else int(str(t.args[1])[1:]) for t in expr.as_ordered_terms()]
    assert found == [i for i in order for _ in (0, 1)]  # each x_i twice (x_i sin x_i), in SymPy's order
    assert fw.broken_latex(xs[0] + xs[1], "y") == r"\begin{aligned}y &= x_{0} + x_{1}\end{aligned}"
    assert fw.broken_latex(sp.Eq(expr, 0), width=40).endswith(r" = 0\end{aligned}")
    assert fw.broken_latex(xs[0] - xs[1], "y") == r"\begin{aligned}y &= x_{0} - x_{1}\end{aligned}"


def test_verdict_text_shows_products_in_words():
    """ch1 eq 24 and ch3 eq 35 once lost their '*' to Markdown: the cells now write products with a middle dot."""
    rows = {v.eq: v.finding for v in fw.verdicts()}
    assert "c·c1 - c2 + c3" in rows["eq 24"] and "*" not in rows["eq 24"]
    assert fw._plain(sp.Symbol("a") ** 2 * sp.Symbol("b")) == "a^2·b"
