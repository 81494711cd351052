"""Calibration of the free parameters to the Turkestan survey: tempered SMC with an exact likelihood.

A calibration file (``experiments/calibration_turkestan.toml``) declares everything that is
chosen; nothing is chosen in code::

    name = "calibration_turkestan"
    scenario = "../scenarios/turkestan.toml"   # relative to this file, else to the repo
    seed = 20261127
    models = ["fitted", "partnership", "symbiotic"]

    [model]                 # scenario parameters for the fit's runs (their size)
    firms = 2000

    [priors]                # free scenario parameter -> prior (uniform, inside the declared range)
    moral_cost = { distribution = "uniform", low = 0.001, high = 0.05 }
    symbiosis  = { distribution = "uniform", low = 0.0, high = 1.0 }

    [likelihood]            # the likelihood's own free parameter
    overdispersion = { distribution = "uniform", low = 0.001, high = 0.3 }

    [smc]                   # the sampler's settings
    population_size = 100
    ...
    [quick]                 # smaller settings for --quick: tables [quick.model], [quick.smc]

Models
------
``fitted``: the symbiosis index s is a free parameter with the prior in ``[priors]``; the
posterior of s is the answer to "which model describes Turkestan?". ``partnership`` (s = 0)
and ``symbiotic`` (s = 1): the same free parameters with s fixed. Each model has its own
sampler; their evidences (marginal likelihoods) give the models' posterior probabilities
under equal prior probabilities.

Data and likelihood
-------------------
The fitted data are the counts of the *total* rows of Tables 5-9 (Table 6: each utility's row),
198 residents and 58 entrepreneurs: 18 degrees of freedom. The simulated survey is asked at
the stationary state (after the scenario's burn-in, ``docs/ODD.md``), and its expected shares
are the design-weighted population shares (each cohort's quota of the paper's sample times the
cohort's population shares, ``survey.expected_tables``). The samples are convenience online
samples, whose answers cluster more than a simple random sample's would. The likelihood is
Dirichlet-multinomial,

    y_row ~ DM(n_row, alpha = p_row (1 - rho) / rho),

with p_row the simulated shares (floored at ``share_floor`` and renormalised) and rho the
intra-class correlation (``overdispersion``, fitted): the variance of a count is
n p (1 - p) (1 + (n - 1) rho), a design effect of 1 + (n - 1) rho; rho -> 0 is the multinomial.
The age-cohort rows are held out: they are not in the likelihood and are the validation.

The sampler
-----------
:class:`Sampler`: tempered sequential Monte Carlo (Chopin 2002; Del Moral, Doucet & Jasra
2006) from the prior to prior x likelihood, with random-walk Metropolis moves that run the
model at each proposal. The likelihood of a particle is an estimate from one run (the shares
carry a small simulation noise); keeping it with the particle makes the moves
pseudo-marginal (Andrieu & Roberts 2009), so the final stage samples the posterior of this
likelihood. An approximate Bayesian computation with a tolerance (the first version's pyabc
ABC-SMC) was dropped: with an explicit likelihood, its acceptance at the exact posterior
(temperature 1 with pyabc's stochastic acceptor) fell to about 2% of runs.

Seeds, parallel runs, restart
-----------------------------
Each run's seed derives from the calibration's seed, the model and the parameter values, so
parameters -> statistics is a deterministic function; every draw of the sampler comes from
(seed, model, stage). Runs go through the project's evaluator (``runs/evaluator.py``: serial,
processes, Dask or MPI) and are put back in particle order: the fit is the same on every
backend and number of workers. Every stage is stored as soon as it is done, in
``<out>.smc.db`` while the fit runs (``smc.db`` in the result at the end); ``--resume``
continues an interrupted fit from its last stage (or a finished one with a raised
``max_stages``), and gives the same result as a fit run straight through.

Diagnostics
-----------
generations.csv (temperature, ESS, move acceptance, runs and log evidence per model and
stage), ppc.csv (posterior predictive p-value per table and model), predictive.csv and
coverage.csv (90% predictive intervals of the fitted totals and the held-out cohort cells),
recovery.csv (synthetic data from posterior draws, refitted by importance reweighting:
coverage, shrinkage and recovery per parameter), horizon.csv (the fitted statistics at the
fit's horizon and with twice its burn-in).

Outputs (one directory, written atomically: a temporary sibling renamed at the end)
--------------------------------------------------------------------------------
smc.db, posterior.csv (``simulation.posterior``), posterior_summary.csv, the diagnostics above,
figures, manifest.json. At the default size with the paper's data also
``scenarios/<scenario>_calibrated.toml`` (posterior medians of the fitted model) and a copy of
the small files in ``docs/calibration/``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import gammaln

from .formulas import fixed_order_dot
from .io import (
    REPO_ROOT,
    atomic_write_text,
    check_name,
    check_replaceable,
    check_writable,
    git_commit,
    json_text,
    load_toml,
    lock_hash,
    model_version,
    package_versions,
    result_dir,
    result_lock,
    staged_directory,
    suggest,
)
from .machine import fingerprint as machine_fingerprint
from .posterior import LIKELIHOOD, write_posterior_rows
from .runs.evaluator import SINGLE_THREAD_ENV, Pool, default_workers, open_executor
from .scenario import BY_NAME, SECTIONS, Scenario, ScenarioError, load_scenario, resolve
from .survey import COHORTS, TABLES, expected_tables, observed_tables, table_labels

#: The paper's sample size behind each fitted row (Table 6: each utility's row).
SAMPLE_SIZE = {"table5": 198, "table6": 198, "table7": 58, "table8": 58, "table9": 58}
#: Tables with an age-cohort breakdown in the paper (held out of the fit).
COHORT_TABLES = ("table5", "table7", "table8", "table9")
#: The models a calibration can compare: s free ("fitted"), or fixed at an end of the index.
MODELS: dict[str, float | None] = {"fitted": None, "partnership": 0.0, "symbiotic": 1.0}
#: Keys of a calibration file and of its tables, with their defaults.
TOP_KEYS = ("name", "description", "scenario", "seed", "models", "model", "priors", "likelihood", "smc", "quick")
ABC_DEFAULTS: dict[str, Any] = {
    "population_size": 100,
    "moves_per_stage": 2,
    "ess_fraction": 0.5,
    "max_stages": 40,
    "max_walltime_minutes": 60.0,
    "share_floor": 0.005,
    "predictive_draws": 400,
    "surveys_per_draw": 5,
    "recovery_datasets": 100,
}
ABC_INT = (
    "population_size",
    "moves_per_stage",
    "max_stages",
    "predictive_draws",
    "surveys_per_draw",
    "recovery_datasets",
)
ABC_LIMITS = {
    "population_size": (4, 100000),
    "moves_per_stage": (1, 100),
    "ess_fraction": (0.05, 0.95),
    "max_stages": (1, 1000),
    "max_walltime_minutes": (0.05, 10000.0),
    "share_floor": (1e-9, 0.1),
    "predictive_draws": (2, 100000),
    "surveys_per_draw": (1, 1000),
    "recovery_datasets": (0, 100000),
}
#: The likelihood's parameters: allowed range of their priors.
LIKELIHOOD_RANGE = {"overdispersion": (1e-6, 0.9)}
DISTRIBUTIONS = ("uniform",)
#: Colour-blind-safe colours (Okabe-Ito) for the models and observed data.
COLOURS = {
    "fitted": "#009E73",
    "partnership": "#0072B2",
    "symbiotic": "#D55E00",
    "observed": "#000000",
    "interval": "#56B4E9",
}
#: The floor of simulated shares in the likelihood and the predictive checks (the shipped file's ``share_floor``).
SHARE_FLOOR = 0.005
#: Where the record of the shipped calibration is kept (small files, no database).
RECORD_DIR = REPO_ROOT / "docs" / "calibration"
RECORD_FILES = (
    "posterior.csv",
    "posterior_summary.csv",
    "generations.csv",
    "ppc.csv",
    "predictive.csv",
    "coverage.csv",
    "recovery.csv",
    "horizon.csv",
    "posterior_marginals.png",
    "fit_totals.png",
    "fit_cohorts.png",
    "diagnostics.png",
    "manifest.json",
    "README.md",
)


class CalibrationError(ScenarioError):
    """A calibration file is invalid; the message is one line naming file, key and what is allowed."""


# --------------------------------------------------------------------------- the calibration file


@dataclass
class Calibration:
    """A validated calibration file (with the ``[quick]`` settings applied if asked)."""

    name: str
    path: str
    scenario: Scenario
    seed: int
    models: list[str]
    model: dict[str, Any]
    priors: dict[str, tuple[float, float]]
    likelihood: dict[str, tuple[float, float]]
    abc: dict[str, Any]
    quick: bool = False
    description: str = ""
    base_explicit: dict[str, Any] = field(default_factory=dict)

    def model_priors(self, model: str) -> dict[str, tuple[float, float]]:
        """The free parameters of ``model`` and their uniform priors: scenario parameters, then the likelihood's."""
        scen = {k: v for k, v in self.priors.items() if not (k == "symbiosis" and MODELS[model] is not None)}
        return scen | self.likelihood

    def free(self) -> list[str]:
        """Every free parameter of the fitted model (s included when fitted), then the likelihood's."""
        return list(self.priors) + list(self.likelihood)

    def run_parameters(self, model: str, values: dict[str, float]) -> dict[str, Any]:
        """The full parameter set of one fit run: scenario < fit size < particle values < the model's fixed s."""
        fixed = {} if MODELS[model] is None else {"symbiosis": MODELS[model]}
        scen = {k: v for k, v in values.items() if k not in LIKELIHOOD}
        explicit = dict(self.base_explicit) | self.model | scen | fixed
        return resolve(explicit, f"{self.path} (run)")


def _number(origin: str, key: str, value: Any, integer: bool, low: float, high: float) -> float | int:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
    if ok and integer:
        ok = float(value).is_integer()
    if not ok or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise CalibrationError(f"{origin}: '{key}' = {value!r} is not allowed; expected {kind} in [{low:g}, {high:g}]")
    return int(value) if integer else float(value)


def _abc_settings(origin: str, table: Any, base: dict[str, Any], prefix: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise CalibrationError(f"{origin}: '{prefix}' must be a table of sampler settings")
    out = dict(base)
    for key, value in table.items():
        if key not in ABC_DEFAULTS:
            raise CalibrationError(
                f"{origin}: unknown key '{prefix}.{key}'{suggest(key, ABC_DEFAULTS)}; "
                f"expected one of {', '.join(ABC_DEFAULTS)}"
            )
        low, high = ABC_LIMITS[key]
        out[key] = _number(origin, f"{prefix}.{key}", value, key in ABC_INT, low, high)
    return out


def _model_settings(origin: str, table: Any, prefix: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise CalibrationError(f"{origin}: '{prefix}' must be a table of scenario parameters")
    for key in table:
        if key not in BY_NAME:
            raise CalibrationError(f"{origin}: unknown parameter '{prefix}.{key}'{suggest(key, BY_NAME)}")
        if key in ("governance", "symbiosis"):
            raise CalibrationError(
                f"{origin}: '{prefix}.{key}' is not allowed; the models in the top-level 'models' set s"
            )
    return dict(table)


def _uniform(origin: str, key: str, spec: Any, low: float, high: float) -> tuple[float, float]:
    if not isinstance(spec, dict):
        raise CalibrationError(
            f"{origin}: '{key}' = {spec!r} is not allowed; "
            f'expected {{ distribution = "uniform", low = .., high = .. }}'
        )
    unknown = set(spec) - {"distribution", "low", "high"}
    if unknown:
        raise CalibrationError(f"{origin}: unknown key '{key}.{sorted(unknown)[0]}'; expected distribution, low, high")
    dist = spec.get("distribution", "uniform")
    if dist not in DISTRIBUTIONS:
        raise CalibrationError(
            f"{origin}: '{key}.distribution' = {dist!r} is not allowed; "
            f"expected one of {', '.join(map(repr, DISTRIBUTIONS))}"
        )
    for bound in ("low", "high"):
        if bound not in spec:
            raise CalibrationError(f"{origin}: '{key}' has no '{bound}'")
    lo = _number(origin, f"{key}.low", spec["low"], False, low, high)
    hi = _number(origin, f"{key}.high", spec["high"], False, low, high)
    if not lo < hi:
        raise CalibrationError(f"{origin}: '{key}' is not allowed; expected low < high (got {lo:g}, {hi:g})")
    return lo, hi


def _priors(origin: str, table: Any) -> dict[str, tuple[float, float]]:
    if not isinstance(table, dict) or not table:
        raise CalibrationError(
            f"{origin}: 'priors' must be a non-empty table: "
            f'parameter = {{ distribution = "uniform", low = .., high = .. }}'
        )
    out = {}
    for name, spec in table.items():
        key = f"priors.{name}"
        if name not in BY_NAME:
            raise CalibrationError(f"{origin}: '{key}' is not a scenario parameter{suggest(name, BY_NAME)}")
        param = BY_NAME[name]
        if param.kind is not float:
            raise CalibrationError(
                f"{origin}: '{key}' is not allowed; only real-valued parameters can be fitted "
                f"({name} is {param.allowed()})"
            )
        out[name] = _uniform(origin, key, spec, param.low, param.high)
    return out


def _likelihood(origin: str, table: Any) -> dict[str, tuple[float, float]]:
    if not isinstance(table, dict):
        raise CalibrationError(f"{origin}: 'likelihood' must be a table: overdispersion = {{ low = .., high = .. }}")
    for key in table:
        if key not in LIKELIHOOD_RANGE:
            raise CalibrationError(
                f"{origin}: unknown key 'likelihood.{key}'{suggest(key, LIKELIHOOD_RANGE)}; expected one of "
                f"{', '.join(LIKELIHOOD_RANGE)}"
            )
    for key in LIKELIHOOD_RANGE:
        if key not in table:
            raise CalibrationError(f"{origin}: missing 'likelihood.{key}' (the prior of the survey's overdispersion)")
    return {k: _uniform(origin, f"likelihood.{k}", table[k], *LIKELIHOOD_RANGE[k]) for k in LIKELIHOOD_RANGE}


def load_calibration(path: str | Path, quick: bool = False) -> Calibration:
    """Read and validate a calibration file; ``quick`` applies its ``[quick]`` tables.

    Raises:
        CalibrationError: missing or malformed file, unknown key, bad prior or setting (one line).
    """
    path = Path(path)
    origin = str(path)
    raw, _ = load_toml(path, "calibration", CalibrationError)
    for key in raw:
        if key not in TOP_KEYS:
            raise CalibrationError(
                f"{origin}: unknown key '{key}'{suggest(key, TOP_KEYS)}; expected {', '.join(TOP_KEYS)}"
            )
    for key in ("scenario", "priors", "likelihood"):
        if key not in raw:
            raise CalibrationError(f"{origin}: missing '{key}'")
    name = raw.get("name", path.stem)
    description = raw.get("description", "")
    if "name" in raw:
        check_name(name, origin, error=CalibrationError)
    if not isinstance(description, str):
        raise CalibrationError(f"{origin}: 'description' = {description!r} is not allowed; expected a string")
    seed = _number(origin, "seed", raw.get("seed", 0), True, 0, 2**32 - 1)
    models = raw.get("models", ["fitted"])
    if isinstance(models, str):
        models = [models]
    if (
        not isinstance(models, list)
        or not models
        or len(set(models)) != len(models)
        or any(m not in MODELS for m in models)
    ):
        raise CalibrationError(
            f"{origin}: 'models' = {models!r} is not allowed; expected a list of distinct values from "
            f"{', '.join(map(repr, MODELS))}"
        )

    scen_ref = raw["scenario"]
    if not isinstance(scen_ref, str):
        raise CalibrationError(
            f"{origin}: 'scenario' = {scen_ref!r} is not allowed; expected a path to a scenario file"
        )
    scen_path = Path(os.path.normpath(path.parent / scen_ref))
    if not scen_path.is_file() and Path(scen_ref).is_file():
        scen_path = Path(scen_ref)
    if not scen_path.is_file():
        raise CalibrationError(f"{origin}: 'scenario' = {scen_ref!r}: scenario file not found")
    scenario = load_scenario(scen_path)

    model = _model_settings(origin, raw.get("model", {}), "model")
    abc = _abc_settings(origin, raw.get("smc", {}), ABC_DEFAULTS, "smc")
    priors = _priors(origin, raw["priors"])
    likelihood = _likelihood(origin, raw["likelihood"])
    if "fitted" in models and "symbiosis" not in priors:
        raise CalibrationError(f"{origin}: model 'fitted' needs a prior for 'symbiosis' (priors.symbiosis)")
    if "fitted" not in models and "symbiosis" in priors:
        raise CalibrationError(
            f"{origin}: 'priors.symbiosis' is not allowed without the model 'fitted'; the models "
            f"{', '.join(models)} fix s"
        )
    quick_table = raw.get("quick", {})
    if not isinstance(quick_table, dict):
        raise CalibrationError(f"{origin}: 'quick' must be a table with optional tables 'model' and 'smc'")
    for key in quick_table:
        if key not in ("model", "smc"):
            raise CalibrationError(f"{origin}: unknown key 'quick.{key}'; expected model, smc")
    quick_model = _model_settings(origin, quick_table.get("model", {}), "quick.model")
    quick_abc = _abc_settings(origin, quick_table.get("smc", {}), abc, "quick.smc")
    for fixed in (model, model | quick_model):  # types and ranges as in a scenario file, [quick.model] too
        try:
            resolve((scenario.explicit or {}) | fixed, origin)
        except ScenarioError as err:
            raise CalibrationError(str(err)) from None
    if quick:
        model, abc = model | quick_model, quick_abc
    for key in model:
        if key in priors:
            raise CalibrationError(f"{origin}: '{key}' is both fixed in 'model' and fitted in 'priors'")
    calib = Calibration(
        name,
        origin,
        scenario,
        seed,
        list(models),
        model,
        priors,
        likelihood,
        abc,
        quick,
        description,
        dict(scenario.explicit or {}),
    )
    for m in calib.models:  # every combination must resolve (e.g. budget shares at the priors' corners)
        corner = {k: hi for k, (lo, hi) in calib.model_priors(m).items()}
        try:
            calib.run_parameters(m, corner)
        except ScenarioError as err:
            raise CalibrationError(f"{origin}: the priors' upper corner is not a valid scenario: {err}") from None
    return calib


# --------------------------------------------------------------------------- data, statistics and likelihood


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


def log_likelihood(
    simulated: dict[str, np.ndarray], observed: dict[str, np.ndarray], rho: float, floor: float
) -> float:
    """The Dirichlet-multinomial log likelihood of the observed totals (counts = shares x the paper's
    row sizes) under the simulated shares: the sum over Tables 5-9 (Table 6 per utility)."""
    sizes = row_sizes()
    total = 0.0
    for t in TABLES:
        sim = _rows(t, simulated[t])
        if not np.all(np.isfinite(sim)):
            return -math.inf
        total += float(dm_logpmf(_rows(t, observed[t]) * sizes[t][:, None], sim, rho, floor).sum())
    return total


def particle_seed(seed: int, model: str, values: dict[str, float]) -> int:
    """A run's seed from the calibration's seed and the particle (same particle, same run)."""
    text = repr((model, sorted((k, float(v)) for k, v in values.items() if k not in LIKELIHOOD)))
    return int(np.random.SeedSequence([seed, zlib.crc32(text.encode())]).generate_state(1)[0])


def run_survey_model(params: dict[str, Any], seed: int, surveys: int = 0) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Run the model to its end and survey it: the statistics, and ``surveys`` sample tables."""
    from .model import StateBusinessModel
    from .survey import simulate_survey

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


# --------------------------------------------------------------------------- the sampler: tempered SMC

#: The statistics of one run, in a fixed order, and the length of each.
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
    keep = ("population_size", "moves_per_stage", "ess_fraction", "share_floor")
    data = zlib.crc32(np.concatenate([np.asarray(observed[t], dtype=float).ravel() for t in TABLES]).tobytes())
    return {
        "seed": calib.seed,
        "models": calib.models,
        "model": calib.model,
        "priors": {k: list(v) for k, v in (calib.priors | calib.likelihood).items()},
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
    Every random draw comes from (seed, model, stage, move); runs are seeded by their parameters.
    """

    def __init__(self, calib: Calibration, model: str, observed: dict[str, np.ndarray], pool: Pool):
        self.calib, self.model, self.observed, self.pool = calib, model, observed, pool
        self.priors = calib.model_priors(model)
        self.names = list(self.priors)
        self.low = np.array([lo for lo, _ in self.priors.values()])
        self.width = np.array([hi - lo for lo, hi in self.priors.values()])
        self.index = list(MODELS).index(model)
        self.simulations = 0

    def values(self, u: np.ndarray) -> list[dict[str, float]]:
        """Parameter values of particles on the unit cube."""
        x = self.low + u * self.width
        return [dict(zip(self.names, map(float, row))) for row in x]

    def simulate(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run the model at every particle: (statistics, log likelihoods); the same on every backend."""
        from .runs.evaluator import evaluate

        tasks = []
        for i, v in enumerate(self.values(u)):
            params = self.calib.run_parameters(self.model, v)
            seed = particle_seed(self.calib.seed, self.model, v)
            tasks.append((i, _survey_task, params, seed, params["steps"], ()))
        stats = np.full((len(tasks), sum(STAT_SIZES.values())), np.nan)
        for i, row in evaluate(tasks, self.pool.executor, self.pool.window, restart=self.pool.restart):
            if not row.get("error"):
                stats[i] = json.loads(row["stats"])
        self.simulations += len(tasks)
        return stats, self.loglik(u, stats)

    def loglik(self, u: np.ndarray, stats: np.ndarray) -> np.ndarray:
        """Each particle's log likelihood (its overdispersion from its own values)."""
        rho = self.low[-1] + u[:, -1] * self.width[-1]  # the likelihood's parameter is the last
        floor = self.calib.abc["share_floor"]
        return np.array([log_likelihood(stat_dict(s), self.observed, r, floor) for s, r in zip(stats, rho)])

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
        idx = _systematic_resample(w, rng)
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
            while stages[-1].beta < 1.0 and len(stages) < calib.abc["max_stages"] and time.monotonic() < deadline:
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


# --------------------------------------------------------------------------- the posterior


@dataclass
class ModelPosterior:
    """One model's final particles: values (particles x free parameters, in ``names`` order),
    normalised weights and each particle's statistics."""

    model: str
    generation: int
    names: list[str]
    values: np.ndarray
    weights: np.ndarray
    stats: list[dict[str, np.ndarray]]
    beta: float = 1.0
    log_evidence: float = 0.0

    def ess(self) -> float:
        """Kish's effective sample size."""
        return float(1.0 / np.sum(self.weights**2))

    def column(self, name: str) -> np.ndarray:
        """One parameter's values over the particles."""
        return self.values[:, self.names.index(name)]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles ``q`` of ``values`` under ``weights`` (midpoint rule on the weighted CDF)."""
    order = np.argsort(values)
    v, w = np.asarray(values, dtype=float)[order], np.asarray(weights, dtype=float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)


def posterior(stages: dict[str, list[Stage]], calib: Calibration) -> dict[str, ModelPosterior]:
    """model -> its last stage's particles (equal weights after the moves)."""
    out = {}
    for m, st in stages.items():
        last = st[-1]
        names = list(calib.model_priors(m))
        lo = np.array([a for a, _ in calib.model_priors(m).values()])
        width = np.array([b - a for a, b in calib.model_priors(m).values()])
        n = len(last.loglik)
        out[m] = ModelPosterior(
            m,
            last.stage,
            names,
            lo + last.u * width,
            np.full(n, 1.0 / n),
            [stat_dict(s) for s in last.stats],
            last.beta,
            last.log_evidence,
        )
    return out


def model_probabilities(post: dict[str, ModelPosterior]) -> dict[str, float]:
    """Posterior model probabilities from the log evidences (equal prior probabilities; NaN if any
    model's sampler did not reach the posterior)."""
    if any(mp.beta < 1.0 for mp in post.values()):
        return {m: float("nan") for m in post}
    z = np.array([mp.log_evidence for mp in post.values()])
    p = np.exp(z - z.max())
    return dict(zip(post, map(float, p / p.sum())))


def generations(stages: dict[str, list[Stage]]):
    """Per model and stage: inverse temperature, temperature, ESS, acceptance, runs and log evidence."""
    import pandas as pd

    rows = [
        {
            "model": m,
            "stage": s.stage,
            "beta": s.beta,
            "temperature": 1.0 / s.beta if s.beta > 0 else float("inf"),
            "ess": s.ess,
            "acceptance": s.acceptance,
            "simulations": s.simulations,
            "log_evidence": s.log_evidence,
        }
        for m, st in stages.items()
        for s in st
    ]
    return pd.DataFrame(rows)


def posterior_table(post: dict[str, ModelPosterior], calib: Calibration) -> str:
    """The posterior file's text (``simulation.posterior``): every model's particles, s included."""
    names = calib.free()
    models = {}
    for m, mp in post.items():
        cols = [
            mp.column(k) if k in mp.names else np.full(len(mp.weights), MODELS[m] if k == "symbiosis" else np.nan)
            for k in names
        ]
        models[m] = (names, np.stack(cols, axis=1), mp.weights)
    return write_posterior_rows(models)


def posterior_summary(post: dict[str, ModelPosterior], calib: Calibration):
    """Per model and parameter: weighted mean, median, 5% and 95% quantiles, and the 90% interval's
    width over the prior's (identifiability: near 1, the data say little about the parameter)."""
    import pandas as pd

    rows = []
    for m, mp in post.items():
        for name, (lo, hi) in calib.model_priors(m).items():
            v = mp.column(name)
            q05, q50, q95 = weighted_quantile(v, mp.weights, [0.05, 0.5, 0.95])
            rows.append(
                {
                    "model": m,
                    "parameter": name,
                    "mean": float(np.average(v, weights=mp.weights)),
                    "median": q50,
                    "q05": q05,
                    "q95": q95,
                    "prior_low": lo,
                    "prior_high": hi,
                    "ci90_width_over_prior": (q95 - q05) / (hi - lo),
                    "particles": len(v),
                    "generation": mp.generation,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- posterior predictive checks


def _observed_counts() -> dict[str, np.ndarray]:
    """The paper's counts: the fitted rows (Table 6 per utility, else the total) and the cohort rows."""
    obs = {t: np.asarray(v, dtype=float) for t, v in observed_tables().items()}
    out = {t: (obs[t] if t == "table6" else obs[t].sum(axis=0, keepdims=True)) for t in TABLES}
    out |= {f"{t}_cohorts": obs[t] for t in COHORT_TABLES}
    return out


def _shares_rows(key: str, stats: dict[str, np.ndarray]) -> np.ndarray:
    table = key.split("_")[0]
    k = 3 if table != "table5" else 5
    return np.asarray(stats[key], dtype=float).reshape(-1, k)


def _draws(mp: ModelPosterior, n: int, rng: np.random.Generator) -> np.ndarray:
    ok = np.array([all(np.all(np.isfinite(v)) for v in s.values()) for s in mp.stats])
    w = np.where(ok, mp.weights, 0.0)
    return rng.choice(len(w), size=n, p=w / w.sum())


def predictive_checks(post: dict[str, ModelPosterior], calib: Calibration, observed=None):
    """Posterior predictive checks of every model, from its particles' stored statistics (no new runs).

    For ``predictive_draws`` weighted draws of particles and ``surveys_per_draw`` replicated surveys
    each (Dirichlet-multinomial with the particle's overdispersion, the paper's row sizes; the cohort
    rows with the paper's cohort sizes), returns ``(ppc, cells)``:
    - ppc: per model and table, the posterior predictive p-value of the discrepancy
      T = -log DM(counts | shares, rho) (the share of replicates at least as discrepant as the
      paper's counts: small = the model cannot reproduce the table);
    - cells: per model and cell, the observed count, the predictive median and 90% interval.
    """
    import pandas as pd

    floor = calib.abc["share_floor"]
    counts = _observed_counts() if observed is None else observed
    keys = list(TABLES) + [f"{t}_cohorts" for t in COHORT_TABLES]
    ppc_rows, cell_rows = [], []
    for m, mp in post.items():
        rng = np.random.default_rng([calib.seed, 3, list(MODELS).index(m)])
        picks = _draws(mp, calib.abc["predictive_draws"], rng)
        reps = calib.abc["surveys_per_draw"]
        rho = mp.column("overdispersion")
        sims = {k: [] for k in keys}
        worse = {t: 0 for t in TABLES}
        for i in picks:
            for key in keys:
                p = _shares_rows(key, mp.stats[i])
                n = counts[key].sum(axis=1)
                for _ in range(reps):
                    y = np.stack([predictive_counts(p[r], n[r], rho[i], rng, floor) for r in range(len(n))])
                    sims[key].append(y)
                    if key in worse:
                        t_rep = -dm_logpmf(y, p, rho[i], floor).sum()
                        t_obs = -dm_logpmf(counts[key], p, rho[i], floor).sum()
                        worse[key] += int(t_rep >= t_obs)
        total = len(picks) * reps
        for t in TABLES:
            ppc_rows.append({"model": m, "table": t, "p_value": worse[t] / total, "replicates": total})
        for key in keys:
            table = key.split("_")[0]
            kind = "cohort" if key.endswith("_cohorts") else "total"
            row_labels, col_labels = table_labels(table)
            arr = np.stack(sims[key])  # replicates x rows x answers
            for r in range(arr.shape[1]):
                label = COHORTS[r] if kind == "cohort" else (row_labels[r] if table == "table6" else "Total")
                for c in range(arr.shape[2]):
                    lo, med, hi = np.quantile(arr[:, r, c], [0.05, 0.5, 0.95], method="inverted_cdf")
                    o = counts[key][r, c]
                    cell_rows.append(
                        {
                            "model": m,
                            "kind": kind,
                            "table": table,
                            "row": label,
                            "column": col_labels[c],
                            "observed": int(round(o)),
                            "median": float(med),
                            "q05": float(lo),
                            "q95": float(hi),
                            "inside": bool(lo <= o <= hi),
                        }
                    )
    return pd.DataFrame(ppc_rows), pd.DataFrame(cell_rows)


def coverage(cells):
    """Share of observed cells inside their 90% predictive intervals, per model, kind and table, and overall."""
    import pandas as pd

    rows = []
    for (m, kind), sub in cells.groupby(["model", "kind"], sort=False):
        for t, s in list(sub.groupby("table", sort=False)) + [("all", sub)]:
            rows.append(
                {
                    "model": m,
                    "kind": kind,
                    "table": t,
                    "cells": len(s),
                    "inside": int(s["inside"].sum()),
                    "share_inside": float(s["inside"].mean()),
                }
            )
    return pd.DataFrame(rows)


def recovery(post: dict[str, ModelPosterior], calib: Calibration, observed=None):
    """Recovery of known parameters from synthetic data, per model and free parameter.

    For ``recovery_datasets`` particles drawn from the posterior (the truths), a synthetic survey
    is drawn from the truth's simulated shares (Dirichlet-multinomial, the paper's sizes) and
    the posterior given it is computed by importance reweighting the particles,
    w_i * L(synthetic | particle i) / L(paper | particle i) (no new runs: a local check around
    the fit). Reported: how often the truth lies in the 90% interval (about 0.9 when the
    inference is calibrated), the 90% interval's width over the prior's (shrinkage), and the
    correlation of the posterior mean with the truth over the datasets (recovery: near 1 when
    the data pin the parameter down, near 0 when they do not).
    """
    import pandas as pd

    floor = calib.abc["share_floor"]
    counts = _observed_counts() if observed is None else observed
    sizes = row_sizes()
    rows = []
    for m, mp in post.items():
        k = calib.abc["recovery_datasets"]
        if k == 0:
            continue
        rng = np.random.default_rng([calib.seed, 4, list(MODELS).index(m)])
        rho = mp.column("overdispersion")
        ok = np.array([all(np.all(np.isfinite(s[t])) for t in TABLES) for s in mp.stats])

        def loglik(y: dict[str, np.ndarray], i: int, mp=mp, rho=rho) -> float:
            return sum(float(dm_logpmf(y[t], _rows(t, mp.stats[i][t]), rho[i], floor).sum()) for t in TABLES)

        base = np.array([loglik(counts, i) if ok[i] else -np.inf for i in range(len(ok))])
        truths = _draws(mp, k, rng)
        cover = {n: [] for n in mp.names}
        width = {n: [] for n in mp.names}
        pairs = {n: [] for n in mp.names}
        for j in truths:
            y = {
                t: np.stack(
                    [
                        predictive_counts(r, n, rho[j], rng, floor)
                        for r, n in zip(_rows(t, mp.stats[j][t]), sizes[t].astype(int))
                    ]
                )
                for t in TABLES
            }
            logw = np.log(np.maximum(mp.weights, 1e-300)) + np.array(
                [loglik(y, i) - base[i] if ok[i] else -np.inf for i in range(len(ok))]
            )
            w = np.exp(logw - logw.max())
            w /= w.sum()
            for n in mp.names:
                v = mp.column(n)
                lo, hi = weighted_quantile(v, w, [0.05, 0.95])
                cover[n].append(lo <= v[j] <= hi)
                p_lo, p_hi = calib.model_priors(m)[n]
                width[n].append((hi - lo) / (p_hi - p_lo))
                pairs[n].append((v[j], float(np.average(v, weights=w))))
        for n in mp.names:
            truth, mean = np.array(pairs[n]).T
            corr = _correlation(truth, mean)
            rows.append(
                {
                    "model": m,
                    "parameter": n,
                    "datasets": k,
                    "coverage_90": float(np.mean(cover[n])),
                    "width_over_prior": float(np.mean(width[n])),
                    "truth_mean_correlation": corr,
                }
            )
    return pd.DataFrame(rows)


def horizon_check(calib: Calibration, post: dict[str, ModelPosterior], pool: Pool, seeds: int = 2):
    """The fitted statistics at the posterior median of the first model, at the fit's horizon and
    with twice its burn-in (``seeds`` runs each): at the stationary state they agree within the
    runs' own noise. Returns per table the mean shares' largest difference and the seed noise."""
    import pandas as pd

    from .runs.evaluator import evaluate

    m = next(iter(post))
    mp = post[m]
    median = {n: float(weighted_quantile(mp.column(n), mp.weights, 0.5)) for n in mp.names}
    base = calib.run_parameters(m, median)
    tasks = []
    for h, burn in enumerate((base["burn_in"], 2 * base["burn_in"])):
        for s in range(seeds):
            seed = int(np.random.SeedSequence([calib.seed, 5, s]).generate_state(1)[0])
            tasks.append((h * seeds + s, _horizon_task, base | {"burn_in": burn}, seed, base["steps"], ()))
    results = dict(evaluate(tasks, pool.executor, pool.window))
    rows = []
    for t in TABLES:
        runs = {h: [np.asarray(json.loads(results[h * seeds + s]["stats"])[t]) for s in range(seeds)] for h in (0, 1)}
        diff = np.abs(np.mean(runs[1], axis=0) - np.mean(runs[0], axis=0)).max()
        noise = float(np.max(np.std(np.concatenate([runs[0], runs[1]]), axis=0, ddof=1)))
        rows.append(
            {
                "table": t,
                "model": m,
                "burn_in": base["burn_in"],
                "burn_in_doubled": 2 * base["burn_in"],
                "largest_share_difference": float(diff),
                "seed_sd": noise,
            }
        )
    return pd.DataFrame(rows)


def _horizon_task(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One run for the horizon check (a task for ``runs.evaluator``): its statistics as JSON."""
    stats, _ = run_survey_model(params, seed)
    return {"stats": json.dumps({t: stats[t].tolist() for t in TABLES})}


# --------------------------------------------------------------------------- figures


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_marginals(post: dict[str, ModelPosterior], calib: Calibration, path: Path) -> None:
    """Each free parameter's posterior marginal per model (weighted histograms) into ``path``."""
    plt = _pyplot()
    names = calib.free()
    ncol = min(4, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.6 * nrow + 0.6), squeeze=False)
    for ax, name in zip(axes.flat, names):
        lo, hi = (calib.priors | calib.likelihood)[name]
        bins = np.linspace(lo, hi, 21)
        for m, mp in post.items():
            if name in mp.names:
                ax.hist(
                    mp.column(name), bins=bins, weights=mp.weights, histtype="step", lw=1.8, color=COLOURS[m], label=m
                )
        ax.axhline(1 / 20, color="grey", ls=":", lw=1, label="prior (uniform)")
        ax.set_xlim(lo, hi)
        unit = BY_NAME[name].unit if name in BY_NAME else "intra-class correlation"
        ax.set_xlabel(f"{name} [{unit}]" if unit else name, fontsize=8)
        ax.set_ylabel("posterior mass per bin", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    handles = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(f"Posterior marginals ({calib.name}; final generation, weighted)", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    fig.savefig(path, dpi=90)
    plt.close(fig)


#: Short answer labels for the figures' axes.
SHORT = {
    "Satisfied partially": "partially",
    "Does not affect (dissatisfied)": "does not affect",
    "Yes, constantly": "constantly",
}


def plot_fit(cells, kind: str, title: str, path: Path) -> None:
    """Observed counts against their predictive medians and 90% intervals (cells of ``kind``) into ``path``."""
    plt = _pyplot()
    sub = cells[cells["kind"] == kind]
    tables = list(dict.fromkeys(sub["table"]))
    fig, axes = plt.subplots(1, len(tables), figsize=(3.3 * len(tables) + 0.5, 4.2), squeeze=False)
    for ax, t in zip(axes.flat, tables):
        s = sub[sub["table"] == t].reset_index(drop=True)
        y = np.arange(len(s))[::-1]
        ax.hlines(y, s["q05"], s["q95"], color=COLOURS["interval"], lw=5, label="predictive 90% interval")
        ax.plot(s["median"], y, "|", color=COLOURS["partnership"], ms=10, mew=2, label="predictive median")
        inside = s["inside"].to_numpy()
        ax.plot(s["observed"][inside], y[inside], "o", color=COLOURS["observed"], ms=4, label="observed (inside)")
        ax.plot(
            s["observed"][~inside], y[~inside], "x", color=COLOURS["symbiotic"], ms=6, mew=2, label="observed (outside)"
        )
        labels = [f"{r}: {SHORT.get(c, c)}" if r != "Total" else SHORT.get(c, c) for r, c in zip(s["row"], s["column"])]
        ax.set_yticks(y, labels, fontsize=6.5)
        ax.set_xlabel("respondents (count)", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        n = "198" if t in ("table5", "table6") else "58"
        ax.set_title(f"Table {t[-1]} (n = {n}): {int(inside.sum())}/{len(s)} inside", fontsize=8.5)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    fig.savefig(path, dpi=85)
    plt.close(fig)


def plot_diagnostics(gens, post: dict[str, ModelPosterior], calib: Calibration, path: Path) -> None:
    """Temperature, effective sample size and acceptance per stage and model, and the posterior of s."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.4))
    for m, g in gens.groupby("model", sort=False):
        g = g[g["stage"] > 0]
        axes[0].semilogy(g["stage"], g["temperature"], "o-", color=COLOURS[m], label=m)
        axes[1].plot(g["stage"], g["ess"], "o-", color=COLOURS[m], label=m)
        axes[2].plot(g["stage"], g["acceptance"], "o-", color=COLOURS[m], label=m)
    axes[0].axhline(1.0, color="grey", ls=":", lw=1)
    axes[0].set(xlabel="stage", ylabel="temperature 1/beta (1 = posterior)", title="Temperature")
    axes[1].set(xlabel="stage", ylabel="ESS before resampling", title="Effective sample size", ylim=(0, None))
    axes[2].set(xlabel="stage", ylabel="share of moves accepted", title="Move acceptance", ylim=(0, 1))
    axes[0].legend(fontsize=8)
    ax = axes[3]
    if "fitted" in post:
        mp = post["fitted"]
        ax.hist(mp.column("symbiosis"), bins=np.linspace(0, 1, 21), weights=mp.weights, color=COLOURS["fitted"])
        ax.axhline(1 / 20, color="grey", ls=":", lw=1, label="prior")
        q05, q50, q95 = weighted_quantile(mp.column("symbiosis"), mp.weights, [0.05, 0.5, 0.95])
        ax.set_title(f"s for Turkestan: median {q50:.2f}, 90% [{q05:.2f}, {q95:.2f}]", fontsize=9)
        ax.set(xlabel="symbiosis index s (0 partnership, 1 symbiotic)", ylabel="posterior mass per bin", xlim=(0, 1))
    else:
        ax.axis("off")
    for a in axes:
        a.tick_params(labelsize=8)
    probs = model_probabilities(post)
    text = ", ".join(f"P({m}) = {p:.3f}" for m, p in probs.items())
    fig.suptitle(f"Tempered SMC diagnostics ({calib.name}); model probabilities: {text}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


# --------------------------------------------------------------------------- the written summary


def _md_table(df, floatfmt: str = ".3g") -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        cells = [format(v, floatfmt) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary_markdown(manifest: dict[str, Any], summary, gens, ppc, cov, rec, horizon) -> str:
    """The calibration's result in words and tables (``README.md`` of the record)."""
    probs = manifest["model_probabilities"]
    sym = manifest["symbiosis"]
    lines = [
        f"# Calibration record: {manifest['calibration']}",
        "",
        f"Written by `{manifest['command'] or 'statebiz calibrate'}` on {manifest['finished']} "
        f"(git commit {manifest['git_commit']}); do not edit: rerun the calibration. Method: docs/ODD.md, "
        '4.12 "Calibration".',
        "",
        f"- Runs: {manifest['simulations']} in {manifest['fit_wall_time_seconds'] / 60:.1f} minutes "
        f"({manifest['workers']} workers, backend {manifest['backend']}); stages per model: "
        + ", ".join(f"{m} {k}" for m, k in manifest["stages"].items())
        + f"; every model reached the posterior (temperature 1): {manifest['exact_posterior']}.",
    ]
    if sym:
        lines.append(
            f"- **Which model describes Turkestan?** The symbiosis index s has posterior median "
            f"{sym['median']:.2f}, 90% interval [{sym['q05']:.2f}, {sym['q95']:.2f}] (uniform prior on [0, 1])."
        )
    lines.append(
        "- **Model probabilities** (equal prior probabilities, from the samplers' evidences): "
        + ", ".join(f"{m} {p:.3f}" for m, p in probs.items())
        + "."
    )
    if "partnership" in probs and "symbiotic" in probs and probs["symbiotic"] > 0:
        bf = probs["partnership"] / probs["symbiotic"]
        lines.append(f"- Bayes factor of s = 0 against s = 1: {bf:.3g}.")
    lines += ["", "## Posterior", "", _md_table(summary.drop(columns=["particles", "generation"]))]
    lines += ["", "## Posterior predictive p-values (per table; small = the table is not reproduced)", ""]
    lines.append(_md_table(ppc.pivot(index="table", columns="model", values="p_value").reset_index()))
    lines += ["", "## Coverage of 90% predictive intervals (fitted totals and held-out cohort cells)", ""]
    lines.append(_md_table(cov[cov["table"] == "all"][["model", "kind", "cells", "inside", "share_inside"]]))
    lines += ["", "By table:", "", _md_table(cov[cov["table"] != "all"])]
    lines += ["", "## Recovery on synthetic data (importance reweighting of the final particles)", ""]
    lines.append(_md_table(rec))
    lines += ["", "## Sampler, per model and stage", "", _md_table(gens)]
    lines += ["", "## Stationarity of the fit (posterior median, burn-in doubled)", "", _md_table(horizon)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the calibrated scenario


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, float):
        return f"{v:.4g}" if "e" not in f"{v:.4g}" else repr(v)
    return str(v)


def calibrated_scenario_text(calib: Calibration, model: str, summary, provenance: list[str]) -> str:
    """The base scenario's explicit values plus the posterior medians of ``model``, as TOML.

    The fit is at the stationary state, so the calibrated scenario keeps the base scenario's
    horizon and size: any horizon past the burn-in stays at the fit.
    """
    from .scenario import read_scenario_file

    flat, meta = read_scenario_file(calib.scenario.path)
    est = summary[summary["model"] == model].set_index("parameter")
    fitted = {k: float(est.loc[k, "median"]) for k in calib.model_priors(model) if k in BY_NAME}
    fixed = {} if MODELS[model] is None else {"symbiosis": MODELS[model]}
    values = {k: v for k, v in flat.items() if k != "governance"} | fixed | fitted
    description = f"Turkestan region calibrated to the paper's survey (posterior medians, {model} model)"
    lines = [f"# {line}" if line else "#" for line in provenance]
    lines += [
        "",
        f"name = {_toml_value(meta.get('name', calib.scenario.name) + '_calibrated')}",
        f"description = {_toml_value(description)}",
    ]
    for section in SECTIONS:
        names = [p for p in values if BY_NAME[p].section == section]
        if not names:
            continue
        lines += ["", f"[{section}]"]
        for p in names:
            comment = ""
            if p in fitted:
                row = est.loc[p]
                comment = (
                    f"  # calibrated: posterior median; 90% interval [{row['q05']:.4g}, {row['q95']:.4g}], "
                    f"prior uniform [{row['prior_low']:g}, {row['prior_high']:g}]"
                )
            lines.append(f"{p} = {_toml_value(values[p])}{comment}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the whole calibration


def run_calibration(
    calib: Calibration,
    out_dir: str | Path | None = None,
    backend: str = "processes",
    workers: int | None = None,
    address: str | None = None,
    overwrite: bool = False,
    scenario_out: str | Path | None = None,
    observed: dict[str, np.ndarray] | None = None,
    quiet: bool = False,
    command: str = "",
    resume: bool = False,
    record: str | Path | None = None,
) -> dict[str, Any]:
    """Fit, check and write everything (see the module docstring). Returns the manifest.

    ``resume``: continue the fit stored next to the result (an interrupted run) or in its
    ``abc.db`` (a finished one, up to a raised ``max_generations``); the result is replaced.
    ``scenario_out``: where to write the calibrated scenario (default: next to the base scenario,
    ``<name>_calibrated.toml``), never with ``--quick`` or synthetic data; ``False`` skips it.
    ``record``: where to copy the small result files (default ``docs/calibration``, same
    conditions as the scenario); ``False`` skips it.
    """
    out_dir = result_dir(calib.name, out_dir, origin=calib.path, error=CalibrationError)
    partial = partial_database(out_dir)
    stored = out_dir / "smc.db"
    if resume:
        if not partial.exists() and not stored.exists():
            raise CalibrationError(f"{calib.path}: nothing to resume: neither {partial} nor {stored} exists")
        if out_dir.exists() or out_dir.is_symlink():
            check_replaceable(out_dir, CalibrationError)  # the result is replaced: only statebiz's own
    else:
        check_writable(out_dir, overwrite)
        if partial.exists() and not overwrite:
            raise CalibrationError(
                f"{calib.path}: an interrupted fit is stored in {partial}; continue it with --resume, "
                "or start again with --overwrite"
            )
    workers = workers or default_workers()
    started = time.perf_counter()
    with result_lock(out_dir, quiet=quiet):
        if resume and not partial.exists():
            shutil.copy2(stored, partial)
        elif not resume and partial.exists():
            partial.unlink()
        with staged_directory(out_dir, overwrite or resume) as tmp:  # all or nothing: renamed at the end

            def say(msg):
                if not quiet:
                    print(f"[{time.perf_counter() - started:7.1f} s] {msg}", file=sys.stderr, flush=True)

            say(
                f"tempered SMC: models {', '.join(calib.models)}; free {', '.join(calib.free())}; "
                f"{calib.abc['population_size']} particles per model; backend {backend} ({workers} workers)"
                + ("; resuming the stored fit" if resume else "")
            )
            with open_executor(backend, workers, address) as pool:
                stages = fit(calib, partial, observed, pool=pool, say=say)
                fit_wall = time.perf_counter() - started
                post = posterior(stages, calib)
                gens = generations(stages)
                probs = model_probabilities(post)
                simulations = int(gens["simulations"].sum())
                exact = all(mp.beta >= 1.0 for mp in post.values())
                say(
                    f"fit done in {fit_wall:.0f} s: {simulations} runs; "
                    + ("every model reached the posterior; " if exact else "STOPPED before the posterior; ")
                    + ", ".join(f"P({m}) = {p:.3f}" for m, p in probs.items())
                )
                horizon = horizon_check(calib, post, pool)
            summary = posterior_summary(post, calib)
            obs_counts = None if observed is None else _counts_from_statistics(observed)
            ppc, cells = predictive_checks(post, calib, obs_counts)
            cov = coverage(cells)
            rec = recovery(post, calib, obs_counts)
            say(f"posterior predictive checks and recovery done ({calib.abc['predictive_draws']} draws per model)")

            (tmp / "posterior.csv").write_text(posterior_table(post, calib), encoding="utf-8")
            summary.to_csv(tmp / "posterior_summary.csv", index=False, float_format="%.6g")
            gens.to_csv(tmp / "generations.csv", index=False, float_format="%.6g")
            ppc.to_csv(tmp / "ppc.csv", index=False, float_format="%.6g")
            cells.to_csv(tmp / "predictive.csv", index=False, float_format="%.6g")
            cov.to_csv(tmp / "coverage.csv", index=False, float_format="%.6g")
            rec.to_csv(tmp / "recovery.csv", index=False, float_format="%.6g")
            horizon.to_csv(tmp / "horizon.csv", index=False, float_format="%.6g")
            best = max(post, key=lambda m: (probs[m] if probs[m] == probs[m] else 0.0, m == "fitted"))
            shown = "fitted" if "fitted" in post else best
            plot_marginals(post, calib, tmp / "posterior_marginals.png")
            size = f"{calib.run_parameters(shown, {})['firms']} firms"
            plot_fit(
                cells[cells["model"] == shown],
                "total",
                f"Fitted totals: observed vs posterior predictive ({shown} model, {size}; "
                "90% intervals with the fitted overdispersion and the paper's sample sizes)",
                tmp / "fit_totals.png",
            )
            plot_fit(
                cells[cells["model"] == shown],
                "cohort",
                f"Held-out age-cohort cells: observed vs posterior predictive ({shown} model; not in the fit)",
                tmp / "fit_cohorts.png",
            )
            plot_diagnostics(gens, post, calib, tmp / "diagnostics.png")
            shutil.move(str(partial), tmp / "smc.db")

            wall = time.perf_counter() - started
            share = {
                m: {
                    k: float(
                        cov[(cov["model"] == m) & (cov["kind"] == k) & (cov["table"] == "all")]["share_inside"].iloc[0]
                    )
                    for k in ("total", "cohort")
                }
                for m in post
            }
            s_row = summary[(summary["model"] == "fitted") & (summary["parameter"] == "symbiosis")]
            manifest = {
                "calibration": calib.name,
                "calibration_file": calib.path,
                "scenario_file": calib.scenario.path,
                "quick": calib.quick,
                "seed": calib.seed,
                "models": calib.models,
                "model_settings": calib.model,
                "priors": {
                    k: {"distribution": "uniform", "low": lo, "high": hi}
                    for k, (lo, hi) in (calib.priors | calib.likelihood).items()
                },
                "abc": calib.abc,
                "backend": backend,
                "workers": workers,
                "resumed": resume,
                "observed": "synthetic (passed in)"
                if observed is not None
                else "paper (simulation/data/turkestan_survey.toml)",
                "stages": {m: int(mp.generation) for m, mp in post.items()},
                "simulations": simulations,
                "final_temperature": {m: (1.0 / mp.beta if mp.beta > 0 else None) for m, mp in post.items()},
                "exact_posterior": exact,
                "log_evidence": {m: float(mp.log_evidence) for m, mp in post.items()},
                "model_probabilities": probs,
                "best_model": best,
                "symbiosis": None
                if s_row.empty
                else {k: float(s_row.iloc[0][k]) for k in ("median", "q05", "q95", "mean")},
                "ppc_p_values": {m: dict(zip(g["table"], g["p_value"].astype(float))) for m, g in ppc.groupby("model")},
                "coverage_90": share,
                "fit_wall_time_seconds": round(fit_wall, 1),
                "wall_time_seconds": round(wall, 1),
                "git_commit": git_commit(),
                "model_version": model_version(),
                "package_versions": package_versions(("scipy",)),
                "lock_sha256": lock_hash(),
                "machine": machine_fingerprint(),
                "command": command,
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "files": {
                    "smc.db": "the sampler's SQLite database (every stage's particles, likelihoods and statistics)",
                    "posterior.csv": "the final particles of every model, weighted (read with simulation.posterior)",
                    "posterior_summary.csv": "per model and parameter: mean, median, 5% and 95% quantiles, width/prior",
                    "generations.csv": "per model and stage: temperature, ESS, acceptance, runs, log evidence",
                    "ppc.csv": "per model and table: posterior predictive p-value of the DM discrepancy",
                    "predictive.csv": "per model and cell: observed count, predictive median and 90% interval",
                    "coverage.csv": "share of observed cells in their 90% intervals: fitted totals, held-out cohorts",
                    "recovery.csv": "per model and parameter: coverage, shrinkage and recovery on synthetic data",
                    "horizon.csv": "the fitted statistics at the fit's horizon and at twice its burn-in",
                    "posterior_marginals.png": "posterior marginals per parameter and model",
                    "fit_totals.png": "observed vs predictive, fitted total cells",
                    "fit_cohorts.png": "observed vs predictive, held-out age-cohort cells",
                    "diagnostics.png": "temperature, ESS and acceptance per stage; posterior of s",
                    "README.md": "the result in words and tables",
                },
            }
            (tmp / "manifest.json").write_text(json_text(manifest), encoding="utf-8")
            text = summary_markdown(manifest, summary, gens, ppc, cov, rec, horizon)
            (tmp / "README.md").write_text(text, encoding="utf-8")

    # the calibrated scenario and the record only from a full-size fit to the paper's data that reached the posterior
    official = not calib.quick and observed is None and manifest["exact_posterior"]
    if official and scenario_out is not False:
        base = Path(calib.scenario.path)
        target = Path(scenario_out) if scenario_out else base.with_name(f"{base.stem}_calibrated.toml")
        p = manifest["model_probabilities"]
        sym = manifest["symbiosis"]
        first_share = share[next(iter(share))]
        provenance = [
            f"Calibrated {calib.scenario.name} scenario, written by `statebiz calibrate` (simulation/calibration.py).",
            "Do not edit by hand: rerun the calibration instead.",
            f"date: {manifest['finished']}; git commit: {manifest['git_commit']}",
            f"command: {command or 'run_calibration()'}",
            f"calibration file: {calib.path}; base scenario: {calib.scenario.path}; seed {calib.seed}",
            f"fit runs: {json.dumps(calib.model)}; the survey is matched at the stationary state (after the burn-in)",
            "tempered SMC with a Dirichlet-multinomial likelihood: "
            f"{calib.abc['population_size']} particles per model, stages {json.dumps(manifest['stages'])}, "
            f"{manifest['simulations']} runs; exact posterior: {manifest['exact_posterior']}",
            "model probabilities: " + ", ".join(f"{m} {v:.3f}" for m, v in p.items()),
            (
                f"symbiosis s: median {sym['median']:.3f}, 90% interval [{sym['q05']:.3f}, {sym['q95']:.3f}]"
                if sym
                else ""
            ),
            f"90% predictive coverage of the {next(iter(share))} model: totals {first_share['total']:.0%}, "
            f"held-out cohort cells {first_share['cohort']:.0%}",
            f"full results: {out_dir}/; record: docs/calibration/",
        ]
        model = "fitted" if "fitted" in post else best
        atomic_write_text(target, calibrated_scenario_text(calib, model, summary, [x for x in provenance if x]))
        load_scenario(target)  # the written file must load
        manifest["scenario_written"] = str(target)
    if official and record is not False:
        dest = Path(record) if record else RECORD_DIR
        dest.mkdir(parents=True, exist_ok=True)
        for name in RECORD_FILES:
            data = (out_dir / name).read_bytes()
            from .io import atomic_write_bytes

            atomic_write_bytes(dest / name, data)
        manifest["record_written"] = str(dest)
    return manifest


def _counts_from_statistics(stats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Counts of the fitted rows (shares x the paper's row sizes) and of the cohort rows (x the paper's
    cohort sizes) from statistics: the data of a synthetic calibration."""
    sizes = row_sizes()
    obs = _observed_counts()
    out = {t: _rows(t, stats[t]) * sizes[t][:, None] for t in TABLES}
    for t in COHORT_TABLES:
        key = f"{t}_cohorts"
        n = obs[key].sum(axis=1, keepdims=True)
        out[key] = _shares_rows(key, stats) * n if key in stats else obs[key]
    return out
