"""The reader's-eye check (tools/html_check.py) flags what a reader would see broken, and passes clean pages.

`make test` runs the check itself over the freshly built _build/html; these tests make sure the check can fail:
each known failure mode of the book (issue 13) is planted in a small page and must be reported.
"""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("html_check", ROOT / "tools" / "html_check.py")
html_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(html_check)

LOCAL_MATHJAX = '<script defer src="../_static/mathjax/tex-chtml.js"></script>'


def page(body: str, *, head: str = LOCAL_MATHJAX, title: str = "1. A chapter") -> str:
    return f"<html><head><title>{title}</title>{head}</head><body><main>{body}</main></body></html>"


GOOD = page('<h1>1. A chapter</h1><p>Text with <span class="math notranslate nohighlight">\\(\\theta_1\\)</span>.</p>'
            '<div class="math notranslate nohighlight">\\[\\frac{a}{b}\\]</div>'
            '<table><tr><td>eq 1</td><td><strong>holds</strong></td></tr></table>'
            '<pre>| printed | pipes in code are fine |\n|---|---|</pre>'
            '<img src="../_images/fig.png"/>')


def problems(html, rel="notebooks/01.html", exists=lambda src: True):
    return html_check.check_page(html, rel, exists=exists)


def test_clean_page_passes():
    assert problems(GOOD) == []


@pytest.mark.parametrize("text, what", [
    ("| eq | paper |\n|---|---|\n| eq 1 | x |", "Markdown table rule"),
    ("| eq | paper | verdict |", "line of Markdown table pipes"),
    ("**eq 19, printed:** $$\\theta_{1} Z = 0$$", "display-math dollars"),
    ("so $c(t, z) = \\operatorname{atanh}(x)$ here", "span with LaTeX"),
    ("the value \\frac{1}{2} leaked", "LaTeX command"),
    ("H drifts by {glue:text}`h_drift`", "unresolved glue role"),
])
def test_raw_markup_is_reported(text, what):
    found = problems(page(f"<p>{text}</p><table></table>"))
    assert len(found) == 1 and what in found[0], found


def test_raw_latex_in_title_is_reported():
    found = problems(page("<table></table>", title="1. Symmetry of \\(\\dot z = \\cos z\\)"))
    assert any("raw LaTeX in the page title" in p for p in found), found


def test_chapter_page_without_table_is_reported():
    body = "<p>only prose</p>"
    assert any("chapter page has no HTML table" in p for p in problems(page(body)))
    assert problems(page(body), rel="book/intro.html") == []


def test_missing_image_is_reported():
    found = problems(GOOD, exists=lambda src: not src.endswith(".png"))
    assert found == ["notebooks/01.html: missing image ../_images/fig.png"]


def test_math_without_mathjax_is_reported():
    found = problems(page('<table></table><span class="math">\\(x\\)</span>', head=""))
    assert found == ["notebooks/01.html: math on the page but MathJax is not loaded"]


def test_mathjax_only_from_network_is_reported():
    cdn = '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
    found = problems(page('<table></table><span class="math">\\(x\\)</span>', head=cdn))
    assert len(found) == 1 and "MathJax only from the network" in found[0]


def test_local_mathjax_must_exist():
    found = problems(GOOD, exists=lambda src: "mathjax" not in src)
    assert found == ["notebooks/01.html: MathJax script ../_static/mathjax/tex-chtml.js is not in the built book"]


def test_wide_output_is_reported():
    line = "x" * (html_check.MAX_OUTPUT_WIDTH + 1)
    found = problems(page(f'<table></table><div class="cell_output"><pre>{line}</pre></div>'))
    assert len(found) == 1 and "output line of" in found[0]


def test_site_check_reads_files(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "_static" / "mathjax").mkdir(parents=True)
    (tmp_path / "_static" / "mathjax" / "tex-chtml.js").write_text("")
    (tmp_path / "_images").mkdir()
    (tmp_path / "notebooks" / "01.html").write_text(GOOD)
    found, n = html_check.check_site(tmp_path)
    assert n == 1 and found == ["notebooks/01.html: missing image ../_images/fig.png"]
    (tmp_path / "_images" / "fig.png").write_bytes(b"")
    assert html_check.check_site(tmp_path) == ([], 1)


def test_empty_site_refused(tmp_path):
    with pytest.raises(ValueError, match=r"root='.*' holds no HTML pages: build the book first"):
        html_check.check_site(tmp_path)
