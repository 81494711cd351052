"""5. The levers of Table 4, one at a time from the low to the high end of their range, under
each governance model (paired seeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import GOVERNANCE
from ..content import Code, Figure, ReportContext, SectionContent, Table, fmt_diff, para
from ..figures import MODEL_COLOURS, pyplot, save
from ..stats import LEVER_LABELS

ANCHOR = "levers"
TITLE = "Levers of Table 4 under each model"


def lever_figure(effects: pd.DataFrame, path, subtitle: str):
    """Effect of each lever (high - low) on the headline outcomes, both models, 95% intervals."""
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
        for k, g in enumerate(GOVERNANCE):
            e = effects[(effects["governance"] == g) & (effects["outcome"] == o)].set_index("lever").reindex(levers)
            dy = 0.17 if k == 0 else -0.17
            m = e["effect"].to_numpy() * scale
            ax.errorbar(
                m,
                y + dy,
                xerr=[m - e["ci_low"].to_numpy() * scale, e["ci_high"].to_numpy() * scale - m],
                fmt="o" if k == 0 else "s",
                color=MODEL_COLOURS[g],
                capsize=2,
                ms=4,
                lw=1.3,
                label=f"{g} model",
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
        handles, labels, loc="lower center", ncol=2, bbox_to_anchor=(0.5, -0.14), title="mean effect, 95% t-interval"
    )
    fig.suptitle(
        "Table 4 levers, one at a time: effect of moving each lever from low to high (paired seeds)\n" + subtitle,
        fontsize=11,
    )
    fig.tight_layout()
    return save(fig, path)


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """``levers.png``."""
    path = lever_figure(ctx.tables["levers"], ctx.out_dir / "levers.png", ctx.sub_levers)
    return {"levers": Figure(path, "Effect of each Table 4 lever on the headline outcomes, both models")}


def table(e: pd.DataFrame) -> Table:
    """One row per model and lever, one column per outcome: effect [95% interval]."""
    wide = e.assign(
        cell=[
            f"{fmt_diff(m, u)} [{fmt_diff(a, u)}, {fmt_diff(b, u)}]"
            for m, a, b, u in zip(e["effect"], e["ci_low"], e["ci_high"], e["unit"])
        ]
    )
    wide = wide.pivot_table(index=["governance", "lever"], columns="label", values="cell", aggfunc="first", sort=False)
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
                "), under each model (s = 0 and s = 1), all other levers at their common values; effect = high − "
                "low on the same seed, mean and 95% t-interval over replications.",
            ),
            ctx.figures[ANCHOR]["levers"],
            table(ctx.tables["levers"]),
        ],
    )
