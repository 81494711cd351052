"""StateBusinessModel: builds the world and runs one quarter as the ODD's eleven steps."""

from __future__ import annotations

import zlib
from typing import Any

import mesa
import networkx as nx
import numpy as np

from . import networks, regions as regions_mod
from .agents import Akimat, Firm, Resident
from .kpi import KPI_NAMES
from .observer import REGIMES, Observer
from .population import MEMORY, MEMORY_FIELDS, OWNER_COHORT_SHARES, RESIDENT_COHORT_SHARES, FirmTable, ResidentTable
from .quarter import QuarterLog
from .records import Recorder
from .scenario import ScenarioError, resolve
from .submodels import capture, dealings, economy, officials, plan, ppp, support, tournament, trust, utilities

#: Elasticity of the capital a firm needs to match its akimat with respect to the region's
#: economic size (GRP share): a firm the size of a big-city akimat's match dominates a small region.
AKIMAT_SIZE_ELASTICITY = 0.5
#: Long ties of each large firm to large firms of neighbouring regions (brief s.2: "a few
#: long ties for large firms"); within its own region when it has no neighbour in the scenario.
LONG_TIES = 2

#: Oldest firm (quarters) an owner of each age cohort (<30, 30-39, 40-49, 50+) can run at
#: the start: a firm is at most as old as its owner's working life, so young owners run
#: start-ups and growing firms, older owners also mature ones. Initial firm ages are uniform
#: below these bounds; this is how the owner's cohort reaches behaviour (life stage sets the
#: number of dealings with officials).
MAX_FIRM_AGE_BY_COHORT = np.array([24, 48, 72, 96])

#: Named random streams, one per submodel: adding draws to one submodel does not shift
#: the draws of the others, so policy comparisons stay paired.
STREAMS = ("world", "network", "plan", "dealings", "support", "ppp", "capture", "economy",
           "entry", "trust", "tournament", "residents")


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

    Construct with keyword parameters (see ``simulation.scenario.PARAMETERS``; each has a
    default, and no argument at all gives the Turkestan scenario) plus ``rng`` (an integer
    seed, a numpy Generator, or None for a fresh seed; the seed used is ``model.seed``).
    The constructor runs the burn-in; each ``step()`` is one reported quarter, and
    ``running`` turns False after ``steps`` quarters.
    """

    def __init__(self, rng: Any = None, **params: Any):
        self.params = resolve(params, "StateBusinessModel")
        self.seed = _seed_from(rng)
        super().__init__(rng=self.seed)
        self.streams = {name: np.random.default_rng([self.seed, zlib.crc32(name.encode())]) for name in STREAMS}
        p = self.params
        try:
            self.regions = regions_mod.select(p["regions"])
        except ValueError as err:
            raise ScenarioError(f"StateBusinessModel: 'regions' = {p['regions']!r} is not allowed; expected {err}") from None
        self.n_regions = len(self.regions)
        self.region_graph = regions_mod.neighbour_graph(self.regions)
        self.quarter = 0  # quarters simulated, burn-in included
        self.reported_quarters = 0
        self._build_akimats()
        self._build_firms()
        self._build_residents()
        self.projects = ppp.ProjectBook()
        self.observer = Observer(self)
        self.recorder = Recorder(self)
        self.datacollector = mesa.DataCollector(model_reporters=self.recorder.model_reporters())
        for _ in range(p["burn_in"]):
            self._quarter()
        self.running = p["steps"] > 0

    # --- construction ----------------------------------------------------------------------
    def _build_akimats(self) -> None:
        p, rng = self.params, self.streams["world"]
        self.akimats_state = a = regions_mod.AkimatState(self.n_regions)
        z = rng.standard_normal(self.n_regions)
        z = z - z.mean()  # the scenario's power_strength is the mean over its regions
        a.power[:] = np.clip(p["power_strength"] + p["power_spread"] * z, 0.01, 0.99)
        a.structural_power[:] = a.power
        a.corrupt_share[:] = p["corruption_initial"]
        a.utility_quality[:] = p["utility_quality"]
        self.akimats = [Akimat(self, i, r.id, r.name) for i, r in enumerate(self.regions)]

    def _build_firms(self) -> None:
        p, rng = self.params, self.streams["world"]
        pop = np.array([r.population_thousands for r in self.regions])
        counts = _apportion(p["firms"], pop / pop.sum())
        # richer regions (GRP per head) have larger firms; scaled so that the mean factor is 1
        grp = np.array([r.grp_share for r in self.regions])
        wealth = np.sqrt((grp / grp.sum()) / (pop / pop.sum()))
        wealth = wealth / np.average(wealth, weights=counts) if counts.sum() else wealth
        region = np.repeat(np.arange(self.n_regions), counts)
        n = len(region)
        self.firms = f = FirmTable(int(n * 1.5) + 16)
        capital = wealth[region] * np.exp(p["capital_dispersion"] * rng.standard_normal(n))
        sigma_a = p["productivity_dispersion"]
        productivity = p["productivity"] * np.exp(sigma_a * rng.standard_normal(n) - sigma_a**2 / 2)
        # the capital at which a firm is a match for its akimat, set so that the output-weighted
        # median firm (capital exp(alpha sigma^2) times the median, for lognormal capital) has
        # business strength B = business_strength
        weighted_median = np.exp(p["capital_elasticity"] * p["capital_dispersion"] ** 2)
        # ... in a region of average economic size; a firm must be bigger to match the akimat
        # of a bigger regional economy: K_match,r = K_match * (GRP share / mean share)^0.5
        size = (grp / grp.mean()) ** AKIMAT_SIZE_ELASTICITY
        self.match_capital = weighted_median * np.exp(-_logit(p["business_strength"]) / p["strength_slope"]) * size
        connection = np.where(rng.random(n) < p["connected_share"], rng.uniform(0.3, 1.0, n), 0.0)
        cohort = rng.choice(4, size=n, p=OWNER_COHORT_SHARES)
        rows = f.add(
            n,
            region=region,
            capital=capital,
            productivity=productivity,
            cohort=cohort,
            age=np.floor(rng.random(n) * MAX_FIRM_AGE_BY_COHORT[cohort]).astype(np.int32),
            connection=connection,
            member=rng.random(n) < p["association_share"],
            formal=True,
            alive=True,
            trust=0.5,
            perceived_detection=dealings.true_detection(p),
        )
        self._appoint_insiders(rows)
        self.update_strength()
        src, dst = networks.small_world_edges(
            [rows[region == r] for r in range(self.n_regions)], p["firm_ties"], p["tie_rewiring"], self.streams["network"]
        )
        large = rows[self.size_class() == 3]
        lsrc, ldst = networks.long_ties(large, region[large], self.region_graph, LONG_TIES, self.streams["network"])
        self.ties = networks.TieNetwork(np.concatenate([src, lsrc]), np.concatenate([dst, ldst]), f.n)
        self.firm_agents: list[Firm | None] = [Firm(self, int(i)) for i in rows]
        # the budget of the first quarter: taxes of the initial firms at full formality
        output = economy.potential_output(self)
        tax = np.bincount(region, weights=p["tax_rate"] * output, minlength=self.n_regions)
        self.akimats_state.tax_revenue[:] = tax
        self.akimats_state.initial_tax[:] = np.maximum(tax, 1e-9)
        self.initial_wage = None  # set by the KPIs on the first quarter
        self.entries_last = np.zeros(self.n_regions)  # firms that entered at the end of the last quarter
        self.entrant_capital_last = np.zeros(self.n_regions)  # and the capital they brought

    def _appoint_insiders(self, rows: np.ndarray) -> None:
        """The symbiotic model's dominant players: the largest firms of each region, fully connected."""
        k = self.params["insiders"]
        if k == 0:
            return
        f = self.firms
        for r in range(self.n_regions):
            in_region = rows[f.region[rows] == r]
            top = in_region[np.argsort(-f.capital[in_region], kind="stable")[:k]]
            f.insider[top] = True
            f.connection[top] = 1.0

    def _build_residents(self) -> None:
        p, rng = self.params, self.streams["residents"]
        m = p["residents_per_region"]
        region = np.repeat(np.arange(self.n_regions), m)
        n = len(region)
        self.residents = ResidentTable(
            region=region,
            cohort=rng.choice(4, size=n, p=RESIDENT_COHORT_SHARES),
            taste=rng.standard_normal(n),
            utility_taste=rng.standard_normal((n, 4)),
        )
        self.resident_agents = [Resident(self, i) for i in range(n)]

    # --- helpers used by the submodels ------------------------------------------------------
    def update_strength(self, rows: np.ndarray | slice = slice(None)) -> None:
        """Business strength B = logistic(slope * log(K / K_match)) + association bonus, in [0,1]."""
        f, p = self.firms, self.params
        k = np.maximum(f.view("capital")[rows], 1e-12)
        b = 1.0 / (1.0 + (self.match_capital[f.view("region")[rows]] / k) ** p["strength_slope"])
        f.view("strength")[rows] = np.minimum(1.0, b + p["association_bonus"] * f.view("member")[rows])

    def size_class(self) -> np.ndarray:
        """Size class per firm row: 0 micro, 1 small, 2 medium, 3 large (capital thresholds 1, 8, 40
        times the initial median firm)."""
        return np.searchsorted(np.array([1.0, 8.0, 40.0]), self.firms.view("capital"), side="right")

    def firm_network(self) -> nx.Graph:
        """The ties among firms in business as a networkx graph (nodes are Firm agents' rows)."""
        alive = np.flatnonzero(self.firms.view("alive"))
        sub = self.ties.matrix(self.firms.n)[alive][:, alive]
        g = nx.from_scipy_sparse_array(sub)
        return nx.relabel_nodes(g, dict(enumerate(alive.tolist())))

    def captured_regions(self) -> np.ndarray:
        """Number of captors holding each akimat captured."""
        return capture.captured_regions(self)

    def add_firm_agents(self, rows: np.ndarray) -> None:
        self.firm_agents.extend(Firm(self, int(i)) for i in rows)

    def remove_firm_agents(self, rows: np.ndarray) -> None:
        for i in rows:
            agent = self.firm_agents[i]
            if agent is not None:
                agent.remove()
                self.firm_agents[i] = None

    def compact_firms(self) -> None:
        """Drop exited firms' rows and renumber everything that points at rows."""
        f = self.firms
        old_n = f.n
        mapping = f.compact()
        self.firm_agents = [a for a in self.firm_agents[:old_n] if a is not None]
        for new_row, agent in enumerate(self.firm_agents):
            agent.row = new_row
        self.ties.remap(mapping, f.n)
        self.projects.remap_firms(mapping)
        self.observer.remap(mapping)

    # --- one quarter ---------------------------------------------------------------------------
    def _quarter(self) -> QuarterLog:
        log = QuarterLog(self.firms.n, self.n_regions)
        slot = self.quarter % MEMORY
        for name in MEMORY_FIELDS:
            self.firms.memory(name)[slot] = 0.0  # so that last_year() + this quarter = 4 quarters
        plan.step(self, log)  # 1. akimat plan
        dealings.step(self, log)  # 2. administrative dealings (inspection game)
        officials.step(self, log)  # 3. officials adapt
        support.step(self, log)  # 4. support
        ppp.step(self, log)  # 5. PPP tenders and contracts
        capture.step(self, log)  # 6. capture
        economy.step(self, log)  # 7. firm economy (output, costs, investment, informality, exit)
        trust.step(self, log)  # 8. trust and satisfaction
        kpis = tournament.step(self, log)  # 9. Figure 2 KPIs and the akims' tournament
        utilities.step(self, log)  # 10. utilities and residents
        for name in MEMORY_FIELDS:
            self.firms.memory(name)[slot] = log.firm[name]
        self.observer.step(log)  # 11. the observer reads regimes off behaviour
        self.recorder.quarter(log, kpis)
        economy.entry(self, log)  # new firms appear for the next quarter
        self.quarter += 1
        return log

    @property
    def ppp_projects(self):
        return self.projects

    def step(self) -> None:
        """One reported quarter."""
        if not self.running:
            return
        self._quarter()
        self.reported_quarters += 1
        self.recorder.report()
        self.datacollector.collect(self)
        if self.reported_quarters >= self.params["steps"]:
            self.running = False

    def run(self) -> "StateBusinessModel":
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


def _logit(x: float) -> float:
    return float(np.log(x / (1.0 - x)))


def _apportion(total: int, shares: np.ndarray) -> np.ndarray:
    """Integer counts summing to ``total`` in proportion to ``shares`` (largest remainder)."""
    raw = total * shares
    counts = np.floor(raw).astype(np.int64)
    rest = total - counts.sum()
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:rest]] += 1
    return counts


__all__ = ["StateBusinessModel", "REGIMES", "KPI_NAMES"]
