"""symnb sweep / report: specs, stable ids, resumable atomic runs, failures, executors, the results table.

Papermill runs are the slow part (a kernel start each): the module runs about 9 notebook executions in all,
through three shared sweeps (end to end, kill-and-resume, Dask).
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from symnb.runs import executors as ex
from symnb.runs import folders
from symnb.runs import sweep as sw
from symnb.__main__ import main
from symnb.runs.report import collect, read_csv, report, summarize, varied_parameters, write_csv

DATA = Path(__file__).parent / "data"
NOTEBOOK = DATA / "tiny_sweep.ipynb"


def _spec(**over) -> dict:
    spec = {"name": "t", "notebook": str(NOTEBOOK), "base": {"n": 2}, "grid": {"x": [1, 2.5], "seed": [0]}}
    spec.update(over)
    return spec


def _write_spec(path: Path, **over) -> Path:
    path.write_text(yaml.safe_dump(_spec(**over)))
    return path


DEFAULTS = {"x": 1.0, "n": 3, "seed": 0, "label": "a"}  # tiny_sweep.ipynb's parameters cell, output excluded


def _results(sweep_dir: Path) -> dict[str, dict]:
    return {p.name: json.loads((p / sw.RESULT_FILE).read_text())
            for p in sweep_dir.iterdir() if p.name[0] != "." and (p / sw.RESULT_FILE).is_file()}


# ----------------------------------------------------------------------------------------------- spec layer
def test_notebook_parameters_read_from_parameters_cell():
    params = sw.notebook_parameters(NOTEBOOK)
    assert list(params) == ["x", "n", "seed", "label", "output_path"]
    assert (params["x"].types, params["n"].types, params["label"].types) == (("float",), ("int",), ("str",))
    assert params["x"].default == 1.0


def test_config_id_is_a_hash_of_canonical_parameters():
    expected = hashlib.sha256(b'{"n":2,"seed":0,"x":1.0}').hexdigest()[:12]
    assert sw.config_id({"x": 1.0, "seed": 0, "n": 2}) == expected
    assert sw.config_id({"n": 2, "seed": 0, "x": 1.0}) == expected


def test_a_list_of_grids_is_the_union_of_their_products():
    spec = sw.parse_spec(_spec(grid=[{"x": [1, 2], "seed": [0, 1]}, {"n": [5, 6, 7]}]))
    got = [dict(c.given) for c in sw.configurations(spec)]
    want = [{"n": 2, "x": float(x), "seed": s} for x in (1, 2) for s in (0, 1)] + [{"n": n} for n in (5, 6, 7)]
    assert got == want
    # each configuration is resolved against the notebook's defaults
    assert [dict(c.params) for c in sw.configurations(spec)] == [{**DEFAULTS, **w} for w in want]


def test_configurations_are_grid_product_plus_list_without_duplicates():
    spec = sw.parse_spec(_spec(grid={"x": [1, 2], "seed": [0, 1, 2]},
                               configs=[{"x": 5.0}, {"x": 1.0, "seed": 0}]))  # the second repeats a grid point
    configs = sw.configurations(spec)
    assert len(configs) == 2 * 3 + 1
    assert len({c.id for c in configs}) == len(configs)
    # the int 1 from YAML was widened to the notebook's float, so it hashes like the explicit 1.0
    assert {"n": 2, "x": 1.0, "seed": 0} in [dict(c.given) for c in configs]
    assert configs[-1].params == {**DEFAULTS, "n": 2, "x": 5.0}
    assert configs[-1].id == sw.config_id({**DEFAULTS, "n": 2, "x": 5.0})


@pytest.mark.parametrize("over, key, message", [
    ({"notebook": "missing.ipynb"}, "notebook", "not found"),
    ({"grid": {"xx": [1]}}, "grid.xx", "unknown parameter 'xx'.*known: \\['label'"),
    ({"base": {"bogus": 1}}, "base.bogus", "unknown parameter 'bogus'"),
    ({"configs": [{"x": 1.0}, {"typo": 2}]}, "configs\\[1\\].typo", "unknown parameter"),
    ({"grid": {"x": []}}, "grid.x", "empty list"),
    ({"grid": {"x": 3}}, "grid.x", "expected a list"),
    ({"grid": [{"x": [1.0]}, {"n": [1, "2"]}]}, "grid\\[1\\].n", "expected int"),
    ({"grid": [{"x": [1.0]}, 5]}, "grid\\[1\\]", "expected a mapping"),
    ({"grid": {}}, "grid", "no configurations"),
    ({"base": {"n": "three"}}, "base.n", "expected int .*got str 'three'"),
    ({"grid": {"x": [1.0, "1e-3x"]}}, "grid.x", "expected float"),
    ({"grid": {"n": [True]}}, "grid.n", "expected int .*got bool"),
    ({"base": {"output_path": "r.json"}}, "base.output_path", "the sweep sets it"),
    ({"output_parameter": "nope"}, "output_parameter", "not a parameter"),
    ({"kernel": "nokernel"}, "kernel", "unknown kernel 'nokernel'"),
    ({"timeout": -1}, "timeout", "positive number"),
    ({"grids": {}}, "grids", "unknown spec key 'grids'"),
    ({"name": "a b"}, "name", "not a valid sweep name"),
])
def test_bad_spec_is_refused_naming_the_key(over, key, message):
    with pytest.raises(sw.SpecError, match=f"^{key}: .*{message}") as info:
        sw.parse_spec(_spec(**over))
    assert info.value.key == key.replace("\\", "")


def test_yaml_exponent_without_dot_is_a_float(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(f"name: t\nnotebook: {NOTEBOOK}\ngrid: {{x: [1e-3, 2E+1]}}\n")  # YAML 1.1 reads 1e-3 as str
    assert sw.load_spec(path).grids[0]["x"] == (1e-3, 20.0)


def test_cli_bad_spec_exits_2_with_one_line_naming_the_key(tmp_path, capsys):
    code = main(["sweep", str(_write_spec(tmp_path / "s.yaml", grid={"sigma": [1.0]})), "--runs-dir",
                 str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "bad spec: grid.sigma: unknown parameter 'sigma'" in err
    assert not (tmp_path / "runs").exists()  # refused before anything ran


def test_missing_spec_file_is_refused(tmp_path):
    with pytest.raises(sw.SpecError, match="^spec: spec file .*nothere.yaml' not found"):
        sw.load_spec(tmp_path / "nothere.yaml")


def test_run_sweep_refuses_bad_executor_and_workers():
    spec = sw.parse_spec(_spec())
    with pytest.raises(ValueError, match="unknown executor 'slurm'; allowed: \\['local', 'dask', 'batched'\\]"):
        sw.run_sweep(spec, executor="slurm")
    with pytest.raises(ValueError, match="workers must be a positive integer, got 0"):
        sw.run_sweep(spec, workers=0)


def test_local_workers_each_get_their_own_gpu(monkeypatch):
    """Slot k sees GPU k: no two concurrently running configurations share CUDA_VISIBLE_DEVICES."""
    running, seen, lock = set(), [], threading.Lock()

    def fake_run(job, env):
        gpu = env["CUDA_VISIBLE_DEVICES"]
        with lock:
            assert gpu not in running
            running.add(gpu)
            seen.append(gpu)
        time.sleep(0.02)
        with lock:
            running.remove(gpu)
        return sw.ConfigOutcome(job.config_id, "done", "")

    monkeypatch.setattr(ex, "run_config", fake_run)
    monkeypatch.setattr(ex, "_visible_gpus", lambda: ["3", "5"])
    monkeypatch.setattr(ex, "_jobs", lambda spec, sweep_dir, configs: configs)
    jobs = [ex._Job("t", "/nonexistent", f"id{i}", {}) for i in range(8)]
    out = []
    ex.LocalExecutor(workers=2).run(None, Path("/nonexistent"), jobs, out.append)
    assert len(out) == 8
    assert set(seen) == {"3", "5"}


def test_visible_gpus_follow_cuda_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,7")
    assert ex._visible_gpus() == ["2", "7"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert ex._visible_gpus() == []


# ------------------------------------------------------------------------------------- sweeps (papermill)
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The example spec (2 good configurations + 1 failing) through the CLI with 2 local workers."""
    runs = tmp_path_factory.mktemp("runs")
    code = main(["sweep", str(DATA / "tiny_sweep.yaml"), "--runs-dir", str(runs), "--workers", "2",
                 "--no-progress"])
    return code, runs / "tiny"


def test_tiny_sweep_end_to_end(tiny_run):
    code, sweep_dir = tiny_run
    assert code == 1  # one configuration failed; the others ran
    results = _results(sweep_dir)
    assert len(results) == 2
    for cid, res in results.items():
        params = json.loads((sweep_dir / cid / sw.PARAMS_FILE).read_text())["parameters"]
        assert sw.config_id(params) == cid
        assert res["value"] == params["x"] * params["n"] + params["seed"]  # what the notebook computes
        assert (sweep_dir / cid / sw.NOTEBOOK_FILE).is_file()
    assert sorted(r["x"] for r in results.values()) == [1.0, 2.5]
    assert not [p for p in sweep_dir.iterdir() if p.name.startswith(".")]


def test_failing_configuration_is_recorded_with_its_error(tiny_run):
    _, sweep_dir = tiny_run
    failed = sw.config_id({**DEFAULTS, "n": 2, "x": -1.0, "seed": 1})
    assert not (sweep_dir / failed / sw.RESULT_FILE).exists()
    error = json.loads((sweep_dir / failed / sw.ERROR_FILE).read_text())
    assert error["error"] == "ValueError: x must be non-negative, got -1.0"
    assert error["parameters"] == {**DEFAULTS, "n": 2, "x": -1.0, "seed": 1}


def test_rerun_skips_finished_and_retries_failed(tiny_run):
    _, sweep_dir = tiny_run
    stamps = {cid: (sweep_dir / cid / sw.RESULT_FILE).stat().st_mtime_ns for cid in _results(sweep_dir)}
    spec = sw.load_spec(DATA / "tiny_sweep.yaml")
    result = sw.run_sweep(spec, sweep_dir.parent, progress=False)
    assert sorted(result.ids("skipped")) == sorted(stamps)
    assert len(result.ids("failed")) == 1  # a failure has no result, so it is tried again
    assert {cid: (sweep_dir / cid / sw.RESULT_FILE).stat().st_mtime_ns for cid in stamps} == stamps


def test_report_table_and_figures(tiny_run):
    _, sweep_dir = tiny_run
    rep = report(sweep_dir)
    table = read_csv(rep.csv, params=["n", "seed", "x", "label"])
    assert len(table.rows) == 3
    assert table.metrics == ("value",)  # the result's label echoes the (resolved) parameter: dropped
    assert sorted(r["status"] for r in table.rows) == ["done", "done", "failed"]
    assert varied_parameters(table) == ["x"]
    assert [Path(f).name for f in rep.figures] == ["value.png"]
    (bad,) = [r for r in table.rows if r["status"] == "failed"]
    assert bad["error"] == "ValueError: x must be non-negative, got -1.0" and bad["value"] is None


def test_killed_sweep_resumes_without_redoing_or_leaving_partials(tmp_path):
    spec_path = _write_spec(tmp_path / "k.yaml", name="k", grid={"x": [0.5, 3.0]})
    runs = tmp_path / "runs"
    sweep_dir = runs / "k"
    env = {**os.environ, "TQDM_DISABLE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "symnb", "sweep", str(spec_path), "--runs-dir", str(runs),
                             "--workers", "1", "--no-progress"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (sweep_dir.is_dir() and _results(sweep_dir)) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its papermill child, mid-way
        proc.wait()
    first = _results(sweep_dir)
    assert len(first) == 1
    # nothing half-written is visible: every configuration folder holds a complete result
    assert all((p / sw.RESULT_FILE).is_file() for p in sweep_dir.iterdir() if p.is_dir() and p.name[0] != ".")
    stamps = {cid: (sweep_dir / cid / sw.RESULT_FILE).stat().st_ino for cid in first}
    mtimes = {cid: (sweep_dir / cid / sw.RESULT_FILE).stat().st_mtime_ns for cid in first}
    time.sleep(1.5)  # the orphaned kernel notices its parent is gone and exits

    result = sw.run_sweep(sw.load_spec(spec_path), runs, progress=False)
    assert sorted(result.ids("skipped")) == sorted(first)
    assert len(result.ids("done")) == 1 and not result.ids("failed")
    assert {cid: (sweep_dir / cid / sw.RESULT_FILE).stat().st_ino for cid in first} == stamps
    assert {cid: (sweep_dir / cid / sw.RESULT_FILE).stat().st_mtime_ns for cid in first} == mtimes
    assert sorted(r["value"] for r in _results(sweep_dir).values()) == [1.0, 6.0]
    assert sorted(p.name for p in sweep_dir.iterdir() if p.name.startswith(".")) == []


def test_dask_local_cluster_matches_local_executor(tiny_run, tmp_path):
    """Through a scheduler address, as with a dask-jobqueue cluster (threads: no worker start-up cost)."""
    distributed = pytest.importorskip("dask.distributed")
    _, local_dir = tiny_run
    spec = sw.parse_spec({**yaml.safe_load((DATA / "tiny_sweep.yaml").read_text()), "configs": []},
                         base_dir=DATA)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        result = sw.run_sweep(spec, tmp_path, scheduler=cluster.scheduler_address, progress=False)
    assert len(result.ids("done")) == 2
    local = _results(local_dir)
    assert _results(tmp_path / "tiny") == {cid: local[cid] for cid in result.ids("done")}


# -------------------------------------------------------------------------------------------- report layer
def test_summarize_matches_statistics_module(tmp_path):
    rows = [{"id": str(i), "status": "done", "a": a, "seed": s, "loss": 0.1 * a + 0.01 * s * s}
            for i, (a, s) in enumerate([(a, s) for a in (0.0, 1.0) for s in range(3)])]
    rows.append({"id": "x", "status": "failed", "a": 1.0, "seed": 3, "error": "boom"})
    rows.append({"id": "y", "status": "done", "a": 1.0, "seed": 4, "loss": float("nan")})
    table = write_csv(_table(rows), tmp_path / "r.csv")
    table = read_csv(table, params=["a", "seed"])
    stats = summarize(table, "a", "loss")
    assert [s.key for s in stats] == [(0.0,), (1.0,)]
    for s in stats:
        vals = [0.1 * s.key[0] + 0.01 * k * k for k in range(3)]
        assert s.mean == pytest.approx(statistics.mean(vals), rel=1e-12)
        assert s.std == pytest.approx(statistics.stdev(vals), rel=1e-12)
        assert (s.min, s.max) == (pytest.approx(min(vals)), pytest.approx(max(vals)))
    assert (stats[1].n, stats[1].n_finite) == (5, 3)  # the failed and the nan run count as non-finite


def _table(rows):
    from symnb.runs.report import ResultTable
    return ResultTable(("a", "seed"), ("loss",), tuple(rows))


def test_table_errors_name_the_valid_columns(tmp_path):
    table = _table([{"id": "1", "status": "done", "a": 1.0, "seed": 0, "loss": 1.0}])
    with pytest.raises(KeyError, match="unknown column 'lss'; columns: \\['id', 'status', 'a', 'seed', 'loss'"):
        summarize(table, "a", "lss")
    path = write_csv(table, tmp_path / "r.csv")
    with pytest.raises(ValueError, match="parameter column\\(s\\) \\['b'\\] not in"):
        read_csv(path, params=["b"])
    with pytest.raises(FileNotFoundError, match="no sweep directory"):
        collect(tmp_path / "nope")


def _ablation(scale) -> "ResultTable":
    """Synthetic one-at-a-time table: metric = base(seed) * scale(factor, level) in every (noise, n) group."""
    from symnb.chapters.ch5_ablation import ABLATION_FACTORS
    from symnb.runs.report import ResultTable
    rows = []
    for noise in (0.0, 0.2):
        for n in (8, 64):
            for seed in (0, 1, 2):
                base = (1 + seed) * (1 + noise) / n
                settings = [(None, 0.0)] + [(f, lv) for f in ABLATION_FACTORS for lv in (0.1, 1.0)]
                for f, lv in settings:
                    row = {a: 0.0 for a in ABLATION_FACTORS}
                    if f:
                        row[f] = lv
                    rows.append({"id": f"{noise}{n}{seed}{f}{lv}", "status": "done", **row, "noise": noise,
                                 "n_train": n, "seed": seed, "result.status": "ok",
                                 "test_mse": base * (scale(f, lv) if f else 1.0)})
    return ResultTable((*ABLATION_FACTORS, "noise", "n_train", "seed"), ("result.status", "test_mse"), tuple(rows))


def test_one_at_a_time_pairs_runs_with_their_same_seed_baseline():
    from symnb.chapters.ch5_ablation import ABLATION_FACTORS, ABLATION_GROUPS, one_at_a_time
    effects = one_at_a_time(_ablation(lambda f, lv: 1 + lv * (ABLATION_FACTORS.index(f) + 1)), ABLATION_FACTORS,
                            "test_mse", ABLATION_GROUPS)
    assert len(effects) == 6 * 2 * 4
    for e in effects:
        want = 1 + e.level * (ABLATION_FACTORS.index(e.factor) + 1)
        assert e.paired == pytest.approx([want] * 3, rel=1e-12)
        assert e.ratio == pytest.approx(want, rel=1e-12)
    with pytest.raises(ValueError, match="no baseline rows .*for \\{'noise': 0.0, 'n_train': 8\\}"):
        one_at_a_time(_ablation(lambda f, lv: 1.0).where(a1=0.1), ("a1",), "test_mse", ABLATION_GROUPS)


@pytest.mark.parametrize("scale, accuracy", [
    (lambda f, lv: 0.5, "holds"),                                 # every term, every weight, every seed: better
    # a claim made for tuned weights is not refuted by a grid that does not help: "not supported here", not "wrong"
    (lambda f, lv: 3.0, "not supported here"),                    # nothing helps
    (lambda f, lv: 0.5 if f == "a1" and lv == 1.0 else 2.0, "not supported here"),  # one helps, eleven hurt
    (lambda f, lv: 0.5 if f == "a1" else 1.0, "holds with a caveat"),  # some help, none hurt
])
def test_ablation_accuracy_verdict_follows_the_data(scale, accuracy):
    from symnb.chapters.ch5_ablation import ablation_verdicts
    acc, rob, stab = ablation_verdicts(_ablation(scale))
    assert acc.verdict == accuracy
    assert rob.verdict == accuracy  # the same pattern in every group, the hardest included
    # nothing diverged in either arm: no stabilising effect can be shown, and none is refuted
    assert stab.verdict == "not supported here" and "no run diverged in either arm" in stab.finding
    assert "3 seeds" in acc.finding and "noise 0, 0.2;" in acc.finding  # the settings are on the row


@pytest.mark.parametrize("diverged_arm, stability", [("regularized", "wrong"), ("plain", "holds")])
def test_ablation_stability_verdict_follows_divergences(diverged_arm, stability):
    from symnb.chapters.ch5_ablation import ablation_verdicts
    from symnb.runs.report import ResultTable
    table = _ablation(lambda f, lv: 1.0)
    rows = tuple({**r, "result.status": "diverged"} if (r["a1"] > 0) == (diverged_arm == "regularized")
                 and r["seed"] == 0 and (r["a1"] > 0 or not any(r[a] for a in ("a2", "a3", "a4", "a5", "a6")))
                 else r for r in table.rows)
    stab = ablation_verdicts(ResultTable(table.params, table.metrics, rows))[2]
    assert stab.verdict == stability


# ------------------------------------------------------------------------------------ the run-folder protocol
def test_write_run_keeps_the_result_another_runner_finished_meanwhile(tmp_path):
    def fill(tmp):
        (tmp_path / "abc").mkdir()  # another runner renamed its finished folder into place meanwhile
        (tmp_path / "abc" / sw.RESULT_FILE).write_text('{"v": 1}')
        (tmp / sw.RESULT_FILE).write_text('{"v": 2}')
        return None, 0.0

    out = folders.write_run(tmp_path, "abc", {"id": "abc", "parameters": {}}, fill)
    assert out.status == "skipped"
    assert json.loads((tmp_path / "abc" / sw.RESULT_FILE).read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["abc"]  # no partial folder left


def test_write_run_records_a_failure_without_a_result_and_replaces_it_later(tmp_path):
    def failing(tmp):
        (tmp / sw.RESULT_FILE).write_text("{}")  # half-written: must not mark the configuration done
        return "boom", 1.5

    out = folders.write_run(tmp_path, "c1", {"id": "c1", "parameters": {"x": 1}}, failing)
    assert (out.status, out.error) == ("failed", "boom")
    assert not folders.is_done(tmp_path, "c1")
    assert json.loads((tmp_path / "c1" / sw.ERROR_FILE).read_text())["parameters"] == {"x": 1}
    ok = folders.write_run(tmp_path, "c1", {"id": "c1", "parameters": {"x": 1}},
                           lambda tmp: ((tmp / sw.RESULT_FILE).write_text("{}"), (None, 0.0))[1])
    assert ok.status == "done" and folders.is_done(tmp_path, "c1")
    assert not (tmp_path / "c1" / sw.ERROR_FILE).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c1"]


def test_executor_registry_lists_the_valid_names():
    assert sorted(ex.EXECUTORS) == ["batched", "dask", "local"]
    with pytest.raises(ValueError, match=r"unknown executor 'slurm'; allowed: \['local', 'dask', 'batched'\]"):
        ex.make_executor("slurm")
