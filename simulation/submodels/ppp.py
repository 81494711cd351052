"""5. PPP tenders and the contract life cycle: construction, operation, disputes,
renegotiation, termination.

Tender: bidders are formal firms of the region with business strength B >= the bidder
threshold. The winner maximises theta * merit + (1 - theta) * 3 L + Gumbel noise (a win
probability proportional to exp(theta merit + (1 - theta) 3 L)); a captor that bids wins.
A tender without bidders lapses and its co-financing returns to the fund.

Contract: cost ``ppp_size``, of which the public share ``ppp_cofinancing`` came from the PPP
fund and the rest is private (attracted, off-budget co-financing). Construction lasts
4 + Poisson(2) quarters (spending cost/duration a quarter, with jobs), operation 20 quarters
(the partner earns an availability payment of 5% of the cost a quarter, so that it recovers
the whole cost, of which it paid the private share out of its capital during construction;
an operating utility project lifts its utility's quality). Each quarter of a live contract:
- the partner acts opportunistically with probability
  opportunism * (1.5 - T) * (1 - lifecycle/2) * (1 - training/2);
- the akimat reneges with probability
  reneging * (1 - legal/2) * (1 + w_R) * (1 - training/2);
either opens a dispute (a conflict) that stalls the project. A dispute is renegotiated
with probability renegotiation * (legal + T)/2 * (1 + consultation)/2, ends in termination
with probability termination * (1 - legal), or goes on. A partner that exits terminates
its contracts.
"""

from __future__ import annotations

import numpy as np

# phases
CONSTRUCTION, OPERATION, ENDED = 0, 1, 2
# statuses
PERFORMING, RENEGOTIATED, DISPUTED, TERMINATED, COMPLETED = 0, 1, 2, 3, 4
STATUS_NAMES = ("performing", "renegotiated", "disputed", "terminated", "completed")
OPERATION_QUARTERS = 20
PARTNER_RETURN = 0.05  # availability payment a quarter, share of cost: 20 quarters repay 100% of cost
JOBS_PER_COST = 0.5  # construction jobs per capital unit spent per quarter


class ProjectBook:
    """All PPP contracts of the run as columns; contracts are never deleted."""

    FIELDS = {"region": np.int32, "firm": np.int64, "sector": np.int8, "cost": np.float64, "lifecycle": np.bool_,
              "phase": np.int8, "status": np.int8, "left": np.int32, "duration": np.int32, "started": np.int32}

    def __init__(self):
        for name, dtype in self.FIELDS.items():
            setattr(self, name, np.zeros(0, dtype=dtype))

    def __len__(self) -> int:
        return len(self.region)

    def add(self, **values) -> None:
        for name, dtype in self.FIELDS.items():
            setattr(self, name, np.append(getattr(self, name), np.asarray([values[name]], dtype=dtype)))

    def live(self) -> np.ndarray:
        return self.phase != ENDED

    def remap_firms(self, mapping: np.ndarray) -> None:
        live = self.live()
        self.firm[live] = mapping[self.firm[live]]

    def disputed_share(self, n_regions: int) -> np.ndarray:
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

    def operating_lift(self, n_regions: int) -> np.ndarray:
        """Number of operating, non-disputed utility contracts per region and utility, shape (R, 4)."""
        ok = (self.phase == OPERATION) & (self.status != DISPUTED) & (self.sector < 4)
        lift = np.zeros((n_regions, 4))
        np.add.at(lift, (self.region[ok], self.sector[ok]), 1.0 + 0.5 * self.lifecycle[ok])
        return lift


def step(model, log) -> None:
    p, f, a, book = model.params, model.firms, model.akimats_state, model.projects
    rng = model.streams["ppp"]
    theta = p["merit_weight"]
    alive = f.view("alive")
    trust = f.view("trust")
    # --- tenders
    if log.tenders:
        eligible = alive & f.view("formal") & (f.view("strength") >= p["ppp_bidder_strength"])
        log_a = np.log(f.view("productivity"))
        merit = (log_a - log_a.mean()) / max(log_a.std(), 1e-9)
        score = theta * merit + (1.0 - theta) * 3.0 * f.view("connection")
        region = f.view("region")
        for r, sector in log.tenders:
            bidders = np.flatnonzero(eligible & (region == r))
            if bidders.size == 0:
                a.ppp_fund[r] += p["ppp_cofinancing"] * p["ppp_size"]
                continue
            captors = bidders[f.captor[bidders]]
            if captors.size:
                winner = captors[np.argmax(f.capital[captors])]
            else:
                winner = bidders[np.argmax(score[bidders] + rng.gumbel(size=bidders.size))]
            duration = 4 + int(rng.poisson(2.0))
            book.add(region=r, firm=winner, sector=sector, cost=p["ppp_size"],
                     lifecycle=rng.random() < p["lifecycle_contracts"], phase=CONSTRUCTION,
                     status=PERFORMING, left=duration, duration=duration, started=model.quarter)
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
    opp = p["opportunism"] * (1.5 - t_partner) * (1.0 - 0.5 * book.lifecycle[live]) * (1.0 - 0.5 * training)
    ren = p["reneging"] * (1.0 - 0.5 * legal) * (1.0 + p["rent_weight"]) * (1.0 - 0.5 * training)
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
    R = model.n_regions
    log.region["ppp_construction_spending"][:] += np.bincount(book.region[cons], weights=spend, minlength=R)
    log.region["ppp_offbudget"][:] += np.bincount(book.region[cons], weights=spend * (1.0 - p["ppp_cofinancing"]), minlength=R)
    log.region["ppp_jobs"][:] += np.bincount(book.region[cons], weights=spend * JOBS_PER_COST, minlength=R)
    np.add.at(log.firm["ppp_outlay"], book.firm[cons], spend * (1.0 - p["ppp_cofinancing"]))
    oper = idx[~in_construction]
    np.add.at(log.firm["ppp_income"], book.firm[oper], PARTNER_RETURN * book.cost[oper])
    np.add.at(log.firm["cooperation"], book.firm[idx], 1.0)
    book.left[idx] -= 1
    done = idx[book.left[idx] <= 0]
    to_operation = done[book.phase[done] == CONSTRUCTION]
    finished = done[book.phase[done] == OPERATION]
    book.phase[to_operation] = OPERATION
    book.left[to_operation] = OPERATION_QUARTERS
    book.phase[finished] = ENDED
    book.status[finished] = COMPLETED
