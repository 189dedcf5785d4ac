"""The fused closed-form pieces of the eq-43 loss: SymPy's lambdify(cse=True) agrees with the plain compilation."""
import torch

from symnb.core.bridge import to_torch
from symnb.toy.loss import _ARGS, TERMS, _fused, _summand, guard, time_derivative


def _plain_pieces(names, activation, formulation):
    # The same pieces compiled one expression at a time, without common-subexpression elimination.
    import sympy as sp
    exprs = []
    for name in names:
        expr, pools, _ = _summand(TERMS[name].quantity)
        if formulation == "guarded":
            expr = guard(expr)
        dq, dpools = time_derivative(name, activation, formulation)
        exprs += [dq] + [sp.diff(expr, p) for p in pools] + [dpools[p] for p in pools]
    return [to_torch(_ARGS, e) for e in exprs]


def test_cse_compilation_matches_plain_compilation_to_rounding():
    names = tuple(TERMS)
    generator = torch.Generator().manual_seed(0)
    values = [0.2 + 0.6 * torch.rand(7, generator=generator, dtype=torch.float64) for _ in _ARGS]
    for formulation in ("printed", "guarded"):
        fused, layout = _fused(names, "cos", formulation)
        got = fused(*values)
        plain = [fn(*values)[0] for fn in _plain_pieces(names, "cos", formulation)]
        assert len(got) == len(plain) == sum(1 + 2 * n for _, n in layout)
        for a, b in zip(got, plain):
            a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
            assert torch.isfinite(b).all()
            assert torch.allclose(a, b, rtol=1e-12, atol=1e-12 * float(b.abs().max().clamp(min=1)))
