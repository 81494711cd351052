"""Each submodel on a small hand-built world, with known inputs and known outputs.

Beside the whole-model tests, these check one step at a time: the world is built by hand
(``tests/worlds.py``), the step runs once, and the result is compared with the value the
submodel's documented rule gives, computed here by hand from literals. Random draws are
made irrelevant by probabilities of 0 or 1 (or, where a count is drawn, the test checks
the relation that holds whatever the draw).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from worlds import make_log, make_world, rng

from simulation import kpi, observer
from simulation.kpi import KPI_NAMES
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
    """Append one PPP contract with defaults (region 0, firm 0, water, cost 40, performing construction)."""
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
    }
    world.projects.add(**(spec | values))


# --- 3. officials ---------------------------------------------------------------------------


def test_officials_replicator_step():
    w = make_world(
        [{}, {"region": 1}],
        regions="turkestan,zhambyl",
        akimats={"corrupt_share": [0.35, 0.6]},
        adaptation_rate=0.2,
        official_mutation=0.01,
        audit_penalty=6.0,
    )
    log = make_log(w, region={"demands": [10.0, 0.0], "paid": [6.0, 0.0], "caught": [0.5, 0.0]})
    officials.step(w, log)
    # region 0: payoff = 6/10 - (0.5/10) * 6 = 0.3
    c = 0.35 + 0.2 * 0.35 * 0.65 * math.tanh(0.3)
    c = c + 0.01 * (0.5 - c)
    # region 1: no demands, only the drift toward 1/2
    c1 = 0.6 + 0.01 * (0.5 - 0.6)
    np.testing.assert_allclose(w.akimats.corrupt_share, [c, c1], rtol=0, atol=1e-14)


def test_officials_losing_payoff_lowers_corruption():
    w = make_world(akimats={"corrupt_share": 0.5}, adaptation_rate=1.0, official_mutation=0.0, audit_penalty=10.0)
    log = make_log(w, region={"demands": [4.0], "paid": [2.0], "caught": [1.0]})
    officials.step(w, log)
    # payoff = 0.5 - 0.25 * 10 = -2
    assert np.isclose(w.akimats.corrupt_share[0], 0.5 + 0.25 * math.tanh(-2.0), rtol=0, atol=1e-14)


# --- 1. plan --------------------------------------------------------------------------------


def test_plan_budget_rents_diversion_split_and_tenders():
    w = make_world(
        [{"captor": True}],
        akimats={
            "tax_revenue": 2.0,
            "initial_tax": 4.0,
            "power": 0.5,
            "corrupt_share": 0.5,
            "ppp_fund": 25.0,
            "utility_quality": [0.6, 0.5, 0.7, 0.9],
        },
        central_transfer=0.5,
        transfer_power=2.0,
        rent_weight=0.6,
        transparency=0.2,
        capture_diversion=0.15,
        maintenance_share=0.3,
        support_share=0.1,
        ppp_share=0.1,
        ppp_cofinancing=0.3,
        ppp_size=40.0,
        quality_target=0.8,
    )
    log = make_log(w)
    plan.step(w, log, rng())
    a = w.akimats
    budget = 2.0 + 0.5 * 4.0 * 2.0 * 0.5  # tax + central transfer = 4
    rents = 0.6 * (1 - 0.2) * (0.5 + 0.5 * 0.5) * budget  # 1.44
    diverted = 0.15 * budget  # 0.6
    free = budget - rents - diverted  # 1.96
    assert np.isclose(a.budget[0], 4.0, atol=1e-12)
    assert np.isclose(a.rents[0], rents, atol=1e-12) and np.isclose(rents, 1.44)
    assert np.isclose(a.capture_transfer[0], diverted, atol=1e-12)
    assert np.isclose(a.maintenance[0], 0.3 * free, atol=1e-12)
    assert np.isclose(a.support_budget[0], 0.1 * free, atol=1e-12)
    assert np.isclose(a.maintenance_reference[0], 0.3 * budget, atol=1e-12)  # quarter 0: no rents
    # tenders: lags are (0.2, 0.3, 0.1, -0.1): water, then heat, while the fund covers 0.3 * 40 = 12
    assert log.tenders == [(0, 1), (0, 0)]
    assert log.region["tenders"][0] == 2
    assert np.isclose(a.ppp_fund[0], 25.0 + 0.1 * free - 24.0, atol=1e-12)


def test_plan_reference_kept_after_first_quarter():
    w = make_world(quarter=5, akimats={"maintenance_reference": 7.0})
    plan.step(w, make_log(w), rng())
    assert w.akimats.maintenance_reference[0] == 7.0


def test_plan_no_lag_tenders_social_or_roads():
    w = make_world(akimats={"ppp_fund": 12.5, "utility_quality": 0.9}, quality_target=0.8, ppp_share=0.0)
    log = make_log(w)
    plan.step(w, log, rng())
    assert len(log.tenders) == 1 and log.tenders[0][1] in (4, 5)
    assert np.isclose(w.akimats.ppp_fund[0], 0.5)


def test_plan_all_contracts_disputed_deters_tenders():
    w = make_world(akimats={"ppp_fund": 100.0, "utility_quality": 0.2}, ppp_share=0.0)
    add_contract(w, status=DISPUTED)
    log = make_log(w)
    plan.step(w, log, rng())
    assert log.tenders == []
    assert w.akimats.ppp_fund[0] == 100.0


# --- 2. dealings ----------------------------------------------------------------------------


def test_dealings_no_corruption_no_demands_and_detection_decays():
    w = make_world(
        [{"perceived_detection": 0.5}, {"perceived_detection": 0.0}],
        ties=[(0, 1)],
        akimats={"corrupt_share": 0.0},
        audit_rate=0.04,
        transparency=0.7,
        transparency_detection=0.15,
        detection_decay=0.25,
    )
    log = make_log(w)
    dealings.step(w, log, rng())
    assert log.firm["dealings"].sum() > 0  # there were dealings, just no demands
    for name in ("demands", "paid", "refused", "reported", "extracted", "fines", "detected"):
        assert not log.firm[name].any(), name
    for name in ("demands", "paid", "caught", "bribe_income"):
        assert not log.region[name].any(), name
    d = 1 - (1 - 0.04) * (1 - 0.15 * 0.7)
    np.testing.assert_allclose(w.firms.perceived_detection, [0.5 + 0.25 * (d - 0.5), 0.25 * d], atol=1e-14)


def _all_pay_world(audit_rate):
    """Two formal firms that meet a demand in every dealing and always pay; two informal firms without dealings."""
    firms = [
        {"strength": 0.1, "age": 0, "perceived_detection": 0.2},
        {"strength": 0.1, "age": 0, "capital": 2.0, "perceived_detection": 0.14},
        {"formal": False, "perceived_detection": 0.2},
        {"formal": False, "perceived_detection": 0.2},
    ]
    return make_world(
        firms,
        ties=[(2, 0), (2, 3)],
        akimats={"power": 0.9, "corrupt_share": 1.0},
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
    )


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
    y = 0.12 * np.array([1.0, 2.0**0.9])
    np.testing.assert_allclose(ev["extracted"][:2], y * ev["paid"][:2] * 0.001 * s, rtol=1e-12)
    assert log.region["demands"][0] == ev["demands"].sum() == log.region["paid"][0]
    assert np.isclose(log.region["bribe_income"][0], ev["extracted"].sum(), rtol=1e-12)
    assert log.region["caught"][0] == 0 and not ev["fines"].any()  # detection rate 0
    # nobody caught: perceived detection decays toward the true rate 0
    np.testing.assert_allclose(
        w.firms.perceived_detection, [0.2 * 0.75, 0.14 * 0.75, 0.2 * 0.75, 0.2 * 0.75], atol=1e-14
    )


def test_dealings_caught_paying_fines_and_perceived_detection_jump():
    w = _all_pay_world(audit_rate=1.0)
    log = make_log(w)
    dealings.step(w, log, rng())
    ev = log.firm
    s = 0.9**2 / (0.9**2 + 0.1**2)
    y = 0.12 * np.array([1.0, 2.0**0.9])
    np.testing.assert_array_equal(ev["detected"], [1, 1, 0, 0])
    np.testing.assert_allclose(ev["fines"][:2], y * ev["paid"][:2] * 0.001 * s * 0.5 * 6.0, rtol=1e-12)
    assert log.region["caught"][0] == ev["paid"].sum()

    # caught firms: the whole jump; firm 2 hears from 1 of its 2 ties; firm 3 from none of 1
    def update(q, heard):
        q = q + 0.3 * (1 - q) * heard
        return q + 0.25 * (1.0 - q)

    expected = [update(0.2, 1.0), update(0.14, 1.0), update(0.2, 0.5), update(0.2, 0.0)]
    np.testing.assert_allclose(w.firms.perceived_detection, expected, atol=1e-14)


# --- 4. support -----------------------------------------------------------------------------


def test_support_single_applicant_gets_whole_budget():
    firms = [{"productivity": 0.1}, {"formal": False}, {"alive": False}]
    w = make_world(firms, akimats={"support_budget": 1.0}, apply_base=1.0, apply_trust=0.0, grant=0.2)
    log = make_log(w)
    support.step(w, log, rng())
    np.testing.assert_array_equal(log.firm["support"], [1.0, 0.0, 0.0])


def test_support_funded_applicants_split_equally():
    firms = [{"productivity": 0.1}, {"productivity": 0.2, "connection": 1.0}, {"region": 1}]
    w = make_world(
        firms,
        regions="turkestan,zhambyl",
        akimats={"support_budget": [1.0, 0.3]},
        apply_base=1.0,
        apply_trust=0.0,
        grant=0.01,
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
    "ppp_bidder_strength": 0.5,
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
        {"strength": 0.9, "productivity": 1.0, "connection": 1.0, "capital": 50.0},  # best merit, connected
        {"strength": 0.6, "productivity": 0.05, "captor": True, "capital": 2.0},
        {"strength": 0.7, "productivity": 0.05, "captor": True, "capital": 3.0},  # the larger captor
        {"strength": 0.4, "captor": True, "capital": 99.0},
    ]  # too weak to bid
    w = make_world(firms, akimats={"ppp_fund": 0.0}, quarter=6, **PPP)
    log = make_log(w)
    log.tenders.append((0, 1))
    ppp.step(w, log, rng())
    b = w.projects
    assert len(b) == 1
    assert (b.firm[0], b.sector[0], b.cost[0], b.phase[0], b.status[0], b.duration[0], b.started[0]) == (
        2,
        1,
        40.0,
        CONSTRUCTION,
        PERFORMING,
        4,
        6,
    )
    assert b.left[0] == 3  # the first quarter of construction is done in the same step
    assert log.region["ppp_started"][0] == 1
    assert np.isclose(log.region["ppp_private_investment"][0], 0.7 * 40.0)
    assert np.isclose(log.region["ppp_construction_spending"][0], 40.0 / 4)
    assert np.isclose(log.region["ppp_offbudget"][0], 0.7 * 40.0 / 4)
    assert np.isclose(log.region["ppp_jobs"][0], 0.5 * 40.0 / 4)
    np.testing.assert_allclose(log.firm["ppp_outlay"], [0, 0, 0.7 * 10.0, 0])
    np.testing.assert_array_equal(log.firm["cooperation"], [0, 0, 1, 0])


def test_ppp_tender_without_bidder_returns_cofinancing():
    w = make_world(
        [{"strength": 0.4}, {"strength": 0.9, "formal": False}, {"strength": 0.9, "region": 1}],
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
    # availability payments: 5% of the cost a quarter, to the operating partner
    np.testing.assert_allclose(log.firm["ppp_income"], [0.0, 0.05 * 10.0 + 0.05 * 20.0, 0.0])
    np.testing.assert_allclose(log.firm["ppp_outlay"], [0.7 * 40.0 / 4, 0.0, 0.0])
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


# --- 6. capture -----------------------------------------------------------------------------


def test_capture_weaker_firm_never_attempts():
    w = make_world(
        [{"strength": 0.6}, {"strength": 0.59}], akimats={"power": 0.6}, capture_effort=1.0, legal_quality=0.0
    )
    for seed in range(20):
        log = make_log(w)
        capture.step(w, log, rng(seed))
        assert not w.firms.captor.any() and not log.firm["rule_bending"].any()


def test_capture_certain_when_strong_firm_faces_no_power():
    w = make_world(
        [{"strength": 1.0, "connection": 0.2}, {"strength": 1.0, "formal": False}],
        akimats={"power": 0.0},
        capture_effort=1.0,
        capture_strength_exponent=2.0,
        legal_quality=0.0,
    )
    log = make_log(w)
    capture.step(w, log, rng())
    # attempt: 1 * (1 - 0) * 1^2 = 1; success: 1 / (1 + 0) * (1 - 0) = 1; informal firms do not try
    np.testing.assert_array_equal(w.firms.captor, [True, False])
    np.testing.assert_array_equal(log.firm["rule_bending"], [1, 0])
    assert w.firms.connection[0] == 1.0


def test_capture_never_succeeds_under_full_legal_quality():
    w = make_world([{"strength": 1.0}] * 3, akimats={"power": 0.0}, capture_effort=1.0, legal_quality=1.0)
    for seed in range(20):
        capture.step(w, make_log(w), rng(seed))
    assert not w.firms.captor.any()


def test_capture_ends_when_captor_weaker_or_exited():
    firms = [
        {"captor": True, "strength": 0.5},
        {"captor": True, "strength": 0.8},
        {"captor": True, "strength": 0.9, "alive": False},
    ]
    w = make_world(firms, akimats={"power": 0.6}, capture_loss=0.0, capture_effort=0.0)
    log = make_log(w)
    capture.step(w, log, rng())
    np.testing.assert_array_equal(w.firms.captor, [False, True, False])
    np.testing.assert_array_equal(log.firm["rule_bending"], [0, 1, 0])


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
    w = make_world(firms, output_shock=0.0, fixed_cost=0.05, exit_losses=4, min_capital=0.5, informality_rate=0.0)
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
        firms, output_shock=0.0, informality_rate=1.0, informality_burden=0.25, tax_morale=0.5, tax_rate=0.12
    )
    y = 0.12  # A = 0.12, K = 1
    log = _economy_log(w, extracted=[0.2 * y, 0.2 * y, 0.0, 0.2 * y])
    economy.step(w, log, rng())
    # burden 0.32 > 0.25: informal; 0.32 <= 0.25 * 1.5: stays; 0.12 <= 0.25: back; 0.32 > 0.25 * 0.5: stays informal
    np.testing.assert_array_equal(w.firms.formal, [False, True, True, False])
    # taxes of the quarter were paid by the firms formal at the start of it
    assert np.isclose(w.akimats.tax_revenue[0], 2 * 0.12 * y, rtol=0, atol=1e-15)


def test_economy_no_switch_when_rate_zero():
    w = make_world([{}], output_shock=0.0, informality_rate=0.0)
    log = _economy_log(w, extracted=[0.5])
    economy.step(w, log, rng())
    assert w.firms.formal[0]


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


def test_trust_consultation_gives_voice():
    firms = [{"strength": 1.0}, {"strength": 0.4}, {"strength": 0.3, "member": True}]
    w = make_world(firms, **(TRUST | {"consultation": 1.0, "business_threshold": 0.5, "voice_value": 0.01}))
    log = make_log(w, firm={"output": [0.2, 0.2, 0.2]})
    trust.step(w, log, rng())
    # firm 0 is strong: takes part with probability 1 * B = 1; firm 1 neither strong nor a member
    assert log.firm["cooperation"][0] == 1 and log.firm["cooperation"][1] == 0
    assert np.isclose(log.firm["experience"][0], 0.01 * 0.2, rtol=0, atol=1e-15)
    assert log.firm["experience"][2] in (0.0, 0.01 * 0.2) and log.firm["experience"][1] == 0.0


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
        capture_penalty=0.005,
        power_anchor=0.05,
    )
    tournament.step(w, make_log(w), rng())
    np.testing.assert_allclose(w.akimats.score, [0.0, 0.5, 1.0], atol=1e-15)
    expected = [
        0.5 + 0.04 * -0.5 + 0.05 * 0.1,  # worst, pulled up toward P0 = 0.6
        0.5 - 0.005,  # middle, captured
        0.5 + 0.04 * 0.5 + 0.05 * -0.1,
    ]  # best, pulled down toward P0 = 0.4
    np.testing.assert_allclose(w.akimats.power, expected, atol=1e-15)
    assert len(w.kpi_history) == 8 and not w.akimats.replacements.any()


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
    )
    tournament.step(w, make_log(w), rng())
    a = w.akimats
    # only the bottom region (score 0 <= the 20% quantile 0.2) is replaced: P = P0 + 0 * noise
    np.testing.assert_array_equal(a.replacements, [1, 0, 0])
    assert a.power[0] == 0.6
    np.testing.assert_allclose(a.corrupt_share, [0.5 * (0.55 + 0.35), 0.55, 0.55], atol=1e-15)
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
    q0 = q + 0.02 * (0.6 * 0.5 - q) + 0.005 * np.array([1.5, 0, 0, 0]) * (1 - q)  # m = 0.3 / 0.6
    q1 = 0.6 + 0.02 * (0.6 * 1.5 - 0.6)  # m = 3 / 1 capped at 1.5
    np.testing.assert_allclose(w.akimats.utility_quality, [q0, [q1] * 4], atol=1e-15)


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
    )
    w.firms.memory("demands")[2, 2] = 1.0  # region 1's firm met a demand earlier this year
    w.kpi_history.append(_kpis([110.0, 95.0]))
    log = make_log(w, firm={"demands": [1, 0, 0]})
    utilities.step(w, log, rng())
    services = 3.0 * (0.6 - 0.5)
    economy_ = [2.0 * 0.10, 2.0 * -0.05]  # wage index / 100 - 1; no job growth before 5 quarters
    corruption = [-2.0 * (0.5 - 0.3), -2.0 * (1.0 - 0.3)]  # incidence 1/2 and 1/1
    ws, we = (0.8, 1.0, 1.1, 1.2), (1.2, 1.1, 0.9, 0.8)
    expected = [
        ws[0] * services + we[0] * economy_[0] + corruption[0],
        ws[3] * services + we[3] * economy_[0] + corruption[0],
        ws[1] * services + we[1] * economy_[1] + corruption[1],
    ]
    np.testing.assert_allclose(w.residents.authority, expected, atol=1e-14)
    np.testing.assert_allclose(w.residents.utilities, 4.0 * (0.6 - 0.5), atol=1e-14)
    # a later quarter smooths: 0.75 old + 0.25 new
    w.quarter = 1
    w.residents.authority[:] = 1.0
    utilities.step(w, log, rng())
    np.testing.assert_allclose(w.residents.authority, 0.75 + 0.25 * np.array(expected), atol=1e-14)


def test_utilities_residents_job_growth_after_five_quarters():
    w = make_world(
        akimats={"utility_quality": 0.5},
        resident_noise=0.0,
        utility_depreciation=0.0,
        jobs_signal=2.0,
        wage_signal=2.0,
        corruption_signal=0.0,
        residents={"region": [0], "cohort": [2]},
    )
    w.kpi_history.append(_kpis([100.0], jobs=[10.0]))
    for _ in range(3):
        w.kpi_history.append(_kpis([100.0], jobs=[11.0]))
    w.kpi_history.append(_kpis([100.0], jobs=[12.0]))
    utilities.step(w, make_log(w), rng())
    assert np.isclose(w.residents.authority[0], 0.9 * 2.0 * (12.0 - 10.0) / 10.0, rtol=0, atol=1e-14)


# --- 12. entry ------------------------------------------------------------------------------


def test_entry_rate_zero_nobody_enters():
    w = make_world([{}, {}, {}, {}, {"alive": False}], entry_rate=0.0)  # 1 of 5 rows exited: 20%, no compaction
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
        entry_rate=0.5,
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


def test_entry_compaction_when_over_a_fifth_exited():
    firms = [{"capital": c, "alive": c > 0} for c in (1.0, 0.0, 3.0, 0.0, 5.0)]  # rows 1 and 3 exited: 40%
    w = make_world(firms, ties=[(0, 2), (1, 2), (2, 4), (3, 4)], entry_rate=0.0)
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
    w = make_world(firms, entry_rate=0.0, **PPP)
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
    w = make_world([{"strength": 0.9}], akimats={"ppp_fund": 0.0}, **PPP)
    log = make_log(w)
    log.tenders.append((0, 3))
    ppp.step(w, log, rng())  # tender won, first construction quarter
    phases, income = [], []
    for _ in range(4):
        log = make_log(w)
        ppp.step(w, log, rng())
        phases.append(int(w.projects.phase[0]))
        income.append(log.firm["ppp_income"][0])
    # quarters 1-4 of construction, then the first operating quarter pays 5% of the cost
    assert phases == [CONSTRUCTION, CONSTRUCTION, OPERATION, OPERATION]
    np.testing.assert_allclose(income, [0.0, 0.0, 0.0, 0.05 * 40.0])
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
