"""The simulated world: every piece of state that the submodels read and write, declared here.

A ``World`` holds the firms, akimats, residents, PPP contracts, firm ties, the KPI history
and the few running totals that carry from one quarter to the next. Submodels receive the
world and the quarter's log and change only what is declared here; nothing is attached to
the Mesa model at run time. The Mesa model (``simulation.model``) owns a world, runs the
schedule on it, and keeps its agents (thin handles onto rows) in step with it.

Firm state is a table of typed columns, one row per firm ever in business (until
compaction drops exited rows): ``world.firms.capital`` is the in-use part of the column, a
numpy view, so ``world.firms.capital[rows] = x`` writes into the table.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from . import formulas, kernels
from .networks import TieNetwork
from .regions import UTILITIES, Region

#: Rolling memory length: the observer and the survey look at the last 4 quarters.
MEMORY = 4

#: Per-quarter events a firm remembers for 4 quarters (the observer's and survey's inputs).
MEMORY_FIELDS = (
    "dealings",  # dealings with officials
    "demands",  # bribe demands received
    "paid",  # demands paid
    "refused",  # demands refused
    "reported",  # demands reported
    "offer_paid",  # offers of speed money accepted: bribes the firm initiated
    "extracted",  # bribes paid + delay and retaliation costs (output units)
    "support",  # support received (output units)
    "cooperation",  # quarters of a performing PPP contract + consultation taken part in
    "disputes",  # PPP disputes the firm is party to
    "rule_bending",  # 1 when the firm held its akimat captured
    "output",  # output Y
    "experience",  # net experience with the authorities: gains - losses (output units)
    "consulted",  # 1 when the firm took part in consultation (a business council, an online discussion)
)

#: Memory fields that count events (dealings, demands, contracts, quarters in a state): stored as
#: 16-bit integers (a quarter's count is a small whole number), the others as float64. The sums
#: over the year are the same numbers either way; the row of the table is about 40% smaller.
COUNT_FIELDS = frozenset(
    (
        "dealings",
        "demands",
        "paid",
        "refused",
        "reported",
        "offer_paid",
        "cooperation",
        "disputes",
        "rule_bending",
        "consulted",
    )
)


#: The largest count a memory field holds (int16).
COUNT_MAX = int(np.iinfo(np.int16).max)


def memory_dtype(name: str) -> type:
    """The dtype of a memory field: int16 for the counts (``COUNT_FIELDS``), float64 for amounts."""
    return np.int16 if name in COUNT_FIELDS else np.float64


#: Owners' age cohorts of the entrepreneurs' sample (paper, Tables 7-9, cohort shares of
#: the 58 entrepreneurs: 20, 18, 11, 9). Used as the owner-age mix of firms at entry.
OWNER_COHORT_SHARES = np.array([20, 18, 11, 9], dtype=float) / 58.0

#: Owners' ages in years bounding the cohorts: an entrant's owner is uniform within the cohort
#: drawn, from 18 (the age of majority, when one can register a business) to 63 (Kazakhstan's
#: statutory pension age for men); the cohorts' edges are the paper's (30, 40, 50).
OWNER_AGE_EDGES = np.array([18.0, 30.0, 40.0, 50.0, 63.0])


def owner_entry_ages(cohort: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Owner's age at entry, in years, uniform within the owner's cohort (``u`` uniform in [0, 1))."""
    c = np.asarray(cohort, dtype=np.int64)
    return OWNER_AGE_EDGES[c] + np.asarray(u) * (OWNER_AGE_EDGES[c + 1] - OWNER_AGE_EDGES[c])


def owner_cohorts(entry_age: np.ndarray, firm_age: np.ndarray) -> np.ndarray:
    """The owner's cohort now (0 <30, 1 30-39, 2 40-49, 3 50+): the age at entry plus the firm's
    age (quarters / 4). The owner grows older with the firm (life stage, ODD 5)."""
    years = np.asarray(entry_age, dtype=float) + np.asarray(firm_age, dtype=float) / 4.0
    return np.searchsorted(OWNER_AGE_EDGES[1:4], years, side="right").astype(np.int8)


#: Age composition of the paper's population sample (Table 2: 72, 45, 42, 39 of 198).
RESIDENT_COHORT_SHARES = np.array([72, 45, 42, 39], dtype=float) / 198.0


class Column:
    """A typed firm column: reading gives the in-use rows as a view; the column itself cannot be replaced."""

    def __init__(self, dtype: type, doc: str):
        self.dtype = dtype
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, table: FirmTable | None, owner: type | None = None):
        if table is None:
            return self
        return table._data[self.name][: table.n]

    def __set__(self, table: FirmTable, value: Any) -> None:
        raise AttributeError(f"firms.{self.name} is a column: write into it (firms.{self.name}[rows] = ...)")


class FirmTable:
    """Columns of firm state with spare capacity; ``n`` rows are in use."""

    region = Column(np.int32, "index of the firm's region")
    capital = Column(np.float64, "K, in units of the initial median firm's capital")
    productivity = Column(np.float64, "A")
    cohort = Column(np.int8, "owner's age cohort now: 0 <30, 1 30-39, 2 40-49, 3 50+ (refreshed each quarter)")
    owner_entry_age = Column(np.float64, "owner's age in years when the firm entered (0: not known, cohort kept)")
    age = Column(np.int32, "quarters since entry")
    connection = Column(np.float64, "L in [0,1]: connection to the akimat")
    insider = Column(np.bool_, "dominant insider firm (symbiotic model)")
    member = Column(np.bool_, "member of a business association")
    formal = Column(np.bool_, "pays taxes (not in the informal economy)")
    alive = Column(np.bool_, "in business")
    trust = Column(np.float64, "T in [0,1]")
    satisfaction = Column(np.float64, "S in [-1,1]")
    perceived_detection = Column(np.float64, "perceived probability that a paid bribe is detected")
    home_official = Column(np.float64, "moral-cost rank u in [0,1) of the firm's home official: corrupt while u < c")
    client = Column(
        np.bool_, "a client of its home official (patronage under symbiosis), until the official is rotated"
    )
    loss_streak = Column(np.int32, "loss-making quarters in a row")
    captor = Column(np.bool_, "holds its akimat captured (bends the rules)")
    strength = Column(np.float64, "B in [0,1], refreshed each quarter")
    profit = Column(np.float64, "cash profit of the last quarter")
    uid = Column(np.int64, "the firm's serial number: 0, 1, 2 ... in order of creation, never reused")

    COLUMNS: tuple[str, ...] = ()  # filled below from the declarations

    def __init__(self, capacity: int):
        self.n = 0
        self.created = 0  # firms created so far (the next firm's uid)
        self.capacity = max(capacity, 16)
        self._data = {name: np.zeros(self.capacity, dtype=self._dtype(name)) for name in (*self.COLUMNS, "uid")}
        self._memory = {name: np.zeros((MEMORY, self.capacity), dtype=memory_dtype(name)) for name in MEMORY_FIELDS}
        self._year: dict[str, np.ndarray] = {}  # last_year's sums, until rows or memory change

    @classmethod
    def _dtype(cls, name: str) -> type:
        return cls.__dict__[name].dtype

    def _grow(self, need: int) -> None:
        # a quarter of the capacity more (not double): compaction keeps the rows in use within 1.25x
        # the firms in business, so a table that has grown once rarely grows again
        new_cap = max(need, self.capacity + self.capacity // 4)
        for name, old in self._data.items():
            arr = np.zeros(new_cap, dtype=old.dtype)
            arr[: self.n] = old[: self.n]
            self._data[name] = arr
        for name, old in self._memory.items():
            arr = np.zeros((MEMORY, new_cap), dtype=old.dtype)
            arr[:, : self.n] = old[:, : self.n]
            self._memory[name] = arr
        self.capacity = new_cap

    def add(self, count: int, **values: Any) -> np.ndarray:
        """Append ``count`` rows (columns not given are zero) and return their row indices."""
        unknown = set(values) - set(self.COLUMNS)
        if unknown:
            raise KeyError(f"unknown firm columns: {sorted(unknown)}")
        if self.n + count > self.capacity:
            self._grow(self.n + count)
        rows = np.arange(self.n, self.n + count)
        self._year.clear()
        for name in self.COLUMNS:
            self._data[name][rows] = values.get(name, 0)
        self._data["uid"][rows] = np.arange(self.created, self.created + count)
        for mem in self._memory.values():
            mem[:, rows] = 0
        self.n += count
        self.created += count
        return rows

    def memory(self, name: str) -> np.ndarray:
        """The in-use part of a memory field, shape (4, n) (writable: its yearly sum is recomputed)."""
        self._year.pop(name, None)
        return self._memory[name][:, : self.n]

    def last_year(self, name: str) -> np.ndarray:
        """Sum of a memory field over the last 4 quarters (read-only; computed once until the memory
        changes: several submodels read the same sums each quarter)."""
        total = self._year.get(name)
        if total is None:
            total = self._memory[name][:, : self.n].sum(axis=0)
            total.flags.writeable = False
            self._year[name] = total
        return total

    def compact(self) -> np.ndarray:
        """Drop exited firms' rows. Returns old row -> new row (-1 for dropped rows)."""
        keep = self.alive.copy()
        self._year.clear()
        mapping = np.full(self.n, -1, dtype=np.int64)
        new_n = int(keep.sum())
        mapping[keep] = np.arange(new_n)
        rows = np.flatnonzero(keep)
        for col in self._data.values():
            col[:new_n] = col[rows]
        for mem in self._memory.values():
            for quarter in mem:  # row by row: several times faster than a 2-d mask
                quarter[:new_n] = quarter[rows]
        self.n = new_n
        return mapping


#: the columns of firm state (what ``add`` takes); ``uid`` is stored too, but the table assigns it
FirmTable.COLUMNS = tuple(
    name for name, value in vars(FirmTable).items() if isinstance(value, Column) and name != "uid"
)


class ResidentTable:
    """Columns of resident state (fixed population: residents do not enter or leave)."""

    def __init__(self, region: np.ndarray, cohort: np.ndarray, taste: np.ndarray, utility_taste: np.ndarray):
        self.n = len(region)
        self.region = region.astype(np.int32)
        self.cohort = cohort.astype(np.int8)
        self.taste = taste  # persistent individual offset of satisfaction with the authorities
        self.utility_taste = utility_taste  # shape (n, 4): persistent offsets per utility
        self.authority = np.zeros(self.n)  # latent satisfaction with the authorities
        self.utilities = np.zeros((self.n, 4))  # latent satisfaction per utility


@dataclass
class AkimatState:
    """Region-level state, one entry per akimat (row i belongs to ``model.akimats[i]``)."""

    n: int
    power: np.ndarray = field(init=False)  # P in [0,1]
    structural_power: np.ndarray = field(init=False)  # P0: the initial P, to which P is anchored
    corrupt_share: np.ndarray = field(init=False)  # c in [0,1]
    official_gain: np.ndarray = field(init=False)  # G: corrupt officials' last net gain (mean firm outputs)
    symbiosis: np.ndarray = field(init=False)  # s in [0,1]: the governance model (may drift)
    transfer: np.ndarray = field(init=False)  # central transfer a quarter (equalisation)
    firms_initial: np.ndarray = field(init=False)  # firms at the start: the pool of potential entrants
    productivity_level: np.ndarray = field(init=False)  # mean productivity A of the region's firms (richer: higher)
    budget: np.ndarray = field(init=False)
    tax_revenue: np.ndarray = field(init=False)  # taxes collected last quarter
    initial_tax: np.ndarray = field(init=False)
    rents: np.ndarray = field(init=False)
    capture_transfer: np.ndarray = field(init=False)
    maintenance: np.ndarray = field(init=False)
    maintenance_reference: np.ndarray = field(init=False)
    support_budget: np.ndarray = field(init=False)
    ppp_fund: np.ndarray = field(init=False)
    utility_quality: np.ndarray = field(init=False)  # shape (n, 4)
    utility_expectation: np.ndarray = field(init=False)  # shape (n, 4): the quality residents expect (adaptive)
    score: np.ndarray = field(init=False)  # latest evaluation score (Figure 2 KPIs)
    replacements: np.ndarray = field(init=False)  # akims replaced so far

    def __post_init__(self):
        for name in (
            "power",
            "structural_power",
            "corrupt_share",
            "official_gain",
            "symbiosis",
            "transfer",
            "firms_initial",
            "productivity_level",
            "budget",
            "tax_revenue",
            "initial_tax",
            "rents",
            "capture_transfer",
            "maintenance",
            "maintenance_reference",
            "support_budget",
            "ppp_fund",
        ):
            setattr(self, name, np.zeros(self.n))
        self.utility_quality = np.zeros((self.n, len(UTILITIES)))
        self.utility_expectation = np.zeros((self.n, len(UTILITIES)))
        self.replacements = np.zeros(self.n, dtype=np.int64)
        self.score = np.full(self.n, 0.5)


# PPP contract phases and statuses
CONSTRUCTION, OPERATION, ENDED = 0, 1, 2
PERFORMING, RENEGOTIATED, DISPUTED, TERMINATED, COMPLETED = 0, 1, 2, 3, 4
STATUS_NAMES = ("performing", "renegotiated", "disputed", "terminated", "completed")


class ProjectBook:
    """All PPP contracts of the run as columns; contracts are never deleted."""

    FIELDS = {
        "region": np.int32,
        "firm": np.int64,
        "sector": np.int8,
        "cost": np.float64,
        "equity": np.float64,  # the partner's equity in the project company (the rest of the private share is debt)
        "lifecycle": np.bool_,
        "phase": np.int8,
        "status": np.int8,
        "left": np.int32,
        "duration": np.int32,
        "started": np.int32,
        "replacements": np.int32,  # partners brought in after an exit (step-in)
        "operation": np.int32,  # quarters of operation, set when the contract goes into operation
    }
    #: Fields that ``add`` may leave out, and their value then.
    DEFAULTS = {"operation": 0}

    def __init__(self):
        # each field is the in-use part (a view) of a column with spare capacity, so that adding a
        # contract does not copy the whole book
        self._n = 0
        self._columns = {name: np.zeros(16, dtype=dtype) for name, dtype in self.FIELDS.items()}
        self._views()

    def _views(self) -> None:
        for name, column in self._columns.items():
            setattr(self, name, column[: self._n])

    def __len__(self) -> int:
        return self._n

    def add(self, **values: Any) -> None:
        """Append one contract."""
        if self._n == len(self._columns["region"]):
            for name, column in self._columns.items():
                grown = np.zeros(2 * len(column), dtype=column.dtype)
                grown[: self._n] = column[: self._n]
                self._columns[name] = grown
        for name, column in self._columns.items():
            column[self._n] = np.asarray(values[name] if name in values else self.DEFAULTS[name], dtype=column.dtype)
        self._n += 1
        self._views()

    def live(self) -> np.ndarray:
        """Contracts not yet ended."""
        return self.phase != ENDED

    def remap_firms(self, mapping: np.ndarray) -> None:
        """Follow a compaction of firm rows. A contract whose partner's row was dropped (the
        partner exited) gets -1 as its partner; a live one stays live until the next PPP step
        finds it a new partner or terminates it (step-in)."""
        known = self.firm >= 0
        self.firm[known] = mapping[self.firm[known]]

    def disputed_share(self, n_regions: int) -> np.ndarray:
        """Share of each region's live contracts in dispute."""
        live = self.live()
        n = np.bincount(self.region[live], minlength=n_regions)
        d = np.bincount(self.region[live & (self.status == DISPUTED)], minlength=n_regions)
        return np.divide(d, n, out=np.zeros(n_regions), where=n > 0)

    def counts(self, n_regions: int) -> dict[str, np.ndarray]:
        """Contracts per region: live ones by status, and terminated / completed so far."""
        live = self.live()
        out = {}
        for code, name in enumerate(STATUS_NAMES):
            mask = (self.status == code) & (live if code < TERMINATED else ~live)
            out[name] = np.bincount(self.region[mask], minlength=n_regions).astype(float)
        return out

    def operating_lift(self, n_regions: int, lifecycle_effect: float) -> np.ndarray:
        """Operating, non-disputed utility contracts per region and utility, shape (R, 4);
        a life-cycle contract counts 1 + lifecycle_effect."""
        ok = (self.phase == OPERATION) & (self.status != DISPUTED) & (self.sector < 4)
        lift = np.zeros((n_regions, 4))
        np.add.at(lift, (self.region[ok], self.sector[ok]), 1.0 + lifecycle_effect * self.lifecycle[ok])
        return lift


@dataclass(slots=True)
class World:
    """All simulated state of one run (built by ``simulation.initialisation.build``).

    Slotted: a submodel can change what is declared here, but cannot attach anything new.
    """

    params: dict[str, Any]
    seed: int
    streams: dict[str, np.random.Generator]
    regions: tuple[Region, ...]
    region_graph: nx.Graph
    akimats: AkimatState
    firms: FirmTable
    residents: ResidentTable
    ties: TieNetwork
    match_capital: np.ndarray  # per region: the capital at which a firm is a match for its akimat
    #: per region: (offset of the median, log spread) of the firms' log-normal body at the start; B is
    #: then read from a firm's rank on it (formulas.rank_capital); None: from its capital (hand-built worlds)
    strength_scale: np.ndarray | None = None
    projects: ProjectBook = field(default_factory=ProjectBook)
    quarter: int = 0  # quarters simulated, burn-in included
    #: the Figure 2 KPIs of the last 8 quarters (for year-on-year growth), newest last
    kpi_history: deque = field(default_factory=lambda: deque(maxlen=8))
    #: with the akim's choice of s on (``symbiosis_step`` > 0): (s, score) per region of the last 8
    #: evaluations, newest last (the league tables the akims learn from; tournament.py)
    league_history: deque = field(default_factory=lambda: deque(maxlen=8))
    initial_wage: np.ndarray | None = None  # per region: the wage of the first quarter (the index base)
    entries_last: np.ndarray | None = None  # per region: firms that entered at the end of the last quarter
    entrant_capital_last: np.ndarray | None = None  # and the capital they brought
    # bargaining()'s numbers (read-only) and what they were computed from
    _bargaining: tuple | None = field(default=None, repr=False, compare=False)
    _bargaining_seen: tuple | None = field(default=None, repr=False, compare=False)
    # the last full ranking of capital (formulas.rank_capital_sorted) and the rows' capital, business and region
    # it was sorted from: firms added since are ranked on it (update_strength)
    _ranking: tuple | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.entries_last is None:
            self.entries_last = np.zeros(self.n_regions)
        if self.entrant_capital_last is None:
            self.entrant_capital_last = np.zeros(self.n_regions)

    @property
    def n_regions(self) -> int:
        """Number of regions (akimats)."""
        return len(self.regions)

    # --- derived state --------------------------------------------------------------------
    def captured_regions(self) -> np.ndarray:
        """Number of firms in business holding each region captured."""
        f = self.firms
        held = f.captor & f.alive
        return kernels.count_where(f.region, held, self.n_regions)

    def size_class(self) -> np.ndarray:
        """Size class per firm row: 0 micro, 1 small, 2 medium, 3 large."""
        return formulas.size_class(self.firms.capital, self.params)

    def potential_output(self) -> np.ndarray:
        """A K^alpha per firm row (0 for exited rows)."""
        f = self.firms
        return formulas.potential_output(f.productivity, f.capital, self.params["capital_elasticity"], f.alive)

    def bargaining(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per firm row: B^phi, P^phi and the officials' bargaining share P^phi / (P^phi + B^phi)
        (``formulas.bargaining_share``, the same numbers). Support, capture and the economy read them
        in the same quarter: they are computed again only when B, P, the rows or phi changed."""
        f, a = self.firms, self.akimats
        phi = float(self.params["bargaining_exponent"])
        seen = self._bargaining_seen
        if not (
            seen is not None
            and seen[0] == phi
            and np.array_equal(seen[1], a.power)
            and np.array_equal(seen[2], f.region)
            and np.array_equal(seen[3], f.strength)
        ):
            bp = np.power(np.maximum(f.strength, 1e-9), phi)
            pp = np.power(a.power, phi)[f.region]
            self._bargaining = (bp, pp, pp / (pp + bp))
            for values in self._bargaining:
                values.flags.writeable = False
            self._bargaining_seen = (phi, a.power.copy(), f.region.copy(), f.strength.copy())
        return self._bargaining

    # --- changes that several submodels make -----------------------------------------------
    def update_strength(self, rows: np.ndarray | slice = slice(None)) -> None:
        """Refresh business strength B of the given firm rows from their capital, or, when the world has a
        ``strength_scale``, from the capital of their rank in their region (``formulas.rank_capital``)."""
        f = self.firms
        capital = f.capital
        if self.strength_scale is not None:
            ranking, self._ranking = self._ranking, None
            if ranking is not None and self._added_since(ranking, rows):
                added = formulas.rank_capital_added(
                    ranking[0], capital[rows], f.region[rows], self.strength_scale, self.n_regions
                )
                f.strength[rows] = formulas.business_strength(
                    added, self.match_capital[f.region[rows]], f.member[rows], self.params
                )
                return
            capital, ranking = formulas.rank_capital_sorted(
                capital, f.region, f.alive, self.strength_scale, self.n_regions
            )
            if ranking is not None:
                self._ranking = (ranking, f.capital.copy(), f.alive.copy(), f.region.copy())
        f.strength[rows] = formulas.business_strength(
            capital[rows], self.match_capital[f.region[rows]], f.member[rows], self.params
        )

    def _added_since(self, ranking: tuple, rows) -> bool:
        """Whether ``rows`` are firms in business appended since ``ranking`` was sorted, and every other row's
        capital, business and region are as they were then (so that ranking the new rows on it gives
        ``formulas.rank_capital``'s numbers to the bit)."""
        f = self.firms
        _, capital, alive, region = ranking
        old = capital.size
        return (
            isinstance(rows, np.ndarray)
            and rows.size > 0
            and rows.size == f.n - old
            and rows[0] == old
            and bool(np.all(np.diff(rows) == 1))
            and bool(f.alive[rows].all())
            and not np.isnan(f.capital[rows]).any()
            and np.array_equal(f.capital[:old], capital)
            and np.array_equal(f.alive[:old], alive)
            and np.array_equal(f.region[:old], region)
        )

    def release_capture(self, region: int) -> None:
        """End every capture of an akimat (its akim was replaced)."""
        f = self.firms
        f.captor[f.region == region] = False

    # --- the quarter's bookkeeping ---------------------------------------------------------
    def begin_quarter(self) -> None:
        """Clear the memory slot of 4 quarters ago, so that last_year() + this quarter = 4 quarters."""
        slot = self.quarter % MEMORY
        for name in MEMORY_FIELDS:
            self.firms.memory(name)[slot] = 0.0

    def remember(self, log) -> None:
        """Firms remember this quarter's events (read by the observer, the survey and next quarters)."""
        slot = self.quarter % MEMORY
        for name in MEMORY_FIELDS:
            values = log.firm[name]
            if name in COUNT_FIELDS and values.size and values.max() > COUNT_MAX:
                raise OverflowError(f"firms' memory of {name}: a count above {COUNT_MAX} does not fit int16")
            self.firms.memory(name)[slot] = values

    def compact_firms(self) -> np.ndarray:
        """Drop exited firms' rows and renumber what points at rows; returns old row -> new row."""
        mapping = self.firms.compact()
        self.ties.remap(mapping, self.firms.n)
        self.projects.remap_firms(mapping)
        return mapping
