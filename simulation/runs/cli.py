"""The ``statebiz sweep``, ``analyze`` and ``discover`` subcommands (wired into simulation/cli.py)."""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import CancelledError

BACKEND_CHOICES = ("serial", "processes", "dask", "mpi")
BACKEND_HELP = (
    "where runs execute: serial (this process), processes (local, the default), dask (a local "
    "cluster, or a scheduler with --dask-address), mpi (mpi4py's pool; needs statebiz[mpi])"
)


def integer_at_least(low: int, what: str):
    """An argparse type: an integer of at least ``low`` (``what`` names the requirement)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is not {what}")
        return value

    return parse


_positive_int = integer_at_least(1, "a positive integer")


def check_backend_args(args) -> None:
    """Check ``--backend``, ``--workers`` and ``--dask-address`` before anything runs or is written.

    Raises:
        ScenarioError: one line naming the option and what is allowed.
    """
    from ..scenario import ScenarioError
    from .evaluator import check_dask_address, mpi_available

    if args.dask_address and args.backend != "dask":
        raise ScenarioError(f"--dask-address: needs --backend dask (got --backend {args.backend})")
    if getattr(args, "workers", None) == 0:
        raise ScenarioError("--workers: 0 is not allowed; expected a positive integer")
    if args.backend == "mpi" and not mpi_available():
        raise ScenarioError(
            "--backend mpi: mpi4py is not installed; install it with pip install 'statebiz[mpi]' "
            "(it needs an MPI library, e.g. Debian's libopenmpi-dev), or choose serial, processes or dask"
        )
    if args.backend == "dask" and args.dask_address:
        try:
            check_dask_address(args.dask_address)
        except OSError as err:
            raise ScenarioError(f"--dask-address: {err}") from None


def add_backend_args(parser) -> None:
    """The flags that choose where runs execute (``--backend``, ``--workers``, ``--dask-address``),
    the same for every command that runs many simulations."""
    parser.add_argument("--backend", choices=BACKEND_CHOICES, default="processes", help=BACKEND_HELP)
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="worker processes for 'processes', 'mpi' and a local Dask cluster (default: all cores)",
    )
    parser.add_argument(
        "--dask-address",
        default=None,
        help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (with --backend dask)",
    )


def add_subcommands(sub) -> None:
    """Add ``statebiz sweep`` and ``statebiz analyze`` to the subparsers ``sub``."""
    sweep = sub.add_parser("sweep", help="run (or resume) an experiment: experiments/*.toml -> results/<name>/")
    sweep.add_argument("experiment", help="experiment TOML file, e.g. experiments/regime_map.toml")
    add_backend_args(sweep)
    sweep.add_argument("--out", default=None, help="results directory (default: results/<experiment name>)")
    sweep.add_argument(
        "--overwrite", action="store_true", help="replace results of a different experiment in the results directory"
    )
    sweep.add_argument(
        "--batch-size",
        type=_positive_int,
        default=16,
        help="runs per Parquet part (a part is also written every 30 s); default 16",
    )
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.add_argument(
        "--allow-mixed-versions",
        action="store_true",
        help="resume even if earlier runs were made with other versions of numpy, scipy, mesa or networkx",
    )
    analyze = sub.add_parser("analyze", help="summary tables, paired differences, sensitivity indices and figures")
    analyze.add_argument("results", help="results directory of a sweep, e.g. results/regime_map")
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
    from ..scenario import ScenarioError
    from .spec import load_experiment
    from .sweep import run_sweep

    check_backend_args(args)
    spec = load_experiment(args.experiment)
    started = time.perf_counter()
    try:
        report = run_sweep(
            spec,
            out_dir=args.out,
            backend=args.backend,
            workers=args.workers,
            address=args.dask_address,
            overwrite=args.overwrite,
            batch_size=args.batch_size,
            progress=False if args.quiet else None,
            command=" ".join(["statebiz", *sys.argv[1:]]),
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
    from .analysis import analyze

    result = analyze(args.results)
    print(f"{args.results}: {result['runs']} runs analysed ({result['failed_runs']} failed, left out)")
    for note in result["notes"]:
        print(f"  note: {note}")
    for path in result["files"]:
        print(f"  wrote {path}")
    return 0


def discover_command(args) -> int:
    """Run ``statebiz discover`` with parsed ``args``; returns the exit code."""
    from .discovery import discover

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
