"""Reader's-eye check of the built book: what a browser shows, read from ``_build/html`` before any script runs.

Usage: ``python tools/html_check.py [_build/html]`` prints one line per problem and ``html problems: N over M
pages`` last; the exit status is 1 when N > 0 (``make test`` runs it after the book build).

A page fails on
* raw Markdown or LaTeX shown as text: a table's ``|---|`` rule or a line of pipes, ``$$``, a ``$...$`` span with
  a LaTeX command, a LaTeX command such as ``\\frac`` or ``\\theta_`` outside a math element, an unresolved
  ``{glue:...}`` role; code, preformatted text and math elements are exempt;
* raw LaTeX in the page's ``<title>`` (a browser tab shows it verbatim);
* a chapter page (``notebooks/*``) with no HTML table;
* an image whose file is missing;
* math without MathJax, or MathJax only from the network (the book must render offline);
* a stream output line wider than `MAX_OUTPUT_WIDTH` characters (it would be clipped or scroll off);
* emphasis inside a table cell (Markdown ate a ``*`` of a formula, e.g. ``c*c1`` -> ``c<em>c1``);
* a link to a placeholder (a repository, issue tracker or launch service that does not exist).

Then the page is laid out in headless Chromium at `WIDTH` CSS pixels (`check_layout`, after MathJax has typeset)
and fails on
* an element wider than the text column, or a box whose content overflows it (a display equation, a table or an
  output that is clipped or has to be scrolled sideways); code cells' input is exempt;
* a figure whose fonts would render below `MIN_FONT_PT` at its displayed size (estimated from the PNG's pixel size
  and dpi, for matplotlib's default 10 pt text).

Without Chromium (``chromium`` on PATH, or ``CHROMIUM``) the layout part is skipped with a message saying so; CI
installs it (.ci/run).

Adapted from the project's stop-hook check (shared/tools/html_check.py), with the checks split into functions
so that tests/test_book_html.py can test each on small pages.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from bs4 import BeautifulSoup

__all__ = ["check_page", "check_site", "check_layout", "layout_problems", "MAX_OUTPUT_WIDTH", "MIN_FONT_PT",
           "PLACEHOLDERS"]

#: Widest stream-output line allowed (characters): at 1280 px the text column shows about 80 monospace characters.
MAX_OUTPUT_WIDTH = 80
#: Viewport width of the layout check (CSS pixels), a laptop screen.
WIDTH = 1280
#: Smallest figure text allowed at the displayed size (points), for figures drawn with matplotlib's 10 pt default.
MIN_FONT_PT = 9.0
_FIGURE_FONT_PT = 10.0
#: Link targets that lead nowhere: the repository URL the book used before it had one, and launch services that
#: need a public repository.
PLACEHOLDERS = ("github.com/symnb/symnb", "github.com/executablebooks/jupyter-book", "mybinder.org",
                "colab.research.google.com")

_RAW = [
    (re.compile(r"\|\s*:?-{3,}:?\s*\|"), "a Markdown table rule"),
    (re.compile(r"^\s*\|.*\|.*\|\s*$", re.M), "a line of Markdown table pipes"),
    (re.compile(r"\$\$"), "display-math dollars"),
    (re.compile(r"\$[^$\n]*\\[A-Za-z]+[^$\n]*\$"), "a $...$ span with LaTeX"),
    (re.compile(r"\\(frac|left[(\[|.]|right[)\]|.]|theta|sigma|dot|tilde|mathrm|operatorname|begin\{|end\{|sqrt|"
                r"varepsilon|partial|quad|cdot)(?![A-Za-z])"), "a LaTeX command"),
    (re.compile(r"\{glue(:[a-z]+)?\}"), "an unresolved glue role"),
]
_EXEMPT = ("script", "style", "pre", "code", "title", "mjx-container", "textarea")


def _is_math(tag) -> bool:
    return any("math" in (t.get("class") or []) for t in [tag, *tag.find_parents()] if hasattr(t, "get"))


def _exempt(node) -> bool:
    parent = node.parent
    if parent is None:
        return True
    if parent.name in _EXEMPT or parent.find_parent(_EXEMPT):
        return True
    return _is_math(parent)


def check_page(html: str, rel: str, exists=lambda src: True) -> list[str]:
    """The problems of one page.

    Args:
        html: the page's HTML.
        rel: its path relative to the site root, with ``/`` (``notebooks/...`` marks a chapter page).
        exists: ``exists(src)`` tells whether a local image ``src`` (as written in the page) is on disk.

    Returns:
        One readable line per problem (empty when the page is fine).
    """
    soup = BeautifulSoup(html, "html.parser")
    problems = []
    body = soup.find("body") or soup
    main = soup.find("main") or body
    for node in body.find_all(string=True):
        if _exempt(node):
            continue
        for pattern, what in _RAW:
            if pattern.search(str(node)):
                problems.append(f"{rel}: raw markup shown as text ({what}): {node.strip()[:70]!r}")
                break
    title = soup.find("title")
    if title is not None and re.search(r"\\[(A-Za-z]|\$", title.get_text()):
        problems.append(f"{rel}: raw LaTeX in the page title: {title.get_text().strip()[:70]!r}")
    if rel.startswith("notebooks/") and not main.find_all("table"):
        problems.append(f"{rel}: chapter page has no HTML table")
    for img in main.find_all("img"):
        src = img.get("src", "")
        if not src:
            problems.append(f"{rel}: image without a source")
        elif not src.startswith(("http:", "https:", "data:")) and not exists(src):
            problems.append(f"{rel}: missing image {src}")
    has_math = bool(body.find(class_="math")) or bool(re.search(r"\\\(|\\\[|\$\$", body.get_text()))
    mathjax = [s.get("src", "") for s in soup.find_all("script") if "mathjax" in s.get("src", "").lower()
               or "tex-chtml" in s.get("src", "").lower()]
    if has_math and not mathjax:
        problems.append(f"{rel}: math on the page but MathJax is not loaded")
    local = [s for s in mathjax if not s.startswith(("http:", "https:", "//"))]
    if mathjax and not local:
        problems.append(f"{rel}: MathJax only from the network ({mathjax[0][:60]}): math does not render offline")
    for s in local:
        if not exists(s.split("?")[0]):
            problems.append(f"{rel}: MathJax script {s} is not in the built book")
    for pre in main.select("div.output pre, div.cell_output pre"):
        wide = [line for line in pre.get_text().splitlines() if len(line) > MAX_OUTPUT_WIDTH]
        if wide:
            problems.append(f"{rel}: output line of {len(wide[0])} characters (> {MAX_OUTPUT_WIDTH}): "
                            f"{wide[0][:60]!r}...")
    for cell in main.find_all(["td", "th"]):
        if cell.find("em"):
            problems.append(f"{rel}: emphasis inside a table cell (a '*' eaten by Markdown?): "
                            f"{cell.get_text()[:60]!r}")
            break
    for a in soup.find_all("a", href=True):
        if any(p in a["href"] for p in PLACEHOLDERS):
            problems.append(f"{rel}: link to a placeholder: {a['href'][:80]}")
            break
    return problems


# ------------------------------------------------------------------------------------- layout, in Chromium
#: Run in the page after MathJax: [kind, description, a, b] for every element that does not fit its column.
_LAYOUT_JS = r"""
(() => {
  const out = [];
  const art = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const col = art.getBoundingClientRect();
  const describe = (el) => {
    let d = el.tagName.toLowerCase();
    if (typeof el.className === 'string' && el.className.trim()) d += '.' + el.className.trim().split(/\s+/)[0];
    const text = (el.innerText || el.textContent || el.getAttribute('src') || '').trim().replace(/\s+/g, ' ');
    return d + (text ? ' "' + text.slice(0, 60) + '"' : '');
  };
  // code cell input scrolls by convention (shell commands in the prose must fit); MathJax's assistive MathML is clipped on purpose (screen readers only)
  const exempt = (el) => el.closest('.cell_input, nav, .headerlink, .toggle-details, details:not([open]), '
                                    + 'mjx-assistive-mml');
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const seen = new Set();
  for (const el of art.querySelectorAll('*')) {
    if (exempt(el) || !visible(el)) continue;
    const cs = getComputedStyle(el);
    // overflow does not apply to inline boxes (inline math's italic overhang is not clipped)
    if (!cs.display.startsWith('inline') && ['auto', 'scroll', 'hidden', 'clip'].includes(cs.overflowX) && el.scrollWidth > el.clientWidth + 2
        && el.clientWidth > 0) {
      out.push(['overflow', describe(el), el.scrollWidth, el.clientWidth]);
      el.querySelectorAll('*').forEach((c) => seen.add(c));
      continue;
    }
    if (seen.has(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.right > col.right + 2 && ['TABLE', 'MJX-CONTAINER', 'IMG', 'PRE', 'DIV', 'P', 'SPAN'].includes(el.tagName)) {
      out.push(['wider', describe(el), Math.round(r.right - col.left), Math.round(col.width)]);
      el.querySelectorAll('*').forEach((c) => seen.add(c));
    }
  }
  for (const img of art.querySelectorAll('img')) {
    if (img.naturalWidth > 0 && visible(img)) {
      out.push(['img', img.getAttribute('src'), img.getBoundingClientRect().width, img.naturalWidth]);
    }
  }
  return JSON.stringify(out);
})()
"""


def _png_dpi(path: Path) -> float | None:
    """The dpi a PNG records (matplotlib writes its figure dpi into the pHYs chunk), or None."""
    import struct
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    i = data.find(b"pHYs")
    if i < 0 or data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    x, _, unit = struct.unpack(">IIB", data[i + 4:i + 13])
    return x * 0.0254 if unit == 1 else None


def layout_problems(rel: str, measured: list, dpi_of=lambda src: None) -> list[str]:
    """Readable problems from the measurements `_LAYOUT_JS` returns for page ``rel``.

    Args:
        measured: ``[kind, what, a, b]`` rows: ``overflow`` (content width a > box width b), ``wider`` (right edge a
            > column width b), ``img`` (src, displayed width a, natural width b).
        dpi_of: the dpi of an image ``src`` (None: unknown, assumed 100, matplotlib's default).
    """
    problems = []
    for kind, what, a, b in measured:
        if kind == "overflow":
            problems.append(f"{rel}: content {a} px wide in a box of {b} px (clipped or scrolled): {what}")
        elif kind == "wider":
            problems.append(f"{rel}: element reaches {a} px, the text column is {b} px: {what}")
        elif kind == "img":
            dpi = dpi_of(what) or 100.0
            pt = _FIGURE_FONT_PT * (a / 96.0) / (b / dpi)
            if pt < MIN_FONT_PT:
                problems.append(f"{rel}: figure {what} shown at {a:.0f} of {b} px ({dpi:.0f} dpi): its 10 pt text "
                                f"renders at {pt:.1f} pt (< {MIN_FONT_PT:g})")
    return problems


def _chromium() -> str | None:
    import os
    import shutil
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def check_layout(root: Path, pages: list[Path]) -> list[str] | None:
    """Lay out every page in headless Chromium at `WIDTH` px and report what does not fit (`layout_problems`).

    Returns:
        The problems, or None when no Chromium is installed (the caller says the check was skipped).
    """
    import importlib.util
    import json
    binary = _chromium()
    if not binary:
        return None
    spec = importlib.util.spec_from_file_location("screenshots", Path(__file__).with_name("screenshots.py"))
    shots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shots)
    browser = shots._Browser(binary)
    problems = []
    try:
        for page in pages:
            rel = page.relative_to(root).as_posix()
            measured = json.loads(shots.evaluate_after_typeset(browser, page.resolve().as_uri(), _LAYOUT_JS, WIDTH))
            problems += layout_problems(rel, measured,
                                        dpi_of=lambda src, d=page.parent: _png_dpi(d / src.split("#")[0]))
    finally:
        browser.close()
    return problems


def check_site(root: Path) -> tuple[list[str], int]:
    """`check_page` over every content page under ``root`` (a built ``_build/html``).

    Returns:
        (problems, number of pages checked).

    Raises:
        ValueError: if ``root`` holds no HTML pages (nothing was built there).
    """
    root = Path(root)
    pages = sorted(p for p in root.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts
                   and p.name not in ("genindex.html", "search.html"))
    if not pages:
        raise ValueError(f"root={str(root)!r} holds no HTML pages: build the book first (make book)")
    problems = []
    for page in pages:
        rel = page.relative_to(root).as_posix()
        problems += check_page(page.read_text(encoding="utf-8"), rel,
                               exists=lambda src, d=page.parent: (d / src.split("#")[0]).resolve().exists())
    return problems, len(pages)


def _pages(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts
                  and p.name not in ("genindex.html", "search.html", "index.html"))


def main(argv: list[str]) -> int:
    sys.stdout.reconfigure(errors="replace")  # MathJax's text holds mathematical letters outside the BMP
    root = Path(argv[1] if len(argv) > 1 else "_build/html")
    problems, n = check_site(root)
    layout = check_layout(root, _pages(root))
    if layout is None:
        print("layout check SKIPPED: no chromium on PATH (apt-get install -y chromium; CI installs it)")
    else:
        problems += layout
    for line in problems:
        print(line)
    print(f"html problems: {len(problems)} over {n} pages" + ("" if layout is None else
                                                              f" (layout measured in Chromium at {WIDTH} px)"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
