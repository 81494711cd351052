"""What it takes: the lever settings (policies) that meet the targets whatever the state of the
world, from a small crossed design (policies x states) of ``experiments/robust_levers.toml``:
PRIM boxes (EMA Workbench) where every target is met, and the most robust policies."""

from __future__ import annotations

import json

from ..content import Code, Figure, ReportContext, SectionContent, Table, para, pct, rel, sizes

ANCHOR = "what-it-takes"
TITLE = "What it takes: robust lever settings"
TOP = 5


def _sizes(ctx: ReportContext) -> str:
    c = ctx.config
    rb = c.robust
    spec = rb.experiment
    n_policies = len({json.dumps({f.name: p[f.name] for f in spec.factors if f.role == "lever"}) for p in rb.points})
    n_states = len(rb.points) // max(n_policies, 1)
    return (
        f"{n_policies} policies x {n_states} states of the world x {rb.replications} seeds = "
        f"{len(rb.points) * rb.replications} runs; {sizes(c, rb)}{ctx.quick}"
    )


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """``what_it_takes.png``: the PRIM boxes where every target is met (nothing if the part was not run)."""
    boxes = ctx.tables.get("robust_boxes")
    if ctx.config.robust is None or boxes is None or boxes.empty:
        return {}
    from ...analysis.discovery import boxes_figure

    met = ctx.tables["robust_met"].iloc[0]
    title = (
        f"Where every target is met ({'; '.join(json.loads(met['targets']))}): PRIM boxes\n"
        f"{int(met['runs_meeting_all'])} of {int(met['runs'])} runs; {_sizes(ctx)}"
    )
    path = boxes_figure(boxes, ctx.tables["robust_limits"], ctx.out_dir / "what_it_takes.png", title)
    return {
        "boxes": Figure(path, "PRIM boxes: the restricted ranges of levers and uncertainties where targets are met")
    }


def _policy_table(policies, levers: list[str], targets: list[str]) -> Table:
    top = policies.head(TOP)
    frame = top[["rank"]].copy()
    for lv in levers:
        frame[lv.replace("_", " ")] = [f"{v:.2f}" for v in top[lv]]
    frame["states meeting all targets"] = [pct(v) for v in top["share_all"]]
    for o in targets:
        frame[f"max regret {o.replace('_', ' ')}"] = [f"{100 * v:.1f} pp" for v in top[f"max_regret_{o}"]]
    return Table(frame, left=1)


def build(ctx: ReportContext) -> SectionContent:
    """The boxes and the most robust policies in plain words, then the figure and the table."""
    rb = ctx.config.robust
    if rb is None or "robust_met" not in ctx.tables:
        why = "the compare file has no [robust] part" if rb is None else "no robust tables in this report"
        return SectionContent(ANCHOR, TITLE, [para(f"Not run: {why}.", cls="meta")])
    spec = rb.experiment
    levers = [f.name for f in spec.factors if f.role == "lever"]
    uncertainties = [f.name for f in spec.factors if f.role != "lever"]
    targets = [t["outcome"] for t in spec.targets]
    met = ctx.tables["robust_met"].iloc[0]
    policies = ctx.tables["robust_policies"]
    boxes = ctx.tables["robust_boxes"]
    goal = " and ".join(json.loads(met["targets"]))
    blocks = [
        para(
            "A policy is a setting of the nine Table 4 levers, the same at both ends; a state of the world a setting "
            "of the uncertainties (",
            ", ".join(
                "governance (partnership s = 0 or symbiotic s = 1)" if u == "governance" else u.replace("_", " ")
                for u in uncertainties
            ),
            "). Every policy ran in every state on the same seeds, a small version of ",
            Code(rel(spec.path)),
            f" ({_sizes(ctx)}). The targets: {goal} (the observed value is Table 7's share of satisfied "
            f"entrepreneurs). {int(met['runs_meeting_all'])} of {int(met['runs'])} runs meet them all.",
        )
    ]
    if boxes.empty:
        blocks.append(para("PRIM found no box where the targets are met more often than elsewhere."))
    for _, b in boxes.iterrows():
        blocks.append(
            para(
                f"Box {int(b['box'])}: the targets are met in {pct(b['density'])} of the runs with "
                f"{b['description']} (density), and these runs hold {pct(b['coverage'])} of all runs that meet "
                f"them (coverage; the box holds {pct(b['mass'])} of all runs)."
            )
        )
    best = policies.iloc[0]
    settings = ", ".join(f"{lv.replace('_', ' ')} {best[lv]:.2f}" for lv in levers)
    regrets = "; ".join(
        f"its largest regret on {o.replace('_', ' ')} is {100 * best[f'max_regret_{o}']:.1f} pp" for o in targets
    )
    blocks.append(
        para(
            f"The most robust policy meets every target in {pct(best['share_all'])} of the "
            f"{int(best['states'])} states: {settings}; {regrets} (regret: the distance to the best policy in "
            "the same state)."
        )
    )
    if "boxes" in ctx.figures.get(ANCHOR, {}):
        blocks.append(ctx.figures[ANCHOR]["boxes"])
    blocks.append(_policy_table(policies, levers, targets))
    blocks.append(
        para(
            "Numbers: robust_policies.csv (every policy: shares of states meeting each target, mean and largest "
            "regret), robust_boxes.csv and robust_limits.csv (PRIM boxes, restricted ranges and quasi-p values), "
            "robust_met.csv and robust_runs.parquet (every run). With so few states these are indications; "
            f"the full experiment is statebiz sweep {rel(spec.path)} then statebiz discover.",
            cls="meta",
        )
    )
    return SectionContent(ANCHOR, TITLE, blocks)
