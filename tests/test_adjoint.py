"""Chapter 3: the adjoint system against torchdiffeq and closed forms; its symmetries; eqs 39-42."""
import math

import pytest
import sympy as sp
import torch

from symnb.chapters import ch3_adjoint as A
from symnb.toy.activations import ACTIVATIONS
from symnb.core.lie import Generator, check_symmetry, numeric_solution_map
from symnb.core.bridge import integrate
from symnb.printed import adjoint as printed

THETA = A.DEFAULT_POINT["theta"]


# ------------------------------------------------------------------ the generated system vs reality


@pytest.mark.parametrize("name", ["cos", "sin", "tanh", "sigmoid", "softplus", "identity"])
def test_generated_system_reproduces_torchdiffeq_adjoint_gradients(name):
    agreement = A.gradient_agreement(name)
    assert agreement.max_rel_error <= 1e-8, agreement


@pytest.mark.parametrize("name", ["cos", "softplus"])
def test_generated_system_matches_backprop_through_the_solver(name):
    # second, independent reference: autograd through the dopri5 steps (no adjoint solve at all)
    agreement = A.gradient_agreement(name, 0.2, (0.7, -0.5), -0.4, 2.0, adjoint=False)
    assert agreement.max_rel_error <= 1e-8, agreement


def test_identity_activation_against_the_closed_form_gradient():
    # z' = a z + b: z(T) = (z0 + b/a) e^{aT} - b/a; L = (z(T) - z*)^2 differentiated by hand
    z0, (a, b), target, horizon = 0.4, (0.8, -0.3), 1.0, 1.2
    e = math.exp(a * horizon)
    z_final = (z0 + b / a) * e - b / a
    dz_da = (-b / a**2) * e + (z0 + b / a) * horizon * e + b / a**2
    dz_db = (e - 1) / a
    expected = [2 * (z_final - target) * d for d in (e, dz_da, dz_db)]
    got = A.generated_gradients("identity", z0, (a, b), target, horizon).as_tuple()
    assert got == pytest.approx(expected, rel=1e-9)


def test_adjoint_path_three_ways_agree():
    path = A.adjoint_path("cos")
    assert float((path.torch_u - path.generated[:, 1]).abs().max()) < 1e-8
    assert float((path.torch_u - path.closed_form_u).abs().max()) < 1e-8
    # a_theta(t) from torchdiffeq (segment [t, T]) is the generated v(t): not constant in t
    assert float((path.torch_v - path.generated[:, 2]).abs().max()) < 1e-8
    assert float((path.torch_v - path.torch_v[0]).abs().max()) > 1e-3


def test_cos_system_is_eq28_and_generic_sigma_is_eq6():
    assert all(cmp.agrees for cmp in A.cosine_comparison())
    assert all(cmp.agrees for cmp in A.generic_comparison())
    assert A.adjoint_system("cos").states == (A.z, A.u, A.v, A.w)


# ------------------------------------------------------------------ first integrals


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_H_K_J_are_first_integrals_for_every_activation(name):
    for key, (check, drift) in A.invariant_checks(name).items():
        assert check.status == "zero", (key, check.derivative)
        assert drift.max_drift < 1e-9, (key, drift.max_drift)


def test_generic_invariants_and_pontryagin_hamiltonian():
    assert all(d == 0 for d in A.generic_invariant_derivatives().values())


# ------------------------------------------------------------------ symmetries (eqs 32-39)


def test_printed_determining_conditions_match_lie():
    assert all(cmp.agrees for cmp in A.printed_conditions())


def test_derivation_forces_Z_zero_and_gives_papers_generator():
    deriv = A.symmetry_derivation()
    assert deriv.z_forced and deriv.check.holds
    expected = (A.k2, 0, A.k3 * A.u, A.k3 * A.v + A.k4, A.k3 * A.w + A.k5)
    assert all(sp.simplify(a - b) == 0 for a, b in zip(deriv.generator.components, expected))


def test_a_nonzero_z_infinitesimal_of_the_eq33_form_is_not_a_symmetry():
    system = A.adjoint_system("cos")
    phi = A.theta1 * A.z + A.theta2
    gen = Generator(system, A.t, (sp.tan(phi), A.u, 0, 0))  # k_Z = 1, k1 = 1 with U = u (Delta_1 is solved)
    assert not check_symmetry(gen).holds


def test_exact_flow_maps_solutions_numerically():
    gen = A.symmetry_derivation().generator
    flow = A.transformation_audit().exact
    values = {A.theta1: THETA[0], A.theta2: THETA[1], A.epsilon: 0.3, A.k2: 0.5, A.k3: 0.7, A.k4: -0.2, A.k5: 0.4}
    check = numeric_solution_map(flow, gen.system, [0.3, 0.7, 0.1, -0.2], 1.0, values)
    assert check.max_error < 1e-9


def test_eq39_maps_are_symmetries_but_not_a_group():
    audit = A.transformation_audit()
    assert all(r == 0 for r in audit.printed_maps_solutions)
    assert not audit.is_group
    assert sp.simplify(audit.second_order[2] - A.epsilon**2 * A.k3**2 * A.u / 2) == 0
    assert audit.exact.states[1] == A.u * sp.exp(A.epsilon * A.k3)


def test_eq34_and_eq35_sign():
    assert A.eq34_route().agrees
    assert A.eq35_sign() != 0


# ------------------------------------------------------------------ eqs 40-42


def test_eq40_lines_hold_on_the_principal_branch_and_match_a_solve():
    assert all(r == 0 for r in A.eq40_residuals().values())
    z0 = 0.5
    phase = THETA[0] * z0 + THETA[1]
    c_value = math.atanh(math.sin(phase)) / THETA[0]
    times = torch.linspace(0.0, 1.5, 7, dtype=torch.float64)
    traj = integrate(A.adjoint_system("cos"), [z0, 1.0, 0.0, 0.0], times, {A.theta1: THETA[0], A.theta2: THETA[1]})
    closed = [float(printed.eq40_z.subs({A.c: c_value, A.theta1: THETA[0], A.theta2: THETA[1], A.t: float(tk)}))
              for tk in times]
    assert traj.states[:, 0].tolist() == pytest.approx(closed, abs=1e-10)


def test_prq_not_conserved_with_free_constants():
    for which in ("eq41", "eq42"):
        assert all(ch.status == "nonzero" for ch in A.prq_checks(which).values())


def test_prq_drifts_and_eq41_typo_rate():
    x0 = (0.3, 0.7, 0.1, -0.2)
    consts = A.matched_constants(x0, THETA)
    matched = A.prq_drifts("eq42", x0, THETA, 1.5, consts)
    assert max(dict(matched.drifts).values()) < 1e-9
    typo = A.prq_drifts("eq41", x0, THETA, 1.5, consts)
    # eq 41's Q differs from eq 42's by (k6 + t - k6 t)/theta1: drift |1 - k6| T / theta1
    assert typo.drift("Q") == pytest.approx(abs(1 - consts[A.k6]) * 1.5 / THETA[0], rel=1e-8)
    assert sp.simplify(A.q_typo_rate() - (1 - A.k6) / A.theta1) == 0
    shifted = A.prq_drifts("eq42", x0, THETA, 1.5, A.matched_constants(x0, THETA, eps=0.2, k2_value=1.0))
    assert min(dict(shifted.drifts).values()) > 1e-3


def test_prq_on_branch_reduce_to_first_integrals():
    reduced = A.prq_on_branch("eq42")
    inv = A.adjoint_invariants("cos")
    scale = (1 + A.k3 * A.epsilon) / A.theta1
    assert reduced["P"] == 0
    assert sp.simplify(reduced["Q"] - scale * inv["J"]) == 0
    assert sp.simplify(reduced["R"] + scale * inv["K"]) == 0


def test_verdicts_are_decided():
    rows = {r.eq: r.verdict for r in A.adjoint_verdicts()}
    assert rows["eq 5"] == "holds with a caveat"
    assert rows["eq 28"] == "holds" and rows["eq 35"] == "typo"
    assert rows["eq 41"] == "wrong" and rows["eq 42"] == "wrong"


# ------------------------------------------------------------------ errors


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown activation 'relu'; valid: \['cos', 'identity', 'sigmoid'"):
        A.adjoint_system("relu")


def test_unknown_printed_set():
    with pytest.raises(ValueError, match=r"unknown printed set 'eq43'; valid: \['eq41', 'eq42'\]"):
        A.candidate_quantities("eq43")


def test_bad_horizon_and_grid():
    with pytest.raises(ValueError, match=r"t_final must exceed the start time 0.0, got t_final=-1.0"):
        A.generated_gradients("cos", 0.1, THETA, 0.0, -1.0)
    with pytest.raises(ValueError, match=r"t_final must exceed the start time 0.5, got t_final=0.5"):
        A.torchdiffeq_gradients("cos", 0.1, THETA, 0.0, 0.5, t_start=0.5)
    with pytest.raises(ValueError, match=r"n_points must be >= 2, got 1"):
        A.adjoint_path("cos", n_points=1)


def test_zero_reference_gradient_refused():
    # f = 0 * z + 0 and z0 = 0: z stays 0, so dL/dtheta1 = int a z dt is exactly 0
    with pytest.raises(ValueError, match=r"a reference gradient is exactly 0 at z0=0.0"):
        A.gradient_agreement("identity", 0.0, (0.0, 0.0), 1.0, 1.0)


def test_theta_must_be_a_pair_and_lists_are_accepted():
    with pytest.raises(ValueError, match=r"theta must be \(theta1, theta2\), got \[1.0\]"):
        A.gradient_agreement("cos", 0.5, [1.0], 1.2, 1.5)
    assert A.gradient_agreement("cos", theta=list(THETA)) == A.gradient_agreement("cos")


def test_paper_closed_form_adjoint_only_for_cos():
    path = A.adjoint_path("cos")
    assert float((A.paper_adjoint_curve(path) - path.torch_u).abs().max()) < 1e-8
    with pytest.raises(ValueError, match=r"the printed closed form is for sigma = cos, got a path for 'tanh'"):
        A.paper_adjoint_curve(A.adjoint_path("tanh", n_points=2))
