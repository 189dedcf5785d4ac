"""Collect a sweep's per-configuration results into one table (CSV), group statistics and standard figures.

A sweep directory (see `symnb.runs.folders`) holds one folder per configuration with ``params.json`` and either
``result.json`` or ``error.json``.  `collect` turns them into a `ResultTable`: one row per configuration with
its id, status, parameters and the scalar entries of its result (nested mappings flattened as ``a.b``).
"""
from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..core.io import atomic_write_text
from ..core.stats import mean_ci
from .folders import ERROR_FILE, PARAMS_FILE, RESULT_FILE

__all__ = ["ResultTable", "GroupStat", "Report", "Effect", "collect", "write_csv", "read_csv", "summarize",
           "one_at_a_time", "varied_parameters", "plot_marginals", "report"]

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

    def select(self, metrics: Sequence[str]) -> "ResultTable":
        """The same rows with only the given metric columns (parameters, id, status, error kept).

        Raises:
            KeyError: for an unknown metric, listing the valid ones.
        """
        for name in metrics:
            if name not in self.metrics:
                raise KeyError(f"unknown metric {name!r}; metrics: {list(self.metrics)}")
        keep = set((*_FIXED, *self.params, *metrics, "error"))
        return ResultTable(self.params, tuple(metrics), tuple({k: v for k, v in r.items() if k in keep}
                                                              for r in self.rows))

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
    std (sample, ddof=1; 0 for one value), min and max are over the finite values (nan if there are none);
    ``ci95_low``/``ci95_high`` the 95% Student-t interval of the mean (`symnb.core.stats.mean_ci`; nan with fewer
    than two finite values).
    """

    key: tuple
    n: int
    n_finite: int
    mean: float
    std: float
    min: float
    max: float
    ci95_low: float = math.nan
    ci95_high: float = math.nan


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
    elif isinstance(value, list) and len(value) <= 4 and all(isinstance(v, (int, float)) for v in value):
        for i, v in enumerate(value):  # a short vector (theta) gets one column per entry
            out[f"{prefix}.{i}"] = v
    # longer lists (curves, histories) do not fit a table row: the per-run result.json keeps them


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
        given: dict[str, object] = {}
        _flatten("", record["parameters"], given)  # a dict parameter (notebook 04's constants) as a.b columns
        for k, v in given.items():
            params.setdefault(k, None)
            row[k] = v
        if (run / RESULT_FILE).is_file():
            row["status"] = "done"
            flat: dict[str, object] = {}
            _flatten("", json.loads((run / RESULT_FILE).read_text()), flat)
            for k, v in flat.items():
                # a result echoing a parameter is dropped when equal; a clash with a parameter or a fixed
                # column (id, status, error) is renamed result.<key>
                last = k.rsplit(".", 1)[-1]  # a nested echo too, e.g. config.seed
                if last in given and _same(v, given[last]):
                    continue
                if k in given or k in (*_FIXED, "error"):
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
    atomic_write_text(path, buf.getvalue())
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


def _stats(values: Sequence[object]) -> tuple[int, float, float, float, float, float, float]:
    # The one statistics helper: mean, sample std and 95% t-interval over the finite values.
    summary = mean_ci(values)
    finite = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
              and math.isfinite(v)]
    if not finite:
        return 0, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan
    return summary.n, summary.mean, summary.std, min(finite), max(finite), summary.low, summary.high


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


@dataclass(frozen=True)
class Effect:
    """One level of one factor in a one-at-a-time design, against the baseline (every factor 0).

    Attributes:
        factor: the factor column (e.g. ``"a1"``).
        level: its value in these rows (every other factor is 0).
        group: values of the ``by`` columns shared by these rows and their baseline.
        stat: the metric over these rows (typically: over seeds).
        baseline: the metric over the baseline rows of the same group.
        paired: metric / baseline metric for each value of the ``pair`` column present in both (same seed:
            same data), sorted by that value; nan where either is not finite.
    """

    factor: str
    level: float
    group: tuple
    stat: GroupStat
    baseline: GroupStat
    paired: tuple[float, ...] = ()

    @property
    def ratio(self) -> float:
        """stat.mean / baseline.mean (below 1: the factor helps)."""
        return self.stat.mean / self.baseline.mean if self.baseline.mean else math.nan


def one_at_a_time(table: ResultTable, factors: Sequence[str], metric: str, by: Sequence[str] = (),
                  pair: str | None = "seed") -> list[Effect]:
    """Effects of each factor alone: rows where exactly one factor is non-zero, against rows where all are 0.

    Args:
        table: rows of a one-at-a-time design (e.g. the ablation of eq 43: factors a1..a6).
        factors: the factor columns (missing values count as 0).
        metric: the column to summarize.
        by: columns that split the comparison (e.g. noise, n_train); the baseline is taken per group.
        pair: column whose equal values pair a run with its baseline run (``seed``: same data); None for none.

    Returns:
        One `Effect` per (factor, level, group) present, in factor order then level then group.

    Raises:
        KeyError: for an unknown column.
        ValueError: if a group has no baseline rows.
    """
    by = tuple(by)
    for name in (*factors, *by, metric):
        table.column(name)

    def level(row: Mapping, f: str) -> float:
        return 0.0 if row.get(f) is None else float(row[f])

    def sub(rows: list) -> ResultTable:
        return ResultTable((*table.params, "_group"), table.metrics, tuple(rows))

    base_rows = [{**r, "_group": 0} for r in table.rows if all(level(r, f) == 0.0 for f in factors)]
    base = {s.key[1:]: s for s in summarize(sub(base_rows), ("_group", *by), metric)}

    def value(row: Mapping) -> float:
        v = row.get(metric)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan

    base_of = {(tuple(r.get(b) for b in by), r.get(pair)): value(r) for r in base_rows} if pair else {}
    out = []
    for f in factors:
        rows = [{**r, "_group": 0} for r in table.rows
                if level(r, f) != 0.0 and all(level(r, g) == 0.0 for g in factors if g != f)]
        for s in summarize(sub(rows), (f, *by), metric):
            group = s.key[1:]
            if group not in base:
                raise ValueError(f"no baseline rows (all of {list(factors)} = 0) for {dict(zip(by, group))}")
            paired = ()
            if pair:
                mine = sorted((r.get(pair), value(r)) for r in rows
                              if level(r, f) == s.key[0] and tuple(r.get(b) for b in by) == group)
                paired = tuple(v / base_of[(group, k)] if base_of.get((group, k)) else math.nan
                               for k, v in mine if (group, k) in base_of)
            out.append(Effect(f, s.key[0], group, s, base[group], paired))
    return out


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


def report(sweep_dir: str | Path, metrics: Sequence[str] | None = None, *, figures: bool = True,
           columns: Sequence[str] | None = None, csv_path: str | Path | None = None) -> Report:
    """Write ``results.csv`` and one marginal figure per metric (``figures/<metric>.png``) into a sweep dir.

    Args:
        sweep_dir: ``<runs_dir>/<sweep name>``.
        metrics: metric columns to plot (default: every numeric metric).
        figures: set False to write the CSV only.
        columns: metric columns to keep in the CSV and table (default: all).
        csv_path: where to write the CSV (default ``<sweep_dir>/results.csv``).

    Returns:
        A `Report` with the paths written.

    Raises:
        FileNotFoundError: for a missing or empty sweep directory.
        KeyError: for an unknown metric.
    """
    sweep_dir = Path(sweep_dir)
    table = collect(sweep_dir)
    if columns is not None:
        table = table.select(columns)
    csv_path = write_csv(table, csv_path or sweep_dir / "results.csv")
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


