"""Calibration of the free behavioural parameters to the Turkestan survey (ABC-SMC with pyabc).

A calibration file (``experiments/calibration_turkestan.toml``) declares everything that is
chosen, nothing is chosen in code::

    name = "calibration_turkestan"
    scenario = "../scenarios/turkestan.toml"   # relative to this file, else to the repo
    seed = 20261127
    governance = ["partnership", "symbiotic"]  # one model, or two to compare

    [model]                 # scenario parameters for the fit's runs (size, quarters)
    firms = 3000
    residents_per_region = 1000
    burn_in = 80
    steps = 12

    [priors]                # free parameter -> prior (uniform, inside the declared range)
    moral_cost = { distribution = "uniform", low = 0.001, high = 0.05 }

    [abc]                   # ABC-SMC settings
    population_size = 300
    max_generations = 10
    min_epsilon = 0.0
    max_walltime_minutes = 22
    max_simulations = 12000
    share_floor = 0.005
    predictive_draws = 100
    surveys_per_draw = 5

    [quick]                 # smaller settings for --quick: tables [quick.model], [quick.abc]

Fit
---
Summary statistics are the population shares of the answers in the *total* rows of Tables 5-9
(``survey.simulate_survey(...).population_shares[t]["total"]``; Table 6: each utility's row).
The distance is the multinomial deviance of the observed counts under the simulated shares,

    D = sum over tables (and Table 6's utilities) of 2 n_t sum_k o_k log(o_k / s_k),

with n_t the paper's sample size (198 residents for Table 5 and for each utility of Table 6, 58
entrepreneurs for Tables 7-9), o_k the observed share, s_k the simulated population share
floored at ``share_floor`` and renormalised. It is zero when the shares agree, grows with the
log-likelihood ratio of the paper's counts, and weights each table by the information its
sample carries. Comparing with population shares (not a simulated sample of 198 or 58) keeps
the sampling noise of a simulated survey out of the distance; the sampling error of the
paper's sample enters through the predictive intervals instead. The age-cohort breakdowns
(Tables 5, 7, 8, 9 by cohort) are not in the fit: they are the held-out validation.

Each particle's run has a seed derived from the calibration's seed and the particle's
parameter values (CRC32 of their repr), so the map parameters -> statistics is a deterministic
function. Particles are simulated by pyabc's ``ConcurrentFutureSampler`` on the executor of the
chosen backend (``runs/evaluator.py``: serial, processes, Dask or MPI). Each of its jobs draws
from numpy's global stream seeded by (calibration seed, generation, job number) instead of
pyabc's reseeding from the operating system (:class:`SeededJobs`), and a generation keeps the
jobs up to its n-th accepted particle in job order: the particles, weights and epsilons are
the same on every backend and number of workers; the count of simulations is not (jobs
started in parallel past a generation's end are counted), and with it a stop by
``max_simulations`` or ``max_walltime_minutes`` may come at another generation.

Model comparison: with two governance models pyabc samples the model index with the parameters
(same priors for both) and reports each generation's model probabilities; their ratio is the
ABC approximation of the Bayes factor given these summary statistics (equal model priors).

Outputs (one directory, written atomically: a temporary sibling renamed at the end)
--------------------------------------------------------------------------------
abc.db (pyabc's SQLite database), posterior_summary.csv, model_probabilities.csv,
predictive.csv, coverage.csv, posterior_marginals.png, fit_totals.png, fit_cohorts.png,
manifest.json. At the default size (not ``--quick``) also ``scenarios/<scenario>_calibrated.toml``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
import zlib
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from .io import (
    atomic_write_text,
    check_name,
    check_writable,
    git_commit,
    json_text,
    load_toml,
    lock_hash,
    package_version,
    package_versions,
    result_dir,
    result_lock,
    staged_directory,
    suggest,
)
from .runs.evaluator import SINGLE_THREAD_ENV, Pool, default_workers, evaluate, open_executor
from .scenario import BY_NAME, GOVERNANCE_PRESETS, SECTIONS, Scenario, ScenarioError, load_scenario, resolve
from .survey import COHORTS, TABLES, observed_tables, table_labels

#: The paper's sample size behind each fitted row (Table 6: each utility's row).
SAMPLE_SIZE = {"table5": 198, "table6": 198, "table7": 58, "table8": 58, "table9": 58}
#: Tables with an age-cohort breakdown in the paper (held out of the fit).
COHORT_TABLES = ("table5", "table7", "table8", "table9")
#: Keys of a calibration file and of its tables, with their defaults.
TOP_KEYS = ("name", "description", "scenario", "seed", "governance", "model", "priors", "abc", "quick")
ABC_DEFAULTS: dict[str, Any] = {
    "population_size": 200,
    "max_generations": 8,
    "min_epsilon": 0.0,
    "max_walltime_minutes": 25.0,
    "max_simulations": 10000,
    "share_floor": 0.005,
    "predictive_draws": 100,
    "surveys_per_draw": 5,
}
ABC_INT = ("population_size", "max_generations", "max_simulations", "predictive_draws", "surveys_per_draw")
ABC_LIMITS = {
    "population_size": (10, 100000),
    "max_generations": (1, 100),
    "min_epsilon": (0.0, 1e9),
    "max_walltime_minutes": (0.05, 10000.0),
    "max_simulations": (10, 10**8),
    "share_floor": (1e-9, 0.1),
    "predictive_draws": (2, 100000),
    "surveys_per_draw": (1, 1000),
}
DISTRIBUTIONS = ("uniform",)
#: Colour-blind-safe colours (Okabe-Ito) for the governance models and observed data.
COLOURS = {"partnership": "#0072B2", "symbiotic": "#D55E00", "observed": "#000000", "interval": "#56B4E9"}


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
    governance: list[str]
    model: dict[str, Any]
    priors: dict[str, tuple[float, float]]
    abc: dict[str, Any]
    quick: bool = False
    description: str = ""
    base_explicit: dict[str, Any] = field(default_factory=dict)

    def run_parameters(self, governance: str, values: dict[str, float]) -> dict[str, Any]:
        """The full parameter set of one fit run: scenario < model size < governance preset < values."""
        explicit = dict(self.base_explicit) | self.model | {"governance": governance} | dict(values)
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
        raise CalibrationError(f"{origin}: '{prefix}' must be a table of ABC settings")
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
        if key == "governance":
            raise CalibrationError(
                f"{origin}: '{prefix}.governance' is not allowed; list the models in the top-level 'governance'"
            )
    return dict(table)


def _priors(origin: str, table: Any) -> dict[str, tuple[float, float]]:
    if not isinstance(table, dict) or not table:
        raise CalibrationError(
            f"{origin}: 'priors' must be a non-empty table: "
            f'parameter = {{ distribution = "uniform", low = .., high = .. }}'
        )
    preset = set().union(*(set(p) for p in GOVERNANCE_PRESETS.values()))
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
        if name in preset:
            raise CalibrationError(
                f"{origin}: '{key}' is not allowed; {name} is set by the governance presets being compared"
            )
        if not isinstance(spec, dict):
            raise CalibrationError(
                f"{origin}: '{key}' = {spec!r} is not allowed; "
                f'expected {{ distribution = "uniform", low = .., high = .. }}'
            )
        unknown = set(spec) - {"distribution", "low", "high"}
        if unknown:
            bad = sorted(unknown)[0]
            raise CalibrationError(f"{origin}: unknown key '{key}.{bad}'; expected distribution, low, high")
        dist = spec.get("distribution", "uniform")
        if dist not in DISTRIBUTIONS:
            raise CalibrationError(
                f"{origin}: '{key}.distribution' = {dist!r} is not allowed; "
                f"expected one of {', '.join(map(repr, DISTRIBUTIONS))}"
            )
        for bound in ("low", "high"):
            if bound not in spec:
                raise CalibrationError(f"{origin}: '{key}' has no '{bound}'")
        lo = _number(origin, f"{key}.low", spec["low"], False, param.low, param.high)
        hi = _number(origin, f"{key}.high", spec["high"], False, param.low, param.high)
        if not lo < hi:
            raise CalibrationError(f"{origin}: '{key}' is not allowed; expected low < high (got {lo:g}, {hi:g})")
        out[name] = (lo, hi)
    return out


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
    for key in ("scenario", "priors"):
        if key not in raw:
            raise CalibrationError(f"{origin}: missing '{key}'")
    name = raw.get("name", path.stem)
    description = raw.get("description", "")
    if "name" in raw:
        check_name(name, origin, error=CalibrationError)
    if not isinstance(description, str):
        raise CalibrationError(f"{origin}: 'description' = {description!r} is not allowed; expected a string")
    seed = _number(origin, "seed", raw.get("seed", 0), True, 0, 2**32 - 1)
    governance = raw.get("governance", ["partnership"])
    if isinstance(governance, str):
        governance = [governance]
    choices = BY_NAME["governance"].choices
    if (
        not isinstance(governance, list)
        or not governance
        or len(set(governance)) != len(governance)
        or any(g not in choices for g in governance)
    ):
        raise CalibrationError(
            f"{origin}: 'governance' = {governance!r} is not allowed; "
            f"expected a list of distinct values from {', '.join(map(repr, choices))}"
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
    abc = _abc_settings(origin, raw.get("abc", {}), ABC_DEFAULTS, "abc")
    priors = _priors(origin, raw["priors"])
    quick_table = raw.get("quick", {})
    if not isinstance(quick_table, dict):
        raise CalibrationError(f"{origin}: 'quick' must be a table with optional tables 'model' and 'abc'")
    for key in quick_table:
        if key not in ("model", "abc"):
            raise CalibrationError(f"{origin}: unknown key 'quick.{key}'; expected model, abc")
    quick_model = _model_settings(origin, quick_table.get("model", {}), "quick.model")
    quick_abc = _abc_settings(origin, quick_table.get("abc", {}), abc, "quick.abc")
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
        list(governance),
        model,
        priors,
        abc,
        quick,
        description,
        dict(scenario.explicit or {}),
    )
    for g in calib.governance:  # every combination must resolve (e.g. budget shares at the priors' corners)
        corner = {k: hi for k, (lo, hi) in priors.items()}
        try:
            calib.run_parameters(g, corner)
        except ScenarioError as err:
            raise CalibrationError(f"{origin}: the priors' upper corner is not a valid scenario: {err}") from None
    return calib


# --------------------------------------------------------------------------- statistics and distance


def statistics_from_shares(shares: dict[str, dict[str, Any]]) -> dict[str, np.ndarray]:
    """The fitted statistics: shares of each answer in the total rows (Table 6: per utility, flattened)."""
    return {t: np.asarray(shares[t]["total"], dtype=float).ravel() for t in TABLES}


def observed_statistics() -> dict[str, np.ndarray]:
    """The paper's shares of the same cells: column totals over the sample (Table 6: per utility row)."""
    obs = observed_tables()
    out = {}
    for t in TABLES:
        counts = np.asarray(obs[t], dtype=float)
        out[t] = (counts / SAMPLE_SIZE[t]).ravel() if t == "table6" else counts.sum(axis=0) / counts.sum()
    return out


def _rows(table: str, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values.reshape(4, 3) if table == "table6" else values.reshape(1, -1)


def table_deviance(table: str, simulated: np.ndarray, observed: np.ndarray, floor: float = 0.005) -> float:
    """Multinomial deviance of one table: 2 n sum o log(o / s) per row (Table 6: per utility)."""
    sim = _rows(table, simulated)
    obs = _rows(table, observed)
    if not np.all(np.isfinite(sim)):
        return math.inf
    sim = np.maximum(sim, floor)
    sim = sim / sim.sum(axis=1, keepdims=True)
    terms = np.where(obs > 0, obs * np.log(np.where(obs > 0, obs, 1.0) / sim), 0.0)
    return float(2.0 * SAMPLE_SIZE[table] * terms.sum())


def deviance(simulated: dict[str, np.ndarray], observed: dict[str, np.ndarray], floor: float = 0.005) -> float:
    """The calibration distance: the multinomial deviance summed over Tables 5-9."""
    return float(sum(table_deviance(t, simulated[t], observed[t], floor) for t in TABLES))


@dataclass
class Deviance:
    """The distance as a picklable callable for pyabc (``distance(x, x_0)``)."""

    floor: float = 0.005

    def __call__(self, x: dict, x_0: dict) -> float:
        """The deviance of simulated statistics ``x`` from observed ``x_0``."""
        return deviance(x, x_0, self.floor)


def particle_seed(seed: int, governance: str, values: dict[str, float]) -> int:
    """A run's seed from the calibration's seed and the particle (same particle, same run)."""
    text = repr((governance, sorted((k, float(v)) for k, v in values.items())))
    return int(np.random.SeedSequence([seed, zlib.crc32(text.encode())]).generate_state(1)[0])


def run_survey_model(params: dict[str, Any], seed: int, surveys: int = 0) -> tuple[dict[str, np.ndarray], list[dict]]:
    """Run the model to its end and survey it: the fitted statistics, and ``surveys`` sample tables."""
    from .model import StateBusinessModel
    from .survey import simulate_survey

    model = StateBusinessModel(rng=seed, **params)
    model.run()
    result = simulate_survey(model)
    stats = statistics_from_shares(result.population_shares)
    tables = [result.tables] + [simulate_survey(model, rng=[seed, 7919, k]).tables for k in range(1, surveys)]
    return stats, [{t: np.asarray(v).tolist() for t, v in tab.items()} for tab in tables[:surveys]]


@dataclass
class SurveyModel:
    """One governance model as a pyabc model: parameters -> fitted statistics (picklable)."""

    calibration: Calibration
    governance: str

    def __call__(self, values: dict) -> dict[str, np.ndarray]:
        """The fitted statistics of one run at the particle's parameter ``values`` (NaN if it cannot be surveyed)."""
        values = {k: float(v) for k, v in dict(values).items()}
        params = self.calibration.run_parameters(self.governance, values)
        try:
            stats, _ = run_survey_model(params, particle_seed(self.calibration.seed, self.governance, values))
        except ValueError:  # a cohort without any unit to survey: this particle cannot answer
            return {t: np.full({"table5": 5, "table6": 12}.get(t, 3), np.nan) for t in TABLES}
        return stats


# --------------------------------------------------------------------------- the ABC-SMC fit


class SeededJobs(Executor):
    """The executor handed to pyabc's ``ConcurrentFutureSampler``: it passes every call on to
    ``executor``, except pyabc's particle job, which it replaces by :func:`_seeded_particles`.

    pyabc's job reseeds numpy (and ``random``) from the operating system, so particles would
    differ from run to run. The replacement draws them from a seed derived from the
    calibration's seed, the generation and the job's number, and restores the caller's
    random state afterwards (the serial executor runs jobs in this process). A generation's
    population is made of the jobs up to its n-th accepted particle in job order, so the
    particles do not depend on the backend or on timing; only the count of simulations
    (jobs submitted, including those cancelled at a generation's end) does.
    """

    def __init__(self, executor: Executor, seed: int):
        self.executor = executor
        self.seed = int(seed)
        self.generation = -1

    def submit(self, fn, /, *args, **kwargs):
        """Submit ``fn(*args, **kwargs)`` to the wrapped executor (pyabc's particle job: seeded)."""
        from pyabc.sampler import eps_mixin

        if fn is getattr(eps_mixin, "_global_full_submit_function_pickle", None) and len(args) == 3 and not kwargs:
            pickled, batch_size, job_ids = args
            if job_ids[0] == 0:  # job numbers start again at 0 in every generation
                self.generation += 1
            return self.executor.submit(
                _seeded_particles, (self.seed, self.generation, job_ids[0]), pickled, batch_size, job_ids
            )
        return self.executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to do: the wrapped executor belongs to the caller."""


def _seeded_particles(key: tuple[int, int, int], pickled: bytes, batch_size: int, job_ids: list[int]) -> list[tuple]:
    """pyabc's particle job (``batch_size`` evaluations of its pickled ``simulate_one``), with
    numpy's and Python's global random streams seeded from ``key``; the caller's streams are restored."""
    import random

    import cloudpickle

    simulate_one = cloudpickle.loads(pickled)
    np_state, py_state = np.random.get_state(), random.getstate()
    words = np.random.SeedSequence(list(key)).generate_state(2)
    np.random.seed(int(words[0]))
    random.seed(int(words[1]))
    try:
        out = []
        for j in range(batch_size):
            result = simulate_one()
            out.append((result, result.accepted, job_ids[j]))
        return out
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)


def fit(
    calib: Calibration,
    db_path: Path,
    observed: dict[str, np.ndarray] | None = None,
    backend: str = "processes",
    workers: int | None = None,
    address: str | None = None,
    quiet: bool = True,
    pool: Pool | None = None,
):
    """Run ABC-SMC and return pyabc's History (database at ``db_path``).

    ``observed``: fitted statistics to fit to (default: the paper's; tests pass synthetic ones).
    Particles are simulated by pyabc's ``ConcurrentFutureSampler`` on ``pool`` (an open
    executor from :func:`simulation.runs.evaluator.open_executor`), or on one opened here for
    ``backend``, ``workers`` and ``address``.
    """
    import pyabc

    if pool is None:
        with open_executor(backend, workers, address) as own:
            return fit(calib, db_path, observed, quiet=quiet, pool=own)
    logging.getLogger("ABC").setLevel(logging.WARNING if quiet else logging.INFO)
    os.environ.update(SINGLE_THREAD_ENV)
    observed = observed_statistics() if observed is None else observed
    np.random.seed(calib.seed)  # pyabc's main-process draws; particles are seeded by SeededJobs
    prior = pyabc.Distribution(**{k: pyabc.RV("uniform", lo, hi - lo) for k, (lo, hi) in calib.priors.items()})
    models = [pyabc.FunctionModel(SurveyModel(calib, g), name=g) for g in calib.governance]
    sampler = pyabc.sampler.ConcurrentFutureSampler(
        cfuture_executor=SeededJobs(pool.executor, calib.seed), client_max_jobs=pool.window, batch_size=1
    )
    a = calib.abc
    abc = pyabc.ABCSMC(
        models, [prior] * len(models), Deviance(a["share_floor"]), population_size=a["population_size"], sampler=sampler
    )
    abc.new(f"sqlite:///{db_path}", observed)
    return abc.run(
        minimum_epsilon=a["min_epsilon"],
        max_nr_populations=a["max_generations"],
        max_total_nr_simulations=a["max_simulations"],
        max_walltime=timedelta(minutes=a["max_walltime_minutes"]),
    )


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles ``q`` of ``values`` under ``weights`` (midpoint rule on the weighted CDF)."""
    order = np.argsort(values)
    v, w = np.asarray(values, dtype=float)[order], np.asarray(weights, dtype=float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)


def posterior(history, calib: Calibration) -> dict[str, tuple[Any, np.ndarray]]:
    """governance -> (DataFrame of the final generation's particles, weights), for models alive at the end."""
    out = {}
    for m, g in enumerate(calib.governance):
        df, w = history.get_distribution(m=m, t=history.max_t)
        if len(df):
            out[g] = (df[list(calib.priors)], np.asarray(w, dtype=float))
    return out


def posterior_summary(post: dict[str, tuple[Any, np.ndarray]], calib: Calibration):
    """Per model and parameter: weighted mean, median, 5% and 95% quantiles, and the interval's width
    over the prior's."""
    import pandas as pd

    rows = []
    for g, (df, w) in post.items():
        for name, (lo, hi) in calib.priors.items():
            v = df[name].to_numpy(dtype=float)
            q05, q50, q95 = weighted_quantile(v, w, [0.05, 0.5, 0.95])
            rows.append(
                {
                    "governance": g,
                    "parameter": name,
                    "mean": float(np.average(v, weights=w)),
                    "median": q50,
                    "q05": q05,
                    "q95": q95,
                    "prior_low": lo,
                    "prior_high": hi,
                    "ci90_width_over_prior": (q95 - q05) / (hi - lo),
                    "particles": len(v),
                }
            )
    return pd.DataFrame(rows)


def model_probabilities(history, calib: Calibration):
    """Per generation: epsilon, simulations and each model's probability."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    probs = history.get_model_probabilities()
    out = pops[["t", "epsilon", "samples"]].rename(columns={"t": "generation", "samples": "simulations"})
    for m, g in enumerate(calib.governance):
        out[f"p_{g}"] = [
            float(probs.loc[t, m])
            if m in probs.columns and t in probs.index and probs.loc[t, m] == probs.loc[t, m]
            else 0.0
            for t in out["generation"]
        ]
    return out


# --------------------------------------------------------------------------- posterior predictive


def _predictive_task(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One posterior-predictive run (a task for ``runs.evaluator``): sample tables as JSON."""
    surveys = outcomes[0]
    _, tables = run_survey_model(params, seed, surveys)
    return {"tables": json.dumps(tables)}


def predictive(
    post,
    calib: Calibration,
    governance: str,
    backend: str = "processes",
    workers: int | None = None,
    address: str | None = None,
    pool: Pool | None = None,
) -> list[dict[str, np.ndarray]]:
    """Survey tables from posterior draws: ``predictive_draws`` runs x ``surveys_per_draw`` samples of the
    paper's sizes, run on ``pool`` (or on an executor opened here for ``backend``)."""
    df, w = post[governance]
    rng = np.random.default_rng([calib.seed, 1])
    picks = rng.choice(len(df), size=calib.abc["predictive_draws"], p=w / w.sum())
    tasks = []
    for i, row in enumerate(picks):
        values = {k: float(df.iloc[row][k]) for k in calib.priors}
        params = calib.run_parameters(governance, values)
        seed = int(np.random.SeedSequence([calib.seed, 2, i]).generate_state(1)[0])
        tasks.append((i, _predictive_task, params, seed, params["steps"], (calib.abc["surveys_per_draw"],)))
    if pool is None:
        with open_executor(backend, workers, address) as own:
            return predictive(post, calib, governance, pool=own)
    out = []
    for _, row in evaluate(tasks, pool.executor, pool.window):
        if row.get("error"):
            continue  # a failed draw is counted in the manifest
        out.extend({t: np.asarray(v) for t, v in tab.items()} for tab in json.loads(row["tables"]))
    return out


def predictive_cells(samples: list[dict[str, np.ndarray]]):
    """Per cell: observed count, predictive median and 90% interval, inside or not.

    kind "total": the fitted cells (column totals of Tables 5, 7-9; Table 6 per utility x answer);
    kind "cohort": the held-out cells (Tables 5, 7, 8, 9 by age cohort x answer).
    """
    import pandas as pd

    obs = {t: np.asarray(v) for t, v in observed_tables().items()}
    rows = []
    for t in TABLES:
        row_labels, col_labels = table_labels(t)
        sims = np.stack([s[t] for s in samples])  # draws x rows x answers
        if t == "table6":
            cells = [("total", row_labels[r], c, obs[t][r, c], sims[:, r, c]) for r in range(4) for c in range(3)]
        else:
            tot_o, tot_s = obs[t].sum(axis=0), sims.sum(axis=1)
            cells = [("total", "Total", c, tot_o[c], tot_s[:, c]) for c in range(len(col_labels))]
            cells += [
                ("cohort", COHORTS[r], c, obs[t][r, c], sims[:, r, c]) for r in range(4) for c in range(len(col_labels))
            ]
        for kind, rlab, c, o, s in cells:
            lo, med, hi = np.quantile(s, [0.05, 0.5, 0.95], method="inverted_cdf")
            rows.append(
                {
                    "kind": kind,
                    "table": t,
                    "row": rlab,
                    "column": col_labels[c],
                    "observed": int(o),
                    "median": float(med),
                    "q05": float(lo),
                    "q95": float(hi),
                    "inside": bool(lo <= o <= hi),
                }
            )
    return pd.DataFrame(rows)


def coverage(cells):
    """Share of observed cells inside their 90% predictive intervals, per kind and table, and overall."""
    import pandas as pd

    rows = []
    for kind, sub in cells.groupby("kind", sort=False):
        for t, s in sub.groupby("table", sort=False):
            rows.append(
                {
                    "kind": kind,
                    "table": t,
                    "cells": len(s),
                    "inside": int(s["inside"].sum()),
                    "share_inside": float(s["inside"].mean()),
                }
            )
        rows.append(
            {
                "kind": kind,
                "table": "all",
                "cells": len(sub),
                "inside": int(sub["inside"].sum()),
                "share_inside": float(sub["inside"].mean()),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- figures


def plot_marginals(post, calib: Calibration, path: Path) -> None:
    """Draw each parameter's posterior marginal per model (weighted histograms) into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(calib.priors)
    ncol = min(4, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.6 * nrow + 0.6), squeeze=False)
    for ax, name in zip(axes.flat, names):
        lo, hi = calib.priors[name]
        bins = np.linspace(lo, hi, 21)
        for g, (df, w) in post.items():
            ax.hist(df[name], bins=bins, weights=w / w.sum(), histtype="step", lw=1.8, color=COLOURS[g], label=g)
        ax.axhline(1 / 20, color="grey", ls=":", lw=1, label="prior (uniform)")
        ax.set_xlim(lo, hi)
        unit = BY_NAME[name].unit
        ax.set_xlabel(f"{name} [{unit}]" if unit else name, fontsize=8)
        ax.set_ylabel("posterior mass per bin", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.suptitle(f"Posterior marginals ({calib.name}; final ABC-SMC generation, weighted)", fontsize=10)
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
    """Draw observed counts against their predictive medians and 90% intervals (cells of ``kind``) into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sub = cells[cells["kind"] == kind]
    tables = list(dict.fromkeys(sub["table"]))
    fig, axes = plt.subplots(1, len(tables), figsize=(3.3 * len(tables) + 0.5, 4.2), squeeze=False)
    for ax, t in zip(axes.flat, tables):
        s = sub[sub["table"] == t].reset_index(drop=True)
        y = np.arange(len(s))[::-1]
        ax.hlines(y, s["q05"], s["q95"], color=COLOURS["interval"], lw=5, label="simulated 90% interval")
        ax.plot(s["median"], y, "|", color=COLOURS["partnership"], ms=10, mew=2, label="simulated median")
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


# --------------------------------------------------------------------------- the calibrated scenario


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, float):
        return f"{v:.4g}" if "e" not in f"{v:.4g}" else repr(v)
    return str(v)


def calibrated_scenario_text(calib: Calibration, governance: str, summary, provenance: list[str]) -> str:
    """The base scenario's explicit values plus the posterior medians of ``governance``, as TOML.

    The horizon (``burn_in``, ``steps``) is the fit's: the survey was matched at the end of
    the fit runs, and the calibrated state is not a steady state, so a run of the calibrated
    scenario ends where the survey was matched.
    """
    from .scenario import read_scenario_file

    flat, meta = read_scenario_file(calib.scenario.path)
    est = summary[summary["governance"] == governance].set_index("parameter")
    horizon = {k: calib.model[k] for k in ("burn_in", "steps") if k in calib.model}
    values = dict(flat) | horizon | {"governance": governance} | {k: float(est.loc[k, "median"]) for k in calib.priors}
    description = "Turkestan region calibrated to the paper survey (posterior median, " + governance + " model)"
    lines = [f"# {line}" if line else "#" for line in provenance]
    lines += [
        "",
        f"name = {_toml_value(meta.get('name', calib.scenario.name) + '_calibrated')}",
        f"description = {_toml_value(description)}",
        f"governance = {_toml_value(governance)}",
    ]
    for section in SECTIONS:
        names = [p for p in values if p != "governance" and BY_NAME[p].section == section]
        if not names:
            continue
        lines += ["", f"[{section}]"]
        for p in names:
            comment = ""
            if p in calib.priors:
                row = est.loc[p]
                comment = (
                    f"  # calibrated: posterior median; 90% CI [{row['q05']:.4g}, {row['q95']:.4g}], "
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
) -> dict[str, Any]:
    """Fit, check and write everything (see the module docstring). Returns the manifest.

    ``scenario_out``: where to write the calibrated scenario (default: next to the base scenario,
    ``<name>_calibrated.toml``), never with ``--quick``; pass ``False`` to skip it.
    """
    out_dir = result_dir(calib.name, out_dir, origin=calib.path, error=CalibrationError)
    check_writable(out_dir, overwrite)
    workers = workers or default_workers()
    started = time.perf_counter()
    with (
        result_lock(out_dir, quiet=quiet),
        staged_directory(out_dir, overwrite) as tmp,  # all or nothing: renamed to out_dir at the end
    ):

        def say(msg):
            if not quiet:
                print(f"[{time.perf_counter() - started:7.1f} s] {msg}", file=sys.stderr, flush=True)

        say(
            f"ABC-SMC: models {', '.join(calib.governance)}; {len(calib.priors)} free parameters; "
            f"population {calib.abc['population_size']}; backend {backend} ({workers} workers)"
        )
        with open_executor(backend, workers, address) as pool:  # one executor for the fit and the predictive runs
            history = fit(calib, tmp / "abc.db", observed, quiet=quiet, pool=pool)
            fit_wall = time.perf_counter() - started
            post = posterior(history, calib)
            summary = posterior_summary(post, calib)
            probs = model_probabilities(history, calib)
            final = probs.iloc[-1]
            best = max(post, key=lambda g: final[f"p_{g}"])
            say(
                f"fit done in {fit_wall:.0f} s: {len(probs)} generations, {history.total_nr_simulations} simulations, "
                f"final epsilon {final['epsilon']:.2f}; "
                + ", ".join(f"P({g}) = {final[f'p_{g}']:.3f}" for g in calib.governance)
            )

            samples = predictive(post, calib, best, pool=pool)
        cells = predictive_cells(samples)
        cov = coverage(cells)
        say(f"posterior predictive: {len(samples)} simulated surveys of the {best} model")

        summary.to_csv(tmp / "posterior_summary.csv", index=False, float_format="%.6g")
        probs.to_csv(tmp / "model_probabilities.csv", index=False, float_format="%.6g")
        cells.to_csv(tmp / "predictive.csv", index=False, float_format="%.6g")
        cov.to_csv(tmp / "coverage.csv", index=False, float_format="%.6g")
        plot_marginals(post, calib, tmp / "posterior_marginals.png")
        size = f"{calib.model.get('firms', calib.scenario.params['firms'])} firms"
        plot_fit(
            cells,
            "total",
            f"Fitted totals: observed vs posterior predictive ({best} model, {size}; "
            "90% intervals include the paper's sampling error)",
            tmp / "fit_totals.png",
        )
        plot_fit(
            cells,
            "cohort",
            f"Held-out age-cohort cells: observed vs posterior predictive ({best} model; not in the fit)",
            tmp / "fit_cohorts.png",
        )

        wall = time.perf_counter() - started
        share = {
            k: float(cov[(cov["kind"] == k) & (cov["table"] == "all")]["share_inside"].iloc[0])
            for k in ("total", "cohort")
        }
        manifest = {
            "calibration": calib.name,
            "calibration_file": calib.path,
            "scenario_file": calib.scenario.path,
            "quick": calib.quick,
            "seed": calib.seed,
            "governance_models": calib.governance,
            "model_settings": calib.model,
            "priors": {k: {"distribution": "uniform", "low": lo, "high": hi} for k, (lo, hi) in calib.priors.items()},
            "abc": calib.abc,
            "backend": backend,
            "workers": workers,
            "observed": "synthetic (passed in)"
            if observed is not None
            else "paper (simulation/data/turkestan_survey.toml)",
            "generations": int(len(probs)),
            "simulations": int(history.total_nr_simulations),
            "final_epsilon": float(final["epsilon"]),
            "model_probabilities": {g: float(final[f"p_{g}"]) for g in calib.governance},
            "best_model": best,
            "predictive_surveys": len(samples),
            "coverage_90": share,
            "fit_wall_time_seconds": round(fit_wall, 1),
            "wall_time_seconds": round(wall, 1),
            "git_commit": git_commit(),
            "package_versions": package_versions(("pyabc",)),
            "lock_sha256": lock_hash(),
            "command": command,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": {
                "abc.db": "pyabc's SQLite database (every generation's particles, weights, distances, statistics)",
                "posterior_summary.csv": (
                    "per model and parameter: weighted mean, median, 5% and 95% quantiles of the final generation"
                ),
                "model_probabilities.csv": "per generation: epsilon, simulations, each governance model's probability",
                "predictive.csv": (
                    "per cell: observed count, posterior-predictive median and 90% interval "
                    "(with the paper's sample sizes)"
                ),
                "coverage.csv": (
                    "share of observed cells inside their 90% intervals: fitted totals and held-out cohort cells"
                ),
                "posterior_marginals.png": "posterior marginals per parameter and model",
                "fit_totals.png": "observed vs simulated, fitted total cells",
                "fit_cohorts.png": "observed vs simulated, held-out age-cohort cells",
            },
        }
        (tmp / "manifest.json").write_text(json_text(manifest), encoding="utf-8")

    if not calib.quick and scenario_out is not False and observed is None:
        base = Path(calib.scenario.path)
        target = Path(scenario_out) if scenario_out else base.with_name(f"{base.stem}_calibrated.toml")
        p = manifest["model_probabilities"]
        provenance = [
            f"Calibrated {calib.scenario.name} scenario, written by `statebiz calibrate` (simulation/calibration.py).",
            "Do not edit by hand: rerun the calibration instead.",
            f"date: {manifest['finished']}; git commit: {manifest['git_commit']}",
            f"command: {command or 'run_calibration()'}",
            f"calibration file: {calib.path}; base scenario: {calib.scenario.path}; seed {calib.seed}",
            f"fit runs: {json.dumps(calib.model)}; the survey is matched at the end of those runs,",
            f"  i.e. after reported quarter {calib.run_parameters(best, {})['steps']}: "
            f"`statebiz survey {target} --quarter {calib.run_parameters(best, {})['steps']}`",
            f"ABC-SMC (pyabc {package_version('pyabc')}): population {calib.abc['population_size']}, "
            f"{manifest['generations']} generations, {manifest['simulations']} simulations, "
            f"final epsilon (multinomial deviance) {manifest['final_epsilon']:.2f}",
            "model probabilities: "
            + ", ".join(f"{g} {v:.3f}" for g, v in p.items())
            + f"; point estimate: posterior median of {best}",
            f"90% predictive coverage: fitted totals {share['total']:.0%}, held-out cohort cells {share['cohort']:.0%}",
            f"full results: {out_dir}/ (posterior_summary.csv, coverage.csv, figures)",
        ]
        atomic_write_text(target, calibrated_scenario_text(calib, best, summary, provenance))
        load_scenario(target)  # the written file must load
        manifest["scenario_written"] = str(target)
    return manifest
