"""The ``statebiz compare`` subcommand (wired into simulation/cli.py): the main job."""

from __future__ import annotations

import sys

from ..runs.cli import add_backend_args, check_backend_args


def add_subcommand(sub) -> None:
    """Add ``statebiz compare`` to the subparsers ``sub``."""
    p = sub.add_parser(
        "compare",
        help="the main job: partnership vs symbiotic on paired seeds -> results/partnership_vs_symbiotic/report.html",
    )
    p.add_argument(
        "compare_file",
        nargs="?",
        default=None,
        help="compare file (default: experiments/partnership_vs_symbiotic.toml)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="small sizes (the file's [quick.*] tables): about a minute on 2 cores, for a first look",
    )
    add_backend_args(p)
    p.add_argument("--out", default=None, help="output directory (default: results/partnership_vs_symbiotic)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing report in the output directory")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def compare_command(args) -> int:
    """Run ``statebiz compare`` with parsed ``args``; returns the exit code."""
    from .compare import run_compare
    from .config import load_compare
    from .runs import RunFailure

    check_backend_args(args)
    config = load_compare(args.compare_file, quick=args.quick)
    try:
        result = run_compare(
            config,
            out_dir=args.out,
            backend=args.backend,
            workers=args.workers,
            address=args.dask_address,
            overwrite=args.overwrite,
            progress=False if args.quiet else None,
            command=" ".join(["statebiz", *sys.argv[1:]]),
        )
    except RunFailure as err:
        print(f"statebiz: error: {err}; nothing was written", file=sys.stderr)
        return 1
    base = "calibrated" if config.calibrated else "NOT calibrated"
    print(
        f"{config.name}: {result.runs} runs on {args.backend}, {result.wall:.1f} s; base scenario "
        f"{config.scenario_path.name} ({base}){' at --quick size' if config.quick else ''}"
    )
    for s in result.statements:
        print(f"  - {s['text']}")
    print(f"  report: {result.out_dir / 'report.html'} (figures and tables in {result.out_dir}/)")
    return 0
