"""Training: the one loop (`fit`: Adam over B >= 1 configurations) and the toy model's trainer built on it."""
from .loop import FitResult, fit
from .toy import (FIXED_STEP_SOLVERS, BatchPlan, OptimSpec, TrainConfig, TrainingDiverged, TrainResult, plan_batches,
                  read_result, train, train_batched, write_result)

__all__ = ["FitResult", "fit", "OptimSpec", "TrainConfig", "TrainResult", "TrainingDiverged", "train",
           "train_batched", "plan_batches", "BatchPlan", "FIXED_STEP_SOLVERS", "read_result", "write_result"]
