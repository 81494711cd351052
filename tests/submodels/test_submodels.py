"""Each submodel on a small hand-built world, with known inputs and known outputs.

Beside the whole-model tests, these check one step at a time: the world is built by hand
(``tests/worlds.py``), the step runs once, and the result is compared with the value the
submodel's documented rule gives, computed here by hand from literals. Random draws are
made irrelevant by probabilities of 0 or 1, or, where a count is drawn, the test checks
the relation that holds whatever the draw. Where a probability or a rate is the point,
the test reads it exactly: ``Recorder`` records the arguments a step draws with (a
Poisson mean, a binomial probability), and ``Draws`` hands the step uniform draws just
below or just above the probability computed by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from worlds import make_log, make_world, rng

from simulation import formulas, parameters
from simulation.observe import kpi, observer
from simulation.observe.kpi import KPI_NAMES
from simulation.submodels import (
    capture,
    dealings,
    economy,
    entry,
    officials,
    plan,
    ppp,
    support,
    tournament,
    trust,
    utilities,
)
from simulation.world import (
    COMPLETED,
    CONSTRUCTION,
    DISPUTED,
    ENDED,
    OPERATION,
    PERFORMING,
    RENEGOTIATED,
    TERMINATED,
)

THREE = "turkestan,zhambyl,kyzylorda"


def add_contract(world, **values):
    """Append one PPP contract with defaults (region 0, firm 0, water, cost 40, performing
    construction, the partner's equity its share of the cost under the world's parameters)."""
    spec = {
        "region": 0,
        "firm": 0,
        "sector": 1,
        "cost": 40.0,
        "lifecycle": False,
        "phase": CONSTRUCTION,
        "status": PERFORMING,
        "left": 4,
        "duration": 4,
        "started": 0,
        "replacements": 0,
    }
    spec |= values
    spec.setdefault("equity", ppp.equity_per_cost(world.params) * spec["cost"])
    world.projects.add(**spec)


class Recorder:
    """A seeded generator that records every draw a step makes (method, arguments, result),
    so that a test can read the exact probabilities and rates the step draws with."""

    def __init__(self, seed: int = 0):
        self.gen = np.random.default_rng(seed)
        self.calls: list[tuple[str, tuple, object]] = []

    def __getattr__(self, name):
        method = getattr(self.gen, name)

        def call(*args, **kwargs):
            out = method(*args, **kwargs)
            self.calls.append((name, args, out))
            return out

        return call

    def args(self, name: str) -> list[tuple]:
        """The arguments of each call to ``name``, in order."""
        return [a for n, a, _ in self.calls if n == name]

    def results(self, name: str) -> list:
        """The results of each call to ``name``, in order."""
        return [out for n, _, out in self.calls if n == name]


class Draws:
    """A stand-in generator whose uniform draws are given: each call to ``random`` takes the
    next value given (broadcast to the size asked for); normal and Gumbel draws are 0, Poisson
    draws with mean 0 are 0. A test puts a draw just below or just above a probability that
    it computed by hand, and so checks the probability exactly."""

    def __init__(self, *uniform):
        self.uniform = list(uniform)

    def random(self, size=None):
        u = self.uniform.pop(0)
        return float(u) if size is None else np.broadcast_to(np.asarray(u, dtype=float), (size,)).copy()

    def standard_normal(self, size=None):
        return 0.0 if size is None else np.zeros(size)

    def gumbel(self, size=None):
        return 0.0 if size is None else np.zeros(size)

    def poisson(self, lam):
        assert np.all(np.asarray(lam) == 0), "Draws only stands in for Poisson draws with mean 0"
        return np.zeros(np.shape(lam), dtype=np.int64) if np.ndim(lam) else 0

    def integers(self, *args, **kwargs):
        return 0


EPS = 1e-9


def lognormal_cdf(x: float, median: float, spread: float) -> float:
    """The log-normal CDF by hand (erf), for checking ``officials.corrupt_fraction``."""
    return 0.5 * (1.0 + math.erf(math.log(x / median) / (spread * math.sqrt(2.0)))) if x > 0 else 0.0


# --- 3. officials ---------------------------------------------------------------------------


#: Region 0 of ``_officials_world``: the typical firm's output (``formulas.lognormal_mean``) of outputs
#: 0.1 and 0.3: median log ln sqrt(0.03), interquartile range of the logs ln(3) / 2.
TYPICAL = math.sqrt(0.03) * math.exp(0.5 * (math.log(3.0) / 2.0 / 1.349) ** 2)
#: The output its corrupt officials serve: firm 0 (output 0.1) has a corrupt home official (rank 0.2 < c = 0.4),
#: firm 1 (0.3) an honest one (0.9): 0.1 x (0.7 + 0.3 x 0.4) + 0.3 x (0.3 x 0.4) = 0.118 (home_share 0.7; its
#: expectation over the ranks is c x firms x ybar = 0.16).
SERVED = 0.1 * (0.7 + 0.3 * 0.4) + 0.3 * (0.3 * 0.4)
#: Its gain G = (bribes - caught x penalty x typical) / served = (0.05 - 0.1 TYPICAL) / 0.118.
GAIN = (0.05 - 0.1 * TYPICAL) / SERVED


def _officials_world(audit_penalty=0.1, **kwargs):
    """Region 0: two firms with potential output 0.1 and 0.3 (ybar 0.2, typical output TYPICAL),
    c = 0.4, home officials' ranks 0.2 and 0.9, dealings this quarter; region 1: one firm, c = 0.6, no
    dealings."""
    w = make_world(
        [{"home_official": 0.2}, {"home_official": 0.9}, {"region": 1}],
        regions="turkestan,zhambyl",
        akimats={"corrupt_share": [0.4, 0.6], "official_gain": [0.0, 0.7]},
        **(
            {
                "audit_penalty": audit_penalty,
                "moral_cost": 0.01,
                "moral_cost_spread": 2.0,
                "official_rotation": 0.125,
                "home_share": 0.7,
            }
            | kwargs
        ),
    )
    log = make_log(w, region={"dealings": [5.0, 0.0], "bribe_income": [0.05, 0.0], "caught": [1.0, 0.0]})
    log.potential_output = np.array([0.1, 0.3, 0.2])
    return w, log


def test_officials_corrupt_share_moves_toward_target_at_rotation_rate():
    w, log = _officials_world()
    officials.step(w, log)
    # G = (bribes - caught x penalty x typical output) / served: the penalty is money on the typical firm's
    # scale (0.188 here, against a mean of 0.2), the gain per unit of the output the corrupt officials serve
    gain = (0.05 - 1 * 0.1 * TYPICAL) / SERVED
    assert np.isclose(TYPICAL, 0.18818, atol=1e-5) and np.isclose(gain, GAIN)
    target = lognormal_cdf(gain, 0.01, 2.0)
    np.testing.assert_allclose(w.akimats.official_gain, [gain, 0.7], rtol=0, atol=1e-15)
    # region 1 had no dealings: it keeps its c (and its last gain)
    np.testing.assert_allclose(w.akimats.corrupt_share, [0.4 + 0.125 * (target - 0.4), 0.6], rtol=0, atol=1e-15)


def test_officials_full_rotation_sets_the_target():
    w, log = _officials_world(official_rotation=1.0)
    officials.step(w, log)
    assert np.isclose(w.akimats.corrupt_share[0], lognormal_cdf(GAIN, 0.01, 2.0), rtol=0, atol=1e-15)


def test_officials_corrupt_fraction_is_the_lognormal_cdf():
    from scipy.stats import lognorm

    gains = np.array([-0.5, 0.0, 1e-4, 0.01, 0.05, 0.3, 2.0])
    got = officials.corrupt_fraction(gains, 0.01, 2.0)
    np.testing.assert_allclose(got, [lognormal_cdf(g, 0.01, 2.0) for g in gains], rtol=0, atol=1e-14)
    np.testing.assert_allclose(got[2:], lognorm.cdf(gains[2:], s=2.0, scale=0.01), rtol=0, atol=1e-14)
    assert got[0] == 0.0 and got[1] == 0.0  # no gain: nobody is corrupt
    assert got[3] == 0.5  # at the median moral cost, half the officials


def test_officials_higher_audit_penalty_lowers_the_target():
    w_low, log_low = _officials_world(audit_penalty=0.1)
    w_high, log_high = _officials_world(audit_penalty=0.2)
    officials.step(w_low, log_low)
    officials.step(w_high, log_high)
    gain_high = (0.05 - 1.0 * 0.2 * TYPICAL) / SERVED  # 0.105
    assert np.isclose(w_high.akimats.official_gain[0], gain_high, rtol=0, atol=1e-15)
    target_high = lognormal_cdf(gain_high, 0.01, 2.0)
    assert target_high < lognormal_cdf(GAIN, 0.01, 2.0)
    assert np.isclose(w_high.akimats.corrupt_share[0], 0.4 + 0.125 * (target_high - 0.4), rtol=0, atol=1e-15)
    assert w_high.akimats.corrupt_share[0] < w_low.akimats.corrupt_share[0]


def test_officials_losing_gain_lowers_corruption_toward_zero():
    w, log = _officials_world(audit_penalty=1.0)  # penalties 0.19 > bribes 0.05: G < 0, F(G) = 0
    officials.step(w, log)
    assert w.akimats.official_gain[0] < 0
    assert np.isclose(w.akimats.corrupt_share[0], 0.4 * (1 - 0.125), rtol=0, atol=1e-15)


def test_officials_one_firm_one_dealing_counts_and_an_empty_region_keeps_its_share():
    # region 0 as in _officials_world; region 1: one firm (output 0.2) and a single dealing that
    # brought 0.02; region 2 (the last): no firms and no dealings
    w = make_world(
        [{"home_official": 0.2}, {"home_official": 0.9}, {"region": 1}],
        regions="turkestan,zhambyl,kyzylorda",
        akimats={"corrupt_share": [0.4, 0.6, 0.5], "official_gain": [0.0, 0.0, 0.3]},
        audit_penalty=0.1,
        moral_cost=0.01,
        moral_cost_spread=2.0,
        official_rotation=0.125,
        home_share=0.7,
    )
    log = make_log(
        w, region={"dealings": [5.0, 1.0, 0.0], "bribe_income": [0.05, 0.02, 0.0], "caught": [1.0, 0.0, 0.0]}
    )
    log.potential_output = np.array([0.1, 0.3, 0.2])
    officials.step(w, log)
    gain_1 = 0.02 / (0.2 * (0.7 + 0.3 * 0.6))  # its home official (rank 0.5 < c = 0.6) is corrupt
    np.testing.assert_allclose(w.akimats.official_gain, [GAIN, gain_1, 0.3], rtol=0, atol=1e-15)
    want = [
        0.4 + 0.125 * (lognormal_cdf(GAIN, 0.01, 2.0) - 0.4),
        0.6 + 0.125 * (lognormal_cdf(gain_1, 0.01, 2.0) - 0.6),
        0.5,
    ]
    np.testing.assert_allclose(w.akimats.corrupt_share, want, rtol=0, atol=1e-15)


def test_officials_gain_counts_the_output_that_reaches_corrupt_officials():
    """The served output counts a firm's output at home_share while its home official is corrupt
    (rank u < c) and at (1 - home_share) c for the officials at random. Its mean over uniform
    ranks is c x firms x ybar, the scale of the gain before dominant players, so that moral costs
    keep their unit; but a dominant firm whose home official is honest no longer dilutes the
    gain from the other firms' bribes. A model that divides by c x firms x ybar fails the second
    check by a factor of 3.1."""
    ranks = np.random.default_rng(4).random(4000)
    y = np.random.default_rng(5).lognormal(0.0, 0.5, 4000)
    w = make_world(
        [{"home_official": u} for u in ranks],
        akimats={"corrupt_share": 0.3},
        audit_penalty=0.0,
        official_rotation=0.125,
        home_share=0.7,
    )
    log = make_log(w, region={"dealings": [100.0], "bribe_income": [1.0], "caught": [0.0]})
    log.potential_output = y
    officials.step(w, log)
    served = 1.0 / w.akimats.official_gain[0]
    assert served == pytest.approx(0.3 * y.sum(), rel=0.03)  # sd of the sampled mean about 1.3%
    # a small firm (output 1) with a corrupt home official brought bribes 0.01; a dominant one (output 100)
    # with an honest home official brought none: G is the small firm's bribes over the output that reached
    # corrupt officials, 1 x (0.7 + 0.3 x 0.3) + 100 x 0.3 x 0.3, not over c x firms x ybar = 0.3 x 101
    w = make_world(
        [{"home_official": 0.1}, {"home_official": 0.9}],
        akimats={"corrupt_share": 0.3},
        audit_penalty=0.0,
        official_rotation=0.125,
        home_share=0.7,
    )
    log = make_log(w, region={"dealings": [2.0], "bribe_income": [0.01], "caught": [0.0]})
    log.potential_output = np.array([1.0, 100.0])
    officials.step(w, log)
    assert w.akimats.official_gain[0] == pytest.approx(0.01 / (0.79 + 9.0), rel=1e-12)


# --- 1. plan --------------------------------------------------------------------------------


def test_plan_options_exact():
    plans = plan.plan_options(np.array([0.3, 0.1, 0.1]))
    # the scenario; then a tenth of the total (0.05) moved to each line from the other two, in
    # proportion to their shares
    expected = [
        [0.3, 0.1, 0.1],
        [0.35, 0.075, 0.075],
        [0.3 - 0.05 * 0.75, 0.15, 0.1 - 0.05 * 0.25],
        [0.3 - 0.05 * 0.75, 0.1 - 0.05 * 0.25, 0.15],
    ]
    np.testing.assert_allclose(plans, expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(plans.sum(axis=1), 0.5, rtol=0, atol=1e-15)  # the sum is preserved
    # a line without a share gives nothing; the move is capped at what the other two have
    np.testing.assert_allclose(
        plan.plan_options(np.array([0.3, 0.1, 0.0])),
        [[0.3, 0.1, 0.0], [0.34, 0.06, 0.0], [0.26, 0.14, 0.0], [0.27, 0.09, 0.04]],
        rtol=0,
        atol=1e-15,
    )
    np.testing.assert_allclose(
        plan.plan_options(np.array([0.0, 0.0, 0.0])), np.zeros((4, 3)), rtol=0, atol=0
    )  # nothing to move


def _plan_world(**kwargs):
    """A captured region with budget 2 + 2 = 4, c = 1/2, three of four utilities lagging the target."""
    values = {
        "transparency": 0.2,
        "capture_diversion": 0.15,
        "rent_weight": 0.6,
        "rent_base": 0.5,
        "maintenance_share": 0.3,
        "support_share": 0.1,
        "ppp_share": 0.1,
        "ppp_cofinancing": 0.3,
        "ppp_size": 40.0,
        "quality_target": 0.8,
        "plan_sensitivity": 1000.0,
    }
    akimats = {
        "tax_revenue": 2.0,
        "transfer": 2.0,
        "power": 0.5,
        "corrupt_share": 0.5,
        "symbiosis": 1.0,
        "ppp_fund": 25.0,
        "utility_quality": [0.6, 0.5, 0.7, 0.9],
    }
    return make_world([{"captor": True}], akimats=akimats | kwargs.pop("akimats", {}), **(values | kwargs))


def test_plan_budget_rents_diversion_split_and_tenders():
    w = _plan_world()
    log = make_log(w)
    plan.step(w, log, Draws(0.5, 0.5, 0.5))  # the plan draw, then one draw per tender launched
    a = w.akimats
    budget = 2.0 + 2.0  # taxes + the central transfer
    rents = 1.0 * 0.6 * (1 - 0.2) * (0.5 + 0.5 * 0.5) * budget  # w_R = s x rent_weight
    diverted = 0.15 * budget
    free = budget - rents - diverted
    assert np.isclose(rents, 1.44) and np.isclose(free, 1.96)
    assert np.isclose(a.budget[0], 4.0, rtol=0, atol=1e-12)
    assert np.isclose(a.rents[0], rents, rtol=0, atol=1e-12)
    assert np.isclose(a.capture_transfer[0], diverted, rtol=0, atol=1e-12)
    # plan values: maintenance 3/4 lagging x 4/6 = 1/2, support 2/6, PPP 4/6 (no disputes); the
    # plan that moves a tenth to the PPP fund gains most (0.2604 against 0.25, 0.25, 0.2396), and
    # at sensitivity 1000 the others have probability below 4e-5 together: the draw 0.5 takes it
    shares = [0.3 - 0.05 * 0.75, 0.1 - 0.05 * 0.25, 0.15]
    assert np.isclose(a.maintenance[0], shares[0] * free, rtol=0, atol=1e-12)
    assert np.isclose(a.support_budget[0], shares[1] * free, rtol=0, atol=1e-12)
    assert np.isclose(a.maintenance_reference[0], 0.3 * budget, rtol=0, atol=1e-12)  # quarter 0: the scenario's share
    # tenders: lags are (0.2, 0.3, 0.1, -0.1): water, then heat, while the fund covers 0.3 x 40 = 12
    assert log.tenders == [(0, 1), (0, 0)]
    assert log.region["tenders"][0] == 2
    assert np.isclose(a.ppp_fund[0], 25.0 + shares[2] * free - 24.0, rtol=0, atol=1e-12)


def test_plan_counts_its_supply_line_only_when_asked():
    """With ``tender_pipeline`` a lagging utility whose contract is being built gets no new tender (water here,
    the most lagging), so the fund's two tenders go to heat and power, lagging too with nothing in construction;
    an operating water contract is not in the supply line. Without it (the default): water and heat, as before."""
    for pipeline, building, expected in (
        (True, CONSTRUCTION, [(0, 0), (0, 2)]),
        (True, OPERATION, [(0, 1), (0, 0)]),
        (False, CONSTRUCTION, [(0, 1), (0, 0)]),
    ):
        w = _plan_world(tender_pipeline=pipeline)
        add_contract(w, sector=1, phase=building)
        log = make_log(w)
        plan.step(w, log, Draws(0.5, 0.5, 0.5))
        assert log.tenders == expected, (pipeline, building)


def test_the_ppp_fund_lapses_into_the_budget_at_a_new_fiscal_year_only_when_asked():
    """With ``ppp_fund_lapse``, at quarters 4, 8, ... the fund's balance (25) joins the budget (4 + 25 = 29), which
    the plan splits again, and the fund starts from the year's first share (no tender: its 0.15 x free = 3.4 is
    below a tender's 12); at other quarters, and without the lever, the budget is taxes + transfer and the fund
    keeps its 25 (the same numbers as the plan's test)."""
    rents = lambda b: 1.0 * 0.6 * (1 - 0.2) * (0.5 + 0.5 * 0.5) * b  # noqa: E731
    for lapse, quarter, budget in ((True, 4, 29.0), (True, 8, 29.0), (True, 5, 4.0), (True, 0, 4.0), (False, 4, 4.0)):
        w = _plan_world(ppp_fund_lapse=lapse, quarter=quarter, ppp_size=10_000.0)  # no tender can be afforded
        log = make_log(w)
        plan.step(w, log, Draws(0.5, 0.5, 0.5))
        a = w.akimats
        free = budget - rents(budget) - 0.15 * budget
        assert np.isclose(a.budget[0], budget, rtol=0, atol=1e-12), (lapse, quarter)
        assert np.isclose(a.rents[0], rents(budget), rtol=0, atol=1e-12)
        kept = 0.0 if budget == 29.0 else 25.0
        assert log.tenders == [] and np.isclose(a.ppp_fund[0], kept + 0.15 * free, rtol=0, atol=1e-12), (lapse, quarter)


def test_with_the_lapse_the_fund_stays_within_a_years_ppp_line_and_without_it_grows():
    """A model run of 60 quarters: with ``ppp_fund_lapse`` the fund never holds more than four quarters' PPP
    line of the plan's largest share (0.2 of the budget, every quarter since the last lapse); without it the
    fund ends far above that (it keeps what no tender used)."""
    from simulation.model import StateBusinessModel

    ends = {}
    for lapse in (True, False):
        m = StateBusinessModel(rng=3, firms=400, residents_per_region=198, burn_in=0, steps=60, ppp_fund_lapse=lapse)
        a = m.world.akimats
        bound = []
        for _ in range(60):
            m.step()
            bound.append(0.2 * a.budget)
            if lapse:
                assert np.all(a.ppp_fund <= np.sum(bound[-4:], axis=0) + 1e-9)
        ends[lapse] = a.ppp_fund.copy()
    assert np.all(ends[False] > np.sum(bound[-4:], axis=0))


def test_plan_rents_scale_with_symbiosis():
    half = _plan_world(akimats={"symbiosis": 0.5})
    none = _plan_world(akimats={"symbiosis": 0.0})
    plan.step(half, make_log(half), Draws(0.5, 0.5, 0.5))
    plan.step(none, make_log(none), Draws(0.5, 0.5, 0.5))
    assert np.isclose(half.akimats.rents[0], 0.5 * 1.44, rtol=0, atol=1e-12)
    assert none.akimats.rents[0] == 0.0


def test_plan_logit_probabilities():
    # no utility lags, no contracts: values (0, 2/6, 4/6) for (maintenance, support, PPP)
    w = make_world(
        akimats={"tax_revenue": 1.0, "utility_quality": 0.9, "ppp_fund": 0.0},
        maintenance_share=0.3,
        support_share=0.1,
        ppp_share=0.1,
        plan_sensitivity=20.0,
        quality_target=0.8,
        ppp_size=40.0,
        ppp_cofinancing=0.3,
    )
    plans = plan.plan_options(np.array([0.3, 0.1, 0.1]))
    gain = plans @ np.array([0.0, 2.0 / 6.0, 4.0 / 6.0])
    weights = np.exp(20.0 * gain)
    cum = np.cumsum(weights / weights.sum())
    # the plan drawn is the first whose cumulative probability reaches the draw
    for k in range(4):
        for draw, chosen in ((cum[k] - EPS, k), (cum[k] + EPS, k + 1)):
            if chosen == 4:
                continue
            w.akimats.ppp_fund[:] = 0.0
            plan.step(w, make_log(w), Draws(draw))
            assert np.isclose(w.akimats.support_budget[0], plans[chosen, 1] * 1.0, rtol=0, atol=1e-15), (k, draw)
            assert np.isclose(w.akimats.ppp_fund[0], plans[chosen, 2] * 1.0, rtol=0, atol=1e-15), (k, draw)


def test_plan_reference_kept_after_first_quarter():
    w = make_world(quarter=5, akimats={"maintenance_reference": 7.0})
    plan.step(w, make_log(w), rng())
    assert w.akimats.maintenance_reference[0] == 7.0


def test_plan_no_lag_tenders_social_or_roads():
    # no revenue: whatever plan the akim chooses, the fund keeps what it had
    w = make_world(akimats={"tax_revenue": 0.0, "ppp_fund": 12.5, "utility_quality": 0.9}, quality_target=0.8)
    log = make_log(w)
    plan.step(w, log, rng())
    assert len(log.tenders) == 1 and log.tenders[0][1] in (4, 5)
    assert np.isclose(w.akimats.ppp_fund[0], 0.5)


def test_plan_all_contracts_disputed_deters_tenders():
    w = make_world(akimats={"tax_revenue": 0.0, "ppp_fund": 100.0, "utility_quality": 0.2})
    add_contract(w, status=DISPUTED)
    log = make_log(w)
    plan.step(w, log, rng())
    assert log.tenders == []
    assert w.akimats.ppp_fund[0] == 100.0


# --- 2. dealings ----------------------------------------------------------------------------

# binomial draws of the dealings step, in order: demands, paid, refused, paid bribes detected,
# reports upheld, informal firms found out
DEMANDS, UPHELD = 0, 4


def test_dealings_no_corruption_no_demands_and_detection_decays():
    w = make_world(
        [{"perceived_detection": 0.5, "home_official": 0.0}, {"perceived_detection": 0.0, "home_official": 0.0}],
        ties=[(0, 1)],
        akimats={"corrupt_share": 0.0},
        audit_rate=0.04,
        transparency=0.7,
        transparency_detection=0.15,
        detection_decay=0.25,
        dealings_mature=5.0,
    )
    log = make_log(w)
    dealings.step(w, log, rng())
    assert log.firm["dealings"].sum() > 0  # there were dealings, just no demands
    assert log.region["dealings"][0] == log.firm["dealings"].sum()
    for name in ("demands", "paid", "refused", "reported", "extracted", "fines", "detected"):
        assert not log.firm[name].any(), name
    for name in ("demands", "paid", "caught", "bribe_income"):
        assert not log.region[name].any(), name
    d = 1 - (1 - 0.04) * (1 - 0.15 * 0.7)
    np.testing.assert_allclose(w.firms.perceived_detection, [0.5 + 0.25 * (d - 0.5), 0.25 * d], atol=1e-14)


def _all_pay_world(audit_rate, **kwargs):
    """Two formal firms with corrupt home officials that meet a demand in every dealing and
    always pay; two informal firms without dealings."""
    firms = [
        {"strength": 0.1, "age": 0, "perceived_detection": 0.2, "home_official": 0.0},
        {"strength": 0.1, "age": 0, "capital": 2.0, "perceived_detection": 0.14, "home_official": 0.0},
        {"formal": False, "perceived_detection": 0.2},
        {"formal": False, "perceived_detection": 0.2},
    ]
    values = dict(
        dealings_startup=20.0,
        dealings_reach=10.0,
        informal_dealings=0.0,
        visibility_base=1.0,
        transparency=0.0,
        outsider_bias=0.0,
        choice_sensitivity=500.0,
        bribe_size=0.001,
        delay_cost=1.0,
        report_cost=1.0,
        audit_rate=audit_rate,
        audit_penalty=6.0,
        giver_penalty=0.5,
        detection_jump=0.3,
        detection_decay=0.25,
        bargaining_exponent=2.0,
        capital_elasticity=0.5,
        rent_stake=0.0,
        official_rotation=0.0,
    )
    return make_world(firms, ties=[(2, 0), (2, 3)], akimats={"power": 0.9, "corrupt_share": 1.0}, **(values | kwargs))


def test_dealings_all_demands_paid_bribe_formula():
    w = _all_pay_world(audit_rate=0.0)
    log = make_log(w)
    dealings.step(w, log, rng())
    ev = log.firm
    assert (ev["dealings"][:2] > 0).all() and (ev["dealings"][2:] == 0).all()
    np.testing.assert_array_equal(ev["demands"], ev["dealings"])  # demand probability 1
    np.testing.assert_array_equal(ev["paid"], ev["demands"])  # paying dominates
    assert not ev["refused"].any() and not ev["reported"].any()
    s = 0.9**2 / (0.9**2 + 0.1**2)
    y = 0.12 * np.array([1.0, 2.0**0.5])
    np.testing.assert_allclose(ev["extracted"][:2], y * ev["paid"][:2] * 0.001 * s, rtol=1e-12)
    assert log.region["demands"][0] == ev["demands"].sum() == log.region["paid"][0]
    assert log.region["dealings"][0] == ev["dealings"].sum()
    assert np.isclose(log.region["bribe_income"][0], ev["extracted"].sum(), rtol=1e-12)
    assert log.region["caught"][0] == 0 and not ev["fines"].any()  # detection rate 0
    # nobody caught: perceived detection decays toward the true rate 0
    np.testing.assert_allclose(
        w.firms.perceived_detection, [0.2 * 0.75, 0.14 * 0.75, 0.2 * 0.75, 0.2 * 0.75], atol=1e-14
    )


def test_rent_segment_is_the_largest_formal_firms_producing_the_mining_share():
    # region 0: mining 0.3 of an output of 15 (4.5); region 1: no mining
    output = np.array([3.0, 5.0, 2.0, 4.0, 0.0, 1.0, 9.0])
    formal = np.array([True, True, True, False, True, True, True])
    region = np.array([0, 0, 0, 0, 0, 0, 1])
    total = 3.0 + 5.0 + 2.0 + 4.0 + 1.0
    # from the largest formal firm down: 5 is extractive for the 4.5 still needed (0.9 of it), then
    # nothing is needed; the informal 4 is never in, the exited row never
    seg = formulas.rent_segment(output, formal, region, np.array([0.3, 0.0]))
    np.testing.assert_allclose(seg, [0.0, 0.9, 0.0, 0.0, 0.0, 0.0, 0.0], rtol=0, atol=1e-15)
    # a larger mining share (9) takes 5 and 3 whole and half of 2 (the marginal firm), 1 not at all
    seg = formulas.rent_segment(output, formal, region, np.array([0.6, 0.0]))
    np.testing.assert_allclose(seg, [1.0, 1.0, 0.5, 0.0, 0.0, 0.0, 0.0], rtol=0, atol=1e-15)
    assert np.isclose((output * seg).sum(), 0.6 * total)  # the segment produces exactly the mining share
    # a firm larger than the mining output (a dominant player) is extractive only for that share
    np.testing.assert_allclose(
        formulas.rent_segment(output, formal, region, np.array([0.0, 0.01])), [0.0] * 6 + [0.01], atol=1e-15
    )
    # no mining, no segment; a region without firms has none
    assert not formulas.rent_segment(output, formal, region, np.array([0.0, 0.0])).any()
    assert not formulas.rent_segment(output, formal, region, np.array([0.0, 0.0, 0.5])).any()


def test_mining_shares_read_the_data_and_are_zero_where_there_is_none():
    w = make_world(regions="turkestan,almaty")
    np.testing.assert_array_equal(formulas.mining_shares(w.regions), [0.1075, 0.0])


#: Turkestan mines 0.1075 of its GRP; of the outputs 0.12 (firm 0), 0.12 sqrt 2 (firm 1) and 0.12 twice (the
#: informal firms) of ``_all_pay_world``, the largest formal firm (1) produces more than that share: it is
#: extractive for the mining output, this share of its own.
EXTRACTIVE = 0.1075 * (3 + 2**0.5) / 2**0.5


def test_dealings_rent_segment_pays_the_rent_stake_on_its_bribes():
    mining = make_world().regions[0].mining_share
    assert 0.12 * 2**0.5 >= mining * 0.12 * (3 + 2**0.5) > 0
    np.testing.assert_allclose(
        formulas.rent_segment(
            0.12 * np.array([1.0, 2**0.5, 1.0, 1.0]),
            np.array([True, True, False, False]),
            np.zeros(4, int),
            np.array([mining]),
        ),
        [0.0, EXTRACTIVE, 0.0, 0.0],
    )
    s = 0.9**2 / (0.9**2 + 0.1**2)
    y = 0.12 * np.array([1.0, 2.0**0.5])
    for stake in (0.0, 2.0):
        w = _all_pay_world(audit_rate=0.0, rent_stake=stake)
        log = make_log(w)
        dealings.step(w, log, rng())
        bribe = 0.001 * s * np.array([1.0, 1.0 + stake * EXTRACTIVE])
        np.testing.assert_allclose(log.firm["extracted"][:2], y * log.firm["paid"][:2] * bribe, rtol=1e-12)
        assert np.isclose(log.region["bribe_income"][0], log.firm["extracted"].sum(), rtol=1e-12)


def test_dealings_rent_segment_refusal_costs_the_rent_stake():
    # bribes so dear that every firm refuses: the harm of a refusal is P (1 - B + rent_stake x extractive
    # share): the licence is a veto the state holds whatever the firm's strength
    w = _all_pay_world(audit_rate=0.0, rent_stake=2.0, bribe_size=1.0, delay_cost=0.001)
    log = make_log(w)
    dealings.step(w, log, rng())
    ev = log.firm
    np.testing.assert_array_equal(ev["refused"][:2], ev["demands"][:2])
    assert (ev["demands"][:2] > 0).all() and not ev["paid"].any()
    y = 0.12 * np.array([1.0, 2.0**0.5])
    harm = 0.9 * np.array([1.0 - 0.1, 1.0 - 0.1 + 2.0 * EXTRACTIVE])
    np.testing.assert_allclose(ev["extracted"][:2], y * ev["refused"][:2] * 0.001 * harm, rtol=1e-12)


def test_dealings_rent_hold_up_does_not_vanish_with_strength():
    # a dominant player (B = 1) in the segment: the ordinary part of the harm, P (1 - B), is gone, the
    # licence's hold-up, P x rent_stake x extractive share, is not
    w = _all_pay_world(audit_rate=0.0, rent_stake=2.0, bribe_size=1.0, delay_cost=0.001)
    w.firms.strength[:2] = 1.0
    log = make_log(w)
    dealings.step(w, log, rng())
    ev = log.firm
    assert ev["refused"][1] > 0 and ev["refused"][0] > 0
    y = 0.12 * 2.0**0.5
    np.testing.assert_allclose(ev["extracted"][1], y * ev["refused"][1] * 0.001 * 0.9 * 2.0 * EXTRACTIVE, rtol=1e-12)
    assert ev["extracted"][0] == 0.0  # outside the segment a firm of B = 1 loses nothing by refusing


def test_dealings_rent_segment_cannot_put_its_dealings_off():
    # both formal firms found officials dear last year (4 quarters of output per dealing); all their dealings
    # are discretionary and the choice sharp, so the ordinary firm puts them all off; the segment (firm 1,
    # the larger: see above) cannot put off its extractive share of them
    firms = [{"strength": 0.1, "age": 0}, {"strength": 0.1, "age": 0, "capital": 2.0}] + [{"formal": False}] * 2
    memory = {"dealings": [4, 4, 0, 0], "output": [0.12, 0.17, 0.12, 0.12], "extracted": [1.0, 1.0, 0.0, 0.0]}
    w = make_world(
        firms,
        memory=memory,
        akimats={"power": 0.9, "corrupt_share": 0.0},
        dealings_startup=20.0,
        dealings_reach=10.0,
        informal_dealings=0.0,
        choice_sensitivity=500.0,
        discretionary_share=1.0,
        official_rotation=0.0,
    )
    log = make_log(w)
    dealings.step(w, log, rng())
    assert log.firm["dealings"][0] == 0
    # Poisson(20 x 10 x 0.9 x EXTRACTIVE = 60): the extractive share of its dealings is not put off
    assert 30 < log.firm["dealings"][1] < 100


def test_rents_raise_the_officials_gain_and_the_corrupt_share():
    # the same draws with and without the rent stake: the segment's bribes raise what corrupt officials
    # collect, hence the gain G and the share of officials for whom corruption pays (officials.py)
    gains, shares = [], []
    for stake in (0.0, 1.0):
        w = _all_pay_world(audit_rate=0.0, rent_stake=stake, official_rotation=0.5, moral_cost=1e-4)
        w.akimats.corrupt_share[:] = 0.5
        log = make_log(w)
        dealings.step(w, log, rng())
        officials.step(w, log)
        gains.append(w.akimats.official_gain[0])
        shares.append(w.akimats.corrupt_share[0])
    assert 0 < gains[0] < gains[1]
    assert shares[0] < shares[1]


def test_dealings_caught_paying_fines_and_perceived_detection_jump():
    w = _all_pay_world(audit_rate=1.0)
    log = make_log(w)
    dealings.step(w, log, rng())
    ev = log.firm
    y = 0.12 * np.array([1.0, 2.0**0.5])
    np.testing.assert_array_equal(ev["detected"], [1, 1, 0, 0])
    # a fine of giver_penalty x audit_penalty quarters of the firm's own output per bribe caught
    np.testing.assert_allclose(ev["fines"][:2], y * ev["paid"][:2] * 0.5 * 6.0, rtol=1e-12)
    assert log.region["caught"][0] == ev["paid"].sum()

    # caught firms: the whole jump; firm 2 hears from 1 of its 2 ties; firm 3 from none of 1
    def update(q, heard):
        q = q + 0.3 * (1 - q) * heard
        return q + 0.25 * (1.0 - q)

    expected = [update(0.2, 1.0), update(0.14, 1.0), update(0.2, 0.5), update(0.2, 0.0)]
    np.testing.assert_allclose(w.firms.perceived_detection, expected, atol=1e-14)


def _demand_world(symbiosis=0.0, **kwargs):
    """Mature formal firms (B = 0.6) of an akimat with P = 0.5, c = 0.3; base demand probability
    d = (1 - 0.5 x 0.4) x (0.5 + 0.5 x 0.6) = 0.64 before officials and patronage. The city of Almaty has no
    mining, hence no rent segment: every firm's dealings are ordinary ones."""
    firms = kwargs.pop("firms")
    values = dict(
        transparency=0.4,
        transparency_demand=0.5,
        visibility_base=0.5,
        outsider_bias=0.0,
        home_share=0.7,
        official_rotation=0.0,
        dealings_mature=1.0,
        dealings_reach=2.0,
        dealings_power=1.0,
    )
    return make_world(
        [{"strength": 0.6} | spec for spec in firms],
        regions="almaty",
        akimats={"power": 0.5, "corrupt_share": 0.3, "symbiosis": symbiosis},
        **(values | kwargs),
    )


def test_dealings_corrupt_home_official_raises_the_demand_probability():
    w = _demand_world(firms=[{"home_official": 0.1}, {"home_official": 0.9}, {"home_official": 0.3}])
    r = Recorder()
    dealings.step(w, make_log(w), r)
    d = 0.8 * 0.8
    # u < c: home_share + (1 - home_share) c; otherwise (1 - home_share) c (u = c is not below c)
    expected = [(0.7 + 0.3 * 0.3) * d, 0.3 * 0.3 * d, 0.3 * 0.3 * d]
    np.testing.assert_allclose(r.args("binomial")[DEMANDS][1], expected, rtol=0, atol=1e-15)


def test_dealings_rotation_redraws_the_home_official_and_ends_the_client_tie():
    firms = [{"home_official": 0.25, "client": True}, {"home_official": 0.75, "client": True, "alive": False}]
    w = _demand_world(symbiosis=1.0, firms=firms, official_rotation=1.0)
    r = Recorder()
    dealings.step(w, make_log(w), r)
    fresh = r.results("random")[1]  # the first draw picks who is rotated, the second is the new rank
    assert fresh.shape == (1,)
    np.testing.assert_array_equal(w.firms.home_official, [fresh[0], 0.75])  # an exited firm keeps its row
    np.testing.assert_array_equal(w.firms.client, [False, True])
    # without rotation, the official and the tie stay
    w = _demand_world(symbiosis=1.0, firms=firms, official_rotation=0.0, dealings_mature=0.0)
    dealings.step(w, make_log(w), rng())
    np.testing.assert_array_equal(w.firms.home_official, [0.25, 0.75])
    np.testing.assert_array_equal(w.firms.client, [True, True])


def test_dealings_client_is_shielded_under_symbiosis():
    firms = [{"home_official": 0.9}, {"home_official": 0.9, "client": True}, {"home_official": 0.9, "connection": 0.5}]
    for s in (0.0, 0.4, 1.0):
        w = _demand_world(symbiosis=s, firms=firms)
        r = Recorder()
        dealings.step(w, make_log(w), r)
        base = 0.3 * 0.3 * 0.64
        # protection 1 - s L, with L = 1 for a client
        expected = [base, base * (1 - s), base * (1 - s * 0.5)]
        np.testing.assert_allclose(r.args("binomial")[DEMANDS][1], expected, rtol=0, atol=1e-15)


def _paying_client_world(symbiosis):
    """Firm 0 pays its corrupt home official in every dealing; firm 1 pays an honest home official's
    colleagues (its home official is honest)."""
    return make_world(
        [{"strength": 0.1, "age": 0, "home_official": 0.0}, {"strength": 0.1, "age": 0, "home_official": 0.99}],
        akimats={"power": 0.9, "corrupt_share": 0.9, "symbiosis": symbiosis},
        dealings_startup=20.0,
        dealings_reach=10.0,
        visibility_base=1.0,
        transparency=0.0,
        outsider_bias=0.0,
        choice_sensitivity=500.0,
        bribe_size=0.001,
        delay_cost=1.0,
        report_cost=1.0,
        official_rotation=0.0,
    )


def test_dealings_client_ties_form_only_under_symbiosis():
    w = _paying_client_world(symbiosis=0.0)
    log = make_log(w)
    dealings.step(w, log, rng())
    assert (log.firm["paid"] > 0).all()
    assert not w.firms.client.any()  # the partnership model has no patronage
    w = _paying_client_world(symbiosis=1.0)
    log = make_log(w)
    dealings.step(w, log, rng())
    assert (log.firm["paid"] > 0).all()
    # with probability s = 1 a firm that pays a corrupt home official becomes his client; one whose
    # home official is honest does not
    np.testing.assert_array_equal(w.firms.client, [True, False])


def test_dealings_demand_for_dealings_falls_with_their_cost():
    firms = [{}, {}, {"age": 2}]
    memory = {"dealings": [4.0, 0.0, 2.0], "extracted": [0.02, 0.0, 0.0], "output": [0.4, 0.0, 0.2]}
    w = _demand_world(firms=firms, memory=memory, discretionary_share=0.5, choice_sensitivity=40.0)
    r = Recorder()
    dealings.step(w, make_log(w), r)
    # cost per dealing: 0.02 x 4 / (4 dealings x 0.4 output over the year) = 0.05 quarters of output
    factor = 0.5 + 0.5 * math.exp(-40.0 * 0.05)
    rate = np.array([1.0, 1.0, 2.0]) * 2.0 * 0.5  # life stage x reach x P^1
    np.testing.assert_allclose(r.args("poisson")[0][0], rate * [factor, 1.0, 1.0], rtol=0, atol=1e-15)
    # the null model: dealings do not depend on P
    w = _demand_world(firms=firms, dealings_power=0.0)
    r = Recorder()
    dealings.step(w, make_log(w), r)
    np.testing.assert_allclose(r.args("poisson")[0][0], [2.0, 2.0, 4.0], rtol=0, atol=1e-15)


def test_dealings_consultation_voice_raises_upheld_reports():
    firms = [{"strength": 0.1, "age": 0, "home_official": 0.0}] * 2
    w = make_world(
        firms,
        akimats={"power": 0.9, "corrupt_share": 0.9},
        memory={"consulted": [1.0, 0.0]},
        dealings_startup=20.0,
        dealings_reach=10.0,
        visibility_base=1.0,
        transparency=0.0,
        legal_quality=0.5,
        consultation_voice=0.5,
        official_rotation=0.0,
    )
    r = Recorder()
    log = make_log(w)
    dealings.step(w, log, r)
    assert (log.firm["demands"] > 0).all()
    # upheld = legal' (1 - c), legal' = legal + voice (1 - legal) for a firm consulted in the last year
    np.testing.assert_allclose(r.args("binomial")[UPHELD][1], [0.75 * 0.1, 0.5 * 0.1], rtol=0, atol=1e-15)


def _speed_world(home: float = 0.0, symbiosis: float = 0.0, connection: float = 0.0, **params):
    """One formal firm (B 0.3) with a home official of moral-cost rank ``home`` (corrupt while below c
    0.5), all its dealings with him (home_share 1), choices all but deterministic (sensitivity 500)."""
    firms = [{"home_official": home, "connection": connection, "strength": 0.3, "perceived_detection": 0.0}]
    values = dict(home_share=1.0, choice_sensitivity=500.0, bribe_size=0.1, bargaining_exponent=1.0, rent_stake=0.0)
    w = make_world(firms, akimats={"corrupt_share": 0.5, "power": 0.7, "symbiosis": symbiosis}, **(values | params))
    log = make_log(w)
    log.potential_output = w.potential_output()
    return w, log


def _speed(w, log, dealt: int = 20, seed: int = 0):
    """``dealings.speed_money`` for the firm's ``dealt`` dealings, none of them with a demand: the accepted
    offers, the officials' income and the offers detected in the firm's region (the firm's own: it is alone)."""
    f, a = w.firms, w.akimats
    n_deal = np.array([dealt])
    return dealings.speed_money(
        w, log, rng(seed), n_deal, np.zeros(1, dtype=n_deal.dtype), a.power[f.region], a.corrupt_share[f.region],
        np.zeros(1, dtype=bool),
    )[:3]  # fmt: skip


def test_speed_money_is_offered_when_the_value_of_time_beats_the_bribe():
    """Bribe 0.1 x P/(P + B) = 0.07 of output; the full delay P (1 - B) = 0.49; a corrupt home
    official holds every dealing the full delay. The firm offers when delay_cost x 0.49 > 0.07
    (delay_cost above 1/7), and the corrupt official accepts every offer: the bribes are the
    firm's, the dealings expedited (no delay), and the officials' income is the bribes."""
    for delay_cost, offers in ((0.12, 0), (0.17, 20)):
        w, log = _speed_world(delay_cost=delay_cost, audit_rate=0.0, transparency=0.0)
        took, income, caught = _speed(w, log)
        y = log.potential_output[0]
        assert log.firm["offered"][0] == offers and took[0] == offers, delay_cost
        assert log.firm["delay"][0] == pytest.approx(20 - offers)  # the full delay where not expedited
        assert income[0] == pytest.approx(y * offers * 0.07) and caught[0] == 0
        # what the firm lost to officials: the bribes (a wait is not charged as a loss)
        assert log.firm["extracted"][0] == pytest.approx(y * offers * 0.07, rel=1e-12)


def test_speed_money_an_honest_official_refuses_and_holds_the_dealing_in_his_queue():
    """Home official honest (u 0.9 >= c 0.5): the firm expects only his queue (queue_share 0.6 of
    the full delay) and offers when delay_cost x 0.49 x 0.6 > 0.07; he refuses, so the firm waits
    the queue and loses nothing to officials."""
    w, log = _speed_world(home=0.9, delay_cost=0.5, queue_share=0.6, transparency=0.0)
    took, income, _ = _speed(w, log)
    assert log.firm["offered"][0] == 20 and took[0] == 0 and income[0] == 0
    assert log.firm["delay"][0] == pytest.approx(20 * 0.6) and log.firm["extracted"][0] == 0
    # a pure queue (queue_share 1): corrupt officials create no delay; a paid one still expedites
    w, log = _speed_world(delay_cost=0.5, queue_share=1.0, transparency=0.0)
    took, _, _ = _speed(w, log)
    assert took[0] == 20 and log.firm["delay"][0] == 0


def test_speed_money_open_data_lower_the_taking_of_an_offer_as_of_a_demand():
    """A corrupt home official takes an offer with probability 1 - transparency_demand x transparency,
    the factor that lowers a demand: none at full transparency when open data stop every taking
    (transparency_demand 1), every one without open data; the firm, refused, waits the full delay."""
    for transparency, taken in ((0.0, 20), (1.0, 0)):
        w, log = _speed_world(delay_cost=0.5, transparency=transparency, transparency_demand=1.0)
        took, income, _ = _speed(w, log)
        assert log.firm["offered"][0] == 20 and took[0] == taken, transparency
        assert (income[0] > 0) == (taken > 0)
        assert log.firm["delay"][0] == pytest.approx(20 - taken)


def test_speed_money_a_connection_buys_no_acceptance_and_no_escape_from_audits():
    """Only a corrupt official accepts an offer: an honest one (u 0.55 >= c 0.5) refuses a fully
    connected firm under symbiosis as he refuses anyone, and a corrupt one accepts it as he accepts
    anyone. Audits detect every paid bribe (audit_rate 1) whatever the connection: with a factor s L'
    on the official's risk (this branch's first version) more officials accepted the network's
    offers the stronger the audits, and the audit lever lost its direction under symbiosis."""
    for home, accepted in ((0.55, False), (0.1, True)):
        for s, L in ((0.0, 0.0), (1.0, 1.0)):
            w, log = _speed_world(
                home=home, symbiosis=s, connection=L, delay_cost=0.5, audit_rate=1.0, transparency=0.0
            )
            w.akimats.official_gain[:] = 0.05
            took, income, caught = _speed(w, log)
            assert log.firm["offered"][0] == 20, (home, s, L)
            assert (took[0] == 20) == accepted and (took[0] == 0) != accepted, (home, s, L)
            assert caught[0] == took[0], (home, s, L)  # every accepted offer is caught: no escape
            fine = w.params["giver_penalty"] * w.params["audit_penalty"]
            assert log.firm["fines"][0] == pytest.approx(log.potential_output[0] * caught[0] * fine)


def test_dealings_without_a_connection_symbiosis_changes_no_delay():
    """The factor on s is gone: with no firm connected (L 0, no clients) and no outsider bias, the
    quarter's dealings, demands, offers, bribes and delays are the same at s = 0 and s = 1, draw for
    draw (the same seed). Under the old rules a refusal's harm and the PPP delays shrank by s L."""
    firms = [{"home_official": u, "strength": b} for u, b in ((0.1, 0.2), (0.4, 0.5), (0.8, 0.3), (0.2, 0.9))]
    logs = []
    for s in (0.0, 1.0):
        w = make_world(firms, akimats={"corrupt_share": 0.5, "symbiosis": s}, outsider_bias=0.0, dealings_mature=6.0)
        log = make_log(w)
        dealings.step(w, log, rng(7))
        logs.append(log)
    assert logs[0].firm["offered"].sum() > 0 and logs[0].firm["delay"].sum() > 0
    for name in ("dealings", "demands", "paid", "refused", "reported", "offered", "offer_paid", "delay", "extracted"):
        np.testing.assert_array_equal(logs[0].firm[name], logs[1].firm[name], err_msg=name)


# --- 4. support -----------------------------------------------------------------------------


def test_support_single_applicant_gets_whole_budget_less_compliance():
    firms = [{"productivity": 0.1}, {"formal": False}, {"alive": False}]
    w = make_world(
        firms, akimats={"support_budget": 1.0}, apply_base=1.0, apply_trust=0.0, grant=0.2, support_compliance=0.25
    )
    log = make_log(w)
    support.step(w, log, rng())
    np.testing.assert_array_equal(log.firm["support"], [0.75, 0.0, 0.0])
    assert not log.firm["extracted"].any()  # its home official (u = 1/2 > c = 0.35) is honest: no kickback


def test_support_funded_applicants_split_equally():
    firms = [{"productivity": 0.1}, {"productivity": 0.2, "connection": 1.0}, {"region": 1}]
    w = make_world(
        firms,
        regions="turkestan,zhambyl",
        akimats={"support_budget": [1.0, 0.3]},
        apply_base=1.0,
        apply_trust=0.0,
        grant=0.01,
        support_compliance=0.0,
    )
    log = make_log(w)
    support.step(w, log, rng())
    # k = budget / grant >= number of applicants: every applicant is funded
    np.testing.assert_allclose(log.firm["support"], [0.5, 0.5, 0.3], atol=1e-15)


def test_support_nobody_applies():
    w = make_world([{}, {}], akimats={"support_budget": 1.0}, apply_base=0.0, apply_trust=0.0)
    log = make_log(w)
    support.step(w, log, rng())
    assert not log.firm["support"].any()


def test_support_kickback_to_a_corrupt_home_official_and_compliance_cost():
    firms = [{"strength": 0.5, "home_official": 0.1}, {"strength": 0.5, "home_official": 0.9}]
    w = make_world(
        firms,
        akimats={"support_budget": 2.0, "power": 0.6, "corrupt_share": 0.35},
        apply_base=1.0,
        apply_trust=0.0,
        grant=0.01,
        support_compliance=0.25,
        kickback=0.2,
        bargaining_exponent=2.0,
    )
    log = make_log(w, firm={"extracted": [0.01, 0.02]}, region={"bribe_income": [0.5]})
    support.step(w, log, rng())
    grant = 1.0  # both funded: the budget 2 split in two
    share = 0.6**2 / (0.6**2 + 0.5**2)
    kickback = grant * 0.2 * share
    np.testing.assert_allclose(log.firm["support"], [grant * 0.75, grant * 0.75], rtol=0, atol=1e-15)
    # the kickback counts as extracted (on top of the dealings') and as the officials' bribe income
    np.testing.assert_allclose(log.firm["extracted"], [0.01 + kickback, 0.02], rtol=0, atol=1e-15)
    assert np.isclose(log.region["bribe_income"][0], 0.5 + kickback, rtol=0, atol=1e-15)


def test_support_kickback_is_found_as_a_paid_bribe_is():
    """A paid kickback is found with the true detection probability (audits and open data): it counts
    among the official's caught payments and the firm is fined giver_penalty x audit_penalty of its
    output. A detection draw just below the probability finds the kickback of firm 0 (corrupt home
    official) and nothing at firm 1 (honest home official, no kickback); just above, nothing."""
    firms = [{"strength": 0.5, "home_official": 0.1}, {"strength": 0.5, "home_official": 0.9}]
    values = dict(
        akimats={"support_budget": 2.0, "power": 0.6, "corrupt_share": 0.35},
        apply_base=1.0,
        apply_trust=0.0,
        grant=0.01,
        kickback=0.2,
        audit_rate=0.1,
        transparency=0.5,
        transparency_detection=0.4,
        giver_penalty=0.5,
        audit_penalty=2.0,
    )
    d = 1.0 - (1.0 - 0.1) * (1.0 - 0.4 * 0.5)
    for u, found in ((d - EPS, 1.0), (d + EPS, 0.0)):
        w = make_world(firms, **values)
        assert np.isclose(formulas.true_detection(w.params), d, rtol=0, atol=1e-15)
        log = make_log(w, region={"caught": [2.0]})
        log.potential_output = np.array([3.0, 5.0])
        support.step(w, log, Draws(0.0, 0.0, u))
        assert log.region["caught"][0] == 2.0 + found
        np.testing.assert_allclose(log.firm["fines"], [found * 0.5 * 2.0 * 3.0, 0.0], rtol=0, atol=1e-15)


def test_support_rents_go_to_the_akims_network():
    firms = [
        {"client": True},  # a client of its home official
        {"connection": 0.5},  # connected (L >= connected_from)
        {"connection": 0.4},  # not connected enough
        {"connection": 1.0, "alive": False},  # exited
        {"region": 1},
    ]
    w = make_world(
        firms,
        regions="turkestan,zhambyl",
        akimats={"rents": [1.2, 0.8], "support_budget": 0.0},
        connected_from=0.5,
        apply_base=0.0,
        apply_trust=0.0,
    )
    log = make_log(w)
    support.step(w, log, rng())
    # region 0: two members share 1.2; region 1 has no network, its rents reach nobody
    np.testing.assert_allclose(log.firm["support"], [0.6, 0.6, 0.0, 0.0, 0.0], rtol=0, atol=1e-15)


def test_support_captors_share_diversion_by_capital():
    firms = [
        {"captor": True, "capital": 1.0},
        {"captor": True, "capital": 3.0},
        {"captor": True, "capital": 5.0, "alive": False},
        {"capital": 10.0},
    ]
    w = make_world(firms, akimats={"capture_transfer": 2.0, "support_budget": 0.0})
    log = make_log(w)
    support.step(w, log, rng())
    np.testing.assert_allclose(log.firm["capture_income"], [0.5, 1.5, 0.0, 0.0], atol=1e-15)


# --- 5. ppp ---------------------------------------------------------------------------------

PPP = {
    "ppp_bid_exponent": 4.0,
    "ppp_cofinancing": 0.3,
    "ppp_size": 40.0,
    "construction_quarters": 4,
    "construction_delay": 0.0,
    "opportunism": 0.0,
    "reneging": 0.0,
    "jobs_per_cost": 0.5,
    "partner_return": 0.05,
    "operation_quarters": 20,
}


def test_ppp_captor_bidder_wins_and_construction_starts():
    firms = [
        {"strength": 1.0, "productivity": 1.0, "connection": 1.0, "capital": 50.0},  # best merit, connected
        {"strength": 1.0, "productivity": 0.05, "captor": True, "capital": 2.0},
        {"strength": 1.0, "productivity": 0.05, "captor": True, "capital": 3.0},  # the larger captor
        {"strength": 0.0, "captor": True, "capital": 99.0},  # B^4 = 0: never bids
    ]
    w = make_world(firms, akimats={"ppp_fund": 0.0}, quarter=6, **PPP)
    log = make_log(w)
    log.tenders.append((0, 1))
    ppp.step(w, log, rng())
    b = w.projects
    assert len(b) == 1
    # sized to the winner: its equity (0.2 of the private 0.7) is half its capital of 3
    cost = 0.5 * 3.0 / (0.2 * 0.7)
    assert (b.firm[0], b.sector[0], b.phase[0], b.status[0], b.duration[0], b.started[0]) == (
        2,
        1,
        CONSTRUCTION,
        PERFORMING,
        4,
        6,
    )
    assert np.isclose(b.cost[0], cost) and np.isclose(b.equity[0], 1.5)
    assert b.left[0] == 3  # the first quarter of construction is done in the same step
    assert log.region["ppp_started"][0] == 1
    assert np.isclose(w.akimats.ppp_fund[0], 0.3 * (40.0 - cost))  # the co-financing not needed returns
    assert np.isclose(log.region["ppp_private_investment"][0], 0.7 * cost)
    assert np.isclose(log.region["ppp_construction_spending"][0], cost / 4)
    assert np.isclose(log.region["ppp_offbudget"][0], 0.7 * cost / 4)
    assert np.isclose(log.region["ppp_jobs"][0], 0.5 * cost / 4)
    # the partner pays in its equity over construction, not the private share
    np.testing.assert_allclose(log.firm["ppp_outlay"], [0, 0, 1.5 / 4, 0])
    np.testing.assert_array_equal(log.firm["cooperation"], [0, 0, 1, 0])


def test_ppp_bidding_probability_is_strength_to_the_exponent():
    firms = [{"strength": 0.8}, {"strength": 0.8, "productivity": 0.5}]
    w = make_world(firms, akimats={"ppp_fund": 0.0}, **PPP)
    log = make_log(w)
    log.tenders.append((0, 1))
    # firm 0 draws just below 0.8^4, firm 1 (the better merit) just above: only firm 0 bids
    ppp.step(w, log, Draws([0.8**4 - EPS, 0.8**4 + EPS], 0.9, 0.9, 0.9, 0.9))
    assert len(w.projects) == 1 and w.projects.firm[0] == 0


def test_ppp_merit_wins_in_partnership_connections_under_symbiosis():
    firms = [{"strength": 1.0, "productivity": 0.5}, {"strength": 1.0, "productivity": 0.1, "connection": 1.0}]
    # without noise (Gumbel draws 0) the best score wins: theta merit + (1 - theta) w_L L, theta = 1 - s x fav
    for s, winner in ((0.0, 0), (1.0, 1)):
        w = make_world(firms, akimats={"ppp_fund": 0.0, "symbiosis": s}, favouritism=0.8, **PPP)
        log = make_log(w)
        log.tenders.append((0, 1))
        ppp.step(w, log, Draws(0.0, 0.9, 0.9, 0.9, 0.9))  # everyone bids; a conventional contract; no dispute
        assert w.projects.firm[0] == winner, s
    # merits are -1 and 1: at s = 1, 0.2 x 1 against 0.2 x (-1) + 0.8 x 3 x 1; with w_L = 0.3 merit wins again
    w = make_world(firms, akimats={"ppp_fund": 0.0, "symbiosis": 1.0}, favouritism=0.8, connection_weight=0.3, **PPP)
    log = make_log(w)
    log.tenders.append((0, 1))
    ppp.step(w, log, Draws(0.0, 0.9, 0.9, 0.9, 0.9))
    assert w.projects.firm[0] == 0


def test_ppp_a_client_is_favoured_like_a_connected_firm():
    # merits 1 and -1; the client (L = 0, but a client of its home official) scores as L = 1
    firms = [{"strength": 1.0, "productivity": 0.5}, {"strength": 1.0, "productivity": 0.1, "client": True}]
    for s, winner in ((0.0, 0), (1.0, 1)):
        w = make_world(firms, akimats={"ppp_fund": 0.0, "symbiosis": s}, favouritism=0.8, **PPP)
        log = make_log(w)
        log.tenders.append((0, 1))
        ppp.step(w, log, Draws(0.0, 0.9, 0.9, 0.9, 0.9))
        assert w.projects.firm[0] == winner, s


def test_ppp_construction_delay_is_the_partners_approval_wait_not_a_factor_on_s():
    """Construction lasts 4 + Poisson(2 w) quarters, w the share of the full approval delay the
    partner waited on its dealings this quarter (dealings.py): connection and s change nothing
    by themselves; the partner's expedited dealings do."""
    firms = [{"strength": 1.0, "connection": 1.0}]
    for s in (0.0, 0.5, 1.0):
        w = make_world(firms, akimats={"ppp_fund": 0.0, "symbiosis": s}, **(PPP | {"construction_delay": 2.0}))
        log = make_log(w)
        log.firm["dealings"][0], log.firm["delay"][0] = 4.0, 1.0  # a quarter of the full delay per dealing
        log.tenders.append((0, 1))
        r = Recorder()
        ppp.step(w, log, r)
        assert r.args("poisson") == [(2.0 * 0.25,)], s
        assert w.projects.duration[0] == 4 + r.results("poisson")[0]
    # every dealing expedited (paid or accepted): no delay at all, at any s
    w = make_world(firms, akimats={"ppp_fund": 0.0, "symbiosis": 0.0}, **(PPP | {"construction_delay": 2.0}))
    log = make_log(w)
    log.firm["dealings"][0] = 3.0
    log.tenders.append((0, 1))
    ppp.step(w, log, rng())
    assert w.projects.duration[0] == 4
    # a partner without dealings this quarter waits its region's mean; a region without dealings the full delay
    w = make_world(firms + [{"strength": 0.0}], akimats={"ppp_fund": 0.0}, **(PPP | {"construction_delay": 2.0}))
    log = make_log(w)
    log.region["dealings"][0], log.region["delay"][0] = 5.0, 2.0
    log.tenders.append((0, 1))
    r = Recorder()
    ppp.step(w, log, r)
    assert r.args("poisson") == [(2.0 * 0.4,)]
    w = make_world(firms, akimats={"ppp_fund": 0.0}, **(PPP | {"construction_delay": 2.0}))
    log = make_log(w)
    log.tenders.append((0, 1))
    r = Recorder()
    ppp.step(w, log, r)
    assert r.args("poisson") == [(2.0,)]


def test_ppp_tender_without_bidder_returns_cofinancing():
    w = make_world(
        [{"strength": 0.0}, {"strength": 0.9, "formal": False}, {"strength": 0.9, "region": 1}],
        regions="turkestan,zhambyl",
        akimats={"ppp_fund": 1.0},
        **PPP,
    )
    log = make_log(w)
    log.tenders.append((0, 2))
    ppp.step(w, log, rng())
    assert len(w.projects) == 0
    np.testing.assert_allclose(w.akimats.ppp_fund, [1.0 + 0.3 * 40.0, 1.0])
    assert log.region["ppp_started"][0] == 0


def test_ppp_life_cycle_operation_payments_completion_and_exit():
    w = make_world([{}, {}, {"alive": False}], **PPP)
    add_contract(w, firm=0, phase=CONSTRUCTION, left=1, duration=4)  # last construction quarter
    add_contract(w, firm=1, phase=OPERATION, left=5, cost=10.0)  # operating
    add_contract(w, firm=1, phase=OPERATION, left=1, cost=20.0)  # last operating quarter
    add_contract(w, firm=2, phase=OPERATION, left=5)  # partner exited
    log = make_log(w)
    ppp.step(w, log, rng())
    b = w.projects
    np.testing.assert_array_equal(b.phase, [OPERATION, OPERATION, ENDED, ENDED])
    np.testing.assert_array_equal(b.status, [PERFORMING, PERFORMING, COMPLETED, TERMINATED])
    np.testing.assert_array_equal(b.left[:3], [20, 4, 0])
    # availability payments: 5% of the cost a quarter, less the debt service (the private 0.7
    # of the cost less the equity, 0.2 of it, over 20 quarters), to the operating partner
    np.testing.assert_allclose(log.firm["ppp_income"], [0.0, (0.05 - 0.8 * 0.7 / 20) * (10.0 + 20.0), 0.0])
    # the partner pays in its equity, 0.2 x 0.7 x 40, over the 4 quarters of construction
    np.testing.assert_allclose(log.firm["ppp_outlay"], [0.2 * 0.7 * 40.0 / 4, 0.0, 0.0])
    # the exited partner's contract: no firm of the region can carry its equity of 5.6 (half of capital 1), so it ends
    assert b.replacements[3] == 0
    np.testing.assert_array_equal(log.firm["cooperation"], [1, 2, 0])


def test_ppp_disputes_renegotiated_when_certain_and_new_disputes_when_certain():
    w = make_world(
        [{"trust": 1.0}, {"trust": 0.0}],
        legal_quality=1.0,
        consultation=1.0,
        renegotiation=1.0,
        **(PPP | {"reneging": 1.0, "legal_reneging": 0.0, "rent_weight": 0.0, "ppp_training": 0.0}),
    )
    add_contract(w, firm=0, status=DISPUTED)  # renegotiated with probability 1 * (1 + 1)/2 * (1 + 1)/2 = 1
    add_contract(w, firm=1, status=PERFORMING, left=3)  # the akimat reneges with probability 1
    log = make_log(w)
    ppp.step(w, log, rng())
    b = w.projects
    np.testing.assert_array_equal(b.status, [RENEGOTIATED, DISPUTED])
    np.testing.assert_array_equal(log.firm["reneged_on"], [0, 1])
    np.testing.assert_array_equal(log.firm["disputes"], [0, 1])
    # the disputed contract stalls; the renegotiated one moves on
    np.testing.assert_array_equal(b.left, [3, 3])


def test_ppp_partner_equity_is_a_minority_share_of_the_private_finance():
    """Over construction the partner pays in ppp_equity_share of the private finance, a fifth
    at the default; lenders fund the rest. With the share at 1 the partner pays all of it."""
    for share in (0.2, 1.0):
        w = make_world(
            [{"strength": 1.0, "capital": 100.0}], akimats={"ppp_fund": 0.0}, **(PPP | {"ppp_equity_share": share})
        )
        paid = 0.0
        for q in range(4):
            log = make_log(w)
            if q == 0:
                log.tenders.append((0, 1))
            ppp.step(w, log, rng())
            paid += log.firm["ppp_outlay"][0]
        b = w.projects
        assert b.cost[0] == 40.0 and b.phase[0] == OPERATION  # the ceiling binds: capacity 50 carries any equity
        assert np.isclose(b.equity[0], share * 0.7 * 40.0)
        assert np.isclose(paid, share * 0.7 * 40.0, rtol=1e-12)
    assert ppp.equity_per_cost(parameters.resolve({})) < 0.5 * (1 - parameters.defaults()["ppp_cofinancing"])


def test_ppp_project_sized_to_what_its_partner_can_carry():
    """cost = min(ppp_size, ppp_equity_capacity x K / (equity_share x (1 - cofinancing))); the
    co-financing reserved for the part of ppp_size not built returns to the fund."""
    for capital, capacity in ((1.0, 0.5), (2.0, 0.25), (4.0, 0.5), (50.0, 0.5)):
        w = make_world(
            [{"strength": 1.0, "capital": capital}],
            akimats={"ppp_fund": 0.0},
            **(PPP | {"ppp_equity_capacity": capacity}),
        )
        log = make_log(w)
        log.tenders.append((0, 1))
        ppp.step(w, log, rng())
        cost = min(40.0, capacity * capital / (0.2 * 0.7))
        assert np.isclose(w.projects.cost[0], cost, rtol=1e-12), capital
        assert np.isclose(w.projects.equity[0], capacity * capital if cost < 40.0 else 0.2 * 0.7 * 40.0), capital
        assert w.projects.equity[0] <= capacity * capital * (1 + 1e-12)  # never more than the partner can commit
        assert np.isclose(w.akimats.ppp_fund[0], 0.3 * (40.0 - cost), rtol=0, atol=1e-12), capital


def test_ppp_exited_partner_is_replaced_by_a_firm_of_the_region_that_can_carry_the_equity():
    """The partner (row 0) exited in the third quarter of construction. Candidates: formal firms
    of the region that are alive with capacity (half their capital) at least the equity, 5.6.
    Row 1 is too small, row 2 informal, row 3 in another region, rows 4 and 5 qualify; without
    Gumbel noise the better merit (row 5) steps in and buys the stake paid in so far (2 of 4 quarters)."""
    firms = [
        {"alive": False, "capital": 20.0},
        {"capital": 11.0, "productivity": 1.0},  # capacity 5.5 < 5.6
        {"capital": 20.0, "productivity": 1.0, "formal": False},
        {"capital": 20.0, "productivity": 1.0, "region": 1},
        {"capital": 12.0, "productivity": 0.2},
        {"capital": 12.0, "productivity": 0.5},
    ]
    w = make_world(firms, regions="turkestan,zhambyl", **PPP)
    add_contract(w, firm=0, left=2, duration=4)
    log = make_log(w)
    ppp.step(w, log, Draws(0.9, 0.9, 0.9))  # dispute draws only: no dispute
    b = w.projects
    assert b.firm[0] == 5 and b.replacements[0] == 1
    assert b.phase[0] == CONSTRUCTION and b.status[0] == PERFORMING and b.left[0] == 1  # it moves on this quarter
    # the stake paid in (2 of 4 quarters of 5.6) plus this quarter's equity payment
    np.testing.assert_allclose(log.firm["ppp_outlay"], [0, 0, 0, 0, 0, 5.6 * 2 / 4 + 5.6 / 4])
    assert log.firm["cooperation"][5] == 1


def test_ppp_exited_partner_of_an_operating_contract_is_replaced_at_the_whole_equity():
    w = make_world([{"alive": False}, {"capital": 20.0}], **PPP)
    add_contract(w, firm=0, phase=OPERATION, left=10)
    log = make_log(w)
    ppp.step(w, log, Draws(0.9, 0.9, 0.9))
    assert w.projects.firm[0] == 1 and w.projects.phase[0] == OPERATION
    np.testing.assert_allclose(log.firm["ppp_outlay"], [0.0, 0.2 * 0.7 * 40.0])
    np.testing.assert_allclose(log.firm["ppp_income"], [0.0, (0.05 - 0.8 * 0.7 / 20) * 40.0])


def test_ppp_contract_terminated_only_when_no_firm_can_step_in():
    # the same world without a firm able to carry the equity: the contract ends, terminated
    w = make_world([{"alive": False}, {"capital": 11.0}, {"capital": 20.0, "alive": False}], **PPP)
    add_contract(w, firm=0, phase=OPERATION, left=10)
    log = make_log(w)
    ppp.step(w, log, rng())
    assert (w.projects.phase[0], w.projects.status[0], w.projects.firm[0]) == (ENDED, TERMINATED, 0)
    assert not log.firm["ppp_outlay"].any() and not log.firm["ppp_income"].any()


def test_ppp_dispute_that_would_end_the_contract_is_cured_by_the_lenders_step_in():
    """A dispute ends in termination (renegotiation 0, termination 1 at legal quality 0). The
    lenders bring in row 1, which can carry the equity of 5.6: the contract goes on, amended
    (renegotiated), with the new partner, which buys the stake (operating: all of it); the old
    partner's equity is lost. Without such a firm (second world) the contract ends, terminated."""
    values = PPP | {"renegotiation": 0.0, "termination": 1.0, "legal_quality": 0.0}
    w = make_world([{"capital": 1.0}, {"capital": 12.0}], **values)
    add_contract(w, firm=0, phase=OPERATION, left=10, status=DISPUTED)
    log = make_log(w)
    ppp.step(w, log, Draws(0.5, 0.9, 0.9))
    b = w.projects
    assert (b.firm[0], b.status[0], b.phase[0], b.replacements[0]) == (1, RENEGOTIATED, OPERATION, 1)
    np.testing.assert_allclose(log.firm["ppp_outlay"], [0.0, 5.6])
    assert b.left[0] == 9  # it moves on this quarter, and pays its new partner
    np.testing.assert_allclose(log.firm["ppp_income"], [0.0, (0.05 - 0.8 * 0.7 / 20) * 40.0])
    assert not log.firm["disputes"].any()
    w = make_world([{"capital": 1.0}, {"capital": 11.0}], **values)
    add_contract(w, firm=0, phase=OPERATION, left=10, status=DISPUTED)
    log = make_log(w)
    ppp.step(w, log, Draws(0.5, 0.9, 0.9))
    assert (w.projects.firm[0], w.projects.status[0], w.projects.phase[0]) == (0, TERMINATED, ENDED)
    assert not log.firm["ppp_income"].any() and not log.firm["cooperation"].any()


def test_entry_compaction_keeps_the_contract_of_an_exited_partner_for_step_in():
    """After a compaction the contract's partner is -1, and it is still live: the next PPP step
    finds it a partner (row 1 after compaction: the former row 3, capacity 10)."""
    firms = [{"alive": False}, {}, {"alive": False}, {"capital": 20.0}]
    w = make_world(firms, exit_hazard=0.0, **PPP)
    add_contract(w, firm=0, phase=OPERATION, left=10)
    entry.step(w, make_log(w), rng(), rng(1))  # 50% exited: compaction
    assert w.projects.firm[0] == -1 and w.projects.live()[0]
    log = make_log(w)
    ppp.step(w, log, rng())
    assert w.projects.firm[0] == 1 and w.projects.replacements[0] == 1 and w.projects.phase[0] == OPERATION


def test_ppp_partner_income_never_negative_when_payments_do_not_cover_the_debt():
    w = make_world([{}], **(PPP | {"partner_return": 0.01}))
    add_contract(w, firm=0, phase=OPERATION, left=10)
    log = make_log(w)
    ppp.step(w, log, rng())
    assert log.firm["ppp_income"][0] == 0.0  # 0.01 x 40 < 0.56 x 40 / 20: the debt is the project company's


# --- 6. capture -----------------------------------------------------------------------------

CAPTURE = {
    "bargaining_exponent": 2.0,
    "capture_diversion": 0.15,
    "retaliation": 0.1,
    "capture_strength_exponent": 2.0,
    "capture_loss": 0.0,
}


def test_capture_negative_expected_payoff_never_attempts():
    # B = 0.5 against P = 0.6, legal 0.5: pi = 0.25 / 0.61 x 0.5 = 0.205,
    # E = 0.205 x 0.15 - 0.795 x 0.1 x 0.6 < 0, whatever the effort
    w = make_world([{"strength": 0.5}], akimats={"power": 0.6}, capture_effort=1.0, legal_quality=0.5, **CAPTURE)
    pi = 0.25 / 0.61 * 0.5
    assert pi * 0.15 - (1 - pi) * 0.1 * 0.6 < 0
    for seed in range(20):
        log = make_log(w)
        capture.step(w, log, rng(seed))
        assert not w.firms.captor.any() and not log.firm["rule_bending"].any()


def test_capture_negative_expected_payoff_never_attempts_even_with_the_lowest_draws():
    # the world above, with draws 0 for the attempt and the success: no drive, so no attempt
    w = make_world([{"strength": 0.5}], akimats={"power": 0.6}, capture_effort=1.0, legal_quality=0.5, **CAPTURE)
    log = make_log(w)
    capture.step(w, log, Draws(0.5, 0.0, 0.0))  # loss draw, attempt draw, success draw
    assert not w.firms.captor[0] and log.firm["rule_bending"][0] == 0


def test_capture_a_weaker_firm_may_attempt_when_the_payoff_is_positive():
    # B = 0.5 < P = 0.6, but without legal quality and with little retaliation E > 0: no B > P gate
    w = make_world(
        [{"strength": 0.5}],
        akimats={"power": 0.6},
        capture_effort=1.0,
        legal_quality=0.0,
        **(CAPTURE | {"retaliation": 0.01}),
    )
    pi = 0.25 / 0.61
    payoff = pi * 0.15 - (1 - pi) * 0.01 * 0.6
    assert payoff > 0
    attempt = 0.5**2 * (1 - math.exp(-payoff / (0.01 * 0.6)))
    log = make_log(w)
    capture.step(w, log, Draws(0.5, attempt - EPS, pi - EPS))  # loss draw, attempt draw, success draw
    assert w.firms.captor[0] and log.firm["rule_bending"][0] == 1


def test_capture_attempt_probability_and_success():
    # B = 0.9, P = 0.3, legal 0.2: the akimat's side P^2 / (B^2 + P^2) = 0.1, pi = 0.9 x 0.8 = 0.72,
    # risk 0.1 x 0.3, E = 0.72 x 0.15 - 0.28 x 0.03; attempt 0.5 x 0.9^2 x (1 - exp(-E / risk))
    firms = [{"strength": 0.9}] * 4
    w = make_world(firms, akimats={"power": 0.3}, capture_effort=0.5, legal_quality=0.2, **CAPTURE)
    pi = 0.9 * 0.8
    payoff = pi * 0.15 - (1 - pi) * 0.03
    attempt = 0.5 * 0.81 * (1 - math.exp(-payoff / 0.03))
    log = make_log(w)
    draws = Draws(
        0.5,
        [attempt - EPS, attempt + EPS, attempt - EPS, attempt - EPS],
        [pi - EPS, pi - EPS, pi + EPS, pi - EPS],
    )
    capture.step(w, log, draws)
    # firm 0 attempts and succeeds; firm 1 does not attempt; firm 2 attempts and fails; firm 3 as 0
    np.testing.assert_array_equal(w.firms.captor, [True, False, False, True])
    np.testing.assert_array_equal(w.firms.connection, [1.0, 0.0, 0.0, 1.0])  # captors are fully connected


def test_capture_certain_when_strong_firm_faces_no_power():
    w = make_world(
        [{"strength": 1.0, "connection": 0.2}, {"strength": 1.0, "formal": False}],
        akimats={"power": 0.0},
        capture_effort=1.0,
        legal_quality=0.0,
        **CAPTURE,
    )
    log = make_log(w)
    capture.step(w, log, rng())
    # pi = 1 x (1 - 0) = 1, E = 0.15 against a vanishing risk: attempt 1 x 1^2 x 1; informal firms do not try
    np.testing.assert_array_equal(w.firms.captor, [True, False])
    np.testing.assert_array_equal(log.firm["rule_bending"], [1, 0])
    assert w.firms.connection[0] == 1.0


def test_capture_never_attempted_under_full_legal_quality():
    w = make_world([{"strength": 1.0}] * 3, akimats={"power": 0.0}, capture_effort=1.0, legal_quality=1.0)
    for seed in range(20):
        capture.step(w, make_log(w), rng(seed))
    assert not w.firms.captor.any()


def test_capture_loss_is_smooth():
    # a captor weaker than its akimat keeps the capture unless the loss draw says otherwise:
    # loss = capture_loss (1 + legal_capture_loss x legal) x 2 P^2 / (B^2 + P^2)
    firms = [{"captor": True, "strength": 0.5}] * 2 + [{"captor": True, "strength": 0.9, "alive": False}]
    w = make_world(
        firms,
        akimats={"power": 0.6},
        capture_effort=0.0,
        legal_quality=0.5,
        **(CAPTURE | {"capture_loss": 0.1, "legal_capture_loss": 2.0}),
    )
    loss = 0.1 * (1 + 2.0 * 0.5) * 2 * 0.36 / (0.25 + 0.36)
    log = make_log(w)
    capture.step(w, log, Draws([loss - EPS, loss + EPS, 0.99], 0.99, 0.99))
    np.testing.assert_array_equal(w.firms.captor, [False, True, False])  # the exited captor's capture ends
    np.testing.assert_array_equal(log.firm["rule_bending"], [0, 1, 0])
    # without a loss rate only exit ends a capture, however weak the captor
    w = make_world(firms, akimats={"power": 0.99}, capture_effort=0.0, **CAPTURE)
    capture.step(w, make_log(w), rng())
    np.testing.assert_array_equal(w.firms.captor, [True, True, False])


# --- 7. economy -----------------------------------------------------------------------------


def _economy_log(world, **firm):
    log = make_log(world, firm=firm)
    log.potential_output = world.potential_output()
    return log


def test_economy_profit_investment_and_capital():
    w = make_world(
        [{"productivity": 0.2, "capital": 1.0, "trust": 0.6, "strength": 0.5}],
        akimats={"power": 0.6},
        output_shock=0.0,
        labour_share=0.5,
        tax_rate=0.12,
        tax_benefit=0.3,
        dispute_loss=0.05,
        fixed_cost=0.01,
        reinvestment=0.5,
        trust_investment_floor=0.5,
        legal_quality=0.5,
        depreciation=0.02,
        informality_rate=0.0,
        bargaining_exponent=2.0,
        capital_elasticity=0.9,
        exit_hazard=0.0,
    )
    log = _economy_log(
        w,
        extracted=0.01,
        fines=0.002,
        disputes=1.0,
        support=0.05,
        ppp_income=0.02,
        capture_income=0.03,
        ppp_outlay=0.05,
        dealings=4.0,
        demands=1.0,
    )
    economy.step(w, log, rng())
    y = 0.2  # A K^alpha with K = 1, no shock
    tax = 0.12 * y * (1 - 0.3)  # supported this quarter: the tax benefit
    profit = 0.5 * y - tax - 0.01 - 0.002 - 0.05 * 1 * y - 0.01 + 0.05 + 0.02 + 0.03
    s = 0.6**2 / (0.6**2 + 0.5**2)
    risk = s * (1 - 0.5) * (1 / 4)
    invest = 0.5 * profit * (0.5 + 0.5 * 0.6) * (1 - risk)
    capital = 0.98 * 1.0 + invest - 0.05
    f = w.firms
    assert np.isclose(log.firm["output"][0], y, rtol=0, atol=1e-15)
    assert np.isclose(f.profit[0], profit, rtol=0, atol=1e-15)
    assert np.isclose(f.capital[0], capital, rtol=0, atol=1e-15)
    assert np.isclose(log.region["fixed_investment"][0], invest, rtol=0, atol=1e-15)
    assert np.isclose(w.akimats.tax_revenue[0], tax, rtol=0, atol=1e-15)
    assert np.isclose(f.strength[0], 1 / (1 + (1 / capital) ** 0.8), rtol=0, atol=1e-14)  # B refreshed
    assert f.age[0] == 31 and f.loss_streak[0] == 0 and f.alive[0] and f.formal[0]


def test_economy_exit_after_losses_and_below_min_capital():
    firms = [
        {"productivity": 0.01, "loss_streak": 3},  # a 4th loss: exits
        {"productivity": 0.5, "capital": 0.1},  # capital below min_capital
        {"productivity": 0.01, "loss_streak": 1},  # a 2nd loss: stays
        {"productivity": 0.5, "loss_streak": 2},  # profit: the streak resets
        {"alive": False, "age": 7},
    ]
    w = make_world(
        firms,
        output_shock=0.0,
        fixed_cost=0.05,
        exit_losses=4,
        min_capital=0.5,
        informality_rate=0.0,
        exit_hazard=0.0,
        capital_elasticity=0.9,
        labour_share=0.5,
        tax_rate=0.12,
    )
    log = _economy_log(w)
    economy.step(w, log, rng())
    f = w.firms
    np.testing.assert_array_equal(log.exited, [0, 1])
    np.testing.assert_array_equal(f.alive, [False, False, True, True, False])
    np.testing.assert_array_equal(f.capital[:2], [0.0, 0.0])
    np.testing.assert_array_equal(f.loss_streak, [4, 1, 2, 0, 0])
    np.testing.assert_array_equal(f.age, [31, 31, 31, 31, 7])
    assert log.region["exits"][0] == 2
    assert f.profit[4] == 0.0  # an exited row makes no profit


def test_economy_informality_switch_with_tax_morale():
    firms = [{"satisfaction": 0.0}, {"satisfaction": 1.0}, {"formal": False}, {"formal": False, "satisfaction": -1.0}]
    w = make_world(
        firms,
        output_shock=0.0,
        informality_rate=1.0,
        informality_burden=0.25,
        tax_morale=0.5,
        tax_rate=0.12,
        exit_hazard=0.0,
    )
    y = 0.12  # A = 0.12, K = 1
    log = _economy_log(w, extracted=[0.2 * y, 0.2 * y, 0.0, 0.2 * y])
    economy.step(w, log, rng())
    # burden 0.32 > 0.25: informal; 0.32 <= 0.25 * 1.5: stays; 0.12 <= 0.25: back; 0.32 > 0.25 * 0.5: stays informal
    np.testing.assert_array_equal(w.firms.formal, [False, True, True, False])
    # taxes of the quarter were paid by the firms formal at the start of it
    assert np.isclose(w.akimats.tax_revenue[0], 2 * 0.12 * y, rtol=0, atol=1e-15)


def test_economy_no_switch_when_rate_zero():
    w = make_world([{}], output_shock=0.0, informality_rate=0.0, exit_hazard=0.0)
    log = _economy_log(w, extracted=[0.5])
    economy.step(w, log, rng())
    assert w.firms.formal[0] and w.firms.alive[0]


def test_economy_exit_hazard_one_everybody_exits():
    firms = [{"productivity": 0.5, "capital": 10.0}, {}, {"formal": False}, {"alive": False, "age": 7}]
    w = make_world(firms, output_shock=0.0, informality_rate=0.0, min_capital=0.01)
    w.params["exit_hazard"] = 1.0  # beyond the registry's range (0.5), to test the limiting case
    log = _economy_log(w)
    economy.step(w, log, rng())
    # profitable, large firms leave too: exits for reasons outside the model
    np.testing.assert_array_equal(log.exited, [0, 1, 2])
    np.testing.assert_array_equal(w.firms.alive, [False, False, False, False])
    np.testing.assert_array_equal(w.firms.capital[:3], [0.0, 0.0, 0.0])
    assert log.region["exits"][0] == 3
    np.testing.assert_array_equal(w.firms.age, [31, 31, 31, 7])


def test_economy_exit_hazard_draw():
    w = make_world([{}, {}], output_shock=0.0, informality_rate=0.0, exit_hazard=0.3, min_capital=0.01)
    log = _economy_log(w)
    economy.step(w, log, Draws(0.5, [0.3 - EPS, 0.3 + EPS]))  # the informality draw, then the exit draw
    np.testing.assert_array_equal(log.exited, [0])


def test_economy_exit_hazard_falls_with_size_and_age():
    """Four firms of one region: small and young, large and young, small and old, large and old.
    Each one's hazard is 1 - (1 - h)^(w / mean w), w = jobs^-0.2 (1 + age in years)^-0.3, worked
    out here from the ODD's formula (7.7); a draw just below a firm's own hazard exits it and
    one just above does not. The large old firm's hazard is the lowest and the small young
    one's the highest, and the region's mean hazard stays about h."""
    shape = {"productivity": 0.5, "capital": 1.0}
    firms = [
        shape | {"capital": 0.2, "age": 0},
        shape | {"capital": 400.0, "age": 0},
        shape | {"capital": 0.2, "age": 80},
        shape | {"capital": 400.0, "age": 80},
    ]
    w = make_world(
        firms,
        output_shock=0.0,
        informality_rate=0.0,
        min_capital=0.01,
        exit_hazard=0.1,
        exit_size_elasticity=0.2,
        exit_age_elasticity=0.3,
        jobs_per_capital=3.0,
        jobs_elasticity=0.8,
    )
    jobs = 1.0 + 3.0 * np.array([0.2, 400.0, 0.2, 400.0]) ** 0.8
    years = np.array([0.0, 0.0, 20.0, 20.0])
    weight = jobs**-0.2 * (1.0 + years) ** -0.3
    expected = 1.0 - 0.9 ** (weight / weight.mean())
    f = w.firms
    got = formulas.exit_hazard(f.capital, f.age, f.region, f.alive, w.params, 1)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[0] > got[1] > got[3] and got[0] > got[2] > got[3]
    assert got[0] / got[3] > 3  # about 4 x: 0.2 -> 400 capital and 0 -> 20 years
    assert abs(got.mean() - 0.1) < 0.01  # about h (proportional hazards, not exactly)
    log = _economy_log(w)
    draws = np.where([True, False, True, False], expected - EPS, expected + EPS)
    economy.step(w, log, Draws(0.5, draws))  # the informality draw, then the exit draw
    np.testing.assert_array_equal(log.exited, [0, 2])


def test_exit_hazard_means_are_per_region_and_ignore_exited_rows():
    """Region 0's two firms share its mean; region 1's lone firm has exactly 1 - (1 - h)^1,
    whatever its size; an exited row's weight is not in any mean. With both elasticities 0
    every firm has the constant hazard."""
    firms = [
        {"capital": 0.5, "age": 4},
        {"capital": 50.0, "age": 40},
        {"region": 1, "capital": 9.0, "age": 100},
        {"capital": 1000.0, "alive": False},
    ]
    w = make_world(firms, regions="turkestan,zhambyl", exit_hazard=0.2)
    f = w.firms
    got = formulas.exit_hazard(f.capital, f.age, f.region, f.alive, w.params, 2)
    assert got[2] == pytest.approx(0.2, rel=1e-12)
    weight = (
        formulas.jobs(np.array([0.5, 50.0]), w.params) ** -w.params["exit_size_elasticity"]
        * (1.0 + np.array([1.0, 10.0])) ** -w.params["exit_age_elasticity"]
    )
    np.testing.assert_allclose(got[:2], 1.0 - 0.8 ** (weight / weight.mean()), rtol=1e-12)
    flat = dict(w.params, exit_size_elasticity=0.0, exit_age_elasticity=0.0)
    np.testing.assert_allclose(formulas.exit_hazard(f.capital, f.age, f.region, f.alive, flat, 2), 0.2, rtol=1e-12)


def test_entry_productivity_has_the_pareto_tail():
    """Thousands of entrants with no lognormal spread: productivity / level is the Pareto factor
    exp((E - ln 2) / zeta_A), median 1, never below 2^(-1/zeta_A), and its Hill exponent on the
    top 400 is the entrants' zeta_A = (1.06 + 0.2) x 0.8 / 0.5 = 2.02 (the stock's exponent plus
    the exit hazard's size elasticity; standard error zeta / sqrt(400) = 0.10; the band is +-4 of
    them). A model without the tail (a lognormal or a constant) fails both."""
    w = make_world(
        [{}],
        akimats={"firms_initial": 8000.0, "productivity_level": 0.24},
        exit_hazard=0.5,
        productivity=0.24,
        productivity_dispersion=0.0,
        capital_elasticity=0.5,
        jobs_elasticity=0.8,
        size_tail_exponent=1.06,
        exit_size_elasticity=0.2,
    )
    log = make_log(w)
    entry.step(w, log, rng(2), rng(3))
    factor = w.firms.productivity[log.entered] / 0.24
    assert factor.size > 3000
    zeta = (1.06 + 0.2) * 0.8 / 0.5
    assert factor.min() >= 2 ** (-1 / zeta) * (1 - 1e-12)
    assert abs(np.median(factor) - 1.0) < 0.06
    top = np.sort(factor)[::-1][:401]
    hill = 1.0 / np.mean(np.log(top[:400] / top[400]))
    assert abs(hill - zeta) < 4 * zeta / 20


# --- 8. trust -------------------------------------------------------------------------------

TRUST = {
    "consultation": 0.0,
    "trust_rate": 0.2,
    "satisfaction_rate": 0.25,
    "word_of_mouth": 0.1,
    "experience_scale": 20.0,
    "dispute_loss": 0.05,
}


def test_trust_satisfaction_and_word_of_mouth():
    firms = [
        {"trust": 0.5, "satisfaction": 0.0},
        {"trust": 0.5, "satisfaction": 0.4},
        {"trust": 0.5, "satisfaction": 0.2},
        {"alive": False, "trust": 0.3, "satisfaction": 0.9},
    ]
    w = make_world(firms, ties=[(0, 1), (1, 3)], **TRUST)
    w.firms.memory("experience")[0, 2] = 0.01
    w.firms.memory("output")[0, 2] = 0.1
    log = make_log(
        w,
        firm={
            "dealings": [4, 0, 0, 0],
            "demands": [1, 0, 0, 0],
            "reneged_on": [0, 1, 0, 0],
            "output": [0.2, 0.2, 0.1, 0.0],
            "support": [0.02, 0, 0, 0],
            "extracted": [0.01, 0, 0, 0],
            "fines": [0, 0.02, 0, 0],
            "disputes": [0, 1, 0, 0],
        },
    )
    trust.step(w, log, rng())
    f = w.firms
    # trust: h = 1 - 1/4; h = 1 - 0 - 1 (reneged); h = 1 (no dealings); an exited firm keeps its trust
    np.testing.assert_allclose(f.trust, [0.8 * 0.5 + 0.2 * 0.75, 0.8 * 0.5, 0.8 * 0.5 + 0.2, 0.3], atol=1e-15)
    # experience: firm 0 gains 0.02 - 0.01 on output 0.2; firm 1 loses 0.02 + 0.05 * 0.2;
    # firm 2 remembers 0.01 on 0.1 + 0.1
    np.testing.assert_allclose(log.firm["experience"], [0.01, -0.03, 0.0, 0.0], atol=1e-15)
    s0 = 0.75 * 0.0 + 0.25 * math.tanh(20 * 0.01 / 0.2)
    s1 = 0.75 * 0.4 + 0.25 * math.tanh(20 * -0.03 / 0.2)
    s2 = 0.75 * 0.2 + 0.25 * math.tanh(20 * 0.01 / 0.2)
    # word of mouth: 0 and 1 hear each other (the exited firm 3 is not heard); 2 has no ties
    expected = [0.9 * s0 + 0.1 * s1, 0.9 * s1 + 0.1 * s0, s2, 0.0]
    np.testing.assert_allclose(f.satisfaction, expected, atol=1e-14)


def test_trust_consultation_participation_probability():
    # take part with probability consultation x (B + member (1 - B))
    firms = [{"strength": 0.4}, {"strength": 0.4}, {"strength": 0.4, "member": True}, {"strength": 0.4, "member": True}]
    w = make_world(firms, **(TRUST | {"consultation": 0.5}))
    log = make_log(w, firm={"output": [0.2] * 4, "cooperation": [1, 0, 0, 0]})
    p_alone, p_member = 0.5 * 0.4, 0.5 * (0.4 + 0.6)
    trust.step(w, log, Draws([p_alone - EPS, p_alone + EPS, p_member - EPS, p_member + EPS]))
    np.testing.assert_array_equal(log.firm["consulted"], [1, 0, 1, 0])
    np.testing.assert_array_equal(log.firm["cooperation"], [2, 0, 1, 0])  # taking part counts as cooperation
    assert not log.firm["experience"].any()  # a voice has no value of its own in the experience


def test_trust_consultation_certain_for_the_strongest():
    firms = [{"strength": 1.0}, {"strength": 0.0}, {"strength": 0.0, "member": True}, {"strength": 1.0, "alive": False}]
    w = make_world(firms, **(TRUST | {"consultation": 1.0}))
    log = make_log(w, firm={"output": [0.2, 0.2, 0.2, 0.0]})
    trust.step(w, log, rng())
    np.testing.assert_array_equal(log.firm["consulted"], [1, 0, 1, 0])


# --- 9. tournament --------------------------------------------------------------------------


def _kpis(value, jobs=1.0):
    """One quarter's KPI dict: every KPI equal to ``value`` (per region)."""
    out = {name: np.array(value, dtype=float) for name in KPI_NAMES}
    out["jobs"] = np.broadcast_to(np.asarray(jobs, dtype=float), out[KPI_NAMES[0]].shape).copy()
    return out


def _history_world(monkeypatch, growth, quarter=1, **kwargs):
    """A world whose KPI history holds 4 quarters at 1, then 3 at 1 + growth; the tournament's
    own measurement (stubbed) adds the 8th at 1 + growth. Flows and stocks then grow by ``growth``."""
    w = make_world(quarter=quarter, **kwargs)
    g = np.asarray(growth, dtype=float)
    for _ in range(4):
        w.kpi_history.append(_kpis(np.ones_like(g)))
    for _ in range(3):
        w.kpi_history.append(_kpis(1.0 + g))
    monkeypatch.setattr(tournament, "measure", lambda world, log: _kpis(1.0 + g))
    return w


def test_tournament_ranks_and_power_drift(monkeypatch):
    w = _history_world(
        monkeypatch,
        [0.1, 0.2, 0.3],
        regions=THREE,
        firms=[{"region": 1, "captor": True}],
        akimats={"power": 0.5, "structural_power": [0.6, 0.5, 0.4]},
        power_learning=0.04,
        power_anchor=0.05,
        symbiosis_step=0.0,
    )
    tournament.step(w, make_log(w), rng())
    np.testing.assert_allclose(w.akimats.score, [0.0, 0.5, 1.0], atol=1e-15)
    expected = [
        0.5 + 0.04 * -0.5 + 0.05 * 0.1,  # worst, pulled up toward P0 = 0.6
        0.5,  # middle (a capture costs the akim no power of its own)
        0.5 + 0.04 * 0.5 + 0.05 * -0.1,  # best, pulled down toward P0 = 0.4
    ]
    np.testing.assert_allclose(w.akimats.power, expected, atol=1e-15)
    np.testing.assert_array_equal(w.akimats.symbiosis, [0.0, 0.0, 0.0])  # no drift
    assert len(w.kpi_history) == 8 and not w.akimats.replacements.any()


def test_tournament_symbiosis_choice_moves_s_by_one_step_at_most(monkeypatch):
    """With the choice on (7.9; the rule's own tests are in test_akim_choice.py) every akim ends
    on s - step, s or s + step, within [0, 1], and the league table of the quarter is recorded."""
    w = _history_world(
        monkeypatch,
        [0.1, 0.2, 0.3],
        regions=THREE,
        akimats={"power": 0.5, "symbiosis": [0.95, 0.5, 0.0]},
        symbiosis_step=0.1,
    )
    before = w.akimats.symbiosis.copy()
    tournament.step(w, make_log(w), rng())
    after = w.akimats.symbiosis
    assert np.all(np.isclose(np.abs(after - before), 0.1) | (after == before) | (after == 1.0) | (after == 0.0))
    assert np.all((after >= 0.0) & (after <= 1.0))
    assert len(w.league_history) == 1
    np.testing.assert_array_equal(w.league_history[0][0], before)
    np.testing.assert_allclose(w.league_history[0][1], [0.0, 0.5, 1.0], atol=1e-15)


def test_tournament_single_region_logistic_score(monkeypatch):
    w = _history_world(
        monkeypatch, [0.05], akimats={"power": 0.5}, growth_scale=0.05, power_learning=0.04, power_anchor=0.05
    )
    tournament.step(w, make_log(w), rng())
    score = 1 / (1 + math.exp(-1.0))  # logistic(0.05 / 0.05) for every KPI
    assert np.isclose(w.akimats.score[0], score, rtol=0, atol=1e-15)
    assert np.isclose(w.akimats.power[0], 0.5 + 0.04 * (score - 0.5), rtol=0, atol=1e-15)


def test_tournament_needs_eight_quarters():
    w = make_world(akimats={"power": 0.5, "score": 0.5})
    log = make_log(w)
    log.potential_output = w.potential_output()
    tournament.step(w, log, rng())
    assert len(w.kpi_history) == 1 and w.akimats.power[0] == 0.5 and w.akimats.score[0] == 0.5


def test_tournament_annual_replacement(monkeypatch):
    firms = [{"region": 0, "captor": True}, {"region": 1, "captor": True}]
    w = _history_world(
        monkeypatch,
        [0.1, 0.2, 0.3],
        quarter=3,
        regions=THREE,
        firms=firms,
        akimats={"power": 0.3, "structural_power": 0.6, "corrupt_share": 0.55},
        replacement_probability=1.0,
        replacement_quantile=0.2,
        power_spread=0.0,
        corruption_initial=0.35,
        power_learning=0.04,
        power_anchor=0.05,
    )
    tournament.step(w, make_log(w), rng())
    a = w.akimats
    # only the bottom region (score 0 <= the 20% quantile 0.2) is replaced: P = P0 + 0 * noise
    np.testing.assert_array_equal(a.replacements, [1, 0, 0])
    assert a.power[0] == 0.6
    # the others move as in the tournament: P + 0.04 (score - 1/2) + 0.05 (0.6 - P)
    np.testing.assert_allclose(a.power[1:], [0.3 + 0.05 * 0.3, 0.3 + 0.04 * 0.5 + 0.05 * 0.3], atol=1e-15)
    # the officials stay: a new akim does not reset the corrupt share (nor does corruption_initial)
    np.testing.assert_array_equal(a.corrupt_share, [0.55, 0.55, 0.55])
    np.testing.assert_array_equal(w.firms.captor, [False, True])


def test_tournament_no_replacement_outside_annual_quarter(monkeypatch):
    w = _history_world(monkeypatch, [0.1, 0.2, 0.3], quarter=2, regions=THREE, replacement_probability=1.0)
    tournament.step(w, make_log(w), rng())
    assert not w.akimats.replacements.any()


def test_tournament_tied_growth_ties_in_score(monkeypatch):
    w = _history_world(monkeypatch, [0.1, 0.1, 0.1], regions=THREE)
    tournament.step(w, make_log(w), rng())
    np.testing.assert_allclose(w.akimats.score, [0.5, 0.5, 0.5])


# --- 10. utilities --------------------------------------------------------------------------


def test_utilities_quality_update():
    w = make_world(
        [{}, {"region": 1}],
        regions="turkestan,zhambyl",
        akimats={
            "maintenance": [0.3, 3.0],
            "maintenance_reference": [0.6, 1.0],
            "utility_quality": [[0.5, 0.6, 0.7, 0.8], [0.6, 0.6, 0.6, 0.6]],
        },
        utility_quality=0.6,
        utility_depreciation=0.02,
        ppp_quality_lift=0.005,
        lifecycle_effect=0.5,
        maintenance_cap=1.5,
    )
    add_contract(w, sector=0, phase=OPERATION, lifecycle=True)  # lifts heat by 1 + 0.5
    add_contract(w, sector=1, phase=OPERATION, status=DISPUTED)  # disputed: no lift
    add_contract(w, sector=2, phase=CONSTRUCTION)  # not yet operating
    add_contract(w, sector=4, phase=OPERATION)  # social: not a utility
    w.kpi_history.append(_kpis([100.0, 100.0]))
    utilities.step(w, make_log(w), rng())
    q = np.array([0.5, 0.6, 0.7, 0.8])
    # sustained quality per utility from its network's wear (data/utilities.toml: heat 0.53,
    # water 0.49, power 0.65, gas 0.19; mean 0.465): 1 - level = (1 - 0.6) x wear / mean wear
    level = 1.0 - 0.4 * np.array([0.53, 0.49, 0.65, 0.19]) / 0.465
    q0 = q + 0.02 * (level * 0.5 - q) + 0.005 * np.array([1.5, 0, 0, 0]) * (1 - q)  # m = 0.3 / 0.6
    q1 = 0.6 + 0.02 * (level * 1.5 - 0.6)  # m = 3 / 1 capped at 1.5
    np.testing.assert_allclose(w.akimats.utility_quality, [q0, q1], atol=1e-12)


def test_utilities_residents_latent_without_noise():
    firms = [{}, {}, {"region": 1}]
    w = make_world(
        firms,
        regions="turkestan,zhambyl",
        akimats={"utility_quality": 0.6},
        residents={
            "region": [0, 0, 1],
            "cohort": [0, 3, 1],
            "taste": [5.0, -5.0, 5.0],
            "utility_taste": np.full((3, 4), 5.0),
        },
        resident_noise=0.0,
        utility_depreciation=0.0,
        services_signal=3.0,
        wage_signal=2.0,
        jobs_signal=2.0,
        corruption_signal=2.0,
        corruption_reference=0.3,
        utility_scale=4.0,
        resident_contact=0.0,
    )
    w.firms.memory("demands")[2, 2] = 1.0  # region 1's firm met a demand earlier this year
    w.kpi_history.append(_kpis([110.0, 95.0]))
    log = make_log(w, firm={"demands": [1, 0, 0]})
    utilities.step(w, log, rng())
    services = 3.0 * (0.6 - 0.5)
    economy_ = [0.0, 0.0]  # no wage or job growth before 5 quarters of KPIs (the wage index's level does not count)
    corruption = [-2.0 * (0.5 - 0.3), -2.0 * (1.0 - 0.3)]  # incidence 1/2 and 1/1
    ws, we = (0.8, 1.0, 1.1, 1.2), (1.2, 1.1, 0.9, 0.8)
    expected = [
        ws[0] * services + we[0] * economy_[0] + corruption[0],
        ws[3] * services + we[3] * economy_[0] + corruption[0],
        ws[1] * services + we[1] * economy_[1] + corruption[1],
    ]
    np.testing.assert_allclose(w.residents.authority, expected, atol=1e-14)
    # a utility met at the expected quality: the disposition alone (the domains' signal)
    np.testing.assert_allclose(w.residents.utilities, np.repeat(np.array(expected)[:, None], 4, axis=1), atol=1e-14)
    # a later quarter smooths: 0.75 old + 0.25 new
    w.quarter = 1
    w.residents.authority[:] = 1.0
    utilities.step(w, log, rng())
    np.testing.assert_allclose(w.residents.authority, 0.75 + 0.25 * np.array(expected), atol=1e-14)


def _economy_only_world():
    """One resident (cohort 40-49: economy weight 0.9) whose disposition is the economy's signal alone."""
    return make_world(
        akimats={"utility_quality": 0.5},
        resident_noise=0.0,
        utility_depreciation=0.0,
        jobs_signal=2.0,
        wage_signal=2.0,
        corruption_signal=0.0,
        resident_contact=0.0,
        residents={"region": [0], "cohort": [2]},
    )


def test_utilities_residents_job_growth_after_five_quarters():
    w = _economy_only_world()
    w.kpi_history.append(_kpis([100.0], jobs=[10.0]))
    for _ in range(3):
        w.kpi_history.append(_kpis([100.0], jobs=[11.0]))
    w.kpi_history.append(_kpis([100.0], jobs=[12.0]))
    utilities.step(w, make_log(w), rng())
    assert np.isclose(w.residents.authority[0], 0.9 * 2.0 * (12.0 - 10.0) / 10.0, rtol=0, atol=1e-14)


def test_utilities_residents_wage_growth_over_a_year_not_the_index_level():
    # residents feel real wages against a year before: an index far from 100 that has held for a
    # year is no signal, a 10% rise over the last 4 quarters is wage_signal x 0.1 (cohort weight 0.9)
    w = _economy_only_world()
    for _ in range(5):
        w.kpi_history.append(_kpis([40.0], jobs=[10.0]))
    utilities.step(w, make_log(w), rng())
    assert w.residents.authority[0] == 0.0
    w.kpi_history.append(_kpis([44.0], jobs=[10.0]))
    utilities.step(w, make_log(w), rng())
    assert np.isclose(w.residents.authority[0], 0.9 * 2.0 * (44.0 - 40.0) / 40.0, rtol=0, atol=1e-14)


def test_utilities_residents_personal_exposure():
    # three residents in a region with c = 0.5 and contact 0.4: each meets a demand with
    # probability 0.2, and one who did holds it against the authorities (- corruption_signal)
    w = make_world(
        akimats={"utility_quality": 0.5, "corrupt_share": 0.5},
        residents={"region": [0, 0, 0], "cohort": [2, 2, 2]},
        resident_noise=1.0,
        utility_depreciation=0.0,
        wage_signal=2.0,
        jobs_signal=2.0,
        corruption_signal=2.0,
        corruption_reference=0.0,
        resident_contact=0.4,
    )
    w.kpi_history.append(_kpis([100.0]))
    utilities.step(w, make_log(w), Draws([0.2 - EPS, 0.2 + EPS, 0.9]))  # normal draws are 0
    # no firm met a demand: incidence 0, the regional signal is 0; tastes are 0
    np.testing.assert_allclose(w.residents.authority, [-2.0, 0.0, 0.0], rtol=0, atol=1e-15)
    # without noise: everybody meets a corrupt official at c = 1 and contact 1, nobody at c = 0
    w.params["resident_noise"] = 0.0
    w.params["resident_contact"] = 1.0
    for c, expected in ((1.0, -2.0), (0.0, 0.0)):
        w.akimats.corrupt_share[:] = c
        utilities.step(w, make_log(w), rng())
        np.testing.assert_allclose(w.residents.authority, expected, rtol=0, atol=1e-15)


# --- 12. entry ------------------------------------------------------------------------------


def test_entry_zero_hazard_nobody_enters():
    w = make_world([{}, {}, {}, {}, {"alive": False}], exit_hazard=0.0)  # 1 of 5 rows exited: 20%, no compaction
    log = make_log(w)
    entry.step(w, log, rng(), rng(1))
    assert w.firms.n == 5 and log.entered.size == 0 and log.compaction is None
    np.testing.assert_array_equal(w.entries_last, [0.0])
    np.testing.assert_array_equal(w.entrant_capital_last, [0.0])


def test_entry_entrants_take_regions_mean_trust():
    firms = (
        [{"region": 0, "trust": t} for t in (0.2, 0.6) * 3]
        + [{"region": 0, "trust": 1.0, "alive": False}]
        + [{"region": 1, "trust": t} for t in (0.9, 0.7) * 3]
    )
    w = make_world(
        firms,
        regions="turkestan,zhambyl",
        exit_hazard=0.5,
        firm_ties=6,
        audit_rate=0.04,
        transparency=0.7,
        transparency_detection=0.15,
    )
    n0 = w.firms.n
    log = make_log(w)
    entry.step(w, log, rng(3), rng(4))
    f = w.firms
    rows = log.entered
    assert rows.size > 0 and set(f.region[rows]) == {0, 1}  # this seed brings entrants to both regions
    np.testing.assert_array_equal(rows, np.arange(n0, f.n))
    np.testing.assert_allclose(f.trust[rows], np.where(f.region[rows] == 0, 0.4, 0.8), atol=1e-15)
    assert f.alive[rows].all() and f.formal[rows].all() and not f.captor[rows].any() and not f.age[rows].any()
    assert not f.client[rows].any() and ((f.home_official[rows] >= 0) & (f.home_official[rows] < 1)).all()
    np.testing.assert_allclose(f.perceived_detection[rows], 1 - 0.96 * (1 - 0.15 * 0.7), atol=1e-15)
    np.testing.assert_allclose(
        f.strength[rows], np.minimum(1.0, 1 / (1 + (1 / f.capital[rows]) ** 0.8) + 0.15 * f.member[rows]), atol=1e-14
    )
    np.testing.assert_array_equal(w.entries_last, np.bincount(f.region[rows], minlength=2))
    np.testing.assert_allclose(
        w.entrant_capital_last, np.bincount(f.region[rows], weights=f.capital[rows], minlength=2)
    )
    # each entrant ties to incumbents in business of its own region
    a = w.ties.matrix(f.n).tocoo()
    for i, j in zip(a.row, a.col):
        if i in rows and j < n0:
            assert f.region[i] == f.region[j] and f.alive[j]
    assert all(w.ties.matrix(f.n)[r, :n0].sum() >= 1 for r in rows)


def test_entry_expected_entrants():
    # region 0: trust 0.2 and 0.6 (mean 0.4), one of the two met a demand in the last year
    # (incidence 1/2); region 1: nobody in business (trust 1/2 assumed, incidence 0)
    firms = [{"trust": 0.2}, {"trust": 0.6}, {"region": 1, "alive": False}]
    w = make_world(
        firms,
        regions="turkestan,zhambyl",
        akimats={"firms_initial": [10.0, 4.0]},
        memory={"demands": [1.0, 0.0, 0.0]},
        exit_hazard=0.1,
        climate_trust_base=0.5,
        climate_corruption=0.5,
    )
    r = Recorder()
    entry.step(w, make_log(w), r, rng(1))
    # exit_hazard x firms at the start x climate / neutral (0.5 + 1/2)
    climate = np.array([(0.5 + 0.4) * (1 - 0.5 * 0.5), (0.5 + 0.5) * 1.0])
    np.testing.assert_allclose(r.args("poisson")[0][0], 0.1 * np.array([10.0, 4.0]) * climate / 1.0, rtol=0, atol=1e-15)


def test_entry_entrants_capital_and_productivity_follow_the_regions_level():
    # productivity level 0.24 against the economy's 0.12, alpha 1/2: wealth (0.24 / 0.12)^2 = 4
    w = make_world(
        [{}],
        akimats={"firms_initial": 100.0, "productivity_level": 0.24},
        exit_hazard=0.5,
        productivity=0.12,
        productivity_dispersion=0.0,
        capital_elasticity=0.5,
        entrant_capital=0.3,
        entrant_dispersion=0.0,
        connected_share=0.0,
        jobs_elasticity=0.0,  # staff do not grow with capital: no Pareto factor (test_entry_productivity_tail)
    )
    log = make_log(w)
    entry.step(w, log, rng(2), rng(3))
    rows = log.entered
    assert rows.size > 0
    np.testing.assert_allclose(w.firms.capital[rows], 0.3 * 4.0, rtol=1e-15)
    np.testing.assert_allclose(w.firms.productivity[rows], 0.24, rtol=1e-15)
    assert not w.firms.connection[rows].any()


def test_entry_compaction_when_over_a_fifth_exited():
    firms = [{"capital": c, "alive": c > 0} for c in (1.0, 0.0, 3.0, 0.0, 5.0)]  # rows 1 and 3 exited: 40%
    w = make_world(firms, ties=[(0, 2), (1, 2), (2, 4), (3, 4)], exit_hazard=0.0)
    w.firms.memory("output")[0] = [10, 11, 12, 13, 14]
    add_contract(w, firm=4)
    log = make_log(w)
    entry.step(w, log, rng(), rng(1))
    f = w.firms
    np.testing.assert_array_equal(log.compaction, [0, -1, 1, -1, 2])
    assert f.n == 3 and f.alive.all()
    np.testing.assert_array_equal(f.capital, [1.0, 3.0, 5.0])
    np.testing.assert_array_equal(f.memory("output")[0], [10, 12, 14])
    np.testing.assert_array_equal(w.ties.matrix(3).toarray(), [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    assert w.projects.firm[0] == 2


def test_entry_compaction_then_ppp_terminates_contract_of_exited_partner():
    firms = [{"alive": False}, {}, {"alive": False}, {}]  # partner 0 exited in this quarter's economy step
    w = make_world(firms, exit_hazard=0.0, **PPP)
    add_contract(w, firm=0, phase=OPERATION, left=10)
    entry.step(w, make_log(w), rng(), rng(1))  # 50% exited: compaction
    log = make_log(w)
    ppp.step(w, log, rng())
    assert w.projects.status[0] == TERMINATED
    assert not log.firm["ppp_income"].any()


# --- 11. observer ---------------------------------------------------------------------------


def test_observer_classify_one_memory_per_regime():
    rows = {  # name: (expected label, memory)
        "capture": (observer.CAPTURE, {"rule_bending": 1, "dealings": 9, "paid": 3, "extracted": 1.0}),
        "few interactions": (
            observer.NON_INTERFERENCE,
            {"dealings": 1, "disputes": 0, "support": 0.5, "support_events": 1},
        ),
        "dispute": (observer.CONFLICT, {"dealings": 4, "disputes": 1, "support": 1.0, "support_events": 1}),
        "resisted at a cost": (
            observer.CONFLICT,
            {"dealings": 4, "refused": 1, "reported": 1, "paid": 1, "extracted": 0.02},
        ),
        "resisted cheaply": (observer.SUPPRESSION, {"dealings": 4, "refused": 2, "paid": 1, "extracted": 0.009}),
        "paid more than received": (
            observer.SUPPRESSION,
            {"dealings": 4, "paid": 2, "extracted": 0.05, "support": 0.04, "support_events": 1},
        ),
        "frequent controls": (observer.SUPPRESSION, {"dealings": 8}),
        "partnership": (
            observer.PARTNERSHIP,
            {"dealings": 3, "cooperation": 2, "paid": 1, "extracted": 0.05, "support": 0.1, "support_events": 1},
        ),
        "patronage": (observer.PATRONAGE, {"dealings": 2, "support": 0.2, "support_events": 2}),
        "routine": (observer.NON_INTERFERENCE, {"dealings": 7}),
    }
    fields = (
        "dealings",
        "support_events",
        "cooperation",
        "disputes",
        "extracted",
        "support",
        "refused",
        "reported",
        "paid",
        "demands",
        "rule_bending",
    )
    mem = {name: np.array([float(m.get(name, 0)) for _, m in rows.values()]) for name in fields}
    mem["output"] = np.ones(len(rows))
    labels = observer.classify(mem, interaction_threshold=4.0)
    got = {name: observer.REGIMES[code] for name, code in zip(rows, labels)}
    assert got == {name: observer.REGIMES[code] for name, (code, _) in rows.items()}


# --- kpi.measure ----------------------------------------------------------------------------


def test_kpi_measure_first_quarter():
    firms = [
        {"capital": 0.5},  # micro
        {"capital": 7.9, "productivity": 0.2},  # small, high-performance
        {"capital": 8.0},  # medium: 'up to' small_capital is exclusive
        {"capital": 50.0},  # large
        {"capital": 0.5, "formal": False},  # informal: not counted
        {"capital": 0.5, "alive": False},
    ]  # exited
    w = make_world(
        firms,
        productivity=0.12,
        productivity_dispersion=0.3,
        labour_share=0.5,
        jobs_per_capital=3.0,
        jobs_elasticity=0.8,
        micro_capital=1.0,
        small_capital=8.0,
        medium_capital=40.0,
    )
    w.entrant_capital_last = np.array([0.6])
    log = make_log(
        w,
        firm={"output": [1.0, 2.0, 3.0, 4.0, 5.0, 0.0]},
        region={
            "ppp_private_investment": 28.0,
            "fixed_investment": 1.5,
            "ppp_construction_spending": 10.0,
            "ppp_offbudget": 7.0,
            "ppp_jobs": 5.0,
        },
    )
    k = kpi.measure(w, log)
    jobs = [1 + 3.0 * c**0.8 for c in (0.5, 7.9, 8.0, 50.0, 0.5)]
    all_jobs = sum(jobs) + 5.0
    wage = 0.5 * 15.0 / all_jobs
    assert 0.12 * math.exp(0.674 * 0.3 - 0.3**2 / 2) < 0.2  # only firm 1 is high-performance
    assert k["small_businesses"][0] == 2.0
    assert np.isclose(k["attracted_investment"][0], 28.6, rtol=0, atol=1e-12)
    assert np.isclose(k["fixed_investment"][0], 11.5, rtol=0, atol=1e-12)
    assert k["offbudget_cofinancing"][0] == 7.0
    assert np.isclose(k["high_performance_jobs"][0], jobs[1] + 5.0, rtol=0, atol=1e-12)
    assert np.isclose(k["jobs"][0], all_jobs, rtol=0, atol=1e-12)
    assert k["real_wages"][0] == 100.0
    assert np.isclose(w.initial_wage[0], wage, rtol=0, atol=1e-15)
    # a later quarter with twice the output: the index doubles
    log.firm["output"] *= 2
    assert np.isclose(kpi.measure(w, log)["real_wages"][0], 200.0, rtol=0, atol=1e-12)


def test_ppp_construction_lasts_its_duration_then_operation_pays():
    w = make_world([{"strength": 1.0}], akimats={"ppp_fund": 0.0}, **PPP)
    log = make_log(w)
    log.tenders.append((0, 3))
    ppp.step(w, log, rng())  # tender won, first construction quarter
    phases, income = [], []
    for _ in range(4):
        log = make_log(w)
        ppp.step(w, log, rng())
        phases.append(int(w.projects.phase[0]))
        income.append(log.firm["ppp_income"][0])
    # quarters 1-4 of construction, then the first operating quarter pays 5% of the cost less
    # the debt service; the project is sized to the partner (equity half of its capital of 1)
    assert phases == [CONSTRUCTION, CONSTRUCTION, OPERATION, OPERATION]
    cost = 0.5 * 1.0 / (0.2 * 0.7)
    assert np.isclose(w.projects.cost[0], cost)
    np.testing.assert_allclose(income, [0.0, 0.0, 0.0, (0.05 - 0.8 * 0.7 / 20) * cost])
    assert w.projects.left[0] == 20 - 1


def test_the_world_holds_only_what_it_declares():
    w = make_world([{}])
    with pytest.raises(AttributeError):
        w.resident_signals = np.zeros(1)  # an undeclared attribute, as submodels once made on the model
    with pytest.raises(AttributeError):
        w.firms.capital = np.zeros(1)  # a column is written into, never replaced


def test_average_ranks_match_scipy_on_ties():
    from scipy.stats import rankdata

    from simulation.formulas import average_ranks

    x = np.array([[0.1, 0.1, 0.3, -0.2, 0.1], [0.0, 0.0, 0.0, 0.0, 0.0], [3.0, 1.0, 2.0, 5.0, 4.0]])
    np.testing.assert_array_equal(average_ranks(x), rankdata(x, method="average", axis=1))


# --- formulas.grown_capital and initialisation.equalising_transfers ---------------------------

GROWTH = {
    "capital_elasticity": 0.5,
    "depreciation": 0.05,
    "labour_share": 0.5,
    "tax_rate": 0.12,
    "trust_investment_floor": 0.5,
    "reinvestment": 0.5,
    "fixed_cost": 0.01,
}


def test_grown_capital_age_zero_is_the_entry_capital():
    k0 = np.array([0.3, 2.0])
    got = formulas.grown_capital(k0, np.array([0.4, 0.4]), np.array([0, 0]), GROWTH)
    np.testing.assert_array_equal(got, k0)


def test_grown_capital_two_quarters_by_hand():
    # K <- 0.95 K + 0.5 x (0.5 + 0.5 / 2) x max((1 - 0.5 - 0.12) A K^0.5 - 0.01, 0)
    def quarter(k, a):
        return 0.95 * k + 0.375 * max(0.38 * a * math.sqrt(k) - 0.01, 0.0)

    k0, a = np.array([0.3, 0.3, 0.3]), np.array([0.4, 0.4, 0.4])
    got = formulas.grown_capital(k0, a, np.array([0, 1, 2]), GROWTH)
    np.testing.assert_allclose(got, [0.3, quarter(0.3, 0.4), quarter(quarter(0.3, 0.4), 0.4)], rtol=0, atol=1e-15)


def test_grown_capital_tends_to_the_steady_state():
    # steady state: 0.05 K = 0.375 (0.38 A sqrt(K) - 0.01); with A = 0.4: x = sqrt(K) solves
    # 0.05 x^2 - 0.057 x + 0.00375 = 0
    x = (0.057 + math.sqrt(0.057**2 - 4 * 0.05 * 0.00375)) / (2 * 0.05)
    steady = x * x
    ages = np.array([0, 10, 40, 160, 1000])
    below = formulas.grown_capital(np.full(5, 0.3), np.full(5, 0.4), ages, GROWTH)
    above = formulas.grown_capital(np.full(5, 2 * steady), np.full(5, 0.4), ages, GROWTH)
    assert (np.diff(below) > 0).all() and (below < steady).all()  # a small entrant grows toward it
    assert (np.diff(above) < 0).all() and (above > steady).all()  # a large one shrinks toward it
    assert np.isclose(below[-1], steady, rtol=1e-9) and np.isclose(above[-1], steady, rtol=1e-9)


def test_equalising_transfers():
    from simulation import initialisation, regions

    every = regions.all_regions()
    known = [r for r in every if np.isfinite(r.transfers_per_head)]
    mean = sum(r.transfers_per_head * r.population_thousands for r in known) / sum(
        r.population_thousands for r in known
    )
    p = {"central_transfer": 0.5}
    chosen = regions.select("zhambyl,kyzylorda,atyrau,turkestan")
    pop = np.array([r.population_thousands for r in chosen])
    tax = np.array([1.0, 2.0, 3.0, 4.0])
    got = initialisation.equalising_transfers(p, chosen, tax)
    per_head_tax = tax.sum() / pop.sum()
    # a region with a figure: central_transfer x tax per head x population x its subvention / the mean
    for i in range(2):
        expected = 0.5 * per_head_tax * pop[i] * chosen[i].transfers_per_head / mean
        assert np.isclose(got[i], expected, rtol=1e-12)
    # Kyzylorda's subvention per head (595.2) is above Zhambyl's (402.5): more per head
    assert got[1] / pop[1] > got[0] / pop[0]
    assert got[2] == 0.0  # Atyrau is a donor
    # Turkestan has no figure: the need predicted by the log-log least-squares line through the
    # recipients (subvention > 0) on GRP per head
    rec = [r for r in known if r.transfers_per_head > 0]
    x = np.log([r.grp_share / r.population_thousands for r in rec])
    y = np.log([r.transfers_per_head / mean for r in rec])
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    intercept = y.mean() - slope * x.mean()
    turkestan = chosen[3]
    assert not np.isfinite(turkestan.transfers_per_head)
    need = math.exp(intercept + slope * math.log(turkestan.grp_share / turkestan.population_thousands))
    assert np.isclose(got[3], 0.5 * per_head_tax * pop[3] * need, rtol=1e-10)


def test_dealings_harassment_of_rivals_scales_with_the_captors_output_share():
    """A captor's rivals get (1 + capture_harassment x captors' output share) times the dealings;
    the captor itself none extra. Two equal firms and a captor holding a known share of output."""
    firms = [
        {"strength": 0.6, "capital": 1.0, "productivity": 0.2, "captor": True},
        {"strength": 0.6, "capital": 1.0, "productivity": 0.2},
        {"strength": 0.6, "capital": 1.0, "productivity": 0.6},
    ]
    results = {}
    for harassment in (0.0, 2.0):
        w = make_world(firms, akimats={"power": 0.5, "corrupt_share": 0.3}, capture_harassment=harassment)
        r = Recorder()
        dealings.step(w, make_log(w), r)
        results[harassment] = np.asarray(r.args("poisson")[0][0])
    share = 0.2 / (0.2 + 0.2 + 0.6)  # equal capital: output shares follow productivity
    np.testing.assert_allclose(results[2.0] / results[0.0], [1.0, 1.0 + 2.0 * share, 1.0 + 2.0 * share], rtol=1e-12)


def test_business_strength_reads_the_rank_when_the_world_has_a_strength_scale():
    # four firms, one of them a dominant player 1,000 times the others' size; match capital 1
    firms = [{"capital": 1.0}, {"capital": 2.0}, {"capital": 0.5}, {"capital": 2000.0}]
    w = make_world(firms, match_capital=1.0)
    slope = w.params["strength_slope"]
    # without a scale (hand-built worlds): B from the capital itself, the dominant player at B ~ 1
    np.testing.assert_allclose(w.firms.strength, 1 / (1 + (1 / np.array([1.0, 2.0, 0.5, 2000.0])) ** slope))
    assert w.firms.strength[3] > 0.99
    # with the body's scale: B from the capital of the firm's rank (formulas.rank_capital)
    w.strength_scale = np.array([[0.0, 0.5]])
    w.update_strength()
    rank = formulas.rank_capital(w.firms.capital, w.firms.region, w.firms.alive, w.strength_scale, 1)
    np.testing.assert_allclose(w.firms.strength, 1 / (1 + (1 / rank) ** slope), rtol=1e-12)
    assert 0.5 < w.firms.strength[3] < 0.8  # the strongest firm, not an untouchable one
    assert np.all(np.diff(w.firms.strength[[2, 0, 1, 3]]) > 0)  # the order of sizes is kept
