"""Calibration of the free parameters to the Turkestan survey: tempered SMC with an exact likelihood.

A calibration file (``experiments/calibration_turkestan.toml``) declares everything that is
chosen; nothing is chosen in code::

    name = "calibration_turkestan"
    scenario = "../scenarios/turkestan.toml"   # relative to this file, else to the repo
    seed = 20261127
    models = ["fitted", "partnership", "symbiotic"]

    [model]                 # scenario parameters for the fit's runs (their size)
    firms = 2000

    [priors]                # free scenario parameter -> prior (inside the registered range)
    moral_cost = { distribution = "registered" }   # the registry's range; log-uniform for a scale
    symbiosis  = { distribution = "uniform", low = 0.0, high = 1.0 }

    [likelihood]            # the survey's design effect: "survey" (from the design), a number, or a prior in [1, 2.5]
    design_effect = "survey"

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
cohort's population shares, ``survey.expected_tables``). The samples are an online vote with age
quotas in one region; their error is the design effect of the sampling design (Kish 1965), from
``data/turkestan_survey.toml`` [design]: deff = 1 + (n / clusters - 1) roh per sample. A row of n
answers is Dirichlet-multinomial with rho_n = (deff - 1) / (n - 1), so Var(count) = n p (1 - p) deff
and a share's spread falls with the sample (issue 25: the fitted per-table overdispersion of the
previous round absorbed the misfit and was removed). ``misfit.csv`` reports each table's X^2 at the
posterior medians. The age-cohort rows are held out: they are not in the likelihood and are the validation.

The sampler
-----------
:class:`Sampler`: tempered sequential Monte Carlo (Chopin 2002; Del Moral, Doucet & Jasra
2006) from the prior to prior x likelihood, with random-walk Metropolis moves that run the
model at each proposal. The likelihood of a particle is an estimate: the mean likelihood of
``runs_per_estimate`` runs with different seeds (the shares carry simulation noise); keeping it
with the particle makes the moves pseudo-marginal (Andrieu & Roberts 2009), so the final stage
samples the posterior of this likelihood. The sampler runs ``replicates`` times independently
(differing only by seed): the spread of the log evidences is their Monte Carlo error, and the
Bayes factor of s = 0 against s = 1 carries a 90% interval (``results.model_choice_statement``).
An approximate Bayesian computation with a tolerance (the first version's pyabc ABC-SMC) was
dropped: with an explicit likelihood, its acceptance at the exact posterior (temperature 1 with
pyabc's stochastic acceptor) fell to about 2% of runs.

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
all three from the particles' stored statistics (optimistic: with a noisy likelihood estimate
the stored runs are the lucky ones), and the same from ``fresh_draws`` posterior draws run
once more on new seeds (ppc_fresh.csv with the misfit of their mean shares,
predictive_fresh.csv, coverage_fresh.csv: these say whether a table passes),
recovery.csv (synthetic data from posterior draws, refitted by importance reweighting:
coverage, shrinkage and recovery per parameter), horizon.csv (the fitted statistics at the
fit's horizon and with twice its burn-in).

Outputs (one directory, written atomically: a temporary sibling renamed at the end)
--------------------------------------------------------------------------------
smc.db, posterior.csv (``simulation.posterior``), posterior_summary.csv, the diagnostics above,
figures, manifest.json; per model ``posterior_<model>.nc``, the posterior as an ArviZ InferenceData
(chain = independent run, draw = final particle; ``inference``), with R-hat and ESS in
diagnostics_arviz.csv and a PPC figure ``ppc_<model>.png``. At the default size with the paper's data also
``scenarios/<scenario>_calibrated.toml`` (posterior medians of the fitted model) and a copy of
the small files in ``docs/calibration/``.

The package, one module per concern: ``config`` (the file's schema and :class:`Calibration`),
``likelihood`` (the survey's statistics, the Dirichlet-multinomial likelihood, the survey model),
``smc`` (the tempered SMC sampler and its SQLite store), ``results`` (the posterior, its tables,
the Markdown summary and the calibrated scenario), ``checks`` (posterior predictive checks,
coverage, recovery, the horizon check), ``plots`` (figures), ``inference`` (the ArviZ files) and ``run``
(the whole calibration).
"""

from . import checks, config, inference, likelihood, plots, results, sbc, sensitivity, smc
from .checks import fresh_checks, predictive_checks, recovery
from .config import (
    MODELS,
    RECORD_DIR,
    RECORD_FILES,
    SHARE_FLOOR,
    Calibration,
    CalibrationError,
    load_calibration,
)
from .likelihood import (
    TABLES,
    SurveyModel,
    dm_logpmf,
    log_likelihood,
    observed_statistics,
    predictive_counts,
    run_survey_model,
    statistics_from_shares,
)
from .results import ModelPosterior, posterior
from .run import run_calibration
from .smc import SamplerStore, fit

__all__ = [
    "MODELS",
    "RECORD_DIR",
    "RECORD_FILES",
    "SHARE_FLOOR",
    "TABLES",
    "Calibration",
    "CalibrationError",
    "ModelPosterior",
    "SamplerStore",
    "SurveyModel",
    "checks",
    "config",
    "dm_logpmf",
    "fit",
    "fresh_checks",
    "inference",
    "likelihood",
    "load_calibration",
    "log_likelihood",
    "observed_statistics",
    "plots",
    "posterior",
    "predictive_checks",
    "predictive_counts",
    "recovery",
    "results",
    "run_calibration",
    "run_survey_model",
    "sbc",
    "sensitivity",
    "smc",
    "statistics_from_shares",
]
