"""Figure 2 of the paper: the indicators by which the akims are evaluated, per region and quarter.

1. attracted investment: private investment committed in new PPP contracts plus the
   capital brought by the firms that entered at the start of the quarter;
2. investment in fixed assets (republican projects excluded, as in Figure 2): firms'
   investment plus PPP construction spending;
3. the number of small business entities and individual entrepreneurs: formal firms in
   business of size class micro or small;
4. off-budget co-financing: the private part of PPP construction spending;
5. high-performance jobs: jobs in firms whose productivity is in the top quarter of the
   initial distribution (A >= mean A * exp(0.674 sigma_A - sigma_A^2/2)), plus PPP
   construction jobs;
6. real wages: wage bill / jobs, as an index (first quarter = 100); prices are constant
   in the model, so nominal = real.
"""

from __future__ import annotations

import numpy as np

from ..formulas import jobs

#: Figure 2's "high-performance jobs" are jobs in firms whose productivity is in the top
#: quarter of the initial distribution: z = 0.674 is the standard normal's 75th percentile.
HIGH_PERFORMANCE_Z = 0.674

KPI_NAMES = (
    "attracted_investment",
    "fixed_investment",
    "small_businesses",
    "offbudget_cofinancing",
    "high_performance_jobs",
    "real_wages",
)


def measure(world, log) -> dict[str, np.ndarray]:
    """The six KPIs per region for this quarter, plus ``jobs`` (the real wage's denominator).

    Sets ``world.initial_wage`` on the first quarter (the wage index's base).
    """
    p, f = world.params, world.firms
    R = world.n_regions
    alive = f.alive
    region = f.region
    reg = log.region
    size = world.size_class()
    small = alive & f.formal & (size <= 1)
    sigma = p["productivity_dispersion"]
    hp_level = p["productivity"] * np.exp(HIGH_PERFORMANCE_Z * sigma - sigma**2 / 2)
    job = jobs(f.capital, p) * alive
    hp = job * (f.productivity >= hp_level)
    all_jobs = np.bincount(region, weights=job, minlength=R) + reg["ppp_jobs"]
    wage_bill = np.bincount(region, weights=p["labour_share"] * log.firm["output"], minlength=R)
    wage = np.divide(wage_bill, all_jobs, out=np.zeros(R), where=all_jobs > 0)
    if world.initial_wage is None:
        world.initial_wage = np.where(wage > 0, wage, 1.0)
    return {
        "attracted_investment": reg["ppp_private_investment"] + world.entrant_capital_last,
        "fixed_investment": reg["fixed_investment"] + reg["ppp_construction_spending"],
        "small_businesses": np.bincount(region, weights=small, minlength=R).astype(float),
        "offbudget_cofinancing": reg["ppp_offbudget"].copy(),
        "high_performance_jobs": np.bincount(region, weights=hp, minlength=R) + reg["ppp_jobs"],
        "real_wages": 100.0 * wage / world.initial_wage,
        "jobs": all_jobs,
    }
