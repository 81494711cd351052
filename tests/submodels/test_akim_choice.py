"""The akim's choice of the symbiosis index s (issue 22, finding 5 and pattern 6; docs/ODD.md 7.9).

Hand-built unit tests of the rule (``tournament.response_to_symbiosis``, ``choice_gains``,
``choose_symbiosis``), and a model-level test that the choice follows the KPIs: in the full
model (20 regions, defaults), the Figure 2 KPIs the tournament reads are multiplied by
``1 + k s`` (symbiosis pays, by construction) or ``1 - k s`` (it costs), k = 0.5, from s = 0.5;
with ``symbiosis_step`` 0.05 and the same seeds on both sides, s must end above 0.75 where it
pays and below 0.25 where it costs, in every seed.

Power, measured on seeds 0-9 at these sizes (``/tmp``-only script; the test uses seeds 1-3):
the mean s at quarter 60 was 0.92-0.98 where s pays and 0.002-0.033 where it costs, in 10 of 10
seeds; with k = 0.15 (a tilt the size of the model's own level effect of s, 12% from s = 0.1 to
0.9, tools/akim_choice.py) still 0.87-0.96 and 0.06-0.22 (4 of 4 seeds). The null, an akim with
no interest (every option equally good: a random walk of step 0.05 for 52 quarters), puts the
mean over 20 regions at 0.5 with sd about 0.065, so a threshold 0.25 away is about 4 sd: the
test fails on a rule that ignores the KPIs, and on one that follows them the wrong way.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from worlds import make_world

from simulation.model import StateBusinessModel
from simulation.observe.kpi import KPI_NAMES
from simulation.observe.kpi import measure as kpi_measure
from simulation.submodels import tournament
from simulation.submodels.tournament import choice_gains, choose_symbiosis, response_to_symbiosis

THREE = "turkestan,zhambyl,kyzylorda"


def _league(s_now, moves, scores_after, scores_before=(0.9, 0.1, 0.3), evaluations=8):
    """A league history of ``evaluations`` entries: the first 4 with s = s_now - moves (scores
    ``scores_before``), the rest with s = s_now (scores ``scores_after``)."""
    s_now, moves = np.asarray(s_now, dtype=float), np.asarray(moves, dtype=float)
    out = []
    for i in range(evaluations):
        if i < 4:
            out.append((s_now - moves, np.asarray(scores_before, dtype=float)))
        else:
            out.append((s_now.copy(), np.asarray(scores_after, dtype=float)))
    return out


# --- the response of the score to a move of s -------------------------------------------------


def test_response_is_the_slope_of_the_score_on_the_years_move():
    """Moves 0, 0.1, 0.2 over the year and scores 0.4, 0.45, 0.5 after: slope 1/2, no residual;
    the scores of the first four evaluations (no year before them) are not used."""
    league = _league([0.3, 0.5, 0.7], [0.0, 0.1, 0.2], [0.4, 0.45, 0.5])
    beta, sigma = response_to_symbiosis(league, step=0.05)
    assert beta == pytest.approx(0.5, abs=1e-12)
    assert sigma == pytest.approx(0.0, abs=1e-12)


def test_response_with_noise_is_the_least_squares_slope():
    """Scores that differ between evaluations: the slope and residual sd of the pooled pairs."""
    league = _league([0.3, 0.5, 0.7], [0.0, 0.1, 0.2], [0.4, 0.45, 0.5])
    league[5] = (league[5][0], np.array([0.5, 0.45, 0.4]))  # one evaluation says the opposite
    beta, sigma = response_to_symbiosis(league, step=0.05)
    x = np.tile([0.0, 0.1, 0.2], 4)
    y = np.concatenate([[0.4, 0.45, 0.5], [0.5, 0.45, 0.4], [0.4, 0.45, 0.5], [0.4, 0.45, 0.5]])
    b = np.polyfit(x, y, 1)
    assert beta == pytest.approx(b[0], abs=1e-12) and beta == pytest.approx(0.25, abs=1e-12)
    assert sigma == pytest.approx(np.sqrt(np.mean((y - np.polyval(b, x)) ** 2)), abs=1e-12)


def test_no_move_on_record_is_no_evidence():
    """No move of half a step or more: beta 0 and sigma the scores' sd (a move of 1e-17, a
    rounding of s, is no evidence either); fewer than 5 evaluations: nothing."""
    league = _league([0.3, 0.5, 0.7], [0.0, 1e-17, 0.02], [0.4, 0.45, 0.5])
    beta, sigma = response_to_symbiosis(league, step=0.05)
    assert beta == 0.0 and sigma == pytest.approx(np.std([0.4, 0.45, 0.5]), abs=1e-12)
    beta, _ = response_to_symbiosis(_league([0.3, 0.5, 0.7], [0.0, 0.1, 0.2], [0.4, 0.45, 0.5]), step=0.05)
    assert beta > 0  # moves of two steps and more are evidence
    assert response_to_symbiosis(league[:4], step=0.05) == (0.0, 0.0)


# --- the gains of the three options -------------------------------------------------------------


def _phi(z):
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def test_choice_gains_by_hand():
    """s 0, 0.5, 1 with step 0.1: a move past a bound is no option; x' = score + beta (s' - s),
    gain x' (1 - rho Phi((threshold - x') / sigma))."""
    s = np.array([0.0, 0.5, 1.0])
    score = np.array([0.3, 0.5, 0.9])
    options, feasible, gain = choice_gains(s, score, 1.0, 0.1, 0.1, 0.2, False, 0.3)
    np.testing.assert_allclose(options, [[0.0, 0.0, 0.1], [0.4, 0.5, 0.6], [0.9, 1.0, 1.0]], atol=1e-15)
    np.testing.assert_array_equal(feasible, [[False, True, True], [True, True, True], [True, True, False]])
    x = np.array([[0.3, 0.3, 0.4], [0.4, 0.5, 0.6], [0.8, 0.9, 0.9]])
    expected = x * (1.0 - 0.3 * np.vectorize(_phi)((0.2 - x) / 0.1))
    np.testing.assert_allclose(gain, expected, rtol=1e-12)


def test_expected_score_is_clipped_to_the_unit_interval():
    _, _, gain = choice_gains(np.array([0.5]), np.array([0.98]), 1.0, 0.0, 0.1, 0.2, False, 0.3)
    np.testing.assert_allclose(gain, [[0.88, 0.98, 1.0]], rtol=1e-12)


def test_without_uncertainty_the_risk_is_the_replacement_rule():
    """sigma 0: at the threshold the akim is at risk under the ranks (score <= quantile) and not
    under the single-region rule (score < replacement_quantile)."""
    s, score = np.array([0.5]), np.array([0.2])
    _, _, ranks = choice_gains(s, score, 0.0, 0.0, 0.1, 0.2, False, 0.3)
    _, _, single = choice_gains(s, score, 0.0, 0.0, 0.1, 0.2, True, 0.3)
    np.testing.assert_allclose(ranks, [[0.2 * 0.7] * 3], rtol=1e-12)
    np.testing.assert_allclose(single, [[0.2] * 3], rtol=1e-12)


def test_an_akim_near_the_bottom_has_more_at_stake():
    """The same expected rise of the score is worth more to an akim at the replacement threshold
    than to one at the top: near the bottom it also buys safety (career concerns)."""
    s, score = np.array([0.5, 0.5]), np.array([0.2, 0.8])
    _, _, gain = choice_gains(s, score, 1.0, 0.1, 0.1, 0.2, False, 0.3)
    up = gain[:, 2] - gain[:, 1]
    assert up[0] > up[1] > 0
    assert up[1] == pytest.approx(0.1, abs=1e-4)  # at the top a rise is only the rise


# --- the choice ---------------------------------------------------------------------------------


class FixedDraws:
    """A generator whose ``random`` returns given numbers."""

    def __init__(self, draws):
        self.draws = np.asarray(draws, dtype=float)

    def random(self, n):
        assert n == len(self.draws)
        return self.draws.copy()


def _choice_world(sign: float):
    """Three regions at s 0.2, 0.5, 0.8 whose league tables of the last year say that a move of s
    changes the score by ``sign`` per unit (moves 0, 0.1, 0.2; scores 0.5 + sign (move - 0.1))."""
    w = make_world(regions=THREE, akimats={"symbiosis": [0.2, 0.5, 0.8]}, symbiosis_step=0.05, plan_sensitivity=1000.0)
    scores = 0.5 + sign * (np.array([0.0, 0.1, 0.2]) - 0.1)
    for entry in _league([0.2, 0.5, 0.8], [0.0, 0.1, 0.2], scores, evaluations=7):
        w.league_history.append(entry)
    return w, scores


@pytest.mark.parametrize("sign, move", [(1.0, 0.05), (-1.0, -0.05)])
def test_akims_follow_what_the_league_tables_show(sign, move):
    """Where the record says s pays every akim raises it by a step; where it costs, lowers it
    (sensitivity 1000: the better option's probability is 1 - e^-50)."""
    w, scores = _choice_world(sign)
    choose_symbiosis(w, scores, FixedDraws([0.5, 0.5, 0.5]))
    np.testing.assert_allclose(w.akimats.symbiosis, np.array([0.2, 0.5, 0.8]) + move, atol=1e-15)
    assert len(w.league_history) == 8


def test_without_evidence_every_option_is_equally_likely():
    """No move on record: the gains are equal, each option has probability 1/3, and draws 0.1,
    0.5, 0.9 pick down, stay, up."""
    w = make_world(regions=THREE, akimats={"symbiosis": [0.5, 0.5, 0.5]}, symbiosis_step=0.05, plan_sensitivity=20.0)
    choose_symbiosis(w, np.array([0.0, 0.5, 1.0]), FixedDraws([0.1, 0.5, 0.9]))
    np.testing.assert_allclose(w.akimats.symbiosis, [0.45, 0.5, 0.55], atol=1e-15)


def test_at_a_bound_the_two_options_share_the_probability_even_at_sensitivity_zero():
    """s = 0 and s = 1: the move past the bound is no option, the other two have probability 1/2
    each (also at sensitivity 0, where an infeasible option's weight must still be 0): a draw
    below 1/2 picks the first of the two (at s = 0 stay, at s = 1 down), one above it the second."""
    w = make_world(regions=THREE, akimats={"symbiosis": [0.0, 1.0, 0.0]}, symbiosis_step=0.05, plan_sensitivity=0.0)
    choose_symbiosis(w, np.array([0.0, 0.5, 1.0]), FixedDraws([0.4, 0.4, 0.6]))
    np.testing.assert_allclose(w.akimats.symbiosis, [0.0, 0.95, 0.05], atol=1e-15)
    w = make_world(regions=THREE, akimats={"symbiosis": [1.0, 1.0, 1.0]}, symbiosis_step=0.05, plan_sensitivity=0.0)
    choose_symbiosis(w, np.array([0.0, 0.5, 1.0]), FixedDraws([0.4, 0.6, 0.99]))
    np.testing.assert_allclose(w.akimats.symbiosis, [0.95, 1.0, 1.0], atol=1e-15)


def test_with_the_choice_off_s_is_a_setting(monkeypatch):
    """symbiosis_step 0: the tournament neither records a league table nor draws for s."""
    w = make_world(regions=THREE, akimats={"symbiosis": [0.2, 0.5, 0.8]}, symbiosis_step=0.0)
    for _ in range(7):
        w.kpi_history.append({name: np.ones(3) for name in KPI_NAMES} | {"jobs": np.ones(3)})
    monkeypatch.setattr(
        tournament, "measure", lambda world, log: {n: np.array([1.0, 2.0, 3.0]) for n in (*KPI_NAMES, "jobs")}
    )
    called = []
    monkeypatch.setattr(tournament, "choose_symbiosis", lambda *a: called.append(a))
    tournament.step(w, None, np.random.default_rng(0))
    assert not called and len(w.league_history) == 0
    np.testing.assert_array_equal(w.akimats.symbiosis, [0.2, 0.5, 0.8])


# --- model level: the choice follows the KPIs ---------------------------------------------------

SEEDS = (1, 2, 3)
QUARTERS = 60
TILT = 0.5


def _final_s(monkeypatch, seed: int, sign: float) -> float:
    """Mean s over the 20 regions after 60 quarters when the tournament reads KPIs x (1 + sign k s)."""

    def tilted(world, log):
        out = kpi_measure(world, log)
        factor = 1.0 + sign * TILT * world.akimats.symbiosis
        return {name: value * factor if name in KPI_NAMES else value for name, value in out.items()}

    monkeypatch.setattr(tournament, "measure", tilted)
    model = StateBusinessModel(
        rng=seed,
        regions="all",
        firms=1000,
        residents_per_region=200,
        burn_in=0,
        steps=QUARTERS,
        symbiosis=0.5,
        symbiosis_step=0.05,
    )
    for _ in range(QUARTERS):
        model.step()
    return float(model.world.akimats.symbiosis.mean())


def test_akims_choose_symbiosis_where_it_pays_and_leave_it_where_it_costs(monkeypatch):
    for seed in SEEDS:
        pays, costs = _final_s(monkeypatch, seed, 1.0), _final_s(monkeypatch, seed, -1.0)
        assert pays > 0.75, (seed, pays)
        assert costs < 0.25, (seed, costs)
