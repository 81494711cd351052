"""The calibration file: its schema, defaults and limits, and :class:`Calibration`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io import (
    REPO_ROOT,
    check_name,
    load_toml,
    suggest,
)
from ..posterior import LIKELIHOOD
from ..scenario import BY_NAME, Scenario, ScenarioError, load_scenario, resolve

#: The paper's sample size behind each fitted row (Table 6: each utility's row).
SAMPLE_SIZE = {"table5": 198, "table6": 198, "table7": 58, "table8": 58, "table9": 58}
#: Tables with an age-cohort breakdown in the paper (held out of the fit).
COHORT_TABLES = ("table5", "table7", "table8", "table9")
#: The models a calibration can compare: s free ("fitted"), or fixed at an end of the index.
MODELS: dict[str, float | None] = {"fitted": None, "partnership": 0.0, "symbiotic": 1.0}
#: Keys of a calibration file and of its tables, with their defaults.
TOP_KEYS = ("name", "description", "scenario", "seed", "models", "model", "priors", "likelihood", "smc", "quick")
#: Which sample each fitted table's respondents come from (the design effect is per sample).
TABLE_SAMPLE = {
    "table5": "population",
    "table6": "population",
    "table7": "entrepreneurs",
    "table8": "entrepreneurs",
    "table9": "entrepreneurs",
}
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
    "runs_per_estimate": 1,
    "replicates": 1,
    "estimator": "mean_likelihood",
    "ensemble_draws": 2000,
    "fresh_draws": 32,
    "distinct_target": 0.0,
    "max_final_stages": 4,
}
#: How ``runs_per_estimate`` runs make one likelihood estimate: the mean of their likelihoods (unbiased,
#: exact pseudo-marginal); the likelihood at the mean of their shares (far lower variance; it targets
#: the likelihood at the model's expected shares, treating the runs' noise as the simulation's, not the data's);
#: or the ensemble likelihood (the runs' spread kept as a Gaussian in log-ratio space and integrated over with
#: ``ensemble_draws`` draws: low variance, the spread still part of the prediction; at least 2 runs;
#: ``likelihood.ensemble_log_likelihood``).
ESTIMATORS = ("mean_likelihood", "mean_shares", "ensemble")
ABC_INT = (
    "population_size",
    "moves_per_stage",
    "max_stages",
    "predictive_draws",
    "surveys_per_draw",
    "recovery_datasets",
    "runs_per_estimate",
    "replicates",
    "fresh_draws",
    "ensemble_draws",
    "max_final_stages",
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
    "runs_per_estimate": (1, 100),
    "replicates": (1, 100),
    "fresh_draws": (0, 100000),
    "ensemble_draws": (100, 1000000),
    "distinct_target": (0.0, 1.0),
    "max_final_stages": (0, 1000),
}
#: The likelihood's parameters: allowed range of their priors (a free design effect: issue 25's 1-2.5).
LIKELIHOOD_RANGE = {"design_effect": (1.0, 2.5)}
#: Prior distributions: uniform or log-uniform over [low, high], or "registered": the registry's
#: range, log-uniform when the rule of :func:`is_scale_parameter` says the parameter is a scale.
DISTRIBUTIONS = ("uniform", "loguniform", "registered")
#: Units of the registry that are bounded shares or indices, never scales.
SHARE_UNITS = ("0..1", "share", "probability", "budget share", "latent units")
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
    "ppc_fresh.csv",
    "predictive_fresh.csv",
    "coverage_fresh.csv",
    "recovery.csv",
    "horizon.csv",
    "evidence.csv",
    "replicates.csv",
    "misfit.csv",
    "diagnostics_arviz.csv",
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
    log_scale: frozenset[str] = frozenset()
    design: dict[str, float] = field(default_factory=dict)

    def design_effects(self, values: dict[str, float] | None = None) -> dict[str, float]:
        """The design effect of each sample: the particle's free ``design_effect`` (both samples)
        if the likelihood frees it, else the survey design's fixed values (``design_effects``)."""
        if "design_effect" in self.likelihood:
            d = float((values or {})["design_effect"])
            return {"population": d, "entrepreneurs": d}
        return dict(self.design)

    def to_values(self, model: str, u):
        """Particles on the unit cube -> parameter values (uniform or log-uniform per prior)."""
        import numpy as np

        u = np.asarray(u, dtype=float)
        out = np.empty_like(u)
        for j, (name, (lo, hi)) in enumerate(self.model_priors(model).items()):
            if name in self.log_scale:
                out[..., j] = np.exp(np.log(lo) + u[..., j] * (np.log(hi) - np.log(lo)))
            else:
                out[..., j] = lo + u[..., j] * (hi - lo)
        return out

    def to_unit(self, model: str, x):
        """The inverse of :meth:`to_values`: parameter values -> the prior's unit cube."""
        import numpy as np

        x = np.asarray(x, dtype=float)
        out = np.empty_like(x)
        for j, (name, (lo, hi)) in enumerate(self.model_priors(model).items()):
            if name in self.log_scale:
                out[..., j] = (np.log(x[..., j]) - np.log(lo)) / (np.log(hi) - np.log(lo))
            else:
                out[..., j] = (x[..., j] - lo) / (hi - lo)
        return out

    def prior_kind(self, name: str) -> str:
        """'loguniform' or 'uniform'."""
        return "loguniform" if name in self.log_scale else "uniform"

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
        if key == "estimator":
            if value not in ESTIMATORS:
                raise CalibrationError(
                    f"{origin}: '{prefix}.estimator' = {value!r} is not allowed; expected one of "
                    f"{', '.join(map(repr, ESTIMATORS))}"
                )
            out[key] = value
            continue
        low, high = ABC_LIMITS[key]
        out[key] = _number(origin, f"{prefix}.{key}", value, key in ABC_INT, low, high)
    if out["estimator"] == "ensemble" and out["runs_per_estimate"] < 2:
        raise CalibrationError(
            f"{origin}: '{prefix}.runs_per_estimate' = {out['runs_per_estimate']} is not allowed with "
            "estimator = 'ensemble'; expected at least 2 (the runs' spread is part of its prediction)"
        )
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


def is_scale_parameter(name: str) -> bool:
    """The rule for log-uniform priors (docs/ODD.md 4.12): a registered parameter is a scale when
    its unit is not a share, probability, 0..1 index or latent unit, its range is positive, and the
    range spans at least two orders of magnitude (high / low >= 100): over such a range only the
    order of magnitude is known, and a uniform prior would put 99% of its mass in the top two
    decades. A range that starts at 0 cannot be log-uniform and stays uniform."""
    p = BY_NAME[name]
    if p.kind is not float or p.low is None or p.high is None or p.unit in SHARE_UNITS:
        return False
    return p.low > 0 and p.high / p.low >= 100


def _uniform(
    origin: str, key: str, spec: Any, low: float, high: float, registered: str | None = None
) -> tuple[float, float, bool]:
    """A prior spec -> (low, high, log-uniform?). ``registered``: the parameter's registry name
    (a scenario parameter), which allows ``distribution = "registered"``."""
    if not isinstance(spec, dict):
        raise CalibrationError(
            f"{origin}: '{key}' = {spec!r} is not allowed; "
            f'expected {{ distribution = "uniform", low = .., high = .. }}'
        )
    unknown = set(spec) - {"distribution", "low", "high"}
    if unknown:
        raise CalibrationError(f"{origin}: unknown key '{key}.{sorted(unknown)[0]}'; expected distribution, low, high")
    dist = spec.get("distribution", "uniform")
    allowed = DISTRIBUTIONS if registered else ("uniform",)
    if dist not in allowed:
        raise CalibrationError(
            f"{origin}: '{key}.distribution' = {dist!r} is not allowed; expected one of {', '.join(map(repr, allowed))}"
        )
    if dist == "registered":
        if "low" in spec or "high" in spec:
            raise CalibrationError(
                f"{origin}: '{key}' is not allowed with low/high; "
                '"registered" takes the registry\'s range (use "uniform" or "loguniform" to narrow it)'
            )
        return float(low), float(high), is_scale_parameter(registered)
    for bound in ("low", "high"):
        if bound not in spec:
            raise CalibrationError(f"{origin}: '{key}' has no '{bound}'")
    lo = _number(origin, f"{key}.low", spec["low"], False, low, high)
    hi = _number(origin, f"{key}.high", spec["high"], False, low, high)
    if not lo < hi:
        raise CalibrationError(f"{origin}: '{key}' is not allowed; expected low < high (got {lo:g}, {hi:g})")
    if dist == "loguniform" and lo <= 0:
        raise CalibrationError(f"{origin}: '{key}.low' = {lo:g} is not allowed; a log-uniform prior needs low > 0")
    return lo, hi, dist == "loguniform"


def _priors(origin: str, table: Any) -> dict[str, tuple[float, float, bool]]:
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
        out[name] = _uniform(origin, key, spec, param.low, param.high, registered=name)
    return out


def survey_design() -> dict[str, Any]:
    """The survey's sampling design (``data/turkestan_survey.toml`` [design] and [samples]): the
    clusters, the intra-cluster correlation, the design-effect range, and each sample's design
    effect deff_c = 1 + (n / clusters - 1) roh (Kish 1965; deff_p = 1, see the data file)."""
    from ..observe.survey import _survey_data

    data = _survey_data()
    design = data["design"]
    k, roh = float(design["clusters"]), float(design["roh"])
    effects = {s: 1.0 + (data["samples"][s]["n"] / k - 1.0) * roh for s in ("population", "entrepreneurs")}
    return {
        "clusters": k,
        "roh": roh,
        "range": tuple(float(x) for x in design["design_effect_range"]),
        "design_effects": effects,
        "source": design["source"],
    }


LIKELIHOOD_HELP = (
    'design_effect = "survey" (fixed by the survey\'s design), a number in [1, 2.5] (fixed), or '
    '{ distribution = "uniform", low = .., high = .. } within [1, 2.5] (free)'
)


def _likelihood(origin: str, table: Any) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    """The likelihood's table -> (its free parameters' priors, the fixed design effects per sample)."""
    if not isinstance(table, dict):
        raise CalibrationError(f"{origin}: 'likelihood' must be a table: {LIKELIHOOD_HELP}")
    for key in table:
        if key not in LIKELIHOOD_RANGE:
            hint = " (the fitted overdispersion was removed, issue 25: the design effect comes from the design)"
            raise CalibrationError(
                f"{origin}: unknown key 'likelihood.{key}'{suggest(key, LIKELIHOOD_RANGE)}; expected "
                f"{', '.join(LIKELIHOOD_RANGE)}" + (hint if key == "overdispersion" else "")
            )
    spec = table.get("design_effect", "survey")
    low, high = LIKELIHOOD_RANGE["design_effect"]
    design = survey_design()["design_effects"]
    if spec == "survey":
        return {}, design
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        d = _number(origin, "likelihood.design_effect", spec, False, low, high)
        return {}, {s: d for s in design}
    if isinstance(spec, dict):
        lo, hi, _ = _uniform(origin, "likelihood.design_effect", spec, low, high)
        return {"design_effect": (lo, hi)}, design
    raise CalibrationError(
        f"{origin}: 'likelihood.design_effect' = {spec!r} is not allowed; expected {LIKELIHOOD_HELP}"
    )


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
    prior_specs = _priors(origin, raw["priors"])
    priors = {k: (lo, hi) for k, (lo, hi, _) in prior_specs.items()}
    log_scale = frozenset(k for k, (_, _, log) in prior_specs.items() if log)
    likelihood, design = _likelihood(origin, raw.get("likelihood", {}))
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
        log_scale,
        design,
    )
    for m in calib.models:  # every combination must resolve (e.g. budget shares at the priors' corners)
        corner = {k: hi for k, (lo, hi) in calib.model_priors(m).items()}
        try:
            calib.run_parameters(m, corner)
        except ScenarioError as err:
            raise CalibrationError(f"{origin}: the priors' upper corner is not a valid scenario: {err}") from None
    return calib
