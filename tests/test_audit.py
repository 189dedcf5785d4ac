"""The audit page and the library agree: every (eq, verdict) row in book/audit/chN.md is what the code computes."""
import importlib
import re
from pathlib import Path

import pytest

from symnb.core.audit import VERDICTS, Verdict, verdict_table

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = {
    "ch1.md": ("symnb.forward", "forward_verdicts"),
    "ch2.md": ("symnb.noether", "noether_verdicts"),
    "ch3.md": ("symnb.adjoint", "adjoint_verdicts"),
    "ch4.md": ("symnb.losses", "loss_verdicts"),
    "ch5.md": ("tests.test_audit", "ablation_rows"),
}


def ablation_rows():
    """Chapter 5's rows are decided by the committed CPU sweep."""
    from symnb.report import ABLATION_FACTORS, ablation_verdicts, read_csv
    params = [*ABLATION_FACTORS, "epochs", "lr", "n_extrap", "n_test", "n_train", "noise", "seed", "solver"]
    return ablation_verdicts(read_csv(ROOT / "notebooks" / "data" / "ablation_cpu.csv", params=params))
ROW = re.compile(r"^\|\s*((?:eq|claim)[^|]*?)\s*\|.*\|\s*\**(holds with a caveat|holds|wrong|typo)\**\s*\|")


def page_rows(name):
    rows = []
    for line in (ROOT / "book" / "audit" / name).read_text().splitlines():
        m = ROW.match(line)
        if m:
            rows.append((m.group(1), m.group(2)))
    return rows


@pytest.mark.parametrize("name", sorted(CHAPTERS))
def test_audit_page_matches_library(name):
    module, func = CHAPTERS[name]
    if not (ROOT / "book" / "audit" / name).exists():
        pytest.fail(f"book/audit/{name} is missing but book/audit.md includes it")
    source = ablation_rows if module == "tests.test_audit" else getattr(importlib.import_module(module), func)
    computed = [(v.eq, v.verdict) for v in source()]
    assert computed, f"{module}.{func} returned no rows"
    assert page_rows(name) == computed


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
