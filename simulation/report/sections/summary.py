"""Summary: plain-language statements, every number taken from a result table (and
``summary.json`` names the file, row and column of each)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...observer import QUADRANTS
from ..config import GOVERNANCE
from ..content import Bullets, Code, ReportContext, SectionContent, num, para, pct, pp, signed

ANCHOR = "summary"
TITLE = "Summary"
NUMBERED = False


def _ref(file: str, where: dict[str, Any], column: str, value: Any, agg: str | None = None) -> dict[str, Any]:
    """A number of the summary and where it comes from: in ``file``, the row matching ``where``
    (or, with ``agg = "sum"``, the sum over the rows matching it), column ``column``."""
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        value = value.item()
    return {"file": file, "where": where, "column": column, "value": value} | ({"agg": agg} if agg else {})


def statements(
    diffs: pd.DataFrame, t1: pd.DataFrame, survey: pd.DataFrame, levers: pd.DataFrame, calibrated: bool, n_seeds: int
) -> list[dict[str, Any]]:
    """Plain-language statements, each with the numbers behind it and the table row they come from."""
    out = []
    d = diffs.set_index("outcome")

    def diff_refs(o):
        w = {"outcome": o}
        return [
            _ref("paired_differences.csv", w, c, d.loc[o, c])
            for c in ("partnership", "symbiotic", "difference", "ci_low", "ci_high")
        ]

    def diff_text(o, phrase):
        r = d.loc[o]
        if r["unit"] == "pp":
            return (
                f"{phrase}: {pct(r['symbiotic'])} under the symbiotic model vs {pct(r['partnership'])} under "
                f"partnership, a paired difference of {pp(r['difference'])} (95% interval {pp(r['ci_low'])} to "
                f"{pp(r['ci_high'])})"
            )
        return (
            f"{phrase}: {num(r['symbiotic'])} vs {num(r['partnership'])} ({r['unit']}), difference "
            f"{signed(r['difference'])} (95% interval {signed(r['ci_low'])} to {signed(r['ci_high'])})"
        )

    if not calibrated:
        out.append(
            {
                "kind": "warning",
                "text": "The model is NOT calibrated yet: it runs on the hand-set Turkestan scenario "
                "(scenarios/turkestan.toml). The numbers below show what the model's mechanisms produce under assumed "
                "parameters; they are not estimates for Turkestan or Kazakhstan.",
                "values": [],
            }
        )
    out.append(
        {
            "kind": "finding",
            "text": diff_text(
                "corruption_incidence", "Corruption (share of firms meeting at least one bribe demand in a year)"
            )
            + f", over {n_seeds} paired seeds.",
            "values": diff_refs("corruption_incidence"),
        }
    )
    for o, phrase in (
        ("business_satisfied", "Business satisfaction (firms satisfied with the akimat)"),
        ("population_satisfied", "Population satisfaction (residents scoring the authorities 4 or 5)"),
    ):
        out.append({"kind": "finding", "text": diff_text(o, phrase) + ".", "values": diff_refs(o)})
    out.append(
        {
            "kind": "finding",
            "text": diff_text("insider_support_share", "Insiders' share of support")
            + "; "
            + diff_text("hhi", "concentration of output (HHI)")
            + ".",
            "values": diff_refs("insider_support_share") + diff_refs("hhi"),
        }
    )
    out.append(
        {
            "kind": "finding",
            "text": "PPP: "
            + "; ".join(
                diff_text(o, p)
                for o, p in (
                    ("ppp_started", "contracts started per quarter"),
                    ("ppp_disputed", "contracts in dispute"),
                    ("ppp_terminated", "contracts terminated"),
                )
            )
            + ".",
            "values": diff_refs("ppp_started") + diff_refs("ppp_disputed") + diff_refs("ppp_terminated"),
        }
    )
    from ...kpi import KPI_NAMES

    kpis = d.loc[list(KPI_NAMES)]
    sig = kpis[kpis["significant"]]
    refs = [_ref("paired_differences.csv", {"outcome": o}, "relative", d.loc[o, "relative"]) for o in sig.index]
    if len(sig):
        listed = ", ".join(f"{d.loc[o, 'label']} {100 * d.loc[o, 'relative']:+.0f}%" for o in sig.index)
        text = (
            f"Figure 2 indicators: {len(sig)} of {len(KPI_NAMES)} differ between the models beyond seed noise "
            f"(95% interval excludes 0); symbiotic relative to partnership: {listed}."
        )
    else:
        text = f"Figure 2 indicators: none of the {len(KPI_NAMES)} differs between the models beyond seed noise."
    out.append({"kind": "finding", "text": text, "values": refs})

    parts, refs = [], []
    for g in GOVERNANCE:
        cells = []
        for q in QUADRANTS:
            dom = t1[(t1["governance"] == g) & (t1["quadrant"] == q) & t1["dominant"]]
            if dom.empty:
                continue
            r = dom.iloc[0]
            cells.append(f"{q.replace('_', ' ')}: {r['regime'].replace('_', '-')} ({pct(r['share'])})")
            refs.append(
                _ref("table1.csv", {"governance": g, "quadrant": q, "regime": r["regime"]}, "share", r["share"])
            )
        parts.append(f"under the {g} model, " + "; ".join(cells))
    out.append(
        {
            "kind": "finding",
            "text": "Table 1 (dominant regime by share of output in each quadrant): " + ". And ".join(parts) + ".",
            "values": refs,
        }
    )

    refs, bits = [], []
    for g in GOVERNANCE:
        covered = int(survey[f"{g}_covers"].sum())
        refs.append(_ref("survey_summary.csv", {}, f"{g}_covers", covered, agg="sum"))
        bits.append(f"{covered} of {len(survey)} under the {g} model")
    row9 = survey[(survey["table"] == "table9") & (survey["answer_index"] == 0)].iloc[0]
    for c in ("observed", "partnership_median", "symbiotic_median"):
        refs.append(_ref("survey_summary.csv", {"table": "table9", "answer_index": 0}, c, row9[c]))
    out.append(
        {
            "kind": "finding",
            "text": "Survey: the observed answer totals of Tables 5–9 fall inside the simulated 90% "
            f"predictive interval for {', '.join(bits)}. Entrepreneurs reporting constant corruption (Table 9): "
            f"{row9['observed']} of 58 observed; simulated median {row9['partnership_median']:g} (partnership), "
            f"{row9['symbiotic_median']:g} (symbiotic).",
            "values": refs,
        }
    )

    bits, refs = [], []
    for g in GOVERNANCE:
        e = levers[(levers["governance"] == g) & (levers["outcome"] == "corruption_incidence")].sort_values("effect")
        best = e.iloc[0]
        w = {"governance": g, "lever": best["lever"], "outcome": "corruption_incidence"}
        refs += [_ref("lever_effects.csv", w, c, best[c]) for c in ("effect", "ci_low", "ci_high")]
        bits.append(
            f"under the {g} model {best['lever'].replace('_', ' ')} ({best['low']:g}→{best['high']:g}: "
            f"{pp(best['effect'])}, 95% interval {pp(best['ci_low'])} to {pp(best['ci_high'])})"
        )
    out.append(
        {
            "kind": "finding",
            "text": "Levers: the lever that lowers corruption incidence most when moved from the low "
            "to the high end of its range is " + "; ".join(bits) + ".",
            "values": refs,
        }
    )
    return out


def build(ctx: ReportContext) -> SectionContent:
    """Warnings first, then the findings as a list, then how to read them."""
    warnings = [para(s["text"], cls="warning") for s in ctx.statements if s["kind"] == "warning"]
    findings = Bullets([[s["text"]] for s in ctx.statements if s["kind"] != "warning"], cls="summary")
    note = para(
        "Every number above is read from a table in this directory (",
        Code("summary.json"),
        ' names the file, row and column of each). "pp": percentage points. An effect whose 95% interval '
        "includes 0 is not told apart from seed noise.",
        cls="meta",
    )
    return SectionContent(ANCHOR, TITLE, [*warnings, findings, note])
