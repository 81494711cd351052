"""5. PPP tenders and the contract life cycle: construction, operation, disputes,
renegotiation, termination.

Tender: each formal firm of the region bids with probability B^``ppp_bid_exponent`` (a
project needs capacity; no threshold on B). The winner maximises theta * merit + (1 - theta)
* w_L L + Gumbel noise (a win probability proportional to exp(theta merit + (1 - theta) w_L
L), w_L = connection_weight, theta = 1 - s x favouritism, L = 1 for a client of its home
official, as in support); a captor that bids wins.
A tender without bidders lapses and its co-financing returns to the fund.

Contract: cost ``ppp_size``, of which the public share ``ppp_cofinancing`` came from the PPP
fund and the rest is private (attracted, off-budget co-financing). Construction lasts
4 + Poisson(2 (1 - s L)) quarters (spending cost/duration a quarter, with jobs; under
symbiosis a connected partner's project is expedited: its delays shrink by s L, the paper's
"symbiosis can expedite ... project implementation"), operation 20 quarters
(the partner earns an availability payment of 5% of the cost a quarter, so that it recovers
the whole cost, of which it paid the private share out of its capital during construction;
an operating utility project lifts its utility's quality). Each quarter of a live contract:
- the partner acts opportunistically with probability
  opportunism * (1.5 - T) * (1 - lifecycle/2) * (1 - training/2);
- the akimat reneges with probability
  reneging * (1 - legal/2) * (1 + w_R) * (1 - training/2), w_R = s x rent_weight;
either opens a dispute (a conflict) that stalls the project. A dispute is renegotiated
with probability renegotiation * (legal + T)/2 * (1 + consultation)/2, ends in termination
with probability termination * (1 - legal), or goes on. A partner that exits terminates
its contracts.
"""

from __future__ import annotations

import numpy as np

from ..formulas import merit, selection_score
from ..world import COMPLETED, CONSTRUCTION, DISPUTED, ENDED, OPERATION, PERFORMING, RENEGOTIATED, TERMINATED


def step(world, log, rng) -> None:
    """Tenders of the quarter, then the life cycle of every live contract."""
    p, f, a, book = world.params, world.firms, world.akimats, world.projects
    alive = f.alive
    trust = f.trust
    # --- tenders
    if log.tenders:
        region = f.region
        eligible = alive & f.formal & (rng.random(f.n) < f.strength ** p["ppp_bid_exponent"])
        tie = np.maximum(f.connection, f.client)  # a client counts as fully connected
        score = selection_score(merit(f.productivity), tie, a.symbiosis[region], p)
        # the bidders of each region, in row order (one grouping instead of a pass per tender)
        rows = np.flatnonzero(eligible)
        rows = rows[np.argsort(region[rows], kind="stable")]
        bounds = np.searchsorted(region[rows], np.arange(world.n_regions + 1))
        for r, sector in log.tenders:
            bidders = rows[bounds[r] : bounds[r + 1]]
            if bidders.size == 0:
                a.ppp_fund[r] += p["ppp_cofinancing"] * p["ppp_size"]
                continue
            captors = bidders[f.captor[bidders]]
            if captors.size:
                winner = captors[np.argmax(f.capital[captors])]
            else:
                winner = bidders[np.argmax(score[bidders] + rng.gumbel(size=bidders.size))]
            expedite = 1.0 - a.symbiosis[r] * f.connection[winner]
            duration = p["construction_quarters"] + int(rng.poisson(p["construction_delay"] * expedite))
            book.add(
                region=r,
                firm=winner,
                sector=sector,
                cost=p["ppp_size"],
                lifecycle=rng.random() < p["lifecycle_contracts"],
                phase=CONSTRUCTION,
                status=PERFORMING,
                left=duration,
                duration=duration,
                started=world.quarter,
            )
            log.region["ppp_started"][r] += 1
            log.region["ppp_private_investment"][r] += (1.0 - p["ppp_cofinancing"]) * p["ppp_size"]
    if len(book) == 0:
        return
    # --- live contracts
    live = np.flatnonzero(book.live())
    if live.size == 0:
        return
    firm = book.firm[live]
    gone = ~alive[firm]
    book.phase[live[gone]] = ENDED
    book.status[live[gone]] = TERMINATED
    live, firm = live[~gone], firm[~gone]
    if live.size == 0:
        return
    t_partner = trust[firm]
    training, legal = p["ppp_training"], p["legal_quality"]
    status = book.status[live]
    disputed = status == DISPUTED
    # disputes that resolve
    u = rng.random(live.size)
    reneg_p = p["renegotiation"] * (legal + t_partner) / 2.0 * (1.0 + p["consultation"]) / 2.0
    term_p = p["termination"] * (1.0 - legal)
    renegotiated = disputed & (u < reneg_p)
    terminated = disputed & ~renegotiated & (u < reneg_p + term_p)
    book.status[live[renegotiated]] = RENEGOTIATED
    book.status[live[terminated]] = TERMINATED
    book.phase[live[terminated]] = ENDED
    # new disputes among working contracts
    working = ~disputed
    lc, tr = p["lifecycle_effect"], p["training_effect"]
    opp = (
        p["opportunism"]
        * (p["opportunism_trust"] - t_partner)
        * (1.0 - lc * book.lifecycle[live])
        * (1.0 - tr * training)
    )
    rent_weight = a.symbiosis[book.region[live]] * p["rent_weight"]
    ren = p["reneging"] * (1.0 - p["legal_reneging"] * legal) * (1.0 + rent_weight) * (1.0 - tr * training)
    partner_opp = working & (rng.random(live.size) < opp)
    akimat_ren = working & (rng.random(live.size) < ren)
    new_dispute = partner_opp | akimat_ren
    book.status[live[new_dispute]] = DISPUTED
    np.add.at(log.firm["disputes"], firm[new_dispute | (disputed & ~terminated & ~renegotiated)], 1.0)
    np.add.at(log.firm["reneged_on"], firm[akimat_ren], 1.0)
    # progress of contracts not in dispute
    moving = np.flatnonzero(book.status[live] != DISPUTED)
    idx = live[moving]
    in_construction = book.phase[idx] == CONSTRUCTION
    cons = idx[in_construction]
    spend = book.cost[cons] / book.duration[cons]
    R = world.n_regions
    log.region["ppp_construction_spending"][:] += np.bincount(book.region[cons], weights=spend, minlength=R)
    log.region["ppp_offbudget"][:] += np.bincount(
        book.region[cons], weights=spend * (1.0 - p["ppp_cofinancing"]), minlength=R
    )
    log.region["ppp_jobs"][:] += np.bincount(book.region[cons], weights=spend * p["jobs_per_cost"], minlength=R)
    np.add.at(log.firm["ppp_outlay"], book.firm[cons], spend * (1.0 - p["ppp_cofinancing"]))
    oper = idx[~in_construction]
    np.add.at(log.firm["ppp_income"], book.firm[oper], p["partner_return"] * book.cost[oper])
    np.add.at(log.firm["cooperation"], book.firm[idx], 1.0)
    book.left[idx] -= 1
    done = idx[book.left[idx] <= 0]
    to_operation = done[book.phase[done] == CONSTRUCTION]
    finished = done[book.phase[done] == OPERATION]
    book.phase[to_operation] = OPERATION
    book.left[to_operation] = p["operation_quarters"]
    book.phase[finished] = ENDED
    book.status[finished] = COMPLETED
