"""The plain-language summary (every number taken from a result table) and the self-contained
HTML page (figures embedded as base64 PNG, inline CSS, no external resource)."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..observer import QUADRANTS, REGIMES
from .config import GOVERNANCE

SECTIONS = (
    ("summary", "Summary"),
    ("table1", "1. The emergent Table 1: regimes by power and business strength"),
    ("figure2", "2. Figure 2 indicators over time"),
    ("differences", "3. Paired differences: symbiotic − partnership"),
    ("survey", "4. The survey: simulated vs observed Tables 5–9"),
    ("levers", "5. Levers of Table 4 under each model"),
    ("methods", "6. Methods and provenance"),
)


def _ref(file: str, where: dict[str, Any], column: str, value: Any, agg: str | None = None) -> dict[str, Any]:
    """A number of the summary and where it comes from: in ``file``, the row matching ``where``
    (or, with ``agg = "sum"``, the sum over the rows matching it), column ``column``."""
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        value = value.item()
    return {"file": file, "where": where, "column": column, "value": value} | ({"agg": agg} if agg else {})


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _pp(x: float) -> str:
    return f"{100 * x:+.1f} pp"


def _num(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _signed(x: float) -> str:
    s = _num(x)
    return s if s.startswith("-") or s == "n/a" else "+" + s


def summary_statements(diffs: pd.DataFrame, t1: pd.DataFrame, survey: pd.DataFrame, levers: pd.DataFrame,
                       calibrated: bool, n_seeds: int) -> list[dict[str, Any]]:
    """Plain-language statements, each with the numbers behind it and the table row they come from."""
    out = []
    d = diffs.set_index("outcome")

    def diff_refs(o):
        w = {"outcome": o}
        return [_ref("paired_differences.csv", w, c, d.loc[o, c])
                for c in ("partnership", "symbiotic", "difference", "ci_low", "ci_high")]

    def diff_text(o, phrase):
        r = d.loc[o]
        if r["unit"] == "pp":
            return (f"{phrase}: {_pct(r['symbiotic'])} under the symbiotic model vs {_pct(r['partnership'])} under "
                    f"partnership, a paired difference of {_pp(r['difference'])} (95% interval {_pp(r['ci_low'])} to "
                    f"{_pp(r['ci_high'])})")
        return (f"{phrase}: {_num(r['symbiotic'])} vs {_num(r['partnership'])} ({r['unit']}), difference "
                f"{_signed(r['difference'])} (95% interval {_signed(r['ci_low'])} to {_signed(r['ci_high'])})")

    if not calibrated:
        out.append({"kind": "warning", "text": "The model is NOT calibrated yet: it runs on the hand-set Turkestan scenario "
                    "(scenarios/turkestan.toml). The numbers below show what the model's mechanisms produce under assumed "
                    "parameters; they are not estimates for Turkestan or Kazakhstan.", "values": []})
    out.append({"kind": "finding", "text": diff_text("corruption_incidence", "Corruption (share of firms meeting at least one "
                "bribe demand in a year)") + f", over {n_seeds} paired seeds.", "values": diff_refs("corruption_incidence")})
    for o, phrase in (("business_satisfied", "Business satisfaction (firms satisfied with the akimat)"),
                      ("population_satisfied", "Population satisfaction (residents scoring the authorities 4 or 5)")):
        out.append({"kind": "finding", "text": diff_text(o, phrase) + ".", "values": diff_refs(o)})
    out.append({"kind": "finding", "text": diff_text("insider_support_share", "Insiders' share of support") + "; "
                + diff_text("hhi", "concentration of output (HHI)") + ".",
                "values": diff_refs("insider_support_share") + diff_refs("hhi")})
    out.append({"kind": "finding", "text": "PPP: " + "; ".join(diff_text(o, p) for o, p in (
        ("ppp_started", "contracts started per quarter"), ("ppp_disputed", "contracts in dispute"),
        ("ppp_terminated", "contracts terminated"))) + ".",
        "values": diff_refs("ppp_started") + diff_refs("ppp_disputed") + diff_refs("ppp_terminated")})
    from ..kpi import KPI_NAMES

    kpis = d.loc[list(KPI_NAMES)]
    sig = kpis[kpis["significant"]]
    refs = [_ref("paired_differences.csv", {"outcome": o}, "relative", d.loc[o, "relative"]) for o in sig.index]
    if len(sig):
        listed = ", ".join(f"{d.loc[o, 'label']} {100 * d.loc[o, 'relative']:+.0f}%" for o in sig.index)
        text = (f"Figure 2 indicators: {len(sig)} of {len(KPI_NAMES)} differ between the models beyond seed noise "
                f"(95% interval excludes 0); symbiotic relative to partnership: {listed}.")
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
            cells.append(f"{q.replace('_', ' ')}: {r['regime'].replace('_', '-')} ({_pct(r['share'])})")
            refs.append(_ref("table1.csv", {"governance": g, "quadrant": q, "regime": r["regime"]}, "share", r["share"]))
        parts.append(f"under the {g} model, " + "; ".join(cells))
    out.append({"kind": "finding", "text": "Table 1 (dominant regime by share of output in each quadrant): "
                + ". And ".join(parts) + ".", "values": refs})

    refs, bits = [], []
    for g in GOVERNANCE:
        covered = int(survey[f"{g}_covers"].sum())
        refs.append(_ref("survey_summary.csv", {}, f"{g}_covers", covered, agg="sum"))
        bits.append(f"{covered} of {len(survey)} under the {g} model")
    row9 = survey[(survey["table"] == "table9") & (survey["answer_index"] == 0)].iloc[0]
    for c in ("observed", "partnership_median", "symbiotic_median"):
        refs.append(_ref("survey_summary.csv", {"table": "table9", "answer_index": 0}, c, row9[c]))
    out.append({"kind": "finding", "text": "Survey: the observed answer totals of Tables 5–9 fall inside the simulated 90% "
                f"predictive interval for {', '.join(bits)}. Entrepreneurs reporting constant corruption (Table 9): "
                f"{row9['observed']} of 58 observed; simulated median {row9['partnership_median']:g} (partnership), "
                f"{row9['symbiotic_median']:g} (symbiotic).", "values": refs})

    bits, refs = [], []
    for g in GOVERNANCE:
        e = levers[(levers["governance"] == g) & (levers["outcome"] == "corruption_incidence")].sort_values("effect")
        best = e.iloc[0]
        w = {"governance": g, "lever": best["lever"], "outcome": "corruption_incidence"}
        refs += [_ref("lever_effects.csv", w, c, best[c]) for c in ("effect", "ci_low", "ci_high")]
        bits.append(f"under the {g} model {best['lever'].replace('_', ' ')} ({best['low']:g}→{best['high']:g}: "
                    f"{_pp(best['effect'])}, 95% interval {_pp(best['ci_low'])} to {_pp(best['ci_high'])})")
    out.append({"kind": "finding", "text": "Levers: the lever that lowers corruption incidence most when moved from the low "
                "to the high end of its range is " + "; ".join(bits) + ".", "values": refs})
    return out


# ------------------------------------------------------------------------------------ HTML

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:2em}
.meta{color:#555;font-size:.9em}.warning{background:#fff3e0;border-left:5px solid #D55E00;padding:.6em 1em;font-weight:600}
ul.summary li{margin:.45em 0}figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.88em;color:#444}table{border-collapse:collapse;font-size:.82em;margin:.8em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right}th{background:#f0f4f8}td.l,th.l{text-align:left}
.sig{font-weight:700}nav a{margin-right:1em}code,pre{background:#f6f6f6;font-size:.88em}pre{padding:.6em;overflow-x:auto}
"""


def _img(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)} (file <code>{html.escape(path.name)}</code>)</figcaption></figure>")


def _table(frame: pd.DataFrame, left: int = 1) -> str:
    head = "".join(f'<th class="{"l" if i < left else ""}">{html.escape(str(c))}</th>' for i, c in enumerate(frame.columns))
    rows = []
    for _, r in frame.iterrows():
        rows.append("<tr>" + "".join(f'<td class="{"l" if i < left else ""}">{html.escape(str(v))}</td>'
                                     for i, v in enumerate(r)) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _fmt_value(v: float, unit: str) -> str:
    return _pct(v) if unit == "pp" else _num(v)


def _fmt_diff(v: float, unit: str) -> str:
    return _pp(v) if unit == "pp" else _signed(v)


def render(ctx: dict[str, Any]) -> str:
    """The page. ``ctx``: title, statements, tables (DataFrames), figures (paths), methods (dict)."""
    esc = html.escape
    t = ctx["tables"]
    f = ctx["figures"]
    body = [f"<h1>{esc(ctx['title'])}</h1>", f"<p class=\"meta\">{esc(ctx['subtitle'])}</p>",
            "<nav>" + "".join(f'<a href="#{k}">{esc(v.split(":")[0])}</a>' for k, v in SECTIONS) + "</nav>"]

    def section(key):
        body.append(f'<h2 id="{key}">{esc(dict(SECTIONS)[key])}</h2>')

    section("summary")
    items = []
    for s in ctx["statements"]:
        if s["kind"] == "warning":
            body.append(f'<p class="warning">{esc(s["text"])}</p>')
        else:
            items.append(f"<li>{esc(s['text'])}</li>")
    body.append('<ul class="summary">' + "".join(items) + "</ul>")
    body.append("<p class=\"meta\">Every number above is read from a table in this directory "
                "(<code>summary.json</code> names the file, row and column of each). \"pp\": percentage points. "
                "An effect whose 95% interval includes 0 is not told apart from seed noise.</p>")

    section("table1")
    body.append("<p>Regimes are not assigned: the observer reads them off each firm–akimat relation's behaviour over the "
                "last four quarters (ODD 7.11). Runs cover the grid of initial power strength P × business strength B "
                f"({esc(ctx['grid'])}); each firm falls into a quadrant by P ≥ θ<sub>P</sub> and its own B ≥ θ<sub>B</sub>. "
                "Shares are of the quadrant's output, pooled over the grid's runs.</p>")
    body.append(_img(f["table1"], "The paper's 2×2 matrix (Table 1) for both governance models: the dominant regime and "
                     "every regime's share of output in each quadrant"))
    t1 = t["table1"]
    piv = t1.pivot_table(index=["governance", "quadrant"], columns="regime", values="share", sort=False).reset_index()
    piv = piv[["governance", "quadrant", *REGIMES]]
    for r in REGIMES:
        piv[r] = piv[r].map(lambda v: "–" if pd.isna(v) else _pct(v))
    body.append(_table(piv, left=2))
    body.append(_img(f["regime_map"], "Dominant regime (share of output) in every cell of the P × B grid, mean over "
                     "replications"))

    section("figure2")
    body.append("<p>The six indicators by which akims are evaluated (the paper's Figure 2), national aggregate per reported "
                "quarter; line: mean across replications, band: 95% t-interval of the mean.</p>")
    body.append(_img(f["timeseries"], "Figure 2 indicators over time, both governance models"))

    section("differences")
    body.append("<p>Per seed, the end-of-run outcome (mean of the last four quarters) under the symbiotic model minus the "
                "same under partnership, on the same seed; mean and 95% t-interval over seeds. Per-seed values: "
                "<code>per_seed.csv</code>.</p>")
    body.append(_img(f["differences"], "Paired differences with 95% intervals (orange: interval excludes 0)"))
    d = t["differences"]
    body.append(_table(pd.DataFrame({
        "outcome": d["label"], "unit": d["unit"].replace("pp", "share"),
        "partnership": [_fmt_value(v, u) for v, u in zip(d["partnership"], d["unit"])],
        "symbiotic": [_fmt_value(v, u) for v, u in zip(d["symbiotic"], d["unit"])],
        "difference": [_fmt_diff(v, u) for v, u in zip(d["difference"], d["unit"])],
        "95% interval": [f"{_fmt_diff(a, u)} to {_fmt_diff(b, u)}" for a, b, u in zip(d["ci_low"], d["ci_high"], d["unit"])],
        "seeds": d["n"]}), left=2))

    section("survey")
    body.append("<p>At the end of every paired run the model is surveyed like the paper's samples (198 residents, 58 "
                "entrepreneurs, stratified by age; <code>simulation/survey.py</code>). Shown: column totals of each table "
                "(Table 6 summed over heat, water, power and gas), observed vs the simulated median and 90% predictive "
                "interval across replications (each replication's sample includes its own sampling error).</p>")
    body.append(_img(f["survey"], "Survey: observed vs simulated answer totals, Tables 5–9"))
    s = t["survey"]
    cols = {"table": s["table"].str.replace("table", "Table "), "answer": s["answer"], "observed": s["observed"]}
    for g in GOVERNANCE:
        cols[f"{g}: median [90% PI]"] = [f"{m:g} [{a:g}, {b:g}]" + ("" if c else " ✗")
                                         for m, a, b, c in zip(s[f"{g}_median"], s[f"{g}_p05"], s[f"{g}_p95"], s[f"{g}_covers"])]
    body.append(_table(pd.DataFrame(cols), left=2))
    body.append("<p class=\"meta\">✗: the observed count lies outside the simulated 90% predictive interval.</p>")

    section("levers")
    body.append("<p>One lever at a time moved from the low to the high end of its range (ranges of "
                "<code>experiments/levers_morris.toml</code>), all other parameters at the model's values; effect = high − "
                "low on the same seed, mean and 95% t-interval over replications.</p>")
    body.append(_img(f["levers"], "Effect of each Table 4 lever on the headline outcomes, both models"))
    e = t["levers"]
    wide = e.assign(cell=[f"{_fmt_diff(m, u)} [{_fmt_diff(a, u)}, {_fmt_diff(b, u)}]" for m, a, b, u in
                          zip(e["effect"], e["ci_low"], e["ci_high"], e["unit"])])
    wide = wide.pivot_table(index=["governance", "lever"], columns="label", values="cell", aggfunc="first", sort=False)
    body.append(_table(wide.reset_index(), left=2))

    section("methods")
    m = ctx["methods"]
    rows = "".join(f"<tr><th class=\"l\">{esc(k)}</th><td class=\"l\">{v}</td></tr>" for k, v in m["rows"])
    body.append(f"<table>{rows}</table>")
    if m.get("provenance"):
        body.append("<p>Provenance comments of the base scenario file:</p><pre>" + esc("\n".join(m["provenance"])) + "</pre>")
    body.append("<p>Files in this directory: " + ", ".join(f"<code>{esc(n)}</code>" for n in m["files"]) + ".</p>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            "content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(ctx['title'])}</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>\n")
