"""Along s: the main outcomes at the values of the symbiosis index s between and at the ends
(s = 0 partnership, s = 1 symbiotic), the same levers, seeds and sizes as the paired runs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...observe.observer import REGIMES
from ..content import Code, Figure, ReportContext, SectionContent, Table, fmt_value, para
from ..figures import pyplot, regime_label, save

ANCHOR = "along-s"
TITLE = "Along the symbiosis index s"
LINE = "#009E73"
#: Okabe-Ito colours of the six regimes in the regime-share panel.
REGIME_LINES = dict(zip(REGIMES, ("#000000", "#E69F00", "#0072B2", "#D55E00", "#999999", "#CC79A7")))


def along_figure(along: pd.DataFrame, path, subtitle: str):
    """One panel per outcome (mean and 95% interval over draws x seeds at each s); the regime shares
    of relations together in the last panel."""
    plt = pyplot()
    regimes = [f"regime_{r}" for r in REGIMES]
    singles = [o for o in dict.fromkeys(along["outcome"]) if o not in regimes]
    n = len(singles) + 1
    cols = 4
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.7 * rows + 1.0), sharex=True)
    axes = axes.ravel()
    for ax, o in zip(axes, singles):
        s = along[along["outcome"] == o].sort_values("symbiosis")
        scale = 100.0 if s["unit"].iloc[0] == "pp" else 1.0
        m = s["mean"].to_numpy() * scale
        ax.errorbar(
            s["symbiosis"],
            m,
            yerr=[m - s["ci_low"].to_numpy() * scale, s["ci_high"].to_numpy() * scale - m],
            fmt="o-",
            color=LINE,
            capsize=3,
            lw=1.5,
            ms=5,
        )
        ax.set_title(s["label"].iloc[0], fontsize=9.5)
        ax.set_ylabel("%" if scale == 100.0 else s["unit"].iloc[0], fontsize=8)
        ax.grid(alpha=0.3)
    ax = axes[len(singles)]
    for o in regimes:
        s = along[along["outcome"] == o].sort_values("symbiosis")
        m = s["mean"].to_numpy() * 100
        ax.errorbar(
            s["symbiosis"],
            m,
            yerr=[m - s["ci_low"].to_numpy() * 100, s["ci_high"].to_numpy() * 100 - m],
            fmt="o-",
            color=REGIME_LINES[o[7:]],
            capsize=2,
            lw=1.2,
            ms=3.5,
            label=regime_label(o[7:]),
        )
    ax.set_title("regime shares of relations", fontsize=9.5)
    ax.set_ylabel("%", fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.3), title="regime", title_fontsize=7)
    for extra in axes[n:]:
        extra.set_visible(False)
    values = sorted(along["symbiosis"].unique())
    for ax in axes[:n]:
        ax.set_xticks(values, [f"{v:g}" for v in values])
    for ax in axes[max(0, n - cols) : n]:
        ax.set_xlabel("symbiosis index s", fontsize=8.5)
        ax.xaxis.set_tick_params(labelbottom=True)
    fig.suptitle(
        "Main outcomes along the symbiosis index s (0: partnership, 1: symbiotic), same levers and seeds: "
        "mean with 95% interval over posterior draws × seeds\n" + subtitle,
        fontsize=11,
    )
    fig.tight_layout()
    return save(fig, path)


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """``along_s.png`` (nothing if no value of s between the ends was run)."""
    along = ctx.tables.get("along")
    if along is None or along.empty:
        return {}
    path = along_figure(along, ctx.out_dir / "along_s.png", ctx.sub_paired)
    return {"along": Figure(path, "Main outcomes at each value of s, 95% intervals over draws × seeds")}


def table(along: pd.DataFrame) -> Table:
    """One row per outcome, one column per value of s: mean [95% interval]."""
    values = sorted(along["symbiosis"].unique())
    rows = []
    for o in dict.fromkeys(along["outcome"]):
        s = along[along["outcome"] == o].set_index("symbiosis")
        unit = s["unit"].iloc[0]
        row = {"outcome": s["label"].iloc[0], "unit": "share" if unit == "pp" else unit}
        for v in values:
            r = s.loc[v]
            row[f"s = {v:g}"] = (
                f"{fmt_value(r['mean'], unit)} [{fmt_value(r['ci_low'], unit)}, {fmt_value(r['ci_high'], unit)}]"
                if np.isfinite(r["ci_low"])
                else fmt_value(r["mean"], unit)
            )
        rows.append(row)
    return Table(pd.DataFrame(rows), left=2)


def build(ctx: ReportContext) -> SectionContent:
    """What was run, the figure, the table (or a note that this part was not run)."""
    along = ctx.tables.get("along")
    if along is None or along.empty:
        return SectionContent(
            ANCHOR,
            TITLE,
            [para("Not run: the compare file's [paired] part sets no along_s values between the ends.", cls="meta")],
        )
    values = sorted(along["symbiosis"].unique())
    return SectionContent(
        ANCHOR,
        TITLE,
        [
            para(
                f"The main outcomes at s = {', '.join(f'{v:g}' for v in values)}, end of run (mean of the last four "
                "quarters). The ends are the paired runs (s = 0 partnership, s = 1 symbiotic); the values between "
                f"ran on the same {ctx.draws_seeds(ctx.config.paired)}, sizes and Table 4 levers, so only s changes "
                "along a line. Mean and 95% interval of the level in one realisation over draws × seeds (sd² from "
                "the parameters and the seeds, as in the counterfactuals; not paired differences). Tables: ",
                Code("along_s.csv"),
                ", ",
                Code("along_runs.parquet"),
                ".",
            ),
            ctx.figures[ANCHOR]["along"],
            table(along),
        ],
    )
