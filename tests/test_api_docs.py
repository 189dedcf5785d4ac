"""Every public function of symnb documents Args, Returns and Raises; every public name is in the API page."""
import inspect
import re
from pathlib import Path

import pytest

import symnb

ROOT = Path(__file__).resolve().parents[1]


def _public_callables():
    for name in symnb.__all__:
        obj = getattr(symnb, name)
        if inspect.isfunction(obj):
            yield name, obj


@pytest.mark.parametrize("name,obj", list(_public_callables()), ids=[n for n, _ in _public_callables()])
def test_public_function_documents_args_returns_raises(name, obj):
    doc = inspect.getdoc(obj) or ""
    params = [p for p in inspect.signature(obj).parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    needed = (["Args:"] if params else []) + ["Returns:", "Raises:"]
    missing = [k for k in needed if not re.search(rf"^{k}$", doc, re.M)]
    assert not missing, f"{name}: docstring lacks {missing}"
    if params:
        args = doc.split("Args:", 1)[1].split("Returns:", 1)[0]
        for p in params:
            assert re.search(rf"\b{p.name}\b", args), f"{name}: Args does not describe {p.name!r}"


def test_every_public_name_is_on_the_api_page():
    page = (ROOT / "book" / "api.md").read_text()
    missing = [n for n in symnb.__all__ if not re.search(rf"\b{n}\b", page)]
    assert not missing, f"book/api.md does not list {missing}"


def test_return_types_are_exported():
    # The types an exported function returns are public names too (a user can isinstance-check them).
    for name, obj in _public_callables():
        hint = inspect.signature(obj).return_annotation
        if isinstance(hint, str) and re.fullmatch(r"[A-Z]\w+", hint):
            assert hint in symnb.__all__, f"{name} returns {hint}, which symnb does not export"
