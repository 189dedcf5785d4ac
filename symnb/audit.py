"""Verdict rows: the paper's printed statement, what the computation shows, and the verdict.

Every chapter returns a list of `Verdict`; the notebook shows them with `verdict_table` and the audit page
(book/audit.md) repeats them -- tests/test_audit.py checks that the page and the library agree.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Verdict", "VERDICTS", "verdict_table"]

VERDICTS = ("holds", "holds with a caveat", "wrong", "typo")


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
    """A Markdown table of verdict rows (display with ``IPython.display.Markdown``)."""
    lines = ["| eq | paper | computation | verdict |", "|---|---|---|---|"]
    for r in rows:
        cells = [r.eq, r.paper, r.finding, f"**{r.verdict}**"]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines)
