"""12. Entry: new firms for the next quarter, and compaction of exited rows.

Entry (at the end of the quarter) comes from a fixed pool of would-be entrepreneurs, the
region's firms at the start (its population's propensity to found firms): Poisson(exit_hazard
x firms at the start x climate / neutral climate) new firms per region, climate =
(``climate_trust_base`` + mean trust) x (1 - climate_corruption x corruption incidence), and
the neutral climate is the one at trust 1/2 without corruption. At a neutral climate entry replaces
the exits for reasons outside the model, so the firm count has a stationary level below
the initial count by the firms that exit on losses (Hopenhayn 1992); a better climate
raises it. Entrants are small
(median capital ``entrant_capital``), formal, with the region's mean trust and owners drawn from the
entrepreneurs' age mix (an age uniform within the cohort drawn, ``world.owner_entry_ages``; the owner
then ages with the firm, see economy); each ties to ``firm_ties``/2 incumbents of its region.
In the symbiotic model the akim keeps round(s x ``insiders``) dominant insiders a region: an
insider that exited (the exit hazard spares no firm) is replaced by the region's largest
formal firm that is not one, which becomes fully connected (L = 1).
"""

from __future__ import annotations

import numpy as np

from .. import kernels, networks
from ..formulas import productivity_tail, true_detection
from ..world import OWNER_COHORT_SHARES, owner_entry_ages

#: Exited rows are dropped when they make up more than this share of the firm table
#: (bookkeeping: it changes how many rows later draws run over, not any probability).
COMPACT_DEAD_SHARE = 0.2


def step(world, log, rng, network_rng) -> None:
    """New firms for the next quarter (``rng``), their ties (``network_rng``), and compaction
    of exited rows when they pile up."""
    p, f = world.params, world.firms
    R = world.n_regions
    alive = f.alive
    region = f.region
    n_alive = kernels.count_where(region, alive, R)
    trust = np.divide(kernels.sum_where(region, alive, f.trust, R), n_alive, out=np.full(R, 0.5), where=n_alive > 0)
    demanded = (f.last_year("demands") > 0) & alive
    incidence = np.divide(kernels.count_where(region, demanded, R), n_alive, out=np.zeros(R), where=n_alive > 0)
    climate = (p["climate_trust_base"] + trust) * (1.0 - p["climate_corruption"] * incidence)
    neutral = p["climate_trust_base"] + 0.5
    counts = rng.poisson(p["exit_hazard"] * world.akimats.firms_initial * climate / neutral)
    total = int(counts.sum())
    world.entries_last = np.zeros(R)
    world.entrant_capital_last = np.zeros(R)
    log.entered = np.zeros(0, dtype=np.int64)
    if total:
        new_region = np.repeat(np.arange(R), counts)
        level = world.akimats.productivity_level
        wealth = (level / p["productivity"]) ** (1.0 / (1.0 - p["capital_elasticity"]))
        sigma_a = p["productivity_dispersion"]
        connected = rng.random(total) < np.minimum(
            1.0, p["connected_share"] * (1.0 + world.akimats.symbiosis[new_region])
        )
        spread = p["entrant_dispersion"] * p["capital_dispersion"]
        tail = productivity_tail(rng.standard_exponential(total), p, entrants=True)  # thinner by the survivors' bias
        entry_cohort = rng.choice(4, size=total, p=OWNER_COHORT_SHARES)  # the owner's age at entry
        rows = f.add(
            total,
            region=new_region,
            capital=p["entrant_capital"] * wealth[new_region] * np.exp(spread * rng.standard_normal(total)),
            productivity=level[new_region] * np.exp(sigma_a * rng.standard_normal(total) - sigma_a**2 / 2) * tail,
            cohort=entry_cohort,
            owner_entry_age=owner_entry_ages(entry_cohort, rng.random(total)),
            connection=np.where(connected, rng.uniform(p["connection_min"], 1.0, total), 0.0),
            member=rng.random(total) < p["association_share"],
            formal=True,
            alive=True,
            trust=trust[new_region],
            perceived_detection=true_detection(p),
            home_official=rng.random(total),
        )
        world.entries_last = counts.astype(float)
        world.entrant_capital_last = np.bincount(new_region, weights=f.capital[rows], minlength=R)
        log.entered = rows
        src, dst = [], []
        incumbents = np.flatnonzero(f.alive[: rows[0]])
        key = f.region[incumbents]
        if R <= 255:  # the same stable order, sorted as bytes (radix sort: several times faster)
            key = key.astype(np.uint8)
        order = incumbents[np.argsort(key, kind="stable")]
        bounds = np.concatenate([[0], np.cumsum(np.bincount(f.region[incumbents], minlength=R))])
        for r in np.flatnonzero(counts):
            pool = order[bounds[r] : bounds[r + 1]]
            s, d = networks.entrant_edges(rows[new_region == r], pool, p["firm_ties"] // 2, network_rng)
            src.append(s)
            dst.append(d)
        world.ties.add(np.concatenate(src), np.concatenate(dst), f.n)
        world.update_strength(rows)
    renew_insiders(world)
    if f.n - int(f.alive.sum()) > COMPACT_DEAD_SHARE * f.n:
        log.compaction = world.compact_firms()


def renew_insiders(world) -> None:
    """The akim co-opts the region's largest formal firms as insiders (fully connected) while
    its region holds fewer than round(s x insiders) of them alive: an insider that exited is
    replaced by the largest firm that is not one."""
    p, f = world.params, world.firms
    wanted = np.rint(world.akimats.symbiosis * p["insiders"]).astype(np.int64)
    if not wanted.any():
        return
    alive = f.alive
    have = np.bincount(f.region[alive & f.insider], minlength=world.n_regions)
    for r in np.flatnonzero(have < wanted):
        pool = np.flatnonzero(alive & f.formal & ~f.insider & (f.region == r))
        top = pool[np.argsort(-f.capital[pool], kind="stable")[: wanted[r] - have[r]]]
        f.insider[top] = True
        f.connection[top] = 1.0
