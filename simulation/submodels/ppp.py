"""5. PPP tenders and the contract life cycle: tender, step-in, disputes, construction,
operation, end.

A PPP is financed through a project company (special-purpose vehicle, SPV): the private
partner puts in equity, a minority share ``ppp_equity_share`` of the private finance, and
lenders (in Kazakhstan often the development bank, with a state guarantee) the rest as
debt, repaid out of the availability payments (Yescombe 2007; EPEC: typically 10-25% of a
PPP's capital cost is equity). The partner risks only its equity; the debt is the project
company's (limited recourse).

Tender: each formal firm of the region bids with probability B^``ppp_bid_exponent`` (a
project needs capacity; no threshold on B). The winner maximises theta * merit + (1 - theta)
* w_L L + Gumbel noise (a win probability proportional to exp(theta merit + (1 - theta) w_L
L), w_L = connection_weight, theta = 1 - s x favouritism, L = 1 for a client of its home
official, as in support); a captor that bids wins.
A tender without bidders lapses and its co-financing returns to the fund.

Sizing: the akimat reserved the co-financing of a project of ``ppp_size`` from its PPP fund
(the budget bounds the project). The project is sized to its partner: a firm commits as
equity at most ``ppp_equity_capacity`` of its capital (prequalification on net worth), so
the cost is min(ppp_size, capacity x K / (equity_share x (1 - cofinancing))); the public
share of the cost not needed returns to the fund.

Contract: of the cost, the public share ``ppp_cofinancing`` came from the PPP fund and the
rest is private (attracted, off-budget co-financing), of which the partner's equity is
``ppp_equity_share`` and the rest debt. Construction lasts 4 + Poisson(2 w) quarters, w the
share of the full approval delay the partner waited on its dealings this quarter
(dealings.py: a dealing is expedited when a demanded bribe is paid or an offer of speed
money accepted; the region's mean when the partner had no dealing). The spending is
cost/duration a quarter, with jobs; the partner pays in its equity over construction,
equity/duration a quarter. Symbiosis expedites a project only through this channel: no
factor on s shortens it (the paper's "symbiosis can expedite ... project implementation" is
an outcome to reproduce or falsify). Operation 20 quarters (the akimat pays an availability payment of 5% of
the cost a quarter; the project company first services its debt, debt/20 a quarter, and the
partner earns the rest; an operating utility project lifts its utility's quality).

Step-in: a project company whose partner has exited survives it: its lenders (step-in
rights, the direct agreement) bring in another firm of the region that can carry the
project's equity, chosen as in the tender among all such formal firms; it buys the exited
partner's stake at the equity paid in so far. Only when no firm of the region can carry the
equity is the contract terminated.

Each quarter of a live contract:
- the partner acts opportunistically with probability
  opportunism * (1.5 - T) * (1 - lifecycle/2) * (1 - training/2);
- the akimat reneges with probability
  reneging * (1 - legal/2) * (1 + w_R) * (1 - training/2), w_R = s x rent_weight;
either opens a dispute (a conflict) that stalls the project. A dispute is renegotiated
with probability renegotiation * (legal + T)/2 * (1 + consultation)/2, ends in termination
with probability termination * (1 - legal), or goes on.
"""

from __future__ import annotations

import numpy as np

from ..formulas import merit, selection_score
from ..world import COMPLETED, CONSTRUCTION, DISPUTED, ENDED, OPERATION, PERFORMING, RENEGOTIATED, TERMINATED


def step(world, log, rng) -> None:
    """Tenders of the quarter, then the life cycle of every live contract: a partner's
    replacement where it exited, disputes, construction, operation and the end."""
    scores = Scores(world)
    if log.tenders:
        tender(world, log, rng, scores())
    live = step_in(world, log, rng, scores)
    if live.size == 0:
        return
    moving = disputes(world, log, rng, live, scores)
    book = world.projects
    in_construction = book.phase[moving] == CONSTRUCTION
    construct(world, log, moving[in_construction])
    operate(world, log, moving[~in_construction])
    np.add.at(log.firm["cooperation"], book.firm[moving], 1.0)
    end(world, moving, rng)


class Scores:
    """Every firm's tender score, theta * merit + (1 - theta) * w_L * L (a client counts as
    fully connected), computed once a step when first asked for."""

    def __init__(self, world):
        self.world, self._score = world, None

    def __call__(self) -> np.ndarray:
        """The scores (computed on the first call of the step)."""
        if self._score is None:
            f, a = self.world.firms, self.world.akimats
            tie = np.maximum(f.connection, f.client)
            self._score = selection_score(merit(f.productivity), tie, a.symbiosis[f.region], self.world.params)
        return self._score


def _select(world, candidates: np.ndarray, score: np.ndarray, rng) -> int:
    """The firm the akimat picks among candidates: the largest captor if any, else the best score plus Gumbel noise."""
    f = world.firms
    captors = candidates[f.captor[candidates]]
    if captors.size:
        return int(captors[np.argmax(f.capital[captors])])
    return int(candidates[np.argmax(score[candidates] + rng.gumbel(size=candidates.size))])


def equity_per_cost(p) -> float:
    """The partner's equity per unit of a project's cost: equity share x private share."""
    return p["ppp_equity_share"] * (1.0 - p["ppp_cofinancing"])


def tender(world, log, rng, score: np.ndarray) -> None:
    """The quarter's tenders: bidders, the winner, the project sized to the winner's equity capacity."""
    p, f, a, book = world.params, world.firms, world.akimats, world.projects
    region = f.region
    eligible = f.alive & f.formal & (rng.random(f.n) < f.strength ** p["ppp_bid_exponent"])
    # the bidders of each region, in row order (one grouping instead of a pass per tender)
    rows = np.flatnonzero(eligible)
    rows = rows[np.argsort(region[rows], kind="stable")]
    bounds = np.searchsorted(region[rows], np.arange(world.n_regions + 1))
    cofinancing, per_cost = p["ppp_cofinancing"], equity_per_cost(p)
    waits = region_waits(world, log)
    for r, sector in log.tenders:
        bidders = rows[bounds[r] : bounds[r + 1]]
        if bidders.size == 0:
            a.ppp_fund[r] += cofinancing * p["ppp_size"]
            continue
        winner = _select(world, bidders, score, rng)
        cost = min(p["ppp_size"], p["ppp_equity_capacity"] * f.capital[winner] / per_cost)
        a.ppp_fund[r] += cofinancing * (p["ppp_size"] - cost)  # the co-financing the project does not need
        duration = p["construction_quarters"] + int(
            rng.poisson(p["construction_delay"] * partner_wait(log, winner, waits[r]))
        )
        book.add(
            region=r,
            firm=winner,
            sector=sector,
            cost=cost,
            equity=per_cost * cost,
            lifecycle=rng.random() < p["lifecycle_contracts"],
            phase=CONSTRUCTION,
            status=PERFORMING,
            left=duration,
            duration=duration,
            started=world.quarter,
            replacements=0,
        )
        log.region["ppp_started"][r] += 1
        log.region["ppp_private_investment"][r] += (1.0 - cofinancing) * cost


def region_waits(world, log) -> np.ndarray:
    """Per region, the share of the full approval delay its dealings waited this quarter (1 without dealings)."""
    dealt = log.region["dealings"]
    return np.divide(log.region["delay"], dealt, out=np.ones(world.n_regions), where=dealt > 0)


def partner_wait(log, firm: int, region_wait: float) -> float:
    """The share of the full approval delay a partner waited on its dealings this quarter
    (dealings.py: a paid demand or an accepted offer of speed money expedites a dealing);
    its region's when it had none."""
    dealt = log.firm["dealings"][firm]
    return float(log.firm["delay"][firm] / dealt) if dealt > 0 else float(region_wait)


def step_in(world, log, rng, scores: Scores) -> np.ndarray:
    """Replace the exited partner of every live contract by a firm of the region that can
    carry its equity; terminate the contract when none can. Returns the live contracts,
    all with a partner in business."""
    f, book = world.firms, world.projects
    live = np.flatnonzero(book.live())
    if live.size == 0:
        return live
    firm = book.firm[live]
    gone = (firm < 0) | ~f.alive[np.maximum(firm, 0)]
    if not gone.any():
        return live
    for k in live[gone]:
        if not replace_partner(world, log, rng, k, scores):
            book.phase[k] = ENDED
            book.status[k] = TERMINATED
    return live[book.live()[live]]


def replace_partner(world, log, rng, k: int, scores: Scores) -> bool:
    """The lenders' step-in on contract k: a formal firm of its region in business, other than
    the partner, that can carry the project's equity becomes the partner (chosen as in the
    tender) and buys the stake paid in so far (the old partner's equity is lost: equity is
    first in, last out). False when no firm can."""
    p, f, book = world.params, world.firms, world.projects
    able = f.alive & f.formal & (f.region == book.region[k]) & (p["ppp_equity_capacity"] * f.capital >= book.equity[k])
    if book.firm[k] >= 0:
        able[book.firm[k]] = False
    candidates = np.flatnonzero(able)
    if candidates.size == 0:
        return False
    partner = _select(world, candidates, scores(), rng)
    paid = 1.0 if book.phase[k] == OPERATION else (book.duration[k] - book.left[k]) / book.duration[k]
    book.firm[k] = partner
    book.replacements[k] += 1
    log.firm["ppp_outlay"][partner] += paid * book.equity[k]
    return True


def disputes(world, log, rng, live: np.ndarray, scores: Scores) -> np.ndarray:
    """Disputes resolve (renegotiated or terminated) and new ones open; returns the live
    contracts not in dispute, which move on this quarter."""
    p, a, book = world.params, world.akimats, world.projects
    firm = book.firm[live]
    t_partner = world.firms.trust[firm]
    training, legal = p["ppp_training"], p["legal_quality"]
    disputed = book.status[live] == DISPUTED
    # disputes that resolve
    u = rng.random(live.size)
    reneg_p = p["renegotiation"] * (legal + t_partner) / 2.0 * (1.0 + p["consultation"]) / 2.0
    term_p = p["termination"] * (1.0 - legal)
    renegotiated = disputed & (u < reneg_p)
    terminated = disputed & ~renegotiated & (u < reneg_p + term_p)
    book.status[live[renegotiated]] = RENEGOTIATED
    book.status[live[terminated]] = TERMINATED
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
    # a dispute that would end the contract: the lenders step in first (the contract goes on,
    # amended, with a new partner); it ends only when no firm of the region can carry the equity
    for k in live[terminated]:
        if replace_partner(world, log, rng, k, scores):
            book.status[k] = RENEGOTIATED
        else:
            book.phase[k] = ENDED
    return live[(book.status[live] != DISPUTED) & (book.phase[live] != ENDED)]


def construct(world, log, cons: np.ndarray) -> None:
    """A quarter of construction: spending cost/duration (off-budget for the private share,
    with jobs), the partner paying in equity/duration."""
    p, book = world.params, world.projects
    spend = book.cost[cons] / book.duration[cons]
    region, R = book.region[cons], world.n_regions
    log.region["ppp_construction_spending"][:] += np.bincount(region, weights=spend, minlength=R)
    log.region["ppp_offbudget"][:] += np.bincount(region, weights=spend * (1.0 - p["ppp_cofinancing"]), minlength=R)
    log.region["ppp_jobs"][:] += np.bincount(region, weights=spend * p["jobs_per_cost"], minlength=R)
    np.add.at(log.firm["ppp_outlay"], book.firm[cons], book.equity[cons] / book.duration[cons])


def operate(world, log, oper: np.ndarray) -> None:
    """A quarter of operation: the availability payment, less the project company's debt
    service, goes to the partner (never below 0: the debt is the project company's)."""
    p, book = world.params, world.projects
    cost = book.cost[oper]
    debt = (1.0 - p["ppp_cofinancing"]) * cost - book.equity[oper]
    term = p["operation_quarters"] if p["operation_spread"] == 0.0 else book.operation[oper]
    income = np.maximum(p["partner_return"] * cost - debt / term, 0.0)
    np.add.at(log.firm["ppp_income"], book.firm[oper], income)


def operation_terms(p, count: int, rng) -> np.ndarray | int:
    """Quarters of operation of ``count`` contracts going into operation: ``operation_quarters``, or with
    ``operation_spread`` > 0, round(operation_quarters x (1 + spread x (2u - 1))), u uniform (at least 1;
    no draw at spread 0, so that the fixed term draws nothing)."""
    base, spread = p["operation_quarters"], p["operation_spread"]
    if spread == 0.0 or count == 0:
        return base
    return np.maximum(1, np.rint(base * (1.0 + spread * (2.0 * rng.random(count) - 1.0)))).astype(np.int32)


def end(world, moving: np.ndarray, rng) -> None:
    """Contracts that moved this quarter count down; a finished construction goes into
    operation (for ``operation_terms`` quarters), a finished operation completes the contract."""
    p, book = world.params, world.projects
    book.left[moving] -= 1
    done = moving[book.left[moving] <= 0]
    to_operation = done[book.phase[done] == CONSTRUCTION]
    finished = done[book.phase[done] == OPERATION]
    book.phase[to_operation] = OPERATION
    book.left[to_operation] = book.operation[to_operation] = operation_terms(p, to_operation.size, rng)
    book.phase[finished] = ENDED
    book.status[finished] = COMPLETED
