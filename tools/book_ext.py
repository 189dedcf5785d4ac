"""Sphinx glue for the book (loaded through ``sphinx.local_extensions`` in _config.yml).

* MathJax on every page, not only on pages whose body has math: the sidebar and the page titles of every page
  list the chapter titles, and a title with math would otherwise show raw ``\\(...\\)`` on pages without math.
* A small stylesheet (tools/static/symnb.css): long display equations wrap or are broken by the chapters, wide
  tables use a smaller font.
* The ``verdict-tally`` directive: the count of audit rows per verdict, computed at build time from the audit
  pages ``book/audit/chN.md`` (whose rows tests/test_audit.py checks against the library's ``verdicts()``), so
  that no page types a count in.  ``tally()`` is the same count for tests.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

_STATIC = Path(__file__).resolve().parent / "static"
ROOT = Path(__file__).resolve().parents[1]
#: The verdict categories, in the order of symnb.core.audit.VERDICTS (read from there when symnb imports).
try:
    from symnb.core.audit import VERDICTS
except ImportError:  # pragma: no cover - the book is always built with symnb installed
    VERDICTS = ("holds", "holds with a caveat", "not supported here", "inconclusive", "wrong", "typo")
_ROW = re.compile(r"^\|\s*((?:eq|claim)[^|]*?)\s*\|.*\|\s*\**(" + "|".join(
    sorted((re.escape(v) for v in VERDICTS), key=len, reverse=True)) + r")\**\s*\|")


def audit_rows(root: Path = ROOT) -> dict[str, list[tuple[str, str]]]:
    """The (label, verdict) rows of every audit page ``book/audit/chN.md``, by chapter key (``"ch1"``...)."""
    out = {}
    for page in sorted((Path(root) / "book" / "audit").glob("ch*.md"), key=lambda p: int(p.stem[2:])):
        rows = []
        for line in page.read_text(encoding="utf-8").splitlines():
            m = _ROW.match(line)
            if m:
                rows.append((m.group(1), m.group(2)))
        out[page.stem] = rows
    return out


def _related(label: str) -> bool:
    return "related work" in label


def tally(root: Path = ROOT) -> dict[str, Counter]:
    """Verdict counts over the audit pages: ``{"paper": Counter, "related work": Counter}``.

    Rows whose label says "(related work)" judge other papers' claims and are counted apart from Hao's.
    """
    out = {"paper": Counter(), "related work": Counter()}
    for rows in audit_rows(root).values():
        for label, verdict in rows:
            out["related work" if _related(label) else "paper"][verdict] += 1
    return out


def tally_markdown(root: Path = ROOT) -> str:
    """The tally as a Markdown table (verdict, rows on Hao's paper, rows on related work, chapters)."""
    counts = tally(root)
    where: dict[str, Counter] = {v: Counter() for v in VERDICTS}
    for key, rows in audit_rows(root).items():
        for _, verdict in rows:
            where[verdict][key] += 1
    lines = ["| verdict | Hao's paper | related work | chapters (rows) |", "|---|---|---|---|"]
    for v in VERDICTS:
        chapters = ", ".join(f"{k[2:]} ({n})" for k, n in where[v].items()) or "none"
        lines.append(f"| **{v}** | {counts['paper'][v]} | {counts['related work'][v]} | {chapters} |")
    total_p, total_r = sum(counts["paper"].values()), sum(counts["related work"].values())
    lines.append(f"| all rows | {total_p} | {total_r} | {len(audit_rows(root))} chapters |")
    return "\n".join(lines)


def _add_static(app) -> None:
    app.config.html_static_path.append(str(_STATIC))


def _directive():
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective

    class VerdictTally(SphinxDirective):
        """``{verdict-tally}``: the tally table, computed from the audit pages at build time."""

        has_content = False

        def run(self):
            for page in (ROOT / "book" / "audit").glob("ch*.md"):
                self.env.note_dependency(str(page))
            container = nodes.container(classes=["verdict-tally"])
            self.state.nested_parse(StringList(tally_markdown().splitlines(), source="verdict-tally"),
                                    self.content_offset, container)
            return [container]

    return VerdictTally


def setup(app):
    app.set_html_assets_policy("always")
    app.connect("builder-inited", _add_static)
    app.add_css_file("symnb.css")
    app.add_directive("verdict-tally", _directive())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
