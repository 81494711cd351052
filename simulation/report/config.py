"""The compare file (``experiments/partnership_vs_symbiotic.toml``): schema and validation.

Every error is a :class:`~simulation.scenario.ScenarioError` whose message is one line naming
the file, the key and what is allowed (exit code 2 on the command line).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io import InputError, check_name, load_toml, suggest
from ..posterior import LIKELIHOOD, Posterior, load_posterior
from ..runs.spec import REPO_ROOT, ExperimentSpec, load_experiment
from ..scenario import BY_NAME, PARAMETERS, Scenario, ScenarioError, load_scenario, resolve

DEFAULT_FILE = REPO_ROOT / "experiments" / "partnership_vs_symbiotic.toml"
GOVERNANCE = ("partnership", "symbiotic")
#: The symbiosis index s of each end of the comparison: the named models only set s.
ENDS = {"partnership": 0.0, "symbiotic": 1.0}
#: The arms of the posterior parts: the calibrated state (s at its posterior draw) and both ends.
ARMS = ("calibrated", "partnership", "symbiotic")
TOP_KEYS = (
    "name",
    "description",
    "scenario",
    "calibrated_scenario",
    "posterior",
    "seed",
    "paired",
    "regime_map",
    "levers",
    "robust",
    "validation",
    "national",
    "quick",
)
PART_KEYS = {
    "paired": ("replications", "quarters", "base", "along_s", "draws"),
    "regime_map": ("experiment", "replications", "quarters", "base", "power_strength", "business_strength"),
    "levers": ("experiment", "replications", "quarters", "base", "draws"),
    "robust": ("experiment", "replications", "quarters", "base", "policies", "states"),
    "national": ("scenario", "replications", "quarters", "base", "draws"),
}
#: Parts that run over posterior draws (``draws`` of them, each on ``replications`` paired seeds).
DRAWN = ("paired", "levers", "national")
#: The Table 4 levers (the registry's "levers" section): common to both ends.
LEVERS = tuple(p.name for p in PARAMETERS if p.section == "levers")
#: Parts the compare file may leave out (the report then says the part was not run).
OPTIONAL = ("robust", "national")
#: Parameters a part's ``base`` may not set: the comparison varies them itself.
FIXED = ("governance", "symbiosis", "steps")


@dataclass
class Part:
    """One part of the comparison: how many paired replications, how long, which overrides."""

    replications: int
    quarters: int
    base: dict[str, Any]
    experiment: ExperimentSpec | None = None  # regime_map, levers: the experiment file reused
    grid: dict[str, list[float]] = field(default_factory=dict)  # regime_map: power/business values
    points: list[dict[str, Any]] = field(default_factory=list)  # robust: every policy x state, in design order
    along_s: list[float] = field(default_factory=list)  # paired: values of s strictly between the ends, same seeds
    draws: int = 1  # paired, levers, national: posterior draws, each run on `replications` paired seeds
    scenario: Scenario | None = None  # national: its own scenario (default: the comparison's base scenario)
    scenario_path: Path | None = None


@dataclass
class ValidationPart:
    """The [validation] part: the result directory of ``statebiz validate`` that the report shows (it
    is not run by ``statebiz compare``), and the posterior file it should have used (a staleness check)."""

    results: Path
    posterior: Path | None = None


def _validation_part(path: Path, raw: Any) -> ValidationPart:
    """Read the [validation] table: ``results`` (a directory) and optional ``posterior`` (a file)."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: 'validation' must be a table [validation]")
    for k in raw:
        if k not in ("results", "posterior"):
            raise ScenarioError(f"{path}: unknown key 'validation.{k}'; allowed are results, posterior")
    for k in ("results", "posterior"):
        if not isinstance(raw.get(k, ""), str) or (k == "results" and not raw.get(k, "").strip()):
            raise ScenarioError(
                f"{path}: 'validation.{k}' = {raw.get(k)!r} is not allowed; expected a path "
                '(e.g. "../results/validation")'
            )
    posterior = _locate(path, raw["posterior"]) if raw.get("posterior") else None
    return ValidationPart(_locate(path, raw["results"]), posterior)


@dataclass
class CompareConfig:
    """A validated comparison configuration: the base scenario and its paired, regime-map and levers parts."""

    name: str
    description: str
    path: Path
    text: str
    quick: bool
    seed: int
    scenario_path: Path
    scenario: Scenario
    calibrated: bool
    provenance: list[str]  # the comment lines at the top of the base scenario file
    paired: Part
    regime_map: Part
    levers: Part
    robust: Part | None = None  # a small crossed design (policies x states): "What it takes"
    calibrated_path: Path | None = None  # the calibrated_scenario named in the compare file (used if it exists)
    validation: ValidationPart | None = None  # where `statebiz validate` wrote its result (shown, not run)
    national: Part | None = None  # the 20 regions under both ends of governance (a map)
    posterior: Posterior | None = None  # the calibration's posterior (fitted model), if the file exists
    posterior_path: Path | None = None  # the posterior file named in the compare file (used if it exists)

    def n_draws(self, part: Part) -> int:
        """The posterior draws ``part`` runs: its ``draws``, or 1 (the base scenario) without a posterior."""
        return part.draws if self.posterior is not None else 1

    def n_seeds(self, part: Part) -> int:
        """Seeds per draw of a posterior part: its ``replications``, or, without a posterior (one
        draw), ``draws x replications`` (the same number of runs, all on seeds)."""
        return part.replications if self.posterior is not None else part.replications * part.draws

    def draws(self, part: Part) -> list[dict[str, float]]:
        """The posterior draws of ``part`` (the likelihood's overdispersion included): the first
        ``n_draws(part)`` of one stream seeded by the root seed, so every part shares its first
        draws; ``[{}]`` (the base scenario's values) without a posterior."""
        if self.posterior is None:
            return [{}]
        import numpy as np

        most = max(self.n_draws(p) for p in (self.paired, self.levers, self.national) if p is not None)
        stream = self.posterior.draws(
            most, np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(1,))), likelihood=True
        )
        return stream[: self.n_draws(part)]

    def base_symbiosis(self) -> float:
        """The base scenario's symbiosis index s (the calibrated state without a posterior)."""
        return float(self.params(self.paired)["symbiosis"])

    def arm_params(self, part: Part, draw: dict[str, float], arm: str, **extra: Any) -> dict[str, Any]:
        """A run's parameters at one posterior ``draw`` (its model parameters as overrides) and
        ``arm``: ``calibrated`` keeps the draw's s (the base scenario's without a posterior);
        ``partnership`` and ``symbiotic`` move s to 0 and 1, everything else the same."""
        model = {k: v for k, v in draw.items() if k not in LIKELIHOOD}
        if arm in GOVERNANCE:
            model.pop("symbiosis", None)
            return self.params(part, **(model | extra | {"governance": arm}))
        return self.params(part, **(model | extra))

    def params(self, part: Part, **extra: Any) -> dict[str, Any]:
        """The full resolved parameter set of a run of ``part`` (explicit scenario values, the
        part's base, ``extra``, and the part's quarters). A named ``governance`` sets the
        symbiosis index of its end explicitly (s = 0 or 1), so that a base scenario which sets s
        cannot move the ends; every other parameter, the Table 4 levers included, is common."""
        if "governance" in extra and "symbiosis" not in extra:
            extra = extra | {"symbiosis": ENDS[extra["governance"]]}
        scenario = part.scenario or self.scenario
        explicit = dict(scenario.explicit or {}) | part.base | extra | {"steps": part.quarters}
        return resolve(explicit, f"{self.path} ({extra or 'base'})")

    def ends(self, part: Part | None = None) -> dict[str, dict[str, Any]]:
        """The resolved parameter sets of both ends (``part``: default the paired runs)."""
        part = part or self.paired
        return {g: self.params(part, governance=g) for g in GOVERNANCE}

    def ends_table(self) -> list[dict[str, Any]]:
        """The paired runs' symbiosis index and Table 4 levers at both ends, one row per
        parameter (the levers equal, s = 0 vs 1): what ``ends.csv`` holds."""
        ends = self.ends()
        names = ["symbiosis", *LEVERS]
        return [
            {
                "parameter": n,
                "kind": "governance model" if n == "symbiosis" else "Table 4 lever",
                **{g: ends[g][n] for g in GOVERNANCE},
                "equal": ends["partnership"][n] == ends["symbiotic"][n],
            }
            for n in names
        ]

    def lever_ranges(self) -> dict[str, tuple[float, float]]:
        """The (low, high) range of each lever factor in the levers experiment, by name."""
        return {f.name: (f.low, f.high) for f in self.levers.experiment.factors if f.role == "lever"}


def _locate(path: Path, text: str) -> Path:
    candidate = Path(text)
    if candidate.is_absolute():
        return candidate
    for base in (path.parent, REPO_ROOT, Path.cwd()):
        if (base / candidate).exists():
            return base / candidate
    return path.parent / candidate


def _int(path, key, value, low, high) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ScenarioError(f"{path}: '{key}' = {value!r} is not allowed; expected an integer in [{low}, {high}]")
    return value


def provenance_lines(scenario_path: Path) -> list[str]:
    """The leading comment block of a scenario file (where a calibration records its provenance)."""
    out = []
    for line in scenario_path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if s.startswith("#"):
            out.append(s.lstrip("#").strip())
        elif s:
            break
    return out


def _part(path: Path, name: str, raw: dict[str, Any], over: dict[str, Any]) -> Part:
    for where, table in ((name, raw), (f"quick.{name}", over)):
        if not isinstance(table, dict):
            raise ScenarioError(f"{path}: '{where}' must be a table [{where}]")
        for k in table:
            if k not in PART_KEYS[name]:
                raise ScenarioError(f"{path}: unknown key '{where}.{k}'; allowed are {', '.join(PART_KEYS[name])}")
    if "experiment" in over:
        raise ScenarioError(
            f"{path}: 'quick.{name}.experiment' is not allowed; the quick run uses the same experiment file"
        )
    for where, table in ((name, raw), (f"quick.{name}", over)):
        if not isinstance(table.get("base", {}), dict):
            raise ScenarioError(f"{path}: '{where}.base' = {table['base']!r} is not allowed; expected a table")
        if not isinstance(table.get("experiment", ""), str):
            raise ScenarioError(
                f"{path}: '{where}.experiment' = {table['experiment']!r} is not allowed; expected a path"
            )
    merged = raw | over
    experiment = None
    if name not in ("paired", "national"):
        if "experiment" not in raw:
            raise ScenarioError(
                f"{path}: '{name}.experiment' is missing; expected an experiment file, e.g. \"{name}.toml\""
            )
        experiment = load_experiment(_locate(path, raw["experiment"]))
    base = (
        dict(experiment.base if experiment is not None else {}) | dict(raw.get("base", {})) | dict(over.get("base", {}))
    )
    scenario = scenario_path = None
    if name == "national":
        if "scenario" in over:
            raise ScenarioError(
                f"{path}: 'quick.national.scenario' is not allowed; the quick run uses the same scenario"
            )
        if not isinstance(raw.get("scenario"), str):
            raise ScenarioError(
                f"{path}: 'national.scenario' is missing or not a path; expected a scenario file, e.g. "
                '"../scenarios/kazakhstan.toml"'
            )
        scenario_path = _locate(path, raw["scenario"])
        if not scenario_path.is_file():
            raise ScenarioError(f"{path}: 'national.scenario' = {raw['scenario']!r}: file not found")
        scenario = load_scenario(scenario_path)
    for k in base:
        if k not in BY_NAME:
            raise ScenarioError(f"{path}: unknown parameter '{name}.base.{k}'")
        if k in FIXED:
            raise ScenarioError(f"{path}: '{name}.base.{k}' is not allowed; the comparison sets {k} itself")
    replications = _int(path, f"{name}.replications", merged.get("replications", 2), 2, 10_000)
    default_q = experiment.steps if experiment is not None else None
    if "quarters" not in merged and default_q is None:
        raise ScenarioError(f"{path}: '{name}.quarters' is missing; expected the reported quarters, e.g. 40")
    quarters = _int(path, f"{name}.quarters", merged.get("quarters", default_q), 4, BY_NAME["steps"].high)
    grid = {}
    if name == "regime_map":
        for axis in ("power_strength", "business_strength"):
            default = (
                list(experiment.factor(axis).factorial_values())
                if axis in {f.name for f in experiment.factors}
                else None
            )
            values = merged.get(axis, default)
            if values is None:
                raise ScenarioError(f"{path}: '{name}.{axis}' is missing and {experiment.path} does not vary it")
            if not isinstance(values, list) or len(values) < 2:
                raise ScenarioError(
                    f"{path}: '{name}.{axis}' = {values!r} is not allowed; expected a list of at least 2 values"
                )
            try:
                grid[axis] = sorted(float(BY_NAME[axis].check(v)) for v in values)
            except ValueError as err:
                raise ScenarioError(f"{path}: '{name}.{axis}' = {values!r} is not allowed; expected {err}") from None
    along = []
    if name == "paired":
        values = merged.get("along_s", [])
        if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < 1 for v in values
        ):
            raise ScenarioError(
                f"{path}: '{name}.along_s' = {values!r} is not allowed; expected a list of values of s strictly "
                "between 0 and 1 (the ends are the paired runs), e.g. [0.5]"
            )
        along = sorted({float(v) for v in values})
    points = []
    if name == "robust":
        points = _robust_points(path, experiment, merged)
    if name == "levers" and not any(f.role == "lever" and f.numeric and f.low is not None for f in experiment.factors):
        raise ScenarioError(
            f"{path}: '{name}.experiment' = {raw['experiment']!r} has no lever with a range (low, high)"
        )
    draws = _int(path, f"{name}.draws", merged.get("draws", 1), 1, 10_000) if name in DRAWN else 1
    return Part(replications, quarters, base, experiment, grid, points, along, draws, scenario, scenario_path)


def _robust_points(path: Path, experiment: ExperimentSpec, merged: dict[str, Any]) -> list[dict[str, Any]]:
    """The robust part's design: the experiment's crossed design at ``policies`` x ``states``."""
    from ..runs.design import raw_points

    if not experiment.crossed or not experiment.targets:
        raise ScenarioError(
            f"{path}: 'robust.experiment' = {experiment.path.name!r} is not allowed; expected a crossed design "
            '([design] states = {...}) with [targets], e.g. "robust_levers.toml"'
        )
    design = dict(experiment.design) | {"states": dict(experiment.design["states"])}
    design["samples"] = _int(path, "robust.policies", merged.get("policies", design["samples"]), 2, 10_000)
    if design["states"]["type"] == "lhs":
        design["states"]["samples"] = _int(
            path, "robust.states", merged.get("states", design["states"]["samples"]), 2, 10_000
        )
    elif "states" in merged:
        raise ScenarioError(f"{path}: 'robust.states' is not allowed; the experiment's states are a factorial design")
    return raw_points(design, experiment.factors, experiment.seed)


def load_compare(path: str | Path | None = None, quick: bool = False) -> CompareConfig:
    """Read and validate the compare file (default ``experiments/partnership_vs_symbiotic.toml``).

    The base scenario is ``calibrated_scenario`` when that file exists, else ``scenario``.

    Raises:
        ScenarioError: one line naming the file, the key and what is allowed.
    """
    path = Path(path) if path is not None else DEFAULT_FILE
    raw, text = load_toml(path, "compare", ScenarioError)
    for k in raw:
        if k not in TOP_KEYS:
            raise ScenarioError(f"{path}: unknown key '{k}'{suggest(k, TOP_KEYS)}; allowed are {', '.join(TOP_KEYS)}")
    for k in ("paired", "regime_map", "levers"):  # "robust" is optional
        if k not in raw:
            raise ScenarioError(f"{path}: table [{k}] is missing")
    if "scenario" not in raw:
        raise ScenarioError(f"{path}: 'scenario' is missing; expected the base scenario file")
    if "seed" not in raw:
        raise ScenarioError(f"{path}: 'seed' is missing; expected the root seed, a non-negative integer")
    seed = _int(path, "seed", raw["seed"], 0, 2**63 - 1)
    for k in ("scenario", "calibrated_scenario", "posterior"):
        if not isinstance(raw.get(k, ""), str):
            what = "the posterior file's path (a CSV)" if k == "posterior" else "a scenario file's path"
            raise ScenarioError(f"{path}: '{k}' = {raw[k]!r} is not allowed; expected {what}")
    calibrated, candidate = False, None
    scenario_path = _locate(path, raw["scenario"])
    if "calibrated_scenario" in raw:
        candidate = _locate(path, raw["calibrated_scenario"])
        if candidate.is_file():
            scenario_path, calibrated = candidate, True
    if not scenario_path.is_file():
        raise ScenarioError(f"{path}: 'scenario' = {raw['scenario']!r}: file not found")
    scenario = load_scenario(scenario_path)
    posterior, posterior_path = None, None
    if "posterior" in raw:
        posterior_path = _locate(path, raw["posterior"])
        if posterior_path.is_file():
            try:
                posterior = load_posterior(posterior_path)
            except InputError as err:
                raise ScenarioError(f"{path}: 'posterior': {err}") from None
    quick_raw = raw.get("quick", {})
    if not isinstance(quick_raw, dict) or any(k not in PART_KEYS for k in quick_raw):
        raise ScenarioError(f"{path}: [quick] takes only the tables {', '.join(f'[quick.{k}]' for k in PART_KEYS)}")
    parts = {
        name: _part(path, name, raw[name], quick_raw.get(name, {}) if quick else {})
        for name in PART_KEYS
        if name in raw
    }
    if "name" in raw:
        check_name(raw["name"], str(path), error=ScenarioError)
    if not isinstance(raw.get("description", ""), str):
        raise ScenarioError(f"{path}: 'description' = {raw['description']!r} is not allowed; expected a string")
    config = CompareConfig(
        name=raw.get("name", path.stem),
        description=raw.get("description", ""),
        path=path,
        text=text,
        quick=quick,
        seed=seed,
        scenario_path=scenario_path,
        scenario=scenario,
        calibrated=calibrated,
        provenance=provenance_lines(scenario_path),
        calibrated_path=candidate,
        validation=_validation_part(path, raw["validation"]) if "validation" in raw else None,
        posterior=posterior,
        posterior_path=posterior_path,
        **parts,
    )
    # every run's parameter set must resolve (e.g. a lever's high value with the budget shares)
    for part in (config.paired, config.regime_map, config.levers):
        for g in GOVERNANCE:
            config.params(part, governance=g)
    for point in config.robust.points if config.robust else []:
        config.params(config.robust, **point)
    for lever, (low, high) in config.lever_ranges().items():
        for g in GOVERNANCE:
            config.params(config.levers, governance=g, **{lever: low})
            config.params(config.levers, governance=g, **{lever: high})
    for s in config.paired.along_s:
        config.params(config.paired, symbiosis=s)
    if config.national is not None:
        for g in GOVERNANCE:
            config.params(config.national, governance=g)
    for part in (config.paired, config.levers, config.national):
        for draw in config.draws(part) if part is not None else []:
            for arm in ARMS:
                config.arm_params(part, draw, arm)
    check_ends(config)
    return config


def check_ends(config: CompareConfig) -> None:
    """The two ends of every part differ in the symbiosis index only (s = 0 vs 1; the named
    model is a label): the same Table 4 levers and every other parameter equal.

    Raises:
        ScenarioError: a parameter other than governance and symbiosis differs between the ends.
    """
    for name in ("paired", "regime_map", "levers"):
        a, b = config.ends(getattr(config, name)).values()
        differ = sorted(k for k in a if k not in ("governance", "symbiosis") and a[k] != b[k])
        if differ or (a["symbiosis"], b["symbiosis"]) != (ENDS["partnership"], ENDS["symbiotic"]):
            raise ScenarioError(
                f"{config.path}: the ends of '{name}' differ in {', '.join(differ) or 'symbiosis'}; expected the same "
                "parameters with s = 0 (partnership) and s = 1 (symbiotic)"
            )


def shrink(config: CompareConfig, **sizes: Any) -> CompareConfig:
    """A copy with smaller parts, e.g. ``shrink(c, paired={"replications": 3})`` (tests, benchmarks)."""
    changes = {}
    for name, values in sizes.items():
        part = getattr(config, name)
        values = dict(values)
        base = part.base | values.pop("base", {})
        grid = part.grid | {k: values.pop(k) for k in ("power_strength", "business_strength") if k in values}
        changes[name] = dataclasses.replace(part, base=base, grid=grid, **values)
    return dataclasses.replace(config, **changes)
