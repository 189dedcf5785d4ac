"""Training: the one loop (`fit`, Adam over B >= 1 configurations) and the toy model's trainer built on it."""
from .batched import FIXED_STEP_SOLVERS, plan_batches, train_batched
from .loop import FitResult, fit
from .toy import TrainConfig, TrainingDiverged, TrainResult, read_result, train, write_result

__all__ = ["FIXED_STEP_SOLVERS", "FitResult", "fit", "TrainConfig", "TrainResult", "TrainingDiverged", "train", "train_batched",
           "plan_batches", "read_result", "write_result"]
