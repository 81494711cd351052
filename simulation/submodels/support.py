"""3. Support: grants, subsidies and tax benefits (paper Table 4, financial and economic block).

Formal firms apply with probability apply_base + apply_trust T (firms that trust the akimat apply). Each
applicant has a score theta * merit + (1 - theta) * w_L L (w_L = connection_weight): merit is standardised log
productivity, L the connection to the akimat (1 for a client of its home official), theta =
1 - s x favouritism the merit weight (1 in the partnership model, low under symbiosis:
patronage of insiders). The akimat funds about k = support_budget / grant applicants, each
with probability min(1, k w_i / sum w), w = exp(score) (weighted sampling, vectorised), and
splits the budget equally among them.
Support has its costs: ``support_compliance`` of a grant's value goes on applications,
reporting and conditions, and a recipient whose home official is corrupt hands back a
kickback of ``kickback`` x s_b of it (s_b the bargaining share; Olken 2007), which counts as
extracted by officials and as their bribe income. A kickback is a bribe paid on public money, and
audits and open data find it as they find a paid bribe: with the true detection probability
1 - (1 - audit_rate)(1 - transparency_detection x transparency) it counts among the official's
caught payments (their penalty, officials.py) and the firm is fined ``giver_penalty`` x
``audit_penalty`` quarters of its output, as in dealings (audits of public spending find missing
funds: Olken 2007; published grants are captured less: Reinikka & Svensson 2005).
The captors of a region share the budget diverted to them in proportion to capital.
Under symbiosis the rents the akim takes from the budget (plan) are not lost: they are
channelled to the akim's network, its clients and connected firms (L >= ``connected_from``),
as preferential subsidies and contracts in proportion to their capital (the bigger the
client, the bigger the contract): the fusion of power and
business that makes patronage (paper s.2; Hale 2015).
Recipients get the tax benefit in the quarter of support and the three after (see economy).
Youth window (``youth_programme``): an owner under 30 (the age limit of Kazakhstan's youth
entrepreneurship grants and microcredits, "Business Roadmap 2025" grants for young entrepreneurs
and "Zhas Kasipker", up to 29) may apply to the youth window as well as to the general one; each
window selects with the same probability p, so a young applicant is funded with probability
1 - (1 - p)^2. The budget is the same: more awards make each grant smaller.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..formulas import bargaining_share, merit, selection_score, true_detection


def step(world, log, rng) -> None:
    """Applications, awards of the support budget, and the captors' diverted budget."""
    if kernels.enabled():  # the same computation in compiled passes (simulation.kernels)
        _detect(world, log, rng, kernels.support_pass(world, log, rng, merit))
        return
    p, f, a = world.params, world.firms, world.akimats
    R = world.n_regions
    region = f.region
    applicant = f.alive & f.formal & (rng.random(f.n) < p["apply_base"] + p["apply_trust"] * f.trust)
    tie = np.maximum(f.connection, f.client)  # a client counts as fully connected
    weight = np.exp(selection_score(merit(f.productivity), tie, a.symbiosis[region], p)) * applicant
    total = np.bincount(region, weights=weight, minlength=R)
    k = a.support_budget / p["grant"]
    prob = np.minimum(1.0, np.divide(k[region] * weight, total[region], out=np.zeros(f.n), where=total[region] > 0))
    young = kernels.youth_eligible(f, p)  # the youth window as well: selected by either window
    prob = np.where(young, 1.0 - (1.0 - prob) ** 2, prob)
    got = rng.random(f.n) < prob
    count = np.bincount(region, weights=got, minlength=R)
    per = np.divide(a.support_budget, count, out=np.zeros(R), where=count > 0)
    grant = got * per[region]
    corrupt_home = f.home_official < a.corrupt_share[region]
    share = bargaining_share(a.power[region], f.strength, p["bargaining_exponent"])
    kickback = grant * corrupt_home * p["kickback"] * share
    network = f.alive & (f.client | (f.connection >= p["connected_from"]))
    weight = f.capital * network
    members = np.bincount(region, weights=weight, minlength=R)
    rent = np.divide(weight * a.rents[region], members[region], out=np.zeros(f.n), where=members[region] > 0)
    log.firm["support"][:] = grant * (1.0 - p["support_compliance"]) + rent
    log.firm["extracted"][:] += kickback
    log.region["bribe_income"][:] += np.bincount(region, weights=kickback, minlength=R)
    held = f.captor & f.alive
    stake = f.capital * held
    total_stake = np.bincount(region, weights=stake, minlength=R)
    log.firm["capture_income"][:] = np.divide(
        stake * a.capture_transfer[region], total_stake[region], out=np.zeros(f.n), where=total_stake[region] > 0
    )
    _detect(world, log, rng, kickback)


def _detect(world, log, rng, kickback: np.ndarray) -> None:
    """Audits and open data find a paid kickback as they find a paid bribe (dealings.py): the
    official's caught payments and the firm's fine."""
    p, f = world.params, world.firms
    found = (kickback > 0) & (rng.random(f.n) < true_detection(p))
    log.region["caught"][:] += np.bincount(f.region, weights=found, minlength=world.n_regions)
    y = world.potential_output() if log.potential_output is None else log.potential_output
    log.firm["fines"][:] += found * p["giver_penalty"] * p["audit_penalty"] * y
