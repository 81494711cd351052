"""The ``statebiz sweep`` and ``statebiz analyze`` subcommands (wired into simulation/cli.py)."""

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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


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


def add_subcommands(sub) -> None:
    """Add ``statebiz sweep`` and ``statebiz analyze`` to the subparsers ``sub``."""
    sweep = sub.add_parser("sweep", help="run (or resume) an experiment: experiments/*.toml -> results/<name>/")
    sweep.add_argument("experiment", help="experiment TOML file, e.g. experiments/regime_map.toml")
    sweep.add_argument("--backend", choices=BACKEND_CHOICES, default="processes", help=BACKEND_HELP)
    sweep.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="worker processes for 'processes', 'mpi' and a local Dask cluster (default: all cores)",
    )
    sweep.add_argument(
        "--dask-address",
        default=None,
        help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (with --backend dask)",
    )
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
