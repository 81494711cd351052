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


def calibrate_command(args) -> int:
    """Run ``statebiz calibrate`` and print the fit's summary."""
    from ..calibration import load_calibration, run_calibration
    from ..io import check_writable, result_dir

    check_backend_args(args)
    calib = load_calibration(args.calibration, quick=args.quick)
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
    for model, cov in m["coverage_90"].items():
        ppc = ", ".join(f"{t[-1]}: {p:.2f}" for t, p in m["ppc_p_values"][model].items())
        print(
            f"  {model}: 90% coverage totals {cov['total']:.0%}, held-out cohort cells {cov['cohort']:.0%}; "
            f"PPC p-values by table {ppc}"
        )
    print(f"  written to {out_dir}/" + (f" and {m['scenario_written']}" if m.get("scenario_written") else ""))
    return 0
