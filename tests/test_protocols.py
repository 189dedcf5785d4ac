"""Evaluation protocols (symnb.neural.protocols) and HNN's published setting (reference data, replica training):
known answers in closed form, and independent re-implementations of the reference's draws."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from symnb.chapters.ch7_beyond import (BeyondConfig, _metrics, _Setup, readme_comparison, score_replica,
                                       train_replica, verdicts)
from symnb.neural.ensemble import MLPEnsemble
from symnb.neural.protocols import (PROTOCOLS, bootstrap_error, evaluate_energy, protocol,
                                    reference_initial_states, rescale_horizons)
from symnb.neural.tasks import system_field, task


def _their_dataset(seed, n_traj, lo, width, n_points, g):
    """HNN's data.py, written out independently: numpy global seed, per trajectory direction, radius, solve, noise."""
    from scipy.integrate import solve_ivp
    np.random.seed(seed)
    out = []
    for _ in range(n_traj):
        y0 = np.random.rand(2) * 2 - 1
        y0 = y0 / np.sqrt((y0 ** 2).sum()) * (np.random.rand() * width + lo)
        rhs = (lambda t, c: [2 * c[1], -2 * c[0]]) if g is None else (lambda t, c: [2 * c[1], -g * np.sin(c[0])])
        sol = solve_ivp(rhs, [0, 3], y0, t_eval=np.linspace(0, 3, n_points), rtol=1e-10)
        q = sol.y[0] + np.random.randn(n_points) * 0.1
        p = sol.y[1] + np.random.randn(n_points) * 0.1
        out.append(np.stack([q, p], -1))
    return np.concatenate(out)


@pytest.mark.parametrize("name, lo, width, n_points, g", [("spring", 0.1, 0.9, 30, None),
                                                          ("pendulum", 1.3, 1.0, 45, 3.0)])
def test_reference_generator_is_hnn_data_py(name, lo, width, n_points, g):
    """Seed s of the reference generator is the data set HNN's data.py draws with seed s (train half)."""
    data = task(name, (2,), n_traj=4, generator="reference")
    theirs = _their_dataset(2, 4, lo, width, n_points, g)[: 2 * n_points]
    assert torch.allclose(data.train_x[0], torch.from_numpy(theirs), atol=1e-7)
    # the derivatives are exact at the clean states, whose first point is the clean x0
    f = system_field(data.system)
    assert torch.allclose(f(data.train_x[0, :1] * 0 + data.test_x0.new_tensor(0) + _clean_x0(2, lo, width)),
                          data.train_dx[0, :1], atol=1e-12)


def _clean_x0(seed, lo, width):
    np.random.seed(seed)
    y0 = np.random.rand(2) * 2 - 1
    return torch.from_numpy(y0 / np.sqrt((y0 ** 2).sum()) * (np.random.rand() * width + lo))[None]


def test_reference_initial_states_follow_the_notebook_draw():
    """After their last np.random.seed(0) the notebooks draw the data set, one more trajectory, then 15 x0."""
    np.random.seed(0)
    for _ in range(50):                       # analyze-spring: get_dataset() then get_trajectory(radius=1, ...)
        np.random.rand(2), np.random.rand(), np.random.randn(30), np.random.randn(30)
    np.random.randn(30), np.random.randn(30)
    expected = []
    for _ in range(15):
        x0 = np.random.rand(2) * 1.6 - .8
        expected.append(x0 + 0.2 * np.sign(x0) * np.ones_like(x0))
    x0 = reference_initial_states("spring")
    assert np.array_equal(x0, np.array(expected))
    for name in ("spring", "pendulum"):
        a = np.abs(reference_initial_states(name))
        assert ((a >= 0.2) & (a <= 1.0)).all()
    r = np.linalg.norm(reference_initial_states("pendulum"), axis=1)
    assert (r < 1.3).mean() > 0.5                # mostly inside the pendulum's training radii 1.3-2.3's hole


def test_compounding_horizons_are_the_issue_s():
    """The spring analysis integrates the model to 20 * 1.09**2 = 23.8 ... 20 * 1.09**16 = 79.4."""
    h = rescale_horizons("compounding", 20.0, 15)
    assert h[0][1] == pytest.approx(23.762) and h[-1][1] == pytest.approx(79.41, abs=0.01)
    assert h[0][0] == pytest.approx(21.8) and rescale_horizons("once", 20.0, 2) == [(20.0, 21.8)] * 2


def test_bootstrap_error_known_answer():
    values = np.repeat([1.0, 2.0, 3.0, 4.0, 5.0], 3)       # split means 1..5: std sqrt(2), / sqrt(5)
    assert bootstrap_error(values) == pytest.approx(math.sqrt(2) / math.sqrt(5))


@pytest.mark.parametrize("mode", ["none", "once", "compounding"])
def test_energy_mse_closed_form(mode):
    """Model x' = f(x) + eps x on the spring: q^2 + p^2 = r0^2 exp(2 eps t) exactly, so the energy MSE of each
    rollout is mean_k (r0^2 (exp(2 eps s t_k) - 1))^2 with s the model's time stretch (1, 1.09 or compounding)."""
    system = task("spring", (0,), n_traj=2).system
    f = system_field(system)
    eps = 0.01
    model = lambda x: f(x.to(torch.float64)) + eps * x.to(torch.float64)  # noqa: E731
    score = evaluate_energy(protocol("hnn_readme", time_rescale=mode, rtol=1e-10), model, f, system="spring",
                            model_dtype=torch.float64)
    r2 = (score.x0 ** 2).sum(1)
    expected = []
    for r, (t_true, t_model) in zip(r2, rescale_horizons(mode, 20.0, 15)):
        t = np.linspace(0, t_model, 100)
        expected.append(np.mean((r * (np.exp(2 * eps * t) - 1)) ** 2))
    assert score.per_rollout == pytest.approx(np.array(expected), rel=1e-3)
    assert score.error == pytest.approx(bootstrap_error(score.per_rollout))


def test_symnb_protocol_equals_the_chapter_table():
    """evaluate_energy('symnb') (SciPy DOP853 truth) agrees with the sweep's energy_mse (torchdiffeq truth)."""
    cfg = BeyondConfig("spring", ("vanilla",), seeds=(0,), steps=0, width=8, n_traj=4)
    setup = _Setup(cfg)
    ens = MLPEnsemble(2, (0,), width=8)
    metrics, _ = _metrics(setup, ens, ens.params, "vanilla")
    inv = setup.invariant_fn
    score = evaluate_energy(protocol("symnb", n_rollouts=2), lambda x: ens.field(x.unsqueeze(0))[0].detach(),
                            system_field(setup.system), system="spring", invariant=lambda x: inv(x)[..., 0],
                            test_x0=setup.data.test_x0[0], dt=setup.data.dt, model_dtype=torch.float64)
    # the table averages the first 15 test rollouts; with 2 test trajectories both see the same two
    assert score.mean == pytest.approx(metrics["energy_mse"][0], rel=1e-6)


def test_replica_starts_from_the_reference_weights_and_batches_exactly():
    """steps=0 gives the reference's seed-s initial MLP (their draw order, no last bias); the 2-seed ensemble
    trains each member as it would train alone."""
    torch.manual_seed(1)
    l1, l2, l3 = torch.nn.Linear(2, 8), torch.nn.Linear(8, 8), torch.nn.Linear(8, 2, bias=None)
    for lin in (l1, l2, l3):
        torch.nn.init.orthogonal_(lin.weight)
    pair = train_replica("spring", "hnn", (0, 1), steps=2, width=8, dtype="float64", n_traj=4)
    alone = train_replica("spring", "hnn", (1,), steps=2, width=8, dtype="float64", n_traj=4)
    for k in pair.params:
        assert torch.allclose(pair.params[k][1], alone.params[k][0], atol=1e-12), k
    init = train_replica("spring", "vanilla", (1,), steps=0, width=8, dtype="float32", n_traj=4)
    # fit with steps + 1 = 1 Adam step moves every weight by at most lr: compare with tolerance 1.1e-3
    assert torch.allclose(init.params["4.weight"][0], l3.weight, atol=1.1e-3)
    assert "4.bias" not in init.params and "0.bias" in init.params
    score = score_replica(alone, 0, "symnb", n_rollouts=2)
    assert score.protocol.name == "symnb" and np.isfinite(score.mean)


def test_readme_verdicts_from_a_table():
    import pandas as pd
    rows = []
    for system, method, ev, vals in (
            ("spring", "vanilla", "hnn_readme", [0.17, 0.12, 0.4]),
            ("spring", "vanilla", "hnn_readme, no rescale", [0.058, 0.03, 0.09]),
            ("pendulum", "hnn", "hnn_readme", [0.0249, 0.02, 0.03]),
            ("pendulum", "hnn", "hnn_readme, true H", [5e-4, 6e-4, 7e-4])):
        rows += [{"system": system, "method": method, "seed": s, "evaluation": ev, "energy_mse": v}
                 for s, v in enumerate(vals)]
    replica = pd.DataFrame(rows)
    table = pd.DataFrame([{"system": "spring", "method": m, "seed": 0, "energy_mse": e, "rollout_mse": r,
                           "deriv_mse": 1.0} for m, e, r in (("vanilla", 1, 1), ("collocation", 0.1, 2),
                                                              ("own_flow", 1, 1))])
    v = verdicts(table, replica)
    assert [r.verdict for r in v] == ["not supported here", "wrong", "wrong", "holds with a caveat"]
    assert "worse rollouts on spring" in v[0].finding and "0.058" in v[2].finding
    replica.loc[(replica.evaluation == "hnn_readme, no rescale"), "energy_mse"] = 0.2   # no inflation shown
    assert verdicts(table, replica)[2].verdict == "inconclusive"
    assert readme_comparison(replica).loc[0, "hnn_readme, no rescale: mean of 3 seeds"] == pytest.approx(0.2)


def test_bad_input():
    with pytest.raises(ValueError, match=r"unknown protocol 'hnn'; valid: \['hnn_readme', 'symnb'\]"):
        protocol("hnn")
    with pytest.raises(ValueError, match=r"unknown protocol field\(s\) \['rescale'\]"):
        protocol("hnn_readme", rescale="none")
    with pytest.raises(ValueError, match=r"time_rescale must be one of \['as_published'"):
        protocol("hnn_readme", time_rescale="twice")
    with pytest.raises(ValueError, match="time_rescale='once' is part of the rk45"):
        protocol("symnb", time_rescale="once")
    with pytest.raises(ValueError, match="reference initial states exist for"):
        reference_initial_states("kepler")
    with pytest.raises(ValueError, match="generator='reference' follows HNN's data.py"):
        task("kepler", generator="reference")
    with pytest.raises(ValueError, match=r"unknown generator 'numpy'; valid: \['torch', 'reference'\]"):
        task("spring", generator="numpy")
    with pytest.raises(ValueError, match="values: need a positive multiple of splits=5"):
        bootstrap_error(np.ones(7))
    with pytest.raises(ValueError, match="test_x0: the protocol starts from the first 15 test states"):
        evaluate_energy(PROTOCOLS["symnb"], lambda x: x, lambda x: x, system="spring", invariant=lambda x: x,
                        dt=0.1)
    with pytest.raises(ValueError, match="invariant: the protocol's energy is 'invariant'"):
        evaluate_energy(PROTOCOLS["symnb"], lambda x: x, lambda x: x, system="spring")
    with pytest.raises(ValueError, match="system: HNN's published setting exists for"):
        train_replica("kepler", "hnn")
    with pytest.raises(ValueError, match="method must be 'vanilla' \\(their baseline\\) or 'hnn', got 'x'"):
        train_replica("spring", "x")
