"""Tiny notebook-editing helper for maintainers: ``python tools/nbedit.py NB`` prints the cells; used from
scripts as ``with edit(path) as nb: ...`` (reads and writes with nbformat, so diffs stay minimal)."""
import contextlib
import sys

import nbformat


@contextlib.contextmanager
def edit(path):
    nb = nbformat.read(path, as_version=4)
    yield nb
    nbformat.write(nb, path)


if __name__ == "__main__":
    nb = nbformat.read(sys.argv[1], as_version=4)
    for i, cell in enumerate(nb.cells):
        print(f"--- [{i}] {cell.cell_type} {cell.metadata.get('tags', [])}")
        print(cell.source)
