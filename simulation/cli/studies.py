"""``statebiz table1``, ``reachability``, ``dynamics`` and ``validate``: the studies, each many runs
of the model read together (:mod:`simulation.runs`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..scenario import ScenarioError
from .common import (
    add_backend_args,
    add_output_args,
    add_quick,
    backend_of,
    check_backend_args,
    integer_at_least,
    non_negative_int,
    one_line,
    result_directory,
    write_result,
)

#: Where ``statebiz calibrate`` leaves the posterior that ``statebiz validate`` reads by default.
DEFAULT_POSTERIOR = "docs/calibration/posterior.csv"
DYNAMICS_KINDS = ("stationarity", "corruption")


def add_table1(sub) -> None:
    """Add ``statebiz table1`` to the subparsers ``sub``."""
    table1 = sub.add_parser(
        "table1", help="map the dominant regime over power P x business B at s = 0, 0.5, 1 (Table 1), with a null model"
    )
    table1.add_argument(
        "--seeds", type=integer_at_least(1, "a positive integer"), default=None, help="seeds per cell (default 3)"
    )
    table1.add_argument(
        "--firms", type=integer_at_least(10, "an integer of at least 10"), default=None, help="firms (default 1500)"
    )
    add_quick(table1, "a 5 x 5 grid, 2 seeds, 600 firms, burn-in 24")
    add_output_args(table1, "results/table1")


def table1_command(args) -> int:
    """Run ``statebiz table1``: the regime maps, the quadrant reading and the null model."""
    from tqdm import tqdm

    from ..io import result_dir
    from ..runs import table1 as t1

    out_dir = result_dir("table1", args.out, origin="table1")
    design = t1.with_settings(t1.QUICK if args.quick else t1.Table1Design(), seeds=args.seeds, firms=args.firms)
    with result_directory(out_dir, args.overwrite):
        with tqdm(total=design.runs(), unit="run", disable=args.quiet or None, file=sys.stderr) as bar:
            runs, wall = t1.timed_run(design, lambda done, total: bar.update(1))
        cells = t1.dominant_map(runs)
        quadrants = t1.quadrant_reading(runs)
        text = t1.format_summary(t1.summary(cells, quadrants), design, wall)
        manifest = {
            "design": {k: getattr(design, k) for k in design.__dataclass_fields__},
            "runs": design.runs(),
            "wall_time_seconds": round(wall, 3),
            "files": t1.FILES,
        }
        tables = {"runs.csv": runs, "cells.csv": cells, "quadrants.csv": quadrants}
        write_result(
            out_dir,
            args.overwrite,
            manifest,
            tables,
            text,
            lambda tmp: t1.plot_maps(cells, tmp / "regime_maps.png", design),
        )
    return 0


def add_reachability(sub) -> None:
    """Add ``statebiz reachability`` to the subparsers ``sub``."""
    reach = sub.add_parser(
        "reachability", help="can some parameter point reach each observed total of Tables 5-9? (not a fit)"
    )
    reach.add_argument(
        "--points",
        type=integer_at_least(2, "an integer of at least 2"),
        default=None,
        help="Latin-hypercube points (default 200)",
    )
    add_quick(reach, "24 points, 600 firms")
    add_output_args(reach, "results/reachability")


def reachability_command(args) -> int:
    """Run ``statebiz reachability``: the best point for each observed total."""
    from dataclasses import replace

    from tqdm import tqdm

    from ..io import result_dir
    from ..runs import reachability as rc

    out_dir = result_dir("reachability", args.out, origin="reachability")
    design = rc.QUICK if args.quick else rc.ReachDesign()
    if args.points is not None:
        design = replace(design, points=args.points)
    with result_directory(out_dir, args.overwrite):
        with tqdm(unit="point", disable=args.quiet or None, file=sys.stderr) as bar:
            result, points, wall = rc.timed_search(design, lambda done, total: bar.update(1))
        text = rc.format_table(result, points, design, wall)
        manifest = {
            "design": rc.as_dict(design),
            "free_parameters": {n: [rc.BY_NAME[n].low, rc.BY_NAME[n].high] for n in rc.FREE},
            "interval": "exact binomial (Clopper-Pearson) 90% interval of the population share",
            "reached": int(result["within"].sum()),
            "totals": len(result),
            "wall_time_seconds": round(wall, 3),
            "files": rc.FILES,
        }
        write_result(out_dir, args.overwrite, manifest, {"reachability.csv": result, "points.csv": points}, text)
    return 0


def add_validate(sub) -> None:
    """Add ``statebiz validate`` to the subparsers ``sub``."""
    val = sub.add_parser(
        "validate",
        help="validation out of sample: the calibrated model against published Kazakhstan figures it was not "
        "fitted to (Enterprise Surveys, other surveys, a regional ranking)",
    )
    val.add_argument(
        "--posterior",
        default=None,
        help=f"posterior file written by `statebiz calibrate` (default {DEFAULT_POSTERIOR})",
    )
    val.add_argument("--model", default="fitted", help="the posterior file's model to draw from (default fitted)")
    val.add_argument(
        "--uncalibrated",
        action="store_true",
        help="no posterior: run at the scenario files' parameters (every output is labelled UNCALIBRATED)",
    )
    val.add_argument(
        "--draws", type=integer_at_least(1, "a positive integer"), default=None, help="posterior draws (default 10)"
    )
    val.add_argument(
        "--seeds", type=integer_at_least(1, "a positive integer"), default=None, help="seeds per draw (default 2)"
    )
    val.add_argument("--seed", type=non_negative_int, default=None, help="root seed (default 20261128)")
    add_quick(val, "3 draws x 2 seeds, small worlds, short burn-in")
    val.add_argument(
        "--data",
        default=None,
        help="published figures file (default: the package's simulation/data/validation.toml)",
    )
    add_backend_args(val)
    add_output_args(val, "results/validation")


def _validation_source(args, vd, design):
    """The parameter draws of ``statebiz validate``: the posterior's, or the scenario files' (--uncalibrated)."""
    from ..io import InputError
    from ..posterior import load_posterior

    if args.uncalibrated:
        return vd.uncalibrated(design)
    path = Path(args.posterior or DEFAULT_POSTERIOR)
    if not path.is_file():
        raise InputError(
            f"{path}: posterior file not found; run `statebiz calibrate experiments/calibration_turkestan.toml` "
            "first, or pass --uncalibrated to run at the scenario defaults (labelled so)"
        )
    return vd.from_posterior(load_posterior(path, args.model), design)


def validate_command(args) -> int:
    """Run ``statebiz validate``: the model against published figures it was not fitted to."""
    from tqdm import tqdm

    from ..io import result_dir
    from ..runs import validation as vd

    check_backend_args(args)
    if args.uncalibrated and args.posterior is not None:
        raise ScenarioError("--uncalibrated: not allowed with --posterior; choose one source of parameters")
    data = vd.load_validation_data(args.data)
    base = vd.QUICK if args.quick else vd.ValidationDesign()
    design = vd.with_settings(base, draws=args.draws, seeds=args.seeds, root_seed=args.seed)
    source = _validation_source(args, vd, design)
    out_dir = result_dir("validation", args.out, origin="validate")
    tqdm.monitor_interval = 0  # no monitor thread: the process backend may then fork safely
    with result_directory(out_dir, args.overwrite):
        with tqdm(total=design.runs(), unit="run", disable=args.quiet or None, file=sys.stderr) as bar:
            try:
                res = vd.validate(design, source, data, **backend_of(args), progress=lambda done, total: bar.update(1))
            except vd.ValidationRunError as err:
                print(f"statebiz: error: {one_line(err)}; nothing was written", file=sys.stderr)
                return 1

        def draw(tmp: Path) -> None:
            vd.plot_ranking(res, tmp / "ranking.png")
            vd.plot_figures(res, tmp / "figures.png")

        write_result(out_dir, args.overwrite, vd.manifest(res), res.tables(), vd.format_summary(res), draw)
    return 0


def add_dynamics(sub) -> None:
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
        type=non_negative_int,
        default=None,
        help="corruption: quarters discarded before the stationary means (default: the burn_in parameter's default)",
    )
    add_quick(dyn, "fewer firms, seeds, quarters and points")
    add_output_args(dyn, "results/dynamics/<kind>", quiet="no progress messages")


def _dynamics_size(args) -> dict:
    from ..runs import dynamics as dyn

    size = dict(dyn.SIZES["quick" if args.quick else "full"])
    if args.kind == "corruption":
        size["seeds"] = 2 if args.quick else 4
    if args.firms is not None:
        size["firms"] = args.firms
    if args.seeds is not None:
        size["seeds"] = args.seeds
    return size


def dynamics_command(args) -> int:
    """Run ``statebiz dynamics``: tables (CSV) and figures (PNG) in one result directory, written
    all or nothing; prints a short summary. Returns the exit code."""
    from ..io import RESULTS_ROOT, result_dir
    from ..parameters import BY_NAME
    from ..runs import dynamics as dyn

    if args.burn_in is not None and args.kind != "corruption":
        raise ScenarioError("--burn-in: only 'statebiz dynamics corruption' takes a burn-in (stationarity measures it)")
    size = _dynamics_size(args)
    default_burn_in = int(BY_NAME["burn_in"].default)
    burn_in = default_burn_in if args.burn_in is None else args.burn_in
    out_dir = RESULTS_ROOT / "dynamics" / args.kind if args.out is None else result_dir(args.kind, args.out)

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"  {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    with result_directory(out_dir, args.overwrite):
        if args.kind == "stationarity":
            result = dyn.run_stationarity(
                size["firms"], size["residents"], size["seeds"], size["quarters"], size["window"], progress
            )
            findings = None
        else:
            q = "quick" if args.quick else "full"
            grids = dyn.AUDIT_GRID[q], dyn.SYMBIOSIS_GRID[q]
            args_ = (size["firms"], size["residents"], size["seeds"], burn_in, size["measure"], *grids, progress)
            result = dyn.run_corruption(*args_)
            findings = dyn.corruption_findings(result["summary"])
        wall = time.perf_counter() - started
        files = {f"{name}.csv": name for name in result}

        def draw(tmp: Path) -> dict[str, str]:
            if args.kind == "stationarity":
                figs = dyn.stationarity_figures(result, tmp, default_burn_in)
            else:
                figs = [dyn.corruption_figure(result["summary"], tmp)]
            return {f.name: "figure" for f in figs}

        manifest = {
            "kind": args.kind,
            "size": size,
            "burn_in": burn_in if args.kind == "corruption" else None,
            "starts_corruption_initial": list(dyn.STARTS),
            "findings": findings,
            "files": files,
            "wall_time_seconds": round(wall, 1),
        }
        tables = {f"{name}.csv": frame for name, frame in result.items()}
        write_result(out_dir, args.overwrite, manifest, tables, draw=draw, show=False)
    if args.kind == "stationarity":
        _print_stationarity(result, size, default_burn_in, wall, out_dir)
    else:
        _print_corruption(result["summary"], findings, size, burn_in, wall, out_dir)
    return 0


def _fmt(value: float) -> str:
    return "not reached" if value != value else f"{value:.0f}"


def _print_stationarity(result, size, default_burn_in, wall, out_dir) -> None:
    import numpy as np

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
