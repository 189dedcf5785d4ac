"""Run a sweep: validate everything, then execute every configuration that has no result yet.

`run_sweep` is the order of operations that makes ``symnb sweep`` refuse before it writes: the spec and every
resolved configuration were validated by `symnb.runs.spec.parse_spec`; the executor's preflight
(`symnb.runs.executors`) refuses what only it can know (a Dask scheduler that does not answer, a configuration
the batched trainer cannot take); the folder's resolution is checked (`symnb.runs.folders.check_resolution`);
only then is ``<runs_dir>/<sweep>/`` created and the configurations run, each written through the one run-folder
protocol (`symnb.runs.folders.write_run`).

This module also re-exports the names of the former single-file ``symnb.runs.sweep``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .executors import EXECUTORS, make_executor, run_config
from .folders import (ERROR_FILE, LOG_FILE, NOTEBOOK_FILE, PARAMS_FILE, RESULT_FILE, SWEEP_FILE, ConfigOutcome,
                      check_resolution, clean_stale, is_done, write_sweep_record)
from .spec import (SPEC_KEYS, Config, NotebookParameter, SpecError, SweepSpec, config_id, configurations,
                   load_spec, notebook_parameters, notebook_validator, parse_spec, resolve)

__all__ = ["SweepResult", "run_sweep", "SpecError", "NotebookParameter", "Config", "SweepSpec", "ConfigOutcome",
           "notebook_parameters", "notebook_validator", "load_spec", "parse_spec", "config_id", "configurations",
           "resolve", "run_config", "EXECUTORS", "SPEC_KEYS", "RESULT_FILE", "ERROR_FILE", "PARAMS_FILE",
           "NOTEBOOK_FILE", "LOG_FILE", "SWEEP_FILE"]


@dataclass(frozen=True)
class SweepResult:
    """All outcomes of one `run_sweep` call, in configuration order."""

    name: str
    sweep_dir: str
    outcomes: tuple[ConfigOutcome, ...]

    def ids(self, status: str) -> list[str]:
        """Ids of the configurations with ``status`` (``done``, ``skipped`` or ``failed``)."""
        return [o.id for o in self.outcomes if o.status == status]


def run_sweep(spec: SweepSpec, runs_dir: str | Path = "runs", *, executor: str = "local", workers: int = 1,
              scheduler: str | None = None, progress: bool = True) -> SweepResult:
    """Run every configuration of ``spec`` that has no result yet.

    Args:
        spec: a validated spec (`load_spec` / `parse_spec`).
        runs_dir: root folder; this sweep writes ``<runs_dir>/<spec.name>/<id>/``.
        executor: a key of `EXECUTORS`: ``"local"`` (papermill subprocesses on ``workers`` slots, one GPU each
            when GPUs exist), ``"dask"`` (``scheduler`` address of a running cluster; a `LocalCluster` of
            ``workers`` processes when ``scheduler`` is None; workers must see ``runs_dir``) or ``"batched"``
            (notebook 04's configurations trained in vectorized batches in this process, fixed-step solver).
        workers: concurrent configurations (local slots, or LocalCluster processes).
        scheduler: Dask scheduler address, e.g. ``tcp://10.0.0.1:8786``; implies ``executor="dask"``.
        progress: show a progress bar over configurations.

    Returns:
        A `SweepResult` with one `ConfigOutcome` per configuration (``skipped`` where a result existed).

    Raises:
        ValueError: for an unknown executor or ``workers < 1``.
        SpecError: if the executor's preflight refuses a configuration or cannot reach its scheduler, or the
            sweep folder holds runs of another resolution -- all before anything is written.
        RuntimeError: for the Dask executor without dask installed.
    """
    if scheduler is not None:
        executor = "dask"
    runner = make_executor(executor, workers=workers, scheduler=scheduler)
    configs = configurations(spec)
    sweep_dir = Path(runs_dir).resolve() / spec.name
    try:
        check_resolution(sweep_dir, str(spec.notebook), spec.defaults)
        runner.preflight(spec, configs)
        from tqdm.auto import tqdm

        sweep_dir.mkdir(parents=True, exist_ok=True)
        clean_stale(sweep_dir)
        write_sweep_record(sweep_dir, {
            "name": spec.name, "notebook": str(spec.notebook), "base": dict(spec.base),
            "grids": [{k: list(v) for k, v in g.items()} for g in spec.grids],
            "configs": [dict(c) for c in spec.configs], "ids": [c.id for c in configs]}, spec.defaults)
        outcomes = {c.id: ConfigOutcome(c.id, "skipped", str(sweep_dir / c.id))
                    for c in configs if is_done(sweep_dir, c.id)}
        todo = [c for c in configs if c.id not in outcomes]
        bar = tqdm(total=len(configs), initial=len(outcomes), desc=spec.name, unit="config", disable=not progress)

        def on_done(outcome: ConfigOutcome) -> None:
            outcomes[outcome.id] = outcome
            bar.update(1)
            bar.set_postfix(failed=sum(o.status == "failed" for o in outcomes.values()), refresh=False)

        try:
            if todo:
                runner.run(spec, sweep_dir, todo, on_done)
        finally:
            bar.close()
    finally:
        runner.close()
    return SweepResult(spec.name, str(sweep_dir), tuple(outcomes[c.id] for c in configs))
