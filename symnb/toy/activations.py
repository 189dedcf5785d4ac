"""The activations sigma of the toy model dz/dt = sigma(theta1 z + theta2): a registry of SymPy callables.

The paper works out sigma = cos (§3); its future work asks about other activations, which the general pipeline
(`symnb.core`) and chapter 6 take up.  Every formula of the toy model is derived from these expressions.
"""
from __future__ import annotations

from collections.abc import Callable

import sympy as sp

__all__ = ["ACTIVATIONS", "activation"]

#: Activations sigma by name: SymPy callables of one argument (the pre-activation theta1 z + theta2).
ACTIVATIONS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "cos": sp.cos,
    "sin": sp.sin,
    "tanh": sp.tanh,
    "sigmoid": lambda x: 1 / (1 + sp.exp(-x)),
    "softplus": lambda x: sp.log(1 + sp.exp(x)),
    "identity": lambda x: x,
}


def activation(name: str) -> Callable[[sp.Expr], sp.Expr]:
    """The SymPy callable registered under ``name``.

    Raises:
        ValueError: for an unknown name; the message lists the valid ones.
    """
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; valid: {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]
