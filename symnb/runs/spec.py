"""Sweep specs: parse, resolve against the notebook's ``parameters`` cell, validate every configuration, stable ids.

A sweep spec names a notebook with a cell tagged ``parameters``, base parameters, a grid (Cartesian product)
and/or an explicit list of configurations.  Each configuration is **resolved**: the notebook's defaults, then
``base``, then the grid or list entry.  Its id hashes the fully resolved parameters (the output parameter
excluded: the sweep sets it), so two executors -- or a changed notebook default -- can never file two different
experiments under one id.

Every resolved configuration is checked before anything runs: types against the notebook's defaults, then the
notebook's own validator.  The validator is found through data the notebook carries, not through an import of
the chapters (``runs`` must not import ``chapters``): the ``parameters`` cell's metadata
``{"symnb": {"validator": "symnb.chapters.ch4_loss:PARAMETERS"}}`` names an object with a
``validate(values) -> dict`` method (a `symnb.core.params.ParameterSchema`), loaded with `importlib`.  The
notebook runs the same object in the cell right after its parameters, so a value is refused the same way by
papermill and by ``symnb sweep``.
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

__all__ = ["SpecError", "NotebookParameter", "Config", "SweepSpec", "SPEC_KEYS", "notebook_parameters",
           "notebook_validator", "load_spec", "parse_spec", "config_id", "configurations", "resolve"]

# Keys a spec may have, with what each means (shown in the unknown-key error).
SPEC_KEYS = {
    "name": "sweep name; results go to <runs_dir>/<name>/",
    "notebook": "notebook path, relative to the spec file",
    "kernel": "Jupyter kernel name (default python3)",
    "output_parameter": "notebook parameter that receives the JSON result path (default output_path); null: the "
                        "notebook writes none and a run succeeds when it executes without error",
    "timeout": "seconds allowed per configuration (default none)",
    "base": "parameters shared by every configuration",
    "grid": "parameter -> list of values (the Cartesian product is swept), or a list of such grids (union)",
    "configs": "explicit list of parameter mappings, each merged over base",
}
VALIDATOR_KEY = "validator"  # in the parameters cell's metadata["symnb"]
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Types we can check a spec value against; anything else (or a non-literal default) is passed through.
_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "tuple": list, "dict": dict,
          "None": type(None), "NoneType": type(None)}


class SpecError(ValueError):
    """A sweep spec that cannot run; ``key`` names the offending entry (e.g. ``grid.a1``)."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class NotebookParameter:
    """One assignment of a notebook's ``parameters`` cell.

    ``types`` are the accepted Python type names (from an annotation such as ``float | None``, else from the
    type of a literal default); empty when the default is not a literal (no check is possible).
    """

    name: str
    default: object
    types: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    """One configuration: ``params`` fully resolved (notebook defaults, base, grid/list entry), without the
    output parameter; ``given`` what the spec set (base merged with the entry)."""

    id: str
    params: Mapping[str, object] = field(hash=False)
    given: Mapping[str, object] = field(hash=False, default_factory=dict)


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec (see `load_spec`).

    ``defaults`` are the notebook's defaults (output parameter excluded) that every configuration is resolved
    against; ``validator`` the ``module:attr`` named by the notebook (None if it names none).
    """

    name: str
    notebook: Path
    kernel: str
    output_parameter: str | None
    timeout: float | None
    base: Mapping[str, object] = field(hash=False)
    grids: tuple[Mapping[str, tuple], ...] = field(hash=False)
    configs: tuple[Mapping[str, object], ...] = field(hash=False)
    parameters: Mapping[str, NotebookParameter] = field(hash=False, repr=False)
    defaults: Mapping[str, object] = field(hash=False, repr=False, default_factory=dict)
    validator: str | None = None


# --------------------------------------------------------------------------------------------- spec parsing
class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` as a float (YAML 1.1 wants ``1.0e-3``; users write ``1e-3``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def _type_names(annotation: str, default_src: str) -> tuple[tuple[str, ...], object]:
    try:
        default = ast.literal_eval(default_src)
    except (ValueError, SyntaxError):
        default = default_src  # an expression: keep its source, no type check possible
        literal = False
    else:
        literal = True
    if annotation and annotation != "None":
        names = tuple(p.strip() for p in annotation.split("|"))
        if all(n in _TYPES for n in names):
            return names, default
        return (), default
    if not literal or default is None:
        return (), default
    return (type(default).__name__,), default


def _read_notebook(path: str):
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several types for a file that is not a notebook
        raise SpecError("notebook", f"{path!r} is not a readable notebook: {exc}") from None


def _parameters_cell(nb, path: str):
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    raise SpecError("notebook", f"{path!r} has no cell tagged 'parameters'")


@lru_cache(maxsize=64)
def _parameters_cached(path: str, mtime_ns: int) -> dict[str, NotebookParameter]:
    from papermill import inspect_notebook

    _parameters_cell(_read_notebook(path), path)
    out = {}
    for name, info in inspect_notebook(path).items():
        types, default = _type_names(info["inferred_type_name"], info["default"])
        out[name] = NotebookParameter(name, default, types)
    return out


def notebook_parameters(notebook: str | Path) -> dict[str, NotebookParameter]:
    """Names, defaults and accepted types of a notebook's ``parameters`` cell (via papermill's inspection).

    Args:
        notebook: path to an ``.ipynb`` file.

    Returns:
        Parameter name -> `NotebookParameter`, in cell order.

    Raises:
        SpecError: (key ``notebook``) if the file does not exist or has no cell tagged ``parameters``.
    """
    path = Path(notebook)
    if not path.is_file():
        raise SpecError("notebook", f"file {str(notebook)!r} not found")
    return dict(_parameters_cached(str(path.resolve()), path.stat().st_mtime_ns))


def notebook_validator(notebook: str | Path):
    """The validator a notebook names in its ``parameters`` cell's metadata (``symnb.validator``), or None.

    The metadata value is ``"package.module:ATTRIBUTE"``; the object must have ``validate(values) -> dict``.

    Raises:
        SpecError: (key ``notebook``) if the named module or attribute cannot be loaded.
    """
    path = str(Path(notebook).resolve())
    target = _parameters_cell(_read_notebook(path), path).get("metadata", {}).get("symnb", {}).get(VALIDATOR_KEY)
    if target is None:
        return None
    return _load_object(target)


@lru_cache(maxsize=16)
def _load_object(target: str):
    module_name, _, attr = str(target).partition(":")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SpecError("notebook", f"the notebook's validator {target!r} cannot be loaded: {exc}") from None
    if not callable(getattr(obj, "validate", None)):
        raise SpecError("notebook", f"the notebook's validator {target!r} has no validate(values) method")
    return obj


def _check_value(key: str, value: object, param: NotebookParameter) -> object:
    """Return ``value`` (ints widened to float where a float is expected) or raise naming ``key``."""
    if not param.types:
        return value
    for name in param.types:
        want = _TYPES[name]
        if want is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)  # so that 1 and 1.0 give the same configuration id
        if want is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if want is list and isinstance(value, (list, tuple)):
            return list(value)
        if want not in (int, float, list) and isinstance(value, want):
            return value
    hint = " (YAML reads unquoted yes/no/on/off as bool; quote them)" if isinstance(value, bool) else ""
    raise SpecError(key, f"expected {' | '.join(param.types)} (the notebook's default is {param.default!r}), "
                         f"got {type(value).__name__} {value!r}{hint}")


def _check_params(key: str, params: object, known: Mapping[str, NotebookParameter], output_parameter: str,
                  notebook: Path) -> dict[str, object]:
    if not isinstance(params, Mapping):
        raise SpecError(key, f"expected a mapping of parameter -> value, got {type(params).__name__} {params!r}")
    out = {}
    for name, value in params.items():
        where = f"{key}.{name}"
        if name not in known:
            raise SpecError(where, f"unknown parameter {name!r}: not in the parameters cell of {notebook.name}; "
                                   f"known: {sorted(known)}")
        if name == output_parameter:
            raise SpecError(where, f"{name!r} is the output parameter; the sweep sets it for every configuration")
        out[name] = _check_value(where, value, known[name])
    return out


def parse_spec(data: object, base_dir: str | Path = ".", **_ignored) -> SweepSpec:
    """Validate a spec mapping (already loaded from YAML) against its notebook: every configuration, dry.

    Args:
        data: the spec: keys in `SPEC_KEYS`; ``name`` and ``notebook`` required, plus a non-empty ``grid``
            and/or ``configs``.
        base_dir: directory that a relative ``notebook`` path is resolved against (the spec file's folder).
        **_ignored: the former ``executor=`` keyword, accepted and ignored: every executor now resolves and
            validates against the notebook (executor-specific checks: `symnb.runs.executors`, preflight).

    Returns:
        A `SweepSpec` with values type-checked (ints widened to float where the notebook's default is float),
        whose every resolved configuration passed the notebook's validator.

    Raises:
        SpecError: naming the offending key: unknown spec key, bad name, unknown notebook or kernel, unknown
            parameter, wrong type, empty grid or no configurations, or a configuration the notebook's
            validator refuses (key ``grid[i]`` / ``configs[i]``, with the configuration's values).
    """
    if not isinstance(data, Mapping):
        raise SpecError("spec", f"expected a mapping with keys {sorted(SPEC_KEYS)}, got {type(data).__name__}")
    for key in data:
        if key not in SPEC_KEYS:
            raise SpecError(str(key), f"unknown spec key {key!r}; allowed: {sorted(SPEC_KEYS)}")
    for key in ("name", "notebook"):
        if key not in data:
            raise SpecError(key, f"missing required key {key!r} ({SPEC_KEYS[key]})")
    name = data["name"]
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise SpecError("name", f"{name!r} is not a valid sweep name (letters, digits, '_', '.', '-')")
    if not isinstance(data["notebook"], str):
        raise SpecError("notebook", f"expected a path string, got {data['notebook']!r}")
    notebook = (Path(base_dir) / data["notebook"]).resolve()
    if not notebook.is_file():
        raise SpecError("notebook", f"file {data['notebook']!r} not found (looked for {str(notebook)!r})")
    known = notebook_parameters(notebook)

    kernel = data.get("kernel", "python3")
    from jupyter_client.kernelspec import find_kernel_specs
    kernels = sorted(find_kernel_specs())
    if kernel not in kernels:
        raise SpecError("kernel", f"unknown kernel {kernel!r}; installed kernels: {kernels}")
    output_parameter = data.get("output_parameter", "output_path")
    if output_parameter is not None and output_parameter not in known:
        raise SpecError("output_parameter", f"{output_parameter!r} is not a parameter of {notebook.name}; "
                                            f"known: {sorted(known)}")
    timeout = data.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or timeout <= 0):
        raise SpecError("timeout", f"expected a positive number of seconds or null, got {timeout!r}")

    base = _check_params("base", data.get("base") or {}, known, output_parameter, notebook)
    grid_in = data.get("grid") or {}
    grids = []
    for gkey, one in _grid_list(grid_in):
        grid = {}
        for pname, values in one.items():
            where = f"{gkey}.{pname}"
            if not isinstance(values, list):
                raise SpecError(where, f"expected a list of values, got {type(values).__name__} {values!r}")
            if not values:
                raise SpecError(where, "empty list: the grid would have no configurations")
            grid[pname] = tuple(_check_params(gkey, {pname: v}, known, output_parameter, notebook)[pname]
                                for v in values)
        if grid:
            grids.append(grid)
    configs_in = data.get("configs") or []
    if not isinstance(configs_in, list):
        raise SpecError("configs", f"expected a list of parameter mappings, got {configs_in!r}")
    configs = tuple(_check_params(f"configs[{i}]", c, known, output_parameter, notebook)
                    for i, c in enumerate(configs_in))
    if not grids and not configs:
        raise SpecError("grid", "the spec has no configurations: give a non-empty 'grid' and/or 'configs'")
    defaults = {k: p.default for k, p in known.items() if k != output_parameter}
    target = _parameters_cell(_read_notebook(str(notebook)), str(notebook)).get("metadata", {}) \
        .get("symnb", {}).get(VALIDATOR_KEY)
    spec = SweepSpec(name, notebook, kernel, output_parameter, None if timeout is None else float(timeout),
                     base, tuple(grids), configs, known, defaults, target)
    _validate_all(spec)
    return spec


def _grid_list(grid_in: object) -> list[tuple[str, Mapping]]:
    """``grid`` as [(key for messages, mapping)]: one mapping, or a list of them (a union of products)."""
    if isinstance(grid_in, Mapping):
        return [("grid", grid_in)]
    if isinstance(grid_in, list):
        for i, one in enumerate(grid_in):
            if not isinstance(one, Mapping):
                raise SpecError(f"grid[{i}]", f"expected a mapping of parameter -> list of values, got {one!r}")
        return [(f"grid[{i}]", one) for i, one in enumerate(grid_in)]
    raise SpecError("grid", f"expected a mapping of parameter -> list of values (or a list of them), "
                            f"got {grid_in!r}")


def _validate_all(spec: SweepSpec) -> None:
    """Run the notebook's validator on every resolved configuration (dry: nothing is written or started)."""
    if spec.validator is None:
        return
    validator = _load_object(spec.validator)
    for where, config in _entries(spec):
        # the sweep gives each run its own output path; "" (no file) stands for it in the dry check
        values = resolve(spec, config)
        if spec.output_parameter is not None:
            values[spec.output_parameter] = ""
        try:
            validator.validate(values)
        except ValueError as exc:
            root = re.split(r"[.\[]", str(getattr(exc, "name", "")))[0]
            entry = {k: v for k, v in config.items() if k not in spec.base or spec.base[k] != v}
            if root in entry:
                shown = ", ".join(f"{k}={v!r}" for k, v in entry.items())
                raise SpecError(where, f"in the configuration ({shown}): {exc}") from None
            if root in spec.base:
                raise SpecError(f"base.{root}", str(exc)) from None
            raise SpecError("notebook", f"the notebook's own default is refused: {exc}") from None


def _entries(spec: SweepSpec) -> list[tuple[str, dict]]:
    """(key for messages, base merged with one grid point or list entry), in configuration order."""
    out = []
    for gi, grid in enumerate(spec.grids):
        keys = list(grid)
        where = "grid" if len(spec.grids) == 1 else f"grid[{gi}]"
        for values in itertools.product(*(grid[k] for k in keys)):
            out.append((where, {**spec.base, **dict(zip(keys, values))}))
    out.extend((f"configs[{i}]", {**spec.base, **c}) for i, c in enumerate(spec.configs))
    return out


def load_spec(path: str | Path, **_ignored) -> SweepSpec:
    """Read and validate a YAML sweep spec (a relative ``notebook`` is resolved against the spec's folder).

    Raises:
        SpecError: for a missing/unparsable file or any problem `parse_spec` reports.
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError("spec", f"spec file {str(path)!r} not found")
    try:
        data = yaml.load(path.read_text(), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise SpecError("spec", f"{str(path)!r} is not valid YAML: {exc}") from None
    return parse_spec(data, path.parent)


# ------------------------------------------------------------------------------------------ configurations
def resolve(spec: SweepSpec, given: Mapping[str, object]) -> dict[str, object]:
    """The fully resolved parameters of one configuration: the notebook's defaults, overridden by ``given``
    (base merged with a grid point or list entry); the output parameter is not included (the sweep sets it)."""
    return {**spec.defaults, **given}


def config_id(params: Mapping[str, object]) -> str:
    """Stable 12-hex-digit id of a parameter mapping (SHA-256 of its canonical, key-sorted JSON).

    Give it the fully resolved parameters (`resolve`): then a changed notebook default changes the id.
    """
    text = json.dumps(dict(params), sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def configurations(spec: SweepSpec) -> list[Config]:
    """Grid product then explicit configs, each merged over ``base`` and resolved against the notebook's
    defaults; duplicates (same resolved parameters, same id) are dropped.

    Returns:
        The configurations in a deterministic order (each grid in key order, last key fastest; grids in
        order; then ``configs``).
    """
    out, seen = [], set()
    for _, given in _entries(spec):
        params = resolve(spec, given)
        cid = config_id(params)
        if cid not in seen:
            seen.add(cid)
            out.append(Config(cid, params, given))
    return out
