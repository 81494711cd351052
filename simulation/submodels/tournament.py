"""9. Akim evaluation: the Figure 2 KPIs and a tournament among the regions.

Each KPI's growth is its sum over the last 4 quarters against the 4 quarters before (for
stocks: the level against the level 4 quarters ago). With 3 or more regions an akim's
score is the mean, over the six KPIs, of the region's percentile rank in growth (regions with
equal growth share the mean of their ranks); with
fewer (the single-region scenario) it is the mean of logistic(growth / growth_scale), the
centre's plan target (no decline) standing in for the other regions. Power then moves
with the score and is pulled back toward the region's structural level P0 (its initial
value: the centre's fiscal rules and appointments anchor it; ``power_anchor``),

    P <- clip(P + eta (score - 1/2) + anchor (P0 - P), 0.01, 0.99),

and once a year the akims in the bottom ``replacement_quantile`` of scores (with fewer than 3
regions, whose score is below ``replacement_quantile``) are replaced with probability
``replacement_probability``: the new akim's P is a fresh draw around the
region's structural power P0 (sd ``power_spread``), and a capture ends (the officials stay:
the corrupt share is theirs, not the akim's).

Optionally (``symbiosis_drift`` > 0) the governance model drifts under the tournament's
pressure: an akim who lags leans on insiders for quick KPI gains, one who leads can afford
the rules, s <- clip(s + drift (1/2 - score), 0, 1) (the paper: the Figure 2 criteria give
akims a direct interest in strengthening symbiosis).
"""

from __future__ import annotations

import numpy as np

from ..formulas import average_ranks
from ..observe.kpi import KPI_NAMES, measure

#: KPIs that are stocks (growth is level against level a year ago); the others are flows.
STOCKS = ("small_businesses", "high_performance_jobs", "real_wages")
#: The centre's plan target for growth when regions cannot be ranked: no decline.
TARGET_GROWTH = 0.0


def step(world, log, rng) -> None:
    """Measure the KPIs, score the akims, move power, and replace the worst akims once a year."""
    p, a = world.params, world.akimats
    R = world.n_regions
    history = world.kpi_history
    history.append(measure(world, log))
    if len(history) < 8:
        return
    growth = np.zeros((len(KPI_NAMES), R))
    for k, name in enumerate(KPI_NAMES):
        if name in STOCKS:
            now, before = history[-1][name], history[-5][name]
        else:
            now = sum(h[name] for h in list(history)[-4:])
            before = sum(h[name] for h in list(history)[:4])
        growth[k] = np.divide(now - before, np.abs(before), out=np.zeros(R), where=before != 0)
    if R >= 3:
        ranks = (average_ranks(growth) - 1.0) / (R - 1)  # ties share their rank
        score = ranks.mean(axis=0)
    else:
        score = (1.0 / (1.0 + np.exp(-(growth - TARGET_GROWTH) / p["growth_scale"]))).mean(axis=0)
    a.score[:] = score
    anchor = p["power_anchor"] * (a.structural_power - a.power)
    drift = p["power_learning"] * (score - 0.5) + anchor
    a.power[:] = np.clip(a.power + drift, 0.01, 0.99)
    if p["symbiosis_drift"] > 0:
        a.symbiosis[:] = np.clip(a.symbiosis + p["symbiosis_drift"] * (0.5 - score), 0.0, 1.0)
    if world.quarter % 4 == 3:
        if R >= 3:
            bottom = score <= np.quantile(score, p["replacement_quantile"])
        else:
            bottom = score < p["replacement_quantile"]
        replaced = bottom & (rng.random(R) < p["replacement_probability"])
        for r in np.flatnonzero(replaced):
            a.power[r] = np.clip(a.structural_power[r] + p["power_spread"] * rng.standard_normal(), 0.01, 0.99)
            world.release_capture(r)
            a.replacements[r] += 1
