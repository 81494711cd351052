"""Firms are thin Mesa agents made on demand (issue 11): Mesa's tools still work on them.

Firms are not registered with Mesa one by one; ``model.agents`` and ``model.agents_by_type``
are views that make a firm's handle when it is first asked for and keep it while the firm is
in business. These tests check what a Mesa user relies on: the AgentSet holds exactly the
firms in business, its methods work, DataCollector agent and agent-type reporters record
them, a handle is the same object from quarter to quarter and follows compaction, and ids are
unique among all agents.
"""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from simulation.agents import Akimat, Firm, Resident
from simulation.model import StateBusinessModel

SMALL = {"firms": 1500, "residents_per_region": 200, "burn_in": 2, "steps": 12}


def test_agentset_holds_the_firms_in_business():
    m = StateBusinessModel(rng=3, **SMALL)
    m.run()
    firms = m.agents_by_type[Firm]
    assert isinstance(firms, mesa.agentset.AgentSet)
    rows = np.flatnonzero(m.firms.alive)
    assert [a.row for a in firms] == rows.tolist()
    assert firms.get("capital") == pytest.approx(m.firms.capital[rows].tolist())
    assert len(m.agents) == m.n_regions + len(rows) + m.residents.n
    assert {type(a) for a in m.agents} == {Akimat, Firm, Resident}
    assert set(m.agent_types) == {Akimat, Firm, Resident}
    big = firms.select(lambda a: a.capital > np.median(m.firms.capital[rows]))
    assert 0 < len(big) < len(firms)
    assert firms.agg("capital", sum) == pytest.approx(m.firms.capital[rows].sum())
    by_region = firms.groupby("region").count()
    assert sum(by_region.values()) == len(rows)
    ids = [a.unique_id for a in m.agents]
    assert len(set(ids)) == len(ids), "agent ids are not unique"


def test_datacollector_agent_reporters_record_the_firms():
    m = StateBusinessModel(rng=4, **SMALL)
    dc = mesa.DataCollector(
        agent_reporters={"capital": lambda a: getattr(a, "capital", None)},
        agenttype_reporters={Firm: {"trust": "trust", "regime": "regime"}},
    )
    for _ in range(3):
        m.step()
        dc.collect(m)
    agents = dc.get_agent_vars_dataframe()
    firms = dc.get_agenttype_vars_dataframe(Firm)
    last = firms.xs(m.steps, level="Step")
    assert len(last) == int(m.firms.alive.sum())
    rows = np.flatnonzero(m.firms.alive)
    assert last["trust"].tolist() == pytest.approx(m.firms.trust[rows].tolist())
    assert len(agents.xs(m.steps, level="Step")) == len(m.agents)
    # a firm that stays in business keeps its id from step to step
    steps = firms.index.get_level_values("Step")
    first_ids = set(firms[steps == steps.min()].index.get_level_values("AgentID"))
    last_ids = set(last.index)
    assert first_ids & last_ids, "no firm kept its id across quarters"


def test_handles_follow_exit_and_compaction():
    m = StateBusinessModel(rng=5, **{**SMALL, "steps": 30})
    before = {a.unique_id: a for a in m.agents_by_type[Firm]}
    uid_of = {a.unique_id: int(m.firms.uid[a.row]) for a in before.values()}
    compacted = False
    while m.running:
        n_before = m.firms.n
        m.step()
        compacted |= m.firms.n < n_before
    assert compacted, "no compaction in 30 quarters: the test does not test it"
    now = {a.unique_id: a for a in m.agents_by_type[Firm]}
    survivors = before.keys() & now.keys()
    exited = before.keys() - now.keys()
    assert survivors and exited
    for uid in survivors:
        a = now[uid]
        assert a is before[uid], "a surviving firm's handle was replaced"
        assert m.firms.alive[a.row] and int(m.firms.uid[a.row]) == uid_of[uid], "handle points at the wrong row"
    assert all(before[uid].row is None for uid in exited)
    with pytest.raises(TypeError):
        next(iter(now.values())).remove()


def test_unused_handles_cost_nothing_and_ids_stay_fresh():
    m = StateBusinessModel(rng=6, **SMALL)
    m.run()
    assert not m._firm_handles, "handles were made without anyone asking"
    assert m.agent_id_counter >= m.firm_id_base + m.firms.created
    extra = Resident(m, 0)  # any agent registered later gets an id no firm has
    assert extra.unique_id >= m.firm_id_base + m.firms.created
