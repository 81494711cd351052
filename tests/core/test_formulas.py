"""The shared formulas (``simulation.formulas``) and the answer rules (``simulation.observe.answers``)
on inputs whose results are worked out by hand: tests that kill the mutants ``make mutation``
found surviving there (docs/MUTATION.md)."""

from __future__ import annotations

import math

import numpy as np

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
