"""StateBusinessModel: the Mesa model that owns a world and runs the schedule on it."""

from __future__ import annotations

import time
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.agentset import AgentSet

from . import initialisation, snapshots
from .agents import Akimat, Firm, Resident
from .observe.kpi import KPI_NAMES
from .observe.observer import REGIMES, Observer
from .observe.records import Recorder
from .parameters import ScenarioError, resolve
from .quarter import QuarterLog
from .schedule import SCHEDULE, STREAMS


def _seed_from(rng: Any) -> int:
    """The integer seed of a run: the given int, or one drawn from the given generator or from OS entropy."""
    if rng is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if rng < 0:
            raise ScenarioError(f"rng: seed {rng} is not allowed; expected a non-negative integer")
        return int(rng)
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**63))
    raise ScenarioError(f"rng: {rng!r} is not allowed; expected a non-negative integer, a numpy Generator or None")


class StateBusinessModel(mesa.Model):
    """Akimats, firms and residents of Kazakhstan's regions, one step a quarter.

    Construct with keyword parameters (see ``simulation.parameters.PARAMETERS``; each has a
    default, and no argument at all gives the Turkestan scenario) plus ``rng`` (an integer
    seed, a numpy Generator, or None for a fresh seed; the seed used is ``model.seed``).
    The constructor runs the burn-in (``start = "warm"``: loads the run's snapshot of the state
    after the burn-in and runs ``warm_burn_in`` quarters; ``model.start_record`` says which start
    the run had, see ``simulation.snapshots``); each ``step()`` is one reported quarter, and
    ``running`` turns False after ``steps`` quarters.

    The simulated state is ``model.world`` (``simulation.world.World``); the agents in
    ``model.agents`` are thin handles onto its rows, kept in step with firms' entry and exit.
    """

    def __init__(self, rng: Any = None, **params: Any):
        self.params = resolve(params, "StateBusinessModel")
        self.seed = _seed_from(rng)
        super().__init__(rng=self.seed)
        streams = initialisation.make_streams(self.seed, STREAMS)
        if self.params["start"] == "warm":
            # the stored state after the burn-in of the run's snapshot, with the run's own parameters,
            # seed and streams (simulation.snapshots); then warm_burn_in quarters instead of burn_in
            self.world, self.start_record = snapshots.warm_world(self.params, self.seed, streams)
            burn_in = self.params["burn_in"] - snapshots.snapshot_quarter(self.params)
        else:
            try:
                self.world = initialisation.build(self.params, self.seed, streams)
            except ValueError as err:
                raise ScenarioError(
                    f"StateBusinessModel: 'regions' = {self.params['regions']!r} is not allowed; expected {err}"
                ) from None
            self.start_record = snapshots.start_record(self.params)
            burn_in = self.params["burn_in"]
        w = self.world
        self.reported_quarters = 0
        self.akimats = [Akimat(self, i, r.id, r.name) for i, r in enumerate(w.regions)]
        self.resident_agents = [Resident(self, i) for i in range(w.residents.n)]
        # Firms are not registered with Mesa one by one (see simulation.agents): their ids are
        # firm_id_base + firms.uid, and Mesa's id counter is kept past every firm created.
        self.firm_id_base = self.agent_id_counter
        self._firm_handles: dict[int, Firm] = {}  # row -> the handle made for it, while it lives
        self._reserve_firm_ids()
        self.observer = Observer(w.firms.n, w.n_regions)
        self.recorder = Recorder(w, self.observer)
        self.datacollector = mesa.DataCollector(model_reporters=self.recorder.model_reporters())
        for i in range(burn_in):
            # the observer and the recorder read the world without changing it, and nothing keeps
            # what they read in burn-in quarters: they read only the last one (for model.recorder.current
            # and the regimes of the agents before the first reported quarter)
            self._quarter(observe=i == burn_in - 1)
        self.running = self.params["steps"] > 0

    # --- the agents, as Mesa's tools see them ------------------------------------------------
    @property
    def agents(self) -> AgentSet:
        """Every agent: akimats, the firms in business (by row) and residents, as a Mesa AgentSet.

        A view made on each access; the firms' handles are made on first access and kept
        while the firm lives (see ``simulation.agents``). Read-only, as Mesa's own.
        """
        return AgentSet([*self.akimats, *self._firm_list(), *self.resident_agents], random=self.random)

    @agents.setter
    def agents(self, agents: Any) -> None:
        raise AttributeError("model.agents is Mesa's: it cannot be set")

    @property
    def agents_by_type(self) -> dict[type, AgentSet]:
        """Mesa's agents by type, with ``Firm`` the firms in business (by row); a view made on each access."""
        by_type = dict(self._agents_by_type)
        firms = self._firm_list()
        if firms:
            by_type[Firm] = AgentSet(firms, random=self.random)
        return by_type

    @property
    def agent_types(self) -> list[type]:
        """The agent types present: Akimat, Firm (while firms are in business), Resident."""
        return list(self.agents_by_type)

    def firm_agent(self, row: int) -> Firm:
        """The Firm agent of a firm row in business (made on first access, then the same object)."""
        handle = self._firm_handles.get(row)
        if handle is None:
            if not (0 <= row < self.world.firms.n and self.world.firms.alive[row]):
                raise KeyError(f"firm row {row} is not a firm in business")
            handle = self._firm_handles[row] = Firm(self, row)
        return handle

    def _firm_list(self) -> list[Firm]:
        return [self.firm_agent(int(row)) for row in np.flatnonzero(self.world.firms.alive)]

    def _reserve_firm_ids(self) -> None:
        """Keep Mesa's id counter past the firms' ids, so that any other agent gets a fresh one."""
        self.agent_id_counter = max(self.agent_id_counter, self.firm_id_base + self.world.firms.created)

    # --- the world, as the model's users and Mesa's tools see it -----------------------------
    @property
    def firms(self):
        """The firm table (``world.firms``)."""
        return self.world.firms

    @property
    def residents(self):
        """The resident table (``world.residents``)."""
        return self.world.residents

    @property
    def akimats_state(self):
        """Region-level state (``world.akimats``)."""
        return self.world.akimats

    @property
    def projects(self):
        """The PPP contracts (``world.projects``)."""
        return self.world.projects

    ppp_projects = projects

    @property
    def ties(self):
        """The firm ties (``world.ties``)."""
        return self.world.ties

    @property
    def regions(self):
        """The regions of the run."""
        return self.world.regions

    @property
    def n_regions(self) -> int:
        """Number of regions."""
        return self.world.n_regions

    @property
    def region_graph(self) -> nx.Graph:
        """Land borders among the run's regions (networkx graph)."""
        return self.world.region_graph

    @property
    def match_capital(self) -> np.ndarray:
        """Per region: the capital at which a firm is a match for its akimat."""
        return self.world.match_capital

    @property
    def quarter(self) -> int:
        """Quarters simulated, burn-in included."""
        return self.world.quarter

    def size_class(self) -> np.ndarray:
        """Size class per firm row: 0 micro, 1 small, 2 medium, 3 large."""
        return self.world.size_class()

    def captured_regions(self) -> np.ndarray:
        """Number of captors holding each akimat captured."""
        return self.world.captured_regions()

    def firm_network(self) -> nx.Graph:
        """The ties among firms in business as a networkx graph (nodes are Firm agents' rows)."""
        alive = np.flatnonzero(self.firms.alive)
        sub = self.ties.matrix(self.firms.n)[alive][:, alive]
        g = nx.from_scipy_sparse_array(sub)
        return nx.relabel_nodes(g, dict(enumerate(alive.tolist())))

    # --- one quarter -------------------------------------------------------------------------
    def _quarter(self, observe: bool = True) -> QuarterLog:
        w = self.world
        log = QuarterLog(w.firms.n, w.n_regions)
        w.begin_quarter()
        for step in SCHEDULE:
            if step.run is None:  # the observation point: the world is read, not changed
                w.remember(log)
                if observe:
                    self.observer.step(w, log)
                    self.recorder.quarter(log)
            else:
                step.run(w, log, *(w.streams[name] for name in step.streams))
        self._follow_firms(log)
        w.quarter += 1
        return log

    def _follow_firms(self, log: QuarterLog) -> None:
        """Keep the Firm handles made so far in step with the firm table (exits, compaction);
        entrants get theirs when someone asks. Costs nothing when no handle was made."""
        self._reserve_firm_ids()
        handles = self._firm_handles
        if handles and log.exited is not None:
            for i in log.exited.tolist():
                agent = handles.pop(i, None)
                if agent is not None:
                    agent.row = None
        if log.compaction is not None:
            if handles:
                self._firm_handles = {int(log.compaction[row]): agent for row, agent in handles.items()}
                for row, agent in self._firm_handles.items():
                    agent.row = row
            self.observer.remap(log.compaction)

    def step(self) -> None:
        """One reported quarter."""
        if not self.running:
            return
        self._quarter()
        self.reported_quarters += 1
        self.recorder.report(self.reported_quarters)
        self.datacollector.collect(self)
        if self.reported_quarters >= self.params["steps"]:
            self.running = False

    def run(self) -> StateBusinessModel:
        """Run the remaining reported quarters."""
        while self.running:
            self.step()
        return self

    # --- results ---------------------------------------------------------------------------
    def region_table(self):
        """Per-region, per-quarter results as a pandas DataFrame (reported quarters only)."""
        return self.recorder.region_table()

    def regime_table(self):
        """Regime shares per region, quarter and Table 1 quadrant (long format)."""
        return self.recorder.regime_table()

    def outcomes(self) -> dict[str, float]:
        """End-of-run scalar outcomes (means over the last 4 reported quarters)."""
        return self.recorder.outcomes()


def _burnt_in_world(params: dict[str, Any], seed: int):
    """The world of a cold run at the end of its burn-in (what a snapshot stores)."""
    return StateBusinessModel(rng=seed, **params).world


snapshots.register_builder(_burnt_in_world)


def compile_kernels() -> float:
    """Compile (or load from numba's on-disk cache) every kernel of ``simulation.kernels`` by running a
    tiny model, so that no timed run pays for it; returns the seconds it took (0 without numba)."""
    from . import kernels

    if not kernels.AVAILABLE:
        return 0.0
    started = time.perf_counter()
    previous = kernels.use(True)
    try:
        kernels.warm_up()
        for governance in ("partnership", "symbiotic"):
            StateBusinessModel(rng=0, regions="all", firms=400, residents_per_region=198, burn_in=2, steps=2,
                               governance=governance).run()  # fmt: skip
    finally:
        kernels.use(previous)
    return time.perf_counter() - started


__all__ = ["StateBusinessModel", "REGIMES", "KPI_NAMES", "compile_kernels"]
