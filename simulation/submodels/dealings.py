"""2. Administrative dealings: petty corruption as an inspection game.

Each firm has a Poisson number of dealings with officials (permits, inspections, land,
connections), by life stage, scaled by the akimat's administrative reach (``dealings_reach`` x P), more
for the rivals of a captor and for outsiders in the symbiotic model, fewer for informal
firms (who avoid officials). In each dealing an official demands a bribe with probability

    d = c * (1 - 0.5 transparency) * visibility * (1 + outsider_bias * outsider) * (1.5 if informal),

visibility = base + (1 - base) B (``visibility_base``). The bribe is a share of the firm's quarterly output set by the
bargaining share s = P^phi / (P^phi + B^phi): strong power extracts, strong business
resists. Refusing costs what officials can inflict, h = P (1 - B): delays and harassment
scale with administrative power, and a strong firm shrugs them off. The firm answers each
demand by a logit choice over expected payoffs (output shares):

    pay     -bribe_size * s * (1 + q * penalty / 2)        q: perceived detection
    refuse  -delay_cost * h
    report  -report_cost - (1 - legal_quality (1 - c)) * (delay_cost + retaliation) * h

A paid bribe is detected with the true probability 1 - (1 - audit_rate)(1 - 0.15
transparency) (audits, and open data that expose irregularities; 0.15 is
``transparency_detection``); a report brings the official to book with probability
legal_quality * (1 - c): it has to reach an honest official, so corruption protects itself
(Hammond's multiple equilibria). A firm caught paying is fined ``giver_penalty`` (half) of the
official's penalty (the giver is often treated as extorted).
Perceived detection q jumps toward 1 by ``detection_jump`` times the share of the firm's
ties caught paying this quarter (the whole jump when the firm itself was caught), then
decays back toward the true rate (Hokamp & Pickhardt 2010; Platas-Lopez et al.).
"""

from __future__ import annotations

import numpy as np

from ..formulas import bargaining_share, life_stage, true_detection


def step(world, log, rng) -> None:
    """Dealings, bribe demands, the firms' answers, detection, and perceived detection."""
    p, f, a = world.params, world.firms, world.akimats
    n = f.n
    alive = f.alive
    region = f.region
    formal = f.formal
    strength = f.strength
    outsider = (~f.insider) & (f.connection < p["connected_from"])
    rival = (world.captured_regions()[region] > 0) & ~f.captor

    power = a.power[region]
    rates = np.array([p["dealings_startup"], p["dealings_growth"], p["dealings_mature"]])
    rate = rates[life_stage(f.age, p)]
    lam = rate * p["dealings_reach"] * power * (1.0 + p["outsider_inspection_share"] * p["outsider_bias"] * outsider)
    lam = lam * (1.0 + p["capture_harassment"] * rival)
    lam = lam * np.where(formal, 1.0, p["informal_dealings"]) * alive
    n_deal = rng.poisson(lam)

    visibility = p["visibility_base"] + (1.0 - p["visibility_base"]) * strength
    demand_p = a.corrupt_share[region] * (1.0 - p["transparency_demand"] * p["transparency"]) * visibility
    demand_p = demand_p * (1.0 + p["outsider_bias"] * outsider) * np.where(formal, 1.0, p["informal_demand"])
    demands = rng.binomial(n_deal, np.clip(demand_p, 0.0, 1.0))
    output = world.potential_output()
    log.potential_output = output

    # the choice and its consequences, for the firms that met a demand
    idx = np.flatnonzero(demands)
    dm = demands[idx]
    r_i = region[idx]
    s = bargaining_share(power[idx], strength[idx], p["bargaining_exponent"])
    bribe = p["bribe_size"] * s
    harm = power[idx] * (1.0 - strength[idx])
    q = f.perceived_detection
    giver = p["giver_penalty"]
    upheld_p = p["legal_quality"] * (1.0 - a.corrupt_share[r_i])
    u = np.stack(
        [
            -bribe * (1.0 + q[idx] * giver * p["audit_penalty"]),
            -p["delay_cost"] * harm,
            -p["report_cost"] - (1.0 - upheld_p) * (p["delay_cost"] + p["retaliation"]) * harm,
        ]
    )
    u = p["choice_sensitivity"] * (u - u.max(axis=0))
    w = np.exp(u)
    prob = w / w.sum(axis=0)
    paid = rng.binomial(dm, prob[0])
    refused = rng.binomial(dm - paid, np.clip(prob[1] / np.maximum(prob[1] + prob[2], 1e-12), 0.0, 1.0))
    reported = dm - paid - refused
    d_true = true_detection(p)
    detected_paid = rng.binomial(paid, d_true)
    upheld = rng.binomial(reported, upheld_p)
    failed = reported - upheld
    y = output[idx]
    extracted = y * (
        paid * bribe
        + refused * p["delay_cost"] * harm
        + reported * p["report_cost"]
        + failed * (p["delay_cost"] + p["retaliation"]) * harm
    )

    ev = log.firm
    ev["dealings"][:] = n_deal
    ev["demands"][:] = demands
    ev["paid"][idx] = paid
    ev["refused"][idx] = refused
    ev["reported"][idx] = reported
    ev["extracted"][idx] = extracted
    ev["fines"][idx] = y * detected_paid * bribe * giver * p["audit_penalty"]
    # informal firms found out in a dealing pay informal_fine_quarters of taxes as a fine
    informal = np.flatnonzero(~formal & alive & (n_deal > 0))
    found = informal[rng.binomial(n_deal[informal], d_true) > 0]
    ev["fines"][found] += p["informal_fine_quarters"] * p["tax_rate"] * output[found]
    detected = np.zeros(n)
    detected[idx] = detected_paid > 0
    ev["detected"][:] = detected

    R = world.n_regions
    log.region["demands"][:] = np.bincount(r_i, weights=dm, minlength=R)
    log.region["paid"][:] = np.bincount(r_i, weights=paid, minlength=R)
    log.region["caught"][:] = np.bincount(r_i, weights=detected_paid + upheld, minlength=R)
    log.region["bribe_income"][:] = np.bincount(r_i, weights=y * paid * bribe, minlength=R)

    # perceived detection: jump by the share of ties caught (all of it when caught oneself), then decay
    degree = world.ties.degree(n)
    heard = np.divide(world.ties.sum_over_ties(detected), degree, out=np.zeros(n), where=degree > 0)
    heard = np.maximum(heard, detected)
    q[:] = q + p["detection_jump"] * (1.0 - q) * heard
    q[:] = q + p["detection_decay"] * (d_true - q)
