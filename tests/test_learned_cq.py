"""Learned quadratic conserved quantities (chapter 8): flows, the symbolic oracle, recovery, collapse, errors."""
import re
from pathlib import Path

import pytest
import sympy as sp
import torch
from torchdiffeq import odeint

from symnb.chapters import ch8_learned as ch8
from symnb.core.integrals import numeric_drift
from symnb.core.systems import isotropic_oscillators, textbook_system
from symnb.train import fit
from symnb.neural.learned_cq import (OUTPUT_VAR, PRIOR_VAR, SymmetrizedHNN, certify_quantities, generator_matrices,
                                     generator_spectrum, group_action, quadratic_coefficients, quadratic_integrals,
                                     quantity_values, symplectic_matrix)

ROOT = Path(__file__).resolve().parents[1]


def _random_quadratic(d, seed):
    gen = torch.Generator().manual_seed(seed)
    W = torch.randn(d, d, generator=gen, dtype=torch.float64)
    return 0.5 * (W + W.T), torch.randn(d, generator=gen, dtype=torch.float64)


@pytest.mark.parametrize("d", [2, 4, 6])
def test_generator_flow_conserves_its_quantity(d):
    """Noether: the flow exp(sA) of G = J grad C preserves C (float64, to 1e-10), for any quadratic C."""
    W, b = _random_quadratic(d, d)
    A = generator_matrices(W[None], b[None])[0]
    x = torch.randn(5, d, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    c0 = quantity_values(W[None], b[None], x)
    for s in (-0.7, 0.3, 1.1):
        y = group_action(s * A, x)
        assert (quantity_values(W[None], b[None], y) - c0).abs().max() < 1e-10
        assert (y - x).abs().max() > 1e-3  # the flow does move the points


def test_group_action_is_the_flow_of_the_affine_field():
    """exp(sA)(x, 1) agrees with integrating dx/ds = J (W x + b) independently (dopri5, 1e-12)."""
    W, b = _random_quadratic(4, 7)
    J = symplectic_matrix(4)
    x0 = torch.randn(3, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    s = torch.tensor([0.0, 0.8], dtype=torch.float64)
    ys = odeint(lambda _, x: (x @ W.T + b) @ J.T, x0, s, rtol=1e-12, atol=1e-12)
    exact = group_action(0.8 * generator_matrices(W[None], b[None])[0], x0)
    assert (ys[-1] - exact).abs().max() < 1e-9


@pytest.mark.parametrize("n", [1, 2, 3])
def test_quadratic_integrals_span_u_n(n):
    """The derived quadratic integrals of n oscillators: n^2 of them (dim u(n)), each drift-free numerically."""
    system = isotropic_oscillators(n, {"omega": 1})
    found = quadratic_integrals(system)
    assert found.complete and len(found.quantities) == n * n
    x0 = [0.3 * (i + 1) * (-1) ** i for i in range(2 * n)]
    for q in found.quantities:
        assert numeric_drift(q, system, x0, 3.0, n_points=31).max_drift < 1e-9
    vectors = torch.stack([generator_matrices(*[c[None] for c in quadratic_coefficients(q, system.states)])[0]
                           .flatten() for q in found.quantities])
    assert torch.linalg.matrix_rank(vectors) == n * n  # independent


def test_quadratic_integrals_non_polynomial_fields_and_empty():
    # The pendulum has no polynomial integral (its energy has cos q): decided, complete and empty.
    pendulum = textbook_system("pendulum", {"g": 1})
    found = quadratic_integrals(pendulum)
    assert found.complete and found.quantities == ()
    # Planar Kepler is no longer refused: its one quadratic integral is the angular momentum x vy - y vx.
    kepler = textbook_system("kepler_planar")
    x, y, vx, vy = kepler.states
    found = quadratic_integrals(kepler)
    assert found.complete and len(found.quantities) == 1
    assert sp.simplify(found.quantities[0] / (x * vy - y * vx)).is_constant()
    with pytest.raises(ValueError, match="time_budget must be a positive number of seconds, got 0"):
        quadratic_integrals(kepler, time_budget=0)
    damped = quadratic_integrals(textbook_system("damped_oscillator", {"gamma": 0.5}))
    assert damped.complete and damped.quantities == ()


def test_certify_rejects_what_is_not_conserved():
    system = isotropic_oscillators(1, {"omega": 1})
    squeeze = torch.tensor([[[0.0, 1.0], [1.0, 0.0]]], dtype=torch.float64)  # C = q p
    (cert,) = certify_quantities(squeeze, torch.zeros(1, 2, dtype=torch.float64), system)
    assert cert.status == "not certified" and sp.simplify(cert.quantity - system.states[0] * system.states[1]) == 0
    (zero,) = certify_quantities(torch.zeros(1, 2, 2, dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64),
                                 system)
    assert zero.status == "not certified" and re.search("collapsed", zero.reason)


def test_spectrum_of_a_rotated_basis_is_aligned():
    oracle, _ = ch8.oracle_generators(2)
    mix = torch.randn(5, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    learned = torch.einsum("kr,rij->kij", mix, oracle)  # 5 combinations of the 4 true generators
    spec = generator_spectrum(learned, oracle)
    assert spec.rank == 4 and spec.singular_values[-1] < 1e-10 and spec.min_cosine > 1 - 1e-10
    squeeze = generator_matrices(torch.tensor([[[0.0, 1.0], [1.0, 0.0]]], dtype=torch.float64),
                                 torch.zeros(1, 2, dtype=torch.float64))
    assert generator_spectrum(squeeze, ch8.oracle_generators(1)[0]).min_cosine < 1e-10


@pytest.fixture(scope="module")
def trained():
    """One learned quantity on the 1-D oscillator from its clean 28 transitions, normalised."""
    seeds = (0, 1, 2)
    train = ch8.oscillator_data(1, seeds, 7, 4, 0.2, 1.0, 0.5)
    model = SymmetrizedHNN("hnn_learned", 2, seeds, width=32, samples=8, regularizer="normalise")
    result = fit(model.loss_fn(train.x0, train.x1, 0.2, warmup=150), model.params, steps=250, lr=1e-2)
    return {"normalise mse": [h["mse"][-1] for h in result.history], "normalise": (model, result.params)}


def test_learned_span_recovers_rotation(trained):
    """The seed with the lowest training loss (a restart rule that needs no oracle) has learned the rotation, and
    its quantity, recognised, is certified as the energy; seeds that did not align are visible in the training
    loss alone (a local optimum: rotation about a distant centre)."""
    model, params = trained["normalise"]
    train_mse = trained["normalise mse"]
    rotation, (energy,) = ch8.oracle_generators(1)
    A = model.generators(params).detach()
    cosines = [generator_spectrum(A[e], rotation).min_cosine for e in range(3)]
    best = min(range(3), key=lambda e: train_mse[e])
    assert cosines[best] > 0.99
    (cert,) = certify_quantities(params["W"][best], params["b"][best], isotropic_oscillators(1, {"omega": 1}))
    assert cert.status == "certified" and cert.rounding < 0.05
    assert sp.simplify(cert.quantity / energy).is_number  # the energy, up to a factor
    for e in range(3):
        if cosines[e] < 0.9:
            assert train_mse[e] > 10 * train_mse[best]


def test_collapse_prevented_by_normalisation():
    """From the same non-trivial start (each seed's generator draw at unit norm), the MAP point estimate -- data
    term plus the Gaussian prior on the generator, no Occam term -- collapses: every seed ends below a tenth of
    its initial size, so H averages over a negligible orbit.  The normalised generator keeps unit size, the
    seed with the lowest training loss (no oracle involved) points along the rotation, and its H is invariant
    under the full rotation (q^2 + p^2 conserved) several times more closely than any collapsed seed's H."""
    result = ch8.collapse_experiment(seeds=(0, 1, 2), regularizers=("map", "normalise"))
    for reg in ("map", "normalise"):
        assert torch.allclose(torch.tensor(result.initial_norm[reg]), torch.ones(3))
    assert all(final < 0.1 * start for final, start in zip(result.norm["map"], result.initial_norm["map"]))
    assert torch.allclose(torch.tensor(result.norm["normalise"]), torch.ones(3))
    best = result.best("normalise")
    assert result.cosine["normalise"][best] > 0.95
    assert result.circle_change["normalise"][best] < 0.05
    assert result.circle_change["normalise"][best] < 0.5 * min(result.circle_change["map"])


def test_circle_change_measures_rotation_invariance():
    """`circle_change` is near 0 for an H averaged over the full rotation (the oracle model, any network) and
    clearly not for the raw network F of an HNN; the generator draw of `init_norm` keeps its direction."""
    x = ch8.oscillator_data(1, (0, 1), 7, 4, 0.2, 1.0, 0.5).x0
    oracle, _ = ch8.oracle_generators(1)
    symmetric = SymmetrizedHNN("hnn_oracle", 2, (0, 1), oracle=oracle, width=32)
    raw = SymmetrizedHNN("hnn", 2, (0, 1), width=32)
    assert (ch8.circle_change(symmetric, symmetric.params, x) < 0.01).all()  # Monte Carlo error of 256 samples
    assert (ch8.circle_change(raw, raw.params, x) > 0.1).all()
    small = SymmetrizedHNN("hnn_learned", 2, (0, 1), regularizer="none").generators().detach()
    unit = SymmetrizedHNN("hnn_learned", 2, (0, 1), regularizer="none", init_norm=1.0).generators().detach()
    norms = unit.flatten(2).norm(dim=-1)
    assert torch.allclose(norms, torch.ones_like(norms))
    assert torch.allclose(unit, small / small.flatten(2).norm(dim=-1)[..., None, None])


def test_map_objective_adds_the_gaussian_prior():
    """"map" adds sigma^2 / (N d tau^2) ||A||^2 to the MSE (N = 28 transitions, d = 2; ||A|| = 2 here); "none" adds
    nothing."""
    data = ch8.oscillator_data(1, (0,), 7, 4, 0.2, 1.0, 0.5)
    model = SymmetrizedHNN("hnn_learned", 2, (0,), regularizer="map", init_norm=2.0)
    total, terms = model.loss_fn(data.x0, data.x1, 0.2)(model.params)
    expected = torch.tensor([OUTPUT_VAR / (28 * 2 * PRIOR_VAR) * 4.0], dtype=torch.float64)
    assert torch.allclose(terms["prior"].detach(), expected)
    assert torch.allclose(total.detach(), (terms["mse"] + terms["prior"]).detach())
    plain = SymmetrizedHNN("hnn_learned", 2, (0,), regularizer="none", init_norm=2.0)
    assert set(plain.loss_fn(data.x0, data.x1, 0.2)(plain.params)[1]) == {"mse"}


def test_symmetrized_hamiltonian_is_invariant_under_its_own_flow(trained):
    """H averaged over the learned group barely changes along the learned flow; the raw network F does."""
    model, params = trained["normalise"]
    x = ch8.oscillator_data(1, (0, 1, 2), 4, 2, 0.2, 1.0, 0.5).x0
    A = model.generators(params).detach()
    w = model.sample_group(torch.Generator().manual_seed(0), 64)
    H = model.hamiltonian(x, w, params).detach()
    moved = group_action(0.5 * A[:, 0][:, None], x[:, None])[:, 0]
    H_moved = model.hamiltonian(moved, w, params).detach()
    change = (H_moved - H).abs().amax(1) / H.abs().amax(1)
    F = model.net.net(x, {k: v for k, v in params.items() if k not in ("W", "b")}).detach()[..., 0]
    F_moved = model.net.net(moved, {k: v for k, v in params.items() if k not in ("W", "b")}).detach()[..., 0]
    raw_change = (F_moved - F).abs().amax(1) / F.abs().amax(1)
    best = min(range(3), key=lambda e: trained["normalise mse"][e])
    assert change[best] < 1e-3 and change[best] < 0.1 * raw_change[best]  # the average removed F's variation


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"unknown model kind 'mlp'; valid: \["):
        SymmetrizedHNN("mlp", 2)
    with pytest.raises(ValueError, match=r"unknown regularizer 'elbo'; valid: \['map', 'none', 'normalise'\]"):
        SymmetrizedHNN("hnn_learned", 2, regularizer="elbo")
    for bad in (0, -1.0, float("inf"), True, "1"):
        with pytest.raises(ValueError, match=r"init_norm must be None \(entries of standard deviation init_std\) "
                                             rf"or a finite number > 0, got {re.escape(repr(bad))}"):
            SymmetrizedHNN("hnn_learned", 2, init_norm=bad)
    with pytest.raises(ValueError, match=r"regularizers must be distinct keys of REGULARIZERS \['map', 'none', "
                                         r"'normalise'\], got \['elbo'\]"):
        ch8.collapse_experiment(regularizers=("elbo",))
    with pytest.raises(ValueError, match=r"angles must be an integer >= 2, got 1"):
        ch8.circle_change(SymmetrizedHNN("hnn", 2), SymmetrizedHNN("hnn", 2).params, torch.zeros(1, 1, 2), angles=1)
    with pytest.raises(ValueError, match=r"kind 'hnn_oracle' needs oracle generators of shape \(K, 3, 3\), got None"):
        SymmetrizedHNN("hnn_oracle", 2)
    with pytest.raises(ValueError, match=r"dim must be a positive even integer .* got 3"):
        symplectic_matrix(3)
    with pytest.raises(ValueError, match=r"n must be an integer >= 1 \(number of oscillators\), got 0"):
        isotropic_oscillators(0)
    with pytest.raises(ValueError, match=r"warmup must be an integer >= 0 \(training steps\), got -1"):
        SymmetrizedHNN("hnn", 2).loss_fn(torch.zeros(1, 1, 2), torch.zeros(1, 1, 2), 0.2, warmup=-1)
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['epochs'\]; valid: \["):
        ch8.run_experiment(epochs=3)
    with pytest.raises(ValueError, match=r"W must be \(K, 2, 2\) and b \(K, 2\)"):
        certify_quantities(torch.zeros(1, 3, 3), torch.zeros(1, 3), isotropic_oscillators(1, {"omega": 1}))
    with pytest.raises(ValueError, match=r"quantity has symbols \['omega'\] besides the states"):
        system = isotropic_oscillators(1)
        quadratic_coefficients(system.states[0] ** 2 * sp.Symbol("omega", positive=True), system.states)


def test_audit_page_matches_verdicts():
    rows = []
    for line in (ROOT / "book" / "audit" / "ch8.md").read_text().splitlines():
        m = re.match(r"^\|\s*(claim[^|]*?)\s*\|.*\|\s*\**(holds with a caveat|holds|not supported here|inconclusive|wrong|typo)\**\s*\|", line)
        if m:
            rows.append((m.group(1), m.group(2)))
    assert rows == [(v.eq, v.verdict) for v in ch8.verdicts()]


def test_oscillator_data_is_the_exact_rotation():
    """Transitions of the unit oscillator are rotations of phase space by dt (closed form, independent of symnb)."""
    data = ch8.oscillator_data(2, (5,), 3, 4, 0.2, 1.0, 0.5, 1.0)
    c, s = torch.cos(torch.tensor(0.2, dtype=torch.float64)), torch.sin(torch.tensor(0.2, dtype=torch.float64))
    q, p = data.x0[..., :2], data.x0[..., 2:]
    exact = torch.cat([q * c + p * s, -q * s + p * c], -1)
    assert (data.x1 - exact).abs().max() < 1e-10
    assert data.x0.shape == (1, 12, 4)


def test_geometric_mean_interval():
    mean, low, high = ch8._ci([1e-4, 1e-2])
    assert abs(mean - 1e-3) < 1e-15 and low < mean < high and low > 0


def test_record_reports_the_restart_rule_seed_and_the_worst_seed():
    """The record names the lowest-training-loss seed (no oracle involved) with its own rank and alignment, and
    keeps the worst seed's alignment beside it."""
    mse = {"hnn_learned": {"train": (3e-5, 1e-6, 2e-5), "test": (1e-4, 2e-4, 3e-4)}}
    svs = ((2.0, 1.0, 1e-3, 1e-4), (2.0, 1.5, 1.2, 1e-3), (1.0, 0.5, 0.4, 0.3))   # K = 4 > 3 = true dimension
    coss = ((0.99, 0.2), (0.999, 0.97), (0.9, 0.5))
    result = ch8.ExperimentResult(2, (10, 11, 12), mse, {"hnn_learned": 1.0}, ("C1", "C2", "C3"), svs, coss, (), 4,
                                  {})
    rec = ch8.result_record(result)
    assert rec["learned.best_seed"] == 11 and rec["learned.best_min_cosine"] == 0.97
    assert rec["learned.best_rank"] == 3 and rec["learned.min_cosine"] == 0.2
    assert rec["learned.full_span_seeds"] == 1                # seed 11: rank 3 and min cos 0.97; seed 10: rank 2


def test_an_outdated_results_table_is_refused_by_name(tmp_path):
    old = tmp_path / "old.csv"
    old.write_text("status,n,oracle_dim,learned.min_cosine\ndone,1,1,0.99\n")
    with pytest.raises(ValueError, match=r"lacks the columns \['seeds', 'hnn_learned.test.gmean', "
                                         r".*'learned.best_rank'"):
        ch8.read_results(old)
    with pytest.raises(ValueError, match="not found; regenerate it"):
        ch8.read_results(tmp_path / "missing.csv")
