"""10. Utilities and residents.

Utility quality (heat, water, power, gas) per region moves toward the level that the
maintenance budget sustains, and operating PPP contracts in a utility lift it:

    q <- clip(q + delta_u (q0 * m - q) + lift * n_operating * (1 - q), 0, 1),   m = maintenance / reference,

where the reference is the maintenance of the first quarter at zero rents (so a region
that keeps spending as at the start keeps its initial quality q0) and m is capped at 1.5.

Residents hold a latent satisfaction with the authorities and with each utility. The
authorities' regional signal combines services, the economy and corruption,

    x_r = 3 (mean q - 1/2) + 2 (wage index / 100 - 1) + 2 (job growth) - 2 (incidence - 0.3),

weighted by cohort (the young weigh jobs more, the old services more); each resident's
latent value is x_r + resident_noise * (persistent taste + quarterly noise / 2), smoothed
as 0.75 old + 0.25 new. A utility's latent value is 4 (q_u - 1/2) + resident_noise *
(persistent taste + quarterly noise / 2), smoothed alike. Answers follow from latent
values by fixed cut-points (``AUTHORITY_CUTS`` on the 1-5 scale of Table 5,
``UTILITY_CUTS`` for satisfied / partially / dissatisfied of Table 6).
"""

from __future__ import annotations

import numpy as np

AUTHORITY_CUTS = np.array([-1.5, -0.5, 0.5, 1.5])  # scores 1 | 2 | 3 | 4 | 5
UTILITY_CUTS = np.array([-0.5, 0.5])  # dissatisfied | partially | satisfied
#: weights of (services, economy, corruption) by resident cohort: <30, 30-39, 40-49, 50+
COHORT_WEIGHTS = np.array([[0.8, 1.2, 1.0], [1.0, 1.1, 1.0], [1.1, 0.9, 1.0], [1.2, 0.8, 1.0]])
SMOOTHING = 0.25


def step(model, log) -> None:
    p, a, res, f = model.params, model.akimats_state, model.residents, model.firms
    rng = model.streams["residents"]
    R = model.n_regions
    m = np.minimum(np.divide(a.maintenance, a.maintenance_reference, out=np.ones(R),
                             where=a.maintenance_reference > 0), 1.5)
    q = a.utility_quality
    lift = model.projects.operating_lift(R) if len(model.projects) else np.zeros((R, 4))
    q[:] = np.clip(q + p["utility_depreciation"] * (p["utility_quality"] * m[:, None] - q)
                   + p["ppp_quality_lift"] * lift * (1.0 - q), 0.0, 1.0)

    alive = f.view("alive")
    region = f.view("region")
    n_alive = np.bincount(region[alive], minlength=R)
    demanded = alive & ((f.last_year("demands") + log.firm["demands"]) > 0)
    incidence = np.divide(np.bincount(region[demanded], minlength=R), n_alive, out=np.zeros(R), where=n_alive > 0)
    kpis = model.kpi_history[-1]
    wage = kpis["real_wages"] / 100.0 - 1.0
    if len(model.kpi_history) >= 5:
        before = model.kpi_history[-5]["jobs"]
        job_growth = np.divide(kpis["jobs"] - before, before, out=np.zeros(R), where=before > 0)
    else:
        job_growth = np.zeros(R)
    signals = np.stack([3.0 * (q.mean(axis=1) - 0.5), 2.0 * wage + 2.0 * job_growth, -2.0 * (incidence - 0.3)], axis=1)
    model.resident_signals = signals
    x = (COHORT_WEIGHTS[res.cohort] * signals[res.region]).sum(axis=1)
    noise = p["resident_noise"]
    latent = x + noise * (res.taste + 0.5 * rng.standard_normal(res.n))
    res.authority[:] = (1.0 - SMOOTHING) * res.authority + SMOOTHING * latent if model.quarter else latent
    u_latent = 4.0 * (q[res.region] - 0.5) + noise * (res.utility_taste + 0.5 * rng.standard_normal((res.n, 4)))
    res.utilities[:] = (1.0 - SMOOTHING) * res.utilities + SMOOTHING * u_latent if model.quarter else u_latent


def authority_scores(latent: np.ndarray) -> np.ndarray:
    """Answer on Table 5's 1-5 scale for latent satisfaction values."""
    return 1 + np.searchsorted(AUTHORITY_CUTS, latent, side="right")


def utility_answers(latent: np.ndarray) -> np.ndarray:
    """0 satisfied, 1 partially, 2 dissatisfied (Table 6's column order)."""
    return 2 - np.searchsorted(UTILITY_CUTS, latent, side="right")
