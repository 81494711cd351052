"""``statebiz sweep``, ``analyze`` and ``discover``: experiments from a file, their analysis and
scenario discovery."""

from __future__ import annotations

import sys
import time
from concurrent.futures import CancelledError

from .common import add_backend_args, backend_of, check_backend_args, command_line, positive_int


def add_sweep(sub) -> None:
    """Add ``statebiz sweep`` to the subparsers ``sub``."""
    sweep = sub.add_parser("sweep", help="run (or resume) an experiment: experiments/*.toml -> results/<name>/")
    sweep.add_argument("experiment", help="experiment TOML file, e.g. experiments/regime_map.toml")
    add_backend_args(sweep)
    sweep.add_argument("--out", default=None, help="results directory (default: results/<experiment name>)")
    sweep.add_argument(
        "--overwrite", action="store_true", help="replace results of a different experiment in the results directory"
    )
    sweep.add_argument(
        "--batch-size",
        type=positive_int,
        default=16,
        help="runs per Parquet part (a part is also written every 30 s); default 16",
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument(
        "--allow-mixed-versions",
        action="store_true",
        help="resume even if earlier runs were made with other versions of numpy, scipy, mesa or networkx",
    )


def add_analyze(sub) -> None:
    """Add ``statebiz analyze`` to the subparsers ``sub``."""
    analyze = sub.add_parser("analyze", help="summary tables, paired differences, sensitivity indices and figures")
    analyze.add_argument("results", help="results directory of a sweep, e.g. results/regime_map")


def add_discover(sub) -> None:
    """Add ``statebiz discover`` to the subparsers ``sub``."""
    discover = sub.add_parser(
        "discover", help="scenario discovery (PRIM or CART): where in a sweep an outcome is below/above a threshold"
    )
    discover.add_argument("results", help="results directory of a sweep, e.g. results/robust_levers")
    discover.add_argument("--outcome", required=True, help="outcome name, e.g. corruption_incidence")
    side = discover.add_mutually_exclusive_group(required=True)
    side.add_argument("--below", type=float, default=None, help="cases of interest: outcome below this value")
    side.add_argument("--above", type=float, default=None, help="cases of interest: outcome above this value")
    discover.add_argument("--method", choices=("prim", "cart"), default="prim", help="PRIM boxes (default) or CART")
    discover.add_argument("--inputs", nargs="+", default=None, help="factors to search over (default: all)")
    discover.add_argument(
        "--min-coverage",
        type=float,
        default=0.5,
        help="PRIM: keep the densest box of the trajectory with at least this coverage (default 0.5)",
    )


def sweep_command(args) -> int:
    """Run ``statebiz sweep`` with parsed ``args``; returns the exit code (1 if a run failed)."""
    from ..runs import design
    from ..runs.spec import load_experiment
    from ..runs.sweep import run_sweep
    from ..scenario import ScenarioError

    check_backend_args(args)

    shown, design.PROGRESS = design.PROGRESS, not args.quiet  # a large design's preparation
    try:
        spec = load_experiment(args.experiment)
    finally:
        design.PROGRESS = shown
    started = time.perf_counter()
    try:
        report = run_sweep(
            spec,
            out_dir=args.out,
            **backend_of(args),
            overwrite=args.overwrite,
            batch_size=args.batch_size,
            progress=False if args.quiet else None,
            command=command_line(),
            allow_mixed_versions=args.allow_mixed_versions,
        )
    except KeyboardInterrupt as err:
        why = "terminated" if type(err).__name__ == "Terminated" else "interrupted"
        print(f"statebiz: {why}; finished runs are saved, rerun the same command to resume", file=sys.stderr)
        return 130
    except CancelledError:  # e.g. the Dask scheduler went away and the client cancelled the runs
        raise ScenarioError(
            f"{args.dask_address or args.backend}: the backend lost its runs (scheduler gone?); "
            "finished runs are saved, rerun the same command to resume"
        ) from None
    except OSError as err:
        if type(err).__name__ in ("ResultExistsError", "NotADirectoryError") or err.errno is not None:
            raise
        message = " ".join(str(err).split())
        raise ScenarioError(
            f"{args.dask_address or 'backend'}: {message}; finished runs are saved, rerun the same command to resume"
        ) from None
    wall = time.perf_counter() - started
    print(
        f"{spec.name}: {report.total} runs; "
        f"{report.ran} run now, {report.skipped} already done, {len(report.failures)} failed; {wall:.1f} s "
        f"on {args.backend}"
    )
    if report.failures:
        print(f"  failed runs ({len(report.failures)}; recorded with their error, retried when the command is rerun):")
        for f in report.failures[:10]:
            print(f"    point {f['point']}, replication {f['replication']} (seed {f['seed']}): {f['error']}")
        if len(report.failures) > 10:
            print(f"    ... and {len(report.failures) - 10} more (see the 'error' column)")
    print(f"  results in {report.out_dir}/ (part-*.parquet, manifest.json); next: statebiz analyze {report.out_dir}")
    return 1 if report.failures else 0


def analyze_command(args) -> int:
    """Run ``statebiz analyze`` with parsed ``args``; returns the exit code."""
    from ..analysis.analysis import analyze

    result = analyze(args.results)
    print(f"{args.results}: {result['runs']} runs analysed ({result['failed_runs']} failed, left out)")
    for note in result["notes"]:
        print(f"  note: {note}")
    for path in result["files"]:
        print(f"  wrote {path}")
    return 0


def discover_command(args) -> int:
    """Run ``statebiz discover`` with parsed ``args``; returns the exit code."""
    from ..analysis.discovery import discover

    res = discover(
        args.results,
        args.outcome,
        below=args.below,
        above=args.above,
        method=args.method,
        inputs=args.inputs,
        min_coverage=args.min_coverage,
    )
    side = f"below {args.below:g}" if args.below is not None else f"above {args.above:g}"
    print(f"{args.results}: {res['of_interest']} of {res['cases']} runs have {args.outcome} {side} ({args.method})")
    if res["boxes"].empty:
        print("  no box is denser than the data")
    for _, b in res["boxes"].iterrows():
        print(f"  box {int(b['box'])}: coverage {b['coverage']:.0%}, density {b['density']:.0%}: {b['description']}")
    if res["robust"] is not None:
        top = res["robust"].iloc[0]
        levers = [c for c in res["robust"].columns if c not in ("rank", "states", "targets", "policy")]
        levers = [c for c in levers if not c.startswith(("share_", "mean_regret_", "max_regret_"))]
        settings = ", ".join(f"{k} {top[k]:.3g}" for k in levers)
        print(f"  most robust policy (meets it in {top['share_all']:.0%} of states): {settings}")
    for path in res["files"]:
        print(f"  wrote {path}")
    return 0
