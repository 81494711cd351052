"""4. The survey: the paper's Tables 5–9 asked of the simulated population at the end of every
paired run, observed column totals against the simulated median and 90% predictive interval."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...survey import TABLES, table_question
from ..config import GOVERNANCE
from ..content import Code, Figure, ReportContext, SectionContent, Table, para
from ..figures import MODEL_COLOURS, OBSERVED_COLOUR, pyplot, save, wrap

ANCHOR = "survey"
TITLE = "The survey: simulated vs observed Tables 5–9"


def survey_figure(summary: pd.DataFrame, path, subtitle: str):
    """Observed column totals of Tables 5-9 vs the simulated median and 90% predictive interval."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 5, figsize=(17, 4.9), gridspec_kw={"width_ratios": [5, 3, 3, 3, 3]})
    for ax, table in zip(axes, TABLES):
        s = summary[summary["table"] == table].sort_values("answer_index")
        x = np.arange(len(s))
        for k, g in enumerate(GOVERNANCE):
            dx = -0.15 if k == 0 else 0.15
            med = s[f"{g}_median"].to_numpy()
            ax.errorbar(
                x + dx,
                med,
                yerr=[med - s[f"{g}_p05"].to_numpy(), s[f"{g}_p95"].to_numpy() - med],
                fmt="o" if k == 0 else "s",
                color=MODEL_COLOURS[g],
                capsize=3,
                lw=1.6,
                label=f"{g}: simulated median, 90% predictive interval",
            )
        ax.plot(x, s["observed"], "D", color=OBSERVED_COLOUR, ms=7, mfc="none", mew=1.8, label="observed (paper)")
        labels = [wrap(a, 16) for a in s["answer"]]
        ax.set_xticks(x, labels, fontsize=7.5)
        n = int(s["respondents"].iloc[0])
        ax.set_title(f"Table {table[5:]}\n" + wrap(table_question(table), 38), fontsize=8.5)
        ax.set_ylabel(
            f"respondents (of {n})" if table != "table6" else f"answers (4 utilities × 198 = {n})", fontsize=8
        )
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.1))
    fig.suptitle("The survey: simulated vs observed answers (column totals of Tables 5–9)\n" + subtitle, fontsize=11)
    fig.tight_layout()
    return save(fig, path)


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """``survey.png``."""
    path = survey_figure(ctx.tables["survey"], ctx.out_dir / "survey.png", ctx.sub_paired)
    return {"survey": Figure(path, "Survey: observed vs simulated answer totals, Tables 5–9")}


def table(s: pd.DataFrame) -> Table:
    """Observed totals and, per model, the simulated median [90% PI]; ✗ where the observed is outside."""
    cols = {"table": s["table"].str.replace("table", "Table "), "answer": s["answer"], "observed": s["observed"]}
    for g in GOVERNANCE:
        cols[f"{g}: median [90% PI]"] = [
            f"{m:g} [{a:g}, {b:g}]" + ("" if c else " ✗")
            for m, a, b, c in zip(s[f"{g}_median"], s[f"{g}_p05"], s[f"{g}_p95"], s[f"{g}_covers"])
        ]
    return Table(pd.DataFrame(cols), left=2)


def build(ctx: ReportContext) -> SectionContent:
    """How the survey is simulated, the figure, the table."""
    return SectionContent(
        ANCHOR,
        TITLE,
        [
            para(
                "At the end of every paired run the model is surveyed like the paper's samples (198 residents, 58 "
                "entrepreneurs, stratified by age; ",
                Code("simulation/survey.py"),
                "). Shown: column totals of each table "
                "(Table 6 summed over heat, water, power and gas), observed vs the simulated median and 90% predictive "
                "interval across replications (each replication's sample includes its own sampling error).",
            ),
            *(
                []
                if ctx.config.calibrated
                else [
                    para(
                        "The model is not calibrated to this survey for its new dynamics (the next step fits it), so "
                        "this is a check of how far the hand-set model lies from the observed answers, not a fit.",
                        cls="warning",
                    )
                ]
            ),
            ctx.figures[ANCHOR]["survey"],
            table(ctx.tables["survey"]),
            para("✗: the observed count lies outside the simulated 90% predictive interval.", cls="meta"),
        ],
    )
