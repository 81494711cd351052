"""7. Firm economy: output, costs, investment, informality, exit and entry.

Output Y = A K^alpha * exp(e), e ~ N(0, output_shock^2) a quarterly shock; ``labour_share`` of it is wages.
Profit (cash, before depreciation)

    pi = (1 - labour share) Y - tax - extracted - fines - dispute losses - fixed cost
         + support + PPP income + capture income,

dispute losses = ``dispute_loss`` (5%) of Y for each PPP dispute the firm is party to this quarter.
tax = tax_rate * Y for formal firms, less ``tax_benefit`` of it for firms supported in this
quarter or the three before; extracted = bribes, delays and retaliation from the dealings.
Capital K <- (1 - delta) K + I - PPP outlay (a PPP partner pays the private share of
construction out of its capital), with investment

    I = reinvestment * max(pi, 0) * (f + (1 - f) T) * (1 - expropriation risk),   f = trust_investment_floor,

expropriation risk = s * (1 - legal_quality) * (share of dealings with a demand last year).
A formal firm whose burden (tax + extracted) / Y exceeds its tolerance goes informal with
probability ``informality_rate``; an informal firm whose burden as a formal firm would be
below it comes back with the same probability. The tolerance is
``informality_burden`` * (1 + tax_morale S): a firm satisfied with the authorities bears more before
it leaves the formal economy, a dissatisfied one less (tax morale; Torgler 2007). A firm exits
after ``exit_losses`` loss-making quarters in a row (pi < 0), when its capital falls below
``min_capital`` (1% of the initial median), or for reasons outside the model (the owner
retires, demand moves away) with a hazard that averages ``exit_hazard`` a quarter over the
region's firms (Hopenhayn 1992) and falls with the firm's employment and age (Evans 1987;
Dunne, Roberts & Samuelson 1989): h_i = 1 - (1 - exit_hazard)^(w_i / mean w),
w = jobs^-``exit_size_elasticity`` (1 + age in years)^-``exit_age_elasticity``, from the size
and age at the start of the quarter (formulas.exit_hazard). Together with entry from a fixed
pool (entry.py), this gives the firm count and the age distribution a stationary state.

Entry, at the end of the quarter, is its own step (``entry.py``).
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..formulas import bargaining_share, exit_hazard
from ..world import owner_cohorts


def step(world, log, rng) -> None:
    """Output, profit, investment, informality and exit of every firm in business."""
    p, f, a = world.params, world.firms, world.akimats
    ev = log.firm
    alive = f.alive
    formal = f.formal
    region = f.region
    capital = f.capital
    y = log.potential_output * np.exp(p["output_shock"] * rng.standard_normal(f.n))
    ev["output"][:] = y
    R = world.n_regions
    # the hazard of exit for reasons outside the model, from size and age at the start of the quarter
    hazard = exit_hazard(capital, f.age, region, alive, p, R)
    if kernels.enabled():  # the same computation in one compiled pass (simulation.kernels)
        share = world.bargaining()[2]
        last = {name: f.last_year(name) for name in ("support", "dealings", "demands")}
        u_switch, u_hazard = rng.random(f.n), rng.random(f.n)
        exiting, fixed_investment, tax_revenue = kernels.economy_pass(
            p, f, ev, y, share, last["support"], last["dealings"], last["demands"], u_switch, u_hazard, hazard, R
        )
        log.region["fixed_investment"][:] = fixed_investment
        a.tax_revenue[:] = tax_revenue
        _exit(world, log, np.flatnonzero(exiting))
        _owners_age(f)
        return
    benefit = (f.last_year("support") + ev["support"]) > 0
    tax = p["tax_rate"] * y * formal * (1.0 - p["tax_benefit"] * benefit)
    inflow = ev["support"] + ev["ppp_income"] + ev["capture_income"]
    dispute_loss = p["dispute_loss"] * ev["disputes"] * y
    profit = (
        (1.0 - p["labour_share"]) * y - tax - ev["extracted"] - ev["fines"] - dispute_loss - p["fixed_cost"] + inflow
    )
    profit = profit * alive
    f.profit[:] = profit

    dealt = f.last_year("dealings") + ev["dealings"]
    demanded = f.last_year("demands") + ev["demands"]
    demand_rate = np.divide(demanded, dealt, out=np.zeros(f.n), where=dealt > 0)
    s = bargaining_share(a.power[region], f.strength, p["bargaining_exponent"])
    risk = s * (1.0 - p["legal_quality"]) * np.minimum(demand_rate, 1.0)
    floor = p["trust_investment_floor"]
    invest = p["reinvestment"] * np.maximum(profit, 0.0) * (floor + (1.0 - floor) * f.trust) * (1.0 - risk)
    capital[:] = np.maximum((1.0 - p["depreciation"]) * capital + invest - ev["ppp_outlay"], 0.0) * alive
    log.region["fixed_investment"][:] = np.bincount(region, weights=invest, minlength=R)
    a.tax_revenue[:] = np.bincount(region, weights=tax, minlength=R)

    # informality
    burden = np.divide(tax + ev["extracted"], y, out=np.zeros(f.n), where=y > 0)
    formal_burden = np.divide(p["tax_rate"] * y + ev["extracted"], y, out=np.zeros(f.n), where=y > 0)
    switch = rng.random(f.n) < p["informality_rate"]
    tolerance = p["informality_burden"] * (1.0 + p["tax_morale"] * f.satisfaction)
    go_informal = formal & (burden > tolerance) & switch & alive
    go_formal = (~formal) & (formal_burden <= tolerance) & switch & alive
    formal[go_informal] = False
    formal[go_formal] = True

    # exit
    streak = f.loss_streak
    streak[:] = np.where(profit < 0, streak + 1, 0)
    hazard_exit = rng.random(f.n) < hazard
    exiting = alive & ((streak >= p["exit_losses"]) | (capital < p["min_capital"]) | hazard_exit)
    f.age[:] += alive
    _exit(world, log, np.flatnonzero(exiting))
    _owners_age(f)


def _owners_age(f) -> None:
    """Owners grow older with their firms: the owner's cohort is the age at entry plus the firm's
    age (life stage, ODD 5). A firm whose owner's entry age is not known (0) keeps its cohort."""
    known = f.owner_entry_age > 0
    f.cohort[known] = owner_cohorts(f.owner_entry_age[known], f.age[known])


def _exit(world, log, rows: np.ndarray) -> None:
    """The firms of ``rows`` leave; every firm's business strength follows its new capital."""
    f = world.firms
    log.exited = rows
    if rows.size:
        f.alive[rows] = False
        f.capital[rows] = 0.0
        log.region["exits"][:] = np.bincount(f.region[rows], minlength=world.n_regions)
    world.update_strength()
