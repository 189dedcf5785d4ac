"""The parameter-space finder against published answers, its certificates, and Marcotte et al.'s count."""
import sympy as sp
import pytest

from symnb.core.param_symmetry import (ACTIVATIONS, ParameterField, certify_generator, conservation_law_count,
                                       find_parameter_symmetries, two_layer_field)


@pytest.mark.parametrize("h", [1, 2, 3])
def test_relu_layer_has_h_rescalings_each_a_conserved_q(h):
    """Kunin et al. 2021 / Zhao et al. 2023: one rescale symmetry per hidden unit, Q = |w_in|^2 + b^2 - |w_out|^2."""
    field = two_layer_field(h, 2, activation="relu")
    found = find_parameter_symmetries(field)
    assert found.complete and (found.n_generators, found.n_conserved, found.n_flagged) == (h, h, 0)
    sym = {p.name: p for p in field.params}
    for j in range(h):
        expected = sp.Rational(1, 2) * (sym[f"W1_{j}0"]**2 + sym[f"W1_{j}1"]**2 + sym[f"b1_{j}"]**2
                                        - sym[f"W2_0{j}"]**2 - sym[f"W2_1{j}"]**2)
        assert expected in found.quantities


@pytest.mark.parametrize("h", [2, 3])
def test_linear_layer_has_gl_h_with_h_h_plus_1_over_2_conserved(h):
    """Zhao et al. 2023: GL(h) (h^2 generators); only the symmetric elements give Q (h(h+1)/2)."""
    found = find_parameter_symmetries(two_layer_field(h, h, activation="identity", bias=False))
    assert found.complete
    assert (found.n_generators, found.n_conserved, found.n_flagged) == (h * h, h * (h + 1) // 2, h * (h - 1) // 2)
    assert all(s.status == "no gradient-flow invariant" for s in found.symmetries if s.quantity is None)


def test_linear_layer_with_biases_adds_the_bias_translations_which_are_not_gradients():
    h = 2
    found = find_parameter_symmetries(two_layer_field(h, h, activation="identity"))
    assert (found.n_generators, found.n_conserved) == (h * h + h, h * (h + 1) // 2)


@pytest.mark.parametrize("activation", ["tanh", "sigma"])
def test_smooth_activation_has_no_continuous_symmetry(activation):
    found = find_parameter_symmetries(two_layer_field(2, 2, activation=activation))
    assert found.complete and found.n_generators == 0


def test_cosine_toy_has_none_and_its_over_parameterisation_a_squared_minus_b_squared():
    th1, th2, z, a, b = sp.symbols("theta1 theta2 z a b", real=True)
    toy = find_parameter_symmetries(ParameterField((sp.cos(th1 * z + th2),), (th1, th2), (z,)))
    assert toy.complete and toy.n_generators == 0
    over = find_parameter_symmetries(ParameterField((a * b * sp.cos(th1 * z + th2),), (a, b, th1, th2), (z,)))
    assert over.complete and over.quantities == (a**2 / 2 - b**2 / 2,)


def test_certificate_rejects_a_wrong_generator_and_accepts_the_right_one():
    field = two_layer_field(2, 1, activation="relu")
    sym = {p.name: p for p in field.params}
    right = [{"W1_00": sym["W1_00"], "b1_0": sym["b1_0"], "W2_00": -sym["W2_00"]}.get(p.name, 0) for p in field.params]
    assert certify_generator(field, right).certified
    wrong = [x if p.name != "b1_0" else 0 for p, x in zip(field.params, right)]  # forgets the bias
    cert = certify_generator(field, wrong)
    assert not cert.certified and cert.residual > 1e-3
    assert not certify_generator(field, [0] * len(field.params)).certified  # the zero field is no generator
    # a GL generator of the linear layer is not a symmetry of the ReLU layer (mixes units across patterns)
    mix = [{"W1_00": sym["W1_10"], "b1_0": sym["b1_1"], "W2_01": -sym["W2_00"]}.get(p.name, 0) for p in field.params]
    assert certify_generator(two_layer_field(2, 1, activation="identity"), mix).certified
    assert not certify_generator(field, mix).certified


@pytest.mark.parametrize("activation, h, laws", [("relu", 2, 2), ("identity", 2, 3), ("tanh", 2, 0),
                                                 ("relu", 3, 3)])
def test_marcotte_count_matches_the_known_laws(activation, h, laws):
    count = conservation_law_count(two_layer_field(h, 2, activation=activation))
    assert count.stable and count.n_laws == laws


def test_horizon_symmetry_is_found_with_t_as_a_parameter():
    base = two_layer_field(1, 1, activation="relu")
    t = sp.Symbol("T", positive=True)
    field = ParameterField(tuple(t * e for e in base.exprs), (*base.params, t), base.inputs, base.patterns)
    found = find_parameter_symmetries(field)
    assert found.complete and found.n_conserved == 2
    w2, b2 = sp.Symbol("W2_00", real=True), sp.Symbol("b2_0", real=True)
    target = (w2**2 + b2**2 - t**2) / 2
    c = sp.symbols("c0:2")
    resid = sp.Poly(sp.expand(target - c[0] * found.quantities[0] - c[1] * found.quantities[1]), *field.params)
    assert sp.solve(resid.coeffs(), c, dict=True)


def test_budget_exhausted_is_reported_not_silent():
    found = find_parameter_symmetries(two_layer_field(3, 3, activation="identity"), budget_s=1e-4)
    assert not found.complete and found.n_generators == 0 and "not decided" in found.reason


def test_bad_input_refused_before_any_work():
    with pytest.raises(ValueError, match=r"unknown activation 'gelu'; valid: \['identity', 'relu'"):
        two_layer_field(2, activation="gelu")
    with pytest.raises(ValueError, match=r"width must be an integer >= 1, got 0"):
        two_layer_field(0)
    with pytest.raises(ValueError, match=r"degree must be 0, 1 or 2, got 3"):
        find_parameter_symmetries(two_layer_field(1), degree=3)
    ps = sp.symbols("p0:5")
    with pytest.raises(ValueError, match=r"degree-2 ansatz for 5 parameters has 105 coefficients, more than "
                                         r"max_unknowns = 100"):
        find_parameter_symmetries(ParameterField((sum(ps) * sp.Symbol("x"),), ps, (sp.Symbol("x"),)), degree=2,
                                  max_unknowns=100)
    x, p, q = sp.symbols("x p q")
    with pytest.raises(ValueError, match=r"field uses undeclared symbols \['q'\]"):
        ParameterField((p * x + q,), (p,), (x,))
    with pytest.raises(ValueError, match=r"symbols \['x'\] are both parameters and inputs"):
        ParameterField((p * x,), (p, x), (x,))
    with pytest.raises(ValueError, match=r"xi has 1 components; the field has 4 parameters"):
        certify_generator(two_layer_field(1), [0])
    with pytest.raises(ValueError, match=r"depth must be an integer >= 1, got 0"):
        conservation_law_count(two_layer_field(1), depth=0)
    assert sorted(ACTIVATIONS) == ["identity", "relu", "sigma", "tanh"]
