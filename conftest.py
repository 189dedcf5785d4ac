"""Shared pytest configuration.

nbval compares every stored output MIME type except a few; PNG figures it already skips, but figures that
papermill/myst-nb *glue* are stored under ``application/papermill.record/image/png`` and would be
byte-compared -- rendering differs across matplotlib/freetype builds, so we skip them too.
"""
import os

os.environ.setdefault("TQDM_DISABLE", "1")

# Fixture notebooks for the sweep tests are inputs, not chapters: never collect them with --nbval.
collect_ignore_glob = ["tests/data/*.ipynb"]


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        skip = getattr(collector, "skip_compare", None)
        if skip is not None:
            collector.skip_compare = tuple(skip) + (
                "application/papermill.record/image/png",
                "application/papermill.record/image/svg+xml",
                "image/svg+xml",
            )
