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
* a stream output line wider than `MAX_OUTPUT_WIDTH` characters (it would be clipped or scroll off).

Adapted from the project's stop-hook check (shared/tools/html_check.py), with the checks split into functions
so that tests/test_book_html.py can test each on small pages.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from bs4 import BeautifulSoup

__all__ = ["check_page", "check_site", "MAX_OUTPUT_WIDTH"]

#: Widest stream-output line allowed (characters): at 1280 px the text column shows about 80 monospace characters.
MAX_OUTPUT_WIDTH = 80

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


def main(argv: list[str]) -> int:
    problems, n = check_site(Path(argv[1] if len(argv) > 1 else "_build/html"))
    for line in problems:
        print(line)
    print(f"html problems: {len(problems)} over {n} pages")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
