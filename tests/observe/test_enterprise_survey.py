"""The Enterprise Surveys instrument: its answer rules, that it reads without changing, and its CLI."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from worlds import make_world

from simulation.cli import main
from simulation.model import StateBusinessModel
from simulation.observe.enterprise_survey import TRANSACTIONS, simulate_enterprise_survey

SMALL = {"firms": 1500, "residents_per_region": 200, "burn_in": 4, "steps": 6}


def _hand_built():
    """Six formal firms big enough to be interviewed (capital 20: 1 + 0.47 x 20^0.94 = 8.9 jobs), with a known
    year of dealings."""
    w = make_world([{"capital": 20.0} for _ in range(6)] + [{"capital": 20.0, "formal": False}, {"capital": 0.1}])
    year = {  # firm: (dealings, demands, paid) summed over the last 4 quarters
        0: (10, 10, 1),  # every dealing met a demand: a request among any 6, and it paid
        1: (3, 0, 0),  # dealings without demands
        2: (0, 0, 0),  # no transaction: not in the incidence's denominator
        3: (2, 2, 0),  # requests, refused
        4: (4, 1, 1),
        5: (1, 0, 0),
        6: (5, 5, 5),  # informal: not interviewed
        7: (5, 5, 5),  # too small (fewer than 5 jobs): not interviewed
    }
    for row, (dealings, demands, paid) in year.items():
        w.firms.memory("dealings")[0, row] = dealings
        w.firms.memory("demands")[0, row] = demands
        w.firms.memory("paid")[0, row] = paid
    return SimpleNamespace(world=w, params=w.params, seed=1, quarter=0)


def test_answer_rules_on_a_hand_built_world():
    model = _hand_built()
    r = simulate_enterprise_survey(model, firms=100, rng=3)
    assert r.eligible == 6 and r.sampled == 6 and r.with_transactions == 5
    # firms 0, 3 and 4 certainly met a request in the transactions asked about: 0 had demands in
    # all 10 dealings; 3 and 4 had at most 6 dealings, so all of them were asked about
    assert r.bribery_incidence == 3 / 5
    # requests / transactions: firm 0 is asked about 6 of its 10 (all demanded) -> 6; 3 -> 2; 4 -> 1
    assert r.bribery_depth == (6 + 0 + 2 + 1 + 0) / (TRANSACTIONS + 3 + 2 + 4 + 1)
    assert r.gifts_expected == 2 / 6  # firms 0 and 4 paid


@pytest.mark.runs_model
def test_the_instrument_reads_the_world_and_never_changes_it():
    m = StateBusinessModel(rng=2, **SMALL).run()
    f = m.world.firms
    before = {name: getattr(f, name).copy() for name in f.COLUMNS}
    states = {k: g.bit_generator.state for k, g in m.world.streams.items()}
    a = simulate_enterprise_survey(m)
    b = simulate_enterprise_survey(m)
    assert a == b, "same model, same quarter: the same survey"
    assert all(np.array_equal(before[k], getattr(f, k)) for k in before)
    assert states == {k: g.bit_generator.state for k, g in m.world.streams.items()}
    for share in (a.bribery_incidence, a.bribery_depth, a.gifts_expected):
        assert 0.0 <= share <= 1.0
    assert a.with_transactions <= a.sampled <= a.eligible


@pytest.mark.runs_model
def test_incidence_follows_corruption():
    """No corrupt official stays none (no bribe income, nothing to gain); otherwise officials'
    moral costs set the corrupt share, and the instrument's incidence and depth follow it."""
    clean = StateBusinessModel(rng=4, corruption_initial=0.0, **SMALL).run()
    low = StateBusinessModel(rng=4, moral_cost=0.05, **SMALL).run()  # scrupulous officials
    high = StateBusinessModel(rng=4, moral_cost=0.002, **SMALL).run()
    r0, r1, r2 = (simulate_enterprise_survey(m) for m in (clean, low, high))
    c = [float(m.world.akimats.corrupt_share.mean()) for m in (clean, low, high)]
    assert c[0] == 0.0 and c[1] < c[2], f"corrupt shares {c}: the comparison says nothing"
    assert r0.bribery_incidence == 0.0 and r0.gifts_expected == 0.0
    assert r1.bribery_incidence < r2.bribery_incidence and r1.bribery_depth < r2.bribery_depth, (r1, r2)


@pytest.mark.runs_model
def test_cli_enterprise_survey_json_and_bad_flags(small_scenario, capsys):
    assert main(["survey", str(small_scenario), "--instrument", "enterprise-survey", "--json", "--sample", "50"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["instrument"] == "enterprise-survey" and doc["sampled"] <= 50
    assert main(["survey", str(small_scenario), "--sample", "50"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "enterprise-survey" in err[0]
