"""symnb: a reproducible companion to Hao (2023), "Symmetry-regularized neural ODEs" (arXiv 2311.16628).

The public API is small; chapter modules (`symnb.forward`, `symnb.noether`, `symnb.adjoint`, `symnb.losses`)
hold the paper-specific derivations and are imported by name.
"""
from .core.audit import Verdict, verdict_table
from .core.integrals import ConservationCheck, Drift, conservation_check, numeric_drift
from .core.lie import (Generator, SymmetryCheck, check_symmetry, determining_equations, finite_transformation, lie_series,
                  maps_solutions, prolong, solve_determining_equations)
from .noether import Lagrangian, euler_lagrange, noether_charge, variational_check
from .core.bridge import Trajectory, integrate, to_torch
from .core.ode import ODESystem, ode_system, total_derivative
from .train import TrainConfig, TrainingDiverged, train

__version__ = "0.1.0"

__all__ = [
    "Verdict", "verdict_table", "ConservationCheck", "Drift", "conservation_check", "numeric_drift", "Generator",
    "SymmetryCheck", "check_symmetry", "determining_equations", "finite_transformation", "lie_series",
    "maps_solutions", "prolong", "solve_determining_equations", "Lagrangian", "euler_lagrange", "noether_charge",
    "variational_check", "Trajectory", "integrate", "to_torch", "ODESystem", "ode_system", "total_derivative",
    "TrainConfig", "TrainingDiverged", "train",
]
