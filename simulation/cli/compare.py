"""``statebiz compare``: the main job (the report itself is :mod:`simulation.report`)."""

from __future__ import annotations

import sys

from .common import add_backend_args, add_output_args, add_quick, backend_of, check_backend_args, command_line


def add_compare(sub) -> None:
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
    add_quick(p, "the file's [quick.*] tables, about a minute on 2 cores")
    add_backend_args(p)
    add_output_args(p, "results/partnership_vs_symbiotic")


def compare_command(args) -> int:
    """Run ``statebiz compare`` with parsed ``args``; returns the exit code."""
    from ..report.compare import run_compare
    from ..report.config import load_compare
    from ..report.runs import RunFailure

    check_backend_args(args)
    config = load_compare(args.compare_file, quick=args.quick)
    try:
        result = run_compare(
            config,
            out_dir=args.out,
            **backend_of(args),
            overwrite=args.overwrite,
            progress=False if args.quiet else None,
            command=command_line(),
        )
    except RunFailure as err:
        print(f"statebiz: error: {err}; nothing was written", file=sys.stderr)
        return 1
    base = "calibrated" if config.calibrated else "NOT calibrated"
    print(
        f"{config.name}: {result.runs} runs on {args.backend}, {result.wall:.1f} s; base scenario "
        f"{config.scenario_path.name} ({base}){' at --quick size' if config.quick else ''}"
    )
    # the report's first screen (question, answer, headline differences, caveats); the full
    # summary is in the report and in summary.json
    for line in (result.first_screen or "\n".join(f"- {s['text']}" for s in result.statements)).splitlines():
        print(f"  {line}" if line else "")
    print(f"  full summary: {result.out_dir / 'summary.json'}")
    print(f"  report: {result.out_dir / 'report.html'} (figures and tables in {result.out_dir}/)")
    return 0
