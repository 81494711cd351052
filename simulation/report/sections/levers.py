"""The levers of Table 4 along s: each lever moved from the low to the high end of its range at
s = 0, at the calibrated s and at s = 1, on the same posterior draws and seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..content import Code, Figure, ReportContext, SectionContent, Table, fmt_diff, para
from ..figures import MODEL_COLOURS, pyplot, save
from ..stats import LEVER_LABELS

ANCHOR = "levers"
TITLE = "Levers of Table 4 along s: at s = 0, the calibrated s and s = 1"
#: The arms in the order shown, their colours (Okabe-Ito) and labels.
ARMS_SHOWN = ("partnership", "calibrated", "symbiotic")
COLOURS = {"calibrated": "#009E73", **MODEL_COLOURS}
LABELS = {"partnership": "s = 0", "calibrated": "calibrated s", "symbiotic": "s = 1"}


def lever_figure(effects: pd.DataFrame, path, subtitle: str):
    """Effect of each lever (high - low) on the headline outcomes at s = 0, calibrated s, s = 1; 95% intervals."""
    plt = pyplot()
    outcomes = list(LEVER_LABELS)
    levers = list(dict.fromkeys(effects["lever"]))
    fig, axes = plt.subplots(
        1, len(outcomes), figsize=(3.3 * len(outcomes) + 1.5, 0.42 * len(levers) + 2.4), sharey=True
    )
    y = np.arange(len(levers))[::-1]
    for ax, o in zip(axes, outcomes):
        label, unit = LEVER_LABELS[o]
        scale = 100.0 if unit == "pp" else 1.0
        arms = [a for a in ARMS_SHOWN if a in set(effects["governance"])]
        for k, g in enumerate(arms):
            e = effects[(effects["governance"] == g) & (effects["outcome"] == o)].set_index("lever").reindex(levers)
            dy = (1 - k) * 0.22
            m = e["effect"].to_numpy() * scale
            ax.errorbar(
                m,
                y + dy,
                xerr=[m - e["ci_low"].to_numpy() * scale, e["ci_high"].to_numpy() * scale - m],
                fmt="os^"[k % 3],
                color=COLOURS.get(g, "#999999"),
                capsize=2,
                ms=4,
                lw=1.3,
                label=LABELS.get(g, g),
            )
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("high − low (percentage points)" if unit == "pp" else f"high − low ({unit})", fontsize=8.5)
        ax.grid(axis="x", alpha=0.3)
    ranges = effects.drop_duplicates("lever").set_index("lever")
    axes[0].set_yticks(
        y,
        [f"{lv.replace('_', ' ')} {ranges.loc[lv, 'low']:g}→{ranges.loc[lv, 'high']:g}" for lv in levers],
        fontsize=8.5,
    )
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=3,
        bbox_to_anchor=(0.5, -0.14),
        title="mean effect, 95% interval over posterior draws × seeds",
    )
    fig.suptitle(
        "Table 4 levers along s: effect of moving each lever from low to high (paired draws and seeds)\n" + subtitle,
        fontsize=11,
    )
    fig.tight_layout()
    return save(fig, path)


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """``levers.png``."""
    path = lever_figure(ctx.tables["levers"], ctx.out_dir / "levers.png", ctx.sub_levers)
    return {
        "levers": Figure(path, "Effect of each Table 4 lever on the headline outcomes at s = 0, calibrated s, s = 1")
    }


def table(e: pd.DataFrame) -> Table:
    """One row per arm and lever, one column per outcome: effect [95% interval] (parameters' share of width²)."""
    wide = e.assign(
        s=[LABELS.get(g, g) for g in e["governance"]],
        cell=[
            f"{fmt_diff(m, u)} [{fmt_diff(a, u)}, {fmt_diff(b, u)}] ({100 * p:.0f}%)"
            for m, a, b, u, p in zip(e["effect"], e["ci_low"], e["ci_high"], e["unit"], e["share_parameters"])
        ],
    )
    wide = wide.pivot_table(index=["s", "lever"], columns="label", values="cell", aggfunc="first", sort=False)
    return Table(wide.reset_index(), left=2)


def build(ctx: ReportContext) -> SectionContent:
    """How the levers are moved, the figure, the table."""
    return SectionContent(
        ANCHOR,
        TITLE,
        [
            para(
                "One lever at a time moved from the low to the high end of its range (ranges of ",
                Code("experiments/levers_morris.toml"),
                "), all other levers at their common values, at three places along s: s = 0, the calibrated s "
                + ("(each posterior draw's own)" if ctx.config.posterior is not None else "(the base scenario's)")
                + f" and s = 1; {ctx.draws_seeds(ctx.config.levers)}, the same in every arm. Effect = high − low "
                "on the same draw and seed; mean and 95% interval over draws × seeds (as in "
                + (ctx.section_ref("differences") or "the counterfactuals")
                + "); in brackets in the table: the parameters' share of the interval's width².",
            ),
            ctx.figures[ANCHOR]["levers"],
            table(ctx.tables["levers"]),
        ],
    )
