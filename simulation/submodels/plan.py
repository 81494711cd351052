"""1. Akimat plan: revenue, rents, the akim's choice of budget plan, and the PPP tenders.

Revenue is the taxes of the last quarter plus the central transfer, which follows
Kazakhstan's equalisation (fixed at the start from the official subventions per head; see
initialisation). The akim's objective is U = w_K x (Figure 2 score) + w_R x rents
- c_conflict x disputes, with w_R = s x rent_weight. Its plan:
- rents: the share of the budget taken as rents grows with the weight on rents, the share
  of corrupt officials who carry it out, and shrinks with transparency:
  rent_share = w_R (1 - transparency)(base + (1 - base) c)   (``rent_base``);
- a captured akimat diverts ``capture_diversion`` of the budget to its captors;
- the rest is split among maintenance of utilities, support programmes and a PPP fund.
  The akim chooses the split among a few plans, by a logit choice on expected gain
  (bounded rationality; McFadden 1974; sensitivity ``plan_sensitivity``): the scenario's
  shares, and for each line the same with a tenth of the three lines' total moved to it
  from the other two.
  A plan's expected gain is the Figure 2 score it promises: a budget share on support
  feeds 2 of the 6 KPIs (small businesses, investment), one on the PPP fund 4 (attracted
  investment, investment, off-budget co-financing, high-performance jobs), discounted by
  the share of the akimat's PPP contracts in dispute; maintenance feeds none, but a
  utility below ``quality_target`` counts against the akim as a failed KPI would (the
  centre holds akims to account for heat and water failures), so its value is the
  share of lagging utilities times 4/6 (the four utilities against the six KPIs);
- tenders are launched where utility quality lags the target (or, when none lags, for
  social infrastructure and roads) while the fund covers the public co-financing, each
  with probability 1 - (share of the akimat's PPP contracts in dispute): recent conflict
  deters new contracts. With ``tender_pipeline`` the akimat counts its supply line: no new
  tender for a utility while one of its contracts is being built (off by default).
- the PPP fund keeps what no tender used. With ``ppp_fund_lapse`` it keeps it for the fiscal year
  only: at the start of each year (every fourth quarter) the fund's unreserved balance lapses into
  the budget as a free balance, and the year's plan splits it again (annual appropriations lapse:
  Lienert & Jung 2004; a local budget's unused balances fund the next year's budget). Without it
  (the default, as the shipped calibration was fitted) the fund grows without bound wherever
  tenders use less than the PPP line of the budget (docs/calibration/MEASURED.md 24).
"""

from __future__ import annotations

import numpy as np

from ..formulas import fixed_order_dot
from ..world import CONSTRUCTION

#: PPP sectors: the four utilities of Table 6, then social infrastructure and roads.
SECTORS = ("heat", "water", "power", "gas", "social", "roads")


def plan_options(scenario: np.ndarray) -> np.ndarray:
    """The plans an akim chooses among: the scenario's shares of (maintenance, support, PPP),
    and, for each line, a tenth of the three lines' total moved to it from the other two
    (in proportion to their shares, as far as they have it)."""
    total = scenario.sum()
    plans = [scenario]
    for k in range(3):
        others = [j for j in range(3) if j != k]
        rest = scenario[others].sum()
        move = min(0.1 * total, rest)
        tilt = scenario.copy()
        tilt[k] += move
        tilt[others] -= move * scenario[others] / rest if rest > 0 else 0.0
        plans.append(tilt)
    return np.array(plans)


def step(world, log, rng) -> None:
    """Budget, rents, diversion to captors, the budget's split and the PPP tenders of the quarter."""
    p, a = world.params, world.akimats
    a.budget[:] = a.tax_revenue + a.transfer
    if p["ppp_fund_lapse"] and world.quarter > 0 and world.quarter % 4 == 0:
        a.budget += a.ppp_fund  # a new fiscal year: last year's unspent PPP allocation is a free balance
        a.ppp_fund[:] = 0.0
    base = p["rent_base"]
    rent_weight = a.symbiosis * p["rent_weight"]
    rent_share = rent_weight * (1.0 - p["transparency"]) * (base + (1.0 - base) * a.corrupt_share)
    a.rents[:] = rent_share * a.budget
    captured = world.captured_regions() > 0
    a.capture_transfer[:] = np.where(captured, p["capture_diversion"] * a.budget, 0.0)
    free = np.maximum(a.budget - a.rents - a.capture_transfer, 0.0)
    disputed = world.projects.disputed_share(world.n_regions)
    scenario = np.array([p["maintenance_share"], p["support_share"], p["ppp_share"]])
    plans = plan_options(scenario)
    lagging = (a.utility_quality < p["quality_target"]).mean(axis=1)
    value = np.stack([lagging * 4.0 / 6.0, np.full(world.n_regions, 2.0 / 6.0), (1.0 - disputed) * 4.0 / 6.0], axis=1)
    gain = fixed_order_dot(value, plans.T)  # regions x plans
    u = p["plan_sensitivity"] * (gain - gain.max(axis=1, keepdims=True))
    prob = np.exp(u) / np.exp(u).sum(axis=1, keepdims=True)
    draw = rng.random(world.n_regions)
    choice = np.minimum((prob.cumsum(axis=1) < draw[:, None]).sum(axis=1), len(plans) - 1)
    shares = plans[choice]
    a.maintenance[:] = shares[:, 0] * free
    if world.quarter == 0:
        # maintenance that keeps utilities at their initial quality: the scenario's share of the budget without rents
        a.maintenance_reference[:] = p["maintenance_share"] * a.budget
    a.support_budget[:] = shares[:, 1] * free
    a.ppp_fund[:] += shares[:, 2] * free

    public_cost = p["ppp_cofinancing"] * p["ppp_size"]
    building = pipeline(world) if p["tender_pipeline"] else None
    for r in range(world.n_regions):
        lag = p["quality_target"] - a.utility_quality[r]
        sectors = list(np.flatnonzero(lag > 0)[np.argsort(-lag[lag > 0], kind="stable")])
        if not sectors:
            sectors = [4 + int(rng.integers(2))]
        elif building is not None:  # the supply line: no new tender for a utility whose contract is being built
            sectors = [u for u in sectors if building[r, u] == 0]
        for sector in sectors:
            if a.ppp_fund[r] < public_cost:
                break
            if rng.random() < 1.0 - disputed[r]:
                a.ppp_fund[r] -= public_cost
                log.tenders.append((r, int(sector)))
                log.region["tenders"][r] += 1


def pipeline(world) -> np.ndarray:
    """Contracts in construction per region and sector, shape (regions, sectors): the akimat's supply line."""
    book = world.projects
    out = np.zeros((world.n_regions, len(SECTORS)), dtype=np.int64)
    if len(book):
        building = book.phase == CONSTRUCTION
        np.add.at(out, (book.region[building], book.sector[building]), 1)
    return out
