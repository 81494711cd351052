"""``statebiz calibrate``: fit the free parameters and s to the survey (tempered SMC)."""

from __future__ import annotations

from .common import add_backend_args, add_output_args, add_quick, backend_of, check_backend_args, command_line


def add_calibrate(sub) -> None:
    """Add ``statebiz calibrate`` to the subparsers ``sub``."""
    calibrate = sub.add_parser(
        "calibrate", help="fit the free parameters and s to the survey (tempered SMC); compare s = 0 with s = 1"
    )
    calibrate.add_argument("calibration", help="calibration TOML file, e.g. experiments/calibration_turkestan.toml")
    add_backend_args(calibrate)
    add_output_args(calibrate, "results/<calibration name>", quiet="no progress messages")
    add_quick(calibrate, "the file's [quick] settings (no calibrated scenario is written)")
    calibrate.add_argument(
        "--resume",
        action="store_true",
        help="continue the stored fit (an interrupted one, or a finished one with a raised smc.max_stages) "
        "and replace the result",
    )
    calibrate.add_argument(
        "--misfit-of",
        default=None,
        metavar="POSTERIOR",
        help="no fit: the per-table X^2 and Rao-Scott p at the survey's design effect, at the posterior medians "
        "of every model in POSTERIOR (a posterior.csv, e.g. docs/calibration/posterior.csv), run at the "
        "calibration's size; writes misfit.csv and manifest.json",
    )
    calibrate.add_argument(
        "--transient-of",
        default=None,
        metavar="POSTERIOR",
        help="no fit: what the burn-in leaves at the posterior medians of every model in POSTERIOR: each fitted "
        "cell's share at the fit's survey quarter minus the same run's mean over quarters 250-400 (--window), "
        "over --seeds runs from quarter 0; writes transient.csv and manifest.json (the report shows it when it "
        "is copied next to the shipped record as transient.csv and transient_manifest.json)",
    )
    calibrate.add_argument(
        "--window",
        default=None,
        metavar="FROM,TO",
        help="the long-run window of quarters for --transient-of (default 250,400)",
    )
    calibrate.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="runs per model: averaged for --misfit-of (default 4), the transient's sample for --transient-of "
        "(default 32)",
    )
    calibrate.add_argument(
        "--sbc",
        type=int,
        default=None,
        metavar="N",
        help="no fit to the paper: simulation-based calibration, N synthetic datasets per model drawn from the "
        "prior and refitted with the file's sampler (with --quick: its [quick] size); writes sbc_ranks.csv, "
        "sbc_summary.csv, sbc_ranks.png",
    )


def calibrate_command(args) -> int:
    """Run ``statebiz calibrate`` and print the fit's summary."""
    from ..calibration import load_calibration, run_calibration
    from ..calibration.config import CalibrationError
    from ..io import check_writable, result_dir

    check_backend_args(args)
    calib = load_calibration(args.calibration, quick=args.quick)
    given = [
        flag
        for flag, on in (
            ("--misfit-of", args.misfit_of),
            ("--transient-of", args.transient_of),
            ("--sbc", args.sbc is not None),
        )
        if on
    ]
    if len(given) > 1:
        raise CalibrationError(f"{' and '.join(given)}: give one of them")
    if args.window is not None and not args.transient_of:
        raise CalibrationError("--window is for --transient-of only")
    if args.seeds is not None and not (args.misfit_of or args.transient_of):
        raise CalibrationError("--seeds is for --misfit-of or --transient-of only")
    if args.misfit_of:
        return _misfit_command(args, calib)
    if args.transient_of:
        return _transient_command(args, calib)
    if args.sbc is not None:
        return _sbc_command(args, calib)
    out_dir = result_dir(calib.name, args.out, origin=args.calibration)
    if not args.resume:
        check_writable(out_dir, args.overwrite)
    m = run_calibration(
        calib,
        out_dir,
        resume=args.resume,
        **backend_of(args),
        overwrite=args.overwrite,
        quiet=args.quiet,
        command=command_line(),
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
    fresh = m.get("ppc_p_values_fresh") or {}
    for model, cov in m["coverage_90"].items():
        ppc = ", ".join(f"{t[-1]}: {p:.2f}" for t, p in m["ppc_p_values"][model].items())
        if model in fresh:  # the checks on fresh runs say whether a table passes (issue 25)
            fcov = m["coverage_90_fresh"][model]
            new = ", ".join(f"{t[-1]}: {p:.2g}" for t, p in fresh[model].items())
            print(
                f"  {model}: on fresh runs ({m['fresh_draws']} posterior draws, new seeds): 90% coverage totals "
                f"{fcov['total']:.0%}, held-out cohort cells {fcov['cohort']:.0%}; PPC p-values by table {new}"
            )
            print(
                f"  {model}: stored statistics (optimistic): 90% coverage totals {cov['total']:.0%}, "
                f"held-out cohort cells {cov['cohort']:.0%}; PPC p-values by table {ppc}"
            )
            continue
        print(
            f"  {model}: 90% coverage totals {cov['total']:.0%}, held-out cohort cells {cov['cohort']:.0%}; "
            f"PPC p-values by table {ppc}"
        )
    rhat = m.get("r_hat_max") or {}
    if rhat:  # ArviZ's R-hat across the independent runs (undefined with one run)
        text = ", ".join(f"{g} {v:.3f}" if v is not None else f"{g} undefined (one run)" for g, v in rhat.items())
        print(f"  largest R-hat across the independent runs: {text} (posterior_<model>.nc, diagnostics_arviz.csv)")
    print(f"  written to {out_dir}/" + (f" and {m['scenario_written']}" if m.get("scenario_written") else ""))
    return 0


def _misfit_command(args, calib) -> int:
    """``statebiz calibrate FILE --misfit-of POSTERIOR``: the misfit at a posterior's medians, no fit."""
    from ..calibration.checks import misfit
    from ..calibration.config import CalibrationError
    from ..io import result_dir
    from ..runs.evaluator import open_executor
    from .common import result_directory, write_result

    args.seeds = 4 if args.seeds is None else args.seeds
    if args.seeds < 1:
        raise CalibrationError(f"--seeds = {args.seeds} is not allowed; expected an integer >= 1")
    medians = _posterior_medians(calib, args.misfit_of)
    out_dir = result_dir(f"{calib.name}_misfit", args.out, origin=args.calibration)
    with result_directory(out_dir, args.overwrite):
        b = backend_of(args)
        import time

        started = time.perf_counter()
        with open_executor(b["backend"], b["workers"], b["address"]) as pool:
            table = misfit(calib, medians, pool, seeds=args.seeds)
        wall = time.perf_counter() - started
        lines = [f"{calib.name}: misfit at the medians of {args.misfit_of} ({args.seeds} runs per model, {wall:.0f} s)"]
        for r in table.itertuples():
            lines.append(
                f"  {r.model} {r.table}: X^2 {r.x2:.1f} ({r.df} df), X^2/deff {r.x2_over_deff:.1f}, p {r.p_value:.2g}"
                + (
                    f"; worst {r.worst_cell} {r.worst_observed:.0f} vs {r.worst_expected:.1f}"
                    if r.table != "all"
                    else ""
                )
            )
        manifest = {
            "calibration_file": calib.path,
            "posterior_file": str(args.misfit_of),
            "quick": calib.quick,
            "model_settings": calib.model,
            "design_effects": calib.design,
            "medians": medians,
            "seeds": args.seeds,
            "wall_seconds": round(wall, 1),
            "files": {"misfit.csv": "per model and table: X^2, Rao-Scott X^2/deff, p, deff needed, worst cell"},
        }
        write_result(out_dir, args.overwrite, manifest, tables={"misfit.csv": table}, text="\n".join(lines))
    return 0


def _posterior_medians(calib, path) -> dict[str, dict[str, float]]:
    """Per model found in the posterior file ``path``: the posterior medians of its free parameters (s only
    for the model that fits it)."""
    from ..calibration.config import MODELS, CalibrationError
    from ..io import InputError
    from ..posterior import load_posterior

    medians = {}
    for m in MODELS:
        try:
            post = load_posterior(path, m)
        except InputError as err:
            if "no particle of model" in str(err):
                continue
            raise
        medians[m] = {k: v for k, v in post.median().items() if k in calib.model_priors(m) or k == "symbiosis"}
        if MODELS[m] is not None:
            medians[m].pop("symbiosis", None)
    if not medians:
        raise CalibrationError(f"{path}: no model of {', '.join(MODELS)} in the posterior file")
    return medians


def _transient_command(args, calib) -> int:
    """``statebiz calibrate FILE --transient-of POSTERIOR``: what the burn-in leaves at a posterior's medians."""
    import time

    from ..calibration.checks import TRANSIENT_EVERY, TRANSIENT_MARGIN_PP, TRANSIENT_WINDOW, transient
    from ..calibration.config import CalibrationError
    from ..io import model_version, result_dir
    from ..runs.evaluator import open_executor
    from .common import result_directory, write_result

    seeds = 32 if args.seeds is None else args.seeds
    if not 2 <= seeds <= 10000:
        raise CalibrationError(f"--seeds = {seeds} is not allowed; expected an integer in [2, 10000] (an interval)")
    window = TRANSIENT_WINDOW
    if args.window is not None:
        try:
            window = tuple(int(x) for x in args.window.split(","))
            assert len(window) == 2
        except (ValueError, AssertionError):
            raise CalibrationError(f"--window {args.window!r}: expected two quarters FROM,TO") from None
    survey_at = int(calib.run_parameters(calib.models[0], {})["burn_in"]) + int(calib.model.get("steps", 0))
    if not survey_at < window[0] < window[1] <= 10000:
        raise CalibrationError(
            f"--window {window[0]},{window[1]}: expected the fit's survey quarter {survey_at} < FROM < TO <= 10000"
        )
    medians = _posterior_medians(calib, args.transient_of)
    out_dir = result_dir(f"{calib.name}_transient", args.out, origin=args.calibration)
    with result_directory(out_dir, args.overwrite):
        b = backend_of(args)
        started = time.perf_counter()
        with open_executor(b["backend"], b["workers"], b["address"]) as pool:
            table = transient(calib, medians, pool, seeds=seeds, window=window)
        wall = time.perf_counter() - started
        lines = [
            f"{calib.name}: the transient at the medians of {args.transient_of}: each fitted cell's share at the "
            f"survey quarter {survey_at} minus the same run's mean over quarters {window[0]}-{window[1]} "
            f"({seeds} runs per model, {wall:.0f} s; pp, 90% interval over runs)"
        ]
        for m, g in table.groupby("model", sort=False):
            mean6 = g.iloc[-1]
            beyond = g.iloc[:-1][g.iloc[:-1]["beyond_margin"]]
            worst = g.iloc[:-1].loc[g.iloc[:-1]["bias_pp"].abs().idxmax()]
            lines.append(
                f"  {m}: Table 6 satisfied (mean of the utilities) {mean6.bias_pp:+.2f} "
                f"[{mean6.bias_q05_pp:+.2f}, {mean6.bias_q95_pp:+.2f}]; largest {worst.table} {worst.cell} "
                f"{worst.bias_pp:+.2f}; cells surely beyond +-{TRANSIENT_MARGIN_PP:g} pp: "
                + (", ".join(f"{r.table} {r.cell}" for r in beyond.itertuples()) or "none")
            )
        manifest = {
            "calibration_file": calib.path,
            "posterior_file": str(args.transient_of),
            "quick": calib.quick,
            "model_settings": calib.model,
            "model_version": model_version(),
            "medians": medians,
            "seeds": seeds,
            "survey_quarter": survey_at,
            "window": list(window),
            "window_every": TRANSIENT_EVERY,
            "margin_pp": TRANSIENT_MARGIN_PP,
            "wall_seconds": round(wall, 1),
            "files": {
                "transient.csv": "per model and fitted cell (and Table 6 satisfied, the mean of the utilities): the "
                "share at the survey quarter and in the window (%), the bias (pp) with its 90% interval over runs"
            },
        }
        write_result(out_dir, args.overwrite, manifest, tables={"transient.csv": table}, text="\n".join(lines))
    return 0


def _sbc_command(args, calib) -> int:
    """``statebiz calibrate FILE --sbc N``: simulation-based calibration with genuine re-fits."""
    import sys
    import tempfile
    import time
    from pathlib import Path

    from ..calibration.config import CalibrationError
    from ..calibration.sbc import plot_ranks, run_sbc
    from ..io import result_dir
    from ..runs.evaluator import open_executor
    from .common import result_directory, write_result

    if not 2 <= args.sbc <= 10000:
        raise CalibrationError(f"--sbc = {args.sbc} is not allowed; expected an integer in [2, 10000]")
    out_dir = result_dir(f"{calib.name}_sbc", args.out, origin=args.calibration)
    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    with result_directory(out_dir, args.overwrite):
        b = backend_of(args)
        started = time.perf_counter()
        with open_executor(b["backend"], b["workers"], b["address"]) as pool, tempfile.TemporaryDirectory() as work:
            ranks, summary, facts = run_sbc(calib, args.sbc, Path(work), pool, say)
        wall = time.perf_counter() - started
        lines = [f"{calib.name}: SBC, {args.sbc} datasets per model, {wall:.0f} s"]
        for r in summary.itertuples():
            lines.append(
                f"  {r.model} {r.parameter}: chi-square p {r.p_uniform:.2g} ({r.bins} bins), "
                f"90% coverage {r.coverage_90:.2f}"
            )
        manifest = {
            "calibration_file": calib.path,
            "quick": calib.quick,
            "model_settings": calib.model,
            "sampler": calib.abc,
            "datasets_per_model": args.sbc,
            "design_effects": calib.design,
            **facts,
            "wall_seconds": round(wall, 1),
            "files": {
                "sbc_ranks.csv": "per model, dataset, parameter: truth, rank among the particles, 90% interval",
                "sbc_summary.csv": "per model and parameter: chi-square p of uniform ranks, 90% coverage, histogram",
                "sbc_ranks.png": "rank histograms with the 99% band of a uniform histogram",
                "summary.txt": "the command's summary",
            },
        }
        write_result(
            out_dir,
            args.overwrite,
            manifest,
            tables={"sbc_ranks.csv": ranks, "sbc_summary.csv": summary},
            text="\n".join(lines),
            draw=lambda tmp: plot_ranks(ranks, tmp / "sbc_ranks.png"),
        )
    return 0


def add_sensitivity(sub) -> None:
    """Add ``statebiz sensitivity`` to the subparsers ``sub``."""
    from .common import integer_at_least

    sens = sub.add_parser(
        "sensitivity",
        help="global sensitivity (SALib Morris or Sobol) of the survey statistics, the fit and the s = 0 vs "
        "s = 1 differences to the hand-set parameters",
    )
    sens.add_argument("calibration", help="calibration TOML file (its scenario, run size and fitted parameters)")
    sens.add_argument("--method", choices=("morris", "sobol"), default="morris", help="Morris (default) or Sobol")
    sens.add_argument(
        "--size",
        type=integer_at_least(2, "--size"),
        default=10,
        help="Morris trajectories, or Sobol's base sample (a power of 2) (default 10)",
    )
    sens.add_argument(
        "--span",
        default="0.5",
        help="range of each parameter: default x [1 - span, 1 + span] clipped to the registry, or 'registered' "
        "(the whole registered range) (default 0.5)",
    )
    sens.add_argument("--parameters", default=None, help="comma-separated hand-set parameters (default: all of them)")
    sens.add_argument(
        "--at",
        default=None,
        help="values of the fitted parameters for every run, 'name=value,...' (e.g. a fit's posterior medians; "
        "default: the calibration scenario's values)",
    )
    sens.add_argument(
        "--seed",
        type=integer_at_least(0, "--seed"),
        default=None,
        help="root seed of the design and its runs (default the calibration file's; another seed shows how far "
        "a ranking is the seed's)",
    )
    add_backend_args(sens)
    add_output_args(sens, "results/<calibration name>_sensitivity", quiet="no progress messages")
    add_quick(sens, "the calibration file's [quick] model size")


def sensitivity_command(args) -> int:
    """Run ``statebiz sensitivity``: the design's runs, the indices, written atomically with provenance."""
    import sys

    from ..calibration import load_calibration
    from ..calibration.config import CalibrationError
    from ..calibration.sensitivity import ranking, run_sensitivity
    from ..io import result_dir
    from ..runs.evaluator import open_executor
    from .common import result_directory, write_result

    check_backend_args(args)
    calib = load_calibration(args.calibration, quick=args.quick)
    span: float | str = args.span
    if span != "registered":
        try:
            span = float(span)
        except ValueError:
            span = -1.0
        if not 0.0 < span < 1.0:
            raise CalibrationError(
                f"--span = {args.span!r} is not allowed; expected a number in (0, 1) or 'registered'"
            )
    names = None if args.parameters is None else [n.strip() for n in args.parameters.split(",") if n.strip()]
    at = {}
    for item in (args.at or "").split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        try:
            at[key.strip()] = float(value) if sep else float("nan")
        except ValueError:
            at[key.strip()] = float("nan")
        if at[key.strip()] != at[key.strip()]:
            raise CalibrationError(f"--at '{item.strip()}' is not allowed; expected name=number, comma-separated")
    if args.method == "sobol" and args.size & (args.size - 1):
        raise CalibrationError(f"--size = {args.size} is not allowed with --method sobol; expected a power of 2")
    if names is not None:  # bad names before any run
        from ..calibration.sensitivity import hand_set

        allowed = hand_set(calib)
        for n in names:
            if n not in allowed:
                raise CalibrationError(
                    f"{args.calibration}: --parameters '{n}' is not a hand-set parameter of this calibration; "
                    f"expected registry parameters with source 'assumption' ({len(allowed)}: `statebiz params`)"
                )
    from ..calibration.sensitivity import check_at

    at = check_at(calib, at)
    out_dir = result_dir(f"{calib.name}_sensitivity", args.out, origin=args.calibration)
    with result_directory(out_dir, args.overwrite):
        say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
        b = backend_of(args)
        with open_executor(b["backend"], b["workers"], b["address"]) as pool:
            indices, points, facts = run_sensitivity(
                calib, args.method, args.size, span, names, pool, say, at=at, seed=args.seed
            )
        top = ranking(indices, args.method, top=5)
        key = "mu_star" if args.method == "morris" else "ST"
        lines = [
            f"{calib.name} sensitivity ({args.method}, size {args.size}, span {span}): {len(facts['parameters'])} "
            f"hand-set parameters, {facts['runs']} runs in {facts['runs_wall_seconds']:.0f} s "
            f"({facts['seconds_per_run']:.2f} s per run); invalid points {facts['invalid_points']}"
        ]
        for output in (
            "s0_loglik",
            "s1_loglik",
            "diff_loglik",
            "diff_corruption_incidence",
            "diff_business_satisfied",
        ):
            sub = top[top["output"] == output]
            lines.append(f"  {output}: " + ", ".join(f"{r.parameter} {getattr(r, key):.3g}" for r in sub.itertuples()))
        manifest = {
            "calibration_file": calib.path,
            "quick": calib.quick,
            "model_settings": calib.model,
            "design_effects": calib.design,
            **facts,
            "files": {
                "indices.csv": "per output and parameter: Morris mu*, half-width, sigma, mu*/sd (or Sobol S1, ST)",
                "ranking.csv": "per output, the 5 parameters with the largest mu* (or ST)",
                "points.csv": "per design point: the parameters, every output at s = 0 and s = 1, their difference",
                "summary.txt": "the command's summary",
            },
        }
        write_result(
            out_dir,
            args.overwrite,
            manifest,
            tables={"indices.csv": indices, "ranking.csv": top, "points.csv": points},
            text="\n".join(lines),
        )
    return 0
