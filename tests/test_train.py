"""Training: recovery of theta*, divergence detection, atomic JSON results, parameter validation."""
import json
import math

import pytest
import torch

from symnb.toy.loss import TERMS
from symnb.chapters.ch4_loss import BLOWUP_CONFIG, divergence_origin
from symnb.train import TrainConfig, TrainingDiverged, read_result, train, write_result

SMALL = dict(epochs=40, lr=0.1, n_train=12, n_test=8, n_extrap=8)


def test_baseline_recovers_theta_star_on_clean_data():
    result = train(TrainConfig.from_params(noise=0.0, epochs=120, lr=0.1, n_train=12, n_test=8, n_extrap=8), progress=False)
    assert result.status == "ok"
    assert result.param_error < 0.02
    assert result.test_mse < 1e-5 and result.extrap_mse < 1e-3
    h = result.history["mse"]
    assert len(h) == 120 and h[-1] < 1e-3 * h[0]


def test_history_has_every_active_term_and_total_is_the_weighted_sum():
    cfg = TrainConfig.from_params(a2=0.5, a4=0.25, epochs=3, n_train=6, n_test=4, n_extrap=4)
    result = train(cfg, progress=False)
    assert set(result.history) == {"mse", "h", "p", "total"}
    for k in range(3):
        expected = result.history["mse"][k] + 0.5 * result.history["h"][k] + 0.25 * result.history["p"][k]
        assert result.history["total"][k] == pytest.approx(expected, rel=1e-12)


def test_same_seed_same_run():
    cfg = TrainConfig.from_params(a1=1.0, a3=1.0, **SMALL)
    a, b = train(cfg, progress=False), train(cfg, progress=False)
    assert a.theta == b.theta and a.history == b.history


def test_divergence_is_caught_with_step_term_and_theta(tmp_path):
    out = tmp_path / "run.json"
    cfg = TrainConfig.from_params(epochs=40, n_train=16, output=str(out), **BLOWUP_CONFIG)
    with pytest.raises(TrainingDiverged, match=r"training diverged at step 18: the loss of MSE_f \(weight a1\) "
                                               r"is the first non-finite value; theta = \(1\.1\d*, 0\.4\d*\)") as info:
        train(cfg, progress=False)
    err = info.value
    assert (err.step, err.term, err.stage) == (18, "f", "loss")
    stored = read_result(out)
    assert stored["status"] == "diverged" and stored["divergence"] == {"step": 18, "term": "f", "stage": "loss"}
    assert stored["theta"] == pytest.approx(list(err.theta))
    # the regularizer really is non-finite at that theta, and the guarded formulation is not
    result = train(cfg.replace(output=""), progress=False, raise_on_divergence=False)
    assert not math.isfinite(result.history["f"][-1]) and len(result.history["f"]) == 19
    assert divergence_origin(result).term == "f"
    assert train(cfg.replace(output="", formulation="guarded", epochs=25), progress=False).status == "ok"


def test_result_json_is_complete_and_written_atomically(tmp_path):
    out = tmp_path / "sub" / "result.json"
    result = train(TrainConfig.from_params(a6=1.0, output=str(out), **SMALL), progress=False)
    data = json.loads(out.read_text())
    for key in ("config", "status", "history", "theta", "train_mse", "test_mse", "extrap_mse", "param_error",
                "wall_time", "time_per_step", "device"):
        assert key in data
    assert data["config"]["a6"] == 1.0 and data["device"] == "cpu" and data["status"] == "ok"
    assert data["theta"] == pytest.approx(list(result.theta))
    assert sorted(p.name for p in out.parent.iterdir()) == ["result.json"]     # no temporary left behind
    # non-finite numbers are stored as null (strict JSON)
    bad = result.__class__(**{**result.__dict__, "train_mse": float("nan")})
    write_result(bad, out)
    assert read_result(out)["train_mse"] is None


@pytest.mark.parametrize("kwargs, match", [
    (dict(epochs=-1), r"epochs must be an integer >= 0, got -1"),
    (dict(epochs=2.5), r"epochs must be an integer >= 0, got 2.5"),
    (dict(alpha=1.0), r"unknown training parameter\(s\) \['alpha'\]; valid: \['a1', 'a2'"),
    (dict(a7=1.0), r"unknown training parameter\(s\) \['a7'\]"),
    (dict(solver="rk45"), r"unknown solver 'rk45'"),
    (dict(activation="relu"), r"unknown activation 'relu'"),
    (dict(activation="tanh", a1=1.0), r"activation 'tanh': the regularizers of eq 43 use the quantities of eq 42, "
                                      r"which the paper derives for sigma = cos only; allowed .*\['cos'\]"),
    (dict(a3=float("nan")), r"weight a3 must be a finite number >= 0, got nan"),
    (dict(a1=-1.0), r"weight a1 must be a finite number >= 0, got -1.0"),
    (dict(k6=float("inf")), r"constant k6 must be a finite real number, got inf"),
    (dict(lr=0.0), r"lr must be a finite number > 0, got 0.0"),
    (dict(n_grid=1), r"n_grid must be an integer >= 2"),
    (dict(derivative="numeric"), r"unknown derivative 'numeric'"),
    (dict(formulation="safe"), r"unknown formulation 'safe'"),
    (dict(dtype="half"), r"unknown dtype 'half'"),
    (dict(noise=-1.0), r"noise must be a finite number >= 0"),
    (dict(theta_init=(float("nan"), 0.0)), r"theta_init must be two finite numbers"),
])
def test_bad_parameters_fail_before_any_work(tmp_path, kwargs, match):
    out = tmp_path / "never.json"
    with pytest.raises(ValueError, match=match):
        TrainConfig.from_params(output=str(out), **kwargs)
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_cuda_asked_but_absent_fails_before_any_work(tmp_path):
    out = tmp_path / "never.json"
    with pytest.raises(ValueError, match=r"device='cuda' was asked for but torch sees no CUDA device here"):
        TrainConfig.from_params(device="cuda", output=str(out))
    assert not out.exists()


def test_weights_and_constants_views():
    cfg = TrainConfig.from_params(a1=1.0, a6=2.0, eps=0.3)
    assert cfg.loss.weight_values == (1.0, 0.0, 0.0, 0.0, 0.0, 2.0) and cfg.loss.constants.eps == 0.3
    assert len(cfg.loss.weights) == len(TERMS) and cfg.loss.active == ("f", "r")
    assert dict(cfg.loss.weights)["a6"] == 2.0


def test_other_activations_train_without_regularizers():
    result = train(TrainConfig.from_params(activation="tanh", epochs=3, n_train=4, n_test=4, n_extrap=4),
                   progress=False)
    assert result.status == "ok" and list(result.history) == ["mse", "total"]


def test_flat_parameters_round_trip():
    cfg = TrainConfig.from_params(a2=0.5, n_train=7, solver="rk4", theta_star=(2.0, 0.1), k6=3.0, seed=4)
    flat = cfg.params
    assert TrainConfig.from_params(**flat) == cfg
    assert flat["a2"] == 0.5 and flat["n_train"] == 7 and flat["theta_star"] == [2.0, 0.1] and flat["k6"] == 3.0
    assert cfg.model.solver == "rk4" and cfg.data.n_train == 7 and cfg.seed == 4
    assert cfg.replace(a2=0.0).loss.active == () and cfg.replace(seed=5).data == cfg.data
    # every part's field is reachable by exactly one flat name
    assert len(flat) == len(set(flat))
