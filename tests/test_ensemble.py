"""MLP ensembles (symnb.neural.ensemble): member e of the vmap'd ensemble is a standalone network."""
from __future__ import annotations

import math

import pytest
import torch

from symnb.train import fit
from symnb.neural.ensemble import MLPEnsemble, hnn_field, rk4_rollout

TOL = 1e-12


def _points(n: int = 7, d: int = 2, seed: int = 3) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("head", ["field", "hnn"])
def test_member_equals_standalone_network(head):
    """Outputs and parameter gradients of member e equal those of a plain nn.Module with its weights."""
    ens = MLPEnsemble(2, seeds=(0, 1, 2), width=16, depth=2, head=head)
    x = _points()
    out = ens.field(x)
    loss = (out ** 2).sum(dim=(1, 2))           # one loss per member
    grads = torch.autograd.grad(loss.sum(), list(ens.params.values()), materialize_grads=True)  # H's last bias: 0
    for e in range(3):
        net = ens.member(e)
        xe = x.clone().requires_grad_(True)
        if head == "field":
            f = net(xe)
        else:  # J grad H by plain autograd of the standalone module, independently of hnn_field
            (g,) = torch.autograd.grad(net(xe).sum(), xe, create_graph=True)
            f = torch.stack([g[:, 1], -g[:, 0]], dim=-1)
        assert torch.allclose(out[e], f, rtol=0, atol=TOL)
        single = torch.autograd.grad((f ** 2).sum(), list(net.parameters()), materialize_grads=True)
        for (name, _), gb, gs in zip(ens.params.items(), grads, single):
            assert torch.allclose(gb[e], gs, rtol=0, atol=TOL), name


def test_members_depend_on_their_seed_only():
    a = MLPEnsemble(2, seeds=(5, 7), width=8)
    b = MLPEnsemble(2, seeds=(7,), width=8)
    for k in a.params:
        assert torch.equal(a.params[k][1], b.params[k][0])
    assert not torch.equal(a.params["0.weight"][0], a.params["0.weight"][1])


def test_orthogonal_initialisation():
    ens = MLPEnsemble(2, seeds=(0,), width=12, depth=2)
    w = ens.params["2.weight"][0].detach()       # square hidden layer: W W^T = I
    assert torch.allclose(w @ w.T, torch.eye(12, dtype=torch.float64), atol=1e-12)


def test_hnn_field_is_hamiltons_equations():
    """For H = q**2 + p**2 (HNN's spring) J grad H = (2p, -2q)."""
    x = _points()
    q, p = x[:, 0], x[:, 1]
    grad_h = torch.stack([2 * q, 2 * p], dim=-1)
    assert torch.allclose(hnn_field(grad_h), torch.stack([2 * p, -2 * q], -1), atol=0)
    with pytest.raises(ValueError, match="even state dimension"):
        hnn_field(torch.zeros(3, 3))


def test_hnn_field_conserves_its_own_hamiltonian():
    """grad H . (J grad H) = 0: a learned H is exactly conserved by the learned field (to rounding)."""
    ens = MLPEnsemble(2, seeds=(0, 1), width=16, head="hnn")
    x = _points().requires_grad_(True)
    f = ens.field(x, create_graph=False)
    xe = x.unsqueeze(0).expand(2, -1, -1).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(ens.hamiltonian(xe).sum(), xe)
    assert (g * f).sum(-1).abs().max() < 1e-12


def test_batched_training_equals_single_training():
    """fit on the stacked ensemble (loss per member) moves member e exactly as fit on member e alone."""
    x = _points(20)
    target = torch.stack([x[:, 1], -x[:, 0]], -1)

    def loss_of(ens):
        def loss(params):
            mse = ((ens.field(x, params) - target) ** 2).mean(dim=(1, 2))
            return mse, {"mse": mse}
        return loss

    batch = MLPEnsemble(2, seeds=(0, 1, 2), width=16)
    rb = fit(loss_of(batch), batch.params, steps=15, lr=1e-2)
    single = MLPEnsemble(2, seeds=(1,), width=16)
    rs = fit(loss_of(single), single.params, steps=15, lr=1e-2)
    assert rb.batched and rs.batched
    for k in rb.params:
        assert torch.allclose(rb.params[k][1], rs.params[k][0], rtol=0, atol=TOL), k
    assert rb.history[1]["mse"][-1] < rb.history[1]["mse"][0]


def test_rk4_rollout_order_four():
    """Error of RK4 on x' = Jx (exact: rotation) drops ~16x when the step halves."""
    rot = lambda x: torch.stack([x[..., 1], -x[..., 0]], -1)  # noqa: E731
    x0 = torch.tensor([1.0, 0.0], dtype=torch.float64)
    errs = []
    for n in (20, 40):
        xs = rk4_rollout(rot, x0, n, 2.0 / n)
        exact = torch.tensor([math.cos(2.0), -math.sin(2.0)], dtype=torch.float64)
        errs.append(float((xs[-1] - exact).abs().max()))
    assert 12 < errs[0] / errs[1] < 20


def test_rk4_rollout_projection_is_applied_each_step():
    x0 = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    grow = lambda x: x  # noqa: E731  (x' = x leaves the unit circle)
    unit = lambda x, x_start: x / x.norm(dim=-1, keepdim=True)  # noqa: E731
    xs = rk4_rollout(grow, x0, 5, 0.1, project=unit)
    assert torch.allclose(xs.norm(dim=-1), torch.ones(6, 1, dtype=torch.float64), atol=1e-15)


def test_bad_input():
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        MLPEnsemble(2, activation="gelu")
    with pytest.raises(ValueError, match="unknown head 'x'"):
        MLPEnsemble(2, head="x")
    with pytest.raises(ValueError, match="width must be an integer >= 1, got 0"):
        MLPEnsemble(2, width=0)
    with pytest.raises(ValueError, match="seeds must name at least one member"):
        MLPEnsemble(2, seeds=())
    with pytest.raises(ValueError, match="head='hnn' needs an even dim"):
        MLPEnsemble(3, head="hnn")
    ens = MLPEnsemble(2, seeds=(0, 1), width=4)
    with pytest.raises(ValueError, match="last dimension must be the state dimension 2"):
        ens.field(torch.zeros(3, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 2\) or \(2, N, 2\)"):
        ens.field(torch.zeros(3, 3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="e must be a member index in range\\(2\\), got 2"):
        ens.member(2)
    with pytest.raises(ValueError, match="hamiltonian\\(\\) needs head='hnn'"):
        ens.hamiltonian(torch.zeros(3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="n_steps must be an integer >= 0, got -1"):
        rk4_rollout(lambda x: x, torch.zeros(2), -1, 0.1)
    with pytest.raises(ValueError, match="dt must be a finite non-zero number, got 0"):
        rk4_rollout(lambda x: x, torch.zeros(2), 1, 0)


def test_reference_init_is_the_reference_mlp_and_leaves_the_global_generator():
    """init="reference", last_bias=False: member e holds the weights HNN's MLP draws after torch.manual_seed(e)
    (nn.Linear defaults in layer order, then orthogonal_ on each weight), and the caller's generator is untouched."""
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    ens = MLPEnsemble(2, seeds=(0, 3), width=16, head="hnn_pair", last_bias=False, init="reference",
                      dtype=torch.float32)
    assert torch.equal(torch.rand(1), before)
    for e, seed in enumerate((0, 3)):
        torch.manual_seed(seed)
        layers = [torch.nn.Linear(2, 16), torch.nn.Linear(16, 16), torch.nn.Linear(16, 2, bias=None)]
        for lin in layers:
            torch.nn.init.orthogonal_(lin.weight)
        for i, lin in zip((0, 2, 4), layers):
            assert torch.equal(ens.params[f"{i}.weight"][e], lin.weight.detach())
        assert torch.equal(ens.params["0.bias"][e], layers[0].bias.detach())
    assert "4.bias" not in ens.params


def test_hnn_pair_head_uses_the_second_output():
    """HNN's solenoidal field: dF2 @ M.T with M = [[0, 1], [-1, 0]], F2 the second of two outputs."""
    ens = MLPEnsemble(2, seeds=(0,), width=16, head="hnn_pair")
    x = _points()
    net = ens.member(0)
    xe = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(net(xe)[:, 1].sum(), xe)
    M = torch.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=torch.float64)
    assert torch.allclose(ens.field(x)[0], g @ M.T, atol=TOL)
    assert torch.allclose(ens.hamiltonian(x)[0], net(x)[:, 1], atol=TOL)


def test_bad_reference_options():
    with pytest.raises(ValueError, match=r"unknown init 'kaiming'; valid: \['seeded', 'reference'\]"):
        MLPEnsemble(2, init="kaiming")
    with pytest.raises(ValueError, match="last_bias must be True or False, got 0"):
        MLPEnsemble(2, last_bias=0)
    with pytest.raises(ValueError, match="head='hnn_pair' needs an even dim"):
        MLPEnsemble(3, head="hnn_pair")
