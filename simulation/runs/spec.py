"""Experiment files (``experiments/*.toml``): schema and validation.

An experiment file names a base scenario, the factors that vary (levers: policy choices;
uncertainties: external factors), the design that places runs in factor space, how many
replications each design point gets, the root seed, the outcomes to keep and the number of
reported quarters::

    name = "regime_map"
    description = "power strength x business strength -> regime shares (Table 1)"
    scenario = "../scenarios/turkestan.toml"   # relative to this file, else to the repo
    replications = 5
    seed = 20240601                            # root seed: every run's seed derives from it
    quarters = 24                              # reported quarters (default: the scenario's)
    outcomes = ["regime_*", "corruption_incidence"]   # names or glob patterns

    [base]                                     # fixed overrides of the scenario's parameters
    firms = 3000

    [design]
    type = "factorial"                         # factorial | lhs | sobol | morris

    [levers]
    governance = ["partnership", "symbiotic"]  # listed values (factorial only for categories)
    transparency = { low = 0.0, high = 1.0, levels = 3 }   # a range (levels: factorial only)

    [uncertainties]
    power_strength = [0.2, 0.4, 0.6, 0.8]

A crossed design (policies x states of the world) samples the levers with the main design
(``type = "lhs"``) and the uncertainties with ``[design.states]`` (``lhs`` or
``factorial``), and runs every policy in every state, so that each policy's regret in each
state is defined::

    [design]
    type = "lhs"                     # the policies: a Latin hypercube over [levers]
    samples = 24
    states = { type = "lhs", samples = 12 }   # the states: LHS over the ranged uncertainties,
                                     # crossed with every listed value (e.g. governance)

    [targets]                        # what a good outcome is (analysis only, not the runs)
    corruption_incidence = { below = 0.30 }
    business_satisfied = { above = "observed" }   # the survey's observed share (Table 7)

Every error is a :class:`~simulation.scenario.ScenarioError` whose message is one line
naming the file, the key and what is allowed.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io import check_name, jsonable, load_toml, suggest
from ..scenario import BY_NAME, Scenario, ScenarioError, load_scenario, resolve

REPO_ROOT = Path(__file__).resolve().parents[2]
DESIGNS = ("factorial", "lhs", "sobol", "morris")
TOP_KEYS = ("name", "description", "scenario", "replications", "seed", "quarters", "outcomes")
TABLES = ("base", "design", "levers", "uncertainties", "targets")
DESIGN_KEYS = {
    "factorial": ("type",),
    "lhs": ("type", "samples", "states"),
    "sobol": ("type", "samples", "second_order"),
    "morris": ("type", "trajectories", "levels"),
}
#: Columns of the results table that are not factors or outcomes.
RESERVED_COLUMNS = ("run_key", "point", "replication", "seed", "error", "elapsed_s")
MAX_RUNS = 10_000_000
#: Designs of the states of the world in a crossed design, and their keys.
STATE_DESIGN_KEYS = {"factorial": ("type",), "lhs": ("type", "samples")}

#: The most design points an experiment may have (checked before the design is enumerated).
MAX_POINTS = 200_000


def design_size(design: dict[str, Any], factors: list[Factor]) -> int:
    """The number of design points, computed without enumerating them."""
    if not factors:
        return 1
    if "states" in design:  # a crossed design: every policy in every state of the world
        levers = [f for f in factors if f.role == "lever"]
        uncertainties = [f for f in factors if f.role != "lever"]
        policies = design_size({k: v for k, v in design.items() if k != "states"}, levers)
        if design["states"]["type"] == "factorial":
            return policies * design_size({"type": "factorial"}, uncertainties)
        listed = [f for f in uncertainties if f.values is not None]
        ranged = len(listed) < len(uncertainties)
        return policies * (design["states"]["samples"] if ranged else 1) * design_size({"type": "factorial"}, listed)
    d = len(factors)
    kind = design["type"]
    if kind == "factorial":
        size = 1
        for f in factors:
            size *= len(f.factorial_values())
        return size
    if kind == "lhs":
        return design["samples"]
    if kind == "sobol":
        return design["samples"] * (2 * d + 2 if design["second_order"] else d + 2)
    return design["trajectories"] * (d + 1)  # morris


@dataclass(frozen=True)
class Factor:
    """One varied parameter: a lever or an uncertainty, with listed values or a range."""

    name: str
    role: str  # "lever" or "uncertainty"
    values: tuple | None = None  # listed values (factorial)
    low: float | None = None
    high: float | None = None
    levels: int | None = None  # factorial: evenly spaced values over the range

    @classmethod
    def from_manifest(cls, entry: dict[str, Any]) -> Factor:
        """A factor as a sweep's manifest records it."""
        values = tuple(entry["values"]) if entry["values"] is not None else None
        return cls(entry["name"], entry["role"], values, entry["low"], entry["high"], entry["levels"])

    @property
    def kind(self) -> type:
        """The parameter's value type (from the parameter registry)."""
        return BY_NAME[self.name].kind

    @property
    def numeric(self) -> bool:
        """Whether the parameter is numeric (int or float)."""
        return self.kind in (int, float)

    def factorial_values(self) -> tuple:
        """The factor's values in a factorial design: the listed values, or ``levels`` evenly spaced over the range."""
        if self.values is not None:
            return self.values
        step = (self.high - self.low) / (self.levels - 1) if self.levels > 1 else 0.0
        vals = [self.low + i * step for i in range(self.levels)]
        if self.kind is int:
            vals = list(dict.fromkeys(int(round(v)) for v in vals))
        return tuple(vals)


@dataclass
class ExperimentSpec:
    """A validated experiment file."""

    name: str
    path: Path
    text: str
    scenario_path: Path
    scenario: Scenario
    base: dict[str, Any]
    factors: list[Factor]
    design: dict[str, Any]
    replications: int
    seed: int
    steps: int
    outcomes: list[str]
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)  # [targets]: not part of the identity

    @property
    def crossed(self) -> bool:
        """Whether the design crosses policies (levers) with states of the world (uncertainties)."""
        return "states" in self.design

    @property
    def design_type(self) -> str:
        """The design's type (the [design] table's ``type``)."""
        return self.design["type"]

    def factor(self, name: str) -> Factor:
        """The factor varying parameter ``name``."""
        return next(f for f in self.factors if f.name == name)

    def base_params(self) -> dict[str, Any]:
        """The explicit parameters every run starts from: the scenario file's, then [base], then quarters."""
        return dict(self.scenario.explicit or {}) | self.base | {"steps": self.steps}

    def identity(self) -> dict[str, Any]:
        """What makes two experiments the same experiment (the results store compares it)."""
        return {
            "name": self.name,
            "base_params": jsonable(self.scenario.params | resolve(self.base_params(), str(self.path))),
            "factors": [
                f.__dict__ | {"values": list(f.values) if f.values is not None else None} for f in self.factors
            ],
            "design": self.design,
            "replications": self.replications,
            "seed": self.seed,
            "steps": self.steps,
            "outcomes": self.outcomes,
        }

    def fingerprint(self) -> str:
        """The SHA-256 hex digest of the experiment's identity."""
        return hashlib.sha256(json.dumps(self.identity(), sort_keys=True, default=str).encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def known_outcomes() -> tuple[str, ...]:
    """The outcome names run_model returns: every outcome of the registry."""
    from ..observe.outcomes import NAMES

    return NAMES


def _int(path, key, value, low, high) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not (low <= value <= high):
        raise ScenarioError(f"{path}: '{key}' = {value!r} is not allowed; expected an integer in [{low}, {high}]")
    return value


def _resolve_scenario_path(path: Path, text: str, file_text: str = "") -> Path:
    candidate = Path(text)
    if candidate.is_absolute():
        return candidate
    for base in (path.parent, REPO_ROOT, Path.cwd()):
        if (base / candidate).is_file():
            return base / candidate
    recorded = _store_copy_scenario(path, file_text)
    return recorded if recorded is not None else path.parent / candidate


def _store_copy_scenario(path: Path, file_text: str) -> Path | None:
    """For the copy ``experiment.toml`` a sweep keeps in its store: the base scenario its manifest
    records (an absolute path), if the copy is that manifest's experiment and the file is there."""
    try:
        manifest = json.loads((path.parent / "manifest.json").read_text(encoding="utf-8"))
        experiment = manifest["experiment"]
        recorded = Path(experiment["base_scenario"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if experiment.get("text") == file_text and recorded.is_absolute() and recorded.is_file():
        return recorded
    return None


def _factor(path: Path, table: str, name: str, value: Any, design: str, lists: bool = False) -> Factor:
    key = f"{table}.{name}"
    role = "lever" if table == "levers" else "uncertainty"
    if name not in BY_NAME:
        raise ScenarioError(
            f"{path}: unknown parameter '{key}'{suggest(name, BY_NAME)}; "
            f"factors must be scenario parameters (see `statebiz params`)"
        )
    p = BY_NAME[name]
    if name in ("steps", "regions"):
        raise ScenarioError(
            f"{path}: '{key}' cannot vary in an experiment; set 'quarters' or the base scenario instead"
        )
    numeric = p.kind in (int, float)
    if isinstance(value, list):
        if design != "factorial" and not lists:
            raise ScenarioError(
                f"{path}: '{key}' lists values, which only a factorial design takes; "
                f"a {design} design needs a range {{ low = ..., high = ... }}"
            )
        if len(value) < 1:
            raise ScenarioError(f"{path}: '{key}' = [] is not allowed; expected at least one value")
        checked = []
        for v in value:
            try:
                checked.append(p.check(v))
            except ValueError as err:
                raise ScenarioError(f"{path}: '{key}' value {v!r} is not allowed; expected {err}") from None
        if len(set(checked)) != len(checked):
            raise ScenarioError(f"{path}: '{key}' = {value!r} is not allowed; expected distinct values")
        return Factor(name, role, values=tuple(checked))
    if isinstance(value, dict):
        if not numeric:
            raise ScenarioError(
                f"{path}: '{key}' is categorical ({p.allowed()}); "
                f"list its values, e.g. {name} = {list(p.choices or ())!r}, in a factorial design"
            )
        allowed = {"low", "high"} | ({"levels"} if design == "factorial" else set())
        for k in value:
            if k not in allowed:
                raise ScenarioError(
                    f"{path}: unknown key '{key}.{k}'{suggest(k, allowed)}; a range takes {', '.join(sorted(allowed))}"
                )
        for k in ("low", "high"):
            if k not in value:
                raise ScenarioError(f"{path}: '{key}' has no '{k}'; a range needs low and high")
            try:
                p.check(value[k])
            except ValueError as err:
                raise ScenarioError(f"{path}: '{key}.{k}' = {value[k]!r} is not allowed; expected {err}") from None
        low, high = float(value["low"]), float(value["high"])
        if not low < high:
            raise ScenarioError(f"{path}: '{key}' range [{low:g}, {high:g}] is not allowed; expected low < high")
        levels = None
        if design == "factorial":
            if "levels" not in value:
                raise ScenarioError(
                    f"{path}: '{key}' is a range without 'levels'; "
                    "a factorial design needs levels = N (2 or more) or a list of values"
                )
            levels = _int(path, f"{key}.levels", value["levels"], 2, 1000)
        return Factor(name, role, low=low, high=high, levels=levels)
    raise ScenarioError(
        f"{path}: '{key}' = {value!r} is not allowed; expected a list of values or a range {{ low = ..., high = ... }}"
    )


def load_experiment(path: str | Path) -> ExperimentSpec:
    """Read and validate an experiment file.

    Raises:
        ScenarioError: one line naming the file, the key and what is allowed.
    """
    path = Path(path)
    raw, text = load_toml(path, "experiment", ScenarioError)

    _check_top_keys(path, raw)

    for key in ("name", "description", "scenario"):
        if key in raw and not isinstance(raw[key], str):
            raise ScenarioError(f"{path}: '{key}' = {raw[key]!r} is not allowed; expected a string")
    name = raw.get("name", path.stem)
    check_name(name, str(path), error=ScenarioError)
    if "scenario" not in raw:
        raise ScenarioError(
            f"{path}: 'scenario' is missing; "
            'expected the base scenario file, e.g. scenario = "../scenarios/turkestan.toml"'
        )
    scenario_path = _resolve_scenario_path(path, raw["scenario"], text)
    if not scenario_path.is_file():
        raise ScenarioError(
            f"{path}: 'scenario' = {raw['scenario']!r}: "
            "file not found (looked next to the experiment file and in the repository)"
        )
    scenario = load_scenario(scenario_path)

    replications = _int(path, "replications", raw.get("replications", 1), 1, 100_000)
    if "seed" not in raw:
        raise ScenarioError(f"{path}: 'seed' is missing; expected the root seed, a non-negative integer")
    seed = _int(path, "seed", raw["seed"], 0, 2**63 - 1)
    steps = _int(
        path, "quarters", raw.get("quarters", scenario.params["steps"]), BY_NAME["steps"].low, BY_NAME["steps"].high
    )

    design = _design(path, raw)

    base = _base(path, raw, scenario)

    factors, seen = _factors(path, raw, design, base)

    outcomes = _outcomes(path, raw, seen)
    targets = parse_targets(path, raw.get("targets", {}), outcomes)

    spec = ExperimentSpec(
        name=name,
        path=path,
        text=text,
        scenario_path=scenario_path,
        scenario=scenario,
        base=base,
        factors=factors,
        design=design,
        replications=replications,
        seed=seed,
        steps=steps,
        outcomes=outcomes,
        description=raw.get("description", ""),
        targets=targets,
    )
    _check_size(path, spec)
    return spec


def _states(path: Path, value: Any) -> dict[str, Any]:
    """The ``design.states`` table: the design of the states of the world in a crossed design."""
    if not isinstance(value, dict):
        raise ScenarioError(
            f"{path}: 'design.states' = {value!r} is not allowed; "
            'expected a table, e.g. states = { type = "lhs", samples = 12 }'
        )
    kind = value.get("type", "lhs")
    if kind not in STATE_DESIGN_KEYS:
        raise ScenarioError(
            f"{path}: 'design.states.type' = {kind!r} is not allowed; expected one of "
            f"{', '.join(map(repr, STATE_DESIGN_KEYS))}"
        )
    for k in value:
        if k not in STATE_DESIGN_KEYS[kind]:
            raise ScenarioError(
                f"{path}: unknown key 'design.states.{k}' for {kind} states{suggest(k, STATE_DESIGN_KEYS[kind])}; "
                f"allowed are {', '.join(STATE_DESIGN_KEYS[kind])}"
            )
    states: dict[str, Any] = {"type": kind}
    if kind == "lhs":
        states["samples"] = _int(path, "design.states.samples", value.get("samples", 10), 2, MAX_RUNS)
    return states


def outcome_bounds(name: str) -> tuple[float, float]:
    """The range an outcome's values lie in: [0, 1] for shares, else the whole real line."""
    from ..observe.outcomes import BY_NAME as OUTCOMES

    return (0.0, 1.0) if OUTCOMES[name].is_share else (float("-inf"), float("inf"))


def observed_values() -> dict[str, float]:
    """Outcomes with an observed value in the survey data: the column shares of Table 7
    (entrepreneurs satisfied / partially / dissatisfied with the authorities' support)."""
    from ..observe.survey import observed_tables, table_totals

    totals = table_totals(observed_tables())["table7"]
    names = ("business_satisfied", "business_partially", "business_dissatisfied")
    return {n: t / sum(totals) for n, t in zip(names, totals)}


def parse_targets(path: Path | str, raw: Any, outcomes: list[str] | tuple[str, ...]) -> list[dict[str, Any]]:
    """Validate a ``[targets]`` table: ``outcome = { below = X }`` or ``{ above = X }``, X a number
    in the outcome's range or ``"observed"`` (the survey's observed value).

    Returns one ``{"outcome", "direction", "threshold", "observed"}`` dict per target.

    Raises:
        ScenarioError: one line naming the file, the key and what is allowed.
    """
    import math

    from ..observe.outcomes import NAMES

    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: 'targets' must be a table [targets]")
    observed = observed_values()
    targets = []
    for name, rule in raw.items():
        key = f"targets.{name}"
        if name not in NAMES:
            raise ScenarioError(f"{path}: unknown outcome '{key}'{suggest(name, NAMES)}; targets name outcomes")
        if name not in outcomes:
            raise ScenarioError(f"{path}: '{key}': the experiment does not keep outcome {name!r}; add it to 'outcomes'")
        if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in ("below", "above"):
            raise ScenarioError(
                f"{path}: '{key}' = {rule!r} is not allowed; expected {{ below = X }} or {{ above = X }}"
            )
        direction, value = next(iter(rule.items()))
        is_observed = value == "observed"
        if is_observed:
            if name not in observed:
                raise ScenarioError(
                    f"{path}: '{key}.{direction}' = \"observed\" is not allowed; "
                    f"observed values exist for {', '.join(observed)}"
                )
            value = observed[name]
        low, high = outcome_bounds(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ScenarioError(
                f"{path}: '{key}.{direction}' = {value!r} is not allowed; expected a number or \"observed\""
            )
        if not low <= value <= high:
            raise ScenarioError(
                f"{path}: '{key}.{direction}' = {value!r} is not allowed; "
                f"{name} is a share, expected a number in [{low:g}, {high:g}]"
            )
        targets.append({"outcome": name, "direction": direction, "threshold": float(value), "observed": is_observed})
    return targets


def _check_top_keys(path: Path, raw: dict[str, Any]) -> None:
    """Every top-level key is known, and every table is a table."""
    for key, value in raw.items():
        if key in TABLES:
            if not isinstance(value, dict):
                raise ScenarioError(f"{path}: '{key}' must be a table [{key}]")
        elif key not in TOP_KEYS:
            raise ScenarioError(
                f"{path}: unknown key '{key}'{suggest(key, TOP_KEYS + TABLES)}; "
                f"allowed are {', '.join(TOP_KEYS)} and tables {', '.join('[' + t + ']' for t in TABLES)}"
            )


def _design(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    """The ``[design]`` table, checked: its type and that type's settings."""
    design_raw = dict(raw.get("design", {"type": "factorial"}))
    dtype = design_raw.get("type", "factorial")
    if dtype not in DESIGNS:
        raise ScenarioError(
            f"{path}: 'design.type' = {dtype!r} is not allowed; expected one of {', '.join(map(repr, DESIGNS))}"
        )
    for k in design_raw:
        if k not in DESIGN_KEYS[dtype]:
            raise ScenarioError(
                f"{path}: unknown key 'design.{k}' for a {dtype} design{suggest(k, DESIGN_KEYS[dtype])}; "
                f"allowed are {', '.join(DESIGN_KEYS[dtype])}"
            )
    design: dict[str, Any] = {"type": dtype}
    if dtype == "lhs":
        design["samples"] = _int(path, "design.samples", design_raw.get("samples", 50), 2, MAX_RUNS)
        if "states" in design_raw:
            design["states"] = _states(path, design_raw["states"])
    elif dtype == "sobol":
        n = _int(path, "design.samples", design_raw.get("samples", 64), 2, MAX_RUNS)
        if n & (n - 1):
            raise ScenarioError(
                f"{path}: 'design.samples' = {n} is not allowed; expected a power of 2 (Sobol sequence)"
            )
        design["samples"] = n
        so = design_raw.get("second_order", False)
        if not isinstance(so, bool):
            raise ScenarioError(f"{path}: 'design.second_order' = {so!r} is not allowed; expected true or false")
        design["second_order"] = so
    elif dtype == "morris":
        design["trajectories"] = _int(path, "design.trajectories", design_raw.get("trajectories", 10), 2, MAX_RUNS)
        design["levels"] = _int(path, "design.levels", design_raw.get("levels", 4), 2, 100)
        if design["levels"] % 2:
            raise ScenarioError(
                f"{path}: 'design.levels' = {design['levels']} is not allowed; expected an even integer (Morris)"
            )
    return design


def _base(path: Path, raw: dict[str, Any], scenario) -> dict[str, Any]:
    """The ``[base]`` overrides of the scenario's parameters, checked."""
    base: dict[str, Any] = {}
    for k, v in raw.get("base", {}).items():
        if isinstance(v, dict):
            raise ScenarioError(f"{path}: 'base.{k}' is a table; [base] takes parameters by their bare names")
        if k not in BY_NAME:
            raise ScenarioError(f"{path}: unknown parameter 'base.{k}'{suggest(k, BY_NAME)}")
        if k == "steps":
            raise ScenarioError(f"{path}: 'base.steps' is not allowed; set the top-level 'quarters' instead")
        base[k] = v
    resolve(dict(scenario.explicit or {}) | base, f"{path} [base]")
    return base


def _factors(path: Path, raw: dict[str, Any], design: dict[str, Any], base: dict[str, Any]):
    """The ``[levers]`` and ``[uncertainties]``, checked; and the table each factor is in."""
    dtype = design["type"]
    factors: list[Factor] = []
    seen: dict[str, str] = {}
    for table in ("levers", "uncertainties"):
        # in a crossed design the uncertainties follow the states' design; its LHS crosses listed values
        table_design = design["states"]["type"] if "states" in design and table == "uncertainties" else dtype
        lists = "states" in design and table == "uncertainties"
        for k, v in raw.get(table, {}).items():
            if k in seen:
                raise ScenarioError(
                    f"{path}: '{table}.{k}' is also in [{seen[k]}]; a parameter can vary in one place only"
                )
            if k in base:
                raise ScenarioError(f"{path}: '{table}.{k}' is also fixed in [base]; remove one of them")
            seen[k] = table
            factors.append(_factor(path, table, k, v, table_design, lists))
    if not factors and dtype != "factorial":
        raise ScenarioError(f"{path}: a {dtype} design needs at least one factor in [levers] or [uncertainties]")
    if dtype == "sobol" and len(factors) < 2:
        raise ScenarioError(f"{path}: a sobol design needs at least 2 factors in [levers] or [uncertainties]")
    if "states" in design and not (raw.get("levers") and raw.get("uncertainties")):
        raise ScenarioError(
            f"{path}: 'design.states' crosses policies with states of the world; "
            "it needs at least one factor in [levers] and one in [uncertainties]"
        )
    return factors, seen


def _outcomes(path: Path, raw: dict[str, Any], seen: dict[str, str]) -> list[str]:
    """The outcomes kept, from names or glob patterns."""
    outcomes_raw = raw.get("outcomes", ["*"])
    if not isinstance(outcomes_raw, list) or not outcomes_raw or not all(isinstance(o, str) for o in outcomes_raw):
        raise ScenarioError(
            f"{path}: 'outcomes' = {outcomes_raw!r} is not allowed; "
            "expected a non-empty list of outcome names or glob patterns"
        )
    known = known_outcomes()
    outcomes: list[str] = []
    for pattern in outcomes_raw:
        hits = [o for o in known if fnmatch.fnmatchcase(o, pattern)]
        if not hits:
            raise ScenarioError(
                f"{path}: 'outcomes' entry {pattern!r} matches no outcome{suggest(pattern, known)}; "
                f"outcomes are those run_model returns, e.g. regime_partnership, corruption_incidence, real_wages"
            )
        outcomes.extend(h for h in hits if h not in outcomes)
    clash = [o for o in outcomes if o in seen or o in RESERVED_COLUMNS]
    if clash:
        raise ScenarioError(f"{path}: 'outcomes' entry {clash[0]!r} is also a factor or a reserved column name")
    return outcomes


def _check_size(path: Path, spec: ExperimentSpec) -> None:
    """The design's size is within the limits (points and runs)."""
    design, factors, replications = spec.design, spec.factors, spec.replications
    size = design_size(design, factors)
    if size > MAX_POINTS or size * replications > MAX_RUNS:
        raise ScenarioError(
            f"{path}: the design has {size} points x {replications} replications = {size * replications} runs; "
            f"expected at most {MAX_POINTS} points and {MAX_RUNS} runs (fewer levels or samples)"
        )
    from .design import design_points  # validates every design point (e.g. budget shares summing over 1)

    n_points = len(design_points(spec))
    if n_points * replications > MAX_RUNS:
        raise ScenarioError(
            f"{path}: {n_points} design points x {replications} replications = "
            f"{n_points * replications} runs is not allowed; expected at most {MAX_RUNS}"
        )
