"""symnb: a reproducible companion to Hao (2023), "Symmetry-regularized neural ODEs" (arXiv 2311.16628)."""
from .audit import Verdict, verdict_table
from .conservation import ConservationCheck, Drift, conservation_check, numeric_drift
from .numerics import Trajectory, integrate, to_torch
from .ode import ODESystem, ode_system, total_derivative

__version__ = "0.1.0"
