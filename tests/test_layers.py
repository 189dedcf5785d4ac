"""The layering of `symnb` (CONTRIBUTING.md): a lower layer never imports a higher one, and no import cycles.

Every ``import`` statement of every module is read with `ast` -- including imports inside functions, since a
deferred import is still a dependency (and a deferred cycle is still a cycle).
"""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "symnb"

# layer -> the layers it may import (besides itself)
ALLOWED = {
    "core": set(),
    "printed": {"toy.symbols"},          # the paper's formulas as printed, written in the toy's symbols only
    "toy": {"core", "printed"},
    "neural": {"core"},
    "train": {"core", "toy", "neural"},
    "runs": {"core", "toy", "neural", "train"},
    "chapters": {"core", "printed", "toy", "neural", "train", "runs"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PKG.rglob("*.py")}


def _resolve(name: str, modules: dict[str, Path]) -> str:
    """The longest prefix of ``name`` that is a module of the package."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The symnb modules that ``module`` imports (anywhere in its body)."""
    is_pkg = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[:len(base) - node.level + (1 if is_pkg else 0)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            names = [prefix] + [f"{prefix}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name == "symnb" or name.startswith("symnb."):
                target = _resolve(name, modules)
                if target and target != module:
                    out.add(target)
    return out


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else None


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: imports_of(m, p, modules) for m, p in modules.items()}


def violations(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for module, targets in graph.items():
        layer = layer_of(module)
        if layer is None:
            continue
        for target in targets:
            other = layer_of(target)
            if other is None:
                if target == "symnb":  # the package root re-exports from every layer
                    out.append(f"{module} imports the package root")
                continue
            allowed = ALLOWED[layer]
            if other != layer and other not in allowed and ".".join(target.split(".")[1:3]) not in allowed:
                out.append(f"{module} ({layer}) imports {target} ({other})")
    return sorted(out)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_module_belongs_to_a_layer():
    loose = [m for m in _modules() if layer_of(m) is None and m not in ("symnb", "symnb.__main__")]
    assert loose == [], f"modules outside the layers {sorted(ALLOWED)}: {loose}"


def test_no_layer_imports_a_higher_one():
    assert violations(_graph()) == []


def test_no_import_cycles():
    assert cycles(_graph()) == []


@pytest.mark.parametrize("graph, expected", [
    ({"symnb.core.a": {"symnb.toy.model"}, "symnb.toy.model": set()}, ["symnb.core.a (core) imports symnb.toy.model (toy)"]),
    ({"symnb.runs.x": {"symnb.chapters.ch1"}}, ["symnb.runs.x (runs) imports symnb.chapters.ch1 (chapters)"]),
    ({"symnb.printed.loss": {"symnb.toy.model"}}, ["symnb.printed.loss (printed) imports symnb.toy.model (toy)"]),
    ({"symnb.printed.loss": {"symnb.toy.symbols"}, "symnb.chapters.c": {"symnb.runs.report"}}, []),
])
def test_the_checker_catches_violations(graph, expected):
    assert violations(graph) == expected


def test_the_checker_catches_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
