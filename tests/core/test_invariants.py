"""Invariants of a run: shares are shares, nothing is NaN or negative where it cannot be,
the agents mirror the arrays, and the national scenario has its 20 connected akimats.

Each run is stepped quarter by quarter and the model's state is checked after every
quarter, not just at the end.
"""

from __future__ import annotations

import functools
import math

import networkx as nx
import numpy as np
import pytest
from conftest import SCENARIO_DIR

from simulation.agents import Akimat, Firm, Resident
from simulation.model import StateBusinessModel
from simulation.observe.observer import QUADRANTS, REGIMES
from simulation.scenario import load_scenario

SMALL_RUN = {"firms": 2000, "residents_per_region": 300, "burn_in": 6, "steps": 10}


class Run:
    """A model stepped to the end, with per-quarter snapshots of its state."""

    def __init__(self, model: StateBusinessModel):
        self.model = model
        self.snapshots: list[dict] = []
        self.snap()
        while model.running:
            model.step()
            self.snap()

    def snap(self) -> None:
        m, f, a = self.model, self.model.firms, self.model.akimats_state
        alive = f.alive.copy()
        firm_agents = list(m.agents_by_type[Firm]) if Firm in m.agents_by_type else []
        self.snapshots.append(
            {
                "quarter": m.quarter,
                "alive_rows": np.flatnonzero(alive),
                "firm_agent_rows": sorted(agent.row for agent in firm_agents),
                "n_firm_agents": len(firm_agents),
                "n_firm_agents_in_agents": sum(isinstance(agent, Firm) for agent in m.agents),
                "capital": f.capital[alive].copy(),
                "strength": f.strength[alive].copy(),
                "trust": f.trust[alive].copy(),
                "satisfaction": f.satisfaction[alive].copy(),
                "perceived_detection": f.perceived_detection[alive].copy(),
                "connection": f.connection[alive].copy(),
                "power": a.power.copy(),
                "corrupt_share": a.corrupt_share.copy(),
                "utility_quality": a.utility_quality.copy(),
                "budget": a.budget.copy(),
                "support_budget": a.support_budget.copy(),
                "ppp_fund": a.ppp_fund.copy(),
                "maintenance": a.maintenance.copy(),
                "rents": a.rents.copy(),
            }
        )


@functools.cache
def _small(governance):
    return Run(StateBusinessModel(rng=21, governance=governance, **SMALL_RUN))


@functools.cache
def _national():
    params = load_scenario(
        SCENARIO_DIR / "kazakhstan.toml", firms=4000, residents_per_region=200, burn_in=4, steps=8
    ).params
    return Run(StateBusinessModel(rng=5, **params))


@pytest.fixture(scope="module", params=["partnership", "symbiotic", "national"])
def run(request) -> Run:
    return _national() if request.param == "national" else _small(request.param)


@pytest.fixture(scope="module")
def national() -> Run:
    return _national()


# columns of region_table() -------------------------------------------------------------------
SHARE_COLUMNS_PREFIXES = (
    "regime_",
    "quality_",
    "utility_satisfied_",
    "business_satisfied",
    "business_partially",
    "business_dissatisfied",
    "population_satisfied",
    "population_dissatisfied",
)
SHARE_COLUMNS = (
    "power",
    "corrupt_share",
    "captured",
    "corruption_incidence",
    "business_trust",
    "hhi",
    "informality",
    "insider_support_share",
    "evaluation_score",
)
COUNT_COLUMNS = (
    "firms_in_business",
    "entries",
    "exits",
    "captors",
    "akims_replaced",
    "small_businesses",
    "ppp_started",
    "ppp_performing",
    "ppp_renegotiated",
    "ppp_disputed",
    "ppp_terminated",
    "ppp_completed",
)
NON_NEGATIVE_COLUMNS = (
    "budget",
    "rents",
    "attracted_investment",
    "fixed_investment",
    "offbudget_cofinancing",
    "high_performance_jobs",
    "real_wages",
    "bribe_demands_per_firm",
)


def share_columns(table):
    cols = [c for c in table.columns if c in SHARE_COLUMNS or c.startswith(SHARE_COLUMNS_PREFIXES)]
    return cols


def test_tables_have_the_expected_shape(run):
    m = run.model
    t = m.region_table()
    steps = m.params["steps"]
    assert len(t) == steps * m.n_regions, f"region_table has {len(t)} rows, expected {steps} x {m.n_regions}"
    assert sorted(t["quarter"].unique()) == list(range(1, steps + 1)), f"quarters {sorted(t['quarter'].unique())}"
    missing = [
        c
        for c in (*SHARE_COLUMNS, *COUNT_COLUMNS, *NON_NEGATIVE_COLUMNS, *(f"regime_{r}" for r in REGIMES))
        if c not in t.columns
    ]
    assert not missing, f"region_table lacks columns {missing}"
    rt = m.regime_table()
    expected = steps * m.n_regions * len(QUADRANTS) * len(REGIMES)
    assert len(rt) == expected, f"regime_table has {len(rt)} rows, expected {expected}"


def test_no_nan_or_inf_in_outputs(run):
    m = run.model
    for name, table in (("region_table", m.region_table()), ("regime_table", m.regime_table())):
        numeric = table.select_dtypes(include="number")
        bad = [c for c in numeric.columns if not np.isfinite(numeric[c].to_numpy(dtype=float)).all()]
        assert not bad, f"{name} has NaN or inf in {bad}"
        assert not table.isna().any().any(), f"{name} has missing values in {list(table.columns[table.isna().any()])}"
    bad = {k: v for k, v in m.outcomes().items() if not math.isfinite(v)}
    assert not bad, f"outcomes() has non-finite values {bad}"


def test_share_columns_in_unit_interval(run):
    t = run.model.region_table()
    cols = share_columns(t)
    assert len(cols) >= 20, f"only {len(cols)} share columns found: {cols}"
    out = {c: (float(t[c].min()), float(t[c].max())) for c in cols if (t[c] < 0).any() or (t[c] > 1).any()}
    assert not out, f"share columns outside [0,1] (min, max): {out}"
    shares = {
        k: v
        for k, v in run.model.outcomes().items()
        if k.startswith(("regime_", "weight_", *QUADRANTS)) or k in SHARE_COLUMNS
    }
    out = {k: v for k, v in shares.items() if not 0.0 <= v <= 1.0}
    assert not out, f"outcome shares outside [0,1]: {out}"


def test_counts_and_money_non_negative(run):
    t = run.model.region_table()
    neg = {c: float(t[c].min()) for c in (*COUNT_COLUMNS, *NON_NEGATIVE_COLUMNS) if (t[c] < 0).any()}
    assert not neg, f"negative values (column: min) {neg}"
    frac = {c: float((t[c] - t[c].round()).abs().max()) for c in COUNT_COLUMNS if not np.allclose(t[c], t[c].round())}
    assert not frac, f"count columns with non-integer values (column: largest fraction) {frac}"
    assert (t["firms_in_business"] > 0).all(), f"a region ran out of firms: firms min {t['firms_in_business'].min()}"


def test_regime_shares_sum_to_one_per_region_and_quarter(run):
    m = run.model
    t = m.region_table()
    rt = m.regime_table()
    total = t[[f"regime_{r}" for r in REGIMES]].sum(axis=1).to_numpy()
    output = rt.groupby(["quarter", "region"], sort=False)["quadrant_output"].sum()
    has_output = output.reindex(list(zip(t["quarter"], t["region"]))).to_numpy() > 0
    assert has_output.any(), "no region has output in any quarter"
    bad = np.flatnonzero(has_output & (np.abs(total - 1.0) > 1e-9))
    assert bad.size == 0, (
        f"regime shares do not sum to 1 in {bad.size} region-quarters, e.g. "
        f"{t.iloc[bad[0]][['quarter', 'region']].tolist()} sums to {total[bad[0]]!r}"
    )
    empty = np.flatnonzero(~has_output & (total != 0.0))
    assert empty.size == 0, f"region-quarters without output have regime shares summing to {total[empty]}"


def test_quadrant_regime_shares_sum_to_one_where_weighted(run):
    rt = run.model.regime_table()
    g = rt.groupby(["quarter", "region", "quadrant"]).agg(
        total=("share", "sum"),
        weight=("quadrant_output", "first"),
        wmin=("quadrant_output", "min"),
        wmax=("quadrant_output", "max"),
    )
    assert (g["wmin"] == g["wmax"]).all(), "quadrant_output differs among the regimes of one quadrant"
    assert (g["weight"] >= 0).all(), f"negative quadrant output: {g['weight'].min()}"
    weighted = g[g["weight"] > 0]
    assert len(weighted) > 0, "no quadrant has output weight"
    off = weighted[np.abs(weighted["total"] - 1.0) > 1e-9]
    assert off.empty, f"quadrant regime shares do not sum to 1:\n{off.head()}"
    unweighted = g[g["weight"] == 0]
    assert (unweighted["total"] == 0).all(), "quadrants without weight have non-zero regime shares"
    assert ((rt["share"] >= 0) & (rt["share"] <= 1)).all(), (
        f"regime_table shares outside [0,1]: {rt['share'].min()}..{rt['share'].max()}"
    )


def test_outcome_quadrant_shares_sum_to_one(run):
    o = run.model.outcomes()
    total_weight = sum(o[f"weight_{q}"] for q in QUADRANTS)
    assert total_weight == pytest.approx(1.0, abs=1e-9), f"quadrant weights sum to {total_weight}"
    assert sum(o[f"regime_{r}"] for r in REGIMES) == pytest.approx(1.0, abs=1e-9), (
        "national regime shares do not sum to 1"
    )


def test_state_bounds_every_quarter(run):
    for s in run.snapshots:
        q = s["quarter"]
        assert s["capital"].size > 0, f"quarter {q}: no firm alive"
        assert (s["capital"] >= 0).all(), f"quarter {q}: negative capital, min {s['capital'].min()}"
        for name in ("strength", "trust", "perceived_detection", "connection"):
            v = s[name]
            assert ((v >= 0) & (v <= 1)).all(), f"quarter {q}: firms' {name} outside [0,1]: {v.min()}..{v.max()}"
        sat = s["satisfaction"]
        assert ((sat >= -1) & (sat <= 1)).all(), f"quarter {q}: satisfaction outside [-1,1]: {sat.min()}..{sat.max()}"
        for name in ("power", "corrupt_share", "utility_quality"):
            v = s[name]
            assert np.isfinite(v).all() and ((v >= 0) & (v <= 1)).all(), (
                f"quarter {q}: akimats' {name} outside [0,1]: {v.min()}..{v.max()}"
            )
        for name in ("budget", "support_budget", "ppp_fund", "maintenance", "rents"):
            v = s[name]
            assert np.isfinite(v).all() and (v >= 0).all(), f"quarter {q}: negative or non-finite {name}: {v}"


def test_firm_agents_mirror_alive_firms(run):
    for s in run.snapshots:
        q = s["quarter"]
        n_alive = len(s["alive_rows"])
        assert n_alive > 0, f"quarter {q}: no firm alive"
        assert s["n_firm_agents"] == n_alive, (
            f"quarter {q}: {s['n_firm_agents']} Firm agents in model.agents_by_type, {n_alive} firms alive"
        )
        assert s["n_firm_agents_in_agents"] == n_alive, (
            f"quarter {q}: {s['n_firm_agents_in_agents']} Firm agents in model.agents, {n_alive} firms alive"
        )
        assert s["firm_agent_rows"] == s["alive_rows"].tolist(), (
            f"quarter {q}: Firm agents' rows are not the alive rows "
            f"({len(set(s['firm_agent_rows']) ^ set(s['alive_rows'].tolist()))} differ)"
        )


def test_other_agents(run):
    m = run.model
    assert len(m.agents_by_type[Akimat]) == m.n_regions, (
        f"{len(m.agents_by_type[Akimat])} Akimat agents for {m.n_regions} regions"
    )
    expected = m.params["residents_per_region"] * m.n_regions
    assert len(m.agents_by_type[Resident]) == expected, (
        f"{len(m.agents_by_type[Resident])} residents, expected {expected}"
    )


def test_national_scenario_has_20_connected_akimats(national):
    m = national.model
    assert m.n_regions == 20 and len(m.akimats) == 20, f"{m.n_regions} regions, {len(m.akimats)} akimats; expected 20"
    ids = [a.region_id for a in m.akimats]
    assert len(set(ids)) == 20, f"duplicate region ids: {ids}"
    t = m.region_table()
    assert t["region"].nunique() == 20, f"region_table covers {t['region'].nunique()} regions"
    g = m.region_graph
    assert g.number_of_nodes() == 20, f"neighbour graph has {g.number_of_nodes()} nodes"
    assert nx.is_connected(g), f"neighbour graph is not connected: components {list(nx.connected_components(g))}"
    assert nx.number_of_selfloops(g) == 0, "a region borders itself"
    last = t[t["quarter"] == t["quarter"].max()]
    assert (last["firms_in_business"] > 0).all(), (
        f"regions without firms at the end: {last.loc[last['firms_in_business'] <= 0, 'region'].tolist()}"
    )
