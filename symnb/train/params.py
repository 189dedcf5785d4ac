"""The one mapping from notebook 04's parameters to a `TrainConfig`: one configuration id is one experiment.

Notebook 04 (chapter 4) and the batched sweep executor (`symnb.runs.executors`) both call `train_config`, so a
configuration trained by papermill and the same configuration trained in a batch are the same `TrainConfig`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

from ..toy.loss import LossConstants
from .toy import TrainConfig

__all__ = ["NOTEBOOK_PARAMETERS", "train_config"]

# Notebook 04's parameter names (its `parameters` cell); `constants` is a dict of eq 42's constants except eps.
NOTEBOOK_PARAMETERS = ("device", "dtype", "activation", "epochs", "lr", "n_train", "n_test", "n_extrap", "noise",
                       "seed", "a1", "a2", "a3", "a4", "a5", "a6", "eps", "constants", "solver", "rtol", "atol",
                       "adjoint", "derivative", "n_grid", "output")
_CONSTANTS = tuple(f.name for f in fields(LossConstants) if f.name != "eps")  # eq 42's constants but eps


def train_config(params: Mapping[str, object]) -> TrainConfig:
    """The `TrainConfig` of notebook 04's all-six run (eq 43 with weights a1..a6) for these parameters.

    Every name of `NOTEBOOK_PARAMETERS` is required (resolve a spec against the notebook's defaults first):
    a missing one would silently take `TrainConfig`'s own default, which is what made one id two experiments.
    Fields that are not notebook parameters (``theta_star``, ``theta_init``, ``horizon``, the input ranges,
    ``formulation``) keep `TrainConfig`'s defaults, as in the notebook.

    Args:
        params: notebook-04 parameter name -> value (``constants`` a dict with keys among c1..c3, k2..k6).

    Returns:
        The validated `TrainConfig`.

    Raises:
        ValueError: for a missing or unknown name (listing the allowed ones), or any value `TrainConfig` refuses.
    """
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a mapping of notebook-04 parameters, got {type(params).__name__}")
    unknown = [k for k in params if k not in NOTEBOOK_PARAMETERS]
    if unknown:
        raise ValueError(f"unknown notebook-04 parameter {unknown[0]!r}; allowed: {list(NOTEBOOK_PARAMETERS)}")
    missing = [k for k in NOTEBOOK_PARAMETERS if k not in params]
    if missing:
        raise ValueError(f"missing notebook-04 parameter(s) {missing}: resolve them from the notebook's "
                         f"parameters cell first (symnb.runs.spec.resolve)")
    constants = params["constants"]
    if not isinstance(constants, Mapping):
        raise ValueError(f"constants must be a dict of eq 42's constants, got {constants!r}")
    flat = {k: v for k, v in params.items() if k != "constants"}
    bad = [k for k in constants if k not in _CONSTANTS]
    if bad:
        raise ValueError(f"constants: unknown key {bad[0]!r}; allowed keys: {list(_CONSTANTS)}")
    return TrainConfig.from_params(**flat, **constants)
