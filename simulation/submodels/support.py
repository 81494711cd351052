"""4. Support: grants, subsidies and tax benefits (paper Table 4, financial and economic block).

Formal firms apply with probability 0.3 + 0.5 T (firms that trust the akimat apply). Each
applicant has a score theta * merit + (1 - theta) * 3 L: merit is standardised log
productivity, L the connection to the akimat, theta the merit weight (high in the
partnership model, low in the symbiotic one: patronage of insiders). The akimat funds
about k = support_budget / grant applicants, each with probability min(1, k w_i / sum w),
w = exp(score) (weighted sampling, vectorised), and splits the budget equally among them.
The captors of a region share the budget diverted to them in proportion to capital.
Recipients get the tax benefit in the quarter of support and the three after (see economy).
"""

from __future__ import annotations

import numpy as np

#: Typical grant, in capital units (about 1.7 quarters' output of the initial median firm).
GRANT = 0.2


def step(model, log) -> None:
    p, f, a = model.params, model.firms, model.akimats_state
    rng = model.streams["support"]
    R = model.n_regions
    region = f.view("region")
    applicant = f.view("alive") & f.view("formal") & (rng.random(f.n) < 0.3 + 0.5 * f.view("trust"))
    log_a = np.log(f.view("productivity"))
    merit = (log_a - log_a.mean()) / max(log_a.std(), 1e-9)
    theta = p["merit_weight"]
    weight = np.exp(theta * merit + (1.0 - theta) * 3.0 * f.view("connection")) * applicant
    total = np.bincount(region, weights=weight, minlength=R)
    k = a.support_budget / GRANT
    prob = np.minimum(1.0, np.divide(k[region] * weight, total[region], out=np.zeros(f.n), where=total[region] > 0))
    got = rng.random(f.n) < prob
    count = np.bincount(region, weights=got, minlength=R)
    per = np.divide(a.support_budget, count, out=np.zeros(R), where=count > 0)
    log.firm["support"][:] = got * per[region]
    held = f.view("captor") & f.view("alive")
    stake = f.view("capital") * held
    total_stake = np.bincount(region, weights=stake, minlength=R)
    log.firm["capture_income"][:] = np.divide(stake * a.capture_transfer[region], total_stake[region],
                                              out=np.zeros(f.n), where=total_stake[region] > 0)
