"""Reachability of the survey: can the model produce each observed total and cohort cell of Tables 5-9?

Not a fit. For each observed total (Table 5: 5 answers; Table 6: 4 utilities x 3 answers;
Tables 7, 8, 9: 3 answers each; 26 in all) and each observed cohort cell (Tables 5, 7, 8, 9
by the paper's four age cohorts: 4 x 5 + 3 x 4 x 3 = 56; Table 6 has no age breakdown) the
question is whether some parameter point gives a simulated POPULATION share
(``simulate_survey(...).population_shares[t]["total"]``, or ``["by_cohort"]`` for a cohort
cell: the fixed answer rules applied to every resident, or every firm in business, of
Turkestan, or of its cohort) inside that cell's 90% sampling interval.

The 90% interval of a total with count c out of n respondents (n = 198 residents for
Tables 5 and 6, per utility for Table 6; n = 58 entrepreneurs for Tables 7-9; for a cohort
cell, n is the cohort's quota: 72, 45, 42, 39 residents, 20, 18, 11, 9 entrepreneurs) is the set of
population shares p under which c lies in the central 90% of a Binomial(n, p) draw:
P(X >= c) >= 5% and P(X <= c) >= 5%, i.e. the exact (Clopper-Pearson) 90% interval,
[Beta(0.05; c, n - c + 1), Beta(0.95; c + 1, n - c)] (0 and 1 at c = 0 and c = n). The
survey's samples are stratified by cohort, which narrows the sampling spread slightly; the
binomial interval is the conservative, design-free reading.

Search: Latin-hypercube points over the free behavioural parameters within their registered
ranges (log-uniform for a range spanning two orders of magnitude or more), each run to a
stationary state (the default burn-in, measured by ``statebiz dynamics stationarity``) in
Turkestan at a small size and surveyed after one reported quarter; then, for each total not
yet reached, a few points around its best point (a box of +-10% of each range), so that a
near miss is not declared unreachable for want of sampling. For each total the best point
is the one whose share is nearest the interval (inside it: nearest the observed share).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, override

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from ..model import StateBusinessModel
from ..observe.survey import RESIDENT_TABLES, TABLES, observed_tables, sample_design, simulate_survey, table_labels
from ..parameters import BY_NAME
from .base import Runs, Study, Task, counted

#: The free behavioural parameters searched over (their ranges are the registered ones).
FREE = (
    "moral_cost",
    "moral_cost_spread",
    "business_strength",
    "power_strength",
    "symbiosis",
    "support_share",
    "experience_scale",
    "choice_sensitivity",
    "resident_noise",
    "utility_quality",
    "audit_rate",
    "transparency",
    "consultation",
)
LEVEL = 0.90
#: Tables with an age-cohort breakdown in the paper (Table 6 has none).
COHORT_TABLES = tuple(t for t in TABLES if t != "table6")
#: What ``statebiz reachability`` writes, as its manifest describes it.
FILES = {
    "reachability.csv": "per observed total and cohort cell: share, 90% interval, best share, point",
    "points.csv": "per simulated point: parameters and population shares of every total and cohort cell",
    "summary.txt": "the printed table",
}


@dataclass(frozen=True)
class ReachDesign:
    """Search settings."""

    points: int = 200
    refine: int = 8  # points around the best point of each total not reached by the first stage
    firms: int = 1500
    residents_per_region: int = 300
    burn_in: int = int(BY_NAME["burn_in"].default)  # the measured burn-in (statebiz dynamics stationarity)
    seed: int = 0
    regions: str = "turkestan"


QUICK = ReachDesign(points=24, refine=3, firms=600, residents_per_region=300, burn_in=60)


def interval(count: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The population shares p under which ``count`` of ``n`` lies in the central ``level`` of
    Binomial(n, p): the exact (Clopper-Pearson) interval."""
    if not 0 <= count <= n or n < 1:
        raise ValueError(f"count {count} of n {n}: expected 0 <= count <= n and n >= 1")
    alpha = (1 - level) / 2
    lo = 0.0 if count == 0 else float(stats.beta.ppf(alpha, count, n - count + 1))
    hi = 1.0 if count == n else float(stats.beta.ppf(1 - alpha, count + 1, n - count))
    return lo, hi


def observed_totals(cohorts: bool = True) -> pd.DataFrame:
    """One row per observed total (kind "total") and, with ``cohorts``, per observed cohort cell
    (kind "cohort", Tables 5, 7, 8, 9; answer "<cohort> / <answer>"): table, answer, count, n,
    share, interval. The totals come first, in ``TABLES`` order, then the cohort cells."""
    obs = observed_tables()
    design = sample_design()
    recs = []
    for name in TABLES:
        rows, cols = table_labels(name)
        counts = np.asarray(obs[name])
        if name == "table6":
            n = int(sum(design["residents"]))
            for u, utility in enumerate(rows):
                for a, answer in enumerate(cols):
                    recs.append((name, f"{utility} / {answer}", (u, a), int(counts[u, a]), n, "total"))
        else:
            n = int(sum(design["residents"] if name in RESIDENT_TABLES else design["entrepreneurs"]))
            totals = counts.sum(axis=0)
            for a, answer in enumerate(cols):
                recs.append((name, str(answer), (a,), int(totals[a]), n, "total"))
    if cohorts:
        for name in COHORT_TABLES:
            rows, cols = table_labels(name)
            counts = np.asarray(obs[name])
            quotas = design["residents"] if name in RESIDENT_TABLES else design["entrepreneurs"]
            for c, cohort in enumerate(rows):
                for a, answer in enumerate(cols):
                    recs.append((name, f"{cohort} / {answer}", (c, a), int(counts[c, a]), int(quotas[c]), "cohort"))
    df = pd.DataFrame(recs, columns=["table", "answer", "index", "count", "n", "kind"])
    df["observed"] = df["count"] / df["n"]
    bounds = [interval(c, n) for c, n in zip(df["count"], df["n"])]
    df["low"] = [b[0] for b in bounds]
    df["high"] = [b[1] for b in bounds]
    return df


def _sample(unit: np.ndarray) -> list[dict[str, float]]:
    """Unit-cube points -> parameter points within the registered ranges."""
    out = []
    for row in unit:
        point = {}
        for name, u in zip(FREE, row):
            spec = BY_NAME[name]
            lo, hi = float(spec.low), float(spec.high)
            if lo > 0 and hi / lo >= 100:
                point[name] = float(np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo))))
            else:
                point[name] = float(lo + u * (hi - lo))
        out.append(point)
    return out


def _unit(point: dict[str, float]) -> np.ndarray:
    out = []
    for name in FREE:
        spec = BY_NAME[name]
        lo, hi, v = float(spec.low), float(spec.high), point[name]
        out.append(
            (np.log(v) - np.log(lo)) / (np.log(hi) - np.log(lo)) if lo > 0 and hi / lo >= 100 else (v - lo) / (hi - lo)
        )
    return np.asarray(out)


def simulate_point(point: dict[str, float], design: ReachDesign) -> np.ndarray:
    """The simulated population share of every observed total and cohort cell (in
    ``observed_totals`` order)."""
    task = _tasks([point], design)[0]
    return np.asarray(reach_run(*task[2:])["shares"])


def reach_run(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One point as an evaluator task: the simulated population share of every observed total and
    cohort cell."""
    model = StateBusinessModel(rng=seed, **params, steps=steps)
    model.run()
    shares = simulate_survey(model).population_shares
    out = []
    for name in TABLES:
        total = np.asarray(shares[name]["total"])
        out.extend(total.ravel().tolist())
    for name in COHORT_TABLES:
        out.extend(np.asarray(shares[name]["by_cohort"]).ravel().tolist())
    return {"shares": out}


def _tasks(points: list[dict[str, float]], design: ReachDesign, first: int = 0) -> list[Task]:
    base = {
        "regions": design.regions,
        "firms": design.firms,
        "residents_per_region": design.residents_per_region,
        "burn_in": design.burn_in,
    }
    return [(first + i, reach_run, base | point, design.seed, 1, ()) for i, point in enumerate(points)]


def _simulate(points: list[dict[str, float]], design: ReachDesign, runs: Runs, first: int) -> list[np.ndarray]:
    rows = runs.run(_tasks(points, design, first), describe=lambda t: f"point {t[0]} ({t[2]})")
    return [np.asarray(r["shares"]) for r in rows]


def _distance(sim: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.maximum(low - sim, 0) + np.maximum(sim - high, 0)


def search(
    design: ReachDesign, progress: Callable[[int, int], None] | None = None, runs: Runs | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the search. Returns (totals: one row per observed total with its best point,
    points: one row per simulated point with its parameters and shares).

    ``runs`` is the study's evaluator (default: serial, no journal, ``progress(done, planned)``
    after each point). The points around a near miss depend on the points before them, so each
    total's are one stage, run after the stages before it."""
    totals = observed_totals()
    if runs is None:
        with counted(progress, design.points + design.refine * len(totals)) as serial:
            return search(design, runs=serial)
    low, high = totals["low"].to_numpy(), totals["high"].to_numpy()
    unit = qmc.LatinHypercube(d=len(FREE), seed=design.seed).random(design.points)
    points = _sample(unit)
    sims = _simulate(points, design, runs, 0)
    stage = ["hypercube"] * len(points)
    rng = np.random.default_rng([design.seed, 1])
    if design.refine:
        for t in range(len(totals)):
            S = np.asarray(sims)
            d = _distance(S[:, t], low[t], high[t])
            if d.min() == 0:
                continue
            centre = _unit(points[int(np.argmin(d))])
            local = _sample(np.clip(centre + rng.uniform(-0.1, 0.1, size=(design.refine, len(FREE))), 0, 1))
            sims.extend(_simulate(local, design, runs, len(points)))
            points.extend(local)
            stage.extend([f"around best of {totals.loc[t, 'table']} {totals.loc[t, 'answer']}"] * len(local))
    return _best(totals, points, np.asarray(sims), stage)


def _best(totals: pd.DataFrame, points: list[dict[str, float]], S: np.ndarray, stage: list[str]):
    """Per total, the point nearest its interval (inside it: nearest the observed share); and the points' table."""
    low, high, obs = totals["low"].to_numpy(), totals["high"].to_numpy(), totals["observed"].to_numpy()
    best_rows = []
    for t in range(len(totals)):
        d = _distance(S[:, t], low[t], high[t])
        key = d + 1e-9 * np.abs(S[:, t] - obs[t])  # inside: the share nearest the observed one
        j = int(np.argmin(key))
        best_rows.append(
            {
                "best": float(S[j, t]),
                "within": bool(d[j] == 0),
                "distance": float(d[j]),
                "point_index": j,
                **{name: points[j][name] for name in FREE},
            }
        )
    result = pd.concat([totals.drop(columns="index"), pd.DataFrame(best_rows)], axis=1)
    cols = [f"{t}:{a}" for t, a in zip(totals["table"], totals["answer"])]
    table = pd.DataFrame(points)
    table.insert(0, "stage", stage)
    table = pd.concat([table, pd.DataFrame(S, columns=cols)], axis=1)
    inside = (S >= low) & (S <= high)
    is_total = (totals["kind"] == "total").to_numpy()
    table["totals_within"] = inside[:, is_total].sum(axis=1)
    table["cohort_cells_within"] = inside[:, ~is_total].sum(axis=1)
    return result, table


def joint_reach(result: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """Per table and kind (totals, cohort cells), and for the residents' two tables together
    (Tables 5 and 6, totals): how many of its cells one point reaches at most, and how many
    points reach them all. Reaching each cell somewhere is not reaching them together: this shows
    where the tables' answers pull one parameter point apart (finding 6 of issue 22)."""
    cols = [f"{t}:{a}" for t, a in zip(result["table"], result["answer"])]
    S = points[cols].to_numpy()
    inside = (S >= result["low"].to_numpy()) & (S <= result["high"].to_numpy())
    groups = [
        (f"{t} {k}", ((result["table"] == t) & (result["kind"] == k)).to_numpy())
        for k in ("total", "cohort")
        for t in TABLES
    ]
    groups.append(
        ("table5+table6 total", (result["table"].isin(RESIDENT_TABLES) & (result["kind"] == "total")).to_numpy())
    )
    rows = []
    for label, mask in groups:
        if not mask.any():
            continue
        hits = inside[:, mask].sum(axis=1)
        rows.append(
            {
                "cells": label,
                "n": int(mask.sum()),
                "most_by_one_point": int(hits.max()),
                "points_reaching_all": int((hits == mask.sum()).sum()),
            }
        )
    return pd.DataFrame(rows)


def format_table(result: pd.DataFrame, points: pd.DataFrame, design: ReachDesign, wall: float) -> str:
    """The printed reachability table."""
    lines = [
        f"Reachability of the survey's totals and cohort cells: {len(points)} points ({design.points} Latin hypercube "
        f"+ {len(points) - design.points} around near misses) over {len(FREE)} free parameters, "
        f"Turkestan, {design.firms} firms, {design.residents_per_region} residents, burn-in {design.burn_in}, "
        f"{wall:.0f} s",
        f"{'table':7} {'answer':34} {'obs':>6} {'90% interval':>15} {'best':>6} {'within':>6}  point",
    ]
    for _, r in result.iterrows():
        point = ", ".join(f"{n}={r[n]:.3g}" for n in FREE)
        lines.append(
            f"{r['table']:7} {r['answer'][:34]:34} {r['observed']:6.3f} [{r['low']:.3f}, {r['high']:.3f}] "
            f"{r['best']:6.3f} {'yes' if r['within'] else 'no':>6}  #{r['point_index']}: {point}"
        )
    for kind, label in (("total", "totals"), ("cohort", "cohort cells")):
        part = result[result["kind"] == kind]
        lines.append(f"reached: {int(part['within'].sum())} of {len(part)} {label}")
    missed = result[~result["within"]]
    for _, r in missed.iterrows():
        side = "below" if r["best"] < r["low"] else "above"
        lines.append(
            f"  unreachable here: {r['table']} {r['answer']}: best {r['best']:.3f} is {r['distance']:.3f} {side} "
            f"the interval [{r['low']:.3f}, {r['high']:.3f}]"
        )
    n_totals = int((result["kind"] == "total").sum())
    lines.append(
        f"most totals reached by one point: {int(points['totals_within'].max())} of {n_totals}; most cohort "
        f"cells: {int(points['cohort_cells_within'].max())} of {len(result) - n_totals} "
        "(not a fit: no point is asked to reach them all)"
    )
    lines.append("joint reach (cells of one table reached by a single point; not a fit):")
    for _, r in joint_reach(result, points).iterrows():
        lines.append(
            f"  {r['cells']:22} most {r['most_by_one_point']:3d} of {r['n']:3d}; "
            f"points reaching all: {r['points_reaching_all']}"
        )
    return "\n".join(lines)


def timed_search(design: ReachDesign, progress=None) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """``search`` and its wall time in seconds."""
    started = time.perf_counter()
    result, points = search(design, progress)
    return result, points, time.perf_counter() - started


def as_dict(design: ReachDesign) -> dict[str, Any]:
    """The design as JSON-ready settings."""
    return {k: getattr(design, k) for k in design.__dataclass_fields__}


class Reachability(Study):
    """``statebiz reachability``: the best point for each observed total and cohort cell of Tables 5-9
    (not a fit)."""

    name = "reachability"
    files = FILES

    @override
    def default(self) -> ReachDesign:
        return ReachDesign()

    @override
    def quick(self) -> ReachDesign:
        return QUICK

    @override
    def size(self, design: ReachDesign) -> None:
        return None  # the points around near misses depend on the first stage

    @override
    def compute(self, design: ReachDesign, runs: Runs) -> dict[str, pd.DataFrame]:
        result, points = search(design, runs=runs)
        return {"reachability.csv": result, "points.csv": points}

    @override
    def summary(self, design: ReachDesign, tables: dict[str, pd.DataFrame], wall: float) -> str:
        return format_table(tables["reachability.csv"], tables["points.csv"], design, wall)

    @override
    def manifest(self, design: ReachDesign, tables: dict[str, pd.DataFrame], wall: float) -> dict[str, Any]:
        result = tables["reachability.csv"]
        return {
            "design": as_dict(design),
            "free_parameters": {n: [BY_NAME[n].low, BY_NAME[n].high] for n in FREE},
            "interval": "exact binomial (Clopper-Pearson) 90% interval of the population share",
            "reached": int(result["within"].sum()),
            "cells": len(result),
            "reached_totals": int(result.loc[result["kind"] == "total", "within"].sum()),
            "totals": int((result["kind"] == "total").sum()),
            "reached_cohort_cells": int(result.loc[result["kind"] == "cohort", "within"].sum()),
            "cohort_cells": int((result["kind"] == "cohort").sum()),
            "wall_time_seconds": round(wall, 3),
            "files": FILES,
        }
