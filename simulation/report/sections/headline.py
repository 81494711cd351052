"""At a glance: the report's first screen (issue 26). The question and the answer in one sentence
each, the headline paired differences with their intervals (from ``paired_differences.csv``),
the one figure that carries them, and the caveats that decide how to read them: the warnings
(NOT RECALIBRATED, NOT calibrated, no posterior), whether the survey tells the two models apart,
and which published figures the validation misses. :func:`text` is the same screen as plain text,
for the terminal and ``first_screen.txt``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..content import Figure, ReportContext, SectionContent, Table, fmt_diff, fmt_value, para
from ..figures import MODEL_COLOURS, pyplot, save

ANCHOR = "glance"
TITLE = "At a glance"
NUMBERED = False
#: The headline differences, in this order (rows of ``paired_differences.csv``).
HEADLINE = ("corruption_incidence", "business_satisfied", "population_satisfied", "insider_support_share")
QUESTION = (
    "Question: at the same policies (the Table 4 levers), what changes when the symbiosis index s moves from "
    "0 (the partnership model) to 1 (the symbiotic model)?"
)
#: Validation verdicts that count as a miss.
MISSES = ("model higher", "model lower", "below the published lower bound", "structural")


def headline_rows(diffs: pd.DataFrame) -> pd.DataFrame:
    """The headline outcomes' rows of the paired differences, in :data:`HEADLINE` order."""
    d = diffs.set_index("outcome")
    return d.loc[[o for o in HEADLINE if o in d.index]].reset_index()


def _clause(r) -> str:
    if r["ci_low"] <= 0 <= r["ci_high"]:
        return f"no difference in {r['label']} told apart from the noise ({fmt_diff(r['difference'], r['unit'])})"
    more = "higher" if r["difference"] > 0 else "lower"
    return f"{r['label']} {fmt_diff(abs(r['difference']), r['unit']).lstrip('+')} {more}"


def answer(diffs: pd.DataFrame) -> str:
    """The answer in one sentence, from the headline rows."""
    clauses = [_clause(r) for _, r in headline_rows(diffs).iterrows()]
    listed = "; ".join(clauses[:-1]) + ("; and " if len(clauses) > 1 else "") + clauses[-1]
    return f"Answer: under the symbiotic model (s = 1), {listed}, than under partnership (s = 0), on the same seeds."


def headline_table(diffs: pd.DataFrame) -> Table:
    """The headline differences with their 95% intervals."""
    rows = headline_rows(diffs)
    frame = pd.DataFrame(
        {
            "outcome": rows["label"],
            "s = 0": [fmt_value(v, u) for v, u in zip(rows["partnership"], rows["unit"])],
            "s = 1": [fmt_value(v, u) for v, u in zip(rows["symbiotic"], rows["unit"])],
            "difference": [fmt_diff(v, u) for v, u in zip(rows["difference"], rows["unit"])],
            "95% interval": [
                f"{fmt_diff(a, u)} to {fmt_diff(b, u)}"
                for a, b, u in zip(rows["ci_low"], rows["ci_high"], rows["unit"])
            ],
        }
    )
    return Table(frame, left=1)


def survey_caveat(ctx: ReportContext) -> str | None:
    """Whether the survey tells s = 0 and s = 1 apart (totals inside the 90% predictive interval at each)."""
    survey = ctx.tables.get("survey")
    if survey is None or not {"partnership_covers", "symbiotic_covers"} <= set(survey.columns):
        return None
    return coverage_statement(survey["partnership_covers"], survey["symbiotic_covers"])


def coverage_statement(covers_s0, covers_s1) -> str:
    """The survey's verdict from the totals each model covers, paired by total.

    Only the totals that one model covers and the other does not say anything about which fits
    better; under "no difference" each of them is equally likely to favour either model. So the
    statement names a model only when an exact two-sided sign test on those discordant totals gives
    p < 0.05 (McNemar's exact test); otherwise the survey cannot tell the models apart, however the
    counts differ.
    """
    from scipy.stats import binomtest

    c0 = np.asarray(covers_s0, dtype=bool)
    c1 = np.asarray(covers_s1, dtype=bool)
    a, b, n = int(c0.sum()), int(c1.sum()), len(c0)
    only0, only1 = int((c0 & ~c1).sum()), int((c1 & ~c0).sum())
    inside = f"{a} of {n} observed totals lie inside the 90% predictive interval at s = 0, {b} of {n} at s = 1"
    p = binomtest(only0, only0 + only1).pvalue if only0 + only1 else 1.0
    test = f"sign test on the {only0 + only1} totals covered by one model only, p = {p:.2g}"
    if p >= 0.05:
        return f"The survey cannot tell the two models apart: {inside} ({test})."
    return f"The survey favours s = {0 if only0 > only1 else 1}: {inside} ({test})."


def validation_caveat(ctx: ReportContext) -> str:
    """Which published figures the validation out of sample misses (or that it has not run)."""
    from . import validation

    if getattr(ctx.config, "validation", None) is None:
        return "No validation out of sample in this report (the compare file has no [validation] table)."
    res = validation._result(ctx)
    if res is None:
        return "Validation out of sample: not run yet (statebiz validate), so nothing here is checked against data."
    f = res["figures"]
    missed = f[f["verdict"].astype(str).str.startswith(MISSES)]
    if missed.empty:
        return f"Validation out of sample: all {len(f)} published figures are met."
    groups = []
    for verdict, rows in missed.groupby(missed["verdict"].astype(str).str.split(":").str[0], sort=False):
        labels = "; ".join(dict.fromkeys(rows["label"]))
        groups.append(f"{verdict}: {labels}")
    return (
        f"Validation out of sample misses {len(missed)} of {len(f)} published figures (by scenario): "
        + ". ".join(groups)
        + "."
    )


def caveats(ctx: ReportContext) -> tuple[list[str], list[str]]:
    """(warnings, other caveats) of the first screen."""
    warnings = [s["text"] for s in ctx.statements if s["kind"] == "warning"]
    other = [c for c in (survey_caveat(ctx), validation_caveat(ctx)) if c]
    return warnings, other


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """``headline.png``: the headline differences (symbiotic minus partnership) with their 95% intervals."""
    rows = headline_rows(ctx.tables["differences"])
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.2, 0.42 * len(rows) + 1.3))
    y = np.arange(len(rows))[::-1]
    scale = np.where(rows["unit"] == "pp", 100.0, 1.0)
    m = rows["difference"].to_numpy(dtype=float) * scale
    lo, hi = rows["ci_low"].to_numpy(dtype=float) * scale, rows["ci_high"].to_numpy(dtype=float) * scale
    ax.errorbar(m, y, xerr=[m - lo, hi - m], fmt="o", color=MODEL_COLOURS["symbiotic"], capsize=3, lw=1.6, ms=5)
    for yi, v in zip(y, m):
        ax.annotate(f"{v:+.1f}", (v, yi), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, rows["label"], fontsize=9)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlabel("symbiotic − partnership, percentage points (mean, 95% interval)", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Headline differences, end of run (same levers, paired seeds)", fontsize=10)
    fig.tight_layout()
    return {"headline": Figure(save(fig, ctx.out_dir / "headline.png"), "Headline differences with 95% intervals")}


def build(ctx: ReportContext) -> SectionContent:
    """Question, answer, the headline table beside its figure, the caveats; the summary follows."""
    diffs = ctx.tables["differences"]
    warnings, other = caveats(ctx)
    figure = ctx.figures.get(ANCHOR, {}).get("headline")
    blocks: list[Any] = [para(QUESTION, cls="question"), para(answer(diffs), cls="answer")]
    if figure is not None:
        figure.cls = "side"
        blocks.append(figure)
    blocks.append(headline_table(diffs))
    blocks.append(para(_intervals(diffs), cls="meta"))
    blocks += [para(w, cls="warning short") for w in warnings]
    blocks += [para(c, cls="caveat") for c in other]
    return SectionContent(ANCHOR, TITLE, blocks)


def _intervals(diffs: pd.DataFrame) -> str:
    draws = int(diffs["draws"].max()) if "draws" in diffs else 1
    seeds = int(diffs["seeds"].max()) if "seeds" in diffs else int(diffs["n"].min())
    over = f"{draws} posterior draws × {seeds} paired seeds" if draws > 1 else f"{seeds} paired seeds"
    return (
        f"End of run (mean of the last 4 quarters); 95% intervals over {over}. The full summary and every "
        "table follow below."
    )


def text(ctx: ReportContext) -> str:
    """The first screen as plain text (for the terminal and ``first_screen.txt``)."""
    diffs = ctx.tables["differences"]
    rows = headline_rows(diffs)
    warnings, other = caveats(ctx)
    lines = [*(f"WARNING: {w}" for w in warnings), QUESTION, answer(diffs), ""]
    width = max(len(x) for x in rows["label"])
    for _, r in rows.iterrows():
        lines.append(
            f"  {r['label']:<{width}}  {fmt_value(r['partnership'], r['unit']):>8} -> "
            f"{fmt_value(r['symbiotic'], r['unit']):>8}  {fmt_diff(r['difference'], r['unit'])} "
            f"(95% interval {fmt_diff(r['ci_low'], r['unit'])} to {fmt_diff(r['ci_high'], r['unit'])})"
        )
    lines += ["", _intervals(diffs), *other]
    return "\n".join(lines) + "\n"
