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

from typing import NamedTuple

import numpy as np

from ..formulas import exit_hazard
from ..kernels.jit import constants, kernel, maximum, minimum, view
from ..world import owner_cohorts


def step(world, log, rng) -> None:
    """Profit, investment, informality and exit of every firm in business."""
    p, f, a = world.params, world.firms, world.akimats
    ev = log.firm
    R = world.n_regions
    # the hazard of exit for reasons outside the model, from size and age at the start of the quarter
    hazard = exit_hazard(f.capital, f.age, f.region, f.alive, p, R)
    year = Year(*(f.last_year(name) for name in Year._fields))
    # output: numpy's exp over the array (its SIMD loop is 4-5x numba's math.exp per element at 100,000 firms)
    ev["output"][:] = log.potential_output * np.exp(p["output_shock"] * rng.standard_normal(f.n))
    given = Given(ev["output"], world.bargaining()[2], rng.random(f.n), rng.random(f.n), hazard)
    fixed_investment, tax_revenue = np.zeros(R), np.zeros(R)
    exiting = economy_pass(
        constants(Constants, p), view(Firms, f), view(Events, ev), year, given, fixed_investment, tax_revenue
    )
    log.region["fixed_investment"][:] = fixed_investment
    a.tax_revenue[:] = tax_revenue
    _exit(world, log, np.flatnonzero(exiting))
    _owners_age(f)


class Constants(NamedTuple):
    """The economy's parameters (registered names)."""

    tax_rate: float
    tax_benefit: float
    dispute_loss: float
    labour_share: float
    fixed_cost: float
    legal_quality: float
    trust_investment_floor: float
    reinvestment: float
    depreciation: float
    informality_rate: float
    informality_burden: float
    tax_morale: float
    exit_losses: int
    min_capital: float


class Firms(NamedTuple):
    """Views of the firm table's columns (written: formal, capital, loss_streak, age, profit)."""

    region: np.ndarray
    alive: np.ndarray
    formal: np.ndarray
    capital: np.ndarray
    trust: np.ndarray
    satisfaction: np.ndarray
    loss_streak: np.ndarray
    age: np.ndarray
    profit: np.ndarray


class Events(NamedTuple):
    """This quarter's events of each firm (read)."""

    support: np.ndarray
    ppp_income: np.ndarray
    capture_income: np.ndarray
    disputes: np.ndarray
    extracted: np.ndarray
    fines: np.ndarray
    ppp_outlay: np.ndarray
    dealings: np.ndarray
    demands: np.ndarray


class Year(NamedTuple):
    """Sums over the last 4 quarters."""

    support: np.ndarray
    dealings: np.ndarray
    demands: np.ndarray


class Given(NamedTuple):
    """Output (A K^alpha times the quarter's shock), the officials' bargaining share, the uniforms of informality
    and exit, and the hazard of exit."""

    output: np.ndarray
    share: np.ndarray
    u_switch: np.ndarray
    u_hazard: np.ndarray
    hazard: np.ndarray


@kernel
def economy_pass(c, f, ev, year, d, fixed_investment, tax_revenue):
    """Profit, investment, capital, informality and exit of every firm, in one pass; returns who exits.
    Adds each firm's investment and tax to its region's ``fixed_investment`` and ``tax_revenue``."""
    exiting = np.zeros(d.output.size, dtype=np.bool_)
    for i in range(d.output.size):
        alive = f.alive[i]
        live = 1.0 if alive else 0.0
        y = d.output[i]
        benefit = 1.0 if (year.support[i] + ev.support[i]) > 0 else 0.0
        tax = c.tax_rate * y * (1.0 if f.formal[i] else 0.0) * (1.0 - c.tax_benefit * benefit)
        inflow = ev.support[i] + ev.ppp_income[i] + ev.capture_income[i]
        loss = c.dispute_loss * ev.disputes[i] * y
        profit = (1.0 - c.labour_share) * y - tax - ev.extracted[i] - ev.fines[i] - loss - c.fixed_cost
        profit = (profit + inflow) * live
        f.profit[i] = profit
        dealt = year.dealings[i] + ev.dealings[i]
        demanded = year.demands[i] + ev.demands[i]
        rate = demanded / dealt if dealt > 0 else 0.0
        risk = d.share[i] * (1.0 - c.legal_quality) * minimum(rate, 1.0)
        floor = c.trust_investment_floor
        invest = c.reinvestment * maximum(profit, 0.0) * (floor + (1.0 - floor) * f.trust[i]) * (1.0 - risk)
        f.capital[i] = maximum((1.0 - c.depreciation) * f.capital[i] + invest - ev.ppp_outlay[i], 0.0) * live
        r = f.region[i]
        fixed_investment[r] += invest
        tax_revenue[r] += tax
        # informality
        burden = (tax + ev.extracted[i]) / y if y > 0 else 0.0
        formal_burden = (c.tax_rate * y + ev.extracted[i]) / y if y > 0 else 0.0
        tolerance = c.informality_burden * (1.0 + c.tax_morale * f.satisfaction[i])
        if alive and d.u_switch[i] < c.informality_rate:
            if f.formal[i]:
                if burden > tolerance:
                    f.formal[i] = False
            elif formal_burden <= tolerance:
                f.formal[i] = True
        # exit
        f.loss_streak[i] = f.loss_streak[i] + 1 if profit < 0 else 0
        if alive:
            hazard_exit = d.u_hazard[i] < d.hazard[i]
            exiting[i] = f.loss_streak[i] >= c.exit_losses or f.capital[i] < c.min_capital or hazard_exit
        f.age[i] += 1 if alive else 0
    return exiting


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
