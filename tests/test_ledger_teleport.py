"""The ledger's exact laws against measured drift, the orders of its approximations, and teleportation."""
import math

import pytest
import sympy as sp
import torch

from symnb.core.param_symmetry import find_parameter_symmetries, two_layer_field
from symnb.neural.ledger import quadratic_form, record_ledger
from symnb.neural.teleport import gl_action, mlp_gl_action, rescale_action, teleport


def _problem(seed=0, h=4, d=2):
    gen = torch.Generator().manual_seed(seed)
    params = [torch.randn(s, generator=gen, dtype=torch.float64).requires_grad_(True)
              for s in [(h, d), (h,), (d, h), (d,)]]
    x = torch.randn(48, d, generator=gen, dtype=torch.float64)
    y = torch.sin(x)

    def loss():
        w1, b1, w2, b2 = params
        return ((torch.relu(x @ w1.T + b1) @ w2.T + b2 - y) ** 2).mean()
    field = two_layer_field(h, d, activation="relu")
    m = sum(quadratic_form(q, field.params) for q in find_parameter_symmetries(field).quantities)
    return params, loss, m


@pytest.mark.parametrize("kw", [dict(lr=0.05), dict(lr=0.05, weight_decay=0.2),
                                dict(lr=0.02, momentum=0.9), dict(lr=0.02, momentum=0.8, weight_decay=0.05)])
def test_exact_discrete_laws_match_measured_q_to_rounding(kw):
    params, loss, m = _problem()
    led = record_ledger(loss, params, torch.optim.SGD(params, **kw), 150, m)
    assert abs(led.drift) > 1e-6  # the optimizer does break Q ...
    assert float((led.law - led.q).abs().max()) < 1e-12 * max(1.0, float(led.q.abs().max()))  # ... as predicted


def test_gd_drift_is_second_order_per_step_first_order_at_fixed_time():
    drifts = []
    for eta in (0.02, 0.01, 0.005):
        params, loss, m = _problem()
        led = record_ledger(loss, params, torch.optim.SGD(params, lr=eta), round(1.0 / eta), m)
        assert float(led.first_order.abs().max()) < 1e-12  # GD's first-order term vanishes (the symmetry)
        drifts.append(led.drift)
    assert 1.6 < drifts[0] / drifts[1] < 2.4 and 1.6 < drifts[1] / drifts[2] < 2.4


def test_kunin_continuous_formula_is_first_order_in_eta():
    errs = []
    for eta in (0.02, 0.01):
        params, loss, m = _problem()
        led = record_ledger(loss, params, torch.optim.SGD(params, lr=eta, weight_decay=0.3), round(1.0 / eta), m)
        errs.append(float((led.kunin - led.q).abs().max()))
    assert errs[1] > 1e-8 and 1.6 < errs[0] / errs[1] < 2.4


@pytest.mark.parametrize("wd", [0.0, 0.3])  # over-damped (rescale drift only) and under-damped (omega > gamma)
def test_kunin_damped_oscillator_for_momentum_is_first_order_in_eta(wd):
    # Kunin et al.'s continuous-time prediction under heavy ball (mu = 0.9) against the measured Q at fixed time
    # t = 1: the error halves with eta (first order), and it is a small part of the drift it predicts.
    errs = []
    for eta in (0.02, 0.01):
        params, loss, m = _problem()
        led = record_ledger(loss, params, torch.optim.SGD(params, lr=eta, momentum=0.9, weight_decay=wd),
                            round(1.0 / eta), m)
        assert float((led.law - led.q).abs().max()) < 1e-12 * float(led.q.abs().max())  # the exact law beside it
        err = float((led.kunin - led.q).abs().max())
        assert err < 0.05 * float((led.q - led.q[0]).abs().max())
        errs.append(err)
    assert errs[1] > 1e-8 and 1.6 < errs[0] / errs[1] < 2.6


def test_kunin_oscillator_reduces_to_the_gd_formula_as_momentum_vanishes():
    # mu -> 0: the over-damped oscillator's slow mode is the GD modified law; they differ at O(eta) only.
    gaps = []
    for eta in (0.02, 0.01):
        ledgers = []
        for mu in (0.0, 1e-9):
            params, loss, m = _problem()
            ledgers.append(record_ledger(loss, params, torch.optim.SGD(params, lr=eta, momentum=mu, weight_decay=0.3),
                                         round(1.0 / eta), m))
        gaps.append(float((ledgers[0].kunin - ledgers[1].kunin).abs().max()))
    assert gaps[1] > 1e-8 and 1.6 < gaps[0] / gaps[1] < 2.4


def test_adam_drift_does_not_vanish_with_eta_and_decomposes_exactly():
    drifts = []
    for eta in (0.01, 0.0025):
        params, loss, m = _problem()
        led = record_ledger(loss, params, torch.optim.Adam(params, lr=eta), round(1.0 / eta), m)
        step = led.q[1:] - led.q[:-1]
        assert float((step - led.first_order - led.second_order).abs().max()) < 1e-12
        assert math.isnan(float(led.law[-1]))
        drifts.append(abs(led.drift))
    assert drifts[1] > 0.25 * drifts[0] > 1e-4  # GD would shrink by 4x; Adam's first-order term does not


def test_ledger_refuses_bad_input():
    params, loss, m = _problem()
    opt = torch.optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError, match=r"steps must be an integer >= 1, got 0"):
        record_ledger(loss, params, opt, 0, m)
    with pytest.raises(ValueError, match=r"M has shape \(3, 3\); the parameters need \(22, 22\)"):
        record_ledger(loss, params, opt, 1, torch.eye(3))
    bad = m.clone()
    bad[0, 1] += 1
    with pytest.raises(ValueError, match=r"M is not symmetric"):
        record_ledger(loss, params, opt, 1, bad)
    a, b = sp.symbols("a b")
    with pytest.raises(ValueError, match=r"not a homogeneous quadratic"):
        quadratic_form(a**2 + b, (a, b))
    with pytest.raises(ValueError, match=r"depends on \['c'\], not only on params"):
        quadratic_form(a**2 + sp.Symbol("c"), (a, b))


def test_rescale_teleport_keeps_the_loss_and_respects_the_cap():
    params, _, _ = _problem(h=6)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(48, 2, generator=gen, dtype=torch.float64)

    def loss_of(p):
        return ((torch.relu(x @ p[0].T + p[1]) @ p[2].T + p[3] - torch.sin(x)) ** 2).mean()
    ps = [p.detach() for p in params]
    res = teleport(rescale_action(*ps[:3], rest=ps[3:]), [torch.zeros(6, dtype=torch.float64)], loss_of,
                   steps=10, lr=0.5, cap=1.5)
    assert abs(res.loss_after - res.loss_before) < 1e-12 * res.loss_before
    assert res.grad_norm_before < res.grad_norm_after <= 1.5 * res.grad_norm_before * (1 + 1e-12)


def test_gl_teleports_keep_the_loss():
    gen = torch.Generator().manual_seed(2)
    w1, b1, w2 = (torch.randn(s, generator=gen, dtype=torch.float64) for s in [(3, 3), (3,), (2, 3)])
    x = torch.randn(20, 3, generator=gen, dtype=torch.float64)

    def lin(p):
        return ((x @ p[0].T + p[1]) @ p[2].T).pow(2).mean()
    res = teleport(gl_action(w1, b1, w2), [torch.zeros(3, 3, dtype=torch.float64)], lin, steps=5, lr=1e-2, cap=2.0)
    assert abs(res.loss_after - res.loss_before) < 1e-10 * res.loss_before and res.grad_norm_after > res.grad_norm_before
    ws = [torch.rand(6, 5, dtype=torch.float64), torch.rand(7, 6, dtype=torch.float64), torch.rand(8, 7, dtype=torch.float64)]
    xx, yy = torch.rand(5, 4, dtype=torch.float64), torch.rand(8, 4, dtype=torch.float64)

    def mlp(p):
        h = xx
        for w in p[:-1]:
            h = torch.nn.functional.leaky_relu(w @ h, 0.1)
        return 0.5 * torch.linalg.norm(yy - p[-1] @ h) ** 2
    coords = [torch.zeros(6, 6, dtype=torch.float64), torch.zeros(7, 7, dtype=torch.float64)]
    res = teleport(mlp_gl_action(ws, xx), coords, mlp, steps=3, lr=1e-6, cap=3.0)
    assert abs(res.loss_after - res.loss_before) < 1e-8 * res.loss_before
    with pytest.raises(ValueError, match=r"cap must be >= 1"):
        teleport(gl_action(w1, b1, w2), [torch.zeros(3, 3, dtype=torch.float64)], lin, cap=0.5)
    with pytest.raises(ValueError, match=r"steps must be an integer >= 1, got 0"):
        teleport(gl_action(w1, b1, w2), [torch.zeros(3, 3, dtype=torch.float64)], lin, steps=0)


def test_wall_time_table_pairs_seeds_and_counts_left_out_ones():
    from symnb.chapters.ch9_param_symmetries import TeleportRun, teleport_summary, teleport_wall_time
    t = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    # seed 0: GD reaches its final loss 1 at 4 s, the teleported run at 2 s (ratio 0.5); seed 1: GD at 4 s,
    # teleported at 3 s (0.75); seed 2: the teleported run diverges and must be counted, not averaged in.
    plain = t([[4, 3, 2, 1]] * 3)
    tele = t([[4, 1, 0.5, 0.5], [4, 2, 1, 0.9], [4, float("nan"), float("nan"), float("nan")]])
    times = t([[1, 2, 3, 4]] * 3)
    run = TeleportRun("synthetic", plain, tele, times, times, (), ())
    row = teleport_wall_time([run]).iloc[0]
    assert row["seeds reached"] == "2/3"
    assert row["time ratio teleport / GD"].startswith("0.625 ± ") and row["time ratio teleport / GD"].endswith("(n = 2)")
    assert row["GD: s to its final loss"] == "4 ± 0"
    # at GD's final time (4 s) the teleported losses are 0.5 and 0.9 (ratios to 1); the NaN seed is left out
    assert row["loss ratio at GD's wall time"].startswith("0.7 ± ") and "(n = 2)" in row["loss ratio at GD's wall time"]
    last = teleport_summary([run], checkpoints=(-1,)).iloc[0]
    assert last["loss GD + teleport"].endswith("(1 of 3 diverged)")
