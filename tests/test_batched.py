"""Batched training equals per-configuration training (symnb.train vs symnb.train)."""
from __future__ import annotations

import json
import math

import pytest

from symnb.train import plan_batches, train_batched
from symnb.train import TrainConfig, train

RTOL = 1e-10  # the stated tolerance: batched kernels may round reductions differently


def _cfg(**kw) -> TrainConfig:
    return TrainConfig.from_params(**{"solver": "rk4", "epochs": 8, "n_train": 8, "n_test": 8, "n_extrap": 8, **kw})


@pytest.fixture(scope="module")
def mixed():
    """Two seeds x two noise levels x weights on two different terms, one baseline, one that diverges."""
    configs = [_cfg(a1=a, seed=s, noise=nz) for a in (0.1, 3.0) for s in (0, 1) for nz in (0.0, 0.1)]
    configs += [_cfg(a4=0.5, seed=2), _cfg(), _cfg(a1=1.0, theta_init=(0.0, 0.3))]  # theta1 = 0: F is infinite
    return configs, train_batched(configs)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-14) or (math.isnan(a) and math.isnan(b))


def test_batched_equals_per_config(mixed):
    configs, batched = mixed
    for cfg, got in zip(configs, batched):
        want = train(cfg, progress=False, raise_on_divergence=False)
        assert got.status == want.status and got.divergence == want.divergence
        assert all(_close(x, y) for x, y in zip(got.theta, want.theta))
        for key in ("train_mse", "test_mse", "extrap_mse", "param_error"):
            assert _close(getattr(got, key), getattr(want, key)), key
        assert got.history.keys() == want.history.keys()
        for key in want.history:
            assert len(got.history[key]) == len(want.history[key])
            assert all(_close(x, y) for x, y in zip(got.history[key], want.history[key])), key


def test_diverging_configuration_is_frozen_and_isolated(mixed):
    configs, batched = mixed
    bad = batched[-1]
    assert bad.status == "diverged"
    assert bad.divergence == {"step": 0, "term": "f", "stage": "loss"}
    assert bad.theta == (0.0, 0.3)  # theta when it happened, not moved afterwards
    # its batch companions (same active set {f}) trained all their steps
    assert all(r.status == "ok" and len(r.history["mse"]) == 8 for r in batched[:8])


def test_plan_groups_by_active_terms_and_shared_fields():
    configs = [_cfg(a1=1.0, seed=0), _cfg(a1=2.0, seed=1, noise=0.2), _cfg(a2=1.0), _cfg(a1=1.0, lr=0.1), _cfg()]
    plans = plan_batches(configs)
    assert [p.indices for p in plans] == [(0, 1), (2,), (3,), (4,)]
    assert [p.active for p in plans] == [("f",), ("h",), ("f",), ()]
    assert [p.indices for p in plan_batches(configs[:2], max_batch=1)] == [(0,), (1,)]


def test_results_are_written_when_output_is_set(tmp_path):
    cfg = _cfg(a1=0.5, output=str(tmp_path / "r" / "result.json"))
    (res,) = train_batched([cfg])
    stored = json.loads((tmp_path / "r" / "result.json").read_text())
    assert stored["theta"] == list(res.theta) and stored["status"] == "ok"


def test_refusals_name_the_problem():
    with pytest.raises(ValueError, match=r"configs\[1\]: solver 'dopri5': batched training needs a fixed-step "
                                         r"solver .*allowed: \['rk4', 'euler', 'midpoint'\]"):
        train_batched([_cfg(), TrainConfig.from_params(epochs=1)])
    with pytest.raises(ValueError, match="got 0 datasets for 1 configurations"):
        train_batched([_cfg()], datasets=[])
    with pytest.raises(ValueError, match="max_batch must be an integer >= 1 or None, got 0"):
        plan_batches([_cfg()], max_batch=0)
