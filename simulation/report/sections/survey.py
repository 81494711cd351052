"""The survey: the paper's Tables 5–9 against their posterior predictive, for column totals and
for cohort cells (every row of a table: an age cohort, or a utility in Table 6)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...observe.survey import TABLES, table_question
from ..config import ARMS
from ..content import Code, Figure, ReportContext, SectionContent, Table, para
from ..figures import MODEL_COLOURS, OBSERVED_COLOUR, pyplot, save, wrap

ANCHOR = "survey"
TITLE = "The survey: observed vs posterior predictive, Tables 5–9"
#: Colours and labels of the arms (Okabe-Ito): the calibrated state and both ends.
ARM_COLOURS = {"calibrated": "#009E73", **MODEL_COLOURS}
ARM_LABELS = {"calibrated": "calibrated s", "partnership": "s = 0", "symbiotic": "s = 1"}


def _arms(frame: pd.DataFrame) -> list[str]:
    return [a for a in ARMS if f"{a}_median" in frame]


def totals_figure(summary: pd.DataFrame, path, subtitle: str):
    """Observed column totals of Tables 5-9 vs the predictive median and 90% interval per arm."""
    plt = pyplot()
    arms = _arms(summary)
    fig, axes = plt.subplots(1, 5, figsize=(17, 4.9), gridspec_kw={"width_ratios": [5, 3, 3, 3, 3]})
    for ax, table in zip(axes, TABLES):
        s = summary[summary["table"] == table].sort_values("answer_index")
        x = np.arange(len(s))
        for k, a in enumerate(arms):
            dx = (k - (len(arms) - 1) / 2) * 0.18
            med = s[f"{a}_median"].to_numpy()
            ax.errorbar(
                x + dx,
                med,
                yerr=[med - s[f"{a}_p05"].to_numpy(), s[f"{a}_p95"].to_numpy() - med],
                fmt="os^"[k],
                color=ARM_COLOURS[a],
                capsize=3,
                lw=1.6,
                ms=4,
                label=f"{ARM_LABELS[a]}: predictive median, 90% interval",
            )
        ax.plot(x, s["observed"], "D", color=OBSERVED_COLOUR, ms=7, mfc="none", mew=1.8, label="observed (paper)")
        ax.set_xticks(x, [wrap(a, 16) for a in s["answer"]], fontsize=7.5)
        n = int(s["respondents"].iloc[0])
        ax.set_title(f"Table {table[5:]}\n" + wrap(table_question(table), 38), fontsize=8.5)
        ax.set_ylabel(
            f"respondents (of {n})" if table != "table6" else f"answers (4 utilities × 198 = {n})", fontsize=8
        )
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.1))
    fig.suptitle("The survey: observed vs posterior predictive (column totals of Tables 5–9)\n" + subtitle, fontsize=11)
    fig.tight_layout()
    return save(fig, path)


def cells_figure(cells: pd.DataFrame, path, subtitle: str):
    """Every cohort cell of Tables 5-9: observed count vs the calibrated state's predictive median
    and 90% interval (rows of a table side by side, answers within a row)."""
    plt = pyplot()
    arm = "calibrated" if "calibrated_median" in cells else _arms(cells)[0]
    fig, axes = plt.subplots(5, 1, figsize=(15, 13))
    for ax, table in zip(axes, TABLES):
        c = cells[cells["table"] == table].sort_values(["row_index", "answer_index"]).reset_index(drop=True)
        x = np.arange(len(c)) + c["row_index"].to_numpy() * 0.8
        med = c[f"{arm}_median"].to_numpy()
        ax.errorbar(
            x,
            med,
            yerr=[med - c[f"{arm}_p05"].to_numpy(), c[f"{arm}_p95"].to_numpy() - med],
            fmt="o",
            color=ARM_COLOURS[arm],
            capsize=2,
            ms=4,
            label=f"{ARM_LABELS[arm]}: predictive median, 90% interval",
        )
        out = ~c[f"{arm}_covers"].to_numpy()
        ax.plot(x[~out], c["observed"][~out], "D", color=OBSERVED_COLOUR, mfc="none", ms=6, label="observed, inside")
        ax.plot(x[out], c["observed"][out], "X", color="#CC79A7", ms=8, label="observed, outside the 90% interval")
        ax.set_xticks(x, [wrap(a, 13) for a in c["answer"]], fontsize=6.5)
        for _, grp in c.groupby("row_index"):
            xs = x[grp.index]
            ax.text(xs.mean(), 1.02, grp["row"].iloc[0], transform=ax.get_xaxis_transform(), ha="center", fontsize=8)
        ax.set_ylabel(f"Table {table[5:]}\nrespondents", fontsize=8.5)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(
        "The survey's cells (rows: age cohorts; Table 6: utilities): observed vs posterior predictive\n" + subtitle,
        fontsize=11,
    )
    fig.tight_layout()
    return save(fig, path)


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """``survey.png`` (totals) and ``survey_cells.png`` (cohort cells)."""
    totals = totals_figure(ctx.tables["survey"], ctx.out_dir / "survey.png", ctx.sub_paired)
    cells = cells_figure(ctx.tables["survey_cells"], ctx.out_dir / "survey_cells.png", ctx.sub_paired)
    return {
        "survey": Figure(totals, "Survey: observed vs posterior predictive answer totals, Tables 5–9"),
        "cells": Figure(cells, "Survey: observed vs posterior predictive per cohort cell, Tables 5–9"),
    }


def coverage(totals: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Per table and arm: how many observed totals and cells fall inside the 90% predictive interval."""
    rows = []
    for table in TABLES:
        t, c = totals[totals["table"] == table], cells[cells["table"] == table]
        row = {"table": table.replace("table", "Table ")}
        for a in _arms(totals):
            row[f"{ARM_LABELS[a]}: totals inside"] = f"{int(t[f'{a}_covers'].sum())} of {len(t)}"
            row[f"{ARM_LABELS[a]}: cells inside"] = f"{int(c[f'{a}_covers'].sum())} of {len(c)}"
        rows.append(row)
    row = {"table": "all"}
    for a in _arms(totals):
        row[f"{ARM_LABELS[a]}: totals inside"] = f"{int(totals[f'{a}_covers'].sum())} of {len(totals)}"
        row[f"{ARM_LABELS[a]}: cells inside"] = f"{int(cells[f'{a}_covers'].sum())} of {len(cells)}"
    rows.append(row)
    return pd.DataFrame(rows)


def table(s: pd.DataFrame) -> Table:
    """Observed totals and, per arm, the predictive median [90% interval]; ✗ where the observed is outside."""
    cols = {"table": s["table"].str.replace("table", "Table "), "answer": s["answer"], "observed": s["observed"]}
    for a in _arms(s):
        cols[f"{ARM_LABELS[a]}: median [90% PI]"] = [
            f"{m:g} [{lo:g}, {hi:g}]" + ("" if c else " ✗")
            for m, lo, hi, c in zip(s[f"{a}_median"], s[f"{a}_p05"], s[f"{a}_p95"], s[f"{a}_covers"])
        ]
    return Table(pd.DataFrame(cols), left=2)


def build(ctx: ReportContext) -> SectionContent:
    """How the predictive is made, the coverage, the figures, the totals table."""
    from ...calibration.config import survey_design

    config = ctx.config
    deff = survey_design()["design_effects"]
    rho = (
        "Dirichlet-multinomial with the draw's fitted overdispersion ρ (a posterior of the previous error "
        "model, which issue 25 removed: rerun the calibration)"
        if config.posterior is not None and "overdispersion" in config.posterior.names
        else "under the survey's design effect (Dirichlet-multinomial with variance n p (1 − p) deff; deff "
        f"from the sampling design, simulation/data/turkestan_survey.toml [design]: {deff['population']:.2f} for "
        f"the residents, {deff['entrepreneurs']:.2f} for the entrepreneurs)"
    )
    return SectionContent(
        ANCHOR,
        TITLE,
        [
            para(
                f"Posterior predictive of the survey: every paired run ({ctx.draws_seeds(config.paired)}, in each "
                "arm) gives the population's answer shares in Turkestan at the end of the run (",
                Code("simulation/observe/survey.py"),
                f"); from each, 20 surveys of the paper's size are simulated, {rho}. Shown: the observed count against "
                "the predictive median and 90% interval (5th–95th percentile), for the column totals (Table 6 "
                "summed over heat, water, power and gas) and for every cell (rows: age cohorts <30, 30–39, 40–49, "
                "50+; Table 6: utilities). Tables: ",
                Code("survey_summary.csv"),
                ", ",
                Code("survey_cells.csv"),
                ".",
            ),
            *(
                []
                if config.posterior is not None
                else [
                    para(
                        "There is no posterior yet: the predictive holds the seeds' and the survey's sampling "
                        "variation at fixed, hand-set parameters. It shows how far the uncalibrated model is from "
                        "the observed answers; it is not a fit.",
                        cls="warning",
                    )
                ]
            ),
            Table(coverage(ctx.tables["survey"], ctx.tables["survey_cells"]), left=1),
            ctx.figures[ANCHOR]["survey"],
            ctx.figures[ANCHOR]["cells"],
            table(ctx.tables["survey"]),
            para("✗: the observed count lies outside the 90% predictive interval.", cls="meta"),
        ],
    )
