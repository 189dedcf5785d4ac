"""Verdict rows: the paper's printed statement, what the computation shows, and the verdict.

Every chapter returns a list of `Verdict`; the notebook shows them with `verdict_table` and the audit page
(book/audit.md) repeats them -- tests/test_audit.py checks that the page and the library agree.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from .integrals import is_zero

__all__ = ["Verdict", "VERDICTS", "verdict_table", "verdict_frame", "Comparison", "compare"]

VERDICTS = ("holds", "holds with a caveat", "not supported here", "inconclusive", "wrong", "typo")
"""Calibrated verdicts: "wrong" only where a shown computation refutes the claim; "not supported here" where our
runs (settings named in the finding) do not show the claimed effect but do not refute it either; "inconclusive"
where the computation cannot decide (the finding says what would)."""


@dataclass(frozen=True)
class Verdict:
    """One audited equation or claim.

    Attributes:
        eq: the label, written ``"eq 19"`` (or ``"claim §4"`` for prose claims).
        paper: the paper's statement, short.
        finding: what the computation shows, short.
        verdict: one of `VERDICTS`.

    Raises:
        ValueError: for a verdict outside `VERDICTS`.
    """

    eq: str
    paper: str
    finding: str
    verdict: str

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}; allowed: {list(VERDICTS)}")


def verdict_table(rows: Sequence[Verdict]) -> str:
    """A Markdown table of verdict rows (display with ``IPython.display.Markdown``).

    The book renders ``text/markdown`` outputs as MyST (``nb_render_markdown_format: myst`` in _config.yml), so
    this becomes an HTML table there; `verdict_frame` gives the same rows as a pandas DataFrame.

    Args:
        rows: the `Verdict` rows, in order.

    Returns:
        The table as a Markdown string (one header, one line per row; ``|`` escaped).

    Raises:
        Nothing: `Verdict` rows validate themselves on construction.
    """
    lines = ["| eq | paper | computation | verdict |", "|---|---|---|---|"]
    for r in rows:
        cells = [r.eq, r.paper, r.finding, f"**{r.verdict}**"]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines)


def verdict_frame(rows: Sequence[Verdict]):
    """The verdict rows as a pandas DataFrame (columns eq, paper, computation, verdict), index from 1."""
    import pandas as pd

    frame = pd.DataFrame([(r.eq, r.paper, r.finding, r.verdict) for r in rows],
                         columns=["eq", "paper", "computation", "verdict"])
    frame.index += 1
    return frame


@dataclass(frozen=True)
class Comparison:
    """A derived expression beside the paper's printed one; ``difference`` is printed minus derived, simplified."""

    eq: str
    paper: sp.Expr
    derived: sp.Expr
    difference: sp.Expr

    @property
    def agrees(self) -> bool:
        return is_zero(self.difference) == "zero"

    def markdown(self) -> str:
        """Printed, derived and their difference as MyST Markdown (for ``IPython.display.Markdown``).

        Each display equation stands in its own block (``$$`` on lines of their own): inside a paragraph
        MyST's dollarmath would read ``$$...$$`` as two inline ``$`` spans and leave a stray ``$`` in the page.
        """
        return (f"**{self.eq}, printed:**\n\n$$\n{sp.latex(self.paper)} = 0\n$$\n\n**derived by symnb:**\n\n"
                f"$$\n{sp.latex(self.derived)} = 0\n$$\n\n**printed minus derived, simplified:** "
                f"${sp.latex(self.difference)}$")


def compare(eq: str, paper: sp.Expr, derived: sp.Expr) -> Comparison:
    """Set a derived expression beside the printed one; the difference is expanded and simplified."""
    paper, derived = sp.sympify(paper), sp.sympify(derived)
    return Comparison(eq, paper, derived, sp.simplify(sp.expand(paper - derived)))
