"""2. The six Figure 2 indicators (by which akims are evaluated) over time, both models."""

from __future__ import annotations

import pandas as pd

from ...observe.kpi import KPI_NAMES
from ..config import GOVERNANCE
from ..content import Figure, ReportContext, SectionContent, para
from ..figures import MODEL_COLOURS, pyplot, save
from ..stats import KPI_LABELS

ANCHOR = "figure2"
TITLE = "Figure 2 indicators over time"


def kpi_timeseries(summary: pd.DataFrame, path, subtitle: str):
    """The six Figure 2 indicators per quarter: mean across replications and 95% band."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.2), sharex=True)
    for ax, k in zip(axes.ravel(), KPI_NAMES):
        for g in GOVERNANCE:
            s = summary[(summary["governance"] == g) & (summary["indicator"] == k)].sort_values("quarter")
            ax.plot(
                s["quarter"],
                s["mean"],
                color=MODEL_COLOURS[g],
                lw=1.8,
                label=f"{g}: mean",
                ls="-" if g == "partnership" else "--",
            )
            ax.fill_between(
                s["quarter"], s["ci_low"], s["ci_high"], color=MODEL_COLOURS[g], alpha=0.2, label=f"{g}: 95% interval"
            )
        label, unit = KPI_LABELS[k]
        ax.set_title(label, fontsize=10)
        ax.set_ylabel(unit, fontsize=8.5)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("reported quarter (after burn-in)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.04))
    fig.suptitle(
        "Figure 2 indicators by governance model: mean across replications with 95% t-interval\n" + subtitle,
        fontsize=11,
    )
    fig.tight_layout()
    return save(fig, path)


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """``kpi_timeseries.png``."""
    path = kpi_timeseries(ctx.tables["timeseries"], ctx.out_dir / "kpi_timeseries.png", ctx.sub_paired)
    return {"timeseries": Figure(path, "Figure 2 indicators over time, both governance models")}


def build(ctx: ReportContext) -> SectionContent:
    """What is plotted, and the figure."""
    return SectionContent(
        ANCHOR,
        TITLE,
        [
            para(
                "The six indicators by which akims are evaluated (the paper's Figure 2), "
                "national aggregate per reported "
                "quarter; line: mean across replications, band: 95% t-interval of the mean."
            ),
            ctx.figures[ANCHOR]["timeseries"],
        ],
    )
