"""The one training loop (`symnb.train.fit`): rows of a batch train as if alone; divergence stops only its row."""
import pytest
import torch

from symnb.train import fit

TARGETS = torch.tensor([[1.0, 2.0], [3.0, -4.0], [0.5, 0.25]], dtype=torch.float64)


def _quadratic(targets):
    def loss(p):
        r = ((p - targets) ** 2).sum(-1)
        return r, {"mse": r}
    return loss


def test_batched_rows_equal_single_runs():
    start = torch.randn(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    batch = fit(_quadratic(TARGETS), start.clone().requires_grad_(True), steps=25, lr=0.1)
    assert batch.batched and batch.steps == (25, 25, 25)
    for b in range(3):
        single = fit(_quadratic(TARGETS[b]), start[b].clone().requires_grad_(True), steps=25, lr=0.1)
        assert not single.batched
        torch.testing.assert_close(batch.params[b], single.params, rtol=0, atol=1e-14)
        assert batch.history[b]["mse"] == pytest.approx(single.history[0]["mse"], rel=1e-14)


def test_a_diverging_row_is_frozen_and_the_others_go_on():
    targets = TARGETS.clone()
    start = torch.zeros(3, 2, dtype=torch.float64)

    def loss(p):  # row 1 turns non-finite once its first coordinate passes 1
        r = ((p - targets) ** 2).sum(-1)
        r = torch.where(torch.arange(3) == 1, r + torch.log(1.0 - p[:, 0]), r)
        return r, {"mse": r}

    out = fit(loss, start.clone().requires_grad_(True), steps=60, lr=0.1)
    d = out.divergence[1]
    assert d["term"] == "mse" and d["stage"] == "loss" and out.steps[1] == d["step"]
    assert len(out.history[1]["mse"]) == d["step"] + 1  # the non-finite value is recorded, then the row stops
    assert out.divergence[0] == {} and out.divergence[2] == {} and out.steps[0] == 60
    assert float(out.params[1, 0]) < 1.0 + 0.1 * 2  # frozen near where it broke, not moved on with nan
    torch.testing.assert_close(out.params[0], TARGETS[0], atol=0.05, rtol=0)


def test_gradient_divergence_is_attributed():
    def loss(p):
        r = torch.sqrt(p.abs()).sum()  # d/dp sqrt|p| is inf at p = 0
        return r, {"root": r}

    out = fit(loss, torch.zeros(2, dtype=torch.float64, requires_grad=True), steps=5, lr=0.1,
              attribute_gradient=lambda b: "root")
    assert out.divergence[0] == {"step": 0, "term": "root", "stage": "gradient"} and out.steps == (0,)


def test_zero_steps_records_the_term_names_and_leaves_params():
    p0 = torch.tensor([0.3, 0.4], dtype=torch.float64, requires_grad=True)
    out = fit(_quadratic(TARGETS[0]), p0, steps=0, lr=0.1)
    assert out.history == ({"mse": [], "total": []},) and out.steps == (0,)
    torch.testing.assert_close(out.params, p0.detach())


def test_dict_parameters_train_like_a_tensor():
    start = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    as_tensor = fit(_quadratic(TARGETS[:2]), start.clone().requires_grad_(True), steps=10, lr=0.05)
    as_dict = fit(lambda p: _quadratic(TARGETS[:2])(p["w"]), {"w": start.clone().requires_grad_(True)}, steps=10,
                  lr=0.05)
    torch.testing.assert_close(as_dict.params["w"], as_tensor.params, rtol=0, atol=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(steps=-1), r"steps must be an integer >= 0, got -1"),
    (dict(steps=2.0), r"steps must be an integer >= 0, got 2.0"),
    (dict(lr=0.0), r"lr must be a finite number > 0, got 0.0"),
    (dict(lr=float("nan")), r"lr must be a finite number > 0, got nan"),
])
def test_bad_arguments_are_refused(kwargs, match):
    args = {"steps": 1, "lr": 0.1, **kwargs}
    with pytest.raises(ValueError, match=match):
        fit(_quadratic(TARGETS[0]), torch.zeros(2, dtype=torch.float64, requires_grad=True), **args)
    with pytest.raises(ValueError, match="params must be leaf tensors with requires_grad=True"):
        fit(_quadratic(TARGETS[0]), torch.zeros(2, dtype=torch.float64), steps=1, lr=0.1)
