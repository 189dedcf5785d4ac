"""symnb: a reproducible companion to Hao (2023), "Symmetry-regularized neural ODEs" (arXiv 2311.16628).

Layers (a lower one never imports a higher one; `tests/test_layers.py` checks it):

* `symnb.core`     -- model-agnostic maths: ODE systems, Lie symmetries, first integrals, Noether, the adjoint,
  the one SymPy->torch bridge;
* `symnb.toy`      -- the paper's model family dz/dt = sigma(theta1 z + theta2), its data and the eq-43 loss;
* `symnb.neural`   -- neural vector fields (MLP ensembles under vmap) and the HNN baseline, with their data;
* `symnb.train`    -- the one training loop (`fit`) and the toy's trainer;
* `symnb.runs`     -- sweeps, run folders, executors, reports;
* `symnb.chapters` -- one module per chapter of the book, each with its verdict rows;
* `symnb.printed`  -- the paper's formulas as printed (what the chapters audit).

The public API below is small; chapter modules are imported by name (``from symnb.chapters import ch1_forward``).
"""
from .core.adjoint import AdjointSystem, NumericAdjoint, adjoint_of
from .core.analyze import Analysis, AnalysisRow, analyze
from .core.audit import Verdict, verdict_table
from .core.bridge import FieldModule, Trajectory, integrate, to_torch
from .core.budget import Budget, BudgetExceeded
from .core.data import data_path
from .core.first_integrals import ROUTES, Basis, FirstIntegral, FirstIntegrals, Route, classify_routes, first_integrals
from .core.informativeness import Informativeness, informativeness
from .core.integrals import ConservationCheck, Drift, conservation_check, numeric_drift
from .core.lie import (DeterminingEquations, Generator, GroupTransformation, Prolongation, SymmetryCheck,
                       SymmetrySolution, check_symmetry, determining_equations, finite_transformation, lie_series,
                       maps_solutions, prolong, solve_determining_equations)
from .core.noether import Lagrangian, NoetherCharge, VariationalCheck, euler_lagrange, noether_charge, variational_check
from .core.ode import ODESystem, ode_system, total_derivative
from .core.status import NotDecided, Status
from .core.stats import MeanCI, mean_ci
from .core.zero import ZeroDecision, ZeroStatus, decide_zero
from .core.penalty import ConservationPenalty, conservation_penalty, project_to_level_set
from .core.symmetries import Polynomial, SymmetryBasis, find_symmetries
from .core.systems import textbook_system
from .neural import MLPEnsemble, hnn_field, rk4_rollout
from .neural.learned_cq import (GeneratorSpectrum, QuadraticIntegrals, SymmetrizedHNN, certify_quantities,
                                generator_spectrum, quadratic_integrals, spectrum_rank)
# `train` (the function) stays in `symnb.train`: binding it here would hide the package (`import symnb.train`).
from .train import FitResult, TrainConfig, TrainingDiverged, TrainResult, fit
# chapter 9: parameter-space symmetries
from .core.param_symmetry import (GeneratorCertificate, LawCount, ParameterField, ParameterSymmetries, ParameterSymmetry,
                                  certify_generator, conservation_law_count, find_parameter_symmetries,
                                  two_layer_field)
from .neural.ledger import Ledger, quadratic_form, record_ledger
from .neural.teleport import TeleportResult, teleport

__version__ = "0.1.0"

__all__ = [
    "Verdict", "verdict_table", "ConservationCheck", "Drift", "conservation_check", "numeric_drift", "Generator",
    "SymmetryCheck", "check_symmetry", "determining_equations", "finite_transformation", "lie_series",
    "maps_solutions", "prolong", "solve_determining_equations", "Lagrangian", "euler_lagrange", "noether_charge",
    "variational_check", "Trajectory", "integrate", "to_torch", "ODESystem", "ode_system", "total_derivative",
    "textbook_system", "FitResult", "fit", "TrainConfig", "TrainingDiverged", "TrainResult",
    # return types of the functions above
    "DeterminingEquations", "GroupTransformation", "Prolongation", "SymmetrySolution", "NoetherCharge",
    "VariationalCheck", "QuadraticIntegrals", "GeneratorSpectrum",
    # the pipeline: ODE -> symmetries -> first integrals -> checked torch regularizer
    "find_symmetries", "Polynomial", "SymmetryBasis", "first_integrals", "FirstIntegral", "FirstIntegrals",
    "Basis", "Status", "NotDecided", "Route", "ROUTES", "classify_routes", "analyze", "Analysis", "AnalysisRow",
    "adjoint_of", "AdjointSystem", "NumericAdjoint", "conservation_penalty", "ConservationPenalty",
    "project_to_level_set", "informativeness", "Informativeness", "FieldModule",
    # the one-of-each plumbing: time budgets, the zero test, mean with CI, the data files
    "Budget", "BudgetExceeded", "ZeroStatus", "ZeroDecision", "decide_zero", "MeanCI", "mean_ci", "data_path",
    # neural vector fields and the HNN baseline
    "MLPEnsemble", "hnn_field", "rk4_rollout",
    # learned conserved quantities (Noether's Razor in torch)
    "SymmetrizedHNN", "quadratic_integrals", "generator_spectrum", "certify_quantities", "spectrum_rank",
    # chapter 9: parameter-space symmetries
    "GeneratorCertificate", "LawCount", "ParameterSymmetry", "ParameterField", "ParameterSymmetries", "certify_generator", "conservation_law_count",
    "find_parameter_symmetries", "two_layer_field", "Ledger", "quadratic_form", "record_ledger", "TeleportResult",
    "teleport",
]
