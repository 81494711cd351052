"""Result tables of the comparison (pure functions of the run tables; no I/O).

Intervals: a 95% t-interval of the mean across replications (``_mean_ci`` of the experiments'
analysis); for paired differences the interval is over the per-seed differences. Survey:
the simulated median and the 90% predictive interval (5th to 95th percentile) across
replications, each replication's sample carrying its own sampling error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import outcomes
from ..kpi import KPI_NAMES
from ..observer import QUADRANTS, REGIMES
from ..runs.analysis import _mean_ci
from ..survey import TABLES, observed_tables, table_labels
from .config import ENDS, GOVERNANCE

#: Outcomes of the paired differences, with a label and the unit they are reported in
#: ("pp": a share, shown in percentage points; otherwise the model's unit).
DIFF_OUTCOMES = {
    name: (outcomes.label(name), "pp" if outcomes.BY_NAME[name].is_share else outcomes.unit(name))
    for name in (
        *KPI_NAMES,
        "corruption_incidence",
        "corrupt_share",
        "business_satisfied",
        "business_dissatisfied",
        "population_satisfied",
        "population_dissatisfied",
        "hhi",
        "insider_support_share",
        "ppp_started",
        "ppp_disputed",
        "ppp_terminated",
    )
}
KPI_LABELS = {k: DIFF_OUTCOMES[k] for k in KPI_NAMES}
LEVER_LABELS = {
    k: DIFF_OUTCOMES[k]
    for k in (
        "corruption_incidence",
        "business_satisfied",
        "population_satisfied",
        "attracted_investment",
        "small_businesses",
    )
}


def _ci_row(values) -> dict[str, float]:
    n, mean, sd, lo, hi = _mean_ci(np.asarray(values, dtype=float))
    return {"n": n, "mean": mean, "sd": sd, "ci_low": lo, "ci_high": hi}


def timeseries_summary(series: pd.DataFrame, names=KPI_NAMES) -> pd.DataFrame:
    """Per governance model, quarter and indicator: mean and 95% t-interval across replications."""
    rows = []
    for (g, q), grp in series.groupby(["governance", "quarter"], sort=True):
        for name in names:
            rows.append({"governance": g, "quarter": int(q), "indicator": name} | _ci_row(grp[name]))
    return pd.DataFrame(rows)


def matched(paired: pd.DataFrame) -> pd.DataFrame:
    """Partnership and symbiotic rows side by side, matched on replication and seed (inner join)."""
    a = paired[paired["governance"] == "partnership"].set_index(["replication", "seed"])
    b = paired[paired["governance"] == "symbiotic"].set_index(["replication", "seed"])
    return a.merge(b, how="inner", left_index=True, right_index=True, suffixes=("_partnership", "_symbiotic"))


def per_seed_differences(paired: pd.DataFrame, outcomes=tuple(DIFF_OUTCOMES)) -> pd.DataFrame:
    """One row per replication: its seed, each outcome under both models and symbiotic - partnership."""
    m = matched(paired)
    out = pd.DataFrame(index=m.index)
    for o in outcomes:
        out[f"{o}_partnership"] = m[f"{o}_partnership"]
        out[f"{o}_symbiotic"] = m[f"{o}_symbiotic"]
        out[f"{o}_diff"] = m[f"{o}_symbiotic"] - m[f"{o}_partnership"]
    return out.reset_index()


def paired_differences(per_seed: pd.DataFrame, outcomes=tuple(DIFF_OUTCOMES)) -> pd.DataFrame:
    """Per outcome: both models' means and the mean paired difference (symbiotic - partnership)
    with its 95% t-interval over seeds; ``relative`` is the difference over the partnership mean."""
    rows = []
    for o in outcomes:
        d = _ci_row(per_seed[f"{o}_diff"])
        base = float(per_seed[f"{o}_partnership"].mean())
        label, unit = DIFF_OUTCOMES[o]
        rows.append(
            {
                "outcome": o,
                "label": label,
                "unit": unit,
                "n": d["n"],
                "partnership": base,
                "symbiotic": float(per_seed[f"{o}_symbiotic"].mean()),
                "difference": d["mean"],
                "ci_low": d["ci_low"],
                "ci_high": d["ci_high"],
                "relative": d["mean"] / base if base != 0 else np.nan,
                "significant": bool(d["ci_low"] > 0 or d["ci_high"] < 0),
            }
        )
    return pd.DataFrame(rows)


def table1(regime: pd.DataFrame) -> pd.DataFrame:
    """The emergent Table 1: per governance model and quadrant, every regime's share of the
    quadrant's output pooled over the grid's runs (each run's quadrant share weighted by the
    quadrant's share of that run's output), the quadrant's weight, and the dominant regime.

    A run's quadrant outcomes are means over its last 4 quarters; in a quarter in which the
    quadrant holds no output its shares count as 0, so a quadrant's shares may sum to slightly
    less than 1 (they are shown as computed, not rescaled)."""
    rows = []
    for g in GOVERNANCE:
        grp = regime[regime["governance"] == g]
        for q in QUADRANTS:
            w = grp[f"weight_{q}"].to_numpy(dtype=float)
            total = w.sum()
            shares = {
                r: float((grp[f"{q}_{r}"].to_numpy(dtype=float) * w).sum() / total) if total > 0 else np.nan
                for r in REGIMES
            }
            dominant = max(shares, key=lambda r: -1 if np.isnan(shares[r]) else shares[r]) if total > 0 else ""
            power, business = q.split("_power_")
            for r in REGIMES:
                rows.append(
                    {
                        "governance": g,
                        "quadrant": q,
                        "power": power,
                        "business": business.replace("_business", ""),
                        "regime": r,
                        "share": shares[r],
                        "quadrant_weight": float(w.mean()) if len(w) else np.nan,
                        "runs": int((w > 0).sum()),
                        "dominant": r == dominant,
                    }
                )
    return pd.DataFrame(rows)


def survey_summary(survey: pd.DataFrame) -> pd.DataFrame:
    """Column totals of Tables 5-9 (Table 6 summed over the four utilities): observed, and per
    model the simulated median with a 90% predictive interval across replications."""
    observed = observed_tables()
    totals = survey.groupby(["governance", "replication", "table", "answer_index", "answer"], sort=True)["count"].sum()
    totals = totals.reset_index()
    rows = []
    for table in TABLES:
        _, cols = table_labels(table)
        obs = np.asarray(observed[table]).sum(axis=0)
        for j, answer in enumerate(cols):
            row = {
                "table": table,
                "answer_index": j,
                "answer": answer,
                "observed": int(obs[j]),
                "respondents": int(obs.sum()),
            }
            for g in GOVERNANCE:
                v = totals[(totals["governance"] == g) & (totals["table"] == table) & (totals["answer_index"] == j)][
                    "count"
                ]
                v = v.to_numpy(dtype=float)
                row[f"{g}_median"] = float(np.median(v))
                row[f"{g}_p05"] = float(np.percentile(v, 5))
                row[f"{g}_p95"] = float(np.percentile(v, 95))
                row[f"{g}_covers"] = bool(row[f"{g}_p05"] <= obs[j] <= row[f"{g}_p95"])
            rows.append(row)
    return pd.DataFrame(rows)


def lever_effects(levers: pd.DataFrame, outcomes=tuple(LEVER_LABELS)) -> pd.DataFrame:
    """Per governance model, lever and outcome: high - low, paired by replication (same seed),
    mean and 95% t-interval over replications."""
    rows = []
    for (g, lever), grp in levers.groupby(["governance", "lever"], sort=False):
        lo = grp[grp["level"] == "low"].set_index(["replication", "seed"])
        hi = grp[grp["level"] == "high"].set_index(["replication", "seed"])
        both = lo.merge(hi, how="inner", left_index=True, right_index=True, suffixes=("_low", "_high"))
        for o in outcomes:
            d = _ci_row(both[f"{o}_high"] - both[f"{o}_low"])
            rows.append(
                {
                    "governance": g,
                    "lever": lever,
                    "low": float(both["value_low"].iloc[0]),
                    "high": float(both["value_high"].iloc[0]),
                    "outcome": o,
                    "label": LEVER_LABELS[o][0],
                    "unit": LEVER_LABELS[o][1],
                    "n": d["n"],
                    "effect": d["mean"],
                    "ci_low": d["ci_low"],
                    "ci_high": d["ci_high"],
                    "significant": bool(d["ci_low"] > 0 or d["ci_high"] < 0),
                }
            )
    return pd.DataFrame(rows)


def along_s(paired: pd.DataFrame, along: pd.DataFrame, names: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per value of the symbiosis index s and outcome: mean and 95% t-interval over seeds.

    The ends are the paired runs (partnership: s = 0, symbiotic: s = 1); the values between
    them are the runs of ``along`` (the same seeds and sizes). Empty if nothing ran between."""
    from .runs import ALONG_OUTCOMES

    names = ALONG_OUTCOMES if names is None else names
    columns = ["symbiosis", "outcome", "label", "unit", "n", "mean", "sd", "ci_low", "ci_high"]
    if along.empty:
        return pd.DataFrame(columns=columns)
    ends = [paired[paired["governance"] == g].assign(symbiosis=s) for g, s in ENDS.items()]
    runs = pd.concat([*ends, along], ignore_index=True)
    rows = []
    for s, grp in runs.groupby("symbiosis", sort=True):
        for o in names:
            unit = "pp" if outcomes.BY_NAME[o].is_share else outcomes.unit(o)
            rows.append(
                {"symbiosis": float(s), "outcome": o, "label": outcomes.label(o), "unit": unit} | _ci_row(grp[o])
            )
    return pd.DataFrame(rows, columns=columns)
