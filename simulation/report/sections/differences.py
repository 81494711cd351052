"""Counterfactuals from the calibrated state: s moved to 0 and to 1 on the same posterior draws
and seeds, each outcome's paired difference with an interval over draws x seeds and the share
of its width from the parameters and from the seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..content import Code, Figure, ReportContext, SectionContent, Table, fmt_diff, fmt_value, para
from ..figures import pyplot, save
from ..stats import CONTRASTS

ANCHOR = "differences"
TITLE = "Counterfactuals: s moved to 0 and to 1 from the calibrated state"
#: Colours of the contrasts (Okabe-Ito): to s = 0, to s = 1, s = 1 - s = 0.
COLOURS = {CONTRASTS[0][2]: "#0072B2", CONTRASTS[1][2]: "#D55E00", CONTRASTS[2][2]: "#555555"}


def forest(counter: pd.DataFrame, path, subtitle: str):
    """Forest plot of the counterfactual differences: shares in percentage points (left), other
    outcomes as % of the calibrated mean (right); 95% intervals over draws x seeds."""
    plt = pyplot()
    shares = counter[counter["unit"] == "pp"]
    others = counter[counter["unit"] != "pp"]
    contrasts = list(dict.fromkeys(counter["contrast"]))
    n = max(shares["outcome"].nunique(), others["outcome"].nunique())
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.55 * n + 2.4))
    for ax, frame, pct, xlabel in (
        (axes[0], shares, True, "difference (percentage points)"),
        (axes[1], others, False, "difference (% of the calibrated state's mean)"),
    ):
        names = list(dict.fromkeys(frame["outcome"]))
        y = np.arange(len(names))[::-1]
        for k, c in enumerate(contrasts):
            f = frame[frame["contrast"] == c].set_index("outcome").reindex(names)
            if pct:
                scale = np.full(len(f), 100.0)
            else:
                ref = counter[(counter["from"] == "calibrated")].groupby("outcome")["from_mean"].first()
                base = ref.reindex(names).to_numpy(dtype=float)
                with np.errstate(divide="ignore", invalid="ignore"):
                    scale = np.where(base != 0, 100.0 / np.abs(base), np.nan)
            m = f["difference"].to_numpy() * scale
            dy = (1 - k) * 0.22
            ax.errorbar(
                m,
                y + dy,
                xerr=[m - f["ci_low"].to_numpy() * scale, f["ci_high"].to_numpy() * scale - m],
                fmt="os^"[k % 3],
                color=COLOURS.get(c, "#999999"),
                ms=4,
                capsize=2,
                lw=1.3,
                label=c,
            )
        ax.axvline(0, color="black", lw=0.8)
        labels = frame.drop_duplicates("outcome").set_index("outcome").reindex(names)
        ax.set_yticks(
            y,
            [f"{lab} [{u}]" if u != "pp" else lab for lab, u in zip(labels["label"], labels["unit"])],
            fontsize=8.5,
        )
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.06), title="mean, 95% interval")
    fig.suptitle(
        "Counterfactuals from the calibrated state, end of run (mean of the last 4 quarters); 95% interval over "
        "posterior draws × paired seeds\n" + subtitle,
        fontsize=11,
    )
    fig.tight_layout()
    return save(fig, path)


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """``counterfactuals.png``."""
    path = forest(ctx.tables["counterfactuals"], ctx.out_dir / "counterfactuals.png", ctx.sub_paired)
    return {"forest": Figure(path, "Counterfactuals from the calibrated state with 95% intervals")}


def table(c: pd.DataFrame) -> Table:
    """One row per outcome: the calibrated state's mean, then per contrast the difference, its 95%
    interval and the parameters' share of the interval's width² (the rest is the seeds')."""
    outcomes = list(dict.fromkeys(c["outcome"]))
    first = c.drop_duplicates("outcome").set_index("outcome").loc[outcomes]
    cols = {"outcome": first["label"].tolist()}
    cal = c[c["from"] == "calibrated"].drop_duplicates("outcome").set_index("outcome")
    if not cal.empty:
        cols["calibrated"] = [
            fmt_value(cal.loc[o, "from_mean"], cal.loc[o, "unit"]) if o in cal.index else "" for o in outcomes
        ]
    for contrast in dict.fromkeys(c["contrast"]):
        rows = c[c["contrast"] == contrast].set_index("outcome")
        cols[contrast] = [
            (
                f"{fmt_diff(r['difference'], r['unit'])} [{fmt_diff(r['ci_low'], r['unit'])}, "
                f"{fmt_diff(r['ci_high'], r['unit'])}] ({100 * r['share_parameters']:.0f}%)"
            )
            if o in rows.index
            else ""
            for o, r in ((o, rows.loc[o] if o in rows.index else None) for o in outcomes)
        ]
    return Table(pd.DataFrame(cols), left=1)


def how(ctx: ReportContext) -> list:
    """How the intervals are made (shared with the levers and the national part)."""
    config = ctx.config
    d, r = config.n_draws(config.paired), config.n_seeds(config.paired)
    if config.posterior is None:
        source = para(
            "No posterior: the calibration has not written ",
            Code(ctx.posterior_name),
            f" yet, so every run uses the base scenario's parameters (one 'draw') on {r} seeds. The intervals are "
            "over seeds only: parameter uncertainty is ABSENT from them, and they understate how uncertain the "
            "effects are.",
            cls="warning",
        )
    else:
        source = para(
            f"{d} posterior draws of the calibration's fitted model (",
            Code(ctx.posterior_name),
            f"), each run on {r} seeds; the draws, the seeds and everything but s are the same in every arm, so "
            "the differences are paired.",
        )
    return [
        source,
        para(
            "Interval: the 2.5th to 97.5th percentile of the paired differences over all draws × seeds: the range of "
            "the difference in one realisation of the region, given what the survey tells about the parameters. "
            "Its variance sd² splits (law of total variance) into the parameters' part (the variance of the "
            "per-draw mean less its own seed noise, W / seeds) and the seeds' part (W, the mean variance over seeds "
            "within a draw). In the table: difference [95% interval] (the parameters' share of sd²; the rest is the "
            f"seeds'), over {ctx.draws_seeds(config.paired)}. Per-run values: ",
            Code("paired_runs.parquet"),
            "; the table: ",
            Code("counterfactuals.csv"),
            ".",
        ),
    ]


def build(ctx: ReportContext) -> SectionContent:
    """How the counterfactuals are computed, the forest plot, the table."""
    cal = (
        "s at each posterior draw"
        if ctx.config.posterior is not None
        else f"s = {ctx.config.base_symbiosis():g} of the base scenario"
    )
    return SectionContent(
        ANCHOR,
        TITLE,
        [
            para(
                f"The calibrated state of Turkestan ({cal}) against the same draws with only s moved: to 0 (the "
                "partnership model) and to 1 (the symbiotic model). Each row is a difference from the calibrated "
                "state on the same (draw, seed) pair, end of run (mean of the last four quarters); the last "
                "contrast, s = 1 − s = 0, is the gap between the two ends."
            ),
            *how(ctx),
            ctx.figures[ANCHOR]["forest"],
            table(ctx.tables["counterfactuals"]),
        ],
    )
