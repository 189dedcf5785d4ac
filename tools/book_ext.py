"""Sphinx glue for the book (loaded through ``sphinx.local_extensions`` in _config.yml).

* MathJax on every page, not only on pages whose body has math: the sidebar and the page titles of every page
  list the chapter titles, and a title with math would otherwise show raw ``\\(...\\)`` on pages without math.
* A small stylesheet: long display equations and wide tables scroll inside their own box instead of being
  clipped at the column's right edge.
"""
from pathlib import Path

_STATIC = Path(__file__).resolve().parent / "static"


def _add_static(app) -> None:
    app.config.html_static_path.append(str(_STATIC))


def setup(app):
    app.set_html_assets_policy("always")
    app.connect("builder-inited", _add_static)
    app.add_css_file("symnb.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
