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

import math
from typing import NamedTuple

import numpy as np

from ..formulas import merit, true_detection
from ..kernels.jit import constants, kernel, maximum, minimum, view


def step(world, log, rng) -> None:
    """Applications, awards of the support budget, and the captors' diverted budget."""
    p, f, a = world.params, world.firms, world.akimats
    bribe_income = np.zeros(world.n_regions)
    kicked = np.zeros(f.n)
    u_apply, u_got = rng.random(f.n), rng.random(f.n)
    given = Given(u_apply, u_got, merit(f.productivity), world.bargaining()[2], youth_eligible(f, p))
    support_pass(
        constants(Constants, p), given, view(Firms, f), view(Akimats, a), view(Events, log.firm), bribe_income, kicked
    )
    log.region["bribe_income"][:] += bribe_income
    _detect(world, log, rng, kicked)


def youth_eligible(f, p) -> np.ndarray:
    """Firms whose owner is eligible for the youth window of the support programmes (owner under 30)."""
    return (f.cohort == 0) & bool(p["youth_programme"])


class Constants(NamedTuple):
    """Support's parameters (registered names)."""

    apply_base: float
    apply_trust: float
    grant: float
    kickback: float
    connected_from: float
    support_compliance: float
    favouritism: float
    connection_weight: float


class Given(NamedTuple):
    """The uniforms of application and award, merit (standardised log productivity), the officials' bargaining
    share, and the firms eligible for the youth window."""

    u_apply: np.ndarray
    u_got: np.ndarray
    merit: np.ndarray
    share: np.ndarray
    youth: np.ndarray


class Firms(NamedTuple):
    """Views of the firm table (read)."""

    region: np.ndarray
    alive: np.ndarray
    formal: np.ndarray
    trust: np.ndarray
    home_official: np.ndarray
    client: np.ndarray
    connection: np.ndarray
    capital: np.ndarray
    captor: np.ndarray


class Akimats(NamedTuple):
    """Per region (read)."""

    symbiosis: np.ndarray
    support_budget: np.ndarray
    corrupt_share: np.ndarray
    rents: np.ndarray
    capture_transfer: np.ndarray


class Events(NamedTuple):
    """This quarter's events (written: support, capture_income; extracted gains the kickbacks)."""

    support: np.ndarray
    extracted: np.ndarray
    capture_income: np.ndarray


@kernel
def support_pass(c, d, f, a, ev, bribe_income, kicked):
    """Applications, awards, grants, kickbacks, the network's rents and the captors' transfer (three passes:
    totals by region, awards, payments). Writes each firm's kickback to ``kicked`` and adds it to its region's
    ``bribe_income``. An applicant's weight is exp(``formulas.selection_score``: theta merit + (1 - theta) w_L
    max(L, client))."""
    n = f.region.size
    R = a.support_budget.size
    weight = np.empty(n)
    total = np.zeros(R)
    members = np.zeros(R)
    total_stake = np.zeros(R)
    for i in range(n):
        r = f.region[i]
        applicant = f.alive[i] and f.formal[i] and d.u_apply[i] < c.apply_base + c.apply_trust * f.trust[i]
        weight[i] = 0.0
        if applicant:
            theta = 1.0 - a.symbiosis[r] * c.favouritism
            tie = maximum(f.connection[i], 1.0 if f.client[i] else 0.0)  # a client counts as fully connected
            weight[i] = math.exp(theta * d.merit[i] + (1.0 - theta) * c.connection_weight * tie)
        total[r] += weight[i]
        network = f.alive[i] and (f.client[i] or f.connection[i] >= c.connected_from)
        members[r] += f.capital[i] * (1.0 if network else 0.0)
        total_stake[r] += f.capital[i] * (1.0 if (f.captor[i] and f.alive[i]) else 0.0)
    count = np.zeros(R)
    got = np.empty(n, dtype=np.bool_)
    for i in range(n):
        r = f.region[i]
        k = a.support_budget[r] / c.grant
        prob = minimum(1.0, k * weight[i] / total[r] if total[r] > 0 else 0.0)
        if d.youth[i]:  # the youth window as well: selected by either window
            prob = 1.0 - (1.0 - prob) * (1.0 - prob)
        got[i] = d.u_got[i] < prob
        count[r] += 1.0 if got[i] else 0.0
    for i in range(n):
        r = f.region[i]
        per = a.support_budget[r] / count[r] if count[r] > 0 else 0.0
        grant = (1.0 if got[i] else 0.0) * per
        corrupt_home = 1.0 if f.home_official[i] < a.corrupt_share[r] else 0.0
        kickback = grant * corrupt_home * c.kickback * d.share[i]
        network = f.alive[i] and (f.client[i] or f.connection[i] >= c.connected_from)
        w = f.capital[i] * (1.0 if network else 0.0)
        rent = w * a.rents[r] / members[r] if members[r] > 0 else 0.0
        ev.support[i] = grant * (1.0 - c.support_compliance) + rent
        ev.extracted[i] += kickback
        bribe_income[r] += kickback
        kicked[i] = kickback
        stake = f.capital[i] * (1.0 if (f.captor[i] and f.alive[i]) else 0.0)
        ev.capture_income[i] = stake * a.capture_transfer[r] / total_stake[r] if total_stake[r] > 0 else 0.0


def _detect(world, log, rng, kickback: np.ndarray) -> None:
    """Audits and open data find a paid kickback as they find a paid bribe (dealings.py): the
    official's caught payments and the firm's fine."""
    p, f = world.params, world.firms
    found = (kickback > 0) & (rng.random(f.n) < true_detection(p))
    log.region["caught"][:] += np.bincount(f.region, weights=found, minlength=world.n_regions)
    y = world.potential_output() if log.potential_output is None else log.potential_output
    log.firm["fines"][:] += found * p["giver_penalty"] * p["audit_penalty"] * y
