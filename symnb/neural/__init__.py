"""Generic neural vector fields and baselines (chapter 7): stacked MLP ensembles, Hamiltonian networks, the
benchmark tasks they are trained on, and the protocols that score them.  Imports only `symnb.core` (training goes
through `symnb.train.fit`)."""
from .ensemble import MLPEnsemble, hnn_field, rk4_rollout
from .protocols import PROTOCOLS, Protocol, evaluate_energy, protocol
from .tasks import TASKS, Task, task

__all__ = ["MLPEnsemble", "hnn_field", "rk4_rollout", "PROTOCOLS", "Protocol", "evaluate_energy", "protocol",
           "TASKS", "Task", "task"]
