"""6. Methods and provenance: the question, model version, base scenario, sizes, seeds,
intervals, the command and host, and the files written (all values from the manifest)."""

from __future__ import annotations

import pandas as pd

from ..config import GOVERNANCE
from ..content import Bold, Code, Pre, ReportContext, Rows, SectionContent, Table, para, rel, row, sizes

ANCHOR = "methods"
TITLE = "Methods and provenance"


def setup_rows(ctx: ReportContext) -> list:
    """The methods table's first rows: the question, the model, the machine, the inputs."""
    config, m = ctx.config, ctx.manifest
    versions = m.get("package_versions", {})
    scenario = config.scenario
    return [
        row(
            "Question",
            "What would change in Turkestan (and in the 20 regions) if the symbiosis index s moved from its "
            "calibrated value to 0 (the partnership model) or to 1 (the symbiotic model), at the same policies, "
            "and how do the Table 4 levers act along s? Both ends run with the same Table 4 levers (table "
            "below); only s differs, and the governance strengths act in proportion to s.",
        ),
        row(
            "Model",
            f"statebiz (Mesa {versions.get('mesa', '?')}), ODD in ",
            Code("docs/ODD.md"),
            "; model version (hash of the model's source) ",
            Code(str(m.get("model_version", "?"))),
            "; git commit ",
            Code(str(m.get("git_commit", "?"))),
        ),
        row(
            "Machine class",
            Code(str((m.get("machine") or {}).get("machine_class", "not recorded"))),
            " (portable mode)" if (m.get("machine") or {}).get("portable") else "",
            ": every run of this report was made on this class, so the same seeds give the same numbers "
            "to the bit on any machine of it; another class (another CPU generation) agrees to about 1e-14 "
            "relative over a full run, and no discrete event was seen to differ (README, Reproducibility "
            "across machines)",
        ),
        row(
            "Base scenario",
            Code(rel(config.scenario_path)),
            f" ({scenario.name}: {scenario.description})" if scenario.description else f" ({scenario.name})",
            " — ",
            *(
                ("calibrated (provenance below)",)
                if config.calibrated
                else (
                    Bold("not calibrated"),
                    " to the survey: the hand-set Turkestan scenario. The calibrated scenario named in the "
                    "compare file (",
                    Code(rel(config.calibrated_path)) if config.calibrated_path else "none named",
                    ") does not exist; `statebiz calibrate experiments/calibration_turkestan.toml` writes it, "
                    "and the report uses it once it is written",
                )
            ),
        ),
        row(
            "Posterior",
            *(
                (
                    Code(rel(config.posterior.path)),
                    f" (fitted model: {len(config.posterior.weights)} weighted particles, effective sample size "
                    f"{config.posterior.ess():.0f}; free parameters {', '.join(config.posterior.names)}); draws "
                    "with replacement in proportion to the weights, from one stream seeded by the root seed (",
                    Code("posterior_draws.csv"),
                    ")",
                )
                if config.posterior is not None
                else (
                    Bold("none"),
                    " (",
                    Code(ctx.posterior_name),
                    " does not exist): every run uses the base scenario's parameters, and the intervals hold "
                    "seed noise only",
                )
            ),
        ),
        row(
            "Compare file",
            Code(rel(config.path)),
            f" ({config.name}" + (": " + config.description if config.description else "") + ")",
            " (--quick sizes)" if config.quick else "",
        ),
    ]


def run_rows(ctx: ReportContext) -> list:
    """The methods table's other rows: the parts' sizes, the seeds, intervals, runs, command and host."""
    config, m = ctx.config, ctx.manifest
    versions = m.get("package_versions", {})
    rm, levers = config.regime_map, config.levers
    seeds = m.get("replication_seeds", {}).get("paired", [])
    workers = m.get("workers")

    def part(label: str, *anchors: str) -> str:
        ref = ctx.section_ref(*anchors)
        return f"{label} ({ref})" if ref else label

    return [
        row(
            part("Paired runs", "figure2", "differences", "survey"),
            f"{sizes(config, config.paired)}; {ctx.draws_seeds(config.paired)} × 3 arms (the calibrated s, "
            "s = 0, s = 1)",
        ),
        row(
            part("Along s", "along-s"),
            (
                f"s = {', '.join(f'{v:g}' for v in config.paired.along_s)} between the ends, on the paired "
                "runs' seeds, sizes and levers (the ends are the paired runs)"
            )
            if config.paired.along_s
            else "not run (no along_s values in [paired])",
        ),
        row(
            part("Regime map", "table1"),
            f"grid {ctx.grid} × 2 models; {sizes(config, rm)}; {rm.replications} replications per cell; design from ",
            Code(rel(rm.experiment.path)),
        ),
        row(
            part("Levers", "levers"),
            f"{len(config.lever_ranges())} levers × low/high × 3 arms (s = 0, calibrated s, s = 1); "
            f"{sizes(config, levers)}; {ctx.draws_seeds(levers)}; ranges from ",
            Code(rel(levers.experiment.path)),
        ),
        row(
            part("National", "national"),
            (
                f"{rel(config.national.scenario_path)} (20 regions) × 2 arms (s = 0, s = 1); "
                f"{sizes(config, config.national)}; {ctx.draws_seeds(config.national)}"
            )
            if config.national is not None
            else "not run (no [national] part)",
        ),
        row(
            "Seeds",
            f"root seed {config.seed}; in the posterior parts unit u = d × R + r (draw d, replication r) runs on ",
            Code(f"SeedSequence({config.seed}, spawn_key=(0, u))"),
            " in every arm (paired); in the other parts replication r on spawn_key (0, r); paired seeds: "
            + ", ".join(str(s) for s in seeds[:8])
            + (f", … ({len(seeds)} in all, manifest.json)" if len(seeds) > 8 else ""),
        ),
        row("Outcomes", "end of run = mean of the last 4 reported quarters (one year); national aggregates"),
        row(
            "Intervals",
            "posterior parts (counterfactuals, along s, levers, national): 2.5th–97.5th percentile over draws × "
            "seeds; their variance sd² = parameters' part (variance of the per-draw means less W / R) + seeds' "
            "part (W, the mean variance over seeds within a draw), law of total variance; each part's share of "
            "sd² is reported. Without a posterior: one draw on draws × replications seeds. "
            "Figure 2 series and the regime map: 95% t-interval of the mean over replications (fixed "
            "parameters: the base scenario). Survey: 5th–95th percentile of the posterior predictive "
            "(Dirichlet-multinomial, 20 surveys per paired run)",
        ),
        row(
            "Runs",
            f"{m.get('runs')} model runs on backend ",
            Code(str(m.get("backend"))),
            (f" ({workers} workers)" if workers else "") + f"; {ctx.run_wall:.1f} s running, {ctx.wall:.1f} s in all",
        ),
        row("Command", Code(m.get("command") or "run_compare() from Python")),
        row("Host", f"{m.get('host')}, {m.get('platform')}, Python {versions.get('python', '?')}"),
        row(
            "Not included",
            "parameter uncertainty in the regime map (Table 1), the Figure 2 series' intervals and 'What it "
            "takes': they run on the base scenario's fixed parameters (the posterior medians when calibrated)",
        ),
    ]


def build(ctx: ReportContext) -> SectionContent:
    """The methods table, the base scenario's provenance comments, the list of files."""
    config = ctx.config
    rows = Rows([*setup_rows(ctx), *run_rows(ctx)])
    ends = ctx.tables["ends"]
    shown = pd.DataFrame(
        {
            "parameter": ends["parameter"].str.replace("_", " "),
            "kind": ends["kind"],
            **{f"{g} (s = {config.ends()[g]['symbiosis']:g})": [f"{v:g}" for v in ends[g]] for g in GOVERNANCE},
            "at both ends": [
                "differs: the governance model" if p == "symbiosis" else ("equal" if e else "DIFFERS")
                for p, e in zip(ends["parameter"], ends["equal"])
            ],
        }
    )
    blocks = [
        rows,
        para(
            "The two ends of the paired runs: the symbiosis index and the Table 4 levers (every other parameter is "
            "equal too; ",
            Code("ends.csv"),
            ", ",
            Code("manifest.json"),
            " under ",
            Code("ends"),
            "):",
        ),
        Table(shown, left=2),
    ]
    if config.calibrated and config.provenance:
        blocks += [para("Provenance comments of the base scenario file:"), Pre("\n".join(config.provenance))]
    files = [Code(n) if i % 2 == 0 else ", " for n in ctx.files for i in (0, 1)][:-1]
    blocks.append(para("Files in this directory: ", *files, "."))
    return SectionContent(ANCHOR, TITLE, blocks)
