"""6. Methods and provenance: the question, model version, base scenario, sizes, seeds,
intervals, the command and host, and the files written (all values from the manifest)."""

from __future__ import annotations

from ..content import Bold, Code, Pre, ReportContext, Rows, SectionContent, para, rel, row, sizes

ANCHOR = "methods"
TITLE = "Methods and provenance"


def build(ctx: ReportContext) -> SectionContent:
    """The methods table, the base scenario's provenance comments, the list of files."""
    config, m = ctx.config, ctx.manifest
    versions = m.get("package_versions", {})
    rm, levers = config.regime_map, config.levers
    seeds = m.get("replication_seeds", {}).get("paired", [])
    workers = m.get("workers")
    scenario = config.scenario

    def part(label: str, *anchors: str) -> str:
        ref = ctx.section_ref(*anchors)
        return f"{label} ({ref})" if ref else label

    rows = Rows(
        [
            row(
                "Question",
                "How do the partnership and the symbiotic model of state–business relations (two named parameter "
                "presets of the same model) differ on the same seeds?",
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
                "Base scenario",
                Code(rel(config.scenario_path)),
                f" ({scenario.name}: {scenario.description})" if scenario.description else f" ({scenario.name})",
                " — ",
                *(
                    ("calibrated (provenance below)",)
                    if config.calibrated
                    else (
                        Bold("not calibrated"),
                        ": the hand-set Turkestan scenario; no calibrated scenario (",
                        Code("scenarios/turkestan_calibrated.toml"),
                        ") existed when this report ran",
                    )
                ),
            ),
            row(
                "Compare file",
                Code(rel(config.path)),
                f" ({config.name}" + (": " + config.description if config.description else "") + ")",
                " (--quick sizes)" if config.quick else "",
            ),
            row(
                part("Paired runs", "figure2", "differences", "survey"),
                f"{sizes(config, config.paired)}; {config.paired.replications} replications × 2 models",
            ),
            row(
                part("Regime map", "table1"),
                f"grid {ctx.grid} × 2 models; {sizes(config, rm)}; {rm.replications} replications "
                "per cell; design from ",
                Code(rel(rm.experiment.path)),
            ),
            row(
                part("Levers", "levers"),
                f"{len(config.lever_ranges())} levers × low/high × 2 models; {sizes(config, levers)}; "
                f"{levers.replications} replications; ranges from ",
                Code(rel(levers.experiment.path)),
            ),
            row(
                "Seeds",
                f"root seed {config.seed}; replication r of every part runs on ",
                Code(f"SeedSequence({config.seed}, spawn_key=(0, r))"),
                " in both models (paired); paired seeds: " + ", ".join(str(s) for s in seeds),
            ),
            row("Outcomes", "end of run = mean of the last 4 reported quarters (one year); national aggregates"),
            row(
                "Intervals",
                "95% t-interval of the mean over replications (paired: over per-seed differences); survey: 5th–95th "
                "percentile of the simulated counts across replications",
            ),
            row(
                "Runs",
                f"{m.get('runs')} model runs on backend ",
                Code(str(m.get("backend"))),
                (f" ({workers} workers)" if workers else "")
                + f"; {ctx.run_wall:.1f} s running, {ctx.wall:.1f} s in all",
            ),
            row("Command", Code(m.get("command") or "run_compare() from Python")),
            row("Host", f"{m.get('host')}, {m.get('platform')}, Python {versions.get('python', '?')}"),
            row(
                "Not included",
                "the national (20-region) scenario: the comparison is run on the Turkestan case of the paper's "
                "survey only",
            ),
        ]
    )
    blocks = [rows]
    if config.calibrated and config.provenance:
        blocks += [para("Provenance comments of the base scenario file:"), Pre("\n".join(config.provenance))]
    files = [Code(n) if i % 2 == 0 else ", " for n in ctx.files for i in (0, 1)][:-1]
    blocks.append(para("Files in this directory: ", *files, "."))
    return SectionContent(ANCHOR, TITLE, blocks)
