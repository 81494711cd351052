"""Validation out of sample: the calibrated model against published Kazakhstan figures it was not fitted to.

Nothing here is fitted. The calibration (``statebiz calibrate``) sees only the paper's Turkestan
survey (Tables 5-9); its posterior is drawn from here, the model is run, and the runs are asked
the questions of other sources (``simulation/data/validation.toml``, every number with its page):

1. **Turkestan** (``scenarios/turkestan.toml`` at the posterior's parameters, the calibration's
   sizes): the Enterprise Surveys instrument (``simulation/enterprise_survey.py``, bribery
   incidence) and the other quantities the published figures ask for (the share of firms that
   met a bribe demand in their dealings with officials, the share that paid one, who initiates).
2. **National** (``scenarios/kazakhstan.toml``: the 20 akimats): the Turkestan calibration's free
   parameters applied to every region, so that regions differ only by their official data
   (population, GRP, mining share, subventions, neighbours; ``power_spread`` is set to 0 so that
   no random draw of akimat power tells them apart). The symbiosis index s is one scenario
   parameter set on every akimat at the start (``initialisation._akimats``), so the posterior's s
   applies to all 20 regions alike. Per region: corruption incidence and business satisfaction
   (means over the last 4 reported quarters), their ranks, and the Spearman correlation of the
   simulated corruption ranking with the independent regional rankings of the data file.

Uncertainty: every simulated interval is over posterior draws x seeds (each draw runs on its own
seeds, all derived from one root seed); a published figure's own sampling error is added where
its sample size is known (binomial, no design effect: an approximation, labelled so), and the
difference between the two carries both (Monte Carlo). Every run goes through
``simulation.runs.evaluator`` (serial, processes, Dask, MPI), so every backend gives the same
numbers.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, override

import numpy as np
import pandas as pd

from ..io import InputError
from ..parameters import BY_NAME, resolve
from ..regions import all_regions
from ..runs.seeds import design_seed, replication_seed
from ..runs.spec import REPO_ROOT
from .base import Runs, Study, StudyRunError

#: Quantities a run reports for comparison with published figures (``model_quantity`` in the data file).
QUANTITIES = {
    "es_bribery_incidence": "Enterprise Surveys bribery incidence: formal firms with 5+ jobs and a dealing, "
    "share asked for a bribe in at least one of up to six dealings of the last year",
    "es_bribery_depth": "Enterprise Surveys bribery depth: requests per dealing asked about",
    "es_gifts_expected": "Enterprise Surveys: formal firms with 5+ jobs that paid a bribe in the last year",
    "informal_resolution": "firms with a dealing with officials in the last year that met at least one bribe demand",
    "paid_share": "firms with a dealing with officials in the last year that paid at least one bribe",
    "initiated_by_officials": "share of bribes initiated by an official (1 by construction: firms never offer one)",
    "corruption_incidence": "share of all firms with a bribe demand in the last year (model outcome)",
    "business_satisfied": "share of firms satisfied with the akimat (S > 1/3; model outcome)",
}
#: Quantities fixed by the model's structure (no sampling; shown as such).
STRUCTURAL = ("initiated_by_officials",)
#: The regional outcomes ranked in the national scenario (rank 1: most corruption; most satisfied).
REGIONAL = ("corruption_incidence", "business_satisfied")
SCENARIOS = ("turkestan", "national")
#: Interval shown everywhere (5% and 95% quantiles).
LEVEL = 0.90
#: Firms the Enterprise Surveys instrument interviews: every eligible firm (the population value;
#: the published figure's own sampling error is added on the published side).
CENSUS = 10**9
#: Monte Carlo draws for the intervals of differences and of the permutation null.
MC_DRAWS = 4000
DATA_FILE = "validation.toml"
FIGURE_KEYS = (
    "id", "label", "quantity", "value", "unit", "wave", "scope", "model_quantity", "compare_with", "mapping",
    "source", "url", "title", "publisher", "date", "status", "passage",
)  # fmt: skip
FIGURE_OPTIONAL = ("sample_size", "sample_note", "sample_source", "bound")
RANKING_KEYS = (
    "id", "label", "quantity", "year", "method", "units", "primary", "tiers", "scores", "not_covered",
    "source", "url", "title", "publisher", "date", "passage",
)  # fmt: skip
RANKING_OPTIONAL = ("boundary_note",)


# --------------------------------------------------------------------------- the data file


@dataclass(frozen=True)
class PublishedFigure:
    """One published figure: its value (in percent), what it measures, its sample and its source."""

    id: str
    label: str
    quantity: str
    value: float
    unit: str
    wave: str
    scope: str
    model_quantity: str
    compare_with: tuple[str, ...]
    mapping: str
    source: str
    url: str
    title: str
    publisher: str
    date: str
    status: str
    passage: str
    sample_size: int | None = None
    sample_note: str = ""
    sample_source: str = ""
    bound: str = ""

    @property
    def share(self) -> float:
        """The value as a share (0..1)."""
        return self.value / 100.0

    def sampling_sd(self) -> float:
        """The binomial standard error of the share (NaN when the sample size is unknown)."""
        if not self.sample_size:
            return float("nan")
        p = self.share
        return math.sqrt(p * (1 - p) / self.sample_size)

    def interval(self, level: float = LEVEL) -> tuple[float, float]:
        """The published share's approximate sampling interval (NaN, NaN without a sample size)."""
        sd = self.sampling_sd()
        if not math.isfinite(sd):
            return float("nan"), float("nan")
        z = _z(level)
        return max(0.0, self.share - z * sd), min(1.0, self.share + z * sd)


@dataclass(frozen=True)
class Ranking:
    """An independent regional ranking in classes: region id -> score (higher = more corruption)."""

    id: str
    label: str
    quantity: str
    year: str
    method: str
    units: str
    primary: bool
    tiers: dict[str, tuple[str, ...]]
    scores: dict[str, float]
    not_covered: tuple[str, ...]
    source: str
    url: str
    title: str
    publisher: str
    date: str
    passage: str
    boundary_note: str = ""

    def score(self) -> dict[str, float]:
        """Region id -> its class's score, for the regions the ranking covers."""
        return {r: float(self.scores[t]) for t, regions in self.tiers.items() for r in regions}

    def tier(self) -> dict[str, str]:
        """Region id -> its class's name."""
        return {r: t for t, regions in self.tiers.items() for r in regions}


@dataclass(frozen=True)
class ValidationData:
    """The data file: published figures, independent rankings, what could not be found."""

    path: str
    sha256: str
    figures: tuple[PublishedFigure, ...]
    rankings: tuple[Ranking, ...]
    missing: tuple[dict[str, str], ...]

    def primary(self) -> Ranking | None:
        """The ranking the report leads with (``primary = true``)."""
        return next((r for r in self.rankings if r.primary), None)

    def sources(self) -> list[dict[str, str]]:
        """Every figure's and ranking's id, title, publisher, date and URL (for manifests)."""
        return [
            {"id": x.id, "title": x.title, "publisher": x.publisher, "date": x.date, "url": x.url}
            for x in (*self.figures, *self.rankings)
        ]


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def _text(origin: str, where: str, table: dict, key: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{origin}: {where}: '{key}' must be a non-empty string")
    return value


def _check_keys(origin: str, where: str, table: Any, required: tuple, optional: tuple) -> None:
    if not isinstance(table, dict):
        raise InputError(f"{origin}: {where} must be a table")
    missing = [k for k in required if k not in table]
    if missing:
        raise InputError(f"{origin}: {where}: '{missing[0]}' is missing (every entry needs {', '.join(required)})")
    unknown = [k for k in table if k not in required + optional]
    if unknown:
        raise InputError(f"{origin}: {where}: unknown key '{unknown[0]}'; allowed are {', '.join(required + optional)}")


def _figure(origin: str, i: int, raw: Any) -> PublishedFigure:
    where = f"figure {i + 1}"
    _check_keys(origin, where, raw, FIGURE_KEYS, FIGURE_OPTIONAL)
    where = f"figure '{raw.get('id', i + 1)}'"
    text = {k: _text(origin, where, raw, k) for k in FIGURE_KEYS if k not in ("value", "compare_with")}
    for k in FIGURE_OPTIONAL:
        if k != "sample_size" and k in raw:
            text[k] = _text(origin, where, raw, k)
    value = raw["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 100.0:
        raise InputError(f"{origin}: {where}: 'value' = {value!r} is not allowed; expected a percentage in [0, 100]")
    if not text["unit"].startswith("percent"):
        raise InputError(f"{origin}: {where}: 'unit' = {text['unit']!r} is not allowed; expected 'percent of ...'")
    if not text["url"].startswith(("http://", "https://")):
        raise InputError(f"{origin}: {where}: 'url' = {text['url']!r} is not allowed; expected an http(s) address")
    if text["model_quantity"] not in QUANTITIES:
        raise InputError(
            f"{origin}: {where}: 'model_quantity' = {text['model_quantity']!r} is not allowed; "
            f"expected one of {', '.join(QUANTITIES)}"
        )
    compare = raw["compare_with"]
    if not isinstance(compare, list) or not compare or any(c not in SCENARIOS for c in compare):
        raise InputError(
            f"{origin}: {where}: 'compare_with' = {compare!r} is not allowed; expected a list of {', '.join(SCENARIOS)}"
        )
    n = raw.get("sample_size")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise InputError(f"{origin}: {where}: 'sample_size' = {n!r} is not allowed; expected a positive integer")
    if n is None and "sample_note" not in raw:
        raise InputError(f"{origin}: {where}: 'sample_note' is missing; say what is known of the sample")
    if raw.get("bound", "at least") != "at least":
        raise InputError(f"{origin}: {where}: 'bound' = {raw['bound']!r} is not allowed; expected 'at least'")
    return PublishedFigure(value=float(value), compare_with=tuple(compare), sample_size=n, **text)


def _ranking(origin: str, i: int, raw: Any) -> Ranking:
    where = f"ranking {i + 1}"
    _check_keys(origin, where, raw, RANKING_KEYS, RANKING_OPTIONAL)
    where = f"ranking '{raw.get('id', i + 1)}'"
    skip = ("primary", "tiers", "scores", "not_covered")
    text = {k: _text(origin, where, raw, k) for k in RANKING_KEYS if k not in skip}
    if "boundary_note" in raw:
        text["boundary_note"] = _text(origin, where, raw, "boundary_note")
    if not isinstance(raw["primary"], bool):
        raise InputError(f"{origin}: {where}: 'primary' must be true or false")
    tiers, scores = raw["tiers"], raw["scores"]
    if not isinstance(tiers, dict) or not isinstance(scores, dict) or set(tiers) != set(scores) or len(tiers) < 2:
        raise InputError(f"{origin}: {where}: 'tiers' and 'scores' must be tables with the same (at least 2) classes")
    known = [r.id for r in all_regions()]
    seen: list[str] = []
    for t, regions in tiers.items():
        if not isinstance(regions, list) or not regions:
            raise InputError(f"{origin}: {where}: 'tiers.{t}' must be a non-empty list of region ids")
        score = scores[t]
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise InputError(f"{origin}: {where}: 'scores.{t}' = {score!r} is not allowed; expected a number")
        seen += regions
    covered = raw["not_covered"]
    if not isinstance(covered, list):
        raise InputError(f"{origin}: {where}: 'not_covered' must be a list of region ids")
    unknown = [r for r in seen + covered if r not in known]
    if unknown:
        raise InputError(f"{origin}: {where}: unknown region '{unknown[0]}'; expected ids among {', '.join(known)}")
    if len(set(seen + covered)) != len(seen + covered) or set(seen + covered) != set(known):
        raise InputError(
            f"{origin}: {where}: every one of the {len(known)} regions must be in exactly one class or in 'not_covered'"
        )
    return Ranking(
        primary=raw["primary"],
        tiers={t: tuple(v) for t, v in tiers.items()},
        scores={t: float(v) for t, v in scores.items()},
        not_covered=tuple(covered),
        **text,
    )


def load_validation_data(path: str | Path | None = None) -> ValidationData:
    """Read and check the published figures (default: ``simulation/data/validation.toml``).

    Raises:
        InputError: a missing or malformed file, a figure without its source, a value out of
            range, an unknown model quantity or region (one line naming the file and the entry).
    """
    if path is None:
        origin = f"simulation/data/{DATA_FILE}"
        text = resources.files("simulation.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    else:
        from ..io import load_toml

        origin = str(path)
        _, text = load_toml(path, "validation data")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{origin}: malformed TOML: {err}") from None
    unknown = [k for k in raw if k not in ("figure", "ranking", "missing")]
    if unknown:
        raise InputError(f"{origin}: unknown table '{unknown[0]}'; expected [[figure]], [[ranking]], [[missing]]")
    figures = raw.get("figure", [])
    rankings = raw.get("ranking", [])
    missing = raw.get("missing", [])
    if not isinstance(figures, list) or not figures:
        raise InputError(f"{origin}: no [[figure]]; expected at least one published figure")
    if not isinstance(rankings, list) or not isinstance(missing, list):
        raise InputError(f"{origin}: [[ranking]] and [[missing]] must be arrays of tables")
    figs = tuple(_figure(origin, i, f) for i, f in enumerate(figures))
    ranks = tuple(_ranking(origin, i, r) for i, r in enumerate(rankings))
    ids = [x.id for x in (*figs, *ranks)]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"{origin}: id '{dup}' is used twice; ids must be unique")
    if sum(r.primary for r in ranks) > 1:
        raise InputError(f"{origin}: more than one ranking has primary = true")
    for i, m in enumerate(missing):
        _check_keys(origin, f"missing {i + 1}", m, ("what", "searched", "consequence"), ())
        for k in ("what", "searched", "consequence"):
            _text(origin, f"missing {i + 1}", m, k)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ValidationData(origin, sha, figs, ranks, tuple(dict(m) for m in missing))


# --------------------------------------------------------------------------- the design


@dataclass(frozen=True)
class ValidationDesign:
    """How many posterior draws and seeds, and the sizes of the Turkestan and national runs."""

    draws: int = 10
    seeds: int = 2  # per draw; every (draw, seed) pair has a seed of its own
    root_seed: int = 20261128
    turkestan_scenario: str = "scenarios/turkestan.toml"
    national_scenario: str = "scenarios/kazakhstan.toml"
    # the calibration's model sizes (experiments/calibration_turkestan.toml [model])
    turkestan_firms: int = 3000
    turkestan_residents: int = 1000
    national_firms: int = 20000  # all 20 regions together (~2,000 in Turkestan)
    national_residents: int = 198  # per region (the survey's minimum; residents do not enter the comparison)
    burn_in: int = int(BY_NAME["burn_in"].default)
    quarters: int = 8  # reported quarters; outcomes are means of the last 4
    power_spread: float = 0.0  # regions differ only by their official data
    extra: dict[str, Any] = field(default_factory=dict)  # further overrides of both scenarios (tests)

    def runs(self) -> int:
        """Model runs: (Turkestan + national) x draws x seeds."""
        return 2 * self.draws * self.seeds


#: The small, fast design of ``--quick`` (a few seconds a run).
QUICK = ValidationDesign(
    draws=3,
    seeds=2,
    turkestan_firms=600,
    turkestan_residents=198,
    national_firms=3000,
    burn_in=24,
    quarters=4,
)


def with_settings(design: ValidationDesign, **changes: Any) -> ValidationDesign:
    """A copy with some settings changed (None leaves a setting as it is)."""
    return replace(design, **{k: v for k, v in changes.items() if v is not None})


def _scenario_path(text: str) -> Path:
    p = Path(text)
    if p.is_absolute() or p.exists():
        return p
    return REPO_ROOT / p


def scenario_params(design: ValidationDesign, which: str, draw: dict[str, float]) -> dict[str, Any]:
    """The resolved parameters of one run: the scenario file's values, the draw's free
    parameters (every region alike), then the design's sizes."""
    from ..scenario import load_scenario

    if which == "turkestan":
        sc = load_scenario(_scenario_path(design.turkestan_scenario))
        sizes = {"firms": design.turkestan_firms, "residents_per_region": design.turkestan_residents}
    else:
        sc = load_scenario(_scenario_path(design.national_scenario))
        sizes = {
            "firms": design.national_firms,
            "residents_per_region": design.national_residents,
            "power_spread": design.power_spread,
        }
    sizes |= {"burn_in": design.burn_in, "steps": design.quarters}
    explicit = dict(sc.explicit or {}) | dict(draw) | sizes | dict(design.extra)
    return resolve(explicit, f"{sc.path} (validation, {which})")


@dataclass
class ParameterSource:
    """Where the free parameters come from: a posterior's draws, or the scenario defaults."""

    label: str  # "posterior" or "uncalibrated"
    draws: list[dict[str, float]]
    path: str | None = None
    sha256: str | None = None
    model: str | None = None
    names: tuple[str, ...] = ()


def from_posterior(posterior, design: ValidationDesign) -> ParameterSource:
    """``design.draws`` weighted draws of a :class:`~simulation.posterior.Posterior` (seeded from the root seed)."""
    draws = posterior.draws(design.draws, np.random.default_rng(design_seed(design.root_seed)))
    sha = None
    if Path(posterior.path).is_file():
        sha = hashlib.sha256(Path(posterior.path).read_bytes()).hexdigest()
    return ParameterSource("posterior", draws, posterior.path, sha, posterior.model, tuple(posterior.parameters))


def uncalibrated(design: ValidationDesign, params: dict[str, float] | None = None) -> ParameterSource:
    """No posterior: every draw is the same parameter dict (default: the scenario files' values)."""
    params = dict(params or {})
    return ParameterSource("uncalibrated", [dict(params) for _ in range(design.draws)], names=tuple(params))


# --------------------------------------------------------------------------- one run


def run_quantities(model) -> dict[str, float]:
    """What a finished run reports for the comparison (see :data:`QUANTITIES`)."""
    from ..enterprise_survey import simulate_enterprise_survey

    f = model.world.firms
    out = model.outcomes()
    try:
        es = simulate_enterprise_survey(model, firms=CENSUS)
        es_values = {
            "es_bribery_incidence": es.bribery_incidence if es.with_transactions else float("nan"),
            "es_bribery_depth": es.bribery_depth if es.with_transactions else float("nan"),
            "es_gifts_expected": es.gifts_expected,
            "es_eligible": float(es.eligible),
            "es_with_transactions": float(es.with_transactions),
        }
    except ValueError:  # no formal firm with 5+ employees (tiny test worlds)
        es_values = dict.fromkeys(("es_bribery_incidence", "es_bribery_depth", "es_gifts_expected"), float("nan")) | {
            "es_eligible": 0.0,
            "es_with_transactions": 0.0,
        }
    dealt = f.alive & (f.last_year("dealings") > 0)
    met = f.last_year("demands")[dealt] > 0
    paid = f.last_year("paid")[dealt] > 0
    return es_values | {
        "informal_resolution": float(met.mean()) if dealt.any() else float("nan"),
        "paid_share": float(paid.mean()) if dealt.any() else float("nan"),
        "initiated_by_officials": 1.0,
        "corruption_incidence": float(out["corruption_incidence"]),
        "business_satisfied": float(out["business_satisfied"]),
        "firms_with_dealings": float(dealt.sum()),
    }


def turkestan_run(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One Turkestan run (an evaluator task): the comparison quantities at the end."""
    from ..model import StateBusinessModel

    model = StateBusinessModel(rng=seed, **(dict(params) | {"steps": steps}))
    model.run()
    return run_quantities(model)


def national_run(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One national run (an evaluator task): the comparison quantities of the 20 regions pooled,
    and per region the means of the last 4 reported quarters of :data:`REGIONAL`."""
    from ..model import StateBusinessModel
    from ..outcomes import END_OF_RUN_QUARTERS

    model = StateBusinessModel(rng=seed, **(dict(params) | {"steps": steps}))
    model.run()
    table = model.region_table()
    last = table[table["quarter"] > table["quarter"].max() - END_OF_RUN_QUARTERS]
    means = last.groupby("region", sort=False)[list(REGIONAL)].mean()
    ids = [r.id for r in model.world.regions]
    return run_quantities(model) | {
        "regions": ids,
        **{f"region_{k}": [float(means.loc[i, k]) for i in ids] for k in REGIONAL},
    }


# --------------------------------------------------------------------------- all runs


@dataclass
class ValidationRuns:
    """Every run's quantities (one row per scenario, draw and seed) and the national runs' regions."""

    quantities: pd.DataFrame  # scenario, draw, seed_index, seed, + QUANTITIES
    regions: pd.DataFrame  # draw, seed_index, seed, region, corruption_incidence, business_satisfied
    draws: pd.DataFrame  # draw, + free parameters
    wall: float = 0.0
    task_seconds: float = 0.0  # sum of the runs' own times (wall time on one core, as measured)


class ValidationRunError(StudyRunError):
    """A model run of the validation raised; nothing is written (finished runs stay in the journal)."""


def plan(design: ValidationDesign, source: ParameterSource) -> tuple[list[tuple], dict[int, dict[str, Any]]]:
    """The evaluator's tasks: national runs first (the longest), then Turkestan; task id -> what it is."""
    if len(source.draws) != design.draws:
        raise ValueError(f"{len(source.draws)} parameter draws for a design of {design.draws}")
    tasks, meta = [], {}
    for which, fn in (("national", national_run), ("turkestan", turkestan_run)):
        for i, draw in enumerate(source.draws):
            params = scenario_params(design, which, draw)
            for j in range(design.seeds):
                seed = replication_seed(design.root_seed, i * design.seeds + j)
                task_id = len(tasks)
                tasks.append((task_id, fn, params, seed, design.quarters, ()))
                meta[task_id] = {"scenario": which, "draw": i, "seed_index": j, "seed": seed}
    return tasks, meta


def run_validation(
    design: ValidationDesign,
    source: ParameterSource,
    backend: str = "serial",
    workers: int | None = None,
    address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    runs: Runs | None = None,
) -> ValidationRuns:
    """Run every task through the study's evaluator ``runs`` (default: one on ``backend``, no
    journal, ``progress(done, total)`` after each run) and collect the tables.

    Raises:
        ValidationRunError: a run raised (its scenario, draw and seed in the message).
    """
    import time

    tasks, meta = plan(design, source)
    if runs is None:
        counter = {"done": 0}

        def step(n: int) -> None:
            counter["done"] += n
            if progress is not None:
                progress(counter["done"], len(tasks))

        with Runs(backend, workers, address, progress=step) as own:
            return run_validation(design, source, runs=own)
    started, busy = time.perf_counter(), runs.task_seconds

    def describe(task) -> str:
        m = meta[task[0]]
        return f"{m['scenario']} run (draw {m['draw']}, seed {m['seed']})"

    try:
        rows = dict(zip((t[0] for t in tasks), runs.run(tasks, describe=describe)))
    except StudyRunError as err:
        raise ValidationRunError(str(err)) from None
    result = collect(rows, meta, source, time.perf_counter() - started)
    result.task_seconds = runs.task_seconds - busy
    return result


def collect(rows: dict[int, dict], meta: dict[int, dict], source: ParameterSource, wall: float = 0.0) -> ValidationRuns:
    """The tables of a set of finished tasks (in task order: independent of completion order)."""
    q, reg = [], []
    for task_id in sorted(rows):
        m, row = meta[task_id], rows[task_id]
        key = {k: m[k] for k in ("scenario", "draw", "seed_index", "seed")}
        q.append(key | {k: v for k, v in row.items() if not isinstance(v, list) and k not in ("error", "elapsed_s")})
        if m["scenario"] == "national":
            for i, region in enumerate(row["regions"]):
                reg.append(
                    {k: m[k] for k in ("draw", "seed_index", "seed")}
                    | {"region": region}
                    | {k: row[f"region_{k}"][i] for k in REGIONAL}
                )
    draws = pd.DataFrame([{"draw": i, **d} for i, d in enumerate(source.draws)])
    busy = float(sum(row.get("elapsed_s", 0.0) for row in rows.values()))
    return ValidationRuns(pd.DataFrame(q), pd.DataFrame(reg), draws, wall, busy)


# --------------------------------------------------------------------------- statistics


def spearman(x, y) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN if either side is constant."""
    from scipy.stats import rankdata

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.size < 2:
        raise ValueError("spearman needs two sequences of the same length, at least 2")
    rx, ry = rankdata(x), rankdata(y)
    if np.ptp(rx) == 0 or np.ptp(ry) == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def _quantiles(values) -> tuple[float, float, float]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    lo, mid, hi = np.quantile(v, [(1 - LEVEL) / 2, 0.5, (1 + LEVEL) / 2])
    return float(mid), float(lo), float(hi)


def quantity_summary(runs: ValidationRuns) -> pd.DataFrame:
    """Per scenario and quantity: median and 90% interval over draws x seeds, and how much of the
    spread is between draws (the posterior) rather than between seeds."""
    recs = []
    params = runs.draws.drop(columns="draw", errors="ignore")
    same_draws = params.empty or bool(params.nunique().le(1).all())  # uncalibrated: every draw alike
    for scen, grp in runs.quantities.groupby("scenario", sort=False):
        for name in QUANTITIES:
            if name not in grp:
                continue
            mid, lo, hi = _quantiles(grp[name])
            total = float(np.nanvar(grp[name].to_numpy(dtype=float)))
            between = float(np.nanvar(grp.groupby("draw")[name].mean().to_numpy(dtype=float)))
            recs.append(
                {
                    "scenario": scen,
                    "quantity": name,
                    "median": mid,
                    "low": lo,
                    "high": hi,
                    "runs": int(grp[name].notna().sum()),
                    "share_of_variance_between_draws": (
                        between / total if total > 0 and not same_draws else float("nan")
                    ),
                    "meaning": QUANTITIES[name],
                }
            )
    return pd.DataFrame(recs)


def compare_figures(runs: ValidationRuns, data: ValidationData, seed: int) -> pd.DataFrame:
    """One row per published figure and scenario it is compared with: published value and its
    approximate sampling interval, simulated median and 90% interval (draws x seeds), the
    difference (simulated - published, percentage points) with an interval that carries both
    the runs' spread and the published sampling error, and the verdict."""
    rng = np.random.default_rng([seed, 7])
    recs = []
    for fig in data.figures:
        for scen in fig.compare_with:
            grp = runs.quantities[runs.quantities["scenario"] == scen]
            if grp.empty:
                continue
            sim = grp[fig.model_quantity].to_numpy(dtype=float)
            sim = sim[np.isfinite(sim)]
            mid, lo, hi = _quantiles(sim)
            plo, phi = fig.interval()
            sd = fig.sampling_sd()
            structural = fig.model_quantity in STRUCTURAL
            if sim.size:
                s = rng.choice(sim, MC_DRAWS)
                pub = fig.share + (rng.standard_normal(MC_DRAWS) * sd if math.isfinite(sd) else 0.0)
                d_mid, d_lo, d_hi = _quantiles(100 * (s - pub))
            else:
                d_mid = d_lo = d_hi = float("nan")
            if structural:
                verdict = "structural: the model cannot produce this (firms never initiate a bribe)"
            elif not sim.size:
                verdict = "not simulated"
            elif fig.bound == "at least":
                verdict = (
                    "consistent (at or above the bound)"
                    if lo >= fig.share
                    else ("below the published lower bound" if hi < fig.share else "partly below the bound")
                )
            elif d_lo > 0:
                verdict = "model higher"
            elif d_hi < 0:
                verdict = "model lower"
            else:
                verdict = "consistent"
            recs.append(
                {
                    "figure": fig.id,
                    "label": fig.label,
                    "scenario": scen,
                    "quantity": fig.quantity,
                    "model_quantity": fig.model_quantity,
                    "wave": fig.wave,
                    "published": fig.share,
                    "bound": fig.bound or "",
                    "published_low": plo,
                    "published_high": phi,
                    "published_n": fig.sample_size,
                    "published_interval": (
                        "binomial approximation, no design effect" if math.isfinite(plo) else "none known"
                    ),
                    "simulated": mid,
                    "simulated_low": lo,
                    "simulated_high": hi,
                    "runs": int(sim.size),
                    "difference_pp": d_mid,
                    "difference_low_pp": d_lo,
                    "difference_high_pp": d_hi,
                    "verdict": verdict,
                    "source": f"{fig.publisher}, '{fig.title}', {fig.date}",
                    "url": fig.url,
                }
            )
    return pd.DataFrame(recs)


def region_summary(runs: ValidationRuns, data: ValidationData) -> pd.DataFrame:
    """Per region: median and 90% interval of each regional outcome and of its rank over draws x
    seeds (rank 1: the most corruption; the most satisfied firms), the rank of the medians, and
    the region's class in each independent ranking."""
    reg = runs.regions.copy()
    for k in REGIONAL:
        # rank within each run; ties share the better (smaller) rank
        reg[f"rank_{k}"] = reg.groupby(["draw", "seed_index"])[k].rank(ascending=False, method="min")
    order = [r.id for r in all_regions()]
    names = {r.id: r.name for r in all_regions()}
    recs = []
    for region, grp in reg.groupby("region", sort=False):
        rec: dict[str, Any] = {"region": region, "name": names.get(region, region)}
        for k in REGIONAL:
            mid, lo, hi = _quantiles(grp[k])
            rmid, rlo, rhi = _quantiles(grp[f"rank_{k}"])
            rec |= {k: mid, f"{k}_low": lo, f"{k}_high": hi}
            rec |= {f"rank_{k}": rmid, f"rank_{k}_low": rlo, f"rank_{k}_high": rhi}
        for r in data.rankings:
            rec[r.id] = r.tier().get(region, "not covered")
        recs.append(rec)
    out = pd.DataFrame(recs)
    for k in REGIONAL:
        out[f"rank_of_median_{k}"] = out[k].rank(ascending=False, method="min").astype(int)
    out["_order"] = [order.index(r) for r in out["region"]]
    return out.sort_values([f"rank_of_median_{REGIONAL[0]}", "_order"]).drop(columns="_order").reset_index(drop=True)


def ranking_correlations(runs: ValidationRuns, data: ValidationData, seed: int) -> pd.DataFrame:
    """Per independent ranking and regional outcome: Spearman's rho between the simulated values
    and the ranking's class scores over the regions it covers, per run (median and 90% interval
    over draws x seeds), for the medians over runs, and the permutation null (the 90% range of
    rho when the classes are shuffled among the regions, and the one-sided p of the medians' rho in
    the expected direction: + for corruption incidence, - for business satisfaction)."""
    rng = np.random.default_rng([seed, 11])
    recs = []
    for ranking in data.rankings:
        score = ranking.score()
        covered = [r for r in score]
        y = np.array([score[r] for r in covered])
        for k in REGIONAL:
            wide = runs.regions.pivot_table(index=["draw", "seed_index"], columns="region", values=k)
            missing = [r for r in covered if r not in wide.columns]
            if missing:
                continue
            x_runs = wide[covered].to_numpy(dtype=float)
            per_run = np.array([spearman(x, y) for x in x_runs])
            mid, lo, hi = _quantiles(per_run)
            medians = np.median(x_runs, axis=0)
            rho_median = spearman(medians, y)
            null = np.array([spearman(medians, rng.permutation(y)) for _ in range(MC_DRAWS // 4)])
            null = null[np.isfinite(null)]
            nmid, nlo, nhi = _quantiles(null)
            sign = 1.0 if k == "corruption_incidence" else -1.0  # more corruption, less satisfaction
            p = float("nan")
            if null.size and math.isfinite(rho_median):
                p = float(np.mean(sign * null >= sign * rho_median))
            recs.append(
                {
                    "ranking": ranking.id,
                    "label": ranking.label,
                    "outcome": k,
                    "regions": len(covered),
                    "expected_sign": "+" if k == "corruption_incidence" else "-",
                    "rho_median_run": mid,
                    "rho_low": lo,
                    "rho_high": hi,
                    "rho_of_medians": rho_median,
                    "null_low": nlo,
                    "null_high": nhi,
                    "p_one_sided": p,
                    "runs": int(np.isfinite(per_run).sum()),
                    "primary": ranking.primary,
                    "source": f"{ranking.publisher}, '{ranking.title}', {ranking.date}",
                    "url": ranking.url,
                }
            )
    return pd.DataFrame(recs)


@dataclass
class ValidationResult:
    """Every table of a validation, ready to write."""

    design: ValidationDesign
    source: ParameterSource
    data: ValidationData
    runs: ValidationRuns
    figures: pd.DataFrame
    quantities: pd.DataFrame
    regions: pd.DataFrame
    rankings: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """File name -> table."""
        return {
            "figures.csv": self.figures,
            "quantities.csv": self.quantities,
            "regions.csv": self.regions,
            "rankings.csv": self.rankings,
            "runs.csv": self.runs.quantities,
            "region_runs.csv": self.runs.regions,
            "draws.csv": self.runs.draws,
        }


def validate(
    design: ValidationDesign,
    source: ParameterSource,
    data: ValidationData | None = None,
    backend: str = "serial",
    workers: int | None = None,
    address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    runs: Runs | None = None,
) -> ValidationResult:
    """Run the validation and compute its tables."""
    data = data or load_validation_data()
    done = run_validation(design, source, backend, workers, address, progress, runs)
    return ValidationResult(
        design,
        source,
        data,
        done,
        compare_figures(done, data, design.root_seed),
        quantity_summary(done),
        region_summary(done, data),
        ranking_correlations(done, data, design.root_seed),
    )


class Validation(Study):
    """``statebiz validate``: the model at its parameter draws (``source``) against the published
    figures (``data``) it was not fitted to. Set ``source`` once the design is known."""

    name = "validation"

    def __init__(self, data: ValidationData | None = None, source: ParameterSource | None = None):
        self.data, self.source, self.result = data, source, None

    @override
    def default(self) -> ValidationDesign:
        return ValidationDesign()

    @override
    def quick(self) -> ValidationDesign:
        return QUICK

    @override
    def size(self, design: ValidationDesign) -> int:
        return design.runs()

    @override
    def compute(self, design: ValidationDesign, runs: Runs) -> dict[str, pd.DataFrame]:
        self.result = validate(design, self.source, self.data, runs=runs)
        return self.result.tables()

    @override
    def summary(self, design: ValidationDesign, tables: dict[str, pd.DataFrame], wall: float) -> str:
        return format_summary(self.result)

    @override
    def manifest(self, design: ValidationDesign, tables: dict[str, pd.DataFrame], wall: float) -> dict[str, Any]:
        return manifest(self.result)

    @override
    def draw(self, design: ValidationDesign, tables: dict[str, pd.DataFrame], tmp: Path) -> None:
        plot_ranking(self.result, tmp / "ranking.png")
        plot_figures(self.result, tmp / "figures.png")


# --------------------------------------------------------------------------- text and figures


def _pct(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.1f}%"


def format_summary(res: ValidationResult) -> str:
    """The printed summary (plain text)."""
    d, s = res.design, res.source
    label = (
        f"posterior {s.path} (model '{s.model}', sha256 {str(s.sha256)[:12]}...)"
        if s.label == "posterior"
        else "UNCALIBRATED: the scenario files' default parameters (no posterior)"
    )
    lines = [
        f"Validation out of sample (nothing fitted): {label}",
        f"  {d.draws} draw(s) x {d.seeds} seed(s) per scenario; Turkestan {d.turkestan_firms} firms, national "
        f"{d.national_firms} firms in 20 regions (power_spread {d.power_spread:g}); burn-in {d.burn_in}, "
        f"{d.quarters} reported quarters; {d.runs()} runs in {res.runs.wall:.0f} s; intervals 90%",
        "  published figures (simulated median [90% over draws x seeds] vs published [approx. sampling interval]):",
    ]
    for _, r in res.figures.iterrows():
        pub = f"{'>= ' if r['bound'] else ''}{_pct(r['published'])}"
        if math.isfinite(r["published_low"]):
            pub += f" [{_pct(r['published_low'])}, {_pct(r['published_high'])}]"
        diff = (
            f"{r['difference_pp']:+.1f} pp [{r['difference_low_pp']:+.1f}, {r['difference_high_pp']:+.1f}]"
            if math.isfinite(r["difference_pp"])
            else "n/a"
        )
        lines.append(
            f"    {r['figure']} ({r['scenario']}): simulated {_pct(r['simulated'])} "
            f"[{_pct(r['simulated_low'])}, {_pct(r['simulated_high'])}] vs {pub}: {diff}; {r['verdict']}"
        )
    lines.append(
        "  national scenario, regions in the order of their median corruption incidence; value median [90%]; "
        "rank: median [90%] of the per-run ranks (1 = most corruption; satisfaction: 1 = most satisfied):"
    )
    for _, r in res.regions.iterrows():
        tiers = ", ".join(f"{rk.id}: {r[rk.id]}" for rk in res.data.rankings if rk.primary)
        lines.append(
            f"    {int(r['rank_of_median_corruption_incidence']):>2}. {r['name']:<24} "
            f"{_pct(r['corruption_incidence'])} [{_pct(r['corruption_incidence_low'])}, "
            f"{_pct(r['corruption_incidence_high'])}]  rank {r['rank_corruption_incidence']:.0f} "
            f"[{r['rank_corruption_incidence_low']:.0f}, {r['rank_corruption_incidence_high']:.0f}]; "
            f"satisfied {_pct(r['business_satisfied'])} (rank {r['rank_business_satisfied']:.0f})  ({tiers})"
        )
    for _, r in res.rankings.iterrows():
        lines.append(
            f"  Spearman rho, simulated {r['outcome']} vs {r['ranking']} ({r['regions']} regions): "
            f"{r['rho_median_run']:+.2f} [{r['rho_low']:+.2f}, {r['rho_high']:+.2f}] over runs; "
            f"of the medians {r['rho_of_medians']:+.2f} (shuffled classes: [{r['null_low']:+.2f}, "
            f"{r['null_high']:+.2f}], one-sided p in the expected direction ({r['expected_sign']}) "
            f"{r['p_one_sided']:.2f})"
        )
    for m in res.data.missing:
        lines.append(f"  not found: {m['what']}")
    return "\n".join(lines)


TIER_COLOURS = {
    "high": "#D55E00",
    "average": "#E69F00",
    "low": "#009E73",
    "above_average": "#D55E00",
    "not_above": "#009E73",
    "not covered": "#999999",
}


def plot_ranking(res: ValidationResult, path: Path) -> Path:
    """The 20 regions: simulated rank by corruption incidence and by business satisfaction
    (median and 90% interval over draws x seeds), coloured by the primary independent ranking's class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    reg = res.regions.sort_values("rank_corruption_incidence", kind="stable").reset_index(drop=True)
    primary = res.data.primary()
    n = len(reg)
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.36 * n + 2.6), sharey=True)
    y = np.arange(n)
    for ax, k, title in (
        (axes[0], "corruption_incidence", "by corruption incidence (rank 1 = most corruption)"),
        (axes[1], "business_satisfied", "by business satisfaction (rank 1 = most satisfied)"),
    ):
        colours = [TIER_COLOURS.get(r[primary.id], "#999999") if primary else "#0072B2" for _, r in reg.iterrows()]
        med = reg[f"rank_{k}"].to_numpy()
        err = np.vstack([med - reg[f"rank_{k}_low"].to_numpy(), reg[f"rank_{k}_high"].to_numpy() - med])
        ax.errorbar(med, y, xerr=err, fmt="none", ecolor="#555555", elinewidth=1.2, capsize=3, zorder=1)
        ax.scatter(med, y, c=colours, s=55, edgecolors="black", linewidths=0.6, zorder=2)
        ax.text(n + 2.0, -0.9, "median\nvalue", ha="center", va="bottom", fontsize=7.5, color="#333333")
        for yi, (_, r) in zip(y, reg.iterrows()):
            ax.text(n + 2.0, yi, _pct(r[k]), ha="center", va="center", fontsize=7.5, color="#333333")
        ax.set_xlim(0.3, n + 3.4)
        ax.set_xticks(range(1, n + 1, 2 if n > 12 else 1))
        ax.set_xlabel("simulated rank (median and 90% interval)")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", color="#dddddd", lw=0.6)
    axes[0].set_yticks(y, reg["name"])
    axes[0].set_ylim(n - 0.4, -1.6)
    handles = []
    if primary is not None:
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markerfacecolor=TIER_COLOURS.get(t, "#999999"),
                markeredgecolor="black",
                label=f"{t.replace('_', ' ')}",
            )
            for t in (*primary.tiers, "not covered")
        ]
    rk = res.rankings
    rho = rk[(rk["ranking"] == getattr(primary, "id", "")) & (rk["outcome"] == REGIONAL[0])]
    note = ""
    if len(rho):
        r = rho.iloc[0]
        note = (
            f"Spearman rho of corruption incidence with the independent classes ({int(r['regions'])} regions): "
            f"{r['rho_median_run']:+.2f} [{r['rho_low']:+.2f}, {r['rho_high']:+.2f}] over runs "
            f"(shuffled classes give [{r['null_low']:+.2f}, {r['null_high']:+.2f}])"
        )
    if handles:
        fig.legend(
            handles=handles,
            loc="lower center",
            ncol=len(handles),
            title=f"point colour: independent ranking, {primary.label}",
            bbox_to_anchor=(0.5, -0.01),
            fontsize=8,
            title_fontsize=8,
        )
    d = res.design
    if res.source.label == "posterior":
        at = "at the Turkestan calibration"
        runs = f"{d.draws} posterior draws x {d.seeds} seeds"
    else:
        at = "at the UNCALIBRATED scenario defaults (no posterior)"
        runs = f"{d.draws * d.seeds} seeds"
    fig.suptitle(
        f"Model prediction: the 20 regions of the national scenario {at}, ranked\n"
        f"(intervals over {runs}; regions differ only by their official data)\n" + note,
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.07 if handles else 0, 1, 1))
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_figures(res: ValidationResult, path: Path) -> Path:
    """Published figures against the simulated values (90% intervals on both sides)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    rows = res.figures.reset_index(drop=True)
    n = len(rows)
    fig, ax = plt.subplots(figsize=(10.5, 0.62 * n + 2.2))
    y = np.arange(n)
    colours = {"turkestan": "#0072B2", "national": "#CC79A7"}
    for yi, (_, r) in zip(y, rows.iterrows()):
        c = colours.get(r["scenario"], "#0072B2")
        structural = r["model_quantity"] in STRUCTURAL
        if structural:
            ax.plot(100 * r["simulated"], yi - 0.15, marker="X", color=c, ms=8, ls="")
            ax.annotate(
                "by construction",
                (100 * r["simulated"], yi - 0.15),
                xytext=(-6, 0),
                textcoords="offset points",
                ha="right",
                va="center",
                fontsize=7,
                color=c,
            )
        else:
            ax.errorbar(
                100 * r["simulated"],
                yi - 0.15,
                xerr=[[100 * (r["simulated"] - r["simulated_low"])], [100 * (r["simulated_high"] - r["simulated"])]],
                fmt="o",
                color=c,
                capsize=3,
                ms=6,
            )
        if math.isfinite(r["published_low"]):
            ax.errorbar(
                100 * r["published"],
                yi + 0.15,
                xerr=[[100 * (r["published"] - r["published_low"])], [100 * (r["published_high"] - r["published"])]],
                fmt="s",
                color="black",
                capsize=3,
                ms=6,
            )
        else:
            ax.plot(100 * r["published"], yi + 0.15, marker=">" if r["bound"] else "D", color="black", ms=6, ls="")
    labels = [f"{r['label']}\n[{r['scenario']} scenario]" for _, r in rows.iterrows()]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_ylim(n - 0.5, -0.6)
    ax.set_xlim(0, 105)
    ax.set_xlabel("percent (of firms, respondents or cases: see the table)")
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.legend(
        handles=[
            *(
                Line2D(
                    [], [], marker="o", color=colours[k], ls="", label=f"simulated, {k} scenario (90%: draws x seeds)"
                )
                for k in ("turkestan", "national")
            ),
            Line2D([], [], marker="X", color="grey", ls="", label="simulated, fixed by the model's structure"),
            *(
                Line2D([], [], marker=m, color="black", ls="", label=label)
                for m, label in (
                    ("s", "published, approx. 90% sampling interval (n known)"),
                    ("D", "published, no sampling error known"),
                    (">", "published lower bound ('at least')"),
                )
            ),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.09),
        ncol=2,
        fontsize=8,
    )
    which = "posterior draws" if res.source.label == "posterior" else "UNCALIBRATED scenario defaults"
    ax.set_title(f"Published Kazakhstan figures (none of them fitted) vs the model ({which})", fontsize=10.5)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def manifest(res: ValidationResult) -> dict[str, Any]:
    """The run's provenance: seed, design, parameter source (file and hash), data file and sources."""
    s = res.source
    return {
        "kind": "validation out of sample",
        "calibrated": s.label == "posterior",
        "parameter_source": {
            "label": s.label,
            "posterior_file": s.path,
            "posterior_sha256": s.sha256,
            "posterior_model": s.model,
            "free_parameters": list(s.names),
        },
        "root_seed": res.design.root_seed,
        "draw_seed": design_seed(res.design.root_seed),
        "design": asdict(res.design),
        "runs": res.design.runs(),
        "run_wall_time_seconds": round(res.runs.wall, 3),
        "run_task_seconds": round(res.runs.task_seconds, 3),
        "data_file": res.data.path,
        "data_file_sha256": res.data.sha256,
        "sources": res.data.sources(),
        "not_found": list(res.data.missing),
        "interval": f"{LEVEL:.0%}: quantiles over posterior draws x seeds; published figures: binomial sampling "
        "interval where the sample size is known (no design effect); differences: Monte Carlo over both",
        "files": {
            "figures.csv": "per published figure and scenario: published value and interval, simulated median and "
            "90% interval, difference (pp) with its interval, verdict, source",
            "quantities.csv": "per scenario and model quantity: median, 90% interval, share of variance between draws",
            "regions.csv": "per region (national scenario): corruption incidence and business satisfaction with "
            "intervals, their ranks with intervals, and the region's class in each independent ranking",
            "rankings.csv": "Spearman rho of the simulated regional outcomes with each independent ranking "
            "(per run: median and interval; of the medians; permutation null)",
            "runs.csv": "per run (scenario, draw, seed): every comparison quantity",
            "region_runs.csv": "per national run and region: corruption incidence and business satisfaction",
            "draws.csv": "the parameter draws used (one row per draw)",
            "ranking.png": "the 20 regions' simulated ranks with intervals, coloured by the independent ranking",
            "figures.png": "published figures against the simulated values",
            "summary.txt": "the printed summary",
        },
    }


def read_result(directory: str | Path) -> dict[str, Any] | None:
    """A written validation result (for the report): its tables and manifest, or None if absent."""
    import json

    d = Path(directory)
    if not (d / "manifest.json").is_file() or not (d / "figures.csv").is_file():
        return None
    out: dict[str, Any] = {"dir": d, "manifest": json.loads((d / "manifest.json").read_text(encoding="utf-8"))}
    for name in ("figures", "quantities", "regions", "rankings"):
        out[name] = pd.read_csv(d / f"{name}.csv", keep_default_na=True)
    return out
