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
    from .evaluator import cap_workers, check_dask_address, mpi_available

    if args.dask_address and args.backend != "dask":
        raise ScenarioError(f"--dask-address: needs --backend dask (got --backend {args.backend})")
    if getattr(args, "workers", None) == 0:
        raise ScenarioError("--workers: 0 is not allowed; expected a positive integer")
    if getattr(args, "workers", None) is not None and not (args.backend == "dask" and args.dask_address):
        try:
            args.workers = cap_workers(args.workers, lambda note: print(f"statebiz: {note}", file=sys.stderr))
        except ValueError as err:
            raise ScenarioError(str(err)) from None
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


def add_output_args(parser, default: str, quiet: str = "no progress bar") -> None:
    """--out (default ``default``), --overwrite and --quiet, as every command that writes a result has them."""
    parser.add_argument("--out", default=None, help=f"output directory (default: {default})")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing result in the output directory")
    parser.add_argument("--quiet", action="store_true", help=quiet)


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
    from . import design

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


DYNAMICS_KINDS = ("stationarity", "corruption")


def add_dynamics_subcommand(sub) -> None:
    """Add ``statebiz dynamics stationarity|corruption`` to the subparsers ``sub``."""
    from ..parameters import BY_NAME

    low = int(BY_NAME["firms"].low)
    dyn = sub.add_parser(
        "dynamics",
        help="measure stationarity (burn-in by R-hat) or the corruption equilibrium (against audits and s)",
    )
    dyn.add_argument(
        "kind",
        choices=DYNAMICS_KINDS,
        help="stationarity: chains from several seeds and starts, R-hat and the burn-in; corruption: "
        "stationary corruption against the audit rate and s, from a low and a high start",
    )
    dyn.add_argument(
        "--firms",
        type=integer_at_least(low, f"an integer of at least {low}"),
        default=None,
        help="firms at the start (default 3000; --quick 800)",
    )
    dyn.add_argument(
        "--seeds",
        type=integer_at_least(2, "an integer of at least 2"),
        default=None,
        help="seeds per start and setting (default 8 for stationarity, 4 for corruption; --quick 4 and 2)",
    )
    dyn.add_argument(
        "--burn-in",
        type=integer_at_least(0, "a non-negative integer"),
        default=None,
        help="corruption: quarters discarded before the stationary means (default: the burn_in parameter's default)",
    )
    dyn.add_argument("--quick", action="store_true", help="small and fast: fewer firms, seeds, quarters and points")
    add_output_args(dyn, "results/dynamics/<kind>", quiet="no progress messages")


def dynamics_command(args) -> int:
    """Run ``statebiz dynamics`` with parsed ``args``: tables (CSV) and figures (PNG) in one
    result directory, written all or nothing; prints a short summary. Returns the exit code."""
    import numpy as np

    from ..io import (
        RESULTS_ROOT,
        check_writable,
        git_commit,
        json_text,
        package_versions,
        result_dir,
        result_lock,
        staged_directory,
    )
    from ..machine import fingerprint as machine_fingerprint
    from ..parameters import BY_NAME
    from ..scenario import ScenarioError
    from . import dynamics as dyn

    if args.burn_in is not None and args.kind != "corruption":
        raise ScenarioError("--burn-in: only 'statebiz dynamics corruption' takes a burn-in (stationarity measures it)")
    size = dict(dyn.SIZES["quick" if args.quick else "full"])
    if args.kind == "corruption":
        size["seeds"] = 2 if args.quick else 4
    if args.firms is not None:
        size["firms"] = args.firms
    if args.seeds is not None:
        size["seeds"] = args.seeds
    default_burn_in = int(BY_NAME["burn_in"].default)
    burn_in = default_burn_in if args.burn_in is None else args.burn_in
    out_dir = RESULTS_ROOT / "dynamics" / args.kind if args.out is None else result_dir(args.kind, args.out)
    check_writable(out_dir, args.overwrite)

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"  {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    with result_lock(out_dir):
        files: dict[str, str] = {}
        if args.kind == "stationarity":
            result = dyn.run_stationarity(
                size["firms"], size["residents"], size["seeds"], size["quarters"], size["window"], progress
            )
        else:
            q = "quick" if args.quick else "full"
            result = dyn.run_corruption(
                size["firms"],
                size["residents"],
                size["seeds"],
                burn_in,
                size["measure"],
                dyn.AUDIT_GRID[q],
                dyn.SYMBIOSIS_GRID[q],
                progress,
            )
        wall = time.perf_counter() - started
        with staged_directory(out_dir, args.overwrite) as tmp:
            for name, frame in result.items():
                (tmp / f"{name}.csv").write_text(frame.to_csv(index=False), encoding="utf-8")
                files[f"{name}.csv"] = name
            if args.kind == "stationarity":
                figs = dyn.stationarity_figures(result, tmp, default_burn_in)
                findings = None
            else:
                figs = [dyn.corruption_figure(result["summary"], tmp)]
                findings = dyn.corruption_findings(result["summary"])
            files |= {f.name: "figure" for f in figs}
            manifest = {
                "command": " ".join(["statebiz", *sys.argv[1:]]) if sys.argv else "statebiz dynamics",
                "kind": args.kind,
                "size": size,
                "burn_in": burn_in if args.kind == "corruption" else None,
                "starts_corruption_initial": list(dyn.STARTS),
                "findings": findings,
                "files": files,
                "wall_time_seconds": round(wall, 1),
                "git_commit": git_commit(),
                "package_versions": package_versions(),
                "machine": machine_fingerprint(),
            }
            (tmp / "manifest.json").write_text(json_text(manifest), encoding="utf-8")
    if args.kind == "stationarity":
        _print_stationarity(result, size, default_burn_in, wall, out_dir, np)
    else:
        _print_corruption(result["summary"], findings, size, burn_in, wall, out_dir)
    return 0


def _fmt(value: float) -> str:
    return "not reached" if value != value else f"{value:.0f}"


def _print_stationarity(result, size, default_burn_in, wall, out_dir, np) -> None:
    burn = result["burn_in"].set_index("group")
    diag = result["diagnostics"]
    print(
        f"stationarity: {size['firms']} firms, {size['seeds']} seeds x 2 starts per setting, {size['quarters']} "
        f"quarters, R-hat windows of {size['window']} quarters; {wall:.0f} s"
    )
    groups = [g for g in burn.index if g != "overall"]
    print(f"  {'outcome':<28}" + "".join(f"{g[:22]:>24}" for g in groups))
    for outcome in [c for c in burn.columns if c != "all"]:
        cells = []
        for g in groups:
            d = diag[(diag["group"] == g) & (diag["outcome"] == outcome)].iloc[0]
            cells.append(f"{_fmt(burn.loc[g, outcome]):>11} (R {d['max_rhat_after']:.2f})")
        print(f"  {outcome:<28}" + "".join(f"{c:>24}" for c in cells))
    print("  (burn-in per outcome; R: the largest R-hat of the windows after the setting's burn-in)")
    for g in groups:
        d = diag[diag["group"] == g]
        print(
            f"  {g}: burn-in {_fmt(burn.loc[g, 'all'])} quarters; Geweke |z| > 1.96 in "
            f"{d['geweke_share_abs_z_above_1.96'].mean():.0%} of chain-outcomes after it (about 5% if stationary); "
            f"largest start gap |z| {np.nanmax(np.abs(d['start_gap_z'])):.1f}"
        )
    uncertified = set()
    for g in groups:
        missing = [o for o in burn.columns if o != "all" and burn.loc[g, o] != burn.loc[g, o]]
        uncertified |= set(missing)
        if missing:
            print(f"  {g}: not certified within the run (R-hat >= 1.1 in a late window): {', '.join(missing)}")
    overall = burn.loc["overall", "all"]
    verdict = ""
    if overall == overall:
        enough = "enough" if overall <= default_burn_in else "too short"
        verdict = f"; the default burn_in is {default_burn_in} ({enough})"
        if uncertified:
            verdict += f"; not certified in this run: {', '.join(sorted(uncertified))}"
    print(f"  overall burn-in (largest over settings and certified outcomes): {_fmt(overall)} quarters{verdict}")
    print(f"  written to {out_dir}/ (trajectories, rhat, burn_in, diagnostics .csv; stationarity_*.png, rhat.png)")


def _print_corruption(summary, findings, size, burn_in, wall, out_dir) -> None:
    print(
        f"corruption: {size['firms']} firms, {size['seeds']} seeds per point and start, means over "
        f"{size['measure']} quarters after {burn_in} of burn-in; {wall:.0f} s"
    )
    for lever in ("audit_rate", "symbiosis"):
        g = summary[summary["lever"] == lever]
        print(f"  {lever:<10} {'start':>6} {'incidence [95% CI]':>24} {'corrupt share [95% CI]':>26}")
        for _, r in g.sort_values(["value", "start"]).iterrows():
            print(
                f"  {r['value']:<10.2f} {r['start']:>6.2f} "
                f"{r['corruption_incidence']:>8.3f} [{r['corruption_incidence_low']:.3f}, "
                f"{r['corruption_incidence_high']:.3f}] "
                f"{r['corrupt_share']:>10.3f} [{r['corrupt_share_low']:.3f}, {r['corrupt_share_high']:.3f}]"
            )
    for key, f in findings.items():
        jumps = "continuous" if f["continuous"] else "JUMP at " + ", ".join(f"{a:g}->{b:g}" for a, b, _ in f["jumps"])
        agree = "starts agree" if f["points_apart"] == 0 else f"starts apart at {f['points_apart']} of {f['points']}"
        print(
            f"  {key}: {jumps} (largest step {f['max_step']:.3f}); {agree}, "
            f"max low/high gap {f['max_gap']:.3f} at {f['max_gap_at']:g}"
        )
    print(f"  written to {out_dir}/ (runs.csv, summary.csv, corruption.png, manifest.json)")
