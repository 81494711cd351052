"""More submodel steps on hand-built worlds: the edges and the draws the first file left open.

Written against the mutants that survived ``tests/submodels/test_submodels.py`` (``make mutation``,
docs/MUTATION.md): each test pins a rule of the documented submodel at a point where a
plausible slip (a sign, a bound, a missing argument, a region without firms) changes the
result. Where a step draws many units, the test checks the draws' distribution with a
sample large enough that a wrong distribution fails by many standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_submodels import Draws, Recorder
from worlds import make_log, make_world, rng

from simulation import formulas
from simulation.observe import kpi, observer
from simulation.observe.kpi import KPI_NAMES
from simulation.submodels import dealings, economy, entry, plan, ppp, support, tournament, trust, utilities
from simulation.world import DISPUTED, ENDED, OPERATION, OWNER_COHORT_SHARES, PERFORMING, RENEGOTIATED, TERMINATED

THREE = "turkestan,zhambyl,kyzylorda"

# --- 12. entry ------------------------------------------------------------------------------


def test_entry_expected_entrants_at_a_climate_base_other_than_a_half():
    """Poisson mean exit_hazard x firms at the start x climate / neutral, neutral = base + 1/2;
    a region with one firm in business takes its trust and incidence; a region with none, 1/2 and 0."""
    firms = [{"trust": 0.9}, {"region": 1, "trust": 0.2}, {"region": 1, "trust": 0.4}, {"region": 2, "alive": False}]
    w = make_world(
        firms,
        regions="turkestan,zhambyl,kyzylorda",
        akimats={"firms_initial": [10.0, 4.0, 6.0]},
        memory={"demands": [1.0, 0.0, 1.0, 1.0]},
        exit_hazard=0.1,
        climate_trust_base=1.5,
        climate_corruption=0.4,
    )
    r = Recorder()
    entry.step(w, make_log(w), r, rng(1))
    climate = np.array([(1.5 + 0.9) * (1 - 0.4 * 1.0), (1.5 + 0.3) * (1 - 0.4 * 0.5), (1.5 + 0.5) * 1.0])
    np.testing.assert_allclose(r.args("poisson")[0][0], 0.1 * np.array([10.0, 4.0, 6.0]) * climate / 2.0, atol=1e-15)


def _many_entrants(symbiosis=0.0, **kwargs):
    """Two regions, a few incumbents each, and thousands of entrants (exit_hazard 0.5 of a
    large pool at a neutral climate)."""
    firms = [{"region": r, "trust": 0.5} for r in (0, 1, 0, 1, 0)]
    values = dict(
        exit_hazard=0.5,
        productivity=0.12,
        productivity_dispersion=0.4,
        capital_elasticity=0.5,
        entrant_capital=0.3,
        entrant_dispersion=0.5,
        capital_dispersion=1.2,
        connected_share=0.2,
        connection_min=0.3,
        association_share=0.25,
        firm_ties=6,
        climate_corruption=0.0,
    )
    w = make_world(
        firms,
        regions="turkestan,zhambyl",
        akimats={"firms_initial": [8000.0, 8000.0], "productivity_level": [0.12, 0.48], "symbiosis": symbiosis},
        **(values | kwargs),
    )
    log = make_log(w)
    entry.step(w, log, rng(5), rng(6))
    return w, log


def test_entrants_draws_follow_their_distributions():
    w, log = _many_entrants(symbiosis=0.5)
    f, rows = w.firms, log.entered
    n = rows.size
    assert n > 7000 and log.entered.dtype == np.int64
    np.testing.assert_array_equal(rows, np.arange(5, f.n))
    assert w.entries_last.dtype == float
    np.testing.assert_array_equal(w.entries_last, np.bincount(f.region[rows], minlength=2))
    np.testing.assert_allclose(w.entrant_capital_last, np.bincount(f.region[rows], weights=f.capital[rows]))

    def z(mean, expected, sd, size):
        return abs(mean - expected) / (sd / np.sqrt(size))

    for r, level in ((0, 0.12), (1, 0.48)):
        here = rows[f.region[rows] == r]
        # log capital: median entrant_capital x wealth, wealth = (level / productivity)^(1 / (1 - alpha))
        log_k = np.log(f.capital[here])
        wealth = (level / 0.12) ** 2.0
        assert z(log_k.mean(), np.log(0.3 * wealth), 0.6, here.size) < 5
        assert abs(log_k.std() - 0.5 * 1.2) < 0.03
        # productivity: log-normal with mean the region's level (mean of log = log level - sigma^2 / 2)
        # times the Pareto factor exp((E - ln 2) / zeta_A), E ~ Exp(1): log mean (1 - ln 2) / zeta_A,
        # variance 1 / zeta_A^2 (entrants' zeta_A = (1.06 + 0.2) x e / 0.5 at these values: the stock's
        # exponent plus the exit hazard's size elasticity, formulas.productivity_tail_exponent)
        zeta = formulas.productivity_tail_exponent(w.params, entrants=True)
        assert zeta == pytest.approx((1.06 + 0.2) * w.params["jobs_elasticity"] / 0.5)
        sd = np.sqrt(0.4**2 + zeta**-2)
        log_a = np.log(f.productivity[here])
        assert z(log_a.mean(), np.log(level) - 0.4**2 / 2 + (1 - np.log(2)) / zeta, sd, here.size) < 5
        assert abs(log_a.std() - sd) < 0.03
    # owners' cohorts in the entrepreneurs' mix
    shares = np.bincount(f.cohort[rows], minlength=4) / n
    assert np.abs(shares - OWNER_COHORT_SHARES).max() < 0.025
    # connected with probability connected_share x (1 + s), L uniform on [connection_min, 1]
    connected = f.connection[rows] > 0
    assert abs(connected.mean() - 0.2 * 1.5) < 0.02
    L = f.connection[rows][connected]
    assert L.min() >= 0.3 and L.max() <= 1.0 and abs(L.mean() - 0.65) < 0.02 and abs(L.std() - 0.7 / 12**0.5) < 0.02
    # association members; home officials' ranks uniform on [0, 1) and each entrant its own
    assert abs(f.member[rows].mean() - 0.25) < 0.02
    u = f.home_official[rows]
    assert abs(u.mean() - 0.5) < 0.02 and abs(u.std() - 12**-0.5) < 0.02 and np.unique(u).size == n
    # strength from capital, like any firm
    assert np.ptp(f.strength[rows]) > 0.1
    # firm_ties / 2 ties each, to incumbents of its own region
    m = w.ties.matrix(f.n).tocsr()
    for e in rows[:200]:
        nb = m[e].indices
        inc = nb[nb < 5]
        assert inc.size >= 1 and (f.region[inc] == f.region[e]).all()
    deg = np.asarray(m[rows][:, :5].sum(axis=1)).ravel()
    # 3 draws each (repeats merge): from region 0's 3 incumbents 3 (1 - (2/3)^3) = 2.11 distinct on
    # average (2 draws would give 1.67); from region 1's 2 incumbents, min(3, 2) = 2 draws, 1.5
    first = f.region[rows] == 0
    assert deg.max() <= 3 and abs(deg[first].mean() - 19 / 9) < 0.05 and abs(deg[~first].mean() - 1.5) < 0.05


def test_entrants_tie_to_the_only_incumbent_of_the_first_region_and_the_last_region_may_have_none():
    firms = [{"region": 0}, {"region": 1, "alive": False}]
    w = make_world(firms, regions="turkestan,zhambyl", akimats={"firms_initial": [50.0, 50.0]}, exit_hazard=0.5)
    log = make_log(w)
    entry.step(w, log, rng(2), rng(3))
    f, rows = w.firms, log.entered
    m = w.ties.matrix(f.n).tocsr()
    first = rows[f.region[rows] == 0]
    assert first.size and all(m[e, 0] for e in first)
    last = rows[f.region[rows] == 1]
    assert last.size and not m[last][:, :2].sum()


def _insider_world(symbiosis, insiders=2, **kwargs):
    """Region 0: an alive insider, an exited one, formal firms of capital 3, 5, 4, an informal
    firm of capital 10; region 1: firms of capital 1, 7, 7, 2 (the two 7s tie)."""
    firms = [
        {"insider": True, "connection": 1.0, "capital": 2.0},
        {"insider": True, "connection": 1.0, "capital": 9.0, "alive": False},
        {"capital": 3.0},
        {"capital": 5.0, "connection": 0.2},
        {"capital": 4.0},
        {"capital": 10.0, "formal": False},
        {"region": 1, "capital": 1.0},
        {"region": 1, "capital": 7.0},
        {"region": 1, "capital": 7.0},
        {"region": 1, "capital": 2.0},
    ]
    return make_world(firms, regions="turkestan,zhambyl", akimats={"symbiosis": symbiosis}, insiders=insiders, **kwargs)


def test_renew_insiders_replaces_an_exited_insider_by_the_largest_formal_firm():
    w = _insider_world(symbiosis=1.0)
    entry.renew_insiders(w)
    f = w.firms
    assert np.flatnonzero(f.insider).tolist() == [0, 1, 3, 7, 8]
    np.testing.assert_array_equal(f.connection, [1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    entry.renew_insiders(w)  # enough insiders now: nothing changes
    assert np.flatnonzero(f.insider).tolist() == [0, 1, 3, 7, 8]


def test_renew_insiders_keeps_round_s_times_insiders():
    w = _insider_world(symbiosis=0.5, insiders=4)  # round(0.5 x 4) = 2 a region
    entry.renew_insiders(w)
    assert np.flatnonzero(w.firms.insider).tolist() == [0, 1, 3, 7, 8]
    w = _insider_world(symbiosis=0.5, insiders=2)  # round(1.0) = 1: region 0 has its one
    entry.renew_insiders(w)
    assert np.flatnonzero(w.firms.insider).tolist() == [0, 1, 7]
    w = _insider_world(symbiosis=0.0, insiders=2)  # the partnership model keeps none
    entry.renew_insiders(w)
    assert np.flatnonzero(w.firms.insider).tolist() == [0, 1]


def test_renew_insiders_in_a_region_with_too_few_candidates_takes_them_all():
    w = _insider_world(symbiosis=1.0, insiders=6)
    entry.renew_insiders(w)
    assert np.flatnonzero(w.firms.insider).tolist() == [0, 1, 2, 3, 4, 6, 7, 8, 9]


# --- 11. observer ---------------------------------------------------------------------------


def _classify(rows, threshold=4.0):
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
        "output",
    )
    mem = {name: np.array([float(m.get(name, 1.0 if name == "output" else 0.0)) for m in rows]) for name in fields}
    return observer.classify(mem, interaction_threshold=threshold)


def test_observer_classify_at_the_rules_boundaries():
    rows = [
        # a dispute counts as an interaction: 2 dealings + 1 cooperation + 1 dispute = 4
        ({"dealings": 2, "cooperation": 1, "disputes": 1}, observer.CONFLICT),
        # resisted exactly as often as paid: not conflict; paid and lost more than received
        ({"dealings": 4, "refused": 1, "paid": 1, "extracted": 0.5}, observer.SUPPRESSION),
        # resisted more often, lost exactly 1% of output: conflict
        ({"dealings": 4, "refused": 2, "paid": 1, "extracted": 0.02, "output": 2.0}, observer.CONFLICT),
        # resisted more often, lost 0.5% of output (1% of output 2 is 0.02): not conflict
        ({"dealings": 4, "refused": 2, "extracted": 0.01, "output": 2.0}, observer.NON_INTERFERENCE),
        # resisted as often as paid (1 + 1 = 2), lost a little more than received: suppression
        ({"dealings": 4, "refused": 1, "reported": 1, "paid": 2, "extracted": 0.001}, observer.SUPPRESSION),
        # lost more than received but never paid (and few dealings): not suppression but patronage
        ({"dealings": 3, "support_events": 1, "support": 0.1, "extracted": 0.2}, observer.PATRONAGE),
        # paid, lost exactly what it received: not suppression; no cooperation: patronage
        ({"dealings": 4, "paid": 1, "extracted": 0.1, "support": 0.1, "support_events": 1}, observer.PATRONAGE),
        # one quarter of cooperation, received exactly what it lost: partnership
        ({"dealings": 4, "cooperation": 1, "paid": 1, "extracted": 0.1, "support": 0.1}, observer.PARTNERSHIP),
    ]
    labels = _classify([m for m, _ in rows])
    assert labels.dtype == np.int8
    assert [observer.REGIMES[c] for c in labels] == [observer.REGIMES[c] for _, c in rows]


def _observer_world():
    """Three regions: 0 with P 0.8 (strong), 1 with P exactly at the threshold 0.6 (strong), 2
    with P 0.3 (weak) and no firm in business. Firm strengths 0.2, 0.5 (exactly the business
    threshold: strong), 0.9; outputs over the last year known (they enter the conflict rule's
    loss of 1% of output, not the shares)."""
    firms = [
        {"region": 0, "strength": 0.2},
        {"region": 0, "strength": 0.5},
        {"region": 0, "strength": 0.9},
        {"region": 1, "strength": 0.2},
        {"region": 1, "strength": 0.9},
        {"region": 2, "strength": 0.9, "alive": False},
    ]
    w = make_world(
        firms,
        regions="turkestan,zhambyl,kyzylorda",
        akimats={"power": [0.8, 0.6, 0.3]},
        power_threshold=0.6,
        business_threshold=0.5,
        interaction_threshold=4.0,
        quarter=2,
    )
    f = w.firms
    f.memory("output")[0] = [0.25, 2.0, 3.0, 0.2, 0.3, 5.0]
    f.memory("output")[1] = [0.25, 2.0, 3.0, 0.2, 0.3, 5.0]
    f.memory("dealings")[1] = [1.0, 8.0, 2.0, 1.0, 0.0, 9.0]
    # firm 0: support in two quarters (0.5 and 0.3): 2 support events + 1 dealing < 4: non-interference
    # firm 2: support in two quarters and 2 dealings: 4 interactions, support: patronage
    f.memory("support")[0] = [0.5, 0.0, 0.4, 0.0, 0.0, 0.0]
    f.memory("support")[1] = [0.3, 0.0, 0.4, 0.0, 0.0, 0.0]
    f.memory("rule_bending")[1] = [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    return w


def test_observer_step_labels_quadrants_and_shares_of_relations():
    """Shares count each relation (firm in business) once, whatever its output: a firm with a
    thousand times the output moves no share (with output weights it would hold nearly all of
    its region's and its quadrant's share)."""
    w = _observer_world()
    obs = observer.Observer(w.firms.n, w.n_regions)
    obs.step(w, make_log(w))
    big = _observer_world()
    big.firms.memory("output")[:, 2] *= 1000.0
    obs_big = observer.Observer(big.firms.n, big.n_regions)
    obs_big.step(big, make_log(big))
    assert obs_big.labels.tolist() == obs.labels.tolist()
    np.testing.assert_array_equal(obs_big.shares, obs.shares)
    np.testing.assert_array_equal(obs_big.quadrant_shares, obs.quadrant_shares)
    ob = observer
    labels = [ob.NON_INTERFERENCE, ob.SUPPRESSION, ob.PATRONAGE, ob.NON_INTERFERENCE, ob.CAPTURE, ob.SUPPRESSION]
    assert obs.labels.tolist() == labels
    # quadrant: 0 strong P weak B, 1 strong P strong B, 2 weak P weak B, 3 weak P strong B
    assert obs.quadrant.tolist() == [0, 1, 1, 0, 1, 3] and obs.quadrant.dtype == np.int8
    weight = np.zeros((3, 4))
    weight[0] = [1.0, 2.0, 0, 0]  # relations per quadrant (the firm out of business in region 2 counts none)
    weight[1] = [1.0, 1.0, 0, 0]
    np.testing.assert_allclose(obs.quadrant_weight, weight)
    qs = np.zeros((3, 4, 6))
    qs[0, 0, ob.NON_INTERFERENCE] = 1.0
    qs[0, 1, ob.SUPPRESSION] = 1 / 2
    qs[0, 1, ob.PATRONAGE] = 1 / 2
    qs[1, 0, ob.NON_INTERFERENCE] = 1.0
    qs[1, 1, ob.CAPTURE] = 1.0
    np.testing.assert_allclose(obs.quadrant_shares, qs, atol=1e-15)
    shares = np.zeros((3, 6))
    shares[0, [ob.NON_INTERFERENCE, ob.SUPPRESSION, ob.PATRONAGE]] = [1 / 3, 1 / 3, 1 / 3]
    shares[1, [ob.NON_INTERFERENCE, ob.CAPTURE]] = [0.5, 0.5]
    np.testing.assert_allclose(obs.shares, shares, atol=1e-15)
    assert obs.regional_shares(0) == dict(zip(ob.REGIMES, shares[0].tolist()))
    assert obs.regional_shares(2) == dict.fromkeys(ob.REGIMES, 0.0)
    assert [obs.label_of(r) for r in (1, 2, 4, 6, 99)] == [
        "suppression",
        "patronage",
        "capture",
        "non_interference",
        "non_interference",
    ]


def test_observer_before_its_first_step_and_after_a_compaction():
    obs = observer.Observer(3, 2)
    assert obs.labels.tolist() == [observer.NON_INTERFERENCE] * 3 and obs.labels.dtype == np.int8
    assert obs.quadrant.tolist() == [0, 0, 0] and obs.quadrant.dtype == np.int8
    assert obs.shares.shape == (2, 6) and not obs.shares.any()
    assert obs.quadrant_shares.shape == (2, 4, 6) and not obs.quadrant_shares.any()
    assert obs.quadrant_weight.shape == (2, 4) and not obs.quadrant_weight.any()
    assert obs.label_of(0) == "non_interference" and obs.regional_shares(1) == dict.fromkeys(observer.REGIMES, 0.0)
    obs.labels[:] = [observer.CAPTURE, observer.CONFLICT, observer.PATRONAGE]
    obs.quadrant[:] = [3, 2, 1]
    # rows 0 and 2 stay (as 0 and 1), row 1 exited, rows 3 and 4 were added since the last step
    obs.remap(np.array([0, -1, 1, 2, 3]))
    assert obs.labels.tolist() == [observer.CAPTURE, observer.PATRONAGE] + [observer.NON_INTERFERENCE] * 2
    assert obs.labels.dtype == np.int8 and obs.quadrant.dtype == np.int8
    assert obs.quadrant.tolist() == [3, 1, 0, 0]


# --- kpi.measure, several regions --------------------------------------------------------------


def test_kpi_measure_per_region_with_an_empty_last_region():
    """Region 0: a firm exactly at the high-performance level and one just below it; region 1:
    one firm of capital 0 (exactly 1 job, the owner); region 2: no firm (no jobs, no wage)."""
    sigma = 0.5
    level = 0.12 * np.exp(0.674 * sigma - sigma**2 / 2)
    firms = [
        {"region": 0, "capital": 1.0, "productivity": level},
        {"region": 0, "capital": 2.0, "productivity": level * 0.999},
        {"region": 1, "capital": 0.0, "productivity": 5.0},
    ]
    w = make_world(
        firms,
        regions="turkestan,zhambyl,kyzylorda",
        productivity=0.12,
        productivity_dispersion=sigma,
        labour_share=0.5,
        jobs_per_capital=3.0,
        jobs_elasticity=1.0,
        micro_capital=1.0,
        small_capital=8.0,
        medium_capital=40.0,
    )
    w.entrant_capital_last = np.zeros(3)
    log = make_log(w, firm={"output": [1.0, 3.0, 2.0]})
    k = kpi.measure(w, log)
    np.testing.assert_allclose(k["jobs"], [4.0 + 7.0, 1.0, 0.0])
    np.testing.assert_allclose(k["high_performance_jobs"], [4.0, 1.0, 0.0])
    np.testing.assert_array_equal(k["small_businesses"], [2.0, 1.0, 0.0])
    assert k["small_businesses"].dtype == float
    # wage = labour share x output / jobs: 0.5 x 4 / 11 and 0.5 x 2 / 1; none in region 2 (base 1)
    np.testing.assert_allclose(w.initial_wage, [2.0 / 11.0, 1.0, 1.0])
    np.testing.assert_allclose(k["real_wages"], [100.0, 100.0, 0.0])


# --- 2. dealings ------------------------------------------------------------------------------


class Counts(Recorder):
    """A Recorder whose Poisson draws (the numbers of dealings) are given by the test."""

    def __init__(self, counts, seed=0):
        super().__init__(seed)
        self.counts = np.asarray(counts, dtype=np.int64)

    def poisson(self, lam):
        self.calls.append(("poisson", (lam,), self.counts))
        return self.counts.copy()


#: Region 0 (P 0.7, c 0.5, s 0.5): firm 0 an outsider that took part in consultation and had one
#: dealing last year; firm 1 an insider (fully connected, with a corrupt home official) and a
#: captor; firm 2 connected exactly at connected_from (not an outsider); firm 3 a client of its
#: home official (not an outsider); firm 4 informal.
#: Region 1 holds only an exited firm (no output).
DEALINGS_FIRMS = [
    {"strength": 0.3, "perceived_detection": 0.2, "home_official": 0.9},
    {
        "strength": 0.6,
        "perceived_detection": 0.4,
        "home_official": 0.1,
        "insider": True,
        "captor": True,
        "connection": 1.0,
    },
    {"strength": 0.5, "perceived_detection": 0.1, "home_official": 0.9, "connection": 0.5},
    {"strength": 0.4, "perceived_detection": 0.3, "home_official": 0.2, "client": True, "connection": 0.0},
    {"strength": 0.2, "perceived_detection": 0.2, "home_official": 0.9, "formal": False},
    {"region": 1, "alive": False},
]
DEALINGS_PARAMS = dict(
    dealings_mature=2.0,
    dealings_reach=1.5,
    dealings_power=1.0,
    outsider_bias=0.8,
    outsider_inspection_share=0.5,
    capture_harassment=1.0,
    informal_dealings=0.5,
    informal_demand=1.5,
    discretionary_share=0.5,
    choice_sensitivity=5.0,
    visibility_base=0.5,
    transparency=0.5,
    transparency_demand=0.4,
    transparency_detection=0.3,
    audit_rate=0.2,
    home_share=0.6,
    connected_from=0.5,
    bribe_size=0.1,
    bargaining_exponent=1.0,
    rent_stake=0.0,
    giver_penalty=0.5,
    audit_penalty=1.0,
    delay_cost=0.3,
    report_cost=0.05,
    retaliation=0.2,
    legal_quality=0.4,
    consultation_voice=0.5,
    official_rotation=0.0,
)


def _dealings_world(**kwargs):
    w = make_world(
        DEALINGS_FIRMS,
        regions="almaty,astana",  # two cities without mining: no rent segment, every dealing an ordinary one
        akimats={"power": 0.7, "corrupt_share": 0.5, "symbiosis": 0.5},
        memory={
            "dealings": [1.0, 0, 0, 0, 0, 0],
            "extracted": [0.01, 0, 0, 0, 0, 0],
            "output": [1.0, 1, 1, 1, 1, 0],
            "consulted": [1.0, 0, 0, 0, 0, 0],
        },
        **(DEALINGS_PARAMS | kwargs),
    )
    return w


def test_dealings_rates_demand_and_choice_probabilities_by_hand():
    w = _dealings_world()
    f = w.firms
    y = w.potential_output()
    r = Counts([3, 3, 3, 3, 3, 0])
    log = make_log(w)
    dealings.step(w, log, r)
    np.testing.assert_array_equal(log.potential_output, y)  # read by the economy step
    s, P, c = 0.5, 0.7, 0.5
    outsider = np.array([1, 0, 0, 0, 1, 1.0])  # the exited row too (no dealings: it never matters)
    L = np.array([0, 1.0, 0.5, 1.0, 0, 0])  # a client counts as fully connected (to other officials)
    # dealings: rate x reach x P x (1 + share x s bias x outsider) x (1 + harassment x captors' share of
    # output for non-captors) x informal factor x (1 - d + d exp(-sensitivity x cost))
    rival = (y[1] / y[:5].sum()) * np.array([1, 0, 1, 1, 1, 0.0])
    cost = np.array([0.01 * 4.0 / (1.0 * 1.0), 0, 0, 0, 0, 0])
    lam = 2.0 * 1.5 * P * (1 + 0.5 * s * 0.8 * outsider) * (1 + rival) * np.array([1, 1, 1, 1, 0.5, 0])
    lam *= 0.5 + 0.5 * np.exp(-5.0 * cost)
    np.testing.assert_allclose(r.args("poisson")[0][0], lam, rtol=1e-12)
    # demand probability: home official corrupt (u < c) shielded by s L_own; others by s max(L, client)
    home_corrupt = (f.home_official < c).astype(float)
    corrupt = 0.6 * home_corrupt * (1 - s * f.connection) + 0.4 * c * (1 - s * L)
    vis = 0.5 + 0.5 * f.strength
    demand_p = corrupt * (1 - 0.4 * 0.5) * vis * (1 + s * 0.8 * outsider) * np.array([1, 1, 1, 1, 1.5, 1])
    np.testing.assert_allclose(r.args("binomial")[0][1], np.clip(demand_p, 0, 1), rtol=1e-12)
    # the choice, for the firms that met a demand
    demanded = np.flatnonzero(r.results("binomial")[0])
    assert demanded.size >= 3
    B = f.strength[demanded]
    bribe = 0.1 * P / (P + B)
    harm = P * (1 - B)  # the full delay: patronage no longer shortens it by a factor s L
    q = np.array([0.2, 0.4, 0.1, 0.3, 0.2])[demanded]
    legal = 0.4 + np.where(demanded == 0, 0.5 * 0.6, 0.0)
    upheld = legal * (1 - c)
    u = np.stack([-bribe - q * 0.5, -0.3 * harm, -0.05 - (1 - upheld) * 0.5 * harm])
    e = np.exp(5.0 * u)
    prob = e / e.sum(axis=0)
    pay_call, refuse_call = r.args("binomial")[1], r.args("binomial")[2]
    np.testing.assert_allclose(pay_call[1], prob[0], rtol=1e-12)
    np.testing.assert_allclose(refuse_call[1], prob[1] / (prob[1] + prob[2]), rtol=1e-12)
    d_true = 1 - 0.8 * (1 - 0.3 * 0.5)
    assert r.args("binomial")[3][1] == d_true
    np.testing.assert_allclose(r.args("binomial")[4][1], upheld, rtol=1e-12)


def test_dealings_cost_accounting_fines_and_clients():
    """What the firm loses: bribes paid, delays of refusals, reports and their failure; one
    demanded firm, so that the region's ``caught`` (upheld reports, no audits) is its upheld."""
    w = _dealings_world(audit_rate=0.0, transparency=0.0, legal_quality=0.6, choice_sensitivity=0.5)
    for row in (1, 2, 3, 4):
        w.firms.alive[row] = row == 4  # firm 4 (informal) keeps no dealings
    log = make_log(w)
    r = Counts([40, 0, 0, 0, 0, 0])
    dealings.step(w, log, r)
    ev = log.firm
    paid, refused, reported = ev["paid"][0], ev["refused"][0], ev["reported"][0]
    assert paid > 0 and refused > 0 and reported > 0 and paid + refused + reported == ev["demands"][0]
    upheld = log.region["caught"][0]
    assert 0 < upheld < reported  # some reports upheld, some failed
    y = w.potential_output()[0]
    bribe = 0.1 * 0.7 / (0.7 + 0.3)
    harm = 0.7 * 0.7 * 1.0
    expected = y * (paid * bribe + refused * 0.3 * harm + reported * 0.05 + (reported - upheld) * 0.5 * harm)
    # speed money in the dealings without a demand: accepted offers pay the bribe, the others wait; the
    # home official is honest (u 0.9 >= c 0.5), so the firm expects to wait 0.6 x 0.5 (his queue) + 0.4 x
    # (0.5 + 0.5 x 0.5) (others, half corrupt) = 0.6 of the full delay; the wait is not charged as a loss
    took, waiting = ev["offer_paid"][0], ev["dealings"][0] - ev["demands"][0] - ev["offer_paid"][0]
    assert ev["offered"][0] >= took and waiting > 0
    expected += y * took * bribe
    assert np.isclose(ev["extracted"][0], expected, rtol=1e-12)
    assert np.isclose(ev["delay"][0], refused + reported + waiting * 0.6, rtol=1e-12)
    assert ev["fines"][0] == 0 and not ev["detected"].any()
    assert np.isclose(log.region["bribe_income"][0], y * (paid + took) * bribe, rtol=1e-12)
    # firm 0 paid, but its home official is honest (u 0.9 >= c 0.5): no patron, no client tie
    assert not w.firms.client[0]


def test_dealings_informal_firms_found_out_pay_a_fine_in_quarters_of_tax():
    firms = [
        {"formal": False, "home_official": 0.0},  # 1 dealing, meets demands and pays
        {"formal": False, "home_official": 0.9},  # 1 dealing
        {"formal": False},  # no dealing
        {},
    ]
    w = make_world(
        firms,
        regions="turkestan,zhambyl",
        akimats={"corrupt_share": 1.0, "power": 0.9},
        audit_rate=1.0,
        informal_fine_quarters=4.0,
        tax_rate=0.1,
        giver_penalty=0.5,
        audit_penalty=0.1,
        choice_sensitivity=500.0,
        bribe_size=0.001,
        delay_cost=1.0,
        report_cost=1.0,
        official_rotation=0.0,
        visibility_base=1.0,
        transparency=0.0,
        informal_demand=5.0,
    )
    y = w.potential_output()
    log = make_log(w)
    dealings.step(w, log, Counts([1, 1, 0, 0]))
    ev = log.firm
    assert log.region["dealings"].tolist() == [2.0, 0.0]  # the second region holds no firm
    assert log.region["demands"][1] == 0 and log.region["caught"][1] == 0
    assert ev["paid"][0] == 1 and ev["detected"][0] == 1
    # caught paying (0.05 quarters of output) and found out as informal (4 quarters of 10% tax)
    np.testing.assert_allclose(ev["fines"], [y[0] * 0.45, y[1] * (0.4 + 0.05 * ev["paid"][1]), 0, 0], rtol=1e-12)
    # without audits (nor transparency) nobody is found out, nor caught paying
    w.params["audit_rate"] = 0.0
    log = make_log(w)
    dealings.step(w, log, Counts([1, 1, 0, 0]))
    assert not log.firm["fines"].any()


def test_dealings_a_payer_of_a_corrupt_home_official_becomes_a_client_under_symbiosis():
    w = _all_pay_world_symbiotic()
    log = make_log(w)
    dealings.step(w, log, Counts([1, 30, 0]))
    assert log.firm["paid"][0] == 1 and log.firm["paid"][1] > 0  # firm 1 paid other officials
    assert w.firms.client.tolist() == [True, False, False]


def _all_pay_world_symbiotic():
    """Firm 0: corrupt home official (u 0 < c 0.5); firm 1: an honest one (u exactly c), but half
    its dealings go to other officials, half of whom are corrupt; both pay whatever is asked."""
    firms = [{"home_official": 0.0}, {"home_official": 0.5}, {"home_official": 0.0}]
    return make_world(
        firms,
        akimats={"corrupt_share": 0.5, "power": 0.9, "symbiosis": 1.0},
        choice_sensitivity=500.0,
        bribe_size=0.001,
        delay_cost=1.0,
        report_cost=1.0,
        official_rotation=0.0,
        visibility_base=1.0,
        transparency=0.0,
        outsider_bias=0.0,
        home_share=0.5,
        audit_rate=0.0,
    )


def test_dealings_rotation_draws_one_uniform_per_firm():
    w = make_world([{"home_official": 0.3}, {"home_official": 0.6}], official_rotation=0.5)
    r = Counts([0, 0])
    dealings.step(w, make_log(w), r)
    first = r.args("random")[0]
    assert first == (2,)
    rotated = r.results("random")[0] < 0.5
    assert rotated.any() and not rotated.all()  # seed 0: one each
    fresh = r.results("random")[1]
    np.testing.assert_array_equal(w.firms.home_official[rotated], fresh)
    assert w.firms.home_official[~rotated].tolist() in ([0.3], [0.6])


# --- 9. economy -------------------------------------------------------------------------------


def _economy_log(world, **firm):
    log = make_log(world, firm=firm)
    log.potential_output = world.potential_output()
    return log


ECONOMY = dict(
    capital_elasticity=0.5,
    labour_share=0.5,
    tax_rate=0.2,
    tax_benefit=0.0,
    fixed_cost=0.0,
    informality_burden=0.2,
    tax_morale=0.5,
    exit_losses=4,
    min_capital=0.25,
    depreciation=0.5,
    exit_hazard=0.1,
    informality_rate=0.1,
    output_shock=0.0,
)


def test_economy_output_shocks_are_one_draw_per_firm():
    w = make_world([{}, {}, {}], **(ECONOMY | {"output_shock": 0.2, "exit_hazard": 0.0, "informality_rate": 0.0}))
    log = _economy_log(w)
    r = Recorder()
    economy.step(w, log, r)
    (z,) = r.results("standard_normal")
    assert r.args("standard_normal")[0] == (3,) and np.unique(z).size == 3
    np.testing.assert_allclose(log.firm["output"], log.potential_output * np.exp(0.2 * z), rtol=1e-14)


def test_economy_boundaries_of_informality_and_exit_draws_and_the_capital_floor():
    """Burden exactly at the tolerance: a formal firm stays formal, an informal one comes back;
    draws exactly at the informality rate and at a firm's exit hazard do not switch or exit; capital
    falling exactly to min_capital does not exit. Output A K^alpha = 0.5 x 4^0.5 = 1 exactly."""
    firms = [
        {"productivity": 0.5, "capital": 4.0},  # formal, burden 0.2 = tolerance
        {"productivity": 0.5, "capital": 4.0, "formal": False},  # informal, burden if formal 0.2
        {"productivity": 0.0, "capital": 0.5, "formal": False},  # no output: burden 0 (not 0/0)
        {"alive": False, "capital": 0.0},  # exited earlier: stays at capital 0
    ]
    w = make_world(firms, **(ECONOMY | {"fixed_cost": 1.0}))
    log = _economy_log(w)
    f = w.firms
    hazard = formulas.exit_hazard(f.capital, f.age, f.region, f.alive, w.params, 1)  # each firm's own
    economy.step(w, log, Draws(0.0, hazard))  # every firm draws a switch; draws of exactly its exit hazard
    f = w.firms
    assert log.firm["output"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert f.formal[:3].tolist() == [True, True, True]
    # profits < 0: no investment; capital halves; 0.5 -> 0.25 = min_capital does not exit
    assert f.alive.tolist() == [True, True, True, False] and log.exited.size == 0
    assert f.capital.tolist() == [2.0, 2.0, 0.25, 0.0]
    assert f.loss_streak[:3].tolist() == [1, 1, 1]


def test_economy_switch_draws_are_one_per_firm_and_exits_are_counted_per_region():
    firms = [{"region": 0, "productivity": 0.5, "capital": 4.0} for _ in range(40)] + [{"region": 1}]
    w = make_world(firms, regions="turkestan,zhambyl,kyzylorda", **(ECONOMY | {"informality_burden": 0.0}))
    log = _economy_log(w, extracted=0.0)
    r = Recorder(3)
    economy.step(w, log, r)
    switch, hazard = r.results("random")
    assert r.args("random") == [(41,), (41,)]
    went = ~w.firms.formal[:40]
    np.testing.assert_array_equal(went, switch[:40] < 0.1)
    assert 0 < went.sum() < 40
    exited = np.flatnonzero(hazard < 0.1)
    assert exited.size and (exited < 40).all()  # this seed: exits in region 0 only
    np.testing.assert_array_equal(log.exited, exited)
    np.testing.assert_array_equal(log.region["exits"], [exited.size, 0, 0])
    assert log.region["fixed_investment"].shape == (3,) and w.akimats.tax_revenue.shape == (3,)
    assert log.region["fixed_investment"][2] == 0 and w.akimats.tax_revenue[2] == 0


def test_economy_demand_rate_of_one_dealing_lowers_investment():
    """One dealing this quarter with a demand: demand rate 1, investment x (1 - s (1 - legal))."""
    firms = [{"productivity": 0.5, "capital": 4.0, "strength": 0.5, "trust": 1.0} for _ in range(2)]
    w = make_world(
        firms,
        akimats={"power": 0.5},
        **(ECONOMY | {"exit_hazard": 0.0, "informality_rate": 0.0, "legal_quality": 0.2, "reinvestment": 1.0}),
    )
    log = _economy_log(w, dealings=[1.0, 0.0], demands=[1.0, 0.0])
    economy.step(w, log, rng())
    profit = 0.5 * 1.0 - 0.2 * 1.0
    invest = profit * np.array([1 - 0.5 * 0.8, 1.0])  # s = 1/2 at P = B
    np.testing.assert_allclose(w.firms.capital, 2.0 + invest, rtol=1e-14)


def test_economy_a_switch_draw_exactly_at_the_rate_does_not_switch():
    w = make_world([{"productivity": 0.5, "capital": 4.0}], **(ECONOMY | {"informality_burden": 0.0}))
    economy.step(w, _economy_log(w), Draws(0.1, 0.5))
    assert w.firms.formal[0]
    economy.step(w, _economy_log(w), Draws(0.0999, 0.5))
    assert not w.firms.formal[0]


# --- 5. PPP -----------------------------------------------------------------------------------

PPP_LIFE = dict(
    renegotiation=0.4,
    termination=0.5,
    opportunism=0.5,
    opportunism_trust=1.5,
    reneging=0.3,
    legal_reneging=0.5,
    rent_weight=0.6,
    training_effect=0.5,
    lifecycle_effect=0.5,
    ppp_training=0.4,
    legal_quality=0.3,
    consultation=0.5,
    ppp_cofinancing=0.3,
    jobs_per_cost=0.5,
    partner_return=0.05,
    operation_quarters=20,
)


def test_ppp_disputes_resolve_and_open_by_the_documented_probabilities():
    """300 contracts of partners with known trust, a third of them in dispute: each contract's
    fate follows the rule for the uniform draws it got (recorded), so a changed probability
    changes the fate of the contracts whose draws fall between the two."""
    n_firms = 6
    trust = np.linspace(0.1, 0.9, n_firms)
    w = make_world([{"trust": t} for t in trust], akimats={"symbiosis": 0.5}, **PPP_LIFE)
    n = 300
    for i in range(n):
        w.projects.add(
            region=0,
            firm=i % n_firms,
            sector=1,
            cost=40.0,
            equity=5.6,
            lifecycle=bool(i % 2),
            phase=OPERATION,
            status=DISPUTED if i % 3 == 0 else PERFORMING,
            left=10,
            duration=4,
            started=0,
            replacements=0,
        )
    log = make_log(w)
    r = Recorder(7)
    ppp.step(w, log, r)
    u, u_opp, u_ren = r.results("random")
    assert r.args("random") == [(n,), (n,), (n,)]
    firm = np.arange(n) % n_firms
    T = trust[firm]
    lifecycle = (np.arange(n) % 2).astype(float)
    disputed = np.arange(n) % 3 == 0
    reneg_p = 0.4 * (0.3 + T) / 2 * (1 + 0.5) / 2
    term_p = 0.5 * (1 - 0.3)
    renegotiated = disputed & (u < reneg_p)
    terminated = disputed & ~renegotiated & (u < reneg_p + term_p)
    opp = 0.5 * (1.5 - T) * (1 - 0.5 * lifecycle) * (1 - 0.5 * 0.4)
    ren = 0.3 * (1 - 0.5 * 0.3) * (1 + 0.5 * 0.6) * (1 - 0.5 * 0.4)
    partner = ~disputed & (u_opp < opp)
    akimat = ~disputed & (u_ren < ren)
    status = np.where(renegotiated, RENEGOTIATED, np.where(terminated, TERMINATED, np.full(n, PERFORMING)))
    status = np.where(disputed & ~renegotiated & ~terminated, DISPUTED, status)
    status = np.where(partner | akimat, DISPUTED, status)
    np.testing.assert_array_equal(w.projects.status[:n], status)
    np.testing.assert_array_equal(w.projects.phase[:n][terminated], ENDED)
    for outcome in (renegotiated, terminated, partner & ~akimat, akimat & ~partner):
        assert 0 < outcome.sum()  # every branch taken
    in_dispute = (partner | akimat) | (disputed & ~terminated & ~renegotiated)
    np.testing.assert_array_equal(log.firm["disputes"], np.bincount(firm[in_dispute], minlength=n_firms))
    np.testing.assert_array_equal(log.firm["reneged_on"], np.bincount(firm[akimat], minlength=n_firms))


def test_ppp_tenders_of_a_quarter_add_up_and_a_lapsed_one_does_not_stop_the_next():
    firms = [  # capital 10: each can carry the equity of the whole planned project (0.2 x 0.7 x 10 <= 0.5 x 10)
        {"region": 1, "strength": 1.0, "productivity": 0.1, "capital": 10.0},
        {"region": 1, "strength": 1.0, "productivity": 0.3, "capital": 10.0},
        {"region": 1, "strength": 1.0, "productivity": 0.2, "capital": 10.0},
        {"region": 0, "strength": 0.0},  # never bids: region 0's tender lapses
    ]
    w = make_world(
        firms,
        regions="turkestan,zhambyl",
        akimats={"ppp_fund": 0.0, "symbiosis": 0.0},
        ppp_bid_exponent=1.0,
        ppp_size=10.0,
        construction_quarters=2,
        construction_delay=0.0,
        lifecycle_contracts=0.5,
        **(PPP_LIFE | {"opportunism": 0.0, "reneging": 0.0}),
    )
    log = make_log(w, region={"ppp_construction_spending": [1.0, 2.0], "ppp_offbudget": [0.5, 0.5], "ppp_jobs": [3, 4]})
    log.tenders.extend([(0, 1), (1, 2), (1, 3)])
    r = Recorder(11)
    ppp.step(w, log, r)
    assert w.akimats.ppp_fund[0] == 0.3 * 10.0  # the lapsed tender's public part returns
    assert w.akimats.ppp_fund[1] == 0.0  # the projects take all they reserved
    assert len(w.projects) == 2 and log.region["ppp_started"].tolist() == [0, 2]
    np.testing.assert_allclose(log.region["ppp_private_investment"], [0.0, 2 * 0.7 * 10.0])
    # the winners: argmax of score + Gumbel noise (a draw per bidder)
    score = formulas.selection_score(formulas.merit(w.firms.productivity), w.firms.connection, 0.0, w.params)
    bidders = np.array([0, 1, 2])
    gumbel = r.results("gumbel")
    assert [g.shape for g in gumbel] == [(3,), (3,)]
    winners = [bidders[np.argmax(score[bidders] + g)] for g in gumbel]
    assert w.projects.firm[:2].tolist() == winners
    # a life-cycle contract with probability lifecycle_contracts (one uniform draw each)
    life = [u < 0.5 for u in r.results("random")[1:3]]
    assert w.projects.lifecycle[:2].tolist() == life and w.projects.lifecycle[:2].dtype == bool
    # both start construction this quarter: spending cost / duration each, added to what was there
    np.testing.assert_allclose(log.region["ppp_construction_spending"], [1.0, 2.0 + 2 * 10.0 / 2])
    np.testing.assert_allclose(log.region["ppp_offbudget"], [0.5, 0.5 + 2 * 5.0 * 0.7])
    np.testing.assert_allclose(log.region["ppp_jobs"], [3.0, 4.0 + 2 * 5.0 * 0.5])


# --- 3. support -------------------------------------------------------------------------------


def test_support_applications_and_awards_follow_the_recorded_draws():
    """40 firms in region 0 with trust from 0 to 1; region 1's firms are informal (never apply);
    region 2 has a budget so large that every applicant is funded with certainty; region 3 is
    empty. First the applications, with the draws recorded; then the awards, with every
    award draw 1/2, so that a firm is funded exactly when its probability k w / sum(w) > 1/2."""
    n0 = 40
    firms = [{"trust": t, "productivity": 0.05 * 1.1**i} for i, t in enumerate(np.linspace(0, 1, n0))]
    firms += [{"region": 1, "formal": False}, {"region": 1, "formal": False}]
    firms += [{"region": 2, "trust": 1.0, "productivity": 0.1 * (1 + i)} for i in range(3)]
    values = dict(
        regions="turkestan,zhambyl,kyzylorda,almaty_region",
        akimats={"support_budget": [4.0, 1.0, 100.0, 1.0], "symbiosis": 0.5},
        apply_base=0.2,
        apply_trust=0.6,
        grant=0.2,
        support_compliance=0.0,
        favouritism=0.8,
        connection_weight=3.0,
    )
    w = make_world(firms, **values)
    r = Recorder(5)
    support.step(w, make_log(w), r)
    u_apply = r.results("random")[0]
    assert r.args("random") == [(w.firms.n,), (w.firms.n,), (w.firms.n,)]  # applications, awards, detection
    f = w.firms
    applicant = f.alive & f.formal & (u_apply < 0.2 + 0.6 * f.trust)
    assert 5 < applicant[:n0].sum() < n0
    np.testing.assert_array_equal(r.results("random")[1] < 1.0, True)
    # the awards, every firm applying (draw 0) and every award draw 1/2
    w = make_world(firms, **values)
    log = make_log(w)
    support.step(w, log, Draws(0.0, 0.5, 1.0))
    f = w.firms
    applicant = f.alive & f.formal
    score = formulas.selection_score(formulas.merit(f.productivity), f.connection, 0.5, w.params)
    weight = np.exp(score) * applicant
    total = np.bincount(f.region, weights=weight, minlength=4)
    k = np.array([4.0, 1.0, 100.0, 1.0]) / 0.2
    prob = np.minimum(
        1.0, np.divide(k[f.region] * weight, total[f.region], out=np.zeros(f.n), where=total[f.region] > 0)
    )
    got = 0.5 < prob
    assert 5 < got[:n0].sum() < n0 and got[n0 + 2 :].all() and not got[n0 : n0 + 2].any()
    count = np.bincount(f.region, weights=got, minlength=4)
    expected = got * np.divide([4.0, 1.0, 100.0, 1.0], count, out=np.zeros(4), where=count > 0)[f.region]
    np.testing.assert_allclose(log.firm["support"], expected, rtol=1e-12)


def test_support_kickback_rents_and_capture_income_at_their_edges():
    firms = [
        {"home_official": 0.35, "strength": 0.5, "capital": 0.5, "client": True},  # u = c: honest; the only member
        {"region": 1, "home_official": 0.1, "strength": 0.5, "captor": True, "capital": 0.5},  # the only captor
    ]
    w = make_world(
        firms,
        regions="turkestan,zhambyl,kyzylorda",
        akimats={
            "support_budget": [1.0, 1.0, 0.0],
            "corrupt_share": 0.35,
            "power": 0.5,
            "rents": [0.3, 0.0, 0.2],
            "capture_transfer": [0.0, 0.4, 0.1],
        },
        apply_base=1.0,
        apply_trust=0.0,
        grant=0.01,
        support_compliance=0.0,
        kickback=0.2,
        bargaining_exponent=1.0,
    )
    log = make_log(w, region={"bribe_income": [0.1, 0.2, 0.3]})
    support.step(w, log, rng())
    kickback = 1.0 * 0.2 * 0.5  # firm 1's grant of 1, s_b = 1/2
    np.testing.assert_allclose(log.firm["support"], [1.0 + 0.3, 1.0], rtol=1e-12)
    np.testing.assert_allclose(log.firm["extracted"], [0.0, kickback], rtol=1e-12)
    np.testing.assert_allclose(log.region["bribe_income"], [0.1, 0.2 + kickback, 0.3], rtol=1e-12)
    np.testing.assert_allclose(log.firm["capture_income"], [0.0, 0.4], rtol=1e-12)


# --- 8. trust ---------------------------------------------------------------------------------


def test_trust_one_dealing_with_a_demand_and_a_firm_without_ties():
    """Firm 0: one dealing, one demand, and reneged on (h = 1 - 1 - 1, clipped to 0); firm 1: no
    dealings, reneged on (h = 0); firm 2: demands in 2 of 4 dealings (h = 1/2). Firm 3 has no
    ties: word of mouth leaves its S."""
    firms = [{"trust": 0.5, "satisfaction": 0.2} for _ in range(3)] + [{"trust": 0.5, "satisfaction": 0.6}] * 2
    w = make_world(
        firms,
        ties=[(0, 1), (1, 2)],
        trust_rate=0.5,
        satisfaction_rate=0.0,
        word_of_mouth=0.5,
        consultation=0.0,
    )
    log = make_log(w, firm={"dealings": [1, 0, 4, 0, 1], "demands": [1, 0, 2, 0, 1], "reneged_on": [1, 1, 0, 0, 0]})
    trust.step(w, log, rng())
    # firm 4: a demand in its one dealing, h = 0
    np.testing.assert_allclose(w.firms.trust, [0.25, 0.25, 0.5, 0.75, 0.25], rtol=1e-14)
    # S stays (rate 0); word of mouth: firms 0-2 all at 0.2; firms 3 and 4 keep 0.6
    np.testing.assert_allclose(w.firms.satisfaction, [0.2, 0.2, 0.2, 0.6, 0.6], rtol=1e-14)


def test_trust_gain_counts_ppp_income_and_an_exited_firm_has_no_satisfaction():
    firms = [{"satisfaction": 0.0}, {"satisfaction": 0.4, "alive": False}]
    w = make_world(firms, satisfaction_rate=1.0, experience_scale=1.0, word_of_mouth=0.0, consultation=0.0)
    log = make_log(w, firm={"output": [1.0, 1.0], "support": [0.1, 0.0], "ppp_income": [0.2, 0.0]})
    trust.step(w, log, rng())
    np.testing.assert_allclose(w.firms.satisfaction, [np.tanh(0.3 / 1.0), 0.0], rtol=1e-14)
    np.testing.assert_allclose(log.firm["experience"], [0.3, 0.0], rtol=1e-14)


# --- 9. tournament ----------------------------------------------------------------------------


def _kpis(values, flows=None):
    """One quarter's KPIs: the stocks at ``values``, the flows at ``flows`` (default: the same)."""
    flows = values if flows is None else flows
    out = {name: np.array(values if name in tournament.STOCKS else flows, dtype=float) for name in KPI_NAMES}
    out["jobs"] = np.ones(len(values))
    return out


def _rising_world(monkeypatch, quarter=1, regions="turkestan,zhambyl", per_region=None, **kwargs):
    """KPI history of 8 quarters in which a region's every KPI is ``per_region[r](t)``, t = 1..8:
    region 0 rises 1, 2, ..., 8; region 1 stays at 0."""
    per_region = per_region or [lambda t: float(t), lambda t: 0.0]
    w = make_world(quarter=quarter, regions=regions, **kwargs)
    for t in range(1, 8):
        w.kpi_history.append(_kpis([f(t) for f in per_region]))
    monkeypatch.setattr(tournament, "measure", lambda world, log: _kpis([f(8) for f in per_region]))
    return w


def test_tournament_stocks_grow_by_level_and_flows_by_sum(monkeypatch):
    """Stocks rise 1, 2, ..., 8 (growth (8 - 4) / 4 = 1); flows stay at 1 (growth 0). Taking a
    stock for a flow would make its growth (5 + 6 + 7 + 8 - 10) / 10 = 1.6."""
    w = make_world(quarter=1, regions="turkestan", akimats={"power": 0.5}, growth_scale=1.0)
    for t in range(1, 8):
        w.kpi_history.append(_kpis([float(t)], flows=[1.0]))
    monkeypatch.setattr(tournament, "measure", lambda world, log: _kpis([8.0], flows=[1.0]))
    tournament.step(w, make_log(w), rng())
    stocks = len(tournament.STOCKS)
    expected = (stocks / (1 + np.exp(-1.0)) + (len(KPI_NAMES) - stocks) * 0.5) / len(KPI_NAMES)
    np.testing.assert_allclose(w.akimats.score, [expected], rtol=1e-14)


def test_tournament_growth_of_stocks_and_flows_on_a_rising_history(monkeypatch):
    """Stocks: level against the level a year ago, (8 - 4) / 4 = 1; flows: the last 4 quarters
    against the first 4, (5 + 6 + 7 + 8 - 10) / 10 = 1.6; a KPI that was 0 a year ago has no growth."""
    w = _rising_world(monkeypatch, akimats={"power": 0.5}, growth_scale=1.0, power_learning=0.0, power_anchor=0.0)
    tournament.step(w, make_log(w), rng())

    def logistic(x):
        return 1 / (1 + np.exp(-x / 1.0))

    stocks = len(tournament.STOCKS)
    expected = (stocks * logistic(1.0) + (len(KPI_NAMES) - stocks) * logistic(1.6)) / len(KPI_NAMES)
    np.testing.assert_allclose(w.akimats.score, [expected, 0.5], rtol=1e-14)


def test_tournament_power_is_clipped_and_the_chosen_symbiosis_stays_within_0_and_1(monkeypatch):
    w = _rising_world(
        monkeypatch,
        per_region=[lambda t: float(t), lambda t: 9.0 - t],  # region 1 falls: score near 0
        akimats={"power": [0.985, 0.015], "structural_power": [0.985, 0.015], "symbiosis": [0.05, 0.95]},
        growth_scale=0.01,
        power_learning=1.0,
        power_anchor=0.0,
        symbiosis_step=0.2,
    )
    tournament.step(w, make_log(w), rng())
    score = w.akimats.score
    assert score[0] > 0.99 and score[1] < 0.01
    np.testing.assert_allclose(w.akimats.power, [0.99, 0.01], rtol=1e-14)  # + 0.49 and - 0.49, clipped
    s = w.akimats.symbiosis
    # a move past a bound is clipped onto it: 0.05 - 0.2 -> 0, 0.95 + 0.2 -> 1
    assert np.isclose(s[0], [0.0, 0.05, 0.25]).any() and np.isclose(s[1], [0.75, 0.95, 1.0]).any()


def test_tournament_a_score_at_the_bottom_quantile_is_replaced_with_ranks(monkeypatch):
    """Three regions, scores 0, 1/2, 1; the bottom half (score <= the median 1/2) is replaced, at
    quarter 7 (7 mod 4 = 3); a replacement draws P0 + spread z, clipped to [0.01, 0.99], and adds
    one to the count."""
    per_region = [lambda t: 1.0, lambda t: float(t), lambda t: float(t * t)]
    w = _rising_world(
        monkeypatch,
        quarter=7,
        regions=THREE,
        per_region=per_region,
        akimats={"power": 0.5, "structural_power": [0.985, 0.015, 0.4], "replacements": [2, 0, 0]},
        replacement_probability=0.7,
        replacement_quantile=0.5,
        power_spread=0.5,
    )
    r = Recorder(0)
    tournament.step(w, make_log(w), r)
    np.testing.assert_allclose(w.akimats.score, [0.0, 0.5, 1.0])
    (u,) = r.results("random")
    assert r.args("random") == [(3,)]
    replaced = np.array([True, True, False]) & (u < 0.7)
    assert replaced[:2].all() and u[2] < 0.7, "seed 0 replaces both bottom akims, and would the top one"
    z = r.results("standard_normal")
    assert z[0] > 0.01 and z[1] < -0.01  # seed 0: the new P of both would leave [0.01, 0.99]
    np.testing.assert_allclose(w.akimats.power[:2], [0.99, 0.01])
    np.testing.assert_array_equal(w.akimats.replacements, [3, 1, 0])


def test_tournament_a_single_region_at_the_quantile_is_not_replaced_and_a_draw_at_the_rate_does_not_replace(
    monkeypatch,
):
    w = _rising_world(
        monkeypatch,
        quarter=3,
        regions="turkestan",
        per_region=[lambda t: 1.0],
        akimats={"power": 0.5},
        replacement_probability=1.0,
        replacement_quantile=0.5,
    )
    tournament.step(w, make_log(w), Draws(0.0))
    assert w.akimats.score[0] == 0.5 and w.akimats.replacements[0] == 0  # 1/2 is not below 1/2
    w = _rising_world(
        monkeypatch,
        quarter=3,
        regions="turkestan",
        per_region=[lambda t: 1.0],
        akimats={"power": 0.5},
        replacement_probability=0.3,
        replacement_quantile=0.6,
    )
    tournament.step(w, make_log(w), Draws(0.3))
    assert w.akimats.replacements[0] == 0  # a draw of exactly the probability: not replaced


# --- 10. utilities ----------------------------------------------------------------------------


def test_utilities_residents_noise_smoothing_job_growth_and_the_quality_cap():
    """Three regions: 0 with jobs 1 -> 2 (growth 1), maintenance without a reference (m = 1);
    1 with no jobs a year ago (no growth) and maintenance far above its reference (quality would
    pass 1: clipped); 2 with no firm. Noise on: each resident's draws are recorded."""
    w = make_world(
        [{}, {"region": 1}],
        regions=THREE,
        akimats={
            "utility_quality": 0.5,
            "maintenance": [1.0, 9.0, 0.0],
            "maintenance_reference": [0.0, 1.0, 1.0],
            "corrupt_share": 0.5,
        },
        residents={"region": [0, 1, 2], "cohort": [2, 2, 2], "taste": [0.2, -0.1, 0.0]},
        utility_quality=1.0,
        utility_depreciation=0.5,
        maintenance_cap=10.0,
        resident_noise=0.4,
        resident_smoothing=0.25,
        wage_signal=0.0,
        jobs_signal=2.0,
        services_signal=0.0,
        corruption_signal=1.0,
        corruption_reference=0.0,
        resident_contact=0.6,
        utility_scale=4.0,
        expectation_adaptation=0.1,
        quarter=1,
    )
    w.kpi_history.append(_kpis([100.0, 100.0, 100.0]))
    w.kpi_history[-1]["jobs"] = np.array([1.0, 0.0, 0.0])
    for _ in range(3):
        w.kpi_history.append(_kpis([100.0, 100.0, 100.0]))
    w.kpi_history.append(_kpis([100.0, 100.0, 100.0]))
    w.kpi_history[-1]["jobs"] = np.array([2.0, 3.0, 0.0])
    res = w.residents
    res.authority[:] = [0.5, 0.5, 0.5]
    res.utilities[:] = 0.5
    r = Recorder(2)
    utilities.step(w, make_log(w), r)
    q = w.akimats.utility_quality
    np.testing.assert_allclose(q[0], 0.5 + 0.5 * (1.0 - 0.5))  # m = 1 without a reference
    np.testing.assert_allclose(q[1], 1.0)  # 0.5 + 0.5 (9 - 0.5) > 1: clipped
    np.testing.assert_allclose(q[2], 0.5 + 0.5 * (0.0 - 0.5))
    (u,) = r.results("random")
    z, zz = r.results("standard_normal")
    assert z.shape == (3,) and zz.shape == (3, 4)
    exposed = u < 0.6 * 0.5
    x = np.array([0.9 * 2.0 * 1.0, 0.0, 0.0])  # cohort 2's economy weight x jobs signal x growth
    # the authorities' idiosyncratic spread is the three domains' (cohort 2: services 1.1, economy 0.9,
    # corruption 1), each perceived with spread 0.4
    latent = x - 1.0 * exposed + 0.4 * np.sqrt(1.1**2 + 0.9**2 + 1.0) * (res.taste + 0.5 * z)
    np.testing.assert_allclose(res.authority, 0.75 * 0.5 + 0.25 * latent, rtol=1e-12)
    # a utility: the disposition x, plus 4 x (quality - the expected 0.5, the quality at the start),
    # plus the resident's own perception; the expectation then adapts by 0.1 of the gap
    u_latent = x[:, None] + 4.0 * (q - 0.5) + 0.4 * (res.utility_taste + 0.5 * zz)
    np.testing.assert_allclose(res.utilities, 0.75 * 0.5 + 0.25 * u_latent, rtol=1e-12)
    expected = 0.5 + 0.1 * (q - 0.5)
    np.testing.assert_allclose(w.akimats.utility_expectation, expected, rtol=1e-12)
    # at quarter 0 there is nothing to smooth: the latent values themselves
    w.quarter = 0
    r = Recorder(2)
    utilities.step(w, make_log(w), r)
    z, zz = r.results("standard_normal")
    q = w.akimats.utility_quality
    u_latent = x[:, None] + 4.0 * (q - expected) + 0.4 * (res.utility_taste + 0.5 * zz)
    np.testing.assert_allclose(res.utilities, u_latent, rtol=1e-12)


# --- 1. plan ----------------------------------------------------------------------------------


def _plan_values(**kwargs):
    return {
        "transparency": 0.0,
        "rent_weight": 0.0,
        "capture_diversion": 0.0,
        "maintenance_share": 0.3,
        "support_share": 0.1,
        "ppp_share": 0.1,
        "ppp_cofinancing": 0.3,
        "ppp_size": 40.0,
        "quality_target": 0.8,
    } | kwargs


def test_plan_choice_probabilities_per_region():
    """Region 0: all four utilities lag (maintenance is worth 4/6); region 1: one is exactly at
    the target (not lagging) and the others above it (maintenance worth 0). A logit choice per
    region over the four plans, with the draws recorded."""
    w = make_world(
        [{}, {"region": 1}],
        regions="turkestan,zhambyl",
        akimats={
            "tax_revenue": 1.0,
            "transfer": 0.0,
            "ppp_fund": 0.0,
            "utility_quality": [[0.5, 0.5, 0.5, 0.5], [0.8, 0.9, 0.9, 0.9]],
        },
        **_plan_values(plan_sensitivity=20.0),
    )
    r = Recorder(3)
    plan.step(w, make_log(w), r)
    plans = plan.plan_options(np.array([0.3, 0.1, 0.1]))
    value = np.array([[4 / 6, 2 / 6, 4 / 6], [0.0, 2 / 6, 4 / 6]])
    gain = value @ plans.T
    prob = np.exp(20.0 * gain) / np.exp(20.0 * gain).sum(axis=1, keepdims=True)
    draw = r.results("random")[0]
    choice = [min(int((np.cumsum(prob[i]) < draw[i]).sum()), 3) for i in range(2)]
    shares = plans[choice]
    np.testing.assert_allclose(w.akimats.maintenance, shares[:, 0] * 1.0, rtol=1e-12)
    np.testing.assert_allclose(w.akimats.support_budget, shares[:, 1] * 1.0, rtol=1e-12)
    assert choice[0] != choice[1] or prob[0, choice[0]] != prob[1, choice[1]]


def test_plan_tenders_at_the_edges_of_the_fund_and_of_the_dispute_draw():
    """No budget this quarter (the funds stay as they are). Region 0: heat exactly at the target
    (no lag), water lagging, a fund of exactly one public cost (0.3 x 40 = 12): one water tender.
    Region 1: no lag (a social project), half its contracts in dispute, a draw of exactly 1/2:
    no tender."""
    w = make_world(
        [{}, {"region": 1}],
        regions="turkestan,zhambyl",
        akimats={
            "tax_revenue": 0.0,
            "transfer": 0.0,
            "ppp_fund": [12.0, 24.0],
            "utility_quality": [[0.8, 0.5, 0.9, 0.9], [0.9, 0.9, 0.9, 0.9]],
        },
        **_plan_values(plan_sensitivity=1.0),
    )
    for status in (DISPUTED, PERFORMING):
        w.projects.add(
            region=1, firm=1, sector=4, cost=40.0, equity=5.6, lifecycle=False, phase=OPERATION, status=status,
            left=5, duration=4, started=0, replacements=0,
        )  # fmt: skip
    log = make_log(w)
    plan.step(w, log, Draws(0.5, 0.0, 0.5))
    assert log.tenders == [(0, 1)]
    np.testing.assert_allclose(w.akimats.ppp_fund, [0.0, 24.0])
    assert log.region["tenders"].tolist() == [1, 0]


def test_entry_without_entrants_and_a_last_region_without_any():
    w = make_world([{}, {"region": 1}], regions="turkestan,zhambyl", exit_hazard=0.0)
    log = make_log(w)
    entry.step(w, log, rng(), rng(1))
    assert log.entered.dtype == np.int64 and log.entered.size == 0
    w = make_world([{}, {"region": 1}], regions="turkestan,zhambyl", akimats={"firms_initial": [60.0, 0.0]})
    log = make_log(w)
    entry.step(w, log, rng(2), rng(3))
    assert log.entered.size and (w.firms.region[log.entered] == 0).all()
    assert w.entrant_capital_last.shape == (2,) and w.entrant_capital_last[1] == 0.0
    assert w.entrant_capital_last[0] == w.firms.capital[log.entered].sum()


def test_economy_a_formal_firm_without_output_and_low_tax_morale_goes_informal():
    """Tolerance 0.2 (1 + 2 x (-1)) < 0: a dissatisfied formal firm leaves even at burden 0."""
    w = make_world([{"productivity": 0.0, "satisfaction": -1.0}], **(ECONOMY | {"tax_morale": 2.0}))
    economy.step(w, _economy_log(w), Draws(0.0, 0.5))
    assert not w.firms.formal[0]


def _plan_world_3(quality, disputed_contracts, **kwargs):
    w = make_world(
        [{}, {"region": 1}, {"region": 2}],
        regions=THREE,
        akimats={"tax_revenue": 1.0, "transfer": 0.0, "ppp_fund": 0.0, "utility_quality": quality},
        **_plan_values(plan_sensitivity=1000.0, ppp_size=100.0) | kwargs,
    )
    for region, (disputed, performing) in enumerate(disputed_contracts):
        for status in [DISPUTED] * disputed + [PERFORMING] * performing:
            w.projects.add(
                region=region, firm=region, sector=4, cost=40.0, equity=5.6, lifecycle=False, phase=OPERATION,
                status=status, left=5, duration=4, started=0, replacements=0,
            )  # fmt: skip
    return w


def test_plan_the_plan_of_most_value_by_region():
    """Plans (maintenance, support, PPP): P0 the scenario (0.3, 0.1, 0.1), P1 a tenth of the
    total more to maintenance, P2 to support, P3 to PPP. Values: maintenance 4/6 x the share of
    utilities lagging the target, support 2/6, PPP 4/6 x (1 - share of contracts in dispute).
    Region 0: all lag, no disputes: P1 (0.0083 above P0, P3 0.0042). Region 1: two of four lag,
    two exactly at the target (not lagging): P3. Region 2: nothing lags, 3 of 4 contracts in
    dispute: P2. At sensitivity 1000 the draw 1/2 takes the plan of most value."""
    quality = [[0.5] * 4, [0.8, 0.8, 0.5, 0.5], [0.9] * 4]
    w = _plan_world_3(quality, [(0, 0), (0, 0), (3, 1)])
    plan.step(w, make_log(w), Draws(0.5))
    plans = plan.plan_options(np.array([0.3, 0.1, 0.1]))
    np.testing.assert_allclose(w.akimats.maintenance, plans[[1, 3, 2], 0], rtol=1e-12)
    np.testing.assert_allclose(w.akimats.support_budget, plans[[1, 3, 2], 1], rtol=1e-12)
    np.testing.assert_allclose(w.akimats.ppp_fund, plans[[1, 3, 2], 2], rtol=1e-12)


def test_plan_a_spent_fund_stops_only_its_own_regions_tenders():
    """Region 0 has the fund for one of its two lagging utilities; region 1 for its one; region 2
    nothing lags: a social project or a road (one of two sectors, drawn)."""
    quality = [[0.5, 0.6, 0.9, 0.9], [0.9, 0.9, 0.5, 0.9], [0.9] * 4]
    w = _plan_world_3(quality, [(0, 0), (0, 0), (0, 0)], ppp_size=10.0)
    w.akimats.tax_revenue[:] = 0.0
    w.akimats.ppp_fund[:] = [3.0, 3.0, 3.0]
    log = make_log(w)
    r = Recorder(1)
    plan.step(w, log, r)
    assert r.args("integers") == [(2,)]
    social = 4 + int(r.results("integers")[0])
    launched = [u < 1.0 for u in r.results("random")[1:]]
    assert all(launched)  # no disputes: every tender the fund covers is launched
    assert log.tenders == [(0, 0), (1, 2), (2, social)]
    np.testing.assert_allclose(w.akimats.ppp_fund, [0.0, 0.0, 0.0])


def test_ppp_construction_lasts_its_quarters_plus_the_partners_approval_wait():
    w = make_world(
        [{"strength": 1.0, "connection": 0.6}],
        akimats={"ppp_fund": 0.0, "symbiosis": 0.5},
        ppp_bid_exponent=1.0,
        construction_quarters=3,
        construction_delay=4.0,
        **(PPP_LIFE | {"opportunism": 0.0, "reneging": 0.0}),
    )
    log = make_log(w)
    log.firm["dealings"][0], log.firm["delay"][0] = 2.0, 1.4  # waited 70% of the full delay per dealing
    log.tenders.append((0, 1))
    r = Recorder(2)
    ppp.step(w, log, r)
    (lam,) = r.args("poisson")
    assert lam == (4.0 * 0.7,)  # no factor on s L: only the partner's approval wait
    (delay,) = r.results("poisson")
    assert delay > 0 and w.projects.duration[0] == 3 + delay


def test_dealings_a_firm_with_one_tie_hears_of_its_tie_caught_paying():
    firms = [{"home_official": 0.0, "perceived_detection": 0.2}, {"perceived_detection": 0.1}]
    w = make_world(
        firms,
        ties=[(0, 1)],
        akimats={"corrupt_share": 0.5, "power": 0.9, "symbiosis": 0.0},
        choice_sensitivity=500.0,
        bribe_size=0.001,
        delay_cost=1.0,
        report_cost=1.0,
        official_rotation=0.0,
        visibility_base=1.0,
        transparency=0.0,
        home_share=1.0,
        audit_rate=1.0,
        audit_penalty=0.1,
        detection_jump=0.3,
        detection_decay=0.25,
    )
    log = make_log(w)
    dealings.step(w, log, Counts([2, 0]))
    assert log.firm["detected"].tolist() == [1.0, 0.0]
    # firm 1's only tie was caught: it hears the whole jump, then decays toward the true rate 1
    q = 0.1 + 0.3 * (1 - 0.1) * 1.0
    assert np.isclose(w.firms.perceived_detection[1], q + 0.25 * (1.0 - q), rtol=1e-14)
