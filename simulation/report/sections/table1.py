"""1. The emergent Table 1: the paper's 2×2 matrix of regimes by power and business strength,
read off the regime map's runs, and the dominant regime in every cell of the P × B grid."""

from __future__ import annotations

import pandas as pd

from ...observe.observer import REGIMES
from ..config import GOVERNANCE
from ..content import Figure, ReportContext, SectionContent, Sub, Table, para, pct
from ..figures import MODEL_COLOURS, pyplot, regime_label, save

ANCHOR = "table1"
TITLE = "The emergent Table 1: regimes by power and business strength"


def table1_matrix(t1: pd.DataFrame, path, subtitle: str):
    """The paper's 2x2 matrix per governance model: rows strong / weak power, columns weak /
    strong business; each cell coloured by its dominant regime, listing every regime's share."""
    from matplotlib.patches import Patch, Rectangle

    from ...analysis.analysis import REGIME_COLOURS

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12.5, 5.6))
    for ax, g in zip(axes, GOVERNANCE):
        grp = t1[t1["governance"] == g]
        for i, power in enumerate(("strong", "weak")):
            for j, business in enumerate(("weak", "strong")):
                cell = grp[(grp["power"] == power) & (grp["business"] == business)]
                x, y = j, 1 - i
                dom = cell[cell["dominant"]]
                if dom.empty:
                    ax.add_patch(Rectangle((x, y), 1, 1, facecolor="white", edgecolor="black"))
                    ax.text(x + 0.5, y + 0.5, "no firm in this quadrant", ha="center", va="center", fontsize=9)
                    continue
                regime = dom["regime"].iloc[0]
                ax.add_patch(Rectangle((x, y), 1, 1, facecolor=REGIME_COLOURS[regime], alpha=0.35, edgecolor="black"))
                ax.text(
                    x + 0.5,
                    y + 0.86,
                    regime_label(regime).upper(),
                    ha="center",
                    va="center",
                    fontsize=11,
                    fontweight="bold",
                )
                lines = [f"{regime_label(r):<17}{s:6.0%}" for r, s in zip(cell["regime"], cell["share"])]
                ax.text(x + 0.5, y + 0.42, "\n".join(lines), ha="center", va="center", fontsize=8.5, family="monospace")
                ax.text(
                    x + 0.5,
                    y + 0.07,
                    f"{cell['quadrant_weight'].iloc[0]:.0%} of relations (grid mean)",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    style="italic",
                )
        ax.set_xlim(0, 2)
        ax.set_ylim(0, 2)
        ax.set_xticks([0.5, 1.5], ["weak business\n($B < \\theta_B$)", "strong business\n($B \\geq \\theta_B$)"])
        ax.set_yticks([1.5, 0.5], ["strong power\n($P \\geq \\theta_P$)", "weak power\n($P < \\theta_P$)"])
        ax.tick_params(length=0)
        ax.set_title(f"{g} model", fontsize=12, color=MODEL_COLOURS[g], fontweight="bold")
    fig.legend(
        handles=[Patch(color=REGIME_COLOURS[r], alpha=0.5, label=regime_label(r)) for r in REGIMES],
        loc="lower center",
        ncol=6,
        title="dominant regime (cell colour)",
        bbox_to_anchor=(0.5, -0.13),
    )
    fig.suptitle(
        "Emergent Table 1: regime shares of relations by quadrant (power × business strength)\n" + subtitle, fontsize=11
    )
    fig.tight_layout()
    return save(fig, path)


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """``table1_matrix.png``, and ``regime_map.png`` / ``regime_shares.png`` of the grid's runs."""
    from ...analysis.analysis import regime_maps
    from ...runs.spec import Factor

    config, rm = ctx.config, ctx.config.regime_map
    matrix = table1_matrix(ctx.tables["table1"], ctx.out_dir / "table1_matrix.png", ctx.sub_regime)
    factors = [
        Factor("governance", "lever", values=GOVERNANCE),
        Factor("power_strength", "uncertainty", values=tuple(rm.grid["power_strength"])),
        Factor("business_strength", "uncertainty", values=tuple(rm.grid["business_strength"])),
    ]
    written = regime_maps(ctx.runs["regime_map"].assign(error=None), factors, ctx.out_dir, config.name)
    return {
        "matrix": Figure(
            matrix,
            "The paper's 2×2 matrix (Table 1) for both governance models: the dominant "
            "regime and every regime's share of relations in each quadrant",
        ),
        "map": Figure(
            written[0], "Dominant regime (share of relations) in every cell of the P × B grid, mean over replications"
        ),
    }


def build(ctx: ReportContext) -> SectionContent:
    """How regimes are read, the matrix, the shares table, the grid map."""
    figs = ctx.figures[ANCHOR]
    t1 = ctx.tables["table1"]
    piv = t1.pivot_table(index=["governance", "quadrant"], columns="regime", values="share", sort=False).reset_index()
    piv = piv[["governance", "quadrant", *REGIMES]]
    for r in REGIMES:
        piv[r] = piv[r].map(lambda v: "–" if pd.isna(v) else pct(v))
    intro = para(
        "Regimes are not assigned: the observer reads them off each firm–akimat relation's behaviour over the "
        "last four quarters (ODD 7.11). Runs cover the grid of initial power strength P × business strength B "
        f"({ctx.grid}); each firm falls into a quadrant by P ≥ θ",
        Sub("P"),
        " and its own B ≥ θ",
        Sub("B"),
        ". Shares are of the quadrant's output, pooled over the grid's runs.",
    )
    return SectionContent(ANCHOR, TITLE, [intro, figs["matrix"], Table(piv, left=2), figs["map"]])
