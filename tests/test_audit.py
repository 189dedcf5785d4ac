"""The audit page and the library agree: every (eq, verdict) row in book/audit/chN.md is what the code computes."""
import re
from pathlib import Path

import pytest

from symnb.chapters import CHAPTERS, chapter, chapter_verdicts
from symnb.core.audit import VERDICTS, Verdict, verdict_table

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\|\s*((?:eq|claim)[^|]*?)\s*\|.*\|\s*\**(holds with a caveat|holds|not supported here|inconclusive|wrong|typo)\**\s*\|")


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
    computed = [(v.eq, v.verdict) for v in chapter_verdicts(key)]
    assert computed, f"{CHAPTERS[key]}.verdicts() returned no rows"
    assert page_rows(name) == computed


def test_every_audit_file_has_a_chapter():
    files = {p.stem for p in (ROOT / "book" / "audit").glob("ch*.md")}
    assert files == set(CHAPTERS)
    audit = (ROOT / "book" / "audit.md").read_text()
    assert re.findall(r"\{include\}\s+audit/(\S+)\.md", audit) == sorted(CHAPTERS)


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
