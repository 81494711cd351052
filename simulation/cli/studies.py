"""``statebiz table1``, ``reachability``, ``dynamics``, ``validate`` and ``identify``: the studies, each many runs
of the model read together (:mod:`simulation.studies`), each run by :func:`run_study`."""

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


def run_study(study, design, args, out_dir: Path | None = None) -> int:
    """Run a study as a command: check and lock its result directory, run its tasks through the
    evaluator on the chosen backend with a progress bar and a resume journal, then write its
    tables, summary, figures and manifest all or nothing (:func:`~.common.write_result`).

    A kill or an error leaves the finished runs in the journal beside the result directory; the
    same command run again resumes from them."""
    from tqdm import tqdm

    from ..io import result_dir
    from ..studies.base import Runs, StudyRunError, journal_path

    check_backend_args(args)
    out_dir = out_dir or result_dir(study.name, args.out, origin=study.name)
    tqdm.monitor_interval = 0  # no monitor thread: the process backend may then fork safely
    journal = journal_path(out_dir)
    with result_directory(out_dir, args.overwrite):
        bar = tqdm(total=study.size(design), unit="run", disable=args.quiet or None, file=sys.stderr)
        runs = Runs(**backend_of(args), journal=journal, progress=bar.update)
        started = time.perf_counter()
        try:
            with bar, runs:
                tables = study.compute(design, runs)
        except StudyRunError as err:
            print(f"statebiz: error: {one_line(err)}; nothing was written ({_kept(runs, journal)})", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print(f"statebiz: interrupted; nothing was written ({_kept(runs, journal)})", file=sys.stderr)
            return 130
        wall = time.perf_counter() - started
        if runs.resumed and not args.quiet:
            print(f"  resumed: {runs.resumed} runs read back from {journal}, {runs.ran} run now", file=sys.stderr)
        manifest = study.manifest(design, tables, wall) | {"runs_resumed": runs.resumed, "backend": args.backend}
        text = study.summary(design, tables, wall)
        write_result(out_dir, args.overwrite, manifest, tables, text, lambda tmp: study.draw(design, tables, tmp))
        runs.finish()
    return 0


def _kept(runs, journal: Path) -> str:
    done = runs.finished
    return f"{done} finished runs kept in {journal}; rerun the same command to resume" if done else "no run finished"


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
    add_backend_args(table1)
    add_output_args(table1, "results/table1")


def table1_command(args) -> int:
    """Run ``statebiz table1``: the regime maps, the quadrant reading and the null model."""
    from ..studies.table1 import Table1

    study = Table1()
    return run_study(study, study.design(args.quick, seeds=args.seeds, firms=args.firms), args)


def add_reachability(sub) -> None:
    """Add ``statebiz reachability`` to the subparsers ``sub``."""
    reach = sub.add_parser(
        "reachability",
        help="can some parameter point reach each observed total and cohort cell of Tables 5-9? (not a fit)",
    )
    reach.add_argument(
        "--points",
        type=integer_at_least(2, "an integer of at least 2"),
        default=None,
        help="Latin-hypercube points (default 200)",
    )
    add_quick(reach, "24 points, 600 firms")
    add_backend_args(reach)
    add_output_args(reach, "results/reachability")


def reachability_command(args) -> int:
    """Run ``statebiz reachability``: the best point for each observed total."""
    from ..studies.reachability import Reachability

    study = Reachability()
    return run_study(study, study.design(args.quick, points=args.points), args)


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
    from ..studies import validation as vd

    check_backend_args(args)
    if args.uncalibrated and args.posterior is not None:
        raise ScenarioError("--uncalibrated: not allowed with --posterior; choose one source of parameters")
    study = vd.Validation(vd.load_validation_data(args.data))
    design = study.design(args.quick, draws=args.draws, seeds=args.seeds, root_seed=args.seed)
    study.source = _validation_source(args, vd, design)
    return run_study(study, design, args)


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
    add_backend_args(dyn)
    add_output_args(dyn, "results/dynamics/<kind>")


def dynamics_command(args) -> int:
    """Run ``statebiz dynamics``: tables (CSV) and figures (PNG) in one result directory."""
    from ..io import RESULTS_ROOT, result_dir
    from ..studies.dynamics import Dynamics

    if args.burn_in is not None and args.kind != "corruption":
        raise ScenarioError("--burn-in: only 'statebiz dynamics corruption' takes a burn-in (stationarity measures it)")
    study = Dynamics(args.kind)
    design = study.design(args.quick, firms=args.firms, seeds=args.seeds, burn_in=args.burn_in)
    out_dir = RESULTS_ROOT / "dynamics" / args.kind if args.out is None else result_dir(args.kind, args.out)
    return run_study(study, design, args, out_dir)


def add_identify(sub) -> None:
    """Add ``statebiz identify`` to the subparsers ``sub``."""
    ident = sub.add_parser(
        "identify",
        help="which data would identify s: observables a published source could measure, at s = 0 and s = 1 on "
        "paired seeds (Turkestan and national scenarios at their defaults), their separation, and the published "
        "figures of simulation/data/identification.toml against both ends (evidence, not a fit)",
    )
    ident.add_argument(
        "--seeds",
        type=integer_at_least(2, "an integer of at least 2 (a paired interval needs two seeds)"),
        default=None,
        help="paired seeds per scenario (default 8; --quick 3)",
    )
    ident.add_argument("--seed", type=non_negative_int, default=None, help="root seed (default 20261207)")
    ident.add_argument(
        "--data",
        default=None,
        help="published figures file (default: the package's simulation/data/identification.toml)",
    )
    add_quick(ident, "3 paired seeds, 1,500 (Turkestan) and 4,000 (national) firms, burn-in 24, 8 quarters")
    add_backend_args(ident)
    add_output_args(ident, "results/identification")


def identify_command(args) -> int:
    """Run ``statebiz identify``: the separation of s = 0 and s = 1 by each observable, and the evidence."""
    from ..studies.identification import Identification, load_figures

    check_backend_args(args)
    study = Identification(figures=load_figures(args.data))
    return run_study(study, study.design(args.quick, seeds=args.seeds, root_seed=args.seed), args)
