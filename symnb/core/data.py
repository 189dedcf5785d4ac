"""Where the book's committed data files (result tables the chapters read) are found: one function.

The files are committed once, in ``notebooks/data``; the package reaches them as ``symnb/data`` (a link in the
source tree, copied into wheels as package data, see ``pyproject.toml``), so a source checkout, an editable
install and a wheel install resolve them the same way -- never through ``Path(__file__).parents[k]``.  The
environment variable ``SYMNB_DATA_DIR`` points the chapters at another folder (e.g. fresh sweep results).
"""
from __future__ import annotations

import os
from importlib import resources
import pathlib
from pathlib import Path

__all__ = ["DATA_DIR_ENV", "data_dir", "data_path"]

DATA_DIR_ENV = "SYMNB_DATA_DIR"


def data_dir() -> Path:
    """The folder of the book's data files: ``$SYMNB_DATA_DIR`` if set, else the package's ``symnb/data``.

    Raises:
        ValueError: if ``SYMNB_DATA_DIR`` is set to something that is not a folder.
    """
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        path = Path(override).expanduser()
        if not path.is_dir():
            raise ValueError(f"{DATA_DIR_ENV}={override!r} is not a folder; unset it to use the package's data "
                             "or point it at a folder of result tables")
        return path
    return Path(str(resources.files("symnb") / "data"))


def data_path(name: str) -> pathlib.Path:  # a standard-library type, not one of symnb's
    """The path of the data file ``name`` inside `data_dir` (the file need not exist yet: writers use it too).

    Chapters find their committed tables through this, never through ``Path(__file__).parents[...]``, so the book's
    data are found from a wheel install too (and ``$SYMNB_DATA_DIR`` can point at freshly computed tables).

    Args:
        name: a plain file name, e.g. ``"ablation_cpu.csv"``.

    Returns:
        ``data_dir() / name`` (a `pathlib.Path`).

    Raises:
        ValueError: if ``name`` is not a plain file name (no folders, not absolute), or as `data_dir`.
    """
    if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
        raise ValueError(f"name must be a plain file name such as 'ablation_cpu.csv', got {name!r}")
    return data_dir() / name
