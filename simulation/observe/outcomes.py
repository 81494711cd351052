"""The outcome registry: every outcome of the model, declared once.

An ``Outcome`` says how the outcome is computed for each region in a quarter (from the
world, the quarter's log and the observer), how it aggregates over firms into a region's
value (in words), how regions combine into the national value (a sum, or a mean weighted
by output, firms, population or jobs), its unit and label, and whether Mesa's
DataCollector records it as a time series. End-of-run outcomes are the means of the
national values over the last 4 reported quarters (one year).

The recorder (``simulation.observe.records``), experiment validation, analysis, the report and the
calibration read this registry; a new outcome is one declaration in ``OUTCOMES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .. import kernels
from ..regions import UTILITIES
from ..world import STATUS_NAMES
from .answers import SATISFACTION_CUT, authority_scores, utility_answers
from .observer import QUADRANTS, REGIMES

#: How regions combine into a national value: summed, or a mean weighted by one of these.
WEIGHTS = ("output", "firms", "population", "jobs")
#: How quarters combine into an end-of-run outcome.
END_OF_RUN_QUARTERS = 4


class Quarter:
    """What the outcome functions read: the world after the quarter's behaviour, its log and
    the observer's readings, with the few per-region totals many outcomes share."""

    def __init__(self, world, log, observer):
        self.world, self.log, self.observer = world, log, observer
        self.f, self.a, self.res = world.firms, world.akimats, world.residents
        self.R = world.n_regions
        self.alive = self.f.alive
        self.region = self.f.region

    @cached_property
    def n_firms(self) -> np.ndarray:
        """Firms in business per region."""
        return kernels.count_where(self.region, self.alive, self.R).astype(float)

    def firm_share(self, mask: np.ndarray) -> np.ndarray:
        """Per region: the share of firms in business for which ``mask`` holds."""
        n = self.n_firms
        return np.divide(
            kernels.count_where(self.region, self.alive & mask, self.R), n, out=np.zeros(self.R), where=n > 0
        )

    def per_firm(self, totals: np.ndarray) -> np.ndarray:
        """Per region: a total divided by the firms in business."""
        return np.divide(totals, self.n_firms, out=np.zeros(self.R), where=self.n_firms > 0)

    @cached_property
    def output(self) -> np.ndarray:
        """This quarter's output of the firms in business, per region."""
        return np.bincount(self.region, weights=self.log.firm["output"] * self.alive, minlength=self.R)

    @cached_property
    def kpis(self) -> dict[str, np.ndarray]:
        """This quarter's Figure 2 KPIs (and jobs) per region."""
        return self.world.kpi_history[-1]

    @cached_property
    def n_residents(self) -> np.ndarray:
        """Residents per region."""
        return np.bincount(self.res.region, minlength=self.R).astype(float)

    def resident_share(self, mask: np.ndarray) -> np.ndarray:
        """Per region: the share of residents for which ``mask`` holds (or the mean of a number)."""
        return np.bincount(self.res.region, weights=mask, minlength=self.R) / self.n_residents

    @cached_property
    def scores(self) -> np.ndarray:
        """Every resident's answer on Table 5's 1-5 scale."""
        return authority_scores(self.res.authority)

    @cached_property
    def utility_answers(self) -> np.ndarray:
        """Every resident's answer per utility (0 satisfied, 1 partially, 2 dissatisfied)."""
        return utility_answers(self.res.utilities)

    @cached_property
    def ppp_counts(self) -> dict[str, np.ndarray]:
        """PPP contracts per region by status."""
        return self.world.projects.counts(self.R)

    @cached_property
    def quadrant_totals(self) -> np.ndarray:
        """Relations (firms in business) of every quadrant, summed over regions."""
        return self.observer.quadrant_weight.sum(axis=0)

    def weight(self, name: str) -> np.ndarray:
        """The regional weights of a weighted national mean."""
        if name == "output":
            return self.output
        if name == "firms":
            return self.n_firms
        if name == "population":
            return np.array([r.population_thousands for r in self.world.regions])
        if name == "jobs":
            return self.kpis["jobs"]
        raise KeyError(name)


@dataclass(frozen=True)
class Outcome:
    """One declared outcome.

    ``compute(q)`` gives the per-region values of a quarter; an outcome without it is
    national only and has ``national(q)`` instead. ``regions`` is "sum" or the weight of a
    weighted mean (one of ``WEIGHTS``); ``firms`` says in words how firms make a region's value.
    """

    name: str
    label: str
    unit: str
    firms: str
    regions: str
    series: bool = False
    compute: Callable[[Quarter], np.ndarray] | None = None
    national: Callable[[Quarter], float] | None = None

    @property
    def regional(self) -> bool:
        """True if the outcome has a value per region (a column of the region table)."""
        return self.compute is not None

    @property
    def is_share(self) -> bool:
        """A share in [0, 1] (reported in percentage points)."""
        return self.unit == "share"


def _o(name, label, unit, firms, regions, compute, series=False) -> Outcome:
    return Outcome(name, label, unit, firms, regions, series, compute)


def _state(attr: str):
    return lambda q: getattr(q.a, attr).copy()


def _quadrant_weight(qi: int):
    return lambda q: float(q.quadrant_totals[qi] / q.quadrant_totals.sum()) if q.quadrant_totals.sum() > 0 else 0.0


def _quadrant_regime(qi: int, k: int):
    def share(q):
        obs, total = q.observer, q.quadrant_totals[qi]
        num = (obs.quadrant_shares[:, qi, k] * obs.quadrant_weight[:, qi]).sum()
        return float(num / total) if total > 0 else 0.0

    return share


def _total_ratio(num: np.ndarray, den: np.ndarray) -> float:
    """sum(num) / sum(den) over regions (NaN when nothing happened anywhere)."""
    return float(num.sum() / den.sum()) if den.sum() > 0 else float("nan")


def _ratio(q: Quarter, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den per region, the national ratio where a region's den is 0."""
    return np.divide(num, den, out=np.full(q.R, _total_ratio(num, den)), where=den > 0)


def _kpi(name: str, label: str, unit: str, firms: str, regions: str) -> Outcome:
    return _o(name, label, unit, firms, regions, lambda q: np.asarray(q.kpis[name], dtype=float).copy(), series=True)


_CUT = SATISFACTION_CUT

# fmt: off
OUTCOMES: tuple[Outcome, ...] = (
    _o("power", "akimats' power strength P", "0..1", "region state", "population", _state("power"), series=True),
    _o("corrupt_share", "corrupt officials", "share", "region state", "population", _state("corrupt_share"), series=True),
    _o("captured", "akimat captured", "share", "1 if any firm holds the akimat captured", "population",
       lambda q: (q.world.captured_regions() > 0).astype(float)),
    _o("captors", "captors", "firms", "firms holding the akimat captured", "population",
       lambda q: q.world.captured_regions().astype(float)),
    _o("evaluation_score", "akim's evaluation score", "0..1", "region state", "population", _state("score")),
    _o("akims_replaced", "akims replaced so far", "akims", "region state", "population",
       lambda q: q.a.replacements.astype(float)),
    _o("budget", "regional budget", "money units / quarter", "region state", "sum", _state("budget")),
    _o("rents", "rents taken from the budget", "money units / quarter", "region state", "sum", _state("rents")),
    _kpi("attracted_investment", "attracted investment", "money units / quarter",
         "PPP private investment committed + entrants' capital", "sum"),
    _kpi("fixed_investment", "investment in fixed assets", "money units / quarter",
         "firms' investment + PPP construction spending", "sum"),
    _kpi("small_businesses", "small businesses", "firms", "count of formal micro and small firms", "sum"),
    _kpi("offbudget_cofinancing", "off-budget co-financing", "money units / quarter",
         "private part of PPP construction spending", "sum"),
    _kpi("high_performance_jobs", "high-performance jobs", "jobs",
         "jobs in top-quarter-productivity firms + PPP construction jobs", "sum"),
    _kpi("real_wages", "real wages", "index, first quarter = 100", "wage bill / jobs, as an index", "jobs"),
    _o("corruption_incidence", "corruption incidence", "share", "share of firms with a bribe demand in the last 4 quarters",
       "firms", lambda q: q.firm_share((q.f.last_year("demands") + q.log.firm["demands"]) > 0), series=True),
    _o("bribe_demands_per_firm", "bribe demands per firm", "demands / quarter", "demands / firms", "firms",
       lambda q: q.per_firm(q.log.region["demands"])),
    Outcome("initiated_by_officials", "bribes initiated by officials", "share",
            "demanded bribes paid / (demanded bribes paid + offers of speed money accepted), this quarter (the "
            "national share where a region had no bribe)", "firms", False,
            lambda q: _ratio(q, q.log.region["paid"], q.log.region["paid"] + q.log.region["offers_paid"])),
    Outcome("approval_delay", "approval delay", "share of the full delay",
            "delay waited per dealing, in shares of the full delay an official can impose (dealings.py), this "
            "quarter (the national mean where a region had no dealing)", "firms", False,
            lambda q: _ratio(q, q.log.region["delay"], q.log.region["dealings"])),
    _o("business_satisfied", "business satisfied", "share", "share of firms with S > 1/3", "firms",
       lambda q: q.firm_share(q.f.satisfaction > _CUT), series=True),
    _o("business_partially", "business partially satisfied", "share", "share of firms with |S| <= 1/3", "firms",
       lambda q: q.firm_share((q.f.satisfaction >= -_CUT) & (q.f.satisfaction <= _CUT))),
    _o("business_dissatisfied", "business dissatisfied", "share", "share of firms with S < -1/3", "firms",
       lambda q: q.firm_share(q.f.satisfaction < -_CUT), series=True),
    _o("business_trust", "firms' trust in the akimat", "0..1", "mean trust T of firms", "firms",
       lambda q: q.per_firm(kernels.sum_where(q.region, q.alive, q.f.trust, q.R))),
    _o("population_satisfied", "population satisfied", "share", "share of residents scoring 4-5 (Table 5)",
       "population", lambda q: q.resident_share(q.scores >= 4), series=True),
    _o("population_dissatisfied", "population dissatisfied", "share", "share of residents scoring 1-2 (Table 5)",
       "population", lambda q: q.resident_share(q.scores <= 2), series=True),
    _o("population_mean_score", "residents' mean score", "1..5", "mean Table 5 score of residents", "population",
       lambda q: q.resident_share(q.scores)),
    *(o for u, name in enumerate(UTILITIES) for o in (
        _o(f"quality_{name}", f"{name} supply quality", "0..1", "region state", "population",
           lambda q, u=u: q.a.utility_quality[:, u].copy()),
        _o(f"utility_satisfied_{name}", f"residents satisfied with {name} supply", "share",
           "share of residents satisfied (Table 6)", "population",
           lambda q, u=u: q.resident_share(q.utility_answers[:, u] == 0)),
    )),
    _o("ppp_started", "PPP contracts started", "contracts / quarter", "contracts", "sum",
       lambda q: q.log.region["ppp_started"].copy()),
    *(_o(f"ppp_{name}", f"PPP contracts {'in dispute' if name == 'disputed' else name}", "contracts",
         "live contracts by status; ended ones so far", "sum", lambda q, name=name: q.ppp_counts[name])
      for name in STATUS_NAMES),
    _o("hhi", "concentration (HHI)", "index 0..1", "sum of squared output shares", "output",
       lambda q: np.divide(np.bincount(q.region, weights=(q.log.firm["output"] * q.alive) ** 2, minlength=q.R),
                           q.output**2, out=np.zeros(q.R), where=q.output > 0), series=True),
    _o("informality", "informal firms", "share", "share of firms in the informal economy", "firms",
       lambda q: q.firm_share(~q.f.formal), series=True),
    _o("insider_support_share", "insiders' share of support", "share",
       "support to insiders and connected firms (L >= connected_from) / all support", "population",
       lambda q: _insider_support(q), series=True),
    _o("firms_in_business", "firms in business", "firms", "count", "sum", lambda q: q.n_firms, series=True),
    _o("entries", "firms entered", "firms / quarter", "entrants at the end of the previous quarter", "sum",
       lambda q: q.world.entries_last.copy()),
    _o("exits", "firms exited", "firms / quarter", "count", "sum", lambda q: q.log.region["exits"].copy()),
    *(_o(f"regime_{name}", f"{name.replace('_', '-')} regime", "share",
         "share of the firms in business whose relation the observer labels so", "firms",
         lambda q, k=k: q.observer.shares[:, k].copy(), series=True) for k, name in enumerate(REGIMES)),
    # national only: the Table 1 matrix (shares of relations in each quadrant, regime shares within it)
    *(o for qi, qname in enumerate(QUADRANTS) for o in (
        Outcome(f"weight_{qname}", f"share of relations in quadrant {qname}", "share", "share of firms", "national only",
                national=_quadrant_weight(qi)),
        *(Outcome(f"{qname}_{regime}", f"{regime} in {qname}", "share", "share of relations within the quadrant",
                  "national only", national=_quadrant_regime(qi, k)) for k, regime in enumerate(REGIMES)),
    )),
)
# fmt: on


def _insider_support(q: Quarter) -> np.ndarray:
    support = q.log.firm["support"]
    total = np.bincount(q.region, weights=support, minlength=q.R)
    insider = q.f.insider | (q.f.connection >= q.world.params["connected_from"])
    to_insiders = kernels.sum_where(q.region, insider, support, q.R)
    return np.divide(to_insiders, total, out=np.zeros(q.R), where=total > 0)


BY_NAME: dict[str, Outcome] = {o.name: o for o in OUTCOMES}
assert len(BY_NAME) == len(OUTCOMES), "outcome names must be unique"
for _outcome in OUTCOMES:
    assert _outcome.regions in ("sum", "national only", *WEIGHTS), _outcome.name
    assert (_outcome.compute is None) != (_outcome.national is None), _outcome.name

#: Outcomes with a value per region (the columns of the region table), in order.
REGIONAL: tuple[Outcome, ...] = tuple(o for o in OUTCOMES if o.regional)
#: Names of every end-of-run outcome (what ``model.outcomes()`` returns), in order.
NAMES: tuple[str, ...] = tuple(BY_NAME)
#: Names of the outcomes that make up the emergent Table 1: regime shares, quadrant weights
#: and regime shares within each quadrant.
TABLE1: tuple[str, ...] = tuple(
    o.name for o in OUTCOMES if o.name.startswith("regime_") or o.regions == "national only"
)
#: Names recorded by Mesa's DataCollector each quarter.
SERIES: tuple[str, ...] = tuple(o.name for o in OUTCOMES if o.series)


def label(name: str) -> str:
    """The outcome's label (the name itself for an unknown name)."""
    return BY_NAME[name].label if name in BY_NAME else name


def unit(name: str) -> str:
    """The outcome's unit ("share" for shares)."""
    return BY_NAME[name].unit if name in BY_NAME else ""


def national_value(outcome: Outcome, values: np.ndarray | None, q: Quarter) -> float:
    """Combine an outcome's regional values into the national value."""
    if outcome.national is not None:
        return outcome.national(q)
    if outcome.regions == "sum":
        return float(values.sum())
    w = q.weight(outcome.regions)
    return float(np.average(values, weights=w)) if w.sum() > 0 else float(values.mean())
