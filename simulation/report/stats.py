"""Result tables of the comparison (pure functions of the run tables; no I/O).

Intervals of the posterior parts (paired, levers, national): every run is one posterior draw
d on one seed r, and every arm (the calibrated s, s = 0, s = 1, a lever's low and high) runs
on the same (draw, seed) pairs, so a difference between arms is a D x R matrix of paired
differences. :func:`decompose` splits its variance by the law of total variance into the
parameters' share (the variance of the per-draw mean, less the part of it that is seed noise
of a mean over R seeds) and the seeds' share (the mean within-draw variance over seeds), and
gives the 95% interval of the difference in one realisation: the 2.5th to 97.5th percentile of
the D x R paired differences. Without a posterior D = 1 (on D x R seeds) and the interval is the
seeds' alone. Other parts (regime map,
Figure 2 series): a 95% t-interval of the mean across replications (``_mean_ci``). Survey:
posterior predictive (:func:`survey_predictive`), the 90% interval (5th to 95th percentile).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.analysis import _mean_ci
from ..observe import outcomes
from ..observe.kpi import KPI_NAMES
from ..observe.observer import QUADRANTS, REGIMES
from ..observe.survey import TABLES, observed_tables, table_labels
from .config import ARMS, ENDS, GOVERNANCE

#: The normal quantile of a two-sided 95% interval.
Z95 = 1.959963984540054
#: Columns that identify one paired unit of a posterior part (the same in every arm).
UNIT = ["draw", "replication", "seed"]


def decompose(x) -> dict[str, float]:
    """Mean, 95% interval and variance decomposition of a D x R matrix of paired differences
    (row d: posterior draw d, column r: its r-th seed).

    - ``var_seeds`` = W, the mean over draws of the variance over seeds (ddof 1; needs R >= 2);
    - ``var_parameters`` = max(B - W / R, 0), with B the variance over draws of the per-draw
      means (ddof 1): a mean over R seeds still carries W / R of seed noise, which is taken
      out (law of total variance); 0 with one draw;
    - ``sd`` = sqrt(var_parameters + var_seeds), the spread of the difference in one
      realisation (a new draw on a new seed);
    - ``ci_low``, ``ci_high``: the 2.5th and 97.5th percentiles of all D x R values (the
      predictive distribution of one realisation is their mixture; percentiles stay within what
      the model can produce, e.g. a share's difference within +-100 pp, where mean +- 1.96 sd
      would not when the draws split into distinct regimes);
    - ``share_parameters`` and ``share_seeds``: each part's share of sd^2, summing to 1 (0 and 0
      when nothing varies); ``se_mean``: the Monte Carlo standard error of the mean.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.size == 0:
        raise ValueError("decompose: expected a non-empty draws x seeds matrix")
    d, r = x.shape
    mean = float(x.mean())
    within = float(x.var(axis=1, ddof=1).mean()) if r >= 2 else np.nan
    between = float(x.mean(axis=1).var(ddof=1)) if d >= 2 else 0.0
    if d < 2:
        param = 0.0
    else:
        param = max(between - (within / r if r >= 2 else 0.0), 0.0)
    seeds = within if np.isfinite(within) else 0.0
    total = param + seeds
    sd = float(np.sqrt(total))
    if d >= 2:
        se = float(np.sqrt(between / d))
    else:
        se = float(np.sqrt(seeds / r)) if r >= 2 else np.nan
    return {
        "n": d * r,
        "draws": d,
        "seeds": r,
        "mean": mean,
        "sd": sd,
        "ci_low": float(np.percentile(x, 2.5)),
        "ci_high": float(np.percentile(x, 97.5)),
        "var_parameters": param,
        "var_seeds": within,
        "share_parameters": param / total if total > 0 else 0.0,
        "share_seeds": seeds / total if total > 0 else 0.0,
        "se_mean": se,
    }


def unit_matrix(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``column`` of a frame with one row per paired unit as a draws x seeds matrix (rows: draws
    in order, columns: replications in order); draws with fewer seeds than the most are cut to
    the common number so that the matrix is rectangular."""
    draws = frame.get("draw", pd.Series(0, index=frame.index))
    groups = [
        g.sort_values("replication")[column].to_numpy(dtype=float)
        for _, g in frame.assign(draw=draws).groupby("draw", sort=True)
    ]
    r = min(len(g) for g in groups)
    return np.vstack([g[:r] for g in groups])


def arm_differences(runs: pd.DataFrame, base: str, other: str, outcome: str) -> pd.DataFrame:
    """Per paired unit (draw, replication, seed): ``outcome`` in arm ``other`` minus arm ``base``."""
    keys = [k for k in UNIT if k in runs.columns]
    a = runs[runs["governance"] == base].set_index(keys)[outcome]
    b = runs[runs["governance"] == other].set_index(keys)[outcome]
    both = pd.concat({"base": a, "other": b}, axis=1, join="inner")
    return (both["other"] - both["base"]).rename("diff").reset_index()


#: The contrasts of the counterfactual table: (from, to, label).
CONTRASTS = (
    ("calibrated", "partnership", "s → 0 (partnership) − calibrated"),
    ("calibrated", "symbiotic", "s → 1 (symbiotic) − calibrated"),
    ("partnership", "symbiotic", "s = 1 − s = 0"),
)


def counterfactuals(paired: pd.DataFrame, outcomes=None) -> pd.DataFrame:
    """Per contrast (calibrated -> s = 0, calibrated -> s = 1, s = 0 -> s = 1) and outcome: both
    arms' means and the paired difference with its interval and variance decomposition."""
    outcomes = tuple(DIFF_OUTCOMES) if outcomes is None else outcomes
    rows = []
    for base, other, label in CONTRASTS:
        if not {base, other} <= set(paired["governance"]):
            continue
        for o in outcomes:
            diff = arm_differences(paired, base, other, o)
            d = decompose(unit_matrix(diff, "diff"))
            name, unit = DIFF_OUTCOMES[o]
            rows.append(
                {
                    "contrast": label,
                    "from": base,
                    "to": other,
                    "outcome": o,
                    "label": name,
                    "unit": unit,
                    "from_mean": float(paired[paired["governance"] == base][o].mean()),
                    "to_mean": float(paired[paired["governance"] == other][o].mean()),
                    "difference": d["mean"],
                    "ci_low": d["ci_low"],
                    "ci_high": d["ci_high"],
                    "significant": bool(d["ci_low"] > 0 or d["ci_high"] < 0),
                }
                | {k: d[k] for k in ("sd", "se_mean", "share_parameters", "share_seeds", "draws", "seeds", "n")}
            )
    return pd.DataFrame(rows)


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
    keys = [k for k in UNIT if k in paired.columns]
    a = paired[paired["governance"] == "partnership"].set_index(keys)
    b = paired[paired["governance"] == "symbiotic"].set_index(keys)
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
    with its 95% interval over posterior draws x seeds (:func:`decompose`, with each source's
    share); ``relative`` is the difference over the partnership mean."""
    rows = []
    for o in outcomes:
        d = decompose(unit_matrix(per_seed, f"{o}_diff"))
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
                "draws": d["draws"],
                "seeds": d["seeds"],
                "share_parameters": d["share_parameters"],
                "share_seeds": d["share_seeds"],
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
    """Per arm (s = 0, the calibrated s, s = 1), lever and outcome: high - low, paired by
    (draw, seed), mean and 95% interval over posterior draws x seeds (:func:`decompose`)."""
    rows = []
    keys = [k for k in UNIT if k in levers.columns]
    order = {a: i for i, a in enumerate(("partnership", "calibrated", "symbiotic"))}
    frame = levers.assign(_arm=levers["governance"].map(order).fillna(len(order)))
    for (_, g, lever), grp in frame.groupby(["_arm", "governance", "lever"], sort=True):
        lo = grp[grp["level"] == "low"].set_index(keys)
        hi = grp[grp["level"] == "high"].set_index(keys)
        both = lo.merge(hi, how="inner", left_index=True, right_index=True, suffixes=("_low", "_high")).reset_index()
        for o in outcomes:
            d = decompose(unit_matrix(both.assign(diff=both[f"{o}_high"] - both[f"{o}_low"]), "diff"))
            rows.append(
                {
                    "governance": g,
                    "symbiosis": float(both["symbiosis_low"].mean())
                    if "symbiosis_low" in both
                    else ENDS.get(g, np.nan),
                    "lever": lever,
                    "low": float(both["value_low"].iloc[0]),
                    "high": float(both["value_high"].iloc[0]),
                    "outcome": o,
                    "label": LEVER_LABELS[o][0],
                    "unit": LEVER_LABELS[o][1],
                    "effect": d["mean"],
                    "ci_low": d["ci_low"],
                    "ci_high": d["ci_high"],
                    "significant": bool(d["ci_low"] > 0 or d["ci_high"] < 0),
                }
                | {k: d[k] for k in ("sd", "share_parameters", "share_seeds", "draws", "seeds", "n")}
            )
    return pd.DataFrame(rows)


def national_summary(national: pd.DataFrame, outcomes=None) -> pd.DataFrame:
    """Per region and outcome of the national part: the mean under s = 0 and s = 1 and the
    paired difference s = 1 - s = 0 with its interval over draws x seeds (:func:`decompose`)."""
    from .runs import NATIONAL_OUTCOMES

    outcomes = NATIONAL_OUTCOMES if outcomes is None else outcomes
    rows = []
    if national is None or national.empty:
        return pd.DataFrame()
    for region, grp in national.groupby("region", sort=False):
        for o in outcomes:
            diff = arm_differences(grp, "partnership", "symbiotic", o)
            d = decompose(unit_matrix(diff, "diff"))
            rows.append(
                {
                    "region": region,
                    "outcome": o,
                    "label": outcomes_label(o),
                    "partnership": float(grp[grp["governance"] == "partnership"][o].mean()),
                    "symbiotic": float(grp[grp["governance"] == "symbiotic"][o].mean()),
                    "difference": d["mean"],
                    "ci_low": d["ci_low"],
                    "ci_high": d["ci_high"],
                    "significant": bool(d["ci_low"] > 0 or d["ci_high"] < 0),
                }
                | {k: d[k] for k in ("share_parameters", "share_seeds", "draws", "seeds", "n")}
            )
    return pd.DataFrame(rows)


def outcomes_label(name: str) -> str:
    """An outcome's label from the registry."""
    return outcomes.label(name)


def predictive_counts(shares_row, n: int, rho: float | None, rng: np.random.Generator, deff: float = 1.0) -> np.ndarray:
    """One predictive survey table row, as the calibration's likelihood sees it: shares floored at
    ``calibration.SHARE_FLOOR`` and renormalised, then ``n`` respondents under the survey's error model
    (Dirichlet-multinomial with the design effect ``deff`` of the row's sample,
    ``calibration.likelihood.design_counts``: Var = n p (1 - p) deff). ``rho``: a posterior of the
    previous error model (a fitted overdispersion, issue 25) is still drawn with its own rho."""
    from ..calibration.config import SHARE_FLOOR
    from ..calibration.likelihood import design_counts
    from ..calibration.likelihood import predictive_counts as dirichlet_multinomial

    if rho is not None and np.isfinite(rho) and rho > 0:
        return dirichlet_multinomial(shares_row, n, rho, rng, SHARE_FLOOR)
    return design_counts(shares_row, n, deff, rng, SHARE_FLOOR)


def _predicted_tables(shares: dict, rho: float | None, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One predictive survey: every table's rows drawn with the paper's row sizes and the design
    effect of the table's sample (``data/turkestan_survey.toml`` [design])."""
    from ..calibration.config import TABLE_SAMPLE, survey_design

    deffs = survey_design()["design_effects"]
    observed = observed_tables()
    out = {}
    for table in TABLES:
        obs = np.asarray(observed[table])
        rows = np.asarray(shares[table]["total" if table == "table6" else "by_cohort"], dtype=float)
        d = deffs[TABLE_SAMPLE[table]]
        out[table] = np.vstack([predictive_counts(rows[i], obs[i].sum(), rho, rng, d) for i in range(len(obs))])
    return out


def survey_predictive(
    shares: list[dict], rng: np.random.Generator, per_run: int = 20
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Posterior predictive of the survey (Tables 5-9): from every paired run's population
    shares (its draw's parameters and seed), ``per_run`` simulated surveys of the paper's row
    sizes, under the survey's design effect (a posterior of the previous error model: its draw's overdispersion).

    Returns:
        ``totals`` (one row per table and answer: column totals, Table 6 summed over the
        utilities) and ``cells`` (one row per table, row and answer), both with the observed
        count and, per arm, the predictive median, 5th and 95th percentiles and whether the
        90% interval covers the observed count.
    """
    observed = observed_tables()
    arms = [a for a in ARMS if any(s["governance"] == a for s in shares)]
    draws: dict[str, dict[str, list[np.ndarray]]] = {a: {t: [] for t in TABLES} for a in arms}
    for run in shares:
        rho = run.get("overdispersion")
        rho = None if rho is None or not np.isfinite(rho) else float(rho)
        for _ in range(per_run):
            for t, v in _predicted_tables(run["shares"], rho, rng).items():
                draws[run["governance"]][t].append(v)
    totals, cells = [], []
    for table in TABLES:
        rows_l, cols = table_labels(table)
        obs = np.asarray(observed[table])
        sims = {a: np.stack(draws[a][table]) for a in arms}  # samples x rows x answers
        for j, answer in enumerate(cols):
            row = {"table": table, "answer_index": j, "answer": answer, "observed": int(obs[:, j].sum())}
            row["respondents"] = int(obs.sum())
            for a in arms:
                row |= _pi(a, sims[a][:, :, j].sum(axis=1), obs[:, j].sum())
            totals.append(row)
            for i, r in enumerate(rows_l):
                cell = {"table": table, "row_index": i, "row": r, "answer_index": j, "answer": answer}
                cell |= {"observed": int(obs[i, j]), "row_size": int(obs[i].sum())}
                for a in arms:
                    cell |= _pi(a, sims[a][:, i, j], obs[i, j])
                cells.append(cell)
    return pd.DataFrame(totals), pd.DataFrame(cells)


def _pi(arm: str, values: np.ndarray, observed: float) -> dict[str, float]:
    lo, med, hi = np.percentile(values, [5, 50, 95])
    return {
        f"{arm}_median": float(med),
        f"{arm}_p05": float(lo),
        f"{arm}_p95": float(hi),
        f"{arm}_covers": bool(lo <= observed <= hi),
    }


def along_s(paired: pd.DataFrame, along: pd.DataFrame, names: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per value of the symbiosis index s and outcome: mean and 95% interval over posterior
    draws x seeds (:func:`decompose` of the level, not of a difference).

    The ends are the paired runs (partnership: s = 0, symbiotic: s = 1); the values between
    them are the runs of ``along`` (the same seeds and sizes). Empty if nothing ran between."""
    from .runs import ALONG_OUTCOMES

    names = ALONG_OUTCOMES if names is None else names
    columns = ["symbiosis", "outcome", "label", "unit", "n", "mean", "sd", "ci_low", "ci_high", "share_parameters"]
    if along.empty:
        return pd.DataFrame(columns=columns)
    ends = [paired[paired["governance"] == g].assign(symbiosis=s) for g, s in ENDS.items()]
    runs = pd.concat([*ends, along], ignore_index=True)
    rows = []
    for s, grp in runs.groupby("symbiosis", sort=True):
        for o in names:
            unit = "pp" if outcomes.BY_NAME[o].is_share else outcomes.unit(o)
            d = decompose(unit_matrix(grp, o))
            if unit == "pp":  # a share's range stays within [0, 1]
                d["ci_low"], d["ci_high"] = max(d["ci_low"], 0.0), min(d["ci_high"], 1.0)
            rows.append(
                {"symbiosis": float(s), "outcome": o, "label": outcomes.label(o), "unit": unit}
                | {k: d[k] for k in ("n", "mean", "sd", "ci_low", "ci_high", "share_parameters")}
            )
    return pd.DataFrame(rows, columns=columns)
