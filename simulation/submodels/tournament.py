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

Optionally (``symbiosis_step`` > 0) the akim chooses the governance model s (career concerns
under a yardstick tournament: Holmström 1999; Maskin, Qian and Xu 2000; Li and Zhou 2005; the
paper's s.2: the Figure 2 criteria give akims an interest in symbiosis). Every quarter, after
the scores, each akim compares three levels, s - step, s and s + step (within [0, 1]), by the
gain it expects from each at its next evaluation, and picks one by a logit choice with the
plan's sensitivity ``plan_sensitivity`` (bounded rationality, as in plan.py; McFadden 1974):
- what a move of s does to the score, it reads from the league tables of the last year: the
  least-squares slope beta of the score on the change of s over the year the score measures
  (s now minus s four quarters earlier), pooled over the regions and the last four evaluations
  (with one region: its own record); no move of half a step or more on record: beta = 0. The
  residual standard deviation sigma is its uncertainty about its next score;
- the expected score at s': x' = clip(score + beta (s' - s), 0, 1);
- the risk of replacement it implies: rho(x') = replacement_probability x Pr(score below the
  bottom ``replacement_quantile``), with the score normal around x' (sd sigma), and the
  threshold the quantile of this quarter's scores (fewer than 3 regions: ``replacement_quantile``);
- the gain: x' (1 - rho(x')), the score the akim expects to carry through its next evaluation,
  nothing if it loses office there.
s is then an outcome of the KPIs and the levers; with ``symbiosis_step`` = 0 it is a setting.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from ..formulas import average_ranks
from ..observe.kpi import KPI_NAMES, measure

#: KPIs that are stocks (growth is level against level a year ago); the others are flows.
STOCKS = ("small_businesses", "high_performance_jobs", "real_wages")
#: The centre's plan target for growth when regions cannot be ranked: no decline.
TARGET_GROWTH = 0.0


def kpi_growth(history) -> np.ndarray:
    """Year-on-year growth of each KPI per region (KPIs x regions) from 8 quarters of history."""
    R = history[-1][KPI_NAMES[0]].shape[0]
    growth = np.zeros((len(KPI_NAMES), R))
    for k, name in enumerate(KPI_NAMES):
        if name in STOCKS:
            now, before = history[-1][name], history[-5][name]
        else:
            now = sum(h[name] for h in list(history)[-4:])
            before = sum(h[name] for h in list(history)[:4])
        growth[k] = np.divide(now - before, np.abs(before), out=np.zeros(R), where=before != 0)
    return growth


def step(world, log, rng) -> None:
    """Measure the KPIs, score the akims, move power, and replace the worst akims once a year."""
    p, a = world.params, world.akimats
    R = world.n_regions
    history = world.kpi_history
    history.append(measure(world, log))
    if len(history) < 8:
        return
    growth = kpi_growth(history)
    if R >= 3:
        ranks = (average_ranks(growth) - 1.0) / (R - 1)  # ties share their rank
        score = ranks.mean(axis=0)
    else:
        score = (1.0 / (1.0 + np.exp(-(growth - TARGET_GROWTH) / p["growth_scale"]))).mean(axis=0)
    a.score[:] = score
    anchor = p["power_anchor"] * (a.structural_power - a.power)
    drift = p["power_learning"] * (score - 0.5) + anchor
    a.power[:] = np.clip(a.power + drift, 0.01, 0.99)
    if p["symbiosis_step"] > 0:
        choose_symbiosis(world, score, rng)
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


#: The akim's options: s - step, s, s + step.
MOVES = np.array([-1.0, 0.0, 1.0])


def response_to_symbiosis(league, step: float) -> tuple[float, float]:
    """What the league tables say a move of s does to the score: the least-squares slope beta of
    the score on the change of s over the preceding four quarters, pooled over the regions and
    the evaluations that have one (``league``: (s, score) per evaluation, newest last; the last
    four), and the residual standard deviation sigma. Without a move of half a step or more on
    record there is no evidence: beta = 0 and sigma is the scores' standard deviation."""
    if len(league) < 5:
        return 0.0, 0.0
    t = range(max(4, len(league) - 4), len(league))
    moves = np.concatenate([league[i][0] - league[i - 4][0] for i in t])
    scores = np.concatenate([league[i][1] for i in t])
    dx = moves - moves.mean()
    if np.abs(dx).max() < step / 2:
        return 0.0, float(scores.std())
    beta = float((dx * (scores - scores.mean())).sum() / (dx * dx).sum())
    resid = scores - scores.mean() - beta * dx
    return beta, float(np.sqrt((resid * resid).mean()))


def choice_gains(s, score, beta, sigma, step, threshold, strict, replacement_probability):
    """The akims' options (regions x 3: s - step, s, s + step, clipped to [0, 1]), whether each is
    a distinct option (a move clipped back onto s is none), and each one's expected gain
    x' (1 - rho(x')) with x' = clip(score + beta (s' - s), 0, 1) and rho the replacement risk at
    x' (sd sigma around x'; sigma = 0: x' itself, below the threshold, or at or below it unless
    ``strict``)."""
    options = np.clip(s[:, None] + step * MOVES, 0.0, 1.0)
    feasible = (options != s[:, None]) | (MOVES == 0.0)
    x = np.clip(score[:, None] + beta * (options - s[:, None]), 0.0, 1.0)
    if sigma > 0:
        below = ndtr((threshold - x) / sigma)
    else:
        below = (x < threshold) if strict else (x <= threshold)
    gain = x * (1.0 - replacement_probability * below)
    return options, feasible, gain


def choose_symbiosis(world, score: np.ndarray, rng) -> None:
    """Each akim moves s to one of s - step, s, s + step by a logit choice on expected gain."""
    p, a = world.params, world.akimats
    step = p["symbiosis_step"]
    world.league_history.append((a.symbiosis.copy(), score.copy()))
    beta, sigma = response_to_symbiosis(world.league_history, step)
    if world.n_regions >= 3:
        threshold, strict = float(np.quantile(score, p["replacement_quantile"])), False
    else:
        threshold, strict = p["replacement_quantile"], True
    options, feasible, gain = choice_gains(
        a.symbiosis, score, beta, sigma, step, threshold, strict, p["replacement_probability"]
    )
    best = np.where(feasible, gain, -np.inf).max(axis=1, keepdims=True)
    u = np.where(feasible, np.exp(p["plan_sensitivity"] * (gain - best)), 0.0)
    prob = u / u.sum(axis=1, keepdims=True)
    draw = rng.random(world.n_regions)
    choice = np.minimum((prob.cumsum(axis=1) < draw[:, None]).sum(axis=1), len(MOVES) - 1)
    a.symbiosis[:] = options[np.arange(world.n_regions), choice]
