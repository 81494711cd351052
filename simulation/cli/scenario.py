"""``statebiz run``, ``survey`` and ``params``: one scenario run, the survey of one run, and the
parameter registry."""

from __future__ import annotations

import sys
import time

from ..scenario import BY_NAME, ScenarioError, load_scenario
from .common import add_output_args, integer_at_least, non_negative_int, result_directory, write_result

#: What ``statebiz run`` writes, as its manifest describes it.
RUN_FILES = {
    "regions.parquet": (
        "per region and quarter: Figure 2 KPIs, corruption, satisfaction, utilities, PPP, HHI, informality, "
        "regime shares"
    ),
    "regimes.parquet": "per region, quarter and Table 1 quadrant: the observer's regime shares (economic weight)",
    "summary.json": "end-of-run national outcomes (means over the last 4 quarters), as run_model returns them",
}


def _add_governance(parser) -> None:
    parser.add_argument(
        "--governance",
        choices=BY_NAME["governance"].choices,
        default=None,
        help="governance model, overriding the scenario's",
    )


def add_run(sub) -> None:
    """Add ``statebiz run`` to the subparsers ``sub``."""
    run = sub.add_parser("run", help="run one scenario and write results/<name>/")
    run.add_argument("scenario", help="scenario TOML file, e.g. scenarios/turkestan.toml")
    run.add_argument(
        "--seed", type=non_negative_int, default=None, help="seed of the run (default: the scenario's, else 0)"
    )
    run.add_argument("--steps", type=non_negative_int, default=None, help="reported quarters (default: the scenario's)")
    run.add_argument(
        "--start",
        choices=BY_NAME["start"].choices,
        default=None,
        help="cold (the burn-in from quarter 0) or warm (from a stored snapshot of these parameters and seed, "
        "built on first use in results/snapshots; docs/ODD.md 5); default: the scenario's",
    )
    _add_governance(run)
    add_output_args(run, "results/<scenario name>")


def add_params(sub) -> None:
    """Add ``statebiz params`` to the subparsers ``sub``."""
    params = sub.add_parser("params", help="list every parameter with its default, range and meaning")
    params.add_argument("--section", default=None, help="only this section")


def add_survey(sub) -> None:
    """Add ``statebiz survey`` to the subparsers ``sub``."""
    survey = sub.add_parser(
        "survey", help="run a scenario and ask the paper's survey (Tables 5-9): simulated vs observed"
    )
    survey.add_argument("scenario", help="scenario TOML file, e.g. scenarios/turkestan.toml")
    survey.add_argument("--seed", type=non_negative_int, default=None, help="seed of the run (default 0)")
    survey.add_argument(
        "--quarter",
        type=non_negative_int,
        default=None,
        help="survey after this reported quarter (0: right after the burn-in; default: the last)",
    )
    _add_governance(survey)
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


def survey_command(args) -> int:
    """Run ``statebiz survey``: one run, then the paper's survey or the Enterprise Surveys' questions."""
    import json

    from ..model import StateBusinessModel
    from ..observe.survey import format_report, simulate_survey, survey_report

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
        from ..observe.enterprise_survey import DEFAULT_SAMPLE, format_enterprise_report, simulate_enterprise_survey

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


def params_command(args) -> int:
    """Run ``statebiz params``: every registered parameter, one line each."""
    from ..scenario import PARAMETERS, SECTIONS

    if args.section is not None and args.section not in SECTIONS:
        raise ScenarioError(f"--section: '{args.section}' is not allowed; expected one of {', '.join(SECTIONS)}")
    for p in PARAMETERS:
        if args.section in (None, p.section):
            print(f"[{p.section}] {p.name} = {p.default!r}  ({p.allowed()}; {p.unit or '-'}) {p.meaning} [{p.source}]")
    return 0


def run_command(args) -> int:
    """Run ``statebiz run``: one scenario, its tables and summary written all or nothing."""
    from tqdm import tqdm

    from ..io import json_text, result_dir
    from ..model import StateBusinessModel

    scenario = load_scenario(args.scenario, steps=args.steps, governance=args.governance, start=args.start)
    seed = args.seed if args.seed is not None else 0
    out_dir = result_dir(scenario.name, args.out, origin=args.scenario)
    with result_directory(out_dir, args.overwrite):
        started = time.perf_counter()
        model = StateBusinessModel(rng=seed, **scenario.params)
        desc = f"{scenario.name} ({scenario.params['governance']})"
        with tqdm(
            total=scenario.params["steps"], desc=desc, unit="quarter", disable=args.quiet or None, file=sys.stderr
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
            "start": model.start_record,  # cold, or warm from which snapshot (simulation.snapshots)
            "wall_time_seconds": round(wall, 3),
            "files": RUN_FILES,
        }
        tables = {"regions.parquet": model.region_table(), "regimes.parquet": model.regime_table()}
        write_result(out_dir, args.overwrite, manifest, tables, files={"summary.json": json_text(outcomes)}, show=False)
    _print_summary(scenario, seed, outcomes, out_dir, wall)
    return 0


def _print_summary(scenario, seed, o, out_dir, wall) -> None:
    from ..observe.observer import REGIMES

    p = scenario.params
    print(
        f"{scenario.name}: {p['governance']} model, seed {seed}, "
        f"{p['steps']} quarters after {p['burn_in']} of burn-in, "
        f"{wall:.1f} s"
    )
    print(
        "  regimes (share of relations): " + ", ".join(f"{r.replace('_', '-')} {o['regime_' + r]:.0%}" for r in REGIMES)
    )
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
