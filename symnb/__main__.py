"""Command line: ``symnb sweep SPEC.yaml`` runs a parameter sweep, ``symnb report runs/<sweep>`` tabulates it.

Exit codes: 0 success; 1 some configuration failed (the others ran; see ``error.json``); 2 bad usage, a bad spec
or a bad value in any configuration, a device or scheduler that is not there, or a runs folder of another
resolution (one readable line naming the offending key, before anything is written or started).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symnb", description="Parameter sweeps over symnb notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)

    sw = sub.add_parser("sweep", help="run every configuration of a sweep spec (resumes an interrupted sweep)")
    sw.add_argument("spec", help="YAML sweep spec (keys: name, notebook, base, grid, configs, ...)")
    sw.add_argument("--runs-dir", default="runs", help="root of run folders (default: runs)")
    sw.add_argument("--workers", type=int, default=1,
                    help="configurations run at once (local slots, one GPU each when GPUs exist; or "
                         "LocalCluster processes with --local-cluster)")
    where = sw.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler address of a running cluster (e.g. from dask-jobqueue)")
    where.add_argument("--local-cluster", action="store_true", help="run on a Dask LocalCluster")
    where.add_argument("--batched", action="store_true",
                       help="train notebook 04's configurations in vectorized batches in this process (no "
                            "notebook runs; its defaults still resolve the parameters; fixed-step solver)")
    sw.add_argument("--no-progress", action="store_true", help="no progress bar")
    sw.add_argument("--dry-run", action="store_true",
                    help="validate every configuration (and the executor's preflight) and list them; run nothing")

    rp = sub.add_parser("report", help="collect a sweep's results into results.csv and figures")
    rp.add_argument("sweep_dir", help="runs/<sweep name>")
    rp.add_argument("--metric", action="append", dest="metrics", help="metric to plot (repeatable; default all)")
    rp.add_argument("--no-figures", action="store_true", help="write the CSV only")
    rp.add_argument("--columns", help="comma-separated metric columns to keep in the CSV (default: all)")
    rp.add_argument("--csv", help="CSV path (default: <sweep_dir>/results.csv)")
    return parser


def _sweep(args: argparse.Namespace) -> int:
    from .runs.executors import make_executor
    from .runs.sweep import configurations, load_spec, run_sweep

    executor = "batched" if args.batched else "dask" if (args.local_cluster or args.scheduler) else "local"
    spec = load_spec(args.spec)
    if args.dry_run:
        configs = configurations(spec)
        runner = make_executor(executor, workers=args.workers, scheduler=args.scheduler)
        try:
            runner.preflight(spec, configs)
        finally:
            runner.close()
        for c in configs:
            print(c.id, " ".join(f"{k}={v!r}" for k, v in c.given.items()))
        return 0
    result = run_sweep(spec, args.runs_dir, executor=executor,
                       workers=args.workers, scheduler=args.scheduler, progress=not args.no_progress)
    done, skipped, failed = (result.ids(s) for s in ("done", "skipped", "failed"))
    print(f"sweep {result.name}: {len(result.outcomes)} configurations: {len(done)} run, {len(skipped)} already "
          f"done, {len(failed)} failed -> {result.sweep_dir}")
    for o in result.outcomes:
        if o.status == "failed":
            print(f"  failed {o.id}: {o.error}", file=sys.stderr)
    return 1 if failed else 0


def _report(args: argparse.Namespace) -> int:
    from .runs.report import report

    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    rep = report(args.sweep_dir, args.metrics, figures=not args.no_figures, columns=columns, csv_path=args.csv)
    n_failed = sum(r["status"] == "failed" for r in rep.table.rows)
    print(f"{len(rep.table.rows)} configurations ({n_failed} failed) -> {rep.csv}")
    for path in rep.figures:
        print(f"figure: {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symnb`` console script; returns the exit code.

    Args:
        argv: arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        0 on success, 1 if a configuration failed, 2 for a bad spec or bad usage.
    """
    args = _parser().parse_args(argv)
    from .runs.spec import SpecError

    try:
        return _sweep(args) if args.command == "sweep" else _report(args)
    except SpecError as exc:
        print(f"symnb {args.command}: bad spec: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, KeyError, ValueError, RuntimeError) as exc:
        print(f"symnb {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
