"""The audit page and the library agree: every (eq, verdict) row in book/audit/chN.md is what the code computes,
and the tally the book prints (tools/book_ext.py) is the library's own count."""
import importlib.util
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from symnb.chapters import CHAPTERS, chapter, chapter_verdicts
from symnb.core.audit import VERDICTS, Verdict, verdict_table

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\|\s*((?:eq|claim)[^|]*?)\s*\|.*\|\s*\**(holds with a caveat|holds|not supported here|inconclusive|wrong|typo)\**\s*\|")
_spec = importlib.util.spec_from_file_location("book_ext", ROOT / "tools" / "book_ext.py")
book_ext = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(book_ext)


@lru_cache(maxsize=None)
def library(key):
    return tuple(chapter_verdicts(key))


def page_rows(name):
    rows = []
    for line in (ROOT / "book" / "audit" / name).read_text().splitlines():
        m = ROW.match(line)
        if m:
            rows.append((m.group(1), m.group(2)))
    return rows


@pytest.mark.parametrize("key", sorted(CHAPTERS))
def test_audit_page_matches_library(key):
    name = f"{key}.md"
    if not (ROOT / "book" / "audit" / name).exists():
        pytest.fail(f"book/audit/{name} is missing for registered chapter {key}")
    computed = [(v.eq, v.verdict) for v in library(key)]
    assert computed, f"{CHAPTERS[key]}.verdicts() returned no rows"
    assert page_rows(name) == computed


def test_every_audit_file_has_a_chapter():
    files = {p.stem for p in (ROOT / "book" / "audit").glob("ch*.md")}
    assert files == set(CHAPTERS)
    audit = (ROOT / "book" / "audit.md").read_text()
    assert sorted(re.findall(r"\{include\}\s+audit/(\S+)\.md", audit)) == sorted(CHAPTERS)


def test_tally_is_the_library_count():
    """The book's tally (computed from the audit pages at build time) equals the count of the library's verdicts,
    related-work rows apart; both pages that show it use the directive, not typed numbers."""
    want = {"paper": Counter(), "related work": Counter()}
    for key in CHAPTERS:
        for v in library(key):
            want["related work" if "related work" in v.eq else "paper"][v.verdict] += 1
    assert book_ext.tally() == want
    table = book_ext.tally_markdown()
    for verdict in VERDICTS:
        line = next(l for l in table.splitlines() if l.startswith(f"| **{verdict}** |"))
        assert line.split("|")[2].strip() == str(want["paper"][verdict])
    for page in ("audit.md", "intro.md"):
        assert "```{verdict-tally}" in (ROOT / "book" / page).read_text(), page


def test_related_work_has_its_own_section():
    audit = (ROOT / "book" / "audit.md").read_text()
    head, _, related = audit.partition("## Related work")
    assert related, "book/audit.md has no '## Related work' section"
    for key in CHAPTERS:
        rows = [v.eq for v in library(key)]
        if rows and all("related work" in r for r in rows):
            assert f"audit/{key}.md" in related and f"audit/{key}.md" not in head, key
        elif any("related work" in r for r in rows):
            # A chapter judging both Hao's claims and another paper's: its related-work rows sit under a
            # heading of their own, after all of its rows on Hao's paper.
            text = (ROOT / "book" / "audit" / f"{key}.md").read_text()
            heading = re.search(r"^#+ .*related work.*$", text, re.M | re.I)
            assert heading, f"book/audit/{key}.md mixes related-work rows with Hao's but has no heading for them"
            before, after = text[:heading.start()], text[heading.start():]
            for r in rows:
                assert (f"| {r} |" in after) == ("related work" in r) and (f"| {r} |" in before) != ("related work" in r), (key, r)


def test_verdict_text_is_plain_words():
    """Verdict cells are Markdown: no '*' for it to read as emphasis, no Python reprs (True, None, lists)."""
    repr_like = re.compile(r"(?<![A-Za-z])(True|False|None)(?![A-Za-z])|\['|\[\d+, ")
    for key in ("ch1", "ch2", "ch3", "ch4", "ch5", "ch8"):
        for v in library(key):
            for text in (v.finding,):
                assert not repr_like.search(text), (key, v.eq, text)
            # a '*' followed by a word character or '(' can open emphasis (c*c1 -> c<em>c1); a target's
            # superscript star (z*, theta*) cannot, and the built pages are checked for <em> in cells too
            assert not re.search(r"\*[\w(]", v.finding), (key, v.eq, v.finding)


def test_one_claim_label_style():
    style = re.compile(r"^(eq \d+( \(.+\))?|claim (§[\d.]+|[A-Z][\w' ]+)( \([^()]+\))?)$")
    for key in ("ch1", "ch2", "ch3", "ch4", "ch5", "ch8"):
        for v in library(key):
            assert style.match(v.eq), (key, v.eq)


def test_unknown_chapter_refused():
    with pytest.raises(ValueError, match=r"unknown chapter 'ch99'; valid: \['ch1'"):
        chapter("ch99")


def test_every_included_chapter_file_exists():
    audit = (ROOT / "book" / "audit.md").read_text()
    for included in re.findall(r"\{include\}\s+(\S+)", audit):
        assert (ROOT / "book" / included).exists(), included


def test_unknown_verdict_refused():
    with pytest.raises(ValueError, match=r"unknown verdict 'maybe'; allowed: \['holds'"):
        Verdict("eq 1", "x", "y", "maybe")


def test_table_escapes_pipes():
    table = verdict_table([Verdict("eq 1", "a|b", "c", VERDICTS[0])])
    assert "a\\|b" in table and table.count("\n") == 2
