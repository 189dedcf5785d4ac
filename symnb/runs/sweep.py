"""Parameterized notebook sweeps: a YAML spec, stable configuration ids, resumable papermill runs.

A sweep spec names a notebook with a cell tagged ``parameters``, base parameters, a grid (Cartesian
product) and/or an explicit list of configurations.  Every configuration gets a stable id (a hash of its
parameters) and is executed by papermill, one subprocess per configuration, into
``<runs_dir>/<sweep>/<id>/``: the executed ``notebook.ipynb``, ``params.json`` and either the
``result.json`` the notebook writes (success) or ``error.json`` (failure).

Why the run directory is trustworthy after a crash or a kill:

* every configuration runs in a private ``.partial-*`` directory next to its final place and is moved into
  place with one ``os.rename`` only after the notebook finished and its JSON result parsed;
* a configuration whose ``<id>/result.json`` exists is skipped, so rerunning an interrupted sweep resumes it;
* ``.partial-*`` directories left behind by a killed run (their owning process is gone) are removed at the
  start of the next run.

Executors: local worker slots (``workers``), each launching papermill subprocesses and pinned to one GPU via
``CUDA_VISIBLE_DEVICES`` when GPUs exist; or Dask distributed (an existing scheduler address, e.g. a
dask-jobqueue SLURM cluster, or a `LocalCluster`).  Dask is imported only when used.
"""
from __future__ import annotations

import ast
import hashlib
import itertools
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ..core.io import atomic_write_json
from ..train import FIXED_STEP_SOLVERS, TrainConfig, plan_batches, train_batched, write_result

__all__ = ["SpecError", "NotebookParameter", "Config", "SweepSpec", "ConfigOutcome", "SweepResult",
           "notebook_parameters", "load_spec", "parse_spec", "config_id", "configurations", "run_config",
           "run_sweep", "SPEC_KEYS", "RESULT_FILE", "ERROR_FILE", "PARAMS_FILE", "NOTEBOOK_FILE"]

# Keys a spec may have, with what each means (shown in the unknown-key error).
SPEC_KEYS = {
    "name": "sweep name; results go to <runs_dir>/<name>/",
    "notebook": "notebook path, relative to the spec file",
    "kernel": "Jupyter kernel name (default python3)",
    "output_parameter": "notebook parameter that receives the JSON result path (default output_path)",
    "timeout": "seconds allowed per configuration (default none)",
    "base": "parameters shared by every configuration",
    "grid": "parameter -> list of values (the Cartesian product is swept), or a list of such grids (union)",
    "configs": "explicit list of parameter mappings, each merged over base",
}
RESULT_FILE = "result.json"
ERROR_FILE = "error.json"
PARAMS_FILE = "params.json"
NOTEBOOK_FILE = "notebook.ipynb"
LOG_FILE = "papermill.log"
_PARTIAL = ".partial-"
_TRASH = ".trash-"
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
    """One configuration: the full parameter mapping given to papermill (base merged with grid/list entry)."""

    id: str
    params: Mapping[str, object] = field(hash=False)


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec (see `load_spec`)."""

    name: str
    notebook: Path
    kernel: str
    output_parameter: str
    timeout: float | None
    base: Mapping[str, object] = field(hash=False)
    grids: tuple[Mapping[str, tuple], ...] = field(hash=False)
    configs: tuple[Mapping[str, object], ...] = field(hash=False)
    parameters: Mapping[str, NotebookParameter] = field(hash=False, repr=False)


@dataclass(frozen=True)
class ConfigOutcome:
    """What happened to one configuration: ``status`` is ``done``, ``skipped`` (result existed) or ``failed``."""

    id: str
    status: str
    run_dir: str
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class SweepResult:
    """All outcomes of one `run_sweep` call, in configuration order."""

    name: str
    sweep_dir: str
    outcomes: tuple[ConfigOutcome, ...]

    def ids(self, status: str) -> list[str]:
        """Ids of the configurations with ``status`` (``done``, ``skipped`` or ``failed``)."""
        return [o.id for o in self.outcomes if o.status == status]


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


@lru_cache(maxsize=64)
def _parameters_cached(path: str, mtime_ns: int) -> dict[str, NotebookParameter]:
    import nbformat
    from papermill import inspect_notebook

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several types for a file that is not a notebook
        raise SpecError("notebook", f"{path!r} is not a readable notebook: {exc}") from None
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells):
        raise SpecError("notebook", f"{path!r} has no cell tagged 'parameters'")
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


def parse_spec(data: object, base_dir: str | Path = ".", *, executor: str = "local") -> SweepSpec:
    """Validate a spec mapping (already loaded from YAML) against its notebook's ``parameters`` cell.

    Args:
        data: the spec: keys in `SPEC_KEYS`; ``name`` and ``notebook`` required, plus a non-empty ``grid``
            and/or ``configs``.
        base_dir: directory that a relative ``notebook`` path is resolved against (the spec file's folder).
        executor: ``"batched"`` checks parameters against `symnb.train.TrainConfig` (the batched executor
            trains directly, without the notebook, which need not exist);
            otherwise against the notebook's ``parameters`` cell.

    Returns:
        A `SweepSpec` with values type-checked (ints widened to float where the notebook's default is float).

    Raises:
        SpecError: naming the offending key: unknown spec key, bad name, unknown notebook or kernel, unknown
            parameter, wrong type, empty grid or no configurations.
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
    if executor == "batched":
        known = train_parameters()  # the notebook is not run (nor read) by this executor
    elif notebook.is_file():
        known = notebook_parameters(notebook)
    else:
        raise SpecError("notebook", f"file {data['notebook']!r} not found (looked for {str(notebook)!r})")

    kernel = data.get("kernel", "python3")
    from jupyter_client.kernelspec import find_kernel_specs
    kernels = sorted(find_kernel_specs())
    if kernel not in kernels:
        raise SpecError("kernel", f"unknown kernel {kernel!r}; installed kernels: {kernels}")
    output_parameter = data.get("output_parameter", "output_path")
    if executor != "batched" and output_parameter not in known:
        raise SpecError("output_parameter", f"{output_parameter!r} is not a parameter of {notebook.name}; "
                                            f"known: {sorted(known)}")
    timeout = data.get("timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or timeout <= 0):
        raise SpecError("timeout", f"expected a positive number of seconds or null, got {timeout!r}")

    base = _check_params("base", data.get("base") or {}, known, output_parameter, notebook)
    grid_in = data.get("grid") or {}
    grids = []
    for gi, (gkey, one) in enumerate(_grid_list(grid_in)):
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
    return SweepSpec(name, notebook, kernel, output_parameter, None if timeout is None else float(timeout),
                     base, tuple(grids), configs, known)


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


def load_spec(path: str | Path, *, executor: str = "local") -> SweepSpec:
    """Read and validate a YAML sweep spec (a relative ``notebook`` is resolved against the spec's folder).

    ``executor`` is passed to `parse_spec` (``"batched"`` validates against `symnb.train.TrainConfig`).

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
    return parse_spec(data, path.parent, executor=executor)


# ------------------------------------------------------------------------------------------ configurations
def config_id(params: Mapping[str, object]) -> str:
    """Stable 12-hex-digit id of a parameter mapping (SHA-256 of its canonical, key-sorted JSON)."""
    text = json.dumps(dict(params), sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def configurations(spec: SweepSpec) -> list[Config]:
    """Grid product then explicit configs, each merged over ``base``; duplicates (same id) are dropped.

    Returns:
        The configurations in a deterministic order (each grid in key order, last key fastest; grids in
        order; then ``configs``).
    """
    merged = []
    for grid in spec.grids:
        keys = list(grid)
        for values in itertools.product(*(grid[k] for k in keys)):
            merged.append({**spec.base, **dict(zip(keys, values))})
    merged.extend({**spec.base, **c} for c in spec.configs)
    out, seen = [], set()
    for params in merged:
        cid = config_id(params)
        if cid not in seen:
            seen.add(cid)
            out.append(Config(cid, params))
    return out


# ------------------------------------------------------------------------------------------------ execution
@dataclass(frozen=True)
class _Job:
    """Everything one configuration run needs; plain data so Dask can ship it to a worker."""

    sweep: str
    sweep_dir: str
    config_id: str
    params: Mapping[str, object] = field(hash=False)
    notebook: str = ""
    kernel: str = "python3"
    output_parameter: str = "output_path"
    timeout: float | None = None


def _write_json(path: Path, data: object) -> None:
    atomic_write_json(path, data)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_stale(sweep_dir: Path) -> list[str]:
    """Remove ``.partial-*`` / ``.trash-*`` dirs whose owning process (on this host) is gone."""
    host = socket.gethostname()
    removed = []
    for entry in sweep_dir.glob(".*-*"):
        if not entry.is_dir() or not entry.name.startswith((_PARTIAL, _TRASH)):
            continue
        try:
            owner = json.loads((entry / ".owner").read_text())
        except (OSError, ValueError):
            owner = None  # killed before the owner file was written
        if owner is None or (owner.get("host") == host and not _pid_alive(int(owner.get("pid", -1)))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _error_text(log: str, returncode: int | None) -> str:
    """The useful part of a papermill failure: the notebook's exception line if present, else the log tail."""
    lines = [ln for ln in log.strip().splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if "Exception encountered at" in line or line.startswith("papermill.exceptions"):
            tail = [ln for ln in lines[i:] if re.match(r"^\w*(Error|Exception)\b.*:", ln)]
            if tail:
                return tail[-1]
    return " | ".join(lines[-3:]) if lines else f"papermill exited with code {returncode}"


def _finalize(tmp: Path, final: Path) -> None:
    """Move ``tmp`` to ``final`` (replacing an earlier failed attempt) with renames only."""
    if final.exists():
        trash = final.with_name(f"{_TRASH}{final.name}-{uuid.uuid4().hex[:8]}")
        os.rename(final, trash)
        os.rename(tmp, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.rename(tmp, final)


def run_config(job: _Job, env: Mapping[str, str] | None = None) -> ConfigOutcome:
    """Execute one configuration with papermill in a subprocess and move its run directory into place.

    The notebook runs with its private partial directory as working directory and receives
    ``output_parameter = "result.json"``; a result that is missing or not JSON counts as a failure.

    Args:
        job: the configuration (built by `run_sweep`).
        env: environment for the papermill subprocess (default: this process's).

    Returns:
        A `ConfigOutcome`; never raises for a failing notebook (the error is in ``error.json``).
    """
    sweep_dir = Path(job.sweep_dir)
    final = sweep_dir / job.config_id
    if (final / RESULT_FILE).is_file():
        return ConfigOutcome(job.config_id, "skipped", str(final))
    start = time.monotonic()
    tmp = sweep_dir / f"{_PARTIAL}{job.config_id}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    (tmp / ".owner").write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))
    record = {"id": job.config_id, "sweep": job.sweep, "notebook": job.notebook, "parameters": dict(job.params)}
    _write_json(tmp / PARAMS_FILE, record)
    params = {**job.params, job.output_parameter: RESULT_FILE}
    cmd = [sys.executable, "-m", "papermill", job.notebook, str(tmp / NOTEBOOK_FILE), "-k", job.kernel,
           "--cwd", str(tmp), "-y", yaml.safe_dump(params, default_flow_style=True), "--no-progress-bar",
           "--log-level", "WARNING"]
    error, code = None, None
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=job.timeout,
                              env=dict(env) if env is not None else None)
        code = proc.returncode
        log = proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        log = f"{exc.stdout or ''}{exc.stderr or ''}"
        log = log.decode() if isinstance(log, bytes) else log
        error = f"timed out after {job.timeout:g} s"
    (tmp / LOG_FILE).write_text(log)
    if error is None and code != 0:
        error = _error_text(log, code)
    if error is None:
        try:
            json.loads((tmp / RESULT_FILE).read_text())
        except FileNotFoundError:
            error = f"the notebook finished but wrote no result to {job.output_parameter}"
        except ValueError as exc:
            error = f"the notebook's result is not valid JSON: {exc}"
    seconds = time.monotonic() - start
    if error is not None:
        (tmp / RESULT_FILE).unlink(missing_ok=True)  # only a finished, valid result may mark a config done
        _write_json(tmp / ERROR_FILE, {"id": job.config_id, "error": error, "returncode": code,
                                       "seconds": seconds, "parameters": dict(job.params)})
    (tmp / ".owner").unlink()
    if (final / RESULT_FILE).is_file():  # another runner finished it meanwhile: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
        return ConfigOutcome(job.config_id, "skipped", str(final))
    _finalize(tmp, final)
    return ConfigOutcome(job.config_id, "failed" if error else "done", str(final), error, seconds)


def _visible_gpus() -> list[str]:
    """GPU ids to hand out: CUDA_VISIBLE_DEVICES if set, else what torch counts (none without CUDA)."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g.strip() for g in env.split(",") if g.strip() and g.strip() != "-1"]
    try:
        import torch
        return [str(i) for i in range(torch.cuda.device_count())]
    except Exception:  # no usable torch/CUDA: run on CPU
        return []


def _local_map(jobs: Sequence[_Job], workers: int, gpus: Sequence[str], on_done) -> None:
    """Run jobs on ``workers`` slots; slot k's subprocesses see only GPU ``gpus[k % len(gpus)]``."""
    slots: queue.Queue[int] = queue.Queue()
    for k in range(workers):
        slots.put(k)

    def one(job: _Job) -> ConfigOutcome:
        slot = slots.get()
        try:
            env = dict(os.environ)
            if gpus:
                env["CUDA_VISIBLE_DEVICES"] = gpus[slot % len(gpus)]
            return run_config(job, env)
        except Exception as exc:  # an infrastructure error (disk, papermill missing): record, keep going
            return ConfigOutcome(job.config_id, "failed", str(Path(job.sweep_dir) / job.config_id),
                                 f"{type(exc).__name__}: {exc}")
        finally:
            slots.put(slot)

    # Threads only wait on subprocesses (papermill runs in its own process), so they are safe here.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for fut in as_completed([pool.submit(one, j) for j in jobs]):
            on_done(fut.result())


def _dask_map(jobs: Sequence[_Job], scheduler: str | None, workers: int, on_done) -> None:
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise RuntimeError("the Dask executor needs dask[distributed]; install it with "
                           "`pip install 'symnb[dask]'` or use local workers (--workers N)") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with Client(cluster if cluster is not None else scheduler) as client:
            futures = {client.submit(run_config, j, key=f"symnb-{j.sweep}-{j.config_id}", pure=False): j
                       for j in jobs}
            for fut in dask_completed(list(futures)):
                job = futures[fut]
                try:
                    on_done(fut.result())
                except Exception as exc:  # the worker itself failed (lost worker, import error)
                    on_done(ConfigOutcome(job.config_id, "failed", str(Path(job.sweep_dir) / job.config_id),
                                          f"{type(exc).__name__}: {exc}"))
    finally:
        if cluster is not None:
            cluster.close()


EXECUTORS = ("local", "dask", "batched")


def run_sweep(spec: SweepSpec, runs_dir: str | Path = "runs", *, executor: str = "local", workers: int = 1,
              scheduler: str | None = None, progress: bool = True) -> SweepResult:
    """Run every configuration of ``spec`` that has no result yet.

    Args:
        spec: a validated spec (`load_spec`).
        runs_dir: root folder; this sweep writes ``<runs_dir>/<spec.name>/<id>/``.
        executor: ``"local"`` (papermill subprocesses on ``workers`` slots, one GPU each when GPUs exist) or
            ``"dask"`` (``scheduler`` address of a running cluster; a `LocalCluster` of ``workers`` processes
            when ``scheduler`` is None; Dask workers must see the same filesystem as ``runs_dir``) or
            ``"batched"`` (no notebook: `symnb.train.train_batched` trains whole batches of configurations
            in this process and writes the same run folders; the spec must be loaded with
            ``executor="batched"``).
        workers: concurrent configurations (local slots, or LocalCluster processes).
        scheduler: Dask scheduler address, e.g. ``tcp://10.0.0.1:8786``; implies ``executor="dask"``.
        progress: show a progress bar over configurations.

    Returns:
        A `SweepResult` with one `ConfigOutcome` per configuration (``skipped`` where a result existed).

    Raises:
        ValueError: for an unknown executor or ``workers < 1``.
        RuntimeError: for the Dask executor without dask installed.
    """
    if scheduler is not None:
        executor = "dask"
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; allowed: {list(EXECUTORS)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    from tqdm.auto import tqdm

    sweep_dir = Path(runs_dir).resolve() / spec.name
    sweep_dir.mkdir(parents=True, exist_ok=True)
    _clean_stale(sweep_dir)
    configs = configurations(spec)
    _write_json(sweep_dir / "sweep.json", {
        "name": spec.name, "notebook": str(spec.notebook), "base": dict(spec.base),
        "grids": [{k: list(v) for k, v in g.items()} for g in spec.grids], "configs": [dict(c) for c in spec.configs],
        "ids": [c.id for c in configs]})
    outcomes: dict[str, ConfigOutcome] = {}
    jobs = []
    for c in configs:
        if (sweep_dir / c.id / RESULT_FILE).is_file():
            outcomes[c.id] = ConfigOutcome(c.id, "skipped", str(sweep_dir / c.id))
        else:
            jobs.append(_Job(spec.name, str(sweep_dir), c.id, c.params, str(spec.notebook), spec.kernel,
                             spec.output_parameter, spec.timeout))
    bar = tqdm(total=len(configs), initial=len(outcomes), desc=spec.name, unit="config", disable=not progress)

    def on_done(outcome: ConfigOutcome) -> None:
        outcomes[outcome.id] = outcome
        bar.update(1)
        bar.set_postfix(failed=sum(o.status == "failed" for o in outcomes.values()), refresh=False)

    try:
        if jobs and executor == "local":
            _local_map(jobs, min(workers, len(jobs)), _visible_gpus(), on_done)
        elif jobs and executor == "batched":
            run_batched(spec, sweep_dir, [c for c in configs if c.id not in outcomes], on_done)
        elif jobs:
            _dask_map(jobs, scheduler, workers, on_done)
    finally:
        bar.close()
    return SweepResult(spec.name, str(sweep_dir), tuple(outcomes[c.id] for c in configs))


# ------------------------------------------------------------------------------------------- sweep executor
def train_parameters() -> dict:
    """`symnb.train.TrainConfig`'s flat parameters as sweep parameters (name -> `NotebookParameter`)."""
    kinds = {float: "float", int: "int", str: "str", bool: "bool", list: "list"}
    out = {}
    for name, default in TrainConfig().params.items():
        if name == "output":
            continue  # the sweep decides where results go
        kind = kinds.get(type(default))
        out[name] = NotebookParameter(name, default, (kind,) if kind else ())
    return out


def run_batched(spec, sweep_dir, configs, on_done, max_batch: int | None = None) -> None:
    """The ``batched`` executor of `symnb.runs.sweep.run_sweep`: train ``configs`` batch by batch and move each
    configuration's folder (``params.json`` + ``result.json`` from `symnb.train.write_result`) into place.

    A batch is written only when it has finished, so an interrupted sweep loses at most the batch in progress.
    An invalid configuration (TrainConfig refuses it) is recorded as failed; the others still run.  Fields the
    spec leaves out take `symnb.train.TrainConfig`'s defaults (not the notebook's: the notebook is not read).

    Args:
        spec: the `symnb.runs.sweep.SweepSpec` (loaded with ``executor="batched"``).
        sweep_dir: ``<runs_dir>/<name>``.
        configs: the `symnb.runs.sweep.Config` s still to run.
        on_done: called with one `symnb.runs.sweep.ConfigOutcome` per configuration.
        max_batch: largest batch (None: no limit).
    """
    from pathlib import Path

    sweep_dir = Path(sweep_dir)
    train_configs, ok = [], []
    for c in configs:
        try:
            cfg = TrainConfig.from_params(**c.params)  # TrainConfig's defaults for what the spec leaves out
            if cfg.model.solver not in FIXED_STEP_SOLVERS:
                raise ValueError(f"solver {cfg.model.solver!r}: the batched executor needs a fixed-step solver; "
                                 f"allowed: {list(FIXED_STEP_SOLVERS)}")
        except (ValueError, TypeError) as exc:
            on_done(_place(sweep_dir, c, spec, None, f"{type(exc).__name__}: {exc}"))
        else:
            train_configs.append(cfg)
            ok.append(c)
    for plan in plan_batches(train_configs, max_batch):
        results = train_batched([train_configs[i] for i in plan.indices])
        for i, res in zip(plan.indices, results):
            on_done(_place(sweep_dir, ok[i], spec, res, None))


def _place(sweep_dir, config, spec, result, error):
    """Write one configuration's folder in a private partial dir, then rename it into place."""
    import json
    import os
    import socket
    import uuid

    tmp = sweep_dir / f"{_PARTIAL}{config.id}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    (tmp / ".owner").write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))
    _write_json(tmp / PARAMS_FILE, {"id": config.id, "sweep": spec.name, "notebook": str(spec.notebook),
                                          "executor": "batched", "parameters": dict(config.params)})
    if result is not None:
        write_result(result, tmp / RESULT_FILE)
    else:
        _write_json(tmp / ERROR_FILE, {"id": config.id, "error": error, "parameters": dict(config.params)})
    (tmp / ".owner").unlink()
    final = sweep_dir / config.id
    _finalize(tmp, final)
    return ConfigOutcome(config.id, "failed" if error else "done", str(final), error,
                            result.wall_time if result is not None else 0.0)
