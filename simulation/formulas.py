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
    alpha, delta = p["capital_elasticity"], p["depreciation"]
    margin = 1.0 - p["labour_share"] - p["tax_rate"]
    floor = p["trust_investment_floor"]
    rate = p["reinvestment"] * (floor + (1.0 - floor) * 0.5)
    oldest = int(age.max()) if len(age) else 0
    for t in range(oldest):
        growing = age > t
        profit = margin * productivity * np.power(k, alpha) - p["fixed_cost"]
        k = np.where(growing, (1.0 - delta) * k + rate * np.maximum(profit, 0.0), k)
    return k


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
    """The extractive and large-project segment, per firm row: in each region, its largest formal
    firms by output, taken from the largest down while the output of those taken before is below
    the region's mining share of GRP times the region's output (so the segment produces about the
    mining share; the marginal firm is in it). Subsoil-use contracts, licences and environmental
    permits need a registered firm, hence formal firms only. A region without mining has none."""
    segment = np.zeros(output.size, dtype=bool)
    total = np.bincount(region, weights=output, minlength=mining.size)
    for r in np.flatnonzero(mining > 0):
        rows = np.flatnonzero((region == r) & formal & (output > 0))
        rows = rows[np.argsort(-output[rows], kind="stable")]
        before = np.concatenate(([0.0], np.cumsum(output[rows])))[: rows.size]
        segment[rows[before < mining[r] * total[r]]] = True
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
