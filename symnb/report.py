"""Collect a sweep's per-configuration results into one table (CSV), group statistics and standard figures.

A sweep directory (see `symnb.sweep`) holds one folder per configuration with ``params.json`` and either
``result.json`` or ``error.json``.  `collect` turns them into a `ResultTable`: one row per configuration with
its id, status, parameters and the scalar entries of its result (nested mappings flattened as ``a.b``).
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .sweep import ERROR_FILE, PARAMS_FILE, RESULT_FILE

__all__ = ["ResultTable", "GroupStat", "Report", "collect", "write_csv", "read_csv", "summarize",
           "varied_parameters", "plot_marginals", "report"]

_FIXED = ("id", "status")


@dataclass(frozen=True)
class ResultTable:
    """Rows of a sweep: ``params`` and ``metrics`` name the parameter and result columns."""

    params: tuple[str, ...]
    metrics: tuple[str, ...]
    rows: tuple[Mapping[str, object], ...] = field(hash=False)

    @property
    def columns(self) -> tuple[str, ...]:
        """All columns in CSV order: id, status, parameters, metrics, error."""
        return (*_FIXED, *self.params, *self.metrics, "error")

    def column(self, name: str) -> list[object]:
        """Values of one column (None where a row has none).

        Raises:
            KeyError: for an unknown column, listing the valid ones.
        """
        if name not in self.columns:
            raise KeyError(f"unknown column {name!r}; columns: {list(self.columns)}")
        return [r.get(name) for r in self.rows]

    def where(self, **equal: object) -> "ResultTable":
        """The rows whose columns equal the given values (numbers compared as floats)."""
        for name in equal:
            self.column(name)  # raises for an unknown column
        keep = tuple(r for r in self.rows if all(_same(r.get(k), v) for k, v in equal.items()))
        return ResultTable(self.params, self.metrics, keep)


@dataclass(frozen=True)
class GroupStat:
    """Statistics of one metric over the rows sharing ``key`` (values of the ``by`` columns).

    ``n`` counts rows, ``n_finite`` those with a finite value (diverged or failed runs are the rest); mean,
    std (sample, ddof=1; 0 for one value), min and max are over the finite values (nan if there are none).
    """

    key: tuple
    n: int
    n_finite: int
    mean: float
    std: float
    min: float
    max: float


@dataclass(frozen=True)
class Report:
    """Files written by `report`."""

    csv: str
    figures: tuple[str, ...]
    table: ResultTable = field(hash=False, repr=False)


def _same(a: object, b: object) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def _flatten(prefix: str, value: object, out: dict[str, object]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif value is None or isinstance(value, (bool, int, float, str)):
        out[prefix] = value
    # lists (curves, histories) do not fit a table row: the per-run result.json keeps them


def collect(sweep_dir: str | Path) -> ResultTable:
    """Read every configuration folder of a sweep into a `ResultTable`.

    Args:
        sweep_dir: ``<runs_dir>/<sweep name>``.

    Returns:
        One row per configuration folder, sorted by id; status ``done`` (has a result) or ``failed``.

    Raises:
        FileNotFoundError: if ``sweep_dir`` does not exist or holds no configuration folder.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"no sweep directory {str(sweep_dir)!r}")
    rows, params, metrics = [], {}, {}
    for run in sorted(p for p in sweep_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (run / PARAMS_FILE).is_file():
            continue
        record = json.loads((run / PARAMS_FILE).read_text())
        row: dict[str, object] = {"id": record["id"]}
        for k, v in record["parameters"].items():
            params.setdefault(k, None)
            row[k] = v
        if (run / RESULT_FILE).is_file():
            row["status"] = "done"
            flat: dict[str, object] = {}
            _flatten("", json.loads((run / RESULT_FILE).read_text()), flat)
            for k, v in flat.items():
                # a result echoing a parameter is dropped when equal, renamed when it differs
                if k in record["parameters"]:
                    if _same(v, record["parameters"][k]):
                        continue
                    k = f"result.{k}"
                metrics.setdefault(k, None)
                row[k] = v
        else:
            row["status"] = "failed"
            err = run / ERROR_FILE
            row["error"] = json.loads(err.read_text())["error"] if err.is_file() else "no result"
        rows.append(row)
    if not rows:
        raise FileNotFoundError(f"{str(sweep_dir)!r} holds no configuration folders (with {PARAMS_FILE})")
    return ResultTable(tuple(params), tuple(m for m in metrics if m not in params), tuple(rows))


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_csv(table: ResultTable, path: str | Path) -> Path:
    """Write ``table`` as CSV (atomically: a reader never sees half a file).

    Returns:
        The path written.
    """
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(table.columns), lineterminator="\n")
    writer.writeheader()
    for row in table.rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in table.columns})
    path = Path(path)
    _write_atomic(path, buf.getvalue())
    return path


def _parse(text: str) -> object:
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def read_csv(path: str | Path, params: Sequence[str] | None = None) -> ResultTable:
    """Read a CSV written by `write_csv` back into a `ResultTable` (numbers and booleans parsed).

    Args:
        path: the CSV file.
        params: which columns are parameters (CSV has no types; `varied_parameters` and `collect`'s
            parameter/metric split need them); None: every column but id/status/error is a metric.

    Raises:
        FileNotFoundError: if the file is missing.
        ValueError: if its header lacks ``id``/``status``/``error`` or names an unknown parameter column.
    """
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        rows = tuple({k: _parse(v) for k, v in r.items()} for r in reader)
    for col in (*_FIXED, "error"):
        if col not in header:
            raise ValueError(f"{str(path)!r} is not a sweep table: column {col!r} missing (header {header})")
    rest = [c for c in header if c not in (*_FIXED, "error")]
    params = tuple(params or ())
    unknown = [p for p in params if p not in rest]
    if unknown:
        raise ValueError(f"parameter column(s) {unknown} not in {str(path)!r}; columns: {rest}")
    return ResultTable(params, tuple(c for c in rest if c not in params), rows)


def _stats(values: Sequence[object]) -> tuple[int, float, float, float, float]:
    finite = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
              and math.isfinite(v)]
    if not finite:
        return 0, math.nan, math.nan, math.nan, math.nan
    mean = math.fsum(finite) / len(finite)
    var = math.fsum((v - mean) ** 2 for v in finite) / (len(finite) - 1) if len(finite) > 1 else 0.0
    return len(finite), mean, math.sqrt(var), min(finite), max(finite)


def summarize(table: ResultTable, by: str | Sequence[str], metric: str) -> list[GroupStat]:
    """Group rows by the values of ``by`` and summarize ``metric`` in each group (e.g. over seeds).

    Args:
        table: a `ResultTable` (filter it first with `ResultTable.where` for one-at-a-time designs).
        by: one column or several.
        metric: the column to summarize; failed rows count in ``n`` but not in ``n_finite``.

    Returns:
        One `GroupStat` per distinct key, sorted by key.

    Raises:
        KeyError: for an unknown column.
    """
    by = (by,) if isinstance(by, str) else tuple(by)
    for name in (*by, metric):
        table.column(name)
    groups: dict[tuple, list[object]] = {}
    for row in table.rows:
        groups.setdefault(tuple(row.get(b) for b in by), []).append(row.get(metric))

    def order(key: tuple) -> tuple:
        return tuple((0, float(k), "") if isinstance(k, (int, float)) else (1, 0.0, str(k)) for k in key)

    return [GroupStat(key, len(vals), *_stats(vals)) for key, vals in sorted(groups.items(), key=lambda kv:
                                                                              order(kv[0]))]


def varied_parameters(table: ResultTable, exclude: Sequence[str] = ("seed",)) -> list[str]:
    """Parameters taking more than one value across the table's rows (``exclude``: replicate axes)."""
    out = []
    for p in table.params:
        if p in exclude:
            continue
        if len({json.dumps(v, sort_keys=True) for v in table.column(p)}) > 1:
            out.append(p)
    return out


def plot_marginals(table: ResultTable, metric: str, params: Sequence[str] | None = None, *, logy: bool = False):
    """One panel per parameter: ``metric``'s mean ± std over all rows at each value of that parameter.

    Args:
        table: the sweep table.
        metric: the metric column.
        params: parameters to plot (default `varied_parameters`).
        logy: log-scale the metric axis.

    Returns:
        The matplotlib Figure (the caller shows/saves and closes it).
    """
    import matplotlib.pyplot as plt

    params = list(params if params is not None else varied_parameters(table))
    fig, axes = plt.subplots(1, max(len(params), 1), figsize=(3.2 * max(len(params), 1), 2.8), squeeze=False)
    for ax, p in zip(axes[0], params):
        stats = [s for s in summarize(table, p, metric) if s.n_finite]
        numeric = all(isinstance(s.key[0], (int, float)) and not isinstance(s.key[0], bool) for s in stats)
        xs = [s.key[0] if numeric else i for i, s in enumerate(stats)]
        _ = ax.errorbar(xs, [s.mean for s in stats], yerr=[s.std for s in stats], marker="o", capsize=3)
        if not numeric:
            _ = ax.set_xticks(xs, [str(s.key[0]) for s in stats])
        _ = ax.set_xlabel(p)
        if logy:
            ax.set_yscale("log")
    axes[0][0].set_ylabel(metric)
    fig.tight_layout()
    return fig


def report(sweep_dir: str | Path, metrics: Sequence[str] | None = None, *, figures: bool = True) -> Report:
    """Write ``results.csv`` and one marginal figure per metric (``figures/<metric>.png``) into a sweep dir.

    Args:
        sweep_dir: ``<runs_dir>/<sweep name>``.
        metrics: metric columns to plot (default: every numeric metric).
        figures: set False to write the CSV only.

    Returns:
        A `Report` with the paths written.

    Raises:
        FileNotFoundError: for a missing or empty sweep directory.
        KeyError: for an unknown metric.
    """
    sweep_dir = Path(sweep_dir)
    table = collect(sweep_dir)
    csv_path = write_csv(table, sweep_dir / "results.csv")
    paths = []
    if figures and varied_parameters(table):
        import matplotlib.pyplot as plt

        if metrics is None:
            metrics = [m for m in table.metrics if any(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                       for v in table.column(m))]
        (sweep_dir / "figures").mkdir(exist_ok=True)
        for m in metrics:
            fig = plot_marginals(table, m)
            path = sweep_dir / "figures" / f"{m.replace('/', '_')}.png"
            fig.savefig(path, dpi=100)
            plt.close(fig)
            paths.append(str(path))
    return Report(str(csv_path), tuple(paths), table)
