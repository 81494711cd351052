"""The sampler: tempered SMC with its store (a SQLite database of every stage)."""

from __future__ import annotations

import json
import os
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..formulas import fixed_order_dot
from ..observe.survey import TABLES
from ..runs.evaluator import SINGLE_THREAD_ENV, Pool, open_executor

#: The statistics of one run, in a fixed order, and the length of each.
from .config import COHORT_TABLES, MODELS, Calibration, CalibrationError
from .likelihood import (
    _failed_statistics,
    ensemble_log_likelihood,
    log_likelihood,
    observed_statistics,
    particle_seed,
    run_survey_model,
)

#: Salt of the ensemble likelihood's draws (with the particle's seed: the same particle, the same estimate).
ENSEMBLE_SALT = 47

STAT_SIZES = {"table5": 5, "table6": 12, "table7": 3, "table8": 3, "table9": 3} | {
    f"{t}_cohorts": 4 * (5 if t == "table5" else 3) for t in COHORT_TABLES
}


def stat_vector(stats: dict[str, np.ndarray]) -> np.ndarray:
    """A run's statistics as one vector (``STAT_SIZES`` order)."""
    return np.concatenate([np.asarray(stats[k], dtype=float).ravel() for k in STAT_SIZES])


def stat_dict(vector: np.ndarray) -> dict[str, np.ndarray]:
    """The inverse of :func:`stat_vector`."""
    out, i = {}, 0
    for k, n in STAT_SIZES.items():
        out[k] = np.asarray(vector[i : i + n], dtype=float)
        i += n
    return out


def _survey_task(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One fit run (a task for ``runs.evaluator``): the statistics of the survey at its end, as JSON."""
    try:
        stats, _ = run_survey_model(params, seed)
    except ValueError:  # a cohort without any unit to survey: this particle cannot answer
        stats = _failed_statistics()
    return {"stats": json.dumps(stat_vector(stats).tolist())}


@dataclass
class Stage:
    """One stage of a model's sampler: the particles after resampling and moves at inverse temperature ``beta``."""

    model: str
    stage: int
    beta: float
    log_evidence: float
    u: np.ndarray  # particles x free parameters, on the unit cube of the uniform priors
    loglik: np.ndarray  # each particle's log likelihood
    stats: np.ndarray  # particles x statistics
    ess: float  # effective sample size of the reweighted particles before resampling
    acceptance: float  # share of moves accepted
    simulations: int  # runs of this stage
    scale: float  # the moves' step scale after adaptation


class SamplerStore:
    """The sampler's database (SQLite): every stage of every model, and the settings it was made with.

    A fit writes each stage as soon as it is done, so an interrupted fit loses at most the
    stage it was in, and ``--resume`` continues from the last stored stage.
    """

    def __init__(self, path: str | Path):
        import sqlite3

        self.path = Path(path)
        self.db = sqlite3.connect(self.path)
        self.db.execute("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT)")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS stages (model TEXT, stage INTEGER, beta REAL, log_evidence REAL, "
            "ess REAL, acceptance REAL, simulations INTEGER, scale REAL, u BLOB, loglik BLOB, stats BLOB, "
            "PRIMARY KEY (model, stage))"
        )
        self.db.commit()

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def settings(self) -> dict[str, Any] | None:
        """The settings the stored fit was made with (None: a new database)."""
        row = self.db.execute("SELECT value FROM settings WHERE key = 'fit'").fetchone()
        return None if row is None else json.loads(row[0])

    def set_settings(self, settings: dict[str, Any]) -> None:
        """Record the fit's settings."""
        self.db.execute("INSERT OR REPLACE INTO settings VALUES ('fit', ?)", (json.dumps(settings, sort_keys=True),))
        self.db.commit()

    def save(self, s: Stage) -> None:
        """Store one stage (a transaction: all or nothing)."""
        blobs = [np.ascontiguousarray(a, dtype=np.float64).tobytes() for a in (s.u, s.loglik, s.stats)]
        self.db.execute(
            "INSERT OR REPLACE INTO stages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (s.model, s.stage, s.beta, s.log_evidence, s.ess, s.acceptance, s.simulations, s.scale, *blobs),
        )
        self.db.commit()

    def stages(self, model: str, dims: int) -> list[Stage]:
        """The stored stages of ``model`` in order."""
        rows = self.db.execute(
            "SELECT model, stage, beta, log_evidence, ess, acceptance, simulations, scale, u, loglik, stats "
            "FROM stages WHERE model = ? ORDER BY stage",
            (model,),
        ).fetchall()
        out = []
        for r in rows:
            loglik = np.frombuffer(r[9], dtype=np.float64).copy()
            n = len(loglik)
            u = np.frombuffer(r[8], dtype=np.float64).reshape(n, dims).copy()
            stats = np.frombuffer(r[10], dtype=np.float64).reshape(n, -1).copy()
            out.append(Stage(r[0], r[1], r[2], r[3], u, loglik, stats, r[4], r[5], r[6], r[7]))
        return out


def _fit_settings(calib: Calibration, observed: dict[str, np.ndarray]) -> dict[str, Any]:
    """What a stored fit must share with the calibration that resumes it."""
    keep = ("population_size", "moves_per_stage", "ess_fraction", "share_floor", "runs_per_estimate", "estimator")
    data = zlib.crc32(np.concatenate([np.asarray(observed[t], dtype=float).ravel() for t in TABLES]).tobytes())
    return {
        "seed": calib.seed,
        "models": calib.models,
        "model": calib.model,
        "priors": {k: list(v) + [calib.prior_kind(k)] for k, v in (calib.priors | calib.likelihood).items()},
        "design_effects": calib.design,
        "sampler": {k: calib.abc[k] for k in keep},
        "scenario": calib.scenario.path,
        "observed_crc32": data,
    }


def _reflect(u: np.ndarray) -> np.ndarray:
    """Fold values back into [0, 1] by reflection at the bounds (a symmetric move stays symmetric)."""
    v = np.mod(u, 2.0)
    return np.where(v > 1.0, 2.0 - v, v)


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's correlation from centred sums in a fixed order (nan if either does not vary)."""
    dx, dy = x - x.mean(), y - y.mean()
    sxx, syy = float((dx * dx).sum()), float((dy * dy).sum())
    return float((dx * dy).sum() / np.sqrt(sxx * syy)) if sxx > 0 and syy > 0 else float("nan")


def _covariance(u: np.ndarray) -> np.ndarray:
    """The sample covariance of the rows of ``u`` (particles x parameters), summed in a fixed
    order without BLAS, so that a fit's proposals are the same on every machine."""
    centred = u - u.mean(axis=0)
    return fixed_order_dot(centred.T, centred) / max(len(u) - 1, 1)


def _cholesky(a: np.ndarray) -> np.ndarray:
    """The lower Cholesky factor of a small symmetric positive-definite matrix, by the textbook
    recurrence in a fixed order (LAPACK's blocked kernels differ by CPU in the last bits)."""
    n = len(a)
    low = np.zeros_like(a, dtype=float)
    for j in range(n):
        d = a[j, j] - sum(low[j, k] * low[j, k] for k in range(j))
        low[j, j] = np.sqrt(max(d, 0.0)) or 1e-12
        for i in range(j + 1, n):
            low[i, j] = (a[i, j] - sum(low[i, k] * low[j, k] for k in range(j))) / low[j, j]
    return low


def distinct_share(u: np.ndarray) -> float:
    """The share of distinct particles (rows) among the final particles: copies of one lucky
    likelihood estimate lower it (issue 25 asks at least 0.8)."""
    return float(len(np.unique(np.asarray(u), axis=0)) / len(u))


def final_stages(stages: list[Stage]) -> int:
    """How many stages moved the particles at the final temperature after the stage that reached it."""
    return max(0, sum(s.beta >= 1.0 for s in stages) - 1)


def wants_stage(stages: list[Stage], abc: dict[str, Any]) -> bool:
    """Whether the sampler goes on (before its safety stops): while the temperature is above 1, and at
    the final temperature while fewer than ``distinct_target`` of the particles are distinct, for at
    most ``max_final_stages`` stages of moves alone (the pseudo-marginal kernel leaves the posterior
    invariant, so more moves at beta = 1 only let copies of one particle drift apart)."""
    last = stages[-1]
    if last.beta < 1.0:
        return True
    return distinct_share(last.u) < abc["distinct_target"] and final_stages(stages) < abc["max_final_stages"]


def _systematic_resample(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of a systematic resample of normalised ``weights``."""
    n = len(weights)
    positions = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(weights), positions), n - 1)


def _next_beta(loglik: np.ndarray, beta: float, target: float) -> float:
    """The next inverse temperature: the largest step whose reweighting keeps the ESS at ``target`` particles."""

    def ess(b: float) -> float:
        logw = (b - beta) * loglik
        w = np.exp(logw - logw.max())
        return float(w.sum() ** 2 / np.sum(w**2))

    if ess(1.0) >= target:
        return 1.0
    lo, hi = beta, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ess(mid) >= target else (lo, mid)
    return max(lo, beta + 1e-9)


class Sampler:
    """Tempered sequential Monte Carlo for one model (Chopin 2002; Del Moral, Doucet & Jasra 2006).

    The target moves from the prior (beta = 0) to prior x likelihood (beta = 1). Each stage
    picks the next beta so that the reweighted particles keep an effective sample size of
    ``ess_fraction`` of the population, resamples them (systematic), and moves each particle
    ``moves_per_stage`` times by a random-walk Metropolis step on the unit cube of the uniform
    priors (Gaussian with the particles' covariance, reflected at the bounds, its scale adapted
    toward an acceptance of 0.25). A move needs a run of the model at the proposed parameters;
    the run's likelihood estimate is kept with the particle (pseudo-marginal: Andrieu & Roberts
    2009), so the small simulation noise of the shares does not bias the posterior. The log
    evidence accumulates the stages' mean incremental weights: it gives the models' probabilities.
    At beta = 1, stages of moves alone follow while fewer than ``distinct_target`` of the particles
    are distinct (:func:`wants_stage`); they leave the evidence as it is.
    Every random draw comes from (seed, model, stage, move); runs are seeded by their parameters.
    """

    def __init__(self, calib: Calibration, model: str, observed: dict[str, np.ndarray], pool: Pool):
        self.calib, self.model, self.observed, self.pool = calib, model, observed, pool
        self.priors = calib.model_priors(model)
        self.names = list(self.priors)
        self.index = list(MODELS).index(model)
        self.simulations = 0

    def values(self, u: np.ndarray) -> list[dict[str, float]]:
        """Parameter values of particles on the unit cube (uniform or log-uniform priors)."""
        x = self.calib.to_values(self.model, u)
        return [dict(zip(self.names, map(float, row))) for row in x]

    def simulate(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run the model ``runs_per_estimate`` times at every particle: (statistics averaged over the
        runs, log likelihood estimates); the same on every backend.

        The likelihood estimate is the mean of the runs' likelihoods (log-mean-exp of their log
        likelihoods): unbiased for the likelihood integrated over the simulation noise, as the
        pseudo-marginal moves need (Andrieu & Roberts 2009); more runs lower its variance, so
        fewer particles are kept by one lucky estimate. ``estimator = "ensemble"``: the ensemble
        likelihood of the runs (:func:`likelihood.ensemble_log_likelihood`, its draws seeded by the
        particle), of far lower variance at the same runs (docs/calibration/MEASURED.md 13)."""
        from ..runs.evaluator import evaluate

        runs = self.calib.abc["runs_per_estimate"]
        tasks = []
        values = self.values(u)
        for i, v in enumerate(values):
            params = self.calib.run_parameters(self.model, v)
            for r in range(runs):
                seed = particle_seed(self.calib.seed, self.model, v, r)
                tasks.append((i * runs + r, _survey_task, params, seed, params["steps"], ()))
        each = np.full((len(tasks), sum(STAT_SIZES.values())), np.nan)
        for i, row in evaluate(tasks, self.pool.executor, self.pool.window, restart=self.pool.restart):
            if not row.get("error"):
                each[i] = json.loads(row["stats"])
        self.simulations += len(tasks)
        each = each.reshape(len(values), runs, -1)
        floor = self.calib.abc["share_floor"]
        if self.calib.abc.get("estimator") == "mean_shares":  # the likelihood at the runs' mean shares
            mean = each.mean(axis=1)
            return mean, self.loglik(u, mean)
        if self.calib.abc.get("estimator") == "ensemble":  # the runs' spread as a Gaussian, integrated over
            est = np.array(
                [
                    ensemble_log_likelihood(
                        [stat_dict(each[i, r]) for r in range(runs)],
                        self.observed,
                        self.calib.design_effects(v),
                        floor,
                        np.random.default_rng([particle_seed(self.calib.seed, self.model, v), ENSEMBLE_SALT]),
                        self.calib.abc["ensemble_draws"],
                    )
                    for i, v in enumerate(values)
                ]
            )
            return each.mean(axis=1), est
        ll = np.array(
            [
                [
                    log_likelihood(stat_dict(each[i, r]), self.observed, self.calib.design_effects(v), floor)
                    for r in range(runs)
                ]
                for i, v in enumerate(values)
            ]
        )
        top = np.max(ll, axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            est = np.where(np.isfinite(top[:, 0]), top[:, 0] + np.log(np.mean(np.exp(ll - top), axis=1)), -np.inf)
        return each.mean(axis=1), est

    def loglik(self, u: np.ndarray, stats: np.ndarray) -> np.ndarray:
        """Each particle's log likelihood at the stored (run-averaged) statistics (its design effects)."""
        floor = self.calib.abc["share_floor"]
        return np.array(
            [
                log_likelihood(stat_dict(s), self.observed, self.calib.design_effects(v), floor)
                for s, v in zip(stats, self.values(u))
            ]
        )

    def start(self) -> Stage:
        """Stage 0: the prior's particles and their runs."""
        rng = np.random.default_rng([self.calib.seed, self.index, 0])
        u = rng.random((self.calib.abc["population_size"], len(self.names)))
        stats, ll = self.simulate(u)
        n = len(ll)
        return Stage(self.model, 0, 0.0, 0.0, u, ll, stats, float(n), float("nan"), n, 2.38 / np.sqrt(len(self.names)))

    def step(self, cur: Stage) -> Stage:
        """The next stage: reweight to the next temperature, resample, move."""
        a = self.calib.abc
        n = len(cur.loglik)
        k = cur.stage + 1
        rng = np.random.default_rng([self.calib.seed, self.index, k])
        finite = np.isfinite(cur.loglik)
        ll = np.where(finite, cur.loglik, -np.inf)
        beta = _next_beta(np.where(finite, ll, np.min(ll[finite]) - 1e6), cur.beta, a["ess_fraction"] * n)
        logw = (beta - cur.beta) * ll
        top = np.max(logw)
        w = np.exp(logw - top)
        log_evidence = cur.log_evidence + float(top + np.log(w.mean()))
        w /= w.sum()
        ess = float(1.0 / np.sum(w**2))
        # at the final temperature (a stage of moves alone) the weights are equal: no resampling
        idx = np.arange(n) if beta == cur.beta else _systematic_resample(w, rng)
        u, ll, stats = cur.u[idx].copy(), ll[idx].copy(), cur.stats[idx].copy()
        chol = _cholesky(_covariance(u) + 1e-10 * np.eye(u.shape[1]))
        scale, accepted = cur.scale, 0
        sims_before = self.simulations
        for _ in range(a["moves_per_stage"]):
            proposal = _reflect(u + scale * fixed_order_dot(rng.standard_normal(u.shape), chol.T))
            p_stats, p_ll = self.simulate(proposal)
            accept = np.log(rng.random(n)) < beta * (p_ll - ll)
            accept &= np.isfinite(p_ll)
            u[accept], ll[accept], stats[accept] = proposal[accept], p_ll[accept], p_stats[accept]
            rate = float(accept.mean())
            accepted += int(accept.sum())
            scale *= float(np.exp(rate - 0.25))
        return Stage(
            self.model,
            k,
            beta,
            log_evidence,
            u,
            ll,
            stats,
            ess,
            accepted / (n * a["moves_per_stage"]),
            self.simulations - sims_before,
            scale,
        )


def partial_database(out_dir: str | Path) -> Path:
    """Where a fit keeps its database while it runs (next to the result directory)."""
    out_dir = Path(out_dir)
    return out_dir.with_name(out_dir.name + ".smc.db")


def fit(
    calib: Calibration,
    db_path: Path,
    observed: dict[str, np.ndarray] | None = None,
    pool: Pool | None = None,
    backend: str = "processes",
    workers: int | None = None,
    say=lambda msg: None,
) -> dict[str, list[Stage]]:
    """Run (or continue) the sampler of every model; returns model -> its stages, stored in ``db_path``.

    A stored fit (same settings) is continued from its last stage. The fit stops between stages
    at ``max_walltime_minutes`` or ``max_stages``; the stages reached are stored and a rerun
    with ``--resume`` continues them.
    """
    if pool is None:
        with open_executor(backend, workers) as own:
            return fit(calib, db_path, observed, pool=own, say=say)
    os.environ.update(SINGLE_THREAD_ENV)
    observed = observed_statistics() if observed is None else observed
    store = SamplerStore(db_path)
    try:
        settings = _fit_settings(calib, observed)
        stored = store.settings()
        if stored is None:
            store.set_settings(settings)
        elif stored != settings:
            diff = sorted(k for k in settings if stored.get(k) != settings[k])
            raise CalibrationError(
                f"{calib.path}: the stored fit {db_path} was made with other settings ({', '.join(diff)} differ); "
                "start again with --overwrite"
            )
        deadline = time.monotonic() + 60.0 * calib.abc["max_walltime_minutes"]
        out = {}
        for m in calib.models:
            sampler = Sampler(calib, m, observed, pool)
            stages = store.stages(m, len(sampler.names))
            if not stages:
                stages = [sampler.start()]
                store.save(stages[0])
            while (
                wants_stage(stages, calib.abc) and len(stages) < calib.abc["max_stages"] and time.monotonic() < deadline
            ):
                stages.append(sampler.step(stages[-1]))
                store.save(stages[-1])
                s = stages[-1]
                say(
                    f"{m}: stage {s.stage}, temperature {1 / s.beta:.3g}, ESS {s.ess:.0f}, "
                    f"acceptance {s.acceptance:.2f}, {s.simulations} runs"
                )
            out[m] = stages
        return out
    finally:
        store.close()
