"""The survey's statistics and the likelihood of the survey given a run, with the design effect of
the survey's sampling design (issue 25: no fitted overdispersion)."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import gammaln
from scipy.stats import chi2

from ..formulas import fixed_order_dot
from ..observe.survey import TABLES, expected_tables, observed_tables
from ..posterior import LIKELIHOOD
from .config import COHORT_TABLES, SAMPLE_SIZE, TABLE_SAMPLE, Calibration


def row_sizes() -> dict[str, np.ndarray]:
    """The paper's sample size of every fitted row: Table 6 per utility, the others their total."""
    return {t: np.full(4 if t == "table6" else 1, SAMPLE_SIZE[t], dtype=float) for t in TABLES}


def _rows(table: str, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values.reshape(4, 3) if table == "table6" else values.reshape(1, -1)


def statistics_from_shares(shares: dict[str, dict[str, Any]]) -> dict[str, np.ndarray]:
    """The statistics of a simulated survey's population shares.

    ``table5`` .. ``table9``: the expected shares of the fitted total rows under the paper's
    stratified design (cohort quotas x cohort shares, normalised; Table 6 per utility,
    flattened); ``table5_cohorts`` ..: each cohort's population shares (the held-out rows,
    flattened), kept with the particle for the predictive checks but not in the likelihood.
    """
    expected = expected_tables(shares)
    out = {}
    for t in TABLES:
        e = np.asarray(expected[t], dtype=float)
        total = e if t == "table6" else e.sum(axis=0, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[t] = (total / total.sum(axis=1, keepdims=True)).ravel()
    for t in COHORT_TABLES:
        out[f"{t}_cohorts"] = np.asarray(shares[t]["by_cohort"], dtype=float).ravel()
    return out


def observed_statistics() -> dict[str, np.ndarray]:
    """The paper's shares of the same cells (total rows; Table 6 per utility; cohort rows)."""
    obs = observed_tables()
    out = {}
    for t in TABLES:
        counts = np.asarray(obs[t], dtype=float)
        out[t] = (counts / SAMPLE_SIZE[t]).ravel() if t == "table6" else counts.sum(axis=0) / counts.sum()
    for t in COHORT_TABLES:
        counts = np.asarray(obs[t], dtype=float)
        out[f"{t}_cohorts"] = (counts / counts.sum(axis=1, keepdims=True)).ravel()
    return out


def dm_logpmf(counts: np.ndarray, shares: np.ndarray, rho: float, floor: float = 0.005) -> np.ndarray:
    """Dirichlet-multinomial log probability of each row of ``counts`` (rows x answers) given the
    rows of ``shares`` (floored at ``floor``, renormalised) and the intra-class correlation ``rho``."""
    y = np.atleast_2d(np.asarray(counts, dtype=float))
    p = np.maximum(np.atleast_2d(np.asarray(shares, dtype=float)), floor)
    p = p / p.sum(axis=1, keepdims=True)
    n = y.sum(axis=1)
    if rho <= 0.0:  # the multinomial (the limit rho -> 0)
        return gammaln(n + 1) - gammaln(y + 1).sum(axis=1) + (y * np.log(p)).sum(axis=1)
    a0 = (1.0 - rho) / rho
    alpha = a0 * p
    return (
        gammaln(n + 1)
        - gammaln(y + 1).sum(axis=1)
        + gammaln(a0)
        - gammaln(n + a0)
        + (gammaln(y + alpha) - gammaln(alpha)).sum(axis=1)
    )


def predictive_counts(shares_row, n: int, rho: float, rng: np.random.Generator, floor: float = 0.005) -> np.ndarray:
    """One Dirichlet-multinomial draw of a row of ``n`` answers: shares ~ Dirichlet(p (1 - rho) / rho),
    then multinomial (the survey's sampling, with the fitted overdispersion)."""
    p = np.maximum(np.asarray(shares_row, dtype=float), floor)
    p = p / p.sum()
    g = rng.dirichlet(p * (1.0 - rho) / rho)
    return rng.multinomial(int(n), g / g.sum())


def design_rho(n: float, deff: float) -> float:
    """The Dirichlet-multinomial correlation of a row of ``n`` answers with design effect ``deff``:
    rho_n = (deff - 1) / (n - 1), so that Var(count) = n p (1 - p) deff, the variance of a cluster
    sample with that design effect (Kish 1965). ``deff`` is a property of the design (clusters of
    fixed size b: deff = 1 + (b - 1) roh), so rho_n falls as 1/n and the spread of a share,
    sqrt(deff p (1 - p) / n), falls with the sample; deff = 1 is the multinomial."""
    return 0.0 if deff <= 1.0 or n <= 1 else (deff - 1.0) / (n - 1.0)


def survey_logpmf(counts: np.ndarray, shares: np.ndarray, deff: float, floor: float = 0.005) -> np.ndarray:
    """Log probability of each row of ``counts`` under the survey's error model: Dirichlet-multinomial
    with the row's own rho_n = (deff - 1) / (n - 1) (:func:`design_rho`)."""
    y = np.atleast_2d(np.asarray(counts, dtype=float))
    p = np.atleast_2d(np.asarray(shares, dtype=float))
    return np.concatenate(
        [dm_logpmf(y[i : i + 1], p[i : i + 1], design_rho(y[i].sum(), deff), floor) for i in range(len(y))]
    )


def design_counts(shares_row, n: int, deff: float, rng: np.random.Generator, floor: float = 0.005) -> np.ndarray:
    """One draw of a row of ``n`` answers under the survey's error model (design effect ``deff``)."""
    rho = design_rho(n, deff)
    if rho <= 0.0:
        p = np.maximum(np.asarray(shares_row, dtype=float), floor)
        return rng.multinomial(int(n), p / p.sum())
    return predictive_counts(shares_row, n, rho, rng, floor)


def log_likelihood(
    simulated: dict[str, np.ndarray], observed: dict[str, np.ndarray], deffs: dict[str, float], floor: float
) -> float:
    """The log likelihood of the observed totals (counts = shares x the paper's row sizes) under the
    simulated shares and each sample's design effect (``deffs``: sample -> deff, ``TABLE_SAMPLE``):
    the sum over Tables 5-9 (Table 6 per utility)."""
    sizes = row_sizes()
    total = 0.0
    for t in TABLES:
        sim = _rows(t, simulated[t])
        if not np.all(np.isfinite(sim)):
            return -math.inf
        total += float(
            survey_logpmf(_rows(t, observed[t]) * sizes[t][:, None], sim, deffs[TABLE_SAMPLE[t]], floor).sum()
        )
    return total


def ensemble_log_likelihood(
    runs: list[dict[str, np.ndarray]],
    observed: dict[str, np.ndarray],
    deffs: dict[str, float],
    floor: float,
    rng: np.random.Generator,
    draws: int,
) -> float:
    """The log likelihood of the observed totals with the runs' spread as part of the prediction: an
    ensemble (synthetic) likelihood (Wood 2010; Price, Drovandi, Lee & Nott 2018).

    One run of Turkestan is one region's history: the shares its survey reads vary from run to run
    (the region's economy and budget wander), and that spread belongs to what the model predicts for
    one survey in one region. The mean of the runs' likelihoods (``mean_likelihood``) integrates over it
    by Monte Carlo, with a variance that a few runs far from the data (a region whose budget ran away)
    dominate. Here the ``k`` runs' shares, each row in additive log-ratio coordinates (last answer as
    the reference) and all rows jointly (one regional state drives every table), give a Gaussian: the
    runs' mean and their sample covariance (rank ``k - 1``), inflated by ``1 + 1/k`` for the uncertainty
    of the mean (the predictive of one more run). ``draws`` share vectors from it each give the survey's
    likelihood under the design's error model (:func:`survey_logpmf`, the same as one run's), and the
    estimate is the log of their mean. Identical runs give exactly one run's likelihood. It needs
    ``k >= 2`` runs; runs whose statistics are not finite (a run that failed) are left out, and with
    fewer than 2 left the estimate is minus infinity. Not unbiased for the likelihood that
    ``mean_likelihood`` targets: it replaces the runs' distribution by a Gaussian in log-ratio space."""
    good = [r for r in runs if all(np.all(np.isfinite(np.asarray(r[t], dtype=float))) for t in TABLES)]
    if len(good) < 2:
        return -math.inf
    sizes = row_sizes()

    def log_ratios(stats: dict[str, np.ndarray]) -> np.ndarray:
        out = []
        for t in TABLES:
            p = np.maximum(_rows(t, stats[t]), floor)
            p = p / p.sum(axis=1, keepdims=True)
            out.append(np.log(p[:, :-1] / p[:, -1:]).ravel())
        return np.concatenate(out)

    z = np.array([log_ratios(r) for r in good])
    k = len(z)
    mean = z.mean(axis=0)
    # fixed_order_dot, not BLAS: the same estimate on every machine (issue 21)
    sample = mean + fixed_order_dot(rng.standard_normal((draws, k)), z - mean) * math.sqrt((1.0 + 1.0 / k) / (k - 1))
    total, i = np.zeros(draws), 0
    for t in TABLES:
        counts = _rows(t, observed[t]) * sizes[t][:, None]
        for row in counts:
            c = row.size
            e = np.concatenate([np.exp(sample[:, i : i + c - 1]), np.ones((draws, 1))], axis=1)
            i += c - 1
            total += dm_logpmf(
                np.broadcast_to(row, e.shape),
                e / e.sum(axis=1, keepdims=True),
                design_rho(row.sum(), deffs[TABLE_SAMPLE[t]]),
                floor,
            )
    top = float(total.max())
    return top + math.log(float(np.mean(np.exp(total - top))))


def table_chi_square(
    simulated: dict[str, np.ndarray], counts: dict[str, np.ndarray], deffs: dict[str, float], floor: float = 0.005
) -> list[dict[str, Any]]:
    """Per table: Pearson's X^2 of the observed counts against the simulated shares, its Rao-Scott
    first-order correction X^2 / deff (Rao & Scott 1981) on (answers - 1) df per row, the p-value, the
    design effect that would make p = 0.05 ("deff needed"), and the worst cell (largest contribution)."""
    from ..observe.survey import table_labels

    rows = []
    for t in TABLES:
        y = np.atleast_2d(np.asarray(counts[t], dtype=float))
        p = np.maximum(_rows(t, simulated[t]), floor)
        p = p / p.sum(axis=1, keepdims=True)
        e = p * y.sum(axis=1, keepdims=True)
        contrib = (y - e) ** 2 / e
        x2 = float(contrib.sum())
        df = y.shape[0] * (y.shape[1] - 1)
        d = deffs[TABLE_SAMPLE[t]]
        r, c = np.unravel_index(int(np.argmax(contrib)), contrib.shape)
        row_labels, col_labels = table_labels(t)
        rows.append(
            {
                "table": t,
                "x2": x2,
                "df": df,
                "design_effect": d,
                "x2_over_deff": x2 / d,
                "p_value": float(chi2.sf(x2 / d, df)),
                "p_value_deff1": float(chi2.sf(x2, df)),
                "deff_needed": x2 / float(chi2.isf(0.05, df)),
                "worst_cell": f"{row_labels[r] if t == 'table6' else 'Total'} / {col_labels[c]}",
                "worst_observed": float(y[r, c]),
                "worst_expected": float(e[r, c]),
                "largest_gap_pp": float(np.max(np.abs(y / y.sum(axis=1, keepdims=True) - p)) * 100),
            }
        )
    return rows


def particle_seed(seed: int, model: str, values: dict[str, float], run: int = 0) -> int:
    """A run's seed from the calibration's seed and the particle (same particle, same run); ``run``:
    the k-th of the runs that average one likelihood estimate (``runs_per_estimate``)."""
    text = repr((model, sorted((k, float(v)) for k, v in values.items() if k not in LIKELIHOOD)))
    base = int(np.random.SeedSequence([seed, zlib.crc32(text.encode())]).generate_state(1)[0])
    return base if run == 0 else int(np.random.SeedSequence([base, run]).generate_state(1)[0])


def run_survey_model(params: dict[str, Any], seed: int, surveys: int = 0) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Run the model to its end and survey it: the statistics, and ``surveys`` sample tables."""
    from ..model import StateBusinessModel
    from ..observe.survey import simulate_survey

    model = StateBusinessModel(rng=seed, **params)
    model.run()
    result = simulate_survey(model)
    stats = statistics_from_shares(result.population_shares)
    tables = [result.tables] + [simulate_survey(model, rng=[seed, 7919, k]).tables for k in range(1, surveys)]
    return stats, [{t: np.asarray(v).tolist() for t, v in tab.items()} for tab in tables[:surveys]]


def _failed_statistics() -> dict[str, np.ndarray]:
    size = {"table5": 5, "table6": 12}
    out = {t: np.full(size.get(t, 3), np.nan) for t in TABLES}
    out |= {f"{t}_cohorts": np.full(4 * size.get(t, 3), np.nan) for t in COHORT_TABLES}
    return out


@dataclass
class SurveyModel:
    """One model as a function: particle -> statistics of the survey at the stationary state (picklable)."""

    calibration: Calibration
    model: str

    def __call__(self, values: dict) -> dict[str, np.ndarray]:
        """The statistics of one run at the particle's ``values`` (NaN if it cannot be surveyed)."""
        values = {k: float(v) for k, v in dict(values).items()}
        params = self.calibration.run_parameters(self.model, values)
        try:
            stats, _ = run_survey_model(params, particle_seed(self.calibration.seed, self.model, values))
        except ValueError:  # a cohort without any unit to survey: this particle cannot answer
            return _failed_statistics()
        return stats
