"""Regenerate the table rows of book/audit/chN.md from the library (maintainer tool; tests/test_audit.py checks).

Usage: ``python tools/audit_rows.py ch1 [ch2 ...]``.  The heading and any text around the table are kept; each
row's "decided in" cell is kept from the current page when the row's eq label is already there, otherwise it
comes from ``DEFAULT_REF`` (edit the page afterwards to point the new row at its notebook cell).
"""
import re
import sys
from pathlib import Path

from symnb.chapters import chapter_verdicts

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REF = {"ch1": "ch1-verdicts", "ch2": "ch2-verdicts", "ch3": "ch3-verdicts", "ch4": "ch4-eq43",
               "ch5": "ch5-claim-accuracy", "ch6": "ch6-verdicts", "ch7": "ch7-verdicts", "ch8": "ch8-verdicts"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*").replace("\n", " ")


def regenerate(key: str) -> None:
    path = ROOT / "book" / "audit" / f"{key}.md"
    lines = path.read_text().splitlines()
    refs, start, end = {}, None, None
    for i, line in enumerate(lines):
        if line.startswith("| eq | paper"):
            start = i
        if start is not None and i > start + 1 and line.startswith("| "):
            cells = re.split(r"(?<!\\)\|", line)
            refs[cells[1].strip()] = cells[-2].strip()
            end = i
    rows = []
    for v in chapter_verdicts(key):
        ref = refs.get(v.eq, f"{{ref}}`notebook <{DEFAULT_REF[key]}>`")
        rows.append(f"| {_cell(v.eq)} | {_cell(v.paper)} | {_cell(v.finding)} | **{v.verdict}** | {ref} |")
    path.write_text("\n".join(lines[:start + 2] + rows + lines[end + 1:]) + "\n")


if __name__ == "__main__":
    for key in sys.argv[1:]:
        regenerate(key)
