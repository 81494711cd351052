"""The comparisons: published figures against simulated intervals, regions and rankings."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...regions import all_regions
from ..base import Runs
from .data import LEVEL, MC_DRAWS, QUANTITIES, REGIONAL, STRUCTURAL, ValidationData, load_validation_data
from .runs import ParameterSource, ValidationDesign, ValidationRuns, run_validation

# --------------------------------------------------------------------------- statistics


def spearman(x, y) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN if either side is constant."""
    from scipy.stats import rankdata

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.size < 2:
        raise ValueError("spearman needs two sequences of the same length, at least 2")
    rx, ry = rankdata(x), rankdata(y)
    if np.ptp(rx) == 0 or np.ptp(ry) == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def _quantiles(values) -> tuple[float, float, float]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    lo, mid, hi = np.quantile(v, [(1 - LEVEL) / 2, 0.5, (1 + LEVEL) / 2])
    return float(mid), float(lo), float(hi)


def quantity_summary(runs: ValidationRuns) -> pd.DataFrame:
    """Per scenario and quantity: median and 90% interval over draws x seeds, and how much of the
    spread is between draws (the posterior) rather than between seeds."""
    recs = []
    params = runs.draws.drop(columns="draw", errors="ignore")
    same_draws = params.empty or bool(params.nunique().le(1).all())  # uncalibrated: every draw alike
    for scen, grp in runs.quantities.groupby("scenario", sort=False):
        for name in QUANTITIES:
            if name not in grp:
                continue
            mid, lo, hi = _quantiles(grp[name])
            total = float(np.nanvar(grp[name].to_numpy(dtype=float)))
            between = float(np.nanvar(grp.groupby("draw")[name].mean().to_numpy(dtype=float)))
            recs.append(
                {
                    "scenario": scen,
                    "quantity": name,
                    "median": mid,
                    "low": lo,
                    "high": hi,
                    "runs": int(grp[name].notna().sum()),
                    "share_of_variance_between_draws": (
                        between / total if total > 0 and not same_draws else float("nan")
                    ),
                    "meaning": QUANTITIES[name],
                }
            )
    return pd.DataFrame(recs)


def compare_figures(runs: ValidationRuns, data: ValidationData, seed: int) -> pd.DataFrame:
    """One row per published figure and scenario it is compared with: published value and its
    approximate sampling interval, simulated median and 90% interval (draws x seeds), the
    difference (simulated - published, percentage points) with an interval that carries both
    the runs' spread and the published sampling error, and the verdict."""
    rng = np.random.default_rng([seed, 7])
    recs = []
    for fig in data.figures:
        for scen in fig.compare_with:
            grp = runs.quantities[runs.quantities["scenario"] == scen]
            if grp.empty:
                continue
            sim = grp[fig.model_quantity].to_numpy(dtype=float)
            sim = sim[np.isfinite(sim)]
            mid, lo, hi = _quantiles(sim)
            plo, phi = fig.interval()
            sd = fig.sampling_sd()
            structural = fig.model_quantity in STRUCTURAL
            if sim.size:
                s = rng.choice(sim, MC_DRAWS)
                pub = fig.share + (rng.standard_normal(MC_DRAWS) * sd if math.isfinite(sd) else 0.0)
                d_mid, d_lo, d_hi = _quantiles(100 * (s - pub))
            else:
                d_mid = d_lo = d_hi = float("nan")
            if structural:
                verdict = "structural: fixed by the model's construction"
            elif not sim.size:
                verdict = "not simulated"
            elif fig.bound == "at least":
                verdict = (
                    "consistent (at or above the bound)"
                    if lo >= fig.share
                    else ("below the published lower bound" if hi < fig.share else "partly below the bound")
                )
            elif d_lo > 0:
                verdict = "model higher"
            elif d_hi < 0:
                verdict = "model lower"
            else:
                verdict = "consistent"
            recs.append(
                {
                    "figure": fig.id,
                    "label": fig.label,
                    "scenario": scen,
                    "quantity": fig.quantity,
                    "model_quantity": fig.model_quantity,
                    "wave": fig.wave,
                    "published": fig.share,
                    "bound": fig.bound or "",
                    "published_low": plo,
                    "published_high": phi,
                    "published_n": fig.sample_size,
                    "published_interval": (
                        "binomial approximation, no design effect" if math.isfinite(plo) else "none known"
                    ),
                    "simulated": mid,
                    "simulated_low": lo,
                    "simulated_high": hi,
                    "runs": int(sim.size),
                    "difference_pp": d_mid,
                    "difference_low_pp": d_lo,
                    "difference_high_pp": d_hi,
                    "verdict": verdict,
                    "source": f"{fig.publisher}, '{fig.title}', {fig.date}",
                    "url": fig.url,
                }
            )
    return pd.DataFrame(recs)


def region_summary(runs: ValidationRuns, data: ValidationData) -> pd.DataFrame:
    """Per region: median and 90% interval of each regional outcome and of its rank over draws x
    seeds (rank 1: the most corruption; the most satisfied firms), the rank of the medians, and
    the region's class in each independent ranking."""
    reg = runs.regions.copy()
    for k in REGIONAL:
        # rank within each run; ties share the better (smaller) rank
        reg[f"rank_{k}"] = reg.groupby(["draw", "seed_index"])[k].rank(ascending=False, method="min")
    order = [r.id for r in all_regions()]
    names = {r.id: r.name for r in all_regions()}
    recs = []
    for region, grp in reg.groupby("region", sort=False):
        rec: dict[str, Any] = {"region": region, "name": names.get(region, region)}
        for k in REGIONAL:
            mid, lo, hi = _quantiles(grp[k])
            rmid, rlo, rhi = _quantiles(grp[f"rank_{k}"])
            rec |= {k: mid, f"{k}_low": lo, f"{k}_high": hi}
            rec |= {f"rank_{k}": rmid, f"rank_{k}_low": rlo, f"rank_{k}_high": rhi}
        for r in data.rankings:
            rec[r.id] = r.tier().get(region, "not covered")
        recs.append(rec)
    out = pd.DataFrame(recs)
    for k in REGIONAL:
        out[f"rank_of_median_{k}"] = out[k].rank(ascending=False, method="min").astype(int)
    out["_order"] = [order.index(r) for r in out["region"]]
    return out.sort_values([f"rank_of_median_{REGIONAL[0]}", "_order"]).drop(columns="_order").reset_index(drop=True)


def ranking_correlations(runs: ValidationRuns, data: ValidationData, seed: int) -> pd.DataFrame:
    """Per independent ranking and regional outcome: Spearman's rho between the simulated values
    and the ranking's class scores over the regions it covers, per run (median and 90% interval
    over draws x seeds), for the medians over runs, and the permutation null (the 90% range of
    rho when the classes are shuffled among the regions, and the one-sided p of the medians' rho in
    the expected direction: + for corruption incidence, - for business satisfaction)."""
    rng = np.random.default_rng([seed, 11])
    recs = []
    for ranking in data.rankings:
        score = ranking.score()
        covered = [r for r in score]
        y = np.array([score[r] for r in covered])
        for k in REGIONAL:
            wide = runs.regions.pivot_table(index=["draw", "seed_index"], columns="region", values=k)
            missing = [r for r in covered if r not in wide.columns]
            if missing:
                continue
            x_runs = wide[covered].to_numpy(dtype=float)
            per_run = np.array([spearman(x, y) for x in x_runs])
            mid, lo, hi = _quantiles(per_run)
            medians = np.median(x_runs, axis=0)
            rho_median = spearman(medians, y)
            null = np.array([spearman(medians, rng.permutation(y)) for _ in range(MC_DRAWS // 4)])
            null = null[np.isfinite(null)]
            nmid, nlo, nhi = _quantiles(null)
            sign = 1.0 if k == "corruption_incidence" else -1.0  # more corruption, less satisfaction
            p = float("nan")
            if null.size and math.isfinite(rho_median):
                p = float(np.mean(sign * null >= sign * rho_median))
            recs.append(
                {
                    "ranking": ranking.id,
                    "label": ranking.label,
                    "outcome": k,
                    "regions": len(covered),
                    "expected_sign": "+" if k == "corruption_incidence" else "-",
                    "rho_median_run": mid,
                    "rho_low": lo,
                    "rho_high": hi,
                    "rho_of_medians": rho_median,
                    "null_low": nlo,
                    "null_high": nhi,
                    "p_one_sided": p,
                    "runs": int(np.isfinite(per_run).sum()),
                    "primary": ranking.primary,
                    "source": f"{ranking.publisher}, '{ranking.title}', {ranking.date}",
                    "url": ranking.url,
                }
            )
    return pd.DataFrame(recs)


@dataclass
class ValidationResult:
    """Every table of a validation, ready to write."""

    design: ValidationDesign
    source: ParameterSource
    data: ValidationData
    runs: ValidationRuns
    figures: pd.DataFrame
    quantities: pd.DataFrame
    regions: pd.DataFrame
    rankings: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """File name -> table."""
        return {
            "figures.csv": self.figures,
            "quantities.csv": self.quantities,
            "regions.csv": self.regions,
            "rankings.csv": self.rankings,
            "runs.csv": self.runs.quantities,
            "region_runs.csv": self.runs.regions,
            "draws.csv": self.runs.draws,
        }


def validate(
    design: ValidationDesign,
    source: ParameterSource,
    data: ValidationData | None = None,
    backend: str = "serial",
    workers: int | None = None,
    address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    runs: Runs | None = None,
) -> ValidationResult:
    """Run the validation and compute its tables."""
    data = data or load_validation_data()
    done = run_validation(design, source, backend, workers, address, progress, runs)
    return ValidationResult(
        design,
        source,
        data,
        done,
        compare_figures(done, data, design.root_seed),
        quantity_summary(done),
        region_summary(done, data),
        ranking_correlations(done, data, design.root_seed),
    )
