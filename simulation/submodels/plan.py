"""1. Akimat plan: revenue, the split of the budget, and the PPP tenders to launch.

The akim's objective is U = w_K * KPI score + w_R * rents - c_conflict * disputes. Its
plan follows from it by three rules:
- rents: the share of the budget taken as rents grows with the weight on rents, the share
  of corrupt officials who carry it out, and shrinks with transparency:
  rent_share = w_R * (1 - transparency) * (0.5 + 0.5 c)   (0.5: ``rent_base``);
- a captured akimat diverts ``capture_diversion`` of the budget to its captor;
- the rest is split by the scenario's shares into maintenance of utilities, support
  programmes and a PPP fund; tenders are launched where utility quality lags the target
  (or, when none lags, for social infrastructure and roads) while the fund covers the
  public co-financing, each with probability 1 - (share of the akimat's PPP contracts
  in dispute): recent conflict deters new contracts.
"""

from __future__ import annotations

import numpy as np

#: PPP sectors: the four utilities of Table 6, then social infrastructure and roads.
SECTORS = ("heat", "water", "power", "gas", "social", "roads")


def step(world, log, rng) -> None:
    """Budget, rents, diversion to captors, the budget's split and the PPP tenders of the quarter."""
    p, a = world.params, world.akimats
    transfer = p["central_transfer"] * a.initial_tax * p["transfer_power"] * a.power
    a.budget[:] = a.tax_revenue + transfer
    base = p["rent_base"]
    rent_share = p["rent_weight"] * (1.0 - p["transparency"]) * (base + (1.0 - base) * a.corrupt_share)
    a.rents[:] = rent_share * a.budget
    captured = world.captured_regions() > 0
    a.capture_transfer[:] = np.where(captured, p["capture_diversion"] * a.budget, 0.0)
    free = np.maximum(a.budget - a.rents - a.capture_transfer, 0.0)
    a.maintenance[:] = p["maintenance_share"] * free
    if world.quarter == 0:
        # maintenance that keeps utilities at their initial quality: the budget with no rents
        a.maintenance_reference[:] = p["maintenance_share"] * a.budget
    a.support_budget[:] = p["support_share"] * free
    a.ppp_fund[:] += p["ppp_share"] * free

    public_cost = p["ppp_cofinancing"] * p["ppp_size"]
    disputed = world.projects.disputed_share(world.n_regions)
    for r in range(world.n_regions):
        lag = p["quality_target"] - a.utility_quality[r]
        sectors = list(np.flatnonzero(lag > 0)[np.argsort(-lag[lag > 0], kind="stable")])
        if not sectors:
            sectors = [4 + int(rng.integers(2))]
        for sector in sectors:
            if a.ppp_fund[r] < public_cost:
                break
            if rng.random() < 1.0 - disputed[r]:
                a.ppp_fund[r] -= public_cost
                log.tenders.append((r, int(sector)))
                log.region["tenders"][r] += 1
