"""2. Administrative dealings: petty corruption as an inspection game.

Demand for dealings. Each firm has a Poisson number of dealings with officials (permits,
inspections, land, connections), by life stage, scaled by the akimat's administrative
reach (``dealings_reach`` x P^``dealings_power``; a power of 0 is the null model whose
dealings do not depend on P), more for the rivals of a captor (in proportion to the
captors' share of the region's output: a dominant captor can set the inspectors on its
rivals, a small one barely) and for outsiders under
symbiosis (s x ``outsider_bias``), fewer for informal firms (who avoid officials). Firms
put off the discretionary part of their dealings (``discretionary_share``: permits,
approvals; inspections cannot be avoided) when they cost more (Choi & Thum 2003): that
part falls by exp(-choice_sensitivity x e), e the firm's cost of officials per dealing
over the last year (bribes, delays, retaliation, relative to its quarterly output).

Rents. In a region with mining, the extractive and large-project segment
(``formulas.rent_segment``: the region's largest formal firms by output, taken from the top
until they produce the region's mining share of GRP, from the data; each firm's extractive share
x is the part of its output the mining output still needs, 1 but for the marginal firm) deals with
officials over subsoil-use contracts, licences and environmental permits. It cannot put these
dealings off (the discretionary part is scaled by 1 - x): without them it cannot produce. Their
stake is the resource rent, which the official can hold up: the bribe asked is (1 + ``rent_stake``
x) times an ordinary dealing's, and the harm of a refusal adds P x ``rent_stake`` x to the ordinary
P (1 - B): a licence is a veto the state holds over any firm, whatever its strength (Vernon 1971;
Svensson 2003: refusal power comes from outside options, not size). Rents thus raise what corrupt officials
collect without lowering the demand for their dealings, the officials' gain G rises with the
mining share (officials.py), and so does the share for whom corruption pays (Ades & Di Tella
1999; Leite & Weidmann 1999; Knutsen et al. 2017): an outcome of their choices, limited by
the other firms' avoidance, audits and moral costs, never a factor on c.

Who demands. A share ``home_share`` of a firm's dealings go to its home official (the same
inspector or desk; Olken & Barron 2009; Svensson 2003), the rest to officials at random.
The home official has a moral-cost rank u in [0, 1) and is corrupt while u < c (officials
with the lowest moral costs are the corrupt ones, see officials.py); the firm's home
official is rotated with probability ``official_rotation`` a quarter (a fresh u). Under
symbiosis a firm that pays its home official becomes his client with probability s (a
patron-client tie; Stokes 2005; Hale 2015): the client goes on paying its patron (the tribute
is the price of the tie), and in exchange the patron shields it from the other officials'
demands (not from their delays: speed is bought, see ``speed_money``) and steers support and
tenders its way, until the official is
rotated. In each dealing a corrupt official demands a bribe with probability

    d = (1 - transparency_demand x transparency) x visibility x (1 + s outsider_bias outsider)
        x (informal_demand if informal),

visibility = base + (1 - base) B (``visibility_base``), and patronage shields (1 - s L,
``formulas.protection``): a firm connected to the akim (L) is shielded from every official,
a client only from the officials other than its patron. So the chance of a demand in a
dealing is d x (home_share [u < c] (1 - s L) + (1 - home_share) c (1 - s max(L, client))): a
firm with a corrupt home official meets demands quarter after quarter.

The bribe is a share of the firm's quarterly output set by the bargaining share
s_b = P^phi / (P^phi + B^phi) (x (1 + rent_stake x) in the rent segment). Refusing costs what
officials can inflict, h = P (1 - B + rent_stake x): the full delay a refusal brings (a
connection shields from other officials' demands, not from delays; no factor on s).
The firm answers each demand by a logit choice over expected payoffs (output shares):

    pay     -bribe - q x giver_penalty x audit_penalty      q: perceived detection
    refuse  -delay_cost x h
    report  -report_cost - (1 - upheld) (delay_cost + retaliation) h

A paid bribe is detected with the true probability 1 - (1 - audit_rate)(1 -
transparency_detection x transparency); a report brings the official to book with
probability upheld = legal' (1 - c): it has to reach an honest official, so corruption
protects itself (Hammond 2000); legal' = legal + consultation_voice x (1 - legal) for a firm
that took part in consultation in the last year (a voice makes complaints heard; Duvanova
2014). A firm caught paying is fined ``giver_penalty`` x ``audit_penalty`` quarters of its
output. Perceived detection q jumps toward 1 by ``detection_jump`` times the share of the
firm's ties caught paying this quarter (the whole jump when the firm itself was caught),
then decays back toward the true rate (Hokamp & Pickhardt 2010; Korobow, Johnson & Axtell 2007;
Andrei, Comer & Koehler 2014).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .. import kernels
from ..formulas import mining_shares, rent_segment, true_detection
from ..kernels.jit import constants, kernel, maximum, minimum, view


def step(world, log, rng) -> None:
    """Dealings, bribe demands, the firms' answers, detection, and perceived detection."""
    p, f, a = world.params, world.firms, world.akimats
    n = f.n
    alive = f.alive
    region = f.region
    formal = f.formal
    strength = f.strength
    client = f.client
    home = f.home_official
    n_deal, demands, shield, symbiosis, power, c, segment = _demands(world, log, rng)
    output = log.potential_output

    # the choice and its consequences, for the firms that met a demand (answer_pass, answer_odds, outcome_pass)
    idx = np.flatnonzero(demands)
    dm = demands[idx]
    fine = p["giver_penalty"] * p["audit_penalty"]
    consts = constants(Answers, p, fine=fine)
    bribe, harm, upheld_p, u = answer_pass(
        consts, idx, world.bargaining()[2], power, strength, segment, f.perceived_detection,
        f.last_year("consulted"), a.corrupt_share, region,
    )  # fmt: skip
    paid_p, refuse_p = answer_odds(np.exp(u))
    paid = kernels.binomial(rng, dm, paid_p)
    refused = kernels.binomial(rng, dm - paid, refuse_p)
    reported = dm - paid - refused
    # under symbiosis a firm that pays a corrupt home official becomes his client
    payer = idx[(paid > 0) & (home[idx] < c[idx])]
    client[payer[rng.random(payer.size) < symbiosis[payer]]] = True
    d_true = true_detection(p)
    detected_paid = kernels.binomial(rng, paid, d_true)
    upheld = kernels.binomial(rng, reported, upheld_p)

    ev = log.firm
    R = world.n_regions
    ev["dealings"][:] = n_deal
    ev["demands"][:] = demands
    detected = np.zeros(n)
    tallies = np.zeros((4, R))  # demands, paid, caught, bribe income
    outcome_pass(
        consts, idx, dm, paid, refused, reported, detected_paid, upheld, bribe, harm, region, output, ev["paid"],
        ev["refused"], ev["reported"], ev["extracted"], ev["fines"], ev["delay"], detected, tallies,
    )  # fmt: skip
    # informal firms found out in a dealing pay informal_fine_quarters of taxes as a fine
    informal = np.flatnonzero(~formal & alive & (n_deal > 0))
    found = informal[kernels.binomial(rng, n_deal[informal], d_true) > 0]
    ev["fines"][found] += p["informal_fine_quarters"] * p["tax_rate"] * output[found]
    offer_paid, offer_income, offer_caught, offer_found = speed_money(
        world, log, rng, n_deal, demands, power, c, segment
    )
    detected[offer_found] = 1.0
    ev["detected"][:] = detected

    log.region["dealings"][:] = np.bincount(region, weights=n_deal, minlength=R)
    log.region["demands"][:] = tallies[0]
    log.region["paid"][:] = tallies[1]
    log.region["caught"][:] = tallies[2]
    log.region["bribe_income"][:] = tallies[3]
    log.region["offers_paid"][:] = offer_paid
    log.region["bribe_income"][:] += offer_income
    log.region["caught"][:] += offer_caught
    log.region["delay"][:] = np.bincount(region, weights=ev["delay"], minlength=R)

    # perceived detection: jump by the share of ties caught (all of it when caught oneself), then decay
    perception_pass(
        p["detection_jump"], p["detection_decay"], d_true, world.ties.count_over_ties(detected),
        world.ties.degree(n), detected, f.perceived_detection,
    )  # fmt: skip


class Answers(NamedTuple):
    """The answers' parameters (registered names; ``fine`` derived)."""

    rent_stake: float
    bribe_size: float
    legal_quality: float
    consultation_voice: float
    delay_cost: float
    report_cost: float
    retaliation: float
    choice_sensitivity: float
    fine: float  # giver_penalty x audit_penalty


@kernel
def answer_pass(c, idx, share, power, strength, segment, perceived, consulted, corrupt_share, region):
    """Per firm of ``idx`` (met a demand): the bribe asked and the harm of a refusal (output shares), the chance
    that a report is upheld, and the logit's exponents (3, k) of paying, refusing and reporting (choice_sensitivity
    x the payoff less the best of the three). A paid bribe costs the bribe and the expected fine; a subsoil-use or
    large-project dealing stakes the rent: both the bribe and the harm of a refusal scale with it (a licence is a
    veto whatever the firm's strength; no factor on s)."""
    k = idx.size
    bribe, harm, upheld, u = np.empty(k), np.empty(k), np.empty(k), np.empty((3, k))
    for j in range(k):
        i = idx[j]
        stake = 1.0 + c.rent_stake * segment[i]
        b = c.bribe_size * share[i] * stake
        h = power[i] * (1.0 - strength[i] + c.rent_stake * segment[i])
        voiced = 1.0 if consulted[i] > 0 else 0.0
        legal = c.legal_quality + voiced * c.consultation_voice * (1.0 - c.legal_quality)
        up = legal * (1.0 - corrupt_share[region[i]])
        pay = -b - perceived[i] * c.fine
        refuse = -c.delay_cost * h
        report = -c.report_cost - (1.0 - up) * (c.delay_cost + c.retaliation) * h
        best = maximum(maximum(pay, refuse), report)
        u[0, j] = c.choice_sensitivity * (pay - best)
        u[1, j] = c.choice_sensitivity * (refuse - best)
        u[2, j] = c.choice_sensitivity * (report - best)
        bribe[j], harm[j], upheld[j] = b, h, up
    return bribe, harm, upheld, u


@kernel
def answer_odds(w):
    """From the logit's weights (3, k): the chance of paying, and of refusing rather than reporting."""
    k = w.shape[1]
    paid, refuse = np.empty(k), np.empty(k)
    for j in range(k):
        total = w[0, j] + w[1, j] + w[2, j]
        p1, p2 = w[1, j] / total, w[2, j] / total
        paid[j] = w[0, j] / total
        refuse[j] = minimum(maximum(p1 / maximum(p1 + p2, 1e-12), 0.0), 1.0)
    return paid, refuse


@kernel
def outcome_pass(
    c, idx, dm, paid, refused, reported, detected_paid, upheld, bribe, harm, region, output, paid_ev, refused_ev,
    reported_ev, extracted, fines, delay, detected, tallies,
):  # fmt: skip
    """The answers' events per firm of ``idx`` and their sums per region (``tallies``: demands, paid, caught,
    bribe income; added in row order). What the firm lost: the bribes paid, the delays of refusals and failed
    reports, the reports' costs; a firm caught paying is fined; a paid demand is expedited, a refused or reported
    one waits the full delay."""
    for j in range(idx.size):
        i = idx[j]
        y = output[i]
        failed = reported[j] - upheld[j]
        paid_ev[i] = paid[j]
        refused_ev[i] = refused[j]
        reported_ev[i] = reported[j]
        extracted[i] = y * (
            paid[j] * bribe[j]
            + refused[j] * c.delay_cost * harm[j]
            + reported[j] * c.report_cost
            + failed * (c.delay_cost + c.retaliation) * harm[j]
        )
        fines[i] = y * detected_paid[j] * c.fine
        detected[i] = 1.0 if detected_paid[j] > 0 else 0.0
        delay[i] = refused[j] + reported[j]
        r = region[i]
        tallies[0, r] += dm[j]
        tallies[1, r] += paid[j]
        tallies[2, r] += detected_paid[j] + upheld[j]
        tallies[3, r] += y * paid[j] * bribe[j]


@kernel
def perception_pass(jump, decay, d_true, caught_ties, degree, detected, q):
    """Perceived detection: a jump toward 1 by the share of ties caught (all of it when caught oneself), then the
    decay toward the true rate."""
    for i in range(q.size):
        heard = caught_ties[i] / degree[i] if degree[i] > 0 else 0.0
        heard = maximum(heard, detected[i])
        qi = q[i] + jump * (1.0 - q[i]) * heard
        q[i] = qi + decay * (d_true - qi)


def speed_money(world, log, rng, n_deal, demands, power, c, segment):
    """Speed money: in each dealing without a demand, the firm may offer a bribe to cut the
    delay the official controls, and the official accepts when it pays him. Writes the
    offers, the accepted offers, their cost and the delay waited to the firm's events;
    returns, per region, the accepted offers, the officials' income from them and the ones
    detected, and the rows of the firms with an offer detected. Arithmetic: ``offer_pass``
    (the offers' odds) and ``offer_outcomes_pass`` (what they came to); the draws between them."""
    p, f = world.params, world.firms
    R = world.n_regions
    rows = np.flatnonzero(n_deal > demands)
    if rows.size == 0:
        return np.zeros(R), np.zeros(R), np.zeros(R), rows
    share = world.bargaining()[2]  # the officials' bargaining share P^phi / (P^phi + B^phi)
    fine = p["giver_penalty"] * p["audit_penalty"]
    damping = 1.0 - p["transparency_demand"] * p["transparency"]
    m, bribe, waits, exponent, accept_p = offer_pass(
        constants(Offers, p, fine=fine, damping=damping), rows, n_deal, demands, share, power, f.strength, segment,
        c, f.home_official, f.perceived_detection,
    )  # fmt: skip
    offer_p = 1.0 / (1.0 + np.exp(exponent))
    offered = kernels.binomial(rng, m, offer_p)
    took = kernels.binomial(rng, offered, accept_p)
    found = kernels.binomial(rng, took, true_detection(p))
    ev = log.firm
    accepted, income, caught = np.zeros(R), np.zeros(R), np.zeros(R)
    offer_outcomes_pass(
        fine, rows, m, offered, took, found, bribe, waits, f.region, log.potential_output, ev["offered"],
        ev["offer_paid"], ev["delay"], ev["extracted"], ev["fines"], accepted, income, caught,
    )  # fmt: skip
    return accepted, income, caught, rows[found > 0]


class Offers(NamedTuple):
    """Speed money's parameters (registered names; ``fine`` and ``damping`` derived)."""

    rent_stake: float
    bribe_size: float
    queue_share: float
    home_share: float
    delay_cost: float
    choice_sensitivity: float
    fine: float  # giver_penalty x audit_penalty
    damping: float  # 1 - transparency_demand x transparency


@kernel
def offer_pass(c, rows, n_deal, demands, share, power, strength, segment, corrupt, home_official, perceived):
    """Per firm of ``rows`` (dealings without a demand): the dealings without a demand ``m``, the bribe it would
    offer (a share of its output), the share of the full delay it expects to wait, the exponent of its offer's
    logit and the chance that the official it deals with accepts."""
    k = rows.size
    m = np.empty(k, dtype=np.int64)
    bribe, waits, exponent, accept = np.empty(k), np.empty(k), np.empty(k), np.empty(k)
    for j in range(k):
        i = rows[j]
        m[j] = n_deal[i] - demands[i]
        ci = corrupt[i]
        stake = 1.0 + c.rent_stake * segment[i]
        bribe[j] = c.bribe_size * share[i] * stake
        # the delay an official can impose (as a refusal's), and the share of it the firm expects to wait: a
        # corrupt official holds the dealing the full delay to extract, an honest one only his queue (queue_share)
        full = power[i] * (1.0 - strength[i] + c.rent_stake * segment[i])
        home_corrupt = home_official[i] < ci
        wait = c.home_share * (1.0 if home_corrupt else c.queue_share) + (1.0 - c.home_share) * (
            ci + (1.0 - ci) * c.queue_share
        )
        waits[j] = wait
        # the firm offers when the value of its time beats the bribe and the expected fine (logit, as for a demand)
        gain = -bribe[j] - perceived[i] * c.fine + c.delay_cost * full * wait
        exponent[j] = -c.choice_sensitivity * gain
        # an official accepts when the bribe pays him: the corrupt ones (u < c; Andvig & Moene 1990). Audits
        # reach every accepted offer as they reach a paid demand: a connection buys no escape from them (a factor
        # s x L on the risk made audits raise the acceptance of the network's offers and turned the audit lever's
        # direction under symbiosis). Open data expose a taken offer as they expose a demand (the same dealing,
        # published: its file, its dates, who signed it), so transparency lowers the taking as it lowers the asking
        accept[j] = (c.home_share * (1.0 if home_corrupt else 0.0) + (1.0 - c.home_share) * ci) * c.damping
    return m, bribe, waits, exponent, accept


@kernel
def offer_outcomes_pass(
    fine, rows, m, offered, took, found, bribe, waits, region, output, offered_ev, paid_ev, delay, extracted, fines,
    accepted, income, caught,
):  # fmt: skip
    """The offers' events per firm of ``rows`` and their sums per region (``accepted``, ``income``, ``caught``,
    added in row order). The dealings not expedited wait their expected share of the full delay (a routine
    wait, like an unrefused dealing's before, is not charged as a loss to officials: the observer and the survey
    read losses); what officials took is the bribes."""
    for j in range(rows.size):
        i = rows[j]
        y = output[i]
        offered_ev[i] = offered[j]
        paid_ev[i] = took[j]
        delay[i] += (m[j] - took[j]) * waits[j]
        taken = y * took[j] * bribe[j]
        extracted[i] += taken
        fines[i] += y * found[j] * fine
        r = region[i]
        accepted[r] += took[j]
        income[r] += taken
        caught[r] += found[j]


def _demands(world, log, rng):
    """Dealings and bribe demands of every firm, in one fused pass (``demand_pass``). Returns dealings, demands,
    the shield from other officials, s, P and c per firm, and the extractive and large-project segment
    (``formulas.rent_segment``)."""
    p, f, a = world.params, world.firms, world.akimats
    n, region = f.n, f.region
    symbiosis = a.symbiosis[region]
    output = world.potential_output()
    log.potential_output = output
    segment = rent_segment(output, f.formal, region, mining_shares(world.regions))
    shield, lam, chance = np.empty(n), np.zeros(n), np.zeros(n)
    damping = 1.0 - p["transparency_demand"] * p["transparency"]
    u_rotation = rng.random(n)  # the rotation of home officials: who, then their successors' ranks
    successors = rng.random(int(np.count_nonzero(f.alive & (u_rotation < p["official_rotation"]))))
    demand_pass(
        constants(Constants, p, damping=damping), u_rotation, successors, view(Firms, f),
        Year(*(f.last_year(name) for name in Year._fields)), symbiosis, output, segment,
        a.power ** p["dealings_power"], a.corrupt_share, shield, lam, chance,
    )  # fmt: skip
    n_deal = kernels.poisson(rng, lam)
    demands = kernels.binomial(rng, n_deal, chance)
    return n_deal, demands, shield, symbiosis, a.power[region], a.corrupt_share[region], segment


class Firms(NamedTuple):
    """Views of the firm table (written: home_official and client, by the rotation of officials)."""

    region: np.ndarray
    insider: np.ndarray
    connection: np.ndarray
    client: np.ndarray
    captor: np.ndarray
    age: np.ndarray
    formal: np.ndarray
    alive: np.ndarray
    strength: np.ndarray
    home_official: np.ndarray


class Year(NamedTuple):
    """Sums over the last 4 quarters."""

    dealings: np.ndarray
    output: np.ndarray
    extracted: np.ndarray


class Constants(NamedTuple):
    """The dealings' and demands' parameters (registered names; ``damping`` derived)."""

    connected_from: float
    official_rotation: float
    dealings_startup: float
    dealings_growth: float
    dealings_mature: float
    startup_age: int
    mature_age: int
    dealings_reach: float
    outsider_bias: float
    outsider_inspection_share: float
    capture_harassment: float
    informal_dealings: float
    choice_sensitivity: float
    discretionary_share: float
    visibility_base: float
    home_share: float
    damping: float  # 1 - transparency_demand x transparency
    informal_demand: float


@kernel
def demand_pass(
    c, u_rotation, successors, f, year, symbiosis, output, segment, power_dp, corrupt_share, shield, lam, chance
):
    """Per firm: the shields of patronage, the rotation of its home official, the rate of dealings ``lam`` (by
    life stage, reach, outsider bias, a captor's rivals, formality, less the discretionary part put off for its
    cost; 0 for a firm not in business) and the ``chance`` of a demand in a dealing. A firm in
    business with ``u_rotation`` below the rotation rate gets the next of ``successors`` as its home official's
    rank. ``power_dp`` (P^dealings_power) and ``corrupt_share`` are per region."""
    n = f.region.size
    captor_output = np.zeros(power_dp.size)
    region_output = np.zeros(power_dp.size)
    for i in range(n):  # a captor's rivals face extra inspections in proportion to the captors' weight
        r = f.region[i]
        captor_output[r] += output[i] * (1.0 if f.captor[i] else 0.0)
        region_output[r] += output[i]
    rotated = 0
    for i in range(n):
        s = symbiosis[i]
        client = f.client[i]  # before the rotation: a client has a patron
        shield[i] = 1.0 - s * maximum(f.connection[i], 1.0 if client else 0.0)  # from other officials' demands
        r = f.region[i]
        shield_home = 1.0 - s * f.connection[i]  # a patron goes on taking its tribute
        outsider = 1.0 if ((not f.insider[i]) and f.connection[i] < c.connected_from and not client) else 0.0
        bias = s * c.outsider_bias
        if f.alive[i]:
            weight = captor_output[r] / region_output[r] if region_output[r] > 0 else 0.0
            rival = 0.0 if f.captor[i] else weight
            if u_rotation[i] < c.official_rotation:  # rotation of the home official
                f.home_official[i] = successors[rotated]
                rotated += 1
                f.client[i] = False
            age = f.age[i]
            if age < c.startup_age:
                stage = c.dealings_startup
            elif age < c.mature_age:
                stage = c.dealings_growth
            else:
                stage = c.dealings_mature
            rate = stage * c.dealings_reach * power_dp[r] * (1.0 + c.outsider_inspection_share * bias * outsider)
            rate *= (1.0 + c.capture_harassment * rival) * (1.0 if f.formal[i] else c.informal_dealings)
            # demand for dealings falls with their cost (per dealing, last year, in quarters of output)
            dealt = year.dealings[i]
            cost = year.extracted[i] * 4.0 / (dealt * maximum(year.output[i], 1e-12)) if dealt > 0 else 0.0
            d = c.discretionary_share * (1.0 - segment[i])  # the segment's licences and permits cannot be put off
            lam[i] = rate * (1.0 - d + d * math.exp(-c.choice_sensitivity * cost))
        visibility = c.visibility_base + (1.0 - c.visibility_base) * f.strength[i]
        ci = corrupt_share[r]
        home_corrupt = 1.0 if f.home_official[i] < ci else 0.0
        corrupt = c.home_share * home_corrupt * shield_home + (1.0 - c.home_share) * ci * shield[i]
        value = corrupt * c.damping * visibility * (1.0 + bias * outsider)
        chance[i] = minimum(maximum(value * (1.0 if f.formal[i] else c.informal_demand), 0.0), 1.0)
