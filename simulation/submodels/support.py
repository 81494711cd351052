"""4. Support: grants, subsidies and tax benefits (paper Table 4, financial and economic block).

Formal firms apply with probability apply_base + apply_trust T (firms that trust the akimat apply). Each
applicant has a score theta * merit + (1 - theta) * w_L L (w_L = connection_weight): merit is standardised log
productivity, L the connection to the akimat, theta the merit weight (high in the
partnership model, low in the symbiotic one: patronage of insiders). The akimat funds
about k = support_budget / grant applicants, each with probability min(1, k w_i / sum w),
w = exp(score) (weighted sampling, vectorised), and splits the budget equally among them.
The captors of a region share the budget diverted to them in proportion to capital.
Recipients get the tax benefit in the quarter of support and the three after (see economy).
"""

from __future__ import annotations

import numpy as np

from ..formulas import merit, selection_score


def step(world, log, rng) -> None:
    """Applications, awards of the support budget, and the captors' diverted budget."""
    p, f, a = world.params, world.firms, world.akimats
    R = world.n_regions
    region = f.region
    applicant = f.alive & f.formal & (rng.random(f.n) < p["apply_base"] + p["apply_trust"] * f.trust)
    weight = np.exp(selection_score(merit(f.productivity), f.connection, p)) * applicant
    total = np.bincount(region, weights=weight, minlength=R)
    k = a.support_budget / p["grant"]
    prob = np.minimum(1.0, np.divide(k[region] * weight, total[region], out=np.zeros(f.n), where=total[region] > 0))
    got = rng.random(f.n) < prob
    count = np.bincount(region, weights=got, minlength=R)
    per = np.divide(a.support_budget, count, out=np.zeros(R), where=count > 0)
    log.firm["support"][:] = got * per[region]
    held = f.captor & f.alive
    stake = f.capital * held
    total_stake = np.bincount(region, weights=stake, minlength=R)
    log.firm["capture_income"][:] = np.divide(
        stake * a.capture_transfer[region], total_stake[region], out=np.zeros(f.n), where=total_stake[region] > 0
    )
