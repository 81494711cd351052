"""The validation's design, its parameter draws and its runs (evaluator tasks)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...parameters import BY_NAME, resolve
from ...runs.seeds import design_seed, replication_seed
from ...runs.spec import REPO_ROOT
from ..base import Runs, StudyRunError, counted
from .data import CENSUS, REGIONAL

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
    from ...scenario import load_scenario

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
    from ...observe.enterprise_survey import simulate_enterprise_survey

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
    # bribes paid in the last year: demanded ones and offers of speed money accepted (the firm's memory)
    demanded, offered = f.last_year("paid")[dealt], f.last_year("offer_paid")[dealt]
    paid = (demanded + offered) > 0
    bribes = float(demanded.sum() + offered.sum())
    return es_values | {
        "informal_resolution": float(met.mean()) if dealt.any() else float("nan"),
        "paid_share": float(paid.mean()) if dealt.any() else float("nan"),
        "initiated_by_officials": float(demanded.sum()) / bribes if bribes > 0 else float("nan"),
        "corruption_incidence": float(out["corruption_incidence"]),
        "business_satisfied": float(out["business_satisfied"]),
        "firms_with_dealings": float(dealt.sum()),
    }


def turkestan_run(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One Turkestan run (an evaluator task): the comparison quantities at the end."""
    from ...model import StateBusinessModel

    model = StateBusinessModel(rng=seed, **(dict(params) | {"steps": steps}))
    model.run()
    return run_quantities(model)


def national_run(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One national run (an evaluator task): the comparison quantities of the 20 regions pooled,
    and per region the means of the last 4 reported quarters of :data:`REGIONAL`."""
    from ...model import StateBusinessModel
    from ...observe.outcomes import END_OF_RUN_QUARTERS

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
        with counted(progress, len(tasks), backend=backend, workers=workers, address=address) as own:
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
