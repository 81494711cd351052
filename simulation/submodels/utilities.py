"""10. Utilities and residents.

Utility quality (heat, water, power, gas) per region moves toward the level that the
maintenance budget sustains, and operating PPP contracts in a utility lift it:

    q <- clip(q + delta_u (q0 * m - q) + lift * n_operating * (1 - q), 0, 1),   m = maintenance / reference,

where the reference is the maintenance of the first quarter at zero rents (so a region
that keeps spending as at the start keeps its initial quality q0) and m is capped at 1.5.

Residents hold a latent satisfaction with the authorities and with each utility. The
authorities' regional signal combines services, the economy and corruption,

    x_r = 3 (mean q - 1/2) + 2 (real wage growth) + 2 (job growth) - 2 (incidence - 0.3),

(the weights are ``services_signal``, ``wage_signal``, ``jobs_signal``, ``corruption_signal``, and
0.3 is ``corruption_reference``; wage and job growth over the last 4 quarters, 0 before 5 quarters of KPIs)

weighted by cohort (``cohort_services_weights``, ``cohort_economy_weights``: the young weigh
jobs more, the old services more). Residents also meet corruption in person: each quarter a
resident deals with an official with probability ``resident_contact`` and a corrupt one
(share c) demands a bribe; a resident who met a demand this quarter holds it against the
authorities, - corruption_signal, on top of the regional signal (personal exposure: the
mixture of exposed and unexposed residents gives the answers fat tails). Each resident's
latent value is x_r - exposure + resident_noise * (persistent taste + quarterly noise / 2),
smoothed as 0.75 old + 0.25 new. A utility u is judged against the quality the resident expects
of it (expectation-disconfirmation), coloured by the disposition towards the authorities: its
latent value is x_r + ``utility_scale`` (4) x (q_u - e_u) + resident_noise * (persistent taste +
quarterly noise / 2), smoothed alike, where the expectation e_u of the region's residents adapts
toward the quality met, e_u <- e_u + ``expectation_adaptation`` (q_u - e_u), from the initial quality.
Answers follow from latent values by the fixed cut-points of ``simulation.observe.answers``.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..formulas import utility_levels
from ..regions import utility_wear


def step(world, log, rng) -> None:
    """Utility quality, then residents' latent satisfaction with the authorities and utilities."""
    p, a, res, f = world.params, world.akimats, world.residents, world.firms
    R = world.n_regions
    m = np.minimum(
        np.divide(a.maintenance, a.maintenance_reference, out=np.ones(R), where=a.maintenance_reference > 0),
        p["maintenance_cap"],
    )
    q = a.utility_quality
    projects = world.projects
    lift = projects.operating_lift(R, p["lifecycle_effect"]) if len(projects) else np.zeros((R, 4))
    sustained = utility_levels(p["utility_quality"], utility_wear())  # per utility, from its network's wear
    q[:] = np.clip(
        q
        + p["utility_depreciation"] * (sustained[None, :] * m[:, None] - q)
        + p["ppp_quality_lift"] * lift * (1.0 - q),
        0.0,
        1.0,
    )

    alive = f.alive
    region = f.region
    n_alive = kernels.count_where(region, alive, R)
    demanded = alive & ((f.last_year("demands") + log.firm["demands"]) > 0)
    incidence = np.divide(kernels.count_where(region, demanded, R), n_alive, out=np.zeros(R), where=n_alive > 0)
    history = world.kpi_history
    kpis = history[-1]
    # the economy as residents feel it: real wages and jobs against a year before (4 quarters), as the
    # statistics office reports the real wage index and as retrospective economic judgements are asked
    if len(history) >= 5:
        before = history[-5]
        wage_then = before["real_wages"]
        wage_growth = np.divide(kpis["real_wages"] - wage_then, wage_then, out=np.zeros(R), where=wage_then > 0)
        job_growth = np.divide(kpis["jobs"] - before["jobs"], before["jobs"], out=np.zeros(R), where=before["jobs"] > 0)
    else:
        wage_growth = job_growth = np.zeros(R)
    signals = np.stack(
        [
            p["services_signal"] * (q.mean(axis=1) - 0.5),
            p["wage_signal"] * wage_growth + p["jobs_signal"] * job_growth,
            -p["corruption_signal"] * (incidence - p["corruption_reference"]),
        ],
        axis=1,
    )
    weights = np.stack(
        [p["cohort_services_weights"], p["cohort_economy_weights"], np.ones(4)], axis=1
    )  # cohort x (services, economy, corruption)
    x = (weights[res.cohort] * signals[res.region]).sum(axis=1)
    noise = p["resident_noise"]
    # the authorities are judged on three domains, each perceived with an individual error of
    # spread resident_noise (as one utility is): the composite's spread is noise x |weights|
    composite = np.sqrt((weights**2).sum(axis=1))[res.cohort]
    smoothing = p["resident_smoothing"]
    exposed = rng.random(res.n) < p["resident_contact"] * a.corrupt_share[res.region]
    latent = x - p["corruption_signal"] * exposed + noise * composite * (res.taste + 0.5 * rng.standard_normal(res.n))
    res.authority[:] = (1.0 - smoothing) * res.authority + smoothing * latent if world.quarter else latent
    # a utility is judged against the quality the resident expects of it (expectation-disconfirmation),
    # coloured by the resident's disposition towards the authorities, the domains' regional signal x
    # (ODD 7.10); the expectation then adapts toward the quality met
    e = a.utility_expectation
    u_latent = (
        x[:, None]
        + p["utility_scale"] * (q - e)[res.region]
        + noise * (res.utility_taste + 0.5 * rng.standard_normal((res.n, 4)))
    )
    res.utilities[:] = (1.0 - smoothing) * res.utilities + smoothing * u_latent if world.quarter else u_latent
    e += p["expectation_adaptation"] * (q - e)
