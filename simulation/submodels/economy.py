"""7. Firm economy: output, costs, investment, informality, exit and entry.

Output Y = A K^alpha * exp(e), e ~ N(0, 0.1^2) a quarterly shock; half of it is wages.
Profit (cash, before depreciation)

    pi = (1 - labour share) Y - tax - extracted - fines - dispute losses - fixed cost
         + support + PPP income + capture income,

dispute losses = 5% of Y for each PPP dispute the firm is party to this quarter.
tax = tax_rate * Y for formal firms, less ``tax_benefit`` of it for firms supported in this
quarter or the three before; extracted = bribes, delays and retaliation from the dealings.
Capital K <- (1 - delta) K + I - PPP outlay (a PPP partner pays the private share of
construction out of its capital), with investment

    I = reinvestment * max(pi, 0) * (0.5 + 0.5 T) * (1 - expropriation risk),

expropriation risk = s * (1 - legal_quality) * (share of dealings with a demand last year).
A formal firm whose burden (tax + extracted) / Y exceeds its tolerance goes informal with
probability ``informality_rate``; an informal firm whose burden as a formal firm would be
below it comes back with the same probability. The tolerance is
``informality_burden`` * (1 + S/2): a firm satisfied with the authorities bears more before
it leaves the formal economy, a dissatisfied one less (tax morale; Torgler 2007). A firm exits after ``exit_losses`` loss-making
quarters in a row (pi < 0) or when its capital falls below 1% of the initial median.

Entry (at the end of the quarter): Poisson(entry_rate * firms * climate) new firms per
region, climate = (0.5 + mean trust) * (1 - corruption incidence / 2); entrants are small
(median capital 0.3), formal, with the region's mean trust and owners drawn from the
entrepreneurs' age mix; each ties to ``firm_ties``/2 incumbents of its region.
"""

from __future__ import annotations

import numpy as np

from .. import networks
from ..population import OWNER_COHORT_SHARES
from .dealings import bargaining_share, true_detection

LABOUR_SHARE = 0.5
DISPUTE_LOSS = 0.05  # output share lost per PPP dispute a quarter
ENTRANT_MEDIAN_CAPITAL = 0.3
MIN_CAPITAL = 0.01


def potential_output(model) -> np.ndarray:
    f = model.firms
    return f.view("productivity") * np.power(f.view("capital"), model.params["capital_elasticity"]) * f.view("alive")


def jobs(capital: np.ndarray) -> np.ndarray:
    """Employees of a firm: 1 + 3 K^0.8 (the owner plus staff growing with capital)."""
    return 1.0 + 3.0 * np.power(capital, 0.8)


def step(model, log) -> None:
    p, f, a = model.params, model.firms, model.akimats_state
    rng = model.streams["economy"]
    ev = log.firm
    alive = f.view("alive")
    formal = f.view("formal")
    region = f.view("region")
    capital = f.view("capital")
    y = log.potential_output * np.exp(0.1 * rng.standard_normal(f.n))
    ev["output"][:] = y
    benefit = (f.last_year("support") + ev["support"]) > 0
    tax = p["tax_rate"] * y * formal * (1.0 - p["tax_benefit"] * benefit)
    inflow = ev["support"] + ev["ppp_income"] + ev["capture_income"]
    dispute_loss = DISPUTE_LOSS * ev["disputes"] * y
    profit = (1.0 - LABOUR_SHARE) * y - tax - ev["extracted"] - ev["fines"] - dispute_loss - p["fixed_cost"] + inflow
    profit = profit * alive
    f.view("profit")[:] = profit

    dealt = f.last_year("dealings") + ev["dealings"]
    demanded = f.last_year("demands") + ev["demands"]
    demand_rate = np.divide(demanded, dealt, out=np.zeros(f.n), where=dealt > 0)
    s = bargaining_share(a.power[region], f.view("strength"), p["bargaining_exponent"])
    risk = s * (1.0 - p["legal_quality"]) * np.minimum(demand_rate, 1.0)
    invest = p["reinvestment"] * np.maximum(profit, 0.0) * (0.5 + 0.5 * f.view("trust")) * (1.0 - risk)
    capital[:] = np.maximum((1.0 - p["depreciation"]) * capital + invest - ev["ppp_outlay"], 0.0) * alive
    R = model.n_regions
    log.region["fixed_investment"][:] = np.bincount(region, weights=invest, minlength=R)
    a.tax_revenue[:] = np.bincount(region, weights=tax, minlength=R)

    # informality
    burden = np.divide(tax + ev["extracted"], y, out=np.zeros(f.n), where=y > 0)
    formal_burden = np.divide(p["tax_rate"] * y + ev["extracted"], y, out=np.zeros(f.n), where=y > 0)
    switch = rng.random(f.n) < p["informality_rate"]
    tolerance = p["informality_burden"] * (1.0 + 0.5 * f.view("satisfaction"))
    go_informal = formal & (burden > tolerance) & switch & alive
    go_formal = (~formal) & (formal_burden <= tolerance) & switch & alive
    formal[go_informal] = False
    formal[go_formal] = True

    # exit
    streak = f.view("loss_streak")
    streak[:] = np.where(profit < 0, streak + 1, 0)
    exiting = alive & ((streak >= p["exit_losses"]) | (capital < MIN_CAPITAL))
    f.view("age")[:] += alive
    if exiting.any():
        rows = np.flatnonzero(exiting)
        alive[rows] = False
        capital[rows] = 0.0
        log.region["exits"][:] = np.bincount(region[rows], minlength=R)
        model.remove_firm_agents(rows)
    model.update_strength()


def entry(model, log) -> None:
    """New firms for the next quarter, and compaction of exited rows when they pile up."""
    p, f = model.params, model.firms
    rng = model.streams["entry"]
    R = model.n_regions
    alive = f.view("alive")
    region = f.view("region")
    n_alive = np.bincount(region[alive], minlength=R)
    trust = np.divide(np.bincount(region[alive], weights=f.view("trust")[alive], minlength=R), n_alive,
                      out=np.full(R, 0.5), where=n_alive > 0)
    demanded = (f.last_year("demands") > 0) & alive
    incidence = np.divide(np.bincount(region[demanded], minlength=R), n_alive, out=np.zeros(R), where=n_alive > 0)
    climate = (0.5 + trust) * (1.0 - 0.5 * incidence)
    counts = rng.poisson(p["entry_rate"] * np.maximum(n_alive, 1) * climate)
    total = int(counts.sum())
    model.entries_last = np.zeros(R)
    model.entrant_capital_last = np.zeros(R)
    if total:
        new_region = np.repeat(np.arange(R), counts)
        sigma_a = p["productivity_dispersion"]
        connected = rng.random(total) < p["connected_share"]
        rows = f.add(
            total,
            region=new_region,
            capital=ENTRANT_MEDIAN_CAPITAL * np.exp(0.5 * p["capital_dispersion"] * rng.standard_normal(total)),
            productivity=p["productivity"] * np.exp(sigma_a * rng.standard_normal(total) - sigma_a**2 / 2),
            cohort=rng.choice(4, size=total, p=OWNER_COHORT_SHARES),
            connection=np.where(connected, rng.uniform(0.3, 1.0, total), 0.0),
            member=rng.random(total) < p["association_share"],
            formal=True,
            alive=True,
            trust=trust[new_region],
            perceived_detection=true_detection(p),
        )
        model.entries_last = counts.astype(float)
        model.entrant_capital_last = np.bincount(new_region, weights=f.capital[rows], minlength=R)
        model.add_firm_agents(rows)
        src, dst = [], []
        incumbents = np.flatnonzero(f.alive[: rows[0]])
        order = incumbents[np.argsort(f.region[incumbents], kind="stable")]
        bounds = np.concatenate([[0], np.cumsum(np.bincount(f.region[incumbents], minlength=R))])
        for r in np.flatnonzero(counts):
            pool = order[bounds[r]:bounds[r + 1]]
            s, d = networks.entrant_edges(rows[new_region == r], pool, p["firm_ties"] // 2, model.streams["network"])
            src.append(s)
            dst.append(d)
        model.ties.add(np.concatenate(src), np.concatenate(dst), f.n)
        model.update_strength(rows)
    if f.n - int(f.view("alive").sum()) > 0.2 * f.n:
        model.compact_firms()
