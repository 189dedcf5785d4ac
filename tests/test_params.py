"""Parameters of notebooks 01-08: visible to papermill, validated before any work (in the notebook and in
``symnb sweep``), resolved the same way by every executor.

Papermill is exercised in two ways: ``prepare_only`` (papermill writes the injected-parameters cell, which we then
execute with the notebook's own validation cell, in-process: fast) for every bad value, and one real kernel
execution per refusal path that needs it (a bad value through a kernel; notebook 04 under both executors).
"""
from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import nbformat
import papermill as pm
import pytest
import torch
import yaml

from symnb.__main__ import main
from symnb.chapters import (ch1_forward, ch2_noether, ch3_adjoint, ch4_loss, ch5_ablation, ch6_pipeline, ch7_beyond,
                            ch8_learned)
from symnb.chapters import ch9_param_symmetries
from symnb.core.params import Param, ParameterError, ParameterSchema, Rule
from symnb.runs import spec as specs
from symnb.runs.folders import RESULT_FILE, SWEEP_FILE, check_resolution
from symnb.train import TrainConfig
from symnb.train.params import NOTEBOOK_PARAMETERS, train_config

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {
    "01_forward_lie_symmetry": ch1_forward.PARAMETERS,
    "02_noether_hamiltonians": ch2_noether.PARAMETERS,
    "03_adjoint_symmetries": ch3_adjoint.PARAMETERS,
    "04_combined_loss": ch4_loss.PARAMETERS,
    "05_ablation": ch5_ablation.PARAMETERS,
    "06_from_ode_to_regularizer": ch6_pipeline.PARAMETERS,
    "07_where_conservation_helps": ch7_beyond.PARAMETERS,
    "08_learned_conserved_quantities": ch8_learned.PARAMETERS,
    "09_parameter_space_symmetries": ch9_param_symmetries.PARAMETERS,
}


def _path(stem: str) -> Path:
    return ROOT / "notebooks" / f"{stem}.ipynb"


def _parameters_cell(stem: str):
    nb = nbformat.read(_path(stem), as_version=4)
    (idx,) = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    return nb, idx


def _assigned(source: str) -> list[str]:
    """Every name the cell binds, a tuple assignment's names included (so that one would fail the test)."""
    names = []
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            names.extend(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _defaults(stem: str) -> dict:
    nb, idx = _parameters_cell(stem)
    namespace: dict = {}
    exec(nb.cells[idx].source, namespace)
    return {k: namespace[k] for k in _assigned(nb.cells[idx].source)}


# ------------------------------------------------------------------------------------ papermill sees them all
@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_papermill_lists_every_parameter_the_cell_assigns(stem):
    nb, idx = _parameters_cell(stem)
    assigned = _assigned(nb.cells[idx].source)
    assert list(pm.inspect_notebook(str(_path(stem)))) == assigned
    assert NOTEBOOKS[stem].names == tuple(assigned)  # the schema covers exactly the cell
    # the validator the sweep loads is the chapter's schema, and the cell right after runs it
    assert specs.notebook_validator(_path(stem)) is NOTEBOOKS[stem]
    assert "PARAMETERS.validate_namespace(globals())" in nb.cells[idx + 1].source


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_defaults_pass_from_any_working_directory(stem, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # e.g. papermill run from elsewhere: data is found relative to the repository
    values = NOTEBOOKS[stem].validate(_defaults(stem))
    assert set(values) == set(NOTEBOOKS[stem].names)
    if stem == "05_ablation":
        assert Path(values["data_path"]) == ch5_ablation.ABLATION_CSV


# ----------------------------------------------------------------------------------------- bad values
# (notebook, parameter, bad value, what the message must say).  The first of each group is from issue 14.
BAD = [
    ("01_forward_lie_symmetry", "eps", 0.0, r"parameter eps = 0\.0 is not allowed \(zero\); allowed: a finite real "
                                            r"number != 0"),
    ("01_forward_lie_symmetry", "theta1", 0, r"theta1 = 0 .*!= 0"),
    ("01_forward_lie_symmetry", "n_points", 1, r"n_points = 1 .*too small.*an integer >= 2"),
    ("01_forward_lie_symmetry", "z0s", [0.1, "a"], r"parameter z0s\[1\] = 'a' .*a finite real number"),
    ("02_noether_hamiltonians", "theta", [], r"theta = \[\] .*0 items.*at least 1"),
    ("02_noether_hamiltonians", "theta", [[0.0, 0.5]], r"theta = .*theta_1 != 0"),
    ("02_noether_hamiltonians", "horizon", 0.0, r"horizon = 0\.0 .*> 0"),
    ("02_noether_hamiltonians", "targets", [[1.0, 2.0]], r"targets = .*N entries each"),
    ("03_adjoint_symmetries", "theta", [0, 0.3], r"theta = \(0\.0, 0\.3\) .*theta1 != 0"),
    ("03_adjoint_symmetries", "activations", ["cos", "relu"], r"activations\[1\] = 'relu' .*one of \['cos'"),
    ("03_adjoint_symmetries", "x0", [0.1, 0.2], r"x0 = .*2 items.*exactly 4"),
    ("04_combined_loss", "adjoint", "maybe", r"adjoint = 'maybe' .*True or False"),
    ("04_combined_loss", "output", "/nonexistent/dir/x.json", r"folder '/nonexistent/dir' does not exist.*not "
                                                               r"created"),
    ("04_combined_loss", "constants", {"k9": 1.0}, r"constants = \{'k9': 1\.0\} .*unknown key 'k9'.*keys among "
                                                   r"\['c1', 'c2', 'c3', 'k2', 'k3', 'k4', 'k5', 'k6'\]"),
    ("04_combined_loss", "solver", "rk5", r"solver = 'rk5' .*one of \['dopri5'"),
    ("04_combined_loss", "a1", math.nan, r"a1 = nan .*not finite"),
    ("04_combined_loss", "a2", -1.0, r"a2 = -1\.0 .*>= 0"),
    ("04_combined_loss", "lr", 0.0, r"lr = 0\.0 .*> 0"),
    ("04_combined_loss", "n_train", 16.5, r"n_train = 16\.5 .*an integer"),
    ("05_ablation", "metric", "mse", r"metric = 'mse' .*one of \['test_mse'"),
    ("05_ablation", "data_path", "nowhere.csv", r"data_path = 'nowhere\.csv' .*no file at"),
    ("06_from_ode_to_regularizer", "z_max", -5.0, r"parameter z_max = -5\.0 is not allowed; allowed: a number > z_min"),
    ("06_from_ode_to_regularizer", "n_eps", 1, r"n_eps = 1 .*an integer >= 2"),
    ("07_where_conservation_helps", "system", "spring2", r"system = 'spring2' .*one of \[.*'spring'"),
    ("07_where_conservation_helps", "methods", ["vanilla", "adjoint"], r"methods\[1\] = 'adjoint' .*one of "
                                                                        r"\['vanilla'"),
    ("07_where_conservation_helps", "n_traj", 3, r"n_traj = 3 .*an even integer >= 2"),
    ("07_where_conservation_helps", "results_csv", "nowhere.csv", r"results_csv = 'nowhere\.csv' .*no file at"),
    ("08_learned_conserved_quantities", "n", 0, r"parameter n = 0 .*an integer >= 1"),
    ("08_learned_conserved_quantities", "lr", 0.0, r"lr = 0\.0 .*> 0"),
    ("08_learned_conserved_quantities", "collapse_steps", -1, r"collapse_steps = -1 .*>= 0"),
    ("09_parameter_space_symmetries", "width", 5, r"parameter width = 5 .*<= 4"),
    ("09_parameter_space_symmetries", "etas", [0.01], r"etas = \[0\.01\] .*"),
    ("09_parameter_space_symmetries", "n_seeds", 1, r"n_seeds = 1 .*>= 2"),
]
if not torch.cuda.is_available():
    BAD.append(("04_combined_loss", "device", "cuda", r"device = 'cuda' .*torch sees no CUDA device"))
IDS = [f"{s[:2]}-{n}-{v!r}" for s, n, v, _ in BAD]


@pytest.mark.parametrize("stem, name, value, message", BAD, ids=IDS)
def test_validator_refuses_naming_parameter_value_and_allowed(stem, name, value, message):
    with pytest.raises(ParameterError, match=message) as info:
        NOTEBOOKS[stem].validate({**_defaults(stem), name: value})
    assert "allowed:" in str(info.value) and info.value.name.startswith(name)


@pytest.mark.parametrize("stem, name, value, message", BAD, ids=IDS)
def test_papermill_parameters_are_refused_by_the_cell_after_them(stem, name, value, message, tmp_path):
    """Papermill writes the injected cell; the notebook's next cell (its validation) refuses the value."""
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(_path(stem)), str(out), parameters={name: value}, prepare_only=True,
                        kernel_name="python3", progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    (idx,) = [i for i, c in enumerate(nb.cells) if "injected-parameters" in c.metadata.get("tags", [])]
    assert "parameters" in nb.cells[idx - 1].metadata.tags  # papermill's order: defaults, injected, validation
    namespace: dict = {}
    exec(nb.cells[idx - 1].source, namespace)
    exec(nb.cells[idx].source, namespace)
    with pytest.raises(ParameterError, match=message):
        exec(nb.cells[idx + 1].source, namespace)


def test_a_kernel_stops_at_the_validation_cell_from_any_working_directory(tmp_path):
    """A real papermill run from a foreign working directory: data_path (repository-relative) passes, the bad
    metric stops the notebook in the cell after the parameters; no later cell ran."""
    out = tmp_path / "out.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(str(_path("05_ablation")), str(out), parameters={"metric": "mse"}, cwd=str(tmp_path),
                            kernel_name="python3", progress_bar=False)
    assert info.value.ename == "ParameterError"
    assert "parameter metric = 'mse' is not allowed" in info.value.evalue
    nb = nbformat.read(out, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    (failed,) = [i for i, c in enumerate(code) if any(o.get("output_type") == "error" for o in c.outputs)]
    assert "PARAMETERS.validate_namespace" in code[failed].source
    assert all(c.execution_count is None for c in code[failed + 1:])


def _spec_file(tmp_path: Path, stem: str, grid: dict, **over) -> Path:
    spec = {"name": "bad", "notebook": str(_path(stem)), "grid": grid,
            "output_parameter": "output" if stem == "04_combined_loss" else None, **over}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.parametrize("stem, name, value, message", BAD, ids=IDS)
def test_sweep_refuses_a_bad_value_anywhere_before_anything_is_written(stem, name, value, message, tmp_path,
                                                                      capsys):
    defaults = _defaults(stem)
    good = defaults[name]
    spec = _spec_file(tmp_path, stem, {name: [good, value]})  # the second grid point is bad
    code = main(["sweep", str(spec), "--runs-dir", str(tmp_path / "runs"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"symnb sweep: bad spec: grid")
    if name == "output":  # the sweep gives every run its own output: setting it is refused as such
        assert "'output' is the output parameter; the sweep sets it" in err
    else:  # the spec's type check or the notebook's validator, naming the parameter and the bad value
        assert f"in the configuration ({name}=" in err and f"parameter {name}" in err \
            or f"grid.{name}: expected" in err and f"got {type(value).__name__} {value!r}" in err
    assert not (tmp_path / "runs").exists()


def test_sweep_refuses_what_only_the_executor_knows(tmp_path, capsys):
    runs = tmp_path / "runs"
    spec = _spec_file(tmp_path, "04_combined_loss", {"seed": [0, 1]}, base={"solver": "dopri5"})
    assert main(["sweep", str(spec), "--batched", "--runs-dir", str(runs)]) == 2
    assert "solver 'dopri5' is adaptive; the batched executor needs a fixed-step solver" in capsys.readouterr().err
    spec = _spec_file(tmp_path, "01_forward_lie_symmetry", {"eps": [0.2]})
    assert main(["sweep", str(spec), "--batched", "--runs-dir", str(runs)]) == 2
    assert "unknown notebook-04 parameter 'theta1'" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--scheduler", "tcp://127.0.0.1:1", "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no Dask scheduler answered at 'tcp://127.0.0.1:1'" in err
    assert not runs.exists()


# ---------------------------------------------------------------------------------------- ids and resolution
def _tiny_copy(tmp_path: Path, n_default: int) -> Path:
    nb = nbformat.read(ROOT / "tests" / "data" / "tiny_sweep.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    cell.source = cell.source.replace("n = 3", f"n = {n_default}")
    path = tmp_path / f"tiny_{n_default}.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_changed_notebook_default_changes_the_id(tmp_path):
    ids = {}
    for n in (3, 4):
        spec = specs.parse_spec({"name": "t", "notebook": str(_tiny_copy(tmp_path, n)), "grid": {"x": [1.0]}})
        (config,) = specs.configurations(spec)
        assert config.params["n"] == n and config.given == {"x": 1.0}
        ids[n] = config.id
    assert ids[3] != ids[4]


def test_a_folder_of_another_resolution_is_refused(tmp_path, capsys):
    spec = specs.parse_spec({"name": "t", "notebook": str(_tiny_copy(tmp_path, 3)), "grid": {"x": [1.0]}})
    sweep_dir = tmp_path / "runs" / "t"
    (sweep_dir / "0123456789ab").mkdir(parents=True)  # a run of an older version: no sweep.json
    with pytest.raises(specs.SpecError, match=r"^runs_dir: .*holds 1 run\(s\) without a readable sweep.json"):
        check_resolution(sweep_dir, str(spec.notebook), spec.defaults)
    (sweep_dir / SWEEP_FILE).write_text(json.dumps({"resolution": 2, "defaults": {**spec.defaults, "n": 4}}))
    with pytest.raises(specs.SpecError, match=r"resolved against other notebook defaults \(n: 4 there, 3 now"):
        check_resolution(sweep_dir, str(spec.notebook), spec.defaults)
    (sweep_dir / SWEEP_FILE).write_text(json.dumps({"resolution": 2, "defaults": spec.defaults}))
    check_resolution(sweep_dir, str(spec.notebook), spec.defaults)  # the same resolution: accepted


def test_train_config_is_the_one_mapping_and_refuses_partial_input():
    params = {**_defaults("04_combined_loss"), "constants": {"c1": 2.0, "k6": 0.5}, "a3": 0.25}
    cfg = train_config(params)
    flat = cfg.params
    assert (flat["c1"], flat["k6"], flat["c2"], flat["a3"], flat["n_train"]) == (2.0, 0.5, 1.0, 0.25, params["n_train"])
    assert set(NOTEBOOK_PARAMETERS) == set(ch4_loss.PARAMETERS.names)
    with pytest.raises(ValueError, match=r"missing notebook-04 parameter\(s\) \['n_train'\]"):
        train_config({k: v for k, v in params.items() if k != "n_train"})
    with pytest.raises(ValueError, match=r"unknown notebook-04 parameter 'theta1'; allowed: \['device'"):
        train_config({**params, "theta1": 1.0})
    with pytest.raises(ValueError, match=r"constants: unknown key 'k9'; allowed keys: \['c1'"):
        train_config({**params, "constants": {"k9": 1.0}})
    assert isinstance(cfg, TrainConfig)


def test_batched_and_papermill_give_one_experiment_per_id(tmp_path):
    """The same small rk4 configuration under both executors: one id, one folder name, equal results."""
    base = {"solver": "rk4", "epochs": 3, "n_train": 4, "n_test": 4, "n_extrap": 4, "a1": 0.5, "a2": 0.0,
            "a3": 0.1, "a4": 0.0, "a5": 0.0, "a6": 0.0}
    spec = _spec_file(tmp_path, "04_combined_loss", {"seed": [1]}, base=base)
    for flag, runs in (("--batched", "b"), ("--workers", "p")):
        argv = ["sweep", str(spec), "--runs-dir", str(tmp_path / runs), "--no-progress"]
        assert main(argv + ([flag] if flag == "--batched" else [flag, "1"])) == 0
    (batched,) = (tmp_path / "b" / "bad").glob(f"*/{RESULT_FILE}")
    (papermill,) = (tmp_path / "p" / "bad").glob(f"*/{RESULT_FILE}")
    assert batched.parent.name == papermill.parent.name
    a, b = json.loads(batched.read_text()), json.loads(papermill.read_text())
    for key in ("train_mse", "test_mse", "extrap_mse", "param_error"):
        assert a[key] == pytest.approx(b[key], rel=1e-12, abs=1e-300)
    assert a["theta"] == pytest.approx(b["theta"], rel=1e-12)
    assert a["history"]["total"] == pytest.approx(b["history"]["total"], rel=1e-12)
    stored = json.loads((batched.parent / "params.json").read_text())["parameters"]
    assert stored["n_train"] == 4 and stored["noise"] == _defaults("04_combined_loss")["noise"]  # resolved


# ------------------------------------------------------------------------------------------- the schema type
def test_schema_refuses_unknown_and_missing_names_and_checks_rules():
    schema = ParameterSchema((Param.integer("N", low=1), Param.sequence("z", Param.real("zi"))),
                             rules=(Rule("z", lambda v: len(v["z"]) == v["N"], "N numbers"),))
    assert schema.validate({"N": 2, "z": [1, 2.5]}) == {"N": 2, "z": (1.0, 2.5)}
    with pytest.raises(ParameterError, match=r"parameter M = 1 .*unknown parameter.*one of the parameters \['N', "):
        schema.validate({"M": 1})
    with pytest.raises(ParameterError, match=r"parameter z = None .*missing"):
        schema.validate({"N": 1})
    with pytest.raises(ParameterError, match=r"parameter z = \(1\.0,\) is not allowed; allowed: N numbers"):
        schema.validate({"N": 2, "z": [1]})
    with pytest.raises(ParameterError, match=r"parameter N = True .*a bool"):
        schema.validate({"N": True, "z": [1]})
    with pytest.raises(ValueError, match=r"Param kind 'complex' is unknown; allowed: \['real'"):
        Param("x", "complex")


def test_batched_executor_writes_what_train_gives_and_resumes(tmp_path):
    """Replaces tests/test_batched.py's sweep tests: resolved from notebook 04's defaults, not TrainConfig's."""
    from symnb.runs import sweep as sw
    from symnb.train import train

    base = {"solver": "rk4", "epochs": 2, "n_test": 4, "n_extrap": 4, "a1": 0.0, "a3": 0.0, "a4": 0.0,
            "a5": 0.0, "a6": 0.0}
    spec = specs.load_spec(_spec_file(tmp_path, "04_combined_loss", {"a2": [0.1, 1.0], "seed": [0, 1]}, base=base))
    result = sw.run_sweep(spec, tmp_path / "runs", executor="batched", progress=False)
    assert len(result.ids("done")) == 4
    for c in specs.configurations(spec):
        assert c.params["n_train"] == _defaults("04_combined_loss")["n_train"]  # the notebook's 16, not 32
        stored = json.loads((tmp_path / "runs" / "bad" / c.id / RESULT_FILE).read_text())
        want = train(train_config({**c.params, "output": ""}), progress=False)
        assert stored["theta"] == pytest.approx(list(want.theta), rel=1e-10)
        assert stored["test_mse"] == pytest.approx(want.test_mse, rel=1e-10)
    again = sw.run_sweep(spec, tmp_path / "runs", executor="batched", progress=False)
    assert len(again.ids("skipped")) == 4
