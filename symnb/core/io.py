"""The one atomic writer: a file appears complete or not at all.

Results, run folders and tables are written to a temporary file in the target's own directory (same file
system, so the final ``os.replace`` is atomic), flushed and fsync'ed; a crash or a kill leaves either the old file
or the new one, never half of one, and the temporary file is removed on any error.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_text", "atomic_write_json"]


def atomic_write_text(path: str | os.PathLike, text: str, *, make_parents: bool = False) -> Path:
    """Write ``text`` to ``path`` atomically.

    Args:
        path: the destination.
        text: the content.
        make_parents: create missing parent directories (default: refuse, so that a mistyped path does not
            silently create a directory tree).

    Returns:
        The path written.

    Raises:
        FileNotFoundError: if the parent directory does not exist and ``make_parents`` is False.
    """
    path = Path(path)
    if not path.parent.is_dir():
        if not make_parents:
            raise FileNotFoundError(f"cannot write {str(path)!r}: directory {str(path.parent)!r} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_json(path: str | os.PathLike, data: object, *, make_parents: bool = False) -> Path:
    """`atomic_write_text` of ``data`` as indented JSON (NaN/inf refused: they are not JSON).

    Raises:
        ValueError: if ``data`` holds a non-finite float.
        FileNotFoundError: as `atomic_write_text`.
    """
    text = json.dumps(data, indent=1, sort_keys=True, allow_nan=False, default=str) + "\n"
    return atomic_write_text(path, text, make_parents=make_parents)
