"""Chapter 7 (symnb.chapters.ch7_beyond, symnb.neural.tasks): data, certified invariants, penalties, projection,
batched-vs-single training."""
from __future__ import annotations

import math

import pandas as pd
import pytest
import sympy as sp
import torch

from symnb.chapters.ch7_beyond import (BeyondConfig, _loss_fn, _metrics, _project, _Setup, invariants,
                                       ratios_to_vanilla, run_beyond, summarize, verdicts)
from symnb.core.integrals import numeric_drift
from symnb.neural.ensemble import MLPEnsemble, rk4_rollout
from symnb.neural.tasks import TASKS, system_field, task

TINY = dict(seeds=(0, 1, 2), steps=3, width=8, n_traj=4, n_colloc=16, n_starts=4, k_steps=2)


@pytest.fixture(scope="module")
def kepler_setup():
    return _Setup(BeyondConfig("kepler", **TINY))


def test_task_data_follow_the_system():
    """States lie on true trajectories (derivatives exact, noise only on the states) with HNN's sizes."""
    data = task("spring", seeds=(0, 1), n_traj=6)
    assert data.train_x.shape == (2, 3 * 30, 2) and data.test_x0.shape == (2, 3, 2)
    f = system_field(data.system)
    clean = data.rollout_truth[: len(data.times)]            # test trajectories on the training grid
    flat = clean[:, :, :].permute(1, 2, 0, 3).reshape(2, -1, 2)
    assert torch.allclose(f(flat), data.test_dx, atol=1e-12)
    noise = data.test_x - flat
    assert 0.05 < float(noise.std()) < 0.15                  # sigma = 0.1 (HNN's spring)
    radius = data.test_x0.norm(dim=-1)
    assert bool(((radius >= 0.1) & (radius <= 1.0)).all())
    # the reference rollout is a solution: q**2 + p**2 is constant along it
    energy = data.rollout_truth.pow(2).sum(-1)
    assert float((energy - energy[:1]).abs().max()) < 1e-8
    assert data.rollout_times[-1] == pytest.approx(30.0)


def test_task_seeds_are_independent_of_each_other():
    a, b = task("spring", seeds=(3, 4), n_traj=2), task("spring", seeds=(4,), n_traj=2)
    assert torch.allclose(a.test_x0[1], b.test_x0[0], atol=0)
    assert torch.allclose(a.train_x[1], b.train_x[0], atol=1e-8)   # adaptive steps shared by the batch


@pytest.mark.parametrize("name", sorted(TASKS))
def test_invariants_are_certified_and_conserved_numerically(name):
    """Symbolic certificate (D_t I = 0) and float64 drift along a true solution."""
    data = task(name, seeds=(0,), n_traj=2)
    for inv in invariants(name):
        assert inv.check.conserved and inv.check.derivative == 0
        assert inv.route == ("basis" if name == "lotka_volterra" else "noether")
        x0 = [float(v) for v in data.test_x0[0, 0]]
        drift = numeric_drift(inv.expr, data.system, x0, 5.0)
        assert drift.max_drift < 1e-8, inv.label


def test_invariants_are_the_textbook_ones():
    """Independent answers: Olver / HNN / Volterra."""
    q, p = sp.symbols("q p", real=True)
    (spring,) = invariants("spring")
    assert sp.simplify(spring.expr - (q**2 + p**2)) == 0
    (v,) = invariants("lotka_volterra")
    x, y = sp.symbols("x y", positive=True)
    assert sp.simplify(v.expr - (x - sp.log(x) + y - sp.log(y))) == 0
    energy, ang = invariants("kepler")
    xs, ys, vx, vy = sp.symbols("x y vx vy", real=True)
    assert sp.simplify(ang.expr - (xs * vy - ys * vx)) == 0
    assert sp.simplify(energy.expr - ((vx**2 + vy**2) / 2 - 1 / sp.sqrt(xs**2 + ys**2))) == 0


def test_projection_stays_on_the_level_sets(kepler_setup):
    """Rollout of an untrained field with projection: energy and angular momentum stay at I(x0) to 1e-10."""
    ens = MLPEnsemble(4, (0, 1, 2), width=8)
    with torch.no_grad():
        xs = rk4_rollout(lambda x: ens.field(x), kepler_setup.x0, 20, 0.05, project=_project(kepler_setup))
        plain = rk4_rollout(lambda x: ens.field(x), kepler_setup.x0, 20, 0.05)
    inv = kepler_setup.invariant_fn(xs)
    assert float((inv - inv[:1]).abs().max()) < 1e-10
    drift_plain = kepler_setup.invariant_fn(plain)
    assert float((drift_plain - drift_plain[:1]).abs().max()) > 1e-3   # the field itself does not conserve them


def test_collocation_penalty_gradient_matches_independent_autograd(kepler_setup):
    """Penalty and its parameter gradient against (grad I . f)**2 with grad I by torch autograd of I."""
    cfg = kepler_setup.cfg
    ens = MLPEnsemble(4, cfg.seeds, width=cfg.width)
    loss = _loss_fn(kepler_setup, ens, "collocation")
    _, terms = loss(ens.params)
    grads = torch.autograd.grad(terms["penalty"].sum(), list(ens.params.values()))
    x = kepler_setup.colloc.clone().requires_grad_(True)
    inv = kepler_setup.invariant_fn(x)
    gi = [torch.autograd.grad(inv[..., k].sum(), x, retain_graph=True)[0] for k in range(2)]
    f = ens.field(kepler_setup.colloc)
    ref = sum(((g * f).sum(-1) ** 2).mean(1) for g in gi)
    assert torch.allclose(terms["penalty"], ref, rtol=1e-12, atol=0)
    ref_grads = torch.autograd.grad(ref.sum(), list(ens.params.values()))
    for a, b in zip(grads, ref_grads):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-14)


def test_own_flow_penalty_is_inert(kepler_setup):
    """The control (eq 14 along the model's own rollout) is zero to rounding, and so is its gradient."""
    ens = MLPEnsemble(4, kepler_setup.cfg.seeds, width=8)
    _, terms = _loss_fn(kepler_setup, ens, "own_flow")(ens.params)
    assert float(terms["penalty"].detach().max()) < 1e-28
    grads = torch.autograd.grad(terms["penalty"].sum(), list(ens.params.values()), allow_unused=True)
    assert max(float(g.abs().max()) for g in grads if g is not None) < 1e-12
    _, traj = _loss_fn(kepler_setup, ens, "trajectory")(ens.params)
    assert float(traj["penalty"].detach().min()) > 1e-10                      # the target's invariant is not inert


class _FixedField:
    """Stands in for a trained ensemble in `_metrics`: every member is the same given field."""

    head = "field"

    def __init__(self, fn, members):
        self.fn, self.members = fn, members

    def field(self, x, params=None, create_graph=True):
        x = x if x.dim() == 3 else x.expand(self.members, *x.shape)
        return self.fn(x)


def test_outside_data_share_follows_where_rollouts_go(kepler_setup):
    """The true field's rollouts leave the training box as rarely as the true solution does; a field that flings
    states outward leaves it almost at once."""
    E = len(kepler_setup.cfg.seeds)
    true = _FixedField(system_field(kepler_setup.system), E)
    metrics, _ = _metrics(kepler_setup, true, None, "vanilla")
    for model, ref in zip(metrics["outside_data"], metrics["outside_data_true"]):
        assert 0.0 < ref < 1.0 and abs(model - ref) < 0.05
    metrics, _ = _metrics(kepler_setup, _FixedField(lambda x: 5.0 * x, E), None, "vanilla")
    assert min(metrics["outside_data"]) > 0.9


def test_batched_equals_single_seed():
    """Seed 1 trained inside a 3-member ensemble equals seed 1 trained alone (same data, RK4)."""
    cfg = BeyondConfig("spring", methods=("vanilla", "trajectory", "hnn"), **TINY)
    data = task("spring", cfg.seeds, n_traj=4)
    batched = run_beyond(cfg, data)
    single_cfg = BeyondConfig("spring", methods=cfg.methods, **{**TINY, "seeds": (1,)})
    single = run_beyond(single_cfg, data.subset([1]))
    b = batched[batched.seed == 1].reset_index(drop=True)
    for col in ("deriv_mse", "rollout_mse", "energy_mse", "max_drift", "outside_data"):
        for u, v in zip(b[col], single[col]):
            assert math.isclose(u, v, rel_tol=1e-10, abs_tol=1e-14), col


def test_summary_confidence_interval():
    df = pd.DataFrame({"system": "s", "method": "m", "seed": [0, 1, 2, 3], "deriv_mse": [1.0, 2.0, 3.0, 4.0]})
    out = summarize(df, metrics=("deriv_mse",))
    sd = pd.Series([1.0, 2.0, 3.0, 4.0]).std()
    assert out.loc[("s", "m"), "deriv_mse"] == pytest.approx(2.5)
    assert out.loc[("s", "m"), "deriv_mse_ci95"] == pytest.approx(3.182446305 * sd / 2, rel=1e-8)


def test_ratios_to_vanilla():
    df = pd.DataFrame({"system": "s", "method": ["vanilla", "vanilla", "hnn", "hnn"], "seed": [0, 1, 0, 1],
                       "deriv_mse": [1.0, 3.0, 1.0, 2.0]})
    out = ratios_to_vanilla(df, metrics=("deriv_mse",))
    assert list(out.index) == [("s", "hnn")] and out.loc[("s", "hnn"), "deriv_mse ratio"] == pytest.approx(0.75)


def test_verdicts_from_a_table():
    rows = []
    for method, e, r in (("vanilla", 1.0, 1.0), ("collocation", 0.1, 2.0), ("own_flow", 1.0, 1.0)):
        rows.append({"system": "spring", "method": method, "seed": 0, "energy_mse": e, "rollout_mse": r,
                     "deriv_mse": r})
    replica = pd.DataFrame([{"system": s, "method": m, "seed": 0, "evaluation": ev, "energy_mse": v}
                            for s, m, ev, v in (("spring", "vanilla", "hnn_readme", 0.17),
                                                ("spring", "vanilla", "hnn_readme, no rescale", 0.06),
                                                ("pendulum", "hnn", "hnn_readme", 0.025),
                                                ("pendulum", "hnn", "hnn_readme, true H", 6e-4))])
    v = verdicts(pd.DataFrame(rows), replica)
    # the penalty lowers the energy error 10x but doubles the rollout error: the claim is not supported here
    assert v[0].verdict == "not supported here" and "rollout MSE by spring 2x" in v[0].finding
    assert v[1].verdict == "wrong" and "inert" in v[1].finding
    rows[2]["rollout_mse"] = 1.5                                      # a control that changed something
    assert verdicts(pd.DataFrame(rows), replica)[1].verdict == "inconclusive"
    rows[1]["rollout_mse"] = 0.5                                      # helps energy and rollout everywhere
    assert verdicts(pd.DataFrame(rows), replica)[0].verdict == "holds with a caveat"


def test_bad_input():
    with pytest.raises(ValueError, match="unknown system 'spring2'"):
        BeyondConfig("spring2")
    with pytest.raises(ValueError, match=r"methods: unknown \['adjoint'\]"):
        BeyondConfig(methods=("vanilla", "adjoint"))
    with pytest.raises(ValueError, match="dtype must be 'float64' or 'float32', got 'float16'"):
        BeyondConfig(dtype="float16")
    with pytest.raises(ValueError, match="steps must be an integer >= 0, got -1"):
        BeyondConfig(steps=-1)
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'tpu'"):
        BeyondConfig(device="tpu")
    assert BeyondConfig(device="auto").device == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="unknown task 'x'"):
        task("x")
    with pytest.raises(ValueError, match="n_traj must be an even integer >= 2"):
        task("spring", n_traj=3)
    with pytest.raises(ValueError, match="unknown task 'x'"):
        invariants("x")
    data = task("spring", (0,), n_traj=2)
    with pytest.raises(ValueError, match="data is for"):
        run_beyond(BeyondConfig("spring", seeds=(1,)), data)
    with pytest.raises(ValueError, match=r"rows must be a non-empty list of indices in range\(1\)"):
        data.subset([1])
