"""9. Akim evaluation: the Figure 2 KPIs and a tournament among the regions.

Each KPI's growth is its sum over the last 4 quarters against the 4 quarters before (for
stocks: the level against the level 4 quarters ago). With 3 or more regions an akim's
score is the mean, over the six KPIs, of the region's percentile rank in growth; with
fewer (the single-region scenario) it is the mean of logistic(growth / 5%), the
centre's plan target (no decline) standing in for the other regions. Power then moves
with the score and is pulled back toward the region's structural level P0 (its initial
value: the centre's fiscal rules and appointments anchor it),

    P <- clip(P + eta (score - 1/2) - kappa [captured] + 0.05 (P0 - P), 0.01, 0.99),

and once a year the akims in the bottom ``replacement_quantile`` of scores are replaced
with probability ``replacement_probability``: the new akim's P is a fresh draw around the
region's structural power P0 (sd ``power_spread``), the corrupt share moves half-way back to its initial value, and
a capture ends.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..kpi import KPI_NAMES, measure
from . import capture

STOCKS = ("small_businesses", "high_performance_jobs", "real_wages")
TARGET_GROWTH, GROWTH_SCALE = 0.0, 0.05
ANCHOR = 0.05


def step(model, log) -> dict[str, np.ndarray]:
    p, a = model.params, model.akimats_state
    rng = model.streams["tournament"]
    kpis = measure(model, log)
    history = getattr(model, "kpi_history", None)
    if history is None:
        history = model.kpi_history = deque(maxlen=8)
    history.append(kpis)
    if len(history) < 8:
        return kpis
    growth = np.zeros((len(KPI_NAMES), model.n_regions))
    for k, name in enumerate(KPI_NAMES):
        if name in STOCKS:
            now, before = history[-1][name], history[-5][name]
        else:
            now = sum(h[name] for h in list(history)[-4:])
            before = sum(h[name] for h in list(history)[:4])
        growth[k] = np.divide(now - before, np.abs(before), out=np.zeros(model.n_regions), where=before != 0)
    if model.n_regions >= 3:
        ranks = growth.argsort(axis=1, kind="stable").argsort(axis=1, kind="stable") / (model.n_regions - 1)
        score = ranks.mean(axis=0)
    else:
        score = (1.0 / (1.0 + np.exp(-(growth - TARGET_GROWTH) / GROWTH_SCALE))).mean(axis=0)
    a.score[:] = score
    captured = model.captured_regions() > 0
    drift = p["power_learning"] * (score - 0.5) - p["capture_penalty"] * captured + ANCHOR * (a.structural_power - a.power)
    a.power[:] = np.clip(a.power + drift, 0.01, 0.99)
    if model.quarter % 4 == 3:
        if model.n_regions >= 3:
            bottom = score <= np.quantile(score, p["replacement_quantile"])
        else:
            bottom = score < p["replacement_quantile"]
        replaced = bottom & (rng.random(model.n_regions) < p["replacement_probability"])
        for r in np.flatnonzero(replaced):
            a.power[r] = np.clip(a.structural_power[r] + p["power_spread"] * rng.standard_normal(), 0.01, 0.99)
            a.corrupt_share[r] = 0.5 * (a.corrupt_share[r] + p["corruption_initial"])
            capture.release(model, r)
            a.replacements[r] += 1
    return kpis
