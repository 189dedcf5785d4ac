"""Sweep executors, a registry: ``EXECUTORS = {"local", "dask", "batched"}``.

Every executor has the same two steps, called by `symnb.runs.sweep.run_sweep`:

* ``preflight(spec, configs)``: everything that can be refused is refused here, before a folder is created or a
  kernel started (the batched executor maps every configuration onto a `TrainConfig` and needs a fixed-step
  solver; the Dask executor connects to its scheduler, failing in a few seconds with one line);
* ``run(spec, sweep_dir, configs, on_done)``: runs the configurations, each written through
  `symnb.runs.folders.write_run` (the one run-folder protocol), calling ``on_done`` with each `ConfigOutcome`.

A new executor is a class with these two methods (and ``close()``), added to `EXECUTORS`.
"""
from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..core.io import atomic_write_json
from ..train import FIXED_STEP_SOLVERS, plan_batches, train_batched, write_result
from ..train.params import train_config
from .folders import LOG_FILE, NOTEBOOK_FILE, RESULT_FILE, ConfigOutcome, write_run
from .spec import Config, SpecError, SweepSpec

__all__ = ["EXECUTORS", "LocalExecutor", "DaskExecutor", "BatchedExecutor", "make_executor", "run_config"]

_CONNECT_TIMEOUT_S = 5  # an unreachable Dask scheduler is reported after this long


# ------------------------------------------------------------------------------------------ one papermill run
@dataclass(frozen=True)
class _Job:
    """Everything one configuration run needs; plain data so Dask can ship it to a worker."""

    sweep: str
    sweep_dir: str
    config_id: str
    params: Mapping[str, object] = field(hash=False)
    notebook: str = ""
    kernel: str = "python3"
    output_parameter: str | None = "output_path"
    timeout: float | None = None
    given: Mapping[str, object] = field(hash=False, default_factory=dict)


def _jobs(spec: SweepSpec, sweep_dir: Path, configs: Sequence[Config]) -> list[_Job]:
    return [_Job(spec.name, str(sweep_dir), c.id, c.params, str(spec.notebook), spec.kernel, spec.output_parameter,
                 spec.timeout, c.given) for c in configs]


def _error_text(log: str, returncode: int | None) -> str:
    """The useful part of a papermill failure: the notebook's exception line if present, else the log tail."""
    lines = [ln for ln in log.strip().splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        if "Exception encountered at" in line or line.startswith("papermill.exceptions"):
            tail = [ln for ln in lines[i:] if re.match(r"^\w*(Error|Exception)\b.*:", ln)]
            if tail:
                return tail[-1]
    return " | ".join(lines[-3:]) if lines else f"papermill exited with code {returncode}"


def run_config(job: _Job, env: Mapping[str, str] | None = None) -> ConfigOutcome:
    """Execute one configuration with papermill in a subprocess, through `symnb.runs.folders.write_run`.

    The notebook runs with its private partial directory as working directory and receives the fully resolved
    parameters plus ``output_parameter = "result.json"``; a result that is missing or not JSON is a failure.

    Args:
        job: the configuration.
        env: environment for the papermill subprocess (default: this process's).

    Returns:
        A `ConfigOutcome`; never raises for a failing notebook (the error is in ``error.json``).
    """
    record = {"id": job.config_id, "sweep": job.sweep, "notebook": job.notebook, "executor": "papermill",
              "parameters": dict(job.params), "given": dict(job.given)}

    def fill(tmp: Path) -> tuple[str | None, float]:
        start = time.monotonic()
        params = dict(job.params)
        if job.output_parameter is not None:
            params[job.output_parameter] = RESULT_FILE
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
        if error is None and job.output_parameter is None:  # the notebook writes no result: it ran, that is all
            atomic_write_json(tmp / RESULT_FILE, {"status": "executed"})
        if error is None:
            try:
                json.loads((tmp / RESULT_FILE).read_text())
            except FileNotFoundError:
                error = f"the notebook finished but wrote no result to {job.output_parameter}"
            except ValueError as exc:
                error = f"the notebook's result is not valid JSON: {exc}"
        return error, time.monotonic() - start

    return write_run(job.sweep_dir, job.config_id, record, fill)


# ----------------------------------------------------------------------------------------------- executors
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


class LocalExecutor:
    """Papermill subprocesses on ``workers`` local slots; slot k sees only GPU k (when GPUs exist)."""

    def __init__(self, workers: int = 1, scheduler: str | None = None):
        self.workers = workers

    def preflight(self, spec: SweepSpec, configs: Sequence[Config]) -> None:
        """Nothing beyond the spec's own validation (done by `symnb.runs.spec.parse_spec`)."""

    def run(self, spec: SweepSpec, sweep_dir: Path, configs: Sequence[Config],
            on_done: Callable[[ConfigOutcome], None]) -> None:
        """Run the configurations, at most ``workers`` at once."""
        jobs = _jobs(spec, sweep_dir, configs)
        workers = min(self.workers, len(jobs))
        gpus = _visible_gpus()
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

    def close(self) -> None:
        """Nothing to release."""


class DaskExecutor:
    """Papermill runs as Dask tasks: on the scheduler at ``scheduler`` (e.g. a dask-jobqueue SLURM cluster), or
    on a `LocalCluster` of ``workers`` processes when ``scheduler`` is None.  Workers must see ``runs_dir``."""

    def __init__(self, workers: int = 1, scheduler: str | None = None):
        self.workers, self.scheduler = workers, scheduler
        self._client = self._cluster = None

    def preflight(self, spec: SweepSpec, configs: Sequence[Config]) -> None:
        """Import Dask and connect (or start the LocalCluster): an unreachable scheduler fails here, in seconds.

        Raises:
            SpecError: (key ``scheduler``) if the scheduler does not answer within a few seconds.
            RuntimeError: if dask[distributed] is not installed.
        """
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise RuntimeError("the Dask executor needs dask[distributed]; install it with "
                               "`pip install 'symnb[dask]'` or use local workers (--workers N)") from None
        if self.scheduler is None:
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            self._client = Client(self._cluster)
            return
        import logging

        quiet = logging.getLogger("distributed")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)  # distributed logs a traceback per retry; we report one line
        try:
            self._client = Client(self.scheduler, timeout=f"{_CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SpecError("scheduler", f"no Dask scheduler answered at {self.scheduler!r} within "
                                         f"{_CONNECT_TIMEOUT_S} s ({first})") from None
        finally:
            quiet.setLevel(level)

    def run(self, spec: SweepSpec, sweep_dir: Path, configs: Sequence[Config],
            on_done: Callable[[ConfigOutcome], None]) -> None:
        """Submit one task per configuration and record each as it completes (a lost worker is a failure)."""
        from dask.distributed import as_completed as dask_completed

        jobs = _jobs(spec, sweep_dir, configs)
        futures = {self._client.submit(run_config, j, key=f"symnb-{j.sweep}-{j.config_id}", pure=False): j
                   for j in jobs}
        for fut in dask_completed(list(futures)):
            job = futures[fut]
            try:
                on_done(fut.result())
            except Exception as exc:  # the worker itself failed (lost worker, import error)
                on_done(ConfigOutcome(job.config_id, "failed", str(Path(job.sweep_dir) / job.config_id),
                                      f"{type(exc).__name__}: {exc}"))

    def close(self) -> None:
        """Close the client (and the LocalCluster this executor started)."""
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()


class BatchedExecutor:
    """No notebook runs: `symnb.train.train_batched` trains whole batches of notebook-04 configurations in this
    process.  Each configuration's resolved parameters (the notebook's defaults, not `TrainConfig`'s) are mapped
    by `symnb.train.params.train_config`, the same function notebook 04 calls, so an id is one experiment under
    both executors.  A batch is written only when it has finished (an interruption loses at most that batch)."""

    def __init__(self, workers: int = 1, scheduler: str | None = None, max_batch: int | None = None):
        self.max_batch = max_batch
        self._train_configs: dict[str, object] = {}

    def preflight(self, spec: SweepSpec, configs: Sequence[Config]) -> None:
        """Map every configuration onto a `TrainConfig` (validated) with a fixed-step solver, or refuse the sweep.

        Raises:
            SpecError: naming the first configuration that cannot train in a batch, and why.
        """
        self._train_configs = {}
        for c in configs:
            shown = ", ".join(f"{k}={v!r}" for k, v in c.given.items())
            try:
                cfg = train_config({**c.params, "output": ""})
            except (ValueError, TypeError) as exc:
                raise SpecError("batched", f"configuration {c.id} ({shown}): {exc}") from None
            if cfg.model.solver not in FIXED_STEP_SOLVERS:
                raise SpecError("batched", f"configuration {c.id} ({shown}): solver {cfg.model.solver!r} is adaptive; "
                                           f"the batched executor needs a fixed-step solver, one of "
                                           f"{list(FIXED_STEP_SOLVERS)}")
            self._train_configs[c.id] = cfg

    def run(self, spec: SweepSpec, sweep_dir: Path, configs: Sequence[Config],
            on_done: Callable[[ConfigOutcome], None]) -> None:
        """Train batch by batch; write each configuration's folder (params.json + result.json)."""
        if any(c.id not in self._train_configs for c in configs):
            self.preflight(spec, configs)
        train_configs = [self._train_configs[c.id] for c in configs]
        for plan in plan_batches(train_configs, self.max_batch):
            results = train_batched([train_configs[i] for i in plan.indices])
            for i, res in zip(plan.indices, results):
                c = configs[i]
                record = {"id": c.id, "sweep": spec.name, "notebook": str(spec.notebook), "executor": "batched",
                          "parameters": dict(c.params), "given": dict(c.given)}

                def fill(tmp: Path, res=res) -> tuple[str | None, float]:
                    write_result(res, tmp / RESULT_FILE)
                    return None, res.wall_time

                on_done(write_run(sweep_dir, c.id, record, fill))

    def close(self) -> None:
        """Nothing to release."""


EXECUTORS: dict[str, type] = {"local": LocalExecutor, "dask": DaskExecutor, "batched": BatchedExecutor}


def make_executor(name: str, *, workers: int = 1, scheduler: str | None = None):
    """The executor ``name`` of `EXECUTORS`.

    Raises:
        ValueError: for an unknown name (listing the valid ones) or ``workers`` not a positive integer.
    """
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r}; allowed: {list(EXECUTORS)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    return EXECUTORS[name](workers=workers, scheduler=scheduler)
