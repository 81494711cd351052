"""Formulas that several submodels share: pure functions of arrays and parameters.

Nothing here reads or writes the world; every function's result depends only on its
arguments. A submodel that needs one of these imports it from here, never from another
submodel (the layering test in ``tests/test_architecture.py`` checks that).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.special import ndtr

from .kernels.jit import jitable, kernel, maximum

#: Quarters in a year (a firm's age is counted in quarters).
QUARTERS_PER_YEAR = 4.0

#: Interquartile range of a standard normal (2 x 0.6745): a log spread read robustly is IQR / this.
IQR_PER_SD = 1.349


def bargaining_share(power: np.ndarray, strength: np.ndarray, phi: float) -> np.ndarray:
    """s = P^phi / (P^phi + B^phi): the officials' share of the bargaining surplus (brief s.3)."""
    pp = np.power(power, phi)
    return pp / (pp + np.power(np.maximum(strength, 1e-9), phi))


def true_detection(p: Mapping[str, Any]) -> float:
    """Probability that a paid bribe is detected: by an audit, or by open data that expose it."""
    return 1.0 - (1.0 - p["audit_rate"]) * (1.0 - p["transparency_detection"] * p["transparency"])


def potential_output(productivity: np.ndarray, capital: np.ndarray, alpha: float, alive: np.ndarray) -> np.ndarray:
    """A K^alpha for firms in business (0 for exited rows), before the quarter's shock."""
    return productivity * np.power(capital, alpha) * alive


def grown_capital(
    entered_with: np.ndarray, productivity: np.ndarray, age: np.ndarray, p: Mapping[str, Any]
) -> np.ndarray:
    """Capital of firms that entered ``age`` quarters ago with ``entered_with`` and grew since
    along the deterministic path of the economy's investment rule at half trust, with no
    shocks, bribes, support or fines: K <- (1 - delta) K + reinvestment x max(profit, 0) x
    (f + (1 - f)/2), profit = (1 - labour share - tax rate) A K^alpha - fixed cost. Gives
    the initial firms the age-structured sizes of the stationary state, so that the burn-in
    is short."""
    k = np.asarray(entered_with, dtype=float).copy()
    age = np.asarray(age)
    if not len(age):
        return k
    # the firms oldest first: the ones still growing at quarter t are a prefix, which alone is stepped
    order = np.argsort(-age, kind="stable")
    grown, factor, years = k[order], np.asarray(productivity, dtype=float)[order], age[order]
    growing = np.searchsorted(-years, -np.arange(int(years[0])), side="left")
    for m in growing:
        grown[:m] = _grown_one_quarter(grown[:m], factor[:m], p)
    k[order] = grown
    return k


def _grown_one_quarter(k: np.ndarray, productivity: np.ndarray, p: Mapping[str, Any]) -> np.ndarray:
    """One quarter of ``grown_capital``'s deterministic path."""
    alpha, delta = p["capital_elasticity"], p["depreciation"]
    margin = 1.0 - p["labour_share"] - p["tax_rate"]
    floor = p["trust_investment_floor"]
    rate = p["reinvestment"] * (floor + (1.0 - floor) * 0.5)
    profit = margin * productivity * np.power(k, alpha) - p["fixed_cost"]
    return (1.0 - delta) * k + rate * np.maximum(profit, 0.0)


#: Rounds of the fixed point of the regions' mean hazard weight in ``stationary_stock`` (damped: the
#: stock's mean age is within 1e-3 relative of the limit after the fourth at the defaults).
STOCK_ROUNDS = 4
#: Firms per region on which ``stationary_stock`` finds that fixed point (the mean of a region's weight
#: over 500 iid types: the stock's mean age is within 0.5% of that over 2,000 in 5 seeds at the defaults).
STOCK_SAMPLE = 500
#: Every how many quarters a firm's walk in ``stationary_stock`` asks whether its age is already certain.
STOCK_CHECK = 8


def stationary_stock(
    entered_with: np.ndarray,
    productivity: np.ndarray,
    region: np.ndarray,
    n_regions: int,
    uniform: np.ndarray,
    p: Mapping[str, Any],
    oldest: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Ages (quarters) and capital of firms drawn from the stationary stock of a constant flow of
    entrants, given each firm's productivity and entry capital: a firm of type i that entered a
    quarters ago is in business with probability S_i(a) = prod over t < a of (1 - h_i(t)), with
    ``exit_hazard``'s h_i(t) = 1 - (1 - h)^(w_i(t) / mean w), w = jobs^-b_size (1 + years)^-b_age
    along ``grown_capital``'s path K_i(t). Among firms of type i the stock's ages therefore have
    the density S_i(a) / L_i, L_i = sum of S_i: a productive firm grows large, its hazard falls,
    it lives long, and the stock's large firms are old (Luttmer 2007: the stationary distribution
    of entrants weighted by their lives). ``uniform`` (one U(0, 1) per firm) picks the age by
    inversion of that distribution; the capital is K_i(age), computed by ``grown_capital``. The
    mean weight of a region's firms is the stock's own, as in ``exit_hazard``: a fixed point of
    ``STOCK_ROUNDS`` damped rounds from 1 on the region's first ``STOCK_SAMPLE`` firms. Ages beyond
    ``oldest`` are left out (the density is renormalised below it), as in ``stationary_age_shares``,
    which this generalises (with b_size = 0 every type has nearly that function's ages; it holds the
    mean hazard, this the mean weight, as the model does). The productivities are given: the
    stock's law (``productivity_tail``), as before; only the ages and sizes are drawn jointly."""
    k0 = np.asarray(entered_with, dtype=float)
    productivity = np.asarray(productivity, dtype=float)
    n = k0.size
    h = p["exit_hazard"]
    if h <= 0.0 or h >= 1.0 or n == 0:
        age = np.full(n, oldest if h <= 0.0 else 0, dtype=np.int64)
        return age, grown_capital(k0, productivity, age, p)
    path, age_factor = stock_path(p, oldest)
    # the fixed point on at most STOCK_SAMPLE firms of each region (its first ones: the types are iid)
    order = np.argsort(region, kind="stable")
    starts = np.searchsorted(region[order], np.arange(n_regions))
    within = np.empty(n, dtype=np.int64)
    within[order] = np.arange(n) - np.repeat(starts, np.bincount(region, minlength=n_regions))
    sample = np.flatnonzero(within < STOCK_SAMPLE)
    count = np.bincount(region[sample], minlength=n_regions).astype(float)
    # the sample's hazard weights along their paths, once: only the scale 1 / mean changes between rounds
    weights = np.empty((sample.size, oldest + 1))
    _stock_weights(k0[sample], productivity[sample], path, age_factor, weights)
    life, exposure = np.zeros(sample.size), np.zeros(sample.size)
    mean = np.ones(n_regions)
    for _ in range(STOCK_ROUNDS):
        _stock_sums(weights, 1.0 / mean[region[sample]], path[8], life, exposure)
        total = np.bincount(region[sample], weights=exposure / life, minlength=n_regions)
        found = np.divide(total, count, out=np.ones(n_regions), where=count > 0)
        # a damped step: the stock's mean weight falls as the scale rises (slope about -1/2 in logs), so the
        # plain iteration oscillates; a step of 2/3 of the way in logs cancels that slope
        mean = mean ** (1.0 / 3.0) * found ** (2.0 / 3.0)
    age = np.empty(n, dtype=np.int64)
    scale = 1.0 / mean[region]
    uniform = np.asarray(uniform, dtype=float)
    drawn = np.empty(sample.size, dtype=np.int64)
    _stock_ages(weights, scale[sample], uniform[sample], path[8], drawn)
    age[sample] = drawn
    rest = np.flatnonzero(within >= STOCK_SAMPLE)
    drawn = np.empty(rest.size, dtype=np.int64)
    _stock_draw(k0[rest], productivity[rest], scale[rest], uniform[rest], path, age_factor, drawn)
    age[rest] = drawn
    # the capital at that age along the same path, computed as grown_capital does (numpy's maths)
    return age, grown_capital(k0, productivity, age, p)


def stock_path(p: Mapping[str, Any], oldest: int) -> tuple[np.ndarray, np.ndarray]:
    """``stationary_stock``'s constants of a firm's path and hazard: alpha, delta, margin, investment rate, fixed
    cost, jobs per capital, jobs elasticity, the hazard's size elasticity, log(1 - h); and the hazard's age part
    (1 + years)^-b_age at ages 0 .. ``oldest`` quarters."""
    floor = p["trust_investment_floor"]
    path = np.array(
        [
            p["capital_elasticity"],
            p["depreciation"],
            1.0 - p["labour_share"] - p["tax_rate"],
            p["reinvestment"] * (floor + (1.0 - floor) * 0.5),
            p["fixed_cost"],
            p["jobs_per_capital"],
            p["jobs_elasticity"],
            p["exit_size_elasticity"],
            np.log1p(-p["exit_hazard"]),
        ]
    )
    return path, (1.0 + np.arange(oldest + 1) / QUARTERS_PER_YEAR) ** -p["exit_age_elasticity"]


@jitable
def _stock_weight(k, per_capital, elasticity, size_elasticity, age_factor):
    """The exit hazard's weight of a firm of capital ``k`` at the age whose age part is ``age_factor``."""
    return (1.0 + per_capital * k**elasticity) ** -size_elasticity * age_factor


@jitable
def _stock_step(k, productivity, alpha, delta, margin, rate, fixed):
    """One quarter of ``grown_capital``'s path (``_grown_one_quarter``) for one firm."""
    return (1.0 - delta) * k + rate * maximum(margin * productivity * k**alpha - fixed, 0.0)


@kernel
def _stock_weights(k0, productivity, path, age_factor, weights):
    """``stationary_stock``'s hazard weights of each firm at ages 0 .. oldest along its path of ``grown_capital``
    (``weights``: one row per firm). ``path``: alpha, delta, margin, investment rate, fixed cost, jobs per
    capital, jobs elasticity, the hazard's size elasticity, log(1 - h)."""
    alpha, delta, margin, rate, fixed = path[0], path[1], path[2], path[3], path[4]
    per_capital, elasticity, size_elasticity = path[5], path[6], path[7]
    for i in range(k0.size):
        k = k0[i]
        for t in range(age_factor.size):
            weights[i, t] = _stock_weight(k, per_capital, elasticity, size_elasticity, age_factor[t])
            k = _stock_step(k, productivity[i], alpha, delta, margin, rate, fixed)


@kernel
def _stock_sums(weights, scale, log_keep, life, exposure):
    """Each firm's expected life L (the sum of its survival S(a) over ages 0 .. oldest) and exposure (the sum of
    S(a) x its hazard weight), survival falling by exp(log(1 - h) x weight x ``scale``) a quarter."""
    for i in range(weights.shape[0]):
        alive, total, exposed = 1.0, 0.0, 0.0
        for t in range(weights.shape[1]):
            total += alive
            exposed += alive * weights[i, t]
            alive *= np.exp(log_keep * weights[i, t] * scale[i])
        life[i], exposure[i] = total, exposed


@jitable
def _stock_age(weights, scale, target, log_keep):
    """The first age at which a firm's cumulated survival reaches ``target`` (the oldest if none)."""
    alive, total = 1.0, 0.0
    for t in range(weights.size):
        total += alive
        if total >= target:
            return t
        alive *= np.exp(log_keep * weights[t] * scale)
    return weights.size - 1


@kernel
def _stock_ages(weights, scale, uniform, log_keep, age):
    """The ages of firms whose weights are known: by inversion of S(a) / L at ``uniform`` x L."""
    for i in range(weights.shape[0]):
        life = 0.0
        alive = 1.0
        for t in range(weights.shape[1]):
            life += alive
            alive *= np.exp(log_keep * weights[i, t] * scale[i])
        age[i] = _stock_age(weights[i], scale[i], uniform[i] * life, log_keep)


@kernel
def _stock_draw(k0, productivity, scale, uniform, path, age_factor, age):
    """The ages of the other firms, by inversion at ``uniform`` x L of the cumulated survival along each firm's
    path, walked once. A firm's walk stops as soon as its age is certain: every later capital is at most
    max(k, K_b), K_b = (rate margin A / delta)^(1 / (1 - alpha)) (the path rises to a fixed point below K_b or
    falls towards it), so every later hazard weight is at least that capital's at the oldest age, and the
    survival still to come at most S(t + 1) (1 - q^(oldest - t)) / (1 - q), q the survival of a quarter at that
    weight. That bounds L above; the partial sum bounds it below. When the first partial sum at or above the
    upper bound's target follows one below the lower bound's, the inversion at the exact L gives that age, so
    the ages are those of the whole walk (the bounds carry margins far above the rounding of 600 quarters)."""
    alpha, delta, margin, rate, fixed = path[0], path[1], path[2], path[3], path[4]
    per_capital, elasticity, size_elasticity, log_keep = path[5], path[6], path[7], path[8]
    oldest = age_factor.size - 1
    partial = np.empty(oldest + 1)
    bounded = delta > 0.0 and alpha < 1.0
    for i in range(k0.size):
        k, alive, total, u = k0[i], 1.0, 0.0, uniform[i]
        gain = rate * margin * productivity[i]
        ceiling = (gain / delta) ** (1.0 / (1.0 - alpha)) if bounded and gain > 0.0 else 0.0
        found = -1
        for t in range(oldest + 1):
            w = _stock_weight(k, per_capital, elasticity, size_elasticity, age_factor[t])
            total += alive
            partial[t] = total
            alive *= np.exp(log_keep * w * scale[i])
            k = _stock_step(k, productivity[i], alpha, delta, margin, rate, fixed)
            if bounded and t % STOCK_CHECK == STOCK_CHECK - 1 and t < oldest:
                lightest = _stock_weight(
                    maximum(k, ceiling) * (1.0 + 1e-9), per_capital, elasticity, size_elasticity, age_factor[oldest]
                )
                q = np.exp(log_keep * lightest * scale[i])
                if q < 1.0:
                    rest = alive * (1.0 - q ** (oldest - t)) / (1.0 - q) * (1.0 + 1e-9)
                    low, high = u * total, u * ((total + rest) * (1.0 + 1e-12))
                    a = _first_at_least(partial, t + 1, high)
                    if a <= t and (a == 0 or partial[a - 1] < low):
                        found = a
                        break
        if found < 0:
            found = _first_at_least(partial, oldest + 1, u * total)
            found = min(found, oldest)
        age[i] = found


@jitable
def _first_at_least(sorted_values, size, value):
    """The first place in the non-decreasing ``sorted_values[:size]`` whose value is at least ``value`` (``size``
    if none)."""
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        if sorted_values[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


def productivity_tail_exponent(p: Mapping[str, Any], entrants: bool = False) -> float:
    """Pareto exponent of the productivity factor that gives steady-state employment the tail
    exponent zeta = ``size_tail_exponent``: at the steady state K* is proportional to A^(1/(1 - alpha))
    and staff to K^e (``jobs_elasticity``), so P(jobs > x) ~ x^-zeta needs P(A > a) ~
    a^-(zeta e / (1 - alpha)). That is the tail of the firms in business (the initial firms, drawn
    from the stationary state). Entrants' tail is thinner by the exit hazard's size elasticity b
    (``exit_size_elasticity``, ``entrants=True``): a firm's hazard falls as jobs^-b
    (``exit_hazard``), so a large firm's expected lifetime grows as jobs^b, and the firms in
    business at the stationary state are the entrants weighted by their lifetimes: their density
    is the entrants' times jobs^b, and their tail exponent the entrants' minus b. Entrants
    therefore draw zeta + b, so that the stock keeps zeta rather than drifting to zeta - b
    (Luttmer 2007 on the stationary size distribution of entrants and survivors). Infinite (no
    tail factor) when staff do not grow with capital or output is linear in it."""
    margin = 1.0 - p["capital_elasticity"]
    if p["jobs_elasticity"] <= 0.0 or margin <= 0.0:
        return np.inf
    zeta = p["size_tail_exponent"] + (p["exit_size_elasticity"] if entrants else 0.0)
    return zeta * p["jobs_elasticity"] / margin


def productivity_tail(exponential: np.ndarray, p: Mapping[str, Any], entrants: bool = False) -> np.ndarray:
    """The Pareto factor of a firm's productivity, exp((E - ln 2) / zeta_A) from a standard
    exponential draw E: Pareto with exponent zeta_A (``productivity_tail_exponent``, the
    stationary stock's or, with ``entrants``, the entrants') and median 1, so that the median
    firm keeps the lognormal body's productivity and the upper tail is Pareto (a
    Pareto-lognormal; Reed & Jorgensen 2004)."""
    zeta = productivity_tail_exponent(p, entrants)
    return np.exp((np.asarray(exponential, dtype=float) - np.log(2.0)) / zeta)


def exit_hazard(
    capital: np.ndarray, age: np.ndarray, region: np.ndarray, alive: np.ndarray, p: Mapping[str, Any], n_regions: int
) -> np.ndarray:
    """Each firm's quarterly hazard of exit for reasons outside the model, falling with size
    and age (Evans 1987; Dunne, Roberts & Samuelson 1989): proportional hazards
    h_i = 1 - (1 - h)^(w_i / mean w), w = jobs^-b_size (1 + age in years)^-b_age, the mean
    over the firms in business in the firm's region. The region's mean hazard stays about
    h = ``exit_hazard`` (the business-demography rate that entry replaces), so the firm count
    keeps its stationary level; which firms exit shifts toward the small and the young.
    h = 1 still means every firm exits, h = 0 none."""
    w = np.power(jobs(capital, p), -p["exit_size_elasticity"]) * np.power(
        1.0 + age / QUARTERS_PER_YEAR, -p["exit_age_elasticity"]
    )
    live = np.asarray(alive, dtype=float)
    total = np.bincount(region, weights=w * live, minlength=n_regions)
    count = np.bincount(region, weights=live, minlength=n_regions)
    mean = np.divide(total, count, out=np.ones(n_regions), where=count > 0)
    return 1.0 - np.power(1.0 - p["exit_hazard"], w / mean[region])


def stationary_age_shares(p: Mapping[str, Any], oldest: int) -> np.ndarray:
    """Shares of firms aged 0 .. ``oldest`` quarters at the stationary state of the exit hazard's
    age part (``exit_hazard``), its size part left out: S(a) = prod over t < a of (1 - h_t),
    h_t = 1 - (1 - h)^(c (1 + t in years)^-b_age), with c such that the mean hazard over the
    ages is h. Geometric (c = 1) when the hazard does not fall with age; ages beyond ``oldest``
    are left out (the shares are renormalised)."""
    h, b = p["exit_hazard"], p["exit_age_elasticity"]
    g = np.power(1.0 + np.arange(oldest + 1) / QUARTERS_PER_YEAR, -b)
    if h <= 0.0:
        return np.eye(1, oldest + 1, oldest)[0]
    if h >= 1.0:
        return np.eye(1, oldest + 1, 0)[0]
    c = 1.0
    for _ in range(200):  # fixed point of c -> c h / mean hazard (converges in a few dozen steps)
        hazard = 1.0 - np.power(1.0 - h, c * g)
        survival = np.concatenate([[1.0], np.cumprod(1.0 - hazard[:-1])])
        mean = float(np.sum(survival * hazard) / np.sum(survival))
        c *= h / mean
    return survival / survival.sum()


def jobs(capital: np.ndarray, p: Mapping[str, Any]) -> np.ndarray:
    """Employees of a firm: the owner plus staff growing with capital, 1 + j K^e."""
    return 1.0 + p["jobs_per_capital"] * np.power(capital, p["jobs_elasticity"])


def merit(productivity: np.ndarray) -> np.ndarray:
    """Standardised log productivity over the rows given (the merit of an applicant or bidder)."""
    log_a = np.log(productivity)
    return (log_a - log_a.mean()) / max(log_a.std(), 1e-9)


def merit_weight(symbiosis: np.ndarray | float, p: Mapping[str, Any]) -> np.ndarray | float:
    """theta = 1 - s * favouritism: the weight of merit (rest: connections) under symbiosis s."""
    return 1.0 - symbiosis * p["favouritism"]


def selection_score(
    merit_: np.ndarray, connection: np.ndarray, symbiosis: np.ndarray | float, p: Mapping[str, Any]
) -> np.ndarray:
    """theta * merit + (1 - theta) * w_L * L: how the akimat ranks applicants and bidders
    (theta from the symbiosis s of each row's akimat)."""
    theta = merit_weight(symbiosis, p)
    return theta * merit_ + (1.0 - theta) * p["connection_weight"] * connection


def protection(symbiosis: np.ndarray | float, connection: np.ndarray) -> np.ndarray:
    """s * L: how far patronage shields a connected firm from officials' demands (not their delays)
    (none in the partnership model; a fully connected firm is fully shielded at s = 1)."""
    return symbiosis * connection


def corrupt_fraction(gain: np.ndarray, median: float, spread: float) -> np.ndarray:
    """F(G): the share of officials whose moral cost is below the gain G (log-normal costs)."""
    z = np.log(np.maximum(gain, 1e-300) / median) / spread
    return np.where(gain > 0, ndtr(z), 0.0)


def business_strength(capital: np.ndarray, match: np.ndarray, member: np.ndarray, p: Mapping[str, Any]) -> np.ndarray:
    """B = logistic(slope * log(K / K_match)) + association bonus, capped at 1."""
    k = np.maximum(capital, 1e-12)
    b = 1.0 / (1.0 + (match / k) ** p["strength_slope"])
    return np.minimum(1.0, b + p["association_bonus"] * member)


def rank_capital(
    capital: np.ndarray, region: np.ndarray, alive: np.ndarray, scale: np.ndarray, n_regions: int
) -> np.ndarray:
    """Per firm row: the capital of its rank in its region on the log-normal scale of the region's
    firms without their Pareto factor, exp(m_r + d_r + sigma_r Phi^-1((rank - 1/2) / n_r)): m_r the
    median log capital of the region's firms in business now, and per region ``scale`` = (d_r,
    sigma_r), the median and the log spread (interquartile range / 1.349) of the log-normal body
    at the start, d_r as an offset from the firms' median then (initialisation). Ranks are over the
    firms in business in the region; equal capitals share their mean rank. In the body it is about
    the firm's own capital; in the Pareto upper tail it grows with the rank, not the size, so that
    the region's largest firm is as strong as the largest of n_r firms of a log-normal economy (a
    firm's bargaining strength is its standing among the region's firms, not its absolute size).
    It moves with the region's median firm. A row not in business keeps its own capital."""
    return rank_capital_sorted(capital, region, alive, scale, n_regions)[0]


def rank_capital_sorted(
    capital: np.ndarray, region: np.ndarray, alive: np.ndarray, scale: np.ndarray, n_regions: int
) -> tuple[np.ndarray, tuple | None]:
    """``rank_capital``, and the ranking it sorted: (log capital of the firms in business sorted by region,
    then log capital; their regions; each region's first place and count), None when no firm is in
    business. ``rank_capital_added`` ranks firms added later on it."""
    from scipy.special import ndtri

    capital = np.asarray(capital, dtype=float)
    out = capital.copy()
    live = np.flatnonzero(alive)
    if live.size == 0:
        return out, None
    logk = np.log(np.maximum(capital[live], 1e-12))
    reg = region[live]
    # by region, then log capital: a stable (radix) sort by region, then a quicksort of each region's log
    # capitals (smaller sorts: two thirds of one sort of them all, a third of lexsort's time; equal capitals,
    # the only rows whose order differs, share their rank and value)
    small = reg.astype(np.int16) if n_regions <= np.iinfo(np.int16).max else reg
    order = np.argsort(small, kind="stable")
    counts = np.bincount(reg, minlength=n_regions)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    for r in np.flatnonzero(counts > 1):
        rows = order[starts[r] : starts[r] + counts[r]]
        rows[:] = rows[np.argsort(logk[rows])]
    x, g = logk[order], reg[order]
    rank, median = np.empty(x.size), np.empty(x.size)
    _ranks_and_medians(x, g, starts, counts, rank, median)
    n_r = counts[g]
    out[live[order]] = np.exp(median + scale[g, 0] + scale[g, 1] * ndtri((rank - 0.5) / n_r))
    return out, (x, g, starts, counts)


def rank_capital_added(
    ranking: tuple, capital: np.ndarray, region: np.ndarray, scale: np.ndarray, n_regions: int
) -> np.ndarray:
    """``rank_capital``'s values for firms added in business (``capital``, ``region``: theirs) to the firms in
    business that ``ranking`` (``rank_capital_sorted``'s) sorted: each added firm's rank among all of them and
    its region's median of them all, the same numbers as ``rank_capital`` over the whole table, without sorting
    it again (the added firms only)."""
    from scipy.special import ndtri

    x, g, starts, counts = ranking
    y = np.log(np.maximum(np.asarray(capital, dtype=float), 1e-12))
    order = np.lexsort((y, region))
    ys, gy = y[order], region[order]
    y_counts = np.bincount(gy, minlength=n_regions)
    y_starts = np.concatenate(([0], np.cumsum(y_counts)[:-1]))
    rank, median = np.empty(ys.size), np.empty(ys.size)
    _ranks_and_medians_added(x, starts, counts, ys, gy, y_starts, y_counts, rank, median)
    n_r = counts[gy] + y_counts[gy]
    out = np.empty(ys.size)
    out[order] = np.exp(median + scale[gy, 0] + scale[gy, 1] * ndtri((rank - 0.5) / n_r))
    return out


@jitable
def _search(x, lo, hi, v, right):
    """The first place in the sorted ``x[lo:hi]`` whose value is above ``v`` (``right``) or not below it."""
    while lo < hi:
        mid = (lo + hi) // 2
        if x[mid] < v or (right and x[mid] == v):
            lo = mid + 1
        else:
            hi = mid
    return lo


@jitable
def _merged_at(x, a, na, y, b, nb, k):
    """The k-th (0-based) value of the merge of the sorted ``x[a:a+na]`` and ``y[b:b+nb]``."""
    i, j = 0, 0
    value = 0.0
    for _ in range(k + 1):
        if j >= nb or (i < na and x[a + i] <= y[b + j]):
            value = x[a + i]
            i += 1
        else:
            value = y[b + j]
            j += 1
    return value


@kernel
def _ranks_and_medians_added(x, starts, counts, ys, gy, y_starts, y_counts, rank, median):
    """For added rows sorted by region ``gy``, then log capital ``ys``: each one's mean rank among the rows of its
    region in ``x`` (sorted by region, then log capital; ``starts``, ``counts`` per region) and the added rows
    together, and its region's median of them all (``_ranks_and_medians``'s numbers over the merged rows)."""
    m = ys.size
    j = 0
    while j < m:
        r = gy[j]
        k = j
        while k + 1 < m and gy[k + 1] == r and ys[k + 1] == ys[j]:
            k += 1
        v = ys[j]
        lo, n_old = starts[r], counts[r]
        below = _search(x, lo, lo + n_old, v, False)
        up_to = _search(x, lo, lo + n_old, v, True)
        equal = (k - j + 1) + (up_to - below)
        value = ((below - lo) + (j - y_starts[r])) + (equal + 1) / 2.0
        for q in range(j, k + 1):
            rank[q] = value
        j = k + 1
    j = 0
    while j < m:
        r = gy[j]
        n_all = counts[r] + y_counts[r]
        lo, hi = (n_all - 1) // 2, n_all // 2
        a = _merged_at(x, starts[r], counts[r], ys, y_starts[r], y_counts[r], lo)
        b = a if lo == hi else _merged_at(x, starts[r], counts[r], ys, y_starts[r], y_counts[r], hi)
        mid = a if lo == hi else (a + b) / 2.0
        for q in range(j, j + y_counts[r]):
            median[q] = mid
        j += y_counts[r]


@kernel
def _ranks_and_medians(x, g, starts, counts, rank, median):
    """For rows sorted by region ``g``, then log capital ``x``: each row's mean rank among the equal capitals of
    its region (1-based: the first place of its run of equals + (run length + 1) / 2), and its region's median
    of ``x`` (the middle value, or the mean of the middle two). ``starts``, ``counts``: each region's first row
    and number of rows."""
    n = x.size
    j = 0
    while j < n:
        k = j
        while k + 1 < n and g[k + 1] == g[j] and x[k + 1] == x[j]:
            k += 1
        value = (j - starts[g[j]]) + (k - j + 2) / 2.0
        for m in range(j, k + 1):
            rank[m] = value
        j = k + 1
    for j in range(n):
        r = g[j]
        lo, hi = starts[r] + (counts[r] - 1) // 2, starts[r] + counts[r] // 2
        median[j] = x[lo] if lo == hi else (x[lo] + x[hi]) / 2.0


def lognormal_mean(values: np.ndarray, region: np.ndarray, alive: np.ndarray, n_regions: int) -> np.ndarray:
    """Per region: the mean of a log-normal with the median and the interquartile spread of the
    log of the positive ``values`` of its rows in business, exp(m + sigma^2 / 2), sigma = IQR / 1.349
    (0 for a region without any). In a log-normal economy it estimates the mean; with a Pareto
    upper tail of exponent below 1 the sample mean has no population value (it is set by the
    largest draw), while this stays the scale of the region's typical firm."""
    out = np.zeros(n_regions)
    keep = np.asarray(alive, dtype=bool) & (values > 0)
    # each region's values together (a counting sort by region); the quartiles of the logs are the logs of the
    # values' order statistics, interpolated (the log is increasing): only those are logged
    counts = np.zeros(n_regions, dtype=np.int64)
    grouped = _group_by_region(np.asarray(values, dtype=float), region, keep, counts)
    bounds = np.concatenate(([0], np.cumsum(counts)))
    for r in np.flatnonzero(counts):
        q25, q50, q75 = _log_quartiles(grouped[bounds[r] : bounds[r + 1]])
        out[r] = np.exp(q50 + 0.5 * ((q75 - q25) / IQR_PER_SD) ** 2)
    return out


@kernel
def _group_by_region(values, region, keep, counts):
    """The ``values`` of the rows where ``keep``, grouped by region (ascending; row order within a region), and
    each region's count in ``counts`` (zeros on entry)."""
    for i in range(values.size):
        if keep[i]:
            counts[region[i]] += 1
    start = np.zeros(counts.size, dtype=np.int64)
    for r in range(1, counts.size):
        start[r] = start[r - 1] + counts[r - 1]
    out = np.empty(start[-1] + counts[-1] if counts.size else 0)
    for i in range(values.size):
        if keep[i]:
            out[start[region[i]]] = values[i]
            start[region[i]] += 1
    return out


_QUARTILES = np.array([0.25, 0.5, 0.75])


def _log_quartiles(v: np.ndarray) -> tuple:
    """``np.quantile(np.log(v), [0.25, 0.5, 0.75])`` (linear interpolation between the order statistics) for a
    1-d array ``v`` of positive floats (reordered), without np.quantile's overhead per call and with only the
    order statistics logged: numpy's own steps and arithmetic (virtual index (n - 1) q, one partition at the
    neighbouring order statistics, numpy's lerp), the same numbers to the bit."""
    n = v.size
    virtual = (n - 1) * _QUARTILES
    below = np.floor(virtual)
    above = below + 1
    last = virtual >= n - 1  # numpy takes the largest value (index -1) there
    below_i, above_i = below.astype(np.intp), above.astype(np.intp)
    below_i[last] = above_i[last] = -1
    v.partition(np.unique(np.concatenate(([0, -1], below_i, above_i))))
    if np.isnan(v[-1]):
        return tuple(np.quantile(np.log(v), _QUARTILES))
    gamma = virtual - below_i  # numpy's gamma, from the indices it took (-1 above the last)
    a, b = np.log(v[below_i]), np.log(v[above_i])
    diff = b - a
    result = a + diff * gamma
    high = gamma >= 0.5
    result[high] = b[high] - diff[high] * (1 - gamma[high])
    return tuple(result)


def size_class(capital: np.ndarray, p: Mapping[str, Any]) -> np.ndarray:
    """0 micro, 1 small, 2 medium, 3 large, by capital."""
    bounds = np.array([p["micro_capital"], p["small_capital"], p["medium_capital"]])
    if np.any(np.diff(bounds) < 0) or np.isnan(capital).any():  # searchsorted's own answer
        return np.searchsorted(bounds, capital, side="right")
    size = (capital >= bounds[0]).astype(np.intp)  # the bounds at or below K: searchsorted's index
    size += capital >= bounds[1]
    size += capital >= bounds[2]
    return size


def life_stage(age: np.ndarray, p: Mapping[str, Any]) -> np.ndarray:
    """0 start-up, 1 growing, 2 mature, by age in quarters."""
    return np.where(age < p["startup_age"], 0, np.where(age < p["mature_age"], 1, 2))


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of each row's values, ties sharing the mean of their ranks (as
    ``scipy.stats.rankdata(x, method="average", axis=1)``, without importing scipy.stats)."""
    out = np.empty(x.shape, dtype=float)
    for i, row in enumerate(x):
        ordered = np.sort(row)
        below = np.searchsorted(ordered, row, side="left")
        up_to = np.searchsorted(ordered, row, side="right")
        out[i] = (below + up_to + 1) / 2.0
    return out


def logit(x: float) -> float:
    """log(x / (1 - x))."""
    return float(np.log(x / (1.0 - x)))


def apportion(total: int, shares: np.ndarray) -> np.ndarray:
    """Integer counts summing to ``total`` in proportion to ``shares`` (largest remainder)."""
    raw = total * shares
    counts = np.floor(raw).astype(np.int64)
    rest = total - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


def share_of(mask: np.ndarray, region: np.ndarray, n_per_region: np.ndarray) -> np.ndarray:
    """Per region: the count of rows where ``mask`` holds, over ``n_per_region`` (0 where empty)."""
    n_regions = len(n_per_region)
    return np.divide(
        np.bincount(region[mask], minlength=n_regions), n_per_region, out=np.zeros(n_regions), where=n_per_region > 0
    )


def fixed_order_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for a matrix (or vector) ``a`` and a matrix ``b``, summed over the inner index in
    order with one rounding per multiplication and per addition: the same bits on every machine.
    BLAS (``@``) picks its kernel by CPU and may fuse or reorder, so it differs in the last bits
    between CPU generations; the model's arithmetic uses this instead (issue 21)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out = a[..., 0, None] * b[0]
    for k in range(1, a.shape[-1]):
        out = out + a[..., k, None] * b[k]
    return out


def least_squares_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the least-squares line through (x, y), from the closed form
    (centred sums, fixed order), without LAPACK: the same bits on every machine."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    dx, dy = x - x.mean(), y - y.mean()
    slope = float((dx * dy).sum() / (dx * dx).sum())
    return slope, float(y.mean() - slope * x.mean())


def mining_shares(regions) -> np.ndarray:
    """Per region: the mining and quarrying share of its GRP (0 where the data give none, as for a
    hand-built region)."""
    return np.nan_to_num(np.array([getattr(r, "mining_share", 0.0) for r in regions], dtype=float))


def rent_segment(output: np.ndarray, formal: np.ndarray, region: np.ndarray, mining: np.ndarray) -> np.ndarray:
    """The extractive and large-project segment, per firm row: the share of the firm's output that is
    the region's mining output. In each region its largest formal firms by output are taken from the
    largest down until they produce the region's mining share of GRP times the region's output; each
    of them is extractive for the part of its output that the mining output still needs (1 for all
    but the marginal firm, whose part is the rest), so that the segment produces exactly the mining
    share, however large the marginal firm is (with a Pareto tail of firm sizes the region's largest
    firm may produce more than the mining share: then only that share of it is extractive).
    Subsoil-use contracts, licences and environmental permits need a registered firm, hence formal
    firms only. A region without mining has none (0 everywhere)."""
    segment = np.zeros(output.size)
    total = np.bincount(region, weights=output, minlength=mining.size)
    if not (mining > 0).any():
        return segment
    # the candidates, grouped by region in row order (a stable radix sort of their regions)
    rows_all = np.flatnonzero(formal & (output > 0) & (mining[region] > 0))
    key = region[rows_all]
    rows_all = rows_all[
        np.argsort(key.astype(np.int16) if mining.size <= np.iinfo(np.int16).max else key, kind="stable")
    ]
    bounds = np.concatenate(([0], np.cumsum(np.bincount(region[rows_all], minlength=mining.size))))
    for r in np.flatnonzero(mining > 0):
        rows = rows_all[bounds[r] : bounds[r + 1]]
        target = mining[r] * total[r]
        # only the largest firms can be extractive: sort the k largest (all firms equal to the k-th with them,
        # so that the stable order is the full sort's), and more only if they do not produce the target
        k = 64
        while True:
            top = rows
            if k < rows.size:
                y = output[rows]
                top = rows[y >= np.partition(y, rows.size - k)[rows.size - k]]
            top = top[np.argsort(-output[top], kind="stable")]
            produced = np.cumsum(output[top])
            if top.size == rows.size or produced[-1] >= target:
                break  # every firm after the top produces after the target is met: not extractive
            k *= 4
        before = np.concatenate(([0.0], produced))[: top.size]
        need = target - before  # the mining output still to be produced when the firm is taken
        segment[top] = np.clip(need / output[top], 0.0, 1.0)
    return segment


def utility_levels(level: float, wear) -> np.ndarray:
    """Quality of the heat, water, power and gas supply sustained at the start's maintenance (ODD 7.10).

    A network's supply fails in proportion to its worn share (``data/utilities.toml``): the
    failure rate 1 - q_u is (1 - ``level``) times wear_u / mean wear, so a network of the mean
    wear has quality ``level`` (the parameter ``utility_quality``) and a less worn one more. Clipped
    to [0, 1].
    """
    w = np.asarray(wear, dtype=float)
    ratio = w / w.mean() if w.mean() > 0 else np.ones_like(w)
    return np.clip(1.0 - (1.0 - float(level)) * ratio, 0.0, 1.0)
