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


def test_emphasis_in_a_table_cell_is_reported():
    """Markdown eats the '*' of a formula in a verdict cell: c*c1 - c2 + c3)*exp(...) becomes c<em>c1 ...</em>."""
    found = problems(page("<table><tr><td>(c<em>c1 - c2 + c3)</em>exp(c1)</td></tr></table>"))
    assert len(found) == 1 and "emphasis inside a table cell" in found[0]


@pytest.mark.parametrize("href", ["https://github.com/symnb/symnb/issues/new", "https://mybinder.org/v2/gh/x",
                                  "https://colab.research.google.com/github/x"])
def test_link_to_a_placeholder_is_reported(href):
    found = problems(page(f'<table></table><a href="{href}">repository</a>'))
    assert len(found) == 1 and "link to a placeholder" in found[0]


def test_layout_measurements_become_problems():
    measured = [["overflow", 'div.math "printed minus derived"', 1210, 730],
                ["wider", 'table "best_rank certified"', 905, 730],
                ["img", "../_images/wide.png", 730.0, 1100],    # 11 in at 100 dpi shown 7.6 in wide: 6.9 pt
                ["img", "../_images/fits.png", 640.0, 640]]     # 6.4 in at 100 dpi shown 6.7 in wide: 10.4 pt
    found = html_check.layout_problems("notebooks/08.html", measured, dpi_of=lambda src: 100.0)
    assert len(found) == 3, found
    assert "content 1210 px wide in a box of 730 px" in found[0]
    assert "element reaches 905 px, the text column is 730 px" in found[1]
    assert "wide.png" in found[2] and "renders at 6.9 pt" in found[2]


def test_png_dpi_is_read_from_the_file(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(2, 1), dpi=72)
    fig.savefig(tmp_path / "f.png", dpi=144)
    plt.close(fig)
    assert abs(html_check._png_dpi(tmp_path / "f.png") - 144) < 0.5
    assert html_check._png_dpi(tmp_path / "missing.png") is None


def test_built_book_has_no_placeholder_buttons():
    """The book has no public repository yet: _config.yml must not turn on buttons that would link to one."""
    import yaml
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    html = config.get("html", {})
    assert not any(html.get(k) for k in ("use_repository_button", "use_issues_button", "use_edit_page_button"))
    assert not any((config.get("launch_buttons") or {}).get(k) for k in ("binderhub_url", "colab_url",
                                                                           "jupyterhub_url"))
    assert html.get("use_download_button", True)


@pytest.mark.skipif(html_check._chromium() is None, reason="no chromium installed (apt-get install -y chromium)")
def test_layout_check_measures_a_real_page(tmp_path):
    """In Chromium: a 2000 px equation box in a narrow column is reported; a page that fits is not."""
    wide = tmp_path / "wide.html"
    wide.write_text('<html><body><main style="width:600px"><div style="overflow-x:auto">'
                    '<div style="width:2000px">x</div></div><p>fits</p></main></body></html>')
    fits = tmp_path / "fits.html"
    fits.write_text('<html><body><main style="width:600px"><p>fits</p></main></body></html>')
    found = html_check.check_layout(tmp_path, [wide, fits])
    assert len(found) == 1 and found[0].startswith("wide.html: content 2000 px wide in a box of 600 px"), found
