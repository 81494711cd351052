"""The ``statebiz`` command. I/O lives here, at the edge; the model does none."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from . import machine
from .io import (
    USER_ERRNOS,
    InputError,
    ResultExistsError,
    check_writable,
    git_commit,
    json_text,
    lock_hash,
    package_versions,
    result_dir,
    result_lock,
    staged_directory,
)
from .machine import fingerprint as machine_fingerprint
from .runs.cli import add_output_args, integer_at_least
from .scenario import BY_NAME, ScenarioError, load_scenario

EXIT_BAD_INPUT = 2


_non_negative_int = integer_at_least(0, "a non-negative integer")


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (``statebiz run: error: ...``), exit 2."""

    def error(self, message: str):
        """Print one line naming the command and the error, with where to find help; exit with 2."""
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``statebiz`` argument parser with every subcommand."""
    parser = OneLineParser(prog="statebiz", description="Akimats and firms in Kazakhstan: an agent-based model.")
    parser.add_argument(
        "--portable",
        action="store_true",
        help="portable mode: results bit-identical on every x86-64-v3 machine (numpy capped at x86-64-v3, numba "
        "generic; about 10%% slower); the same as STATEBIZ_PORTABLE=1, which workers inherit",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one scenario and write results/<name>/")
    run.add_argument("scenario", help="scenario TOML file, e.g. scenarios/turkestan.toml")
    run.add_argument(
        "--seed", type=_non_negative_int, default=None, help="seed of the run (default: the scenario's, else 0)"
    )
    run.add_argument(
        "--steps", type=_non_negative_int, default=None, help="reported quarters (default: the scenario's)"
    )
    run.add_argument(
        "--governance",
        choices=BY_NAME["governance"].choices,
        default=None,
        help="governance model, overriding the scenario's",
    )
    add_output_args(run, "results/<scenario name>")
    params = sub.add_parser("params", help="list every parameter with its default, range and meaning")
    params.add_argument("--section", default=None, help="only this section")
    from .runs.cli import add_backend_args
    from .runs.cli import add_subcommands as _add_experiment_commands

    _add_experiment_commands(sub)  # sweep, analyze, discover
    from .runs.cli import add_dynamics_subcommand

    add_dynamics_subcommand(sub)  # dynamics: stationarity and the corruption equilibrium
    survey = sub.add_parser(
        "survey", help="run a scenario and ask the paper's survey (Tables 5-9): simulated vs observed"
    )
    survey.add_argument("scenario", help="scenario TOML file, e.g. scenarios/turkestan.toml")
    survey.add_argument("--seed", type=_non_negative_int, default=None, help="seed of the run (default 0)")
    survey.add_argument(
        "--quarter",
        type=_non_negative_int,
        default=None,
        help="survey after this reported quarter (0: right after the burn-in; default: the last)",
    )
    survey.add_argument(
        "--governance",
        choices=BY_NAME["governance"].choices,
        default=None,
        help="governance model, overriding the scenario's",
    )
    survey.add_argument(
        "--instrument",
        choices=("paper", "enterprise-survey"),
        default="paper",
        help="paper: the paper's Tables 5-9 (default); enterprise-survey: the World Bank Enterprise "
        "Surveys' graft questions (bribery incidence and depth, gifts 'to get things done')",
    )
    survey.add_argument(
        "--sample",
        type=integer_at_least(1, "a positive integer"),
        default=None,
        help="firms interviewed by the enterprise-survey instrument (default 600)",
    )
    survey.add_argument("--json", action="store_true", help="print one JSON object instead of text tables")
    calibrate = sub.add_parser(
        "calibrate", help="fit the free parameters and s to the survey (tempered SMC); compare s = 0 with s = 1"
    )
    calibrate.add_argument("calibration", help="calibration TOML file, e.g. experiments/calibration_turkestan.toml")
    add_backend_args(calibrate)
    calibrate.add_argument("--out", default=None, help="output directory (default: results/<calibration name>)")
    calibrate.add_argument(
        "--overwrite", action="store_true", help="replace an existing result in the output directory"
    )
    calibrate.add_argument(
        "--quick",
        action="store_true",
        help="the file's [quick] settings (small and fast; no calibrated scenario is written)",
    )
    calibrate.add_argument("--quiet", action="store_true", help="no progress messages")
    calibrate.add_argument(
        "--resume",
        action="store_true",
        help="continue the stored fit (an interrupted one, or a finished one with a raised smc.max_stages) "
        "and replace the result",
    )
    from .report.cli import add_subcommand as _add_compare_command

    _add_compare_command(sub)  # compare: the main job
    from .app.serve import add_subcommand as _add_app_command

    _add_app_command(sub)  # app: the interactive app (needs the app extra to serve)
    _add_table1(sub)
    _add_reachability(sub)
    _add_validate(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: handled like Ctrl-C (workers stopped, a sweep left resumable)."""


def _on_signal(signum, frame) -> None:
    raise Terminated(signal.Signals(signum).name)


def install_signal_handlers() -> None:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` (a KeyboardInterrupt) in the main thread,
    so every command cleans up as on Ctrl-C: workers stopped, staged files removed, locks released."""
    import threading

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _on_signal)


def _rerun_portable(argv: list[str], in_process: bool) -> int:
    """Run the command again with the portable mode's environment, which numpy reads only at its
    import (already done here): the process is replaced, or, when called from Python, a child runs it."""
    import os
    import subprocess

    env = os.environ | machine.portable_environment()
    command = [sys.executable, "-m", "simulation", *argv]
    if in_process:
        return subprocess.run(command, env=env).returncode
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, env)
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    """Run the ``statebiz`` command; returns the exit code (2 for bad input, with a one-line error)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as err:  # argparse: usage errors exit 2 with its own message
        return int(err.code or 0) if isinstance(err.code, int) else 2
    if args.portable and not machine.portable_requested():
        return _rerun_portable(sys.argv[1:] if argv is None else list(argv), in_process=argv is not None)
    problem = machine.check_portable_in_effect()
    if problem:
        print(f"statebiz: warning: {problem}", file=sys.stderr)
    install_signal_handlers()
    problem = _environment_problem(args, sys.argv[1:] if argv is None else argv)
    if problem:
        print(f"statebiz: error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "params":
            return _params(args)
        if args.command == "survey":
            return _survey(args)
        if args.command == "calibrate":
            return _calibrate(args)
        if args.command == "compare":
            from .report.cli import compare_command

            return compare_command(args)
        if args.command == "discover":
            from .runs.cli import discover_command

            return discover_command(args)
        if args.command == "dynamics":
            from .runs.cli import dynamics_command

            return dynamics_command(args)
        if args.command == "app":
            from .app.serve import app_command

            return app_command(args)
        if args.command == "table1":
            return _table1(args)
        if args.command == "reachability":
            return _reachability(args)
        if args.command == "validate":
            return _validate(args)
        if args.command in ("sweep", "analyze"):
            from .runs.cli import analyze_command, sweep_command

            return sweep_command(args) if args.command == "sweep" else analyze_command(args)
    except (ScenarioError, InputError, ResultExistsError, NotADirectoryError) as err:
        print(f"statebiz: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as err:
        if err.errno not in USER_ERRNOS:
            raise
        where = f"{err.filename}: " if err.filename else ""
        print(f"statebiz: error: {where}{err.strerror or err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as err:
        why = "terminated" if isinstance(err, Terminated) else "interrupted"
        print(f"statebiz: {why}; nothing was written", file=sys.stderr)
        return 130
    return 1


def _environment_problem(args, argv: list[str]) -> str | None:
    """What makes the command unable to run in this environment, in one line, or None: a working
    directory that was removed, an option that is not valid UTF-8, a bad ``STATEBIZ_*`` variable."""
    import os

    from .runs.evaluator import read_no_worker_seconds

    try:
        os.getcwd()
    except OSError:
        return "the working directory no longer exists (it was removed or moved); cd to an existing directory"
    for name, value in sorted(vars(args).items()):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    option = name.replace("_", "-")
                    option = f"--{option}" if any(a.startswith(f"--{option}") for a in argv) else option
                    return f"{option}: {item!r} is not allowed; expected a path or value in valid UTF-8"
    try:
        read_no_worker_seconds()
    except ValueError as err:
        return str(err)
    return None


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _survey(args) -> int:
    import json

    from .model import StateBusinessModel
    from .survey import format_report, simulate_survey, survey_report

    scenario = load_scenario(args.scenario, governance=args.governance)
    seed = args.seed if args.seed is not None else 0
    steps = scenario.params["steps"]
    quarter = steps if args.quarter is None else args.quarter
    if quarter > steps:
        raise ScenarioError(
            f"--quarter: {quarter} is not allowed; expected an integer in [0, {steps}] "
            f"(the reported quarters of {args.scenario})"
        )
    if args.sample is not None and args.instrument != "enterprise-survey":
        raise ScenarioError("--sample: only the enterprise-survey instrument takes a sample size")
    model = StateBusinessModel(rng=seed, **scenario.params)
    for _ in range(quarter):
        model.step()
    if args.instrument == "enterprise-survey":
        from .enterprise_survey import DEFAULT_SAMPLE, format_enterprise_report, simulate_enterprise_survey

        try:
            es = simulate_enterprise_survey(model, firms=args.sample or DEFAULT_SAMPLE)
        except ValueError as err:
            raise ScenarioError(f"{args.scenario}: cannot draw the enterprise survey's sample: {err}") from None
        governance = scenario.params["governance"]
        doc = es.as_dict() | {"instrument": "enterprise-survey", "scenario": scenario.name, "seed": seed}
        print(json.dumps(doc) if args.json else format_enterprise_report(es, scenario.name, governance, seed))
        return 0
    try:
        result = simulate_survey(model)
    except ValueError as err:
        raise ScenarioError(f"{args.scenario}: cannot draw the survey's samples: {err}") from None
    report = survey_report(result, scenario=scenario.name, governance=scenario.params["governance"], seed=seed)
    print(json.dumps(report) if args.json else format_report(report))
    return 0


def _calibrate(args) -> int:
    from .calibration import load_calibration, run_calibration
    from .runs.cli import check_backend_args

    check_backend_args(args)
    calib = load_calibration(args.calibration, quick=args.quick)
    out_dir = result_dir(calib.name, args.out, origin=args.calibration)
    if not args.resume:
        check_writable(out_dir, args.overwrite)
    m = run_calibration(
        calib,
        out_dir,
        resume=args.resume,
        backend=args.backend,
        workers=args.workers,
        address=args.dask_address,
        overwrite=args.overwrite,
        quiet=args.quiet,
        command=" ".join(["statebiz", *sys.argv[1:]]),
    )
    probs = ", ".join(f"{g} {p:.3f}" for g, p in m["model_probabilities"].items())
    print(
        f"{calib.name}: {m['simulations']} runs in {m['fit_wall_time_seconds']:.0f} s "
        f"(total {m['wall_time_seconds']:.0f} s); "
        + ("posterior reached" if m["exact_posterior"] else "STOPPED before the posterior: continue with --resume")
    )
    print(f"  model probabilities: {probs}")
    if m["symbiosis"]:
        s = m["symbiosis"]
        print(f"  symbiosis index s: median {s['median']:.2f}, 90% interval [{s['q05']:.2f}, {s['q95']:.2f}]")
    for model, cov in m["coverage_90"].items():
        ppc = ", ".join(f"{t[-1]}: {p:.2f}" for t, p in m["ppc_p_values"][model].items())
        print(
            f"  {model}: 90% coverage totals {cov['total']:.0%}, held-out cohort cells {cov['cohort']:.0%}; "
            f"PPC p-values by table {ppc}"
        )
    print(f"  written to {out_dir}/" + (f" and {m['scenario_written']}" if m.get("scenario_written") else ""))
    return 0


def _params(args) -> int:
    from .scenario import PARAMETERS, SECTIONS

    if args.section is not None and args.section not in SECTIONS:
        raise ScenarioError(f"--section: '{args.section}' is not allowed; expected one of {', '.join(SECTIONS)}")
    for p in PARAMETERS:
        if args.section in (None, p.section):
            print(f"[{p.section}] {p.name} = {p.default!r}  ({p.allowed()}; {p.unit or '-'}) {p.meaning} [{p.source}]")
    return 0


def _run(args) -> int:

    overrides = {"steps": args.steps, "governance": args.governance}
    scenario = load_scenario(args.scenario, **overrides)
    seed = args.seed if args.seed is not None else 0
    out_dir = result_dir(scenario.name, args.out, origin=args.scenario)
    check_writable(out_dir, args.overwrite)
    with result_lock(out_dir):
        return _run_locked(args, scenario, seed, out_dir)


def _run_locked(args, scenario, seed: int, out_dir: Path) -> int:
    from tqdm import tqdm

    from .model import StateBusinessModel

    started = time.perf_counter()
    model = StateBusinessModel(rng=seed, **scenario.params)
    steps = scenario.params["steps"]
    with tqdm(
        total=steps,
        desc=f"{scenario.name} ({scenario.params['governance']})",
        unit="quarter",
        disable=args.quiet or None,
        file=sys.stderr,
    ) as bar:
        while model.running:
            model.step()
            bar.update()
    wall = time.perf_counter() - started

    outcomes = model.outcomes()
    manifest = {
        "scenario": scenario.name,
        "description": scenario.description,
        "scenario_file": str(args.scenario),
        "seed": seed,
        "parameters": scenario.params,
        "explicit_parameters": scenario.explicit,
        "firms_at_start": int(scenario.params["firms"]),
        "reported_quarters": model.reported_quarters,
        "burn_in_quarters": scenario.params["burn_in"],
        "package_versions": package_versions(),
        "lock_sha256": lock_hash(),
        "machine": machine_fingerprint(),
        "git_commit": git_commit(),
        "wall_time_seconds": round(wall, 3),
        "command": " ".join(["statebiz", *sys.argv[1:]]) if sys.argv else "statebiz run",
        "files": {
            "regions.parquet": (
                "per region and quarter: Figure 2 KPIs, corruption, satisfaction, utilities, PPP, HHI, informality, "
                "regime shares"
            ),
            "regimes.parquet": (
                "per region, quarter and Table 1 quadrant: the observer's regime shares (economic weight)"
            ),
            "summary.json": "end-of-run national outcomes (means over the last 4 quarters), as run_model returns them",
        },
    }
    with staged_directory(out_dir, args.overwrite) as tmp:  # all or nothing
        model.region_table().to_parquet(tmp / "regions.parquet", index=False)
        model.regime_table().to_parquet(tmp / "regimes.parquet", index=False)
        (tmp / "summary.json").write_text(json_text(outcomes), encoding="utf-8")
        (tmp / "manifest.json").write_text(json_text(manifest), encoding="utf-8")
    _print_summary(scenario, seed, outcomes, out_dir, wall)
    return 0


def _print_summary(scenario, seed, o, out_dir, wall) -> None:
    from .observer import REGIMES

    p = scenario.params
    print(
        f"{scenario.name}: {p['governance']} model, seed {seed}, "
        f"{p['steps']} quarters after {p['burn_in']} of burn-in, "
        f"{wall:.1f} s"
    )
    print("  regimes (share of output): " + ", ".join(f"{r.replace('_', '-')} {o['regime_' + r]:.0%}" for r in REGIMES))
    print(
        f"  corruption incidence {o['corruption_incidence']:.0%} of firms a year; "
        f"officials corrupt {o['corrupt_share']:.0%}"
    )
    print(
        f"  business satisfied {o['business_satisfied']:.0%}, dissatisfied {o['business_dissatisfied']:.0%}; "
        f"population satisfied {o['population_satisfied']:.0%}, dissatisfied {o['population_dissatisfied']:.0%}"
    )
    print(
        f"  KPIs per quarter: attracted investment {o['attracted_investment']:.1f}, "
        f"fixed investment {o['fixed_investment']:.1f}, "
        f"small businesses {o['small_businesses']:.0f}, off-budget co-financing {o['offbudget_cofinancing']:.1f}, "
        f"high-performance jobs {o['high_performance_jobs']:.0f}, real wages {o['real_wages']:.1f} (start = 100)"
    )
    print(
        f"  HHI {o['hhi']:.4f}, informality {o['informality']:.1%}, "
        f"insiders' share of support {o['insider_support_share']:.0%}"
    )
    print(f"  written to {out_dir}/ (regions.parquet, regimes.parquet, summary.json, manifest.json)")


def _add_table1(sub) -> None:
    table1 = sub.add_parser(
        "table1", help="map the dominant regime over power P x business B at s = 0, 0.5, 1 (Table 1), with a null model"
    )
    table1.add_argument(
        "--seeds", type=integer_at_least(1, "a positive integer"), default=None, help="seeds per cell (default 3)"
    )
    table1.add_argument(
        "--firms", type=integer_at_least(10, "an integer of at least 10"), default=None, help="firms (default 1500)"
    )
    table1.add_argument("--quick", action="store_true", help="a 5 x 5 grid, 2 seeds, 600 firms, burn-in 24")
    add_output_args(table1, "results/table1")


def _table1(args) -> int:
    from tqdm import tqdm

    from .runs import table1 as t1

    out_dir = result_dir("table1", args.out, origin="table1")
    check_writable(out_dir, args.overwrite)
    design = t1.with_settings(t1.QUICK if args.quick else t1.Table1Design(), seeds=args.seeds, firms=args.firms)
    with result_lock(out_dir):
        with tqdm(total=design.runs(), unit="run", disable=args.quiet or None, file=sys.stderr) as bar:
            runs, wall = t1.timed_run(design, lambda done, total: bar.update(1))
        cells = t1.dominant_map(runs)
        quadrants = t1.quadrant_reading(runs)
        facts = t1.summary(cells, quadrants)
        text = t1.format_summary(facts, design, wall)
        manifest = {
            "command": " ".join(["statebiz", *sys.argv[1:]]) if sys.argv else "statebiz table1",
            "design": {k: getattr(design, k) for k in design.__dataclass_fields__},
            "runs": design.runs(),
            "wall_time_seconds": round(wall, 3),
            "files": {
                "runs.csv": "per run and threshold variant: regime shares, quadrant weights, shares within quadrants",
                "cells.csv": "per model, s, P, B: mean shares over seeds, dominant regime, flips under moved cuts",
                "quadrants.csv": "the observer's quadrant reading pooled over the grid, per model, s and variant",
                "regime_maps.png": "dominant regime per cell; hatched cells flip under a threshold moved by +-20%",
                "summary.txt": "the printed summary",
            },
        }
        tables = {"runs.csv": runs, "cells.csv": cells, "quadrants.csv": quadrants}
        _write_result(
            out_dir,
            args.overwrite,
            manifest,
            tables,
            text,
            lambda tmp: t1.plot_maps(cells, tmp / "regime_maps.png", design),
        )
    return 0


def _add_reachability(sub) -> None:
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
    reach.add_argument("--quick", action="store_true", help="24 points, 600 firms")
    add_output_args(reach, "results/reachability")


def _reachability(args) -> int:
    from dataclasses import replace

    from tqdm import tqdm

    from .runs import reachability as rc

    out_dir = result_dir("reachability", args.out, origin="reachability")
    check_writable(out_dir, args.overwrite)
    design = rc.QUICK if args.quick else rc.ReachDesign()
    if args.points is not None:
        design = replace(design, points=args.points)
    with result_lock(out_dir):
        with tqdm(unit="point", disable=args.quiet or None, file=sys.stderr) as bar:
            result, points, wall = rc.timed_search(design, lambda done, total: bar.update(1))
        text = rc.format_table(result, points, design, wall)
        manifest = {
            "command": " ".join(["statebiz", *sys.argv[1:]]) if sys.argv else "statebiz reachability",
            "design": rc.as_dict(design),
            "free_parameters": {n: [rc.BY_NAME[n].low, rc.BY_NAME[n].high] for n in rc.FREE},
            "interval": "exact binomial (Clopper-Pearson) 90% interval of the population share",
            "reached": int(result["within"].sum()),
            "cells": len(result),
            "reached_totals": int(result.loc[result["kind"] == "total", "within"].sum()),
            "totals": int((result["kind"] == "total").sum()),
            "reached_cohort_cells": int(result.loc[result["kind"] == "cohort", "within"].sum()),
            "cohort_cells": int((result["kind"] == "cohort").sum()),
            "wall_time_seconds": round(wall, 3),
            "files": {
                "reachability.csv": "per observed total and cohort cell: share, 90% interval, best share, point",
                "points.csv": "per simulated point: parameters and population shares of every total and cohort cell",
                "summary.txt": "the printed table",
            },
        }
        _write_result(out_dir, args.overwrite, manifest, {"reachability.csv": result, "points.csv": points}, text)
    return 0


#: Where ``statebiz calibrate`` leaves the posterior that ``statebiz validate`` reads by default.
DEFAULT_POSTERIOR = "docs/calibration/posterior.csv"


def _add_validate(sub) -> None:
    from .runs.cli import add_backend_args

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
    val.add_argument("--seed", type=_non_negative_int, default=None, help="root seed (default 20261128)")
    val.add_argument("--quick", action="store_true", help="3 draws x 2 seeds, small worlds, short burn-in")
    val.add_argument(
        "--data",
        default=None,
        help="published figures file (default: the package's simulation/data/validation.toml)",
    )
    add_backend_args(val)
    add_output_args(val, "results/validation")


def _validate(args) -> int:
    from tqdm import tqdm

    from .posterior import load_posterior
    from .runs import validation as vd
    from .runs.cli import check_backend_args

    check_backend_args(args)
    if args.uncalibrated and args.posterior is not None:
        raise ScenarioError("--uncalibrated: not allowed with --posterior; choose one source of parameters")
    data = vd.load_validation_data(args.data)
    base = vd.QUICK if args.quick else vd.ValidationDesign()
    design = vd.with_settings(base, draws=args.draws, seeds=args.seeds, root_seed=args.seed)
    if args.uncalibrated:
        source = vd.uncalibrated(design)
    else:
        path = Path(args.posterior or DEFAULT_POSTERIOR)
        if not path.is_file():
            raise InputError(
                f"{path}: posterior file not found; run `statebiz calibrate experiments/calibration_turkestan.toml` "
                "first, or pass --uncalibrated to run at the scenario defaults (labelled so)"
            )
        source = vd.from_posterior(load_posterior(path, args.model), design)
    out_dir = result_dir("validation", args.out, origin="validate")
    check_writable(out_dir, args.overwrite)
    tqdm.monitor_interval = 0  # no monitor thread: the process backend may then fork safely
    with result_lock(out_dir):
        with tqdm(total=design.runs(), unit="run", disable=args.quiet or None, file=sys.stderr) as bar:
            try:
                res = vd.validate(
                    design,
                    source,
                    data,
                    backend=args.backend,
                    workers=args.workers,
                    address=args.dask_address,
                    progress=lambda done, total: bar.update(1),
                )
            except vd.ValidationRunError as err:
                print(f"statebiz: error: {_one_line(err)}; nothing was written", file=sys.stderr)
                return 1
        manifest = {"command": " ".join(["statebiz", *sys.argv[1:]]) if sys.argv else "statebiz validate"}
        manifest |= vd.manifest(res)

        def draw(tmp: Path) -> None:
            vd.plot_ranking(res, tmp / "ranking.png")
            vd.plot_figures(res, tmp / "figures.png")

        _write_result(out_dir, args.overwrite, manifest, res.tables(), vd.format_summary(res), draw)
    return 0


def _write_result(out_dir, overwrite, manifest, tables, text, draw=None) -> None:
    """Write a command's result all or nothing: its tables (CSV), figures (``draw(tmp)``), the
    printed summary and the manifest with provenance; then print the summary and what was written."""
    manifest = manifest | {
        "package_versions": package_versions(),
        "lock_sha256": lock_hash(),
        "machine": machine_fingerprint(),
        "git_commit": git_commit(),
    }
    with staged_directory(out_dir, overwrite) as tmp:
        for name, frame in tables.items():
            frame.to_csv(tmp / name, index=False)
        if draw is not None:
            draw(tmp)
        (tmp / "summary.txt").write_text(text + "\n", encoding="utf-8")
        (tmp / "manifest.json").write_text(json_text(manifest), encoding="utf-8")
    print(text)
    print(f"  written to {out_dir}/ ({', '.join(manifest['files'])}, manifest.json)")


if __name__ == "__main__":
    sys.exit(main())
