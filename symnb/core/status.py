"""How far a finder's answer goes: one `Status` Enum and one `NotDecided` error for every finder.

`symnb.core.symmetries.find_symmetries` and `symnb.core.first_integrals.first_integrals` both return a result
with a ``status`` of this Enum and, with ``throw=True`` (their default), raise `NotDecided` carrying that result
when the answer is not known.  This module imports nothing from `symnb`, so both finders can share it without an
import cycle.
"""
from __future__ import annotations

from enum import Enum
from typing import Any

__all__ = ["Status", "NotDecided"]


class Status(Enum):
    """How far a finder's answer goes.

    * ``COMPLETE``: every step exact and every candidate decided -- the result is everything inside the ansatz
      (symmetries, basis route) or everything the given generators yield (symmetry / Noether routes).
    * ``INCOMPLETE``: every returned item is certified, but the search was not exhaustive (a step was inexact, a
      generator yielded nothing the method could integrate); ``reason`` says which.
    * ``UNDECIDED``: a candidate is numerically conserved but could not be proved within the budget (withheld),
      or the search itself ran out of budget: the answer is not known.
    """

    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    UNDECIDED = "undecided"


class NotDecided(RuntimeError):
    """Raised by a finder called with ``throw=True`` when its status is `Status.UNDECIDED`.

    Args:
        result: the finder's result (a `SymmetryBasis` or a `FirstIntegrals`); it must have a ``reason``.
        what: what was not decided, for the message (e.g. "symmetries of the 1-state system").

    Attributes:
        result: the partial result, with its ``status`` and ``reason`` (what ``throw=False`` would have returned).
    """

    def __init__(self, result: Any, what: str) -> None:
        super().__init__(f"{what} not decided: {result.reason} (pass throw=False to get the partial result)")
        self.result = result
