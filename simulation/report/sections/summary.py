"""Summary: plain-language statements, every number taken from a result table (and
``summary.json`` names the file, row and column of each)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...observe.observer import QUADRANTS
from ..config import GOVERNANCE
from ..content import (
    Bullets,
    Code,
    ReportContext,
    SectionContent,
    calibration_stale,
    num,
    para,
    pct,
    pp,
    signed,
)

ANCHOR = "summary"
TITLE = "Summary"
NUMBERED = False


def _ref(file: str, where: dict[str, Any], column: str, value: Any, agg: str | None = None) -> dict[str, Any]:
    """A number of the summary and where it comes from: in ``file``, the row matching ``where``
    (or, with ``agg = "sum"``, the sum over the rows matching it), column ``column``."""
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        value = value.item()
    return {"file": file, "where": where, "column": column, "value": value} | ({"agg": agg} if agg else {})


#: The governance strengths that act in proportion to s (ODD; ``simulation/parameters.py``).
STRENGTHS = (
    "favouritism in tenders and support, the akim's weight on rents, bias against outsiders, dominant insider "
    "firms, larger clienteles, patronage protection, expedited approvals and projects for connected firms"
)


def ends_statement(ends: pd.DataFrame) -> dict[str, Any]:
    """What the two ends are: the same Table 4 levers, s = 0 vs s = 1 (from ``ends.csv``)."""
    e = ends.set_index("parameter")
    levers = e[e["kind"] == "Table 4 lever"]
    refs = [_ref("ends.csv", {"parameter": "symbiosis"}, g, e.loc["symbiosis", g]) for g in GOVERNANCE]
    refs += [_ref("ends.csv", {"parameter": n}, g, levers.loc[n, g]) for n in levers.index for g in GOVERNANCE]
    listed = ", ".join(f"{n.replace('_', ' ')} {levers.loc[n, 'partnership']:g}" for n in levers.index)
    unequal = [n.replace("_", " ") for n in levers.index if not levers.loc[n, "equal"]]
    same = (
        f"Both models run with the same {len(levers)} Table 4 levers ({listed})"
        if not unequal
        else f"The models run with different values of {', '.join(unequal)} (check the compare file)"
    )
    return {
        "kind": "design",
        "text": f"{same} and differ only in the symbiosis index s: s = {e.loc['symbiosis', 'partnership']:g} is the "
        f"partnership model, s = {e.loc['symbiosis', 'symbiotic']:g} the symbiotic model. The levers are policies "
        f"common to both; s is the governance model: at s > 0 the governance strengths ({STRENGTHS}) act in "
        "proportion to s.",
        "values": refs,
    }


def along_statement(along: pd.DataFrame) -> dict[str, Any] | None:
    """Corruption and satisfaction at every value of s (from ``along_s.csv``); None if not run."""
    if along is None or along.empty:
        return None
    values = sorted(along["symbiosis"].unique())
    bits, refs = [], []
    for o in ("corruption_incidence", "business_satisfied", "population_satisfied"):
        rows = along[along["outcome"] == o].set_index("symbiosis").loc[values]
        bits.append(
            f"{rows['label'].iloc[0]} "
            + ", ".join(f"{pct(r['mean'])} [{pct(r['ci_low'])}, {pct(r['ci_high'])}]" for _, r in rows.iterrows())
        )
        for s in values:
            refs += [
                _ref("along_s.csv", {"symbiosis": s, "outcome": o}, c, rows.loc[s, c])
                for c in ("mean", "ci_low", "ci_high")
            ]
    return {
        "kind": "finding",
        "text": f"Along s (at s = {', '.join(f'{v:g}' for v in values)}; mean and 95% interval over draws × seeds): "
        + "; ".join(bits)
        + ".",
        "values": refs,
    }


def posterior_statements(ctx: ReportContext) -> list[dict[str, Any]]:
    """The posterior of s and the model probabilities; the counterfactuals of corruption; the
    national part (from the calibration's files, ``counterfactuals.csv`` and ``national.csv``)."""
    from .posterior import evidence_facts, model_probabilities, s_summary

    out = []
    s = s_summary(ctx)
    if s is not None:
        text = (
            f"Calibration: the survey puts the symbiosis index s of Turkestan at {s['median']:.2f} (posterior median; "
            f"90% interval {s['q05']:.2f} to {s['q95']:.2f})"
        )
        probs, _ = model_probabilities(ctx.config.posterior_path.parent / "manifest.json")
        if probs and {"partnership", "symbiotic"} <= set(probs):
            text += (
                f"; the partnership model (s = 0) has probability {probs['partnership']:.2f} and the symbiotic "
                f"model (s = 1) {probs['symbiotic']:.2f}"
            )
            choice = evidence_facts(ctx.config.posterior_path.parent / "manifest.json").get("model_choice")
            text += (
                f". {choice.rstrip('.')}"
                if choice
                else " (one evidence estimate per model: its Monte Carlo error is not measured, so whether the "
                "survey tells the models apart is not established)"
            )
        out.append({"kind": "finding", "text": text + ".", "values": []})
    c = ctx.tables.get("counterfactuals")
    if c is not None and not c.empty:
        rows = c[(c["from"] == "calibrated") & (c["outcome"] == "corruption_incidence")]
        bits, refs = [], []
        for _, r in rows.iterrows():
            bits.append(
                f"{'to s = 0' if r['to'] == 'partnership' else 'to s = 1'} {pp(r['difference'])} "
                f"(95% interval {pp(r['ci_low'])} to {pp(r['ci_high'])}; parameters {100 * r['share_parameters']:.0f}% "
                "of the width²)"
            )
            refs += [
                _ref("counterfactuals.csv", {"contrast": r["contrast"], "outcome": r["outcome"]}, k, r[k])
                for k in ("difference", "ci_low", "ci_high", "share_parameters")
            ]
        if bits:
            out.append(
                {
                    "kind": "finding",
                    "text": f"Counterfactuals: from the calibrated state ({pct(rows['from_mean'].iloc[0])} of firms "
                    "meeting a bribe demand in a year), moving s changes corruption incidence " + "; ".join(bits) + ".",
                    "values": refs,
                }
            )
    n = ctx.tables.get("national")
    if n is not None and not n.empty:
        corr = n[n["outcome"] == "corruption_incidence"]
        up = int((corr["ci_low"] > 0).sum())
        lo, hi = corr.loc[corr["difference"].idxmin()], corr.loc[corr["difference"].idxmax()]
        out.append(
            {
                "kind": "finding",
                "text": f"Kazakhstan's 20 regions: moving s from 0 to 1 changes corruption incidence by "
                f"{pp(lo['difference'])} ({lo['region']}) to {pp(hi['difference'])} ({hi['region']}) across regions; "
                f"the 95% interval lies above 0 in {up} of {len(corr)} regions.",
                "values": [
                    _ref(
                        "national.csv",
                        {"outcome": "corruption_incidence", "region": r["region"]},
                        "difference",
                        r["difference"],
                    )
                    for r in (lo, hi)
                ],
            }
        )
    return out


def _calibration_stale(ctx: ReportContext) -> str | None:
    """The NOT RECALIBRATED warning of the report's posterior, or None (``content.calibration_stale``)."""
    return calibration_stale(ctx.config)


def _runs_disagree(ctx: ReportContext) -> str | None:
    """A warning when the calibration behind the report's posterior ran independent runs that have not
    found the same posterior (``posterior.disagreeing_runs`` of its manifest), or None."""
    from ..content import read_record
    from .posterior import R_HAT_AGREE, disagreeing_runs

    record = read_record(ctx.config.posterior_path.parent / "manifest.json") or {}
    r_hat = disagreeing_runs(record)
    if not r_hat:
        return None
    return (
        "The calibration's independent runs have not found the same posterior (largest R-hat across the runs: "
        + ", ".join(f"{m} {v:.2f}" for m, v in r_hat.items())
        + f"; at most {R_HAT_AGREE} when they agree): the posterior is an approximation, and so is every interval "
        "below that runs over its draws (section 1)."
    )


def statements(
    diffs: pd.DataFrame,
    t1: pd.DataFrame,
    survey: pd.DataFrame,
    levers: pd.DataFrame,
    calibrated: bool,
    n_seeds: int,
    ends: pd.DataFrame | None = None,
    along: pd.DataFrame | None = None,
    ctx: ReportContext | None = None,
) -> list[dict[str, Any]]:
    """Plain-language statements, each with the numbers behind it and the table row they come from."""
    out = warning_statements(calibrated, ctx)
    if ends is not None:
        out.append(ends_statement(ends))
    if ctx is not None:
        out += posterior_statements(ctx)
    out += difference_statements(diffs, n_seeds)
    along_finding = along_statement(along)
    if along_finding is not None:
        out.append(along_finding)
    out.append(kpi_statement(diffs))
    out.append(table1_statement(t1))
    out.append(survey_statement(survey, ctx))
    out.append(levers_statement(levers))
    return out


def warning_statements(calibrated: bool, ctx: ReportContext | None) -> list[dict[str, Any]]:
    """NOT calibrated, NOT RECALIBRATED (the posterior is an earlier model's), no posterior."""
    out = []
    if not calibrated:
        out.append(
            {
                "kind": "warning",
                "text": (
                    "The model is NOT calibrated to the survey: the calibrated scenario named in the compare file "
                    "does not exist (`statebiz calibrate experiments/calibration_turkestan.toml` writes it). "
                    "This report runs on the hand-set Turkestan scenario "
                    "(scenarios/turkestan.toml). The numbers below show what the model's mechanisms produce "
                    "under assumed parameters; they are not estimates for Turkestan or Kazakhstan, and the "
                    "survey section shows how far the uncalibrated model is from the observed answers."
                ),
                "values": [],
            }
        )
    stale = _calibration_stale(ctx) if calibrated and ctx is not None else None
    if stale:
        out.append({"kind": "warning", "text": stale, "values": []})
    disagree = _runs_disagree(ctx) if ctx is not None and ctx.config.posterior is not None else None
    if disagree:
        out.append({"kind": "warning", "text": disagree, "values": []})
    if ctx is not None and ctx.config.posterior is None:
        out.append(
            {
                "kind": "warning",
                "text": (
                    "No posterior: the calibration's posterior file does not exist yet, so every run uses fixed "
                    "parameters and every interval below is over seeds only. Parameter uncertainty is absent from "
                    "them: they are narrower than what is known about Turkestan warrants."
                ),
                "values": [],
            }
        )
    return out


def _diff_refs(d: pd.DataFrame, o: str) -> list[dict[str, Any]]:
    w = {"outcome": o}
    return [
        _ref("paired_differences.csv", w, c, d.loc[o, c])
        for c in ("partnership", "symbiotic", "difference", "ci_low", "ci_high")
    ]


def _diff_text(d: pd.DataFrame, draws: int, o: str, phrase: str) -> str:
    r = d.loc[o]
    width = (
        ""
        if draws < 2 or "share_parameters" not in r
        else f"; {100 * r['share_parameters']:.0f}% of its width² from the parameters, the rest from seeds"
    )
    if r["unit"] == "pp":
        return (
            f"{phrase}: {pct(r['symbiotic'])} under the symbiotic model vs {pct(r['partnership'])} under "
            f"partnership, a paired difference of {pp(r['difference'])} (95% interval {pp(r['ci_low'])} to "
            f"{pp(r['ci_high'])}{width})"
        )
    return (
        f"{phrase}: {num(r['symbiotic'])} vs {num(r['partnership'])} ({r['unit']}), difference "
        f"{signed(r['difference'])} (95% interval {signed(r['ci_low'])} to {signed(r['ci_high'])}{width})"
    )


def difference_statements(diffs: pd.DataFrame, n_seeds: int) -> list[dict[str, Any]]:
    """Corruption, both satisfactions, insiders' support and concentration, the PPP pipeline
    (``paired_differences.csv``)."""
    d = diffs.set_index("outcome")
    draws = int(diffs["draws"].max()) if "draws" in diffs else 1
    seeds = int(diffs["seeds"].max()) if "seeds" in diffs else n_seeds
    over = f", over {draws} posterior draws × {seeds} paired seeds." if draws > 1 else f", over {seeds} paired seeds."
    out = [
        {
            "kind": "finding",
            "text": _diff_text(
                d,
                draws,
                "corruption_incidence",
                "Corruption (share of firms meeting at least one bribe demand in a year)",
            )
            + over,
            "values": _diff_refs(d, "corruption_incidence"),
        }
    ]
    for o, phrase in (
        ("business_satisfied", "Business satisfaction (firms satisfied with the akimat)"),
        ("population_satisfied", "Population satisfaction (residents scoring the authorities 4 or 5)"),
    ):
        out.append({"kind": "finding", "text": _diff_text(d, draws, o, phrase) + ".", "values": _diff_refs(d, o)})
    out.append(
        {
            "kind": "finding",
            "text": _diff_text(d, draws, "insider_support_share", "Insiders' share of support")
            + "; "
            + _diff_text(d, draws, "hhi", "concentration of output (HHI)")
            + ".",
            "values": _diff_refs(d, "insider_support_share") + _diff_refs(d, "hhi"),
        }
    )
    ppp = (
        ("ppp_started", "contracts started per quarter"),
        ("ppp_disputed", "contracts in dispute"),
        ("ppp_terminated", "contracts terminated so far (since the start, burn-in included)"),
    )
    out.append(
        {
            "kind": "finding",
            "text": "PPP: " + "; ".join(_diff_text(d, draws, o, p) for o, p in ppp) + ".",
            "values": [ref for o, _ in ppp for ref in _diff_refs(d, o)],
        }
    )
    return out


def kpi_statement(diffs: pd.DataFrame) -> dict[str, Any]:
    """How many Figure 2 indicators differ beyond the uncertainty, and by how much (relative)."""
    from ...observe.kpi import KPI_NAMES

    d = diffs.set_index("outcome")
    kpis = d.loc[list(KPI_NAMES)]
    sig = kpis[kpis["significant"]]
    refs = [_ref("paired_differences.csv", {"outcome": o}, "relative", d.loc[o, "relative"]) for o in sig.index]
    if len(sig):
        listed = ", ".join(f"{d.loc[o, 'label']} {100 * d.loc[o, 'relative']:+.0f}%" for o in sig.index)
        text = (
            f"Figure 2 indicators: {len(sig)} of {len(KPI_NAMES)} differ between the models beyond the uncertainty "
            f"(95% interval excludes 0); symbiotic relative to partnership: {listed}."
        )
    else:
        text = (
            f"Figure 2 indicators: none of the {len(KPI_NAMES)} differs between the models beyond the uncertainty "
            "(parameters and seeds)."
        )
    return {"kind": "finding", "text": text, "values": refs}


def table1_statement(t1: pd.DataFrame) -> dict[str, Any]:
    """The dominant regime of each Table 1 quadrant under each model (``table1.csv``)."""
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
    return {
        "kind": "finding",
        "text": "Table 1 (dominant regime by share of relations in each quadrant): " + ". And ".join(parts) + ".",
        "values": refs,
    }


NAMES = {"calibrated": "the calibrated s", "partnership": "s = 0", "symbiotic": "s = 1"}


def survey_statement(survey: pd.DataFrame, ctx: ReportContext | None) -> dict[str, Any]:
    """How many observed survey totals and cohort cells fall inside the predictive intervals; Table 9."""
    refs, bits = [], []
    arms = [a for a in ("calibrated", *GOVERNANCE) if f"{a}_covers" in survey]
    cells = ctx.tables.get("survey_cells") if ctx is not None else None
    for g in arms:
        covered = int(survey[f"{g}_covers"].sum())
        refs.append(_ref("survey_summary.csv", {}, f"{g}_covers", covered, agg="sum"))
        bit = f"{covered} of {len(survey)} totals"
        if cells is not None and f"{g}_covers" in cells:
            inside = int(cells[f"{g}_covers"].sum())
            refs.append(_ref("survey_cells.csv", {}, f"{g}_covers", inside, agg="sum"))
            bit += f" and {inside} of {len(cells)} cohort cells"
        bits.append(f"{bit} at {NAMES[g]}")
    row9 = survey[(survey["table"] == "table9") & (survey["answer_index"] == 0)].iloc[0]
    for c in ("observed", *(f"{g}_median" for g in arms)):
        refs.append(_ref("survey_summary.csv", {"table": "table9", "answer_index": 0}, c, row9[c]))
    return {
        "kind": "finding",
        "text": "Survey: the observed counts of Tables 5–9 fall inside the 90% posterior predictive interval for "
        f"{'; '.join(bits)}. Entrepreneurs reporting constant corruption (Table 9): "
        f"{row9['observed']} of 58 observed; predictive median "
        + ", ".join(f"{row9[f'{g}_median']:g} ({NAMES[g]})" for g in arms)
        + ".",
        "values": refs,
    }


def levers_statement(levers: pd.DataFrame) -> dict[str, Any]:
    """The lever that lowers corruption incidence most, at each value of s (``lever_effects.csv``)."""
    bits, refs = [], []
    for g in [a for a in ("partnership", "calibrated", "symbiotic") if a in set(levers["governance"])]:
        e = levers[(levers["governance"] == g) & (levers["outcome"] == "corruption_incidence")].sort_values("effect")
        best = e.iloc[0]
        w = {"governance": g, "lever": best["lever"], "outcome": "corruption_incidence"}
        refs += [_ref("lever_effects.csv", w, c, best[c]) for c in ("effect", "ci_low", "ci_high")]
        bits.append(
            f"at {NAMES[g]} {best['lever'].replace('_', ' ')} ({best['low']:g}→{best['high']:g}: "
            f"{pp(best['effect'])}, 95% interval {pp(best['ci_low'])} to {pp(best['ci_high'])})"
        )
    return {
        "kind": "finding",
        "text": "Levers: the lever that lowers corruption incidence most when moved from the low "
        "to the high end of its range is " + "; ".join(bits) + ".",
        "values": refs,
    }


def build(ctx: ReportContext) -> SectionContent:
    """Warnings first, then what is compared, then the findings as a list, then how to read them."""
    warnings = [para(s["text"], cls="warning") for s in ctx.statements if s["kind"] == "warning"]
    design = [para(s["text"]) for s in ctx.statements if s["kind"] == "design"]
    findings = Bullets([[s["text"]] for s in ctx.statements if s["kind"] == "finding"], cls="summary")
    note = para(
        "Every number above is read from a table in this directory (",
        Code("summary.json"),
        ' names the file, row and column of each). "pp": percentage points. An effect whose 95% interval '
        "includes 0 is not told apart from the uncertainty of the parameters and the seeds.",
        cls="meta",
    )
    return SectionContent(ANCHOR, TITLE, [*warnings, *design, findings, note])
