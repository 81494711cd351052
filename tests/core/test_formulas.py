"""The shared formulas (``simulation.formulas``) and the answer rules (``simulation.observe.answers``)
on inputs whose results are worked out by hand: tests that kill the mutants ``make mutation``
found surviving there (docs/MUTATION.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulation import formulas
from simulation.observe import answers


def test_apportion_largest_remainder():
    # raw 5.5, 2.5, 2.0: floors 5, 2, 2 and one left, to the first of the two largest remainders
    got = formulas.apportion(10, np.array([0.55, 0.25, 0.20]))
    np.testing.assert_array_equal(got, [6, 2, 2])
    assert got.dtype == np.int64


def test_apportion_breaks_ties_in_row_order():
    # 40 rows whose raw counts alternate 0.25 and 0.5 (total 15): the 15 seats go to the first
    # 15 rows with remainder 0.5, in row order (a stable sort), and to none of the 0.25 rows
    raw = np.tile([0.25, 0.5], 20)
    got = formulas.apportion(15, raw / raw.sum())
    want = np.zeros(40, dtype=np.int64)
    want[1:30:2] = 1
    np.testing.assert_array_equal(got, want)


def test_apportion_ranks_remainders_not_raw_counts():
    # raw 0.9 and 2.1: floors 0 and 2, and the one left goes to the larger remainder (0.9), not
    # to the larger raw count
    np.testing.assert_array_equal(formulas.apportion(3, np.array([0.3, 0.7])), [1, 2])


def test_apportion_exact_shares_need_no_rounding():
    np.testing.assert_array_equal(formulas.apportion(8, np.array([0.5, 0.25, 0.25])), [4, 2, 2])


def test_logit():
    assert math.isclose(formulas.logit(0.2), math.log(0.25), rel_tol=0, abs_tol=1e-15)
    assert math.isclose(formulas.logit(0.9), math.log(9.0), rel_tol=0, abs_tol=1e-14)
    assert formulas.logit(0.5) == 0.0


def test_merit_standardises_log_productivity():
    got = formulas.merit(np.exp([1.0, 2.0, 3.0]))
    sd = math.sqrt(2.0 / 3.0)  # population sd of 1, 2, 3
    np.testing.assert_allclose(got, [-1.0 / sd, 0.0, 1.0 / sd], rtol=0, atol=1e-12)


def test_merit_of_equal_productivities_is_zero():
    np.testing.assert_array_equal(formulas.merit(np.full(4, 2.0)), np.zeros(4))


def test_business_strength_is_capped_at_one():
    p = {"strength_slope": 1.0, "association_bonus": 0.5}
    # K = K_match: logistic 1/2; a member gets the bonus 0.5 (1.0); K = 3 K_match: 3/4 + 0.5 capped
    got = formulas.business_strength(np.array([1.0, 1.0, 3.0, 3.0]), np.ones(4), np.array([0, 1, 0, 1]), p)
    np.testing.assert_allclose(got, [0.5, 1.0, 0.75, 1.0], rtol=0, atol=1e-15)


def test_life_stage_boundaries():
    p = {"startup_age": 4, "mature_age": 12}
    got = formulas.life_stage(np.array([0, 3, 4, 11, 12, 40]), p)
    np.testing.assert_array_equal(got, [0, 0, 1, 1, 2, 2])


def test_average_ranks_share_ties():
    got = formulas.average_ranks(np.array([[3.0, 1.0, 2.0, 2.0], [5.0, 5.0, 5.0, 0.0]]))
    np.testing.assert_array_equal(got, [[4.0, 1.0, 2.5, 2.5], [3.0, 3.0, 3.0, 1.0]])


def test_grown_capital_of_no_firms_is_empty():
    p = {
        "capital_elasticity": 0.5,
        "depreciation": 0.1,
        "labour_share": 0.5,
        "tax_rate": 0.1,
        "trust_investment_floor": 0.5,
        "reinvestment": 0.5,
        "fixed_cost": 0.0,
    }
    got = formulas.grown_capital(np.array([]), np.array([]), np.array([], dtype=int), p)
    assert got.shape == (0,)


def test_share_of_counts_per_region_over_its_size():
    mask = np.array([True, False, True, True, True])
    region = np.array([0, 0, 1, 1, 2])
    got = formulas.share_of(mask, region, np.array([2, 4, 1, 0]))
    # region 0: 1 of 2; region 1: 2 of 4; region 2: 1 of 1; region 3 (the last) is empty: 0
    np.testing.assert_allclose(got, [0.5, 0.5, 1.0, 0.0], rtol=0, atol=0)


def test_answer_cuts_belong_to_the_upper_answer():
    # a latent value exactly on a cut gets the higher score (Table 5) / the more satisfied answer (Table 6)
    np.testing.assert_array_equal(answers.authority_scores(answers.AUTHORITY_CUTS), [2, 3, 4, 5])
    np.testing.assert_array_equal(answers.authority_scores(np.array([-9.0, 0.0, 9.0])), [1, 3, 5])
    np.testing.assert_array_equal(answers.utility_answers(answers.UTILITY_CUTS), [1, 0])
    np.testing.assert_array_equal(answers.utility_answers(np.array([-9.0, 0.0, 9.0])), [2, 1, 0])


def test_size_class_is_searchsorted_on_the_bounds():
    """Size classes counted by comparisons equal numpy's searchsorted (side right), bounds included."""
    p = {"micro_capital": 0.5, "small_capital": 2.0, "medium_capital": 8.0}
    bounds = np.array([0.5, 2.0, 8.0])
    capital = np.concatenate([np.random.default_rng(5).lognormal(size=5000) * 3, [0.0, 0.5, 2.0, 8.0, np.inf]])
    np.testing.assert_array_equal(formulas.size_class(capital, p), np.searchsorted(bounds, capital, side="right"))
    assert list(formulas.size_class(np.array([0.49, 0.5, 1.99, 2.0, 7.9, 8.0]), p)) == [0, 1, 1, 2, 2, 3]


def test_productivity_tail_exponent_and_factor():
    p = {"size_tail_exponent": 1.06, "jobs_elasticity": 0.8, "capital_elasticity": 0.5}
    assert formulas.productivity_tail_exponent(p) == 1.06 * 0.8 / 0.5
    # median 1 at E = ln 2; the factor at E = 0 is 2^(-1/zeta)
    np.testing.assert_allclose(formulas.productivity_tail(np.array([math.log(2.0), 0.0]), p), [1.0, 2 ** (-1 / 1.696)])
    # entrants: thinner by the exit hazard's size elasticity (the survivors' bias of a hazard falling with size)
    p = p | {"exit_size_elasticity": 0.2}
    assert formulas.productivity_tail_exponent(p) == 1.06 * 0.8 / 0.5
    assert formulas.productivity_tail_exponent(p, entrants=True) == pytest.approx(1.26 * 0.8 / 0.5)
    entrant = formulas.productivity_tail(np.array([0.0]), p, entrants=True)
    np.testing.assert_allclose(entrant, [2 ** (-0.5 / 1.26 / 0.8)])
    # no tail when staff do not grow with capital or output is linear in it
    for no_tail in ({"jobs_elasticity": 0.0}, {"capital_elasticity": 1.0}):
        q = p | no_tail
        assert formulas.productivity_tail_exponent(q) == math.inf
        np.testing.assert_array_equal(formulas.productivity_tail(np.array([0.0, 5.0]), q), [1.0, 1.0])


def test_stationary_age_shares():
    """Geometric when the hazard does not fall with age; older with an age elasticity, and the
    mean hazard over the shares is exit_hazard; all at age 0 or all at the oldest in the limits."""
    p = {"exit_hazard": 0.1, "exit_age_elasticity": 0.0}
    shares = formulas.stationary_age_shares(p, 400)
    geometric = 0.1 * 0.9 ** np.arange(401)
    np.testing.assert_allclose(shares, geometric / geometric.sum(), rtol=1e-9)
    q = p | {"exit_age_elasticity": 0.5}
    older = formulas.stationary_age_shares(q, 400)
    ages = np.arange(401)
    assert older.sum() == pytest.approx(1.0) and (older * ages).sum() > (shares * ages).sum()
    g = (1.0 + ages / 4.0) ** -0.5
    survival = older / older[0]
    hazard = 1.0 - survival[1:] / survival[:-1]  # 1 - (1 - h)^(c g_t), solve for c
    c = np.log(1.0 - hazard) / np.log(0.9) / g[:-1]
    assert np.ptp(c) < 1e-9
    mean = np.sum(older * (1.0 - 0.9 ** (c[0] * g))) / older.sum()
    assert mean == pytest.approx(0.1, rel=1e-6)
    np.testing.assert_array_equal(formulas.stationary_age_shares(p | {"exit_hazard": 0.0}, 3), [0, 0, 0, 1])
    np.testing.assert_array_equal(formulas.stationary_age_shares(p | {"exit_hazard": 1.0}, 3), [1, 0, 0, 0])


def test_rank_capital_reads_the_rank_on_the_log_normal_scale_of_the_region():
    from scipy.special import ndtri

    # region 0: four firms in business and one exited; region 1: one firm. Scale: region 0's body median
    # 0.1 above the firms' median in logs, log spread 0.5; region 1's offset 0 and spread 2
    capital = np.array([1.0, 4.0, 1000.0, 2.0, 7.0, 3.0])
    region = np.array([0, 0, 0, 0, 0, 1])
    alive = np.array([True, True, True, True, False, True])
    scale = np.array([[0.1, 0.5], [0.0, 2.0]])
    got = formulas.rank_capital(capital, region, alive, scale, 2)
    median = np.median(np.log([1.0, 4.0, 1000.0, 2.0]))  # the firms in business only
    ranks = np.array([1, 3, 4, 2])
    want = np.exp(median + 0.1 + 0.5 * ndtri((ranks - 0.5) / 4))
    np.testing.assert_allclose(got[:4], want, rtol=1e-12)
    # the dominant player (1000) is only as strong as the top rank of four log-normal firms
    assert got[2] < 10.0
    assert got[4] == 7.0  # an exited row keeps its capital
    assert np.isclose(got[5], 3.0)  # a region's only firm is at its median (rank 1/2 of 1)
    # equal capitals share their mean rank, so equal firms stay equally strong
    same = formulas.rank_capital(np.array([2.0, 2.0, 5.0]), np.zeros(3, int), np.ones(3, bool), scale[:1], 1)
    assert same[0] == same[1] < same[2]


@pytest.mark.parametrize("seed", range(4))
def test_rank_capital_is_the_region_by_region_definition_to_the_bit(seed):
    """All regions at once (one sort) give the numbers of the definition taken region by region: mean ranks
    of equal capitals (np.unique), np.median of the region's log capitals; with ties, zeros, exited rows
    and regions without a firm."""
    from scipy.special import ndtri

    g = np.random.default_rng(40 + seed)
    n, R = int(g.integers(1, 4000)), int(g.integers(1, 20))
    capital = np.exp(2.0 * g.standard_normal(n))
    capital[g.random(n) < 0.2] = 1.0
    capital[g.random(n) < 0.05] = 0.0
    region, alive = g.integers(0, R, n), g.random(n) < 0.8
    scale = np.column_stack([g.standard_normal(R), 0.5 + g.random(R)])
    want = capital.copy()
    for r in range(R):
        rows = np.flatnonzero(alive & (region == r))
        if rows.size:
            rows = rows[np.argsort(capital[rows], kind="stable")]
            x = np.log(np.maximum(capital[rows], 1e-12))  # ascending
            _, first, size = np.unique(x, return_index=True, return_counts=True)
            rank = np.repeat(first + (size + 1) / 2.0, size)
            want[rows] = np.exp(np.median(x) + scale[r, 0] + scale[r, 1] * ndtri((rank - 0.5) / x.size))
    got = formulas.rank_capital(capital, region, alive, scale, R)
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))


@pytest.mark.parametrize("seed", range(4))
def test_rank_capital_added_ranks_new_firms_as_the_whole_table_does_to_the_bit(seed):
    """Entrants ranked on the incumbents' sorted ranking (``rank_capital_added``) get ``rank_capital``'s
    numbers over the whole table: with ties among the entrants and with the incumbents (capitals of 1 and
    0), exited incumbents, regions without an entrant and regions with entrants only."""
    g = np.random.default_rng(50 + seed)
    n, m, R = int(g.integers(1, 3000)), int(g.integers(1, 300)), int(g.integers(1, 12))
    capital = np.exp(2.0 * g.standard_normal(n + m))
    capital[g.random(n + m) < 0.2] = 1.0
    capital[g.random(n + m) < 0.05] = 0.0
    region, alive = g.integers(0, R, n + m), g.random(n + m) < 0.8
    region[:n][region[:n] == R - 1] = 0  # the last region's firms are all entrants
    alive[n:] = True
    scale = np.column_stack([g.standard_normal(R), 0.5 + g.random(R)])
    whole = formulas.rank_capital(capital, region, alive, scale, R)
    _, ranking = formulas.rank_capital_sorted(capital[:n], region[:n], alive[:n], scale, R)
    got = formulas.rank_capital_added(ranking, capital[n:], region[n:], scale, R)
    np.testing.assert_array_equal(got.view(np.int64), whole[n:].view(np.int64))


@pytest.mark.parametrize("seed", range(6))
def test_rent_segment_is_the_full_sort_definition_to_the_bit(seed):
    """Sorting only the largest firms of each mining region (and all firms equal to the smallest of them) gives
    the numbers of the definition, every candidate sorted: with ties, zero outputs, informal firms, small and
    large mining shares and regions without mining."""
    g = np.random.default_rng(60 + seed)
    n, R = int(g.integers(1, 6000)), int(g.integers(1, 20))
    output = np.exp(2.0 * g.standard_normal(n)) * (g.random(n) < 0.9)
    output[g.random(n) < 0.3] = 1.0
    if seed % 2:
        output = np.round(output, 1)
    region, formal = g.integers(0, R, n), g.random(n) < 0.9
    mining = np.where(g.random(R) < 0.6, g.random(R) * (0.9 if seed % 3 else 0.05), 0.0)
    want = np.zeros(n)
    total = np.bincount(region, weights=output, minlength=R)
    for r in np.flatnonzero(mining > 0):
        rows = np.flatnonzero((region == r) & formal & (output > 0))
        rows = rows[np.argsort(-output[rows], kind="stable")]
        before = np.concatenate(([0.0], np.cumsum(output[rows])))[: rows.size]
        want[rows] = np.clip((mining[r] * total[r] - before) / output[rows], 0.0, 1.0)
    got = formulas.rent_segment(output, formal, region, mining)
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))


@pytest.mark.parametrize("seed", range(3))
def test_lognormal_mean_is_the_region_by_region_definition_to_the_bit(seed):
    g = np.random.default_rng(80 + seed)
    n, R = int(g.integers(1, 5000)), int(g.integers(1, 20))
    values = np.exp(g.standard_normal(n)) * (g.random(n) < 0.9)
    region, alive = g.integers(0, R, n), g.random(n) < 0.8
    want = np.zeros(R)
    keep = alive & (values > 0)
    for r in np.unique(region[keep]):
        q25, q50, q75 = np.quantile(np.log(values[keep & (region == r)]), [0.25, 0.5, 0.75])
        want[r] = np.exp(q50 + 0.5 * ((q75 - q25) / formulas.IQR_PER_SD) ** 2)
    got = formulas.lognormal_mean(values, region, alive, R)
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))


@pytest.mark.parametrize("seed", range(3))
def test_log_quartiles_are_numpys_quantiles_of_the_logs_to_the_bit(seed):
    """``lognormal_mean``'s quartiles (partition, then the logs of the order statistics only) are np.quantile's
    of the logs: small and large samples, ties, infinite values."""
    g = np.random.default_rng(90 + seed)
    for trial in range(300):
        n = int(g.integers(1, 12)) if trial % 2 else int(g.integers(12, 3000))
        v = np.exp(3.0 * g.standard_normal(n))
        if trial % 3 == 0:
            v = np.round(v, 1) + 0.1  # ties
        if trial % 7 == 0:
            v[g.random(n) < 0.1] = np.inf
        with np.errstate(invalid="ignore"):
            want = np.quantile(np.log(v), [0.25, 0.5, 0.75])
            got = np.array(formulas._log_quartiles(v.copy()))
        np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))


def test_lognormal_mean_is_the_mean_of_a_log_normal_and_ignores_a_dominant_firm():
    rng = np.random.default_rng(0)
    x = np.exp(0.3 + 0.8 * rng.standard_normal(200_000))
    got = formulas.lognormal_mean(x, np.zeros(x.size, int), np.ones(x.size, bool), 1)
    assert np.isclose(got[0], np.exp(0.3 + 0.32), rtol=0.01)  # exp(mu + sigma^2 / 2)
    # by hand: outputs 0.1 and 0.3 (median log ln sqrt 0.03, interquartile range of the logs ln 3 / 2);
    # a region with no firm in business gets 0, exited rows and zero outputs are left out
    out = np.array([0.1, 0.3, 50.0, 0.0, 9.0])
    region = np.array([0, 0, 0, 0, 1])
    alive = np.array([True, True, False, True, False])
    got = formulas.lognormal_mean(out, region, alive, 3)
    want = math.sqrt(0.03) * math.exp(0.5 * (math.log(3.0) / 2 / 1.349) ** 2)
    np.testing.assert_allclose(got, [want, 0.0, 0.0], rtol=1e-12)
    # a dominant firm a thousand times the others moves the mean a hundredfold, the typical output little
    y = np.array([1.0, 1.2, 0.9, 1.1, 1.05, 1000.0])
    typical = formulas.lognormal_mean(y, np.zeros(6, int), np.ones(6, bool), 1)[0]
    assert typical < 1.5 < 100 < y.mean()


def _stock_parameters(**given):
    from simulation.parameters import resolve

    return resolve({}) | given


def _stock_types(p, n, seed):
    rng = np.random.default_rng(seed)
    sigma = p["productivity_dispersion"]
    body = p["productivity"] * np.exp(sigma * rng.standard_normal(n) - sigma**2 / 2)
    productivity = body * formulas.productivity_tail(rng.standard_exponential(n), p)
    entered_with = p["entrant_capital"] * np.exp(rng.standard_normal(n))
    return entered_with, productivity, rng.random(n)


def test_stationary_stock_puts_each_firm_on_its_own_growth_path_and_the_large_firms_are_old():
    """The capital is exactly grown_capital's at the drawn age (the same path); ages lie within
    [0, oldest]; with the hazard falling with size the most productive firms are older than the rest
    (the mean age hardly moves: the region's mean hazard is held); the draw is a function of its inputs."""
    p = _stock_parameters()
    k0, productivity, u = _stock_types(p, 4000, 3)
    region = np.repeat([0, 1], 2000)
    age, capital = formulas.stationary_stock(k0, productivity, region, 2, u, p, 400)
    assert age.min() >= 0 and age.max() <= 400
    np.testing.assert_array_equal(capital, formulas.grown_capital(k0, productivity, age, p))
    top = productivity >= np.quantile(productivity, 0.95)
    assert age[top].mean() > 1.3 * age[~top].mean()  # 1.58 measured; 1 +- 0.08 without the size part
    assert np.corrcoef(np.log(productivity), age)[0, 1] > 0.07  # 0.13 measured, standard error 0.016
    again = formulas.stationary_stock(k0, productivity, region, 2, u, p, 400)
    np.testing.assert_array_equal(again[0], age)
    np.testing.assert_array_equal(again[1], capital)
    # a larger uniform never gives a younger firm of the same type
    older, _ = formulas.stationary_stock(k0, productivity, region, 2, np.minimum(u + 0.2, 1.0), p, 400)
    assert np.all(older >= age)


def test_stationary_stock_without_the_size_part_has_the_age_parts_distribution():
    """With exit_size_elasticity 0 every type has the same survival, the age part's: the ages' mean
    and deciles equal stationary_age_shares' (which normalises the mean hazard, not the mean weight:
    close, not equal), and the productivity says nothing about the age."""
    p = _stock_parameters(exit_size_elasticity=0.0)
    k0, productivity, u = _stock_types(p, 20000, 4)
    age, _ = formulas.stationary_stock(k0, productivity, np.zeros(20000, dtype=int), 1, u, p, 400)
    shares = formulas.stationary_age_shares(p, 400)
    assert age.mean() == pytest.approx(float(np.sum(shares * np.arange(401))), rel=0.03)
    deciles = np.searchsorted(np.cumsum(shares), np.linspace(0.1, 0.9, 9))
    np.testing.assert_allclose(np.quantile(age, np.linspace(0.1, 0.9, 9)), deciles, rtol=0.05, atol=1)
    assert abs(np.corrcoef(np.log(productivity), age)[0, 1]) < 0.03


def test_stationary_stock_limits_and_no_firms():
    p = _stock_parameters()
    k0, productivity, u = _stock_types(p, 5, 5)
    region = np.zeros(5, dtype=int)
    none, _ = formulas.stationary_stock(k0, productivity, region, 1, u, p | {"exit_hazard": 0.0}, 7)
    every, capital = formulas.stationary_stock(k0, productivity, region, 1, u, p | {"exit_hazard": 1.0}, 7)
    np.testing.assert_array_equal(none, [7] * 5)
    np.testing.assert_array_equal(every, [0] * 5)
    np.testing.assert_array_equal(capital, k0)
    empty = np.array([])
    age, capital = formulas.stationary_stock(empty, empty, np.array([], dtype=int), 3, empty, p, 7)
    assert age.shape == capital.shape == (0,)


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"exit_hazard": 0.005},
        {"exit_hazard": 0.3, "exit_age_elasticity": 2.0},
        {"exit_size_elasticity": 0.0, "exit_age_elasticity": 0.0},
        {"exit_size_elasticity": 2.0, "depreciation": 0.005, "capital_elasticity": 0.95},
        {"capital_elasticity": 1.0},
        {"depreciation": 0.0},
        {"fixed_cost": 10.0, "reinvestment": 0.0},
    ],
)
def test_stationary_stock_walk_that_stops_early_gives_the_whole_walks_ages(given):
    """Firms beyond the fixed point's sample walk their paths only until their age is certain
    (``_stock_draw``'s bounds on the life still to come); their ages must be the inversion at the
    exact life, which the walk of every firm's whole path gives (its weights kept: ``_stock_weights``,
    ``_stock_sums``, ``_stock_ages``). Uniforms near 0, near 1 and exactly on the edges included; at
    parameters where the bound holds and where it cannot (no depreciation, linear output)."""
    p = _stock_parameters(**given)
    k0, productivity, u = _stock_types(p, 3000, 6)
    u[:6] = [0.0, 1.0, 1e-12, 1.0 - 1e-12, 0.5, 0.999]
    oldest = 600
    path, age_factor = formulas.stock_path(p, oldest)
    scale = np.random.default_rng(7).uniform(0.5, 3.0, k0.size)
    weights = np.empty((k0.size, oldest + 1))
    formulas._stock_weights(k0, productivity, path, age_factor, weights)
    whole = np.empty(k0.size, dtype=np.int64)
    formulas._stock_ages(weights, scale, u, path[8], whole)
    early = np.empty(k0.size, dtype=np.int64)
    formulas._stock_draw(k0, productivity, scale, u, path, age_factor, early)
    np.testing.assert_array_equal(early, whole)
    assert whole[1] == oldest or whole[1] > np.median(whole)  # the uniform 1 reaches the end of life
    assert whole[0] == 0
