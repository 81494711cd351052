"""The runs of the comparison: planned from the compare file, executed on one backend.

Every part pairs its runs by seed: replication r runs on the same seed (derived from the
root seed by ``simulation.runs.seeds``, ``SeedSequence(root, spawn_key=(0, r))``) in
both governance models and at every grid point or lever setting, so differences are paired
(common random numbers). All runs of all parts go through one call of
``simulation.runs.evaluator.evaluate`` on one executor (serial, local processes, Dask or MPI), so a Dask
cluster or a process pool starts once.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..observe.kpi import KPI_NAMES
from ..observe.observer import REGIMES
from ..observe.outcomes import TABLE1
from ..runs.evaluator import evaluate, open_executor, run_one
from ..runs.seeds import replication_seeds
from .config import ARMS, GOVERNANCE, CompareConfig

#: End-of-run outcomes kept from the regime map and the lever runs.
LEVER_OUTCOMES = (
    "corruption_incidence",
    "business_satisfied",
    "population_satisfied",
    "attracted_investment",
    "small_businesses",
)


#: End-of-run outcomes of the runs along s (between the ends; the ends are the paired runs).
ALONG_OUTCOMES = (
    "corruption_incidence",
    "business_satisfied",
    "population_satisfied",
    *KPI_NAMES,
    "hhi",
    "informality",
    *(f"regime_{r}" for r in REGIMES),
)


class RunFailure(RuntimeError):
    """A model run of the comparison raised; the report is not written."""


def paired_run(params: dict[str, Any], seed: int, steps: int, outcomes: tuple[str, ...]) -> dict[str, Any]:
    """One full run for the paired part: the national aggregates of every reported quarter
    (Mesa's DataCollector), the end-of-run outcomes and the survey (Tables 5-9) at the end."""
    from ..model import StateBusinessModel
    from ..observe.survey import simulate_survey

    model = StateBusinessModel(rng=seed, **(dict(params) | {"steps": steps}))
    model.run()
    series = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    survey = simulate_survey(model)
    return {
        "outcomes": model.outcomes(),
        "series": series.to_dict("list"),
        "survey": {k: v.tolist() for k, v in survey.tables.items()},
        "survey_population": survey.population,
        "survey_shares": {
            t: {k: np.asarray(v).tolist() for k, v in shares.items()} for t, shares in survey.population_shares.items()
        },
    }


#: Per-region end-of-run outcomes of the national part (means of the last 4 reported quarters).
NATIONAL_OUTCOMES = ("corruption_incidence", "business_satisfied", "population_satisfied")


def national_run(params: dict[str, Any], seed: int, steps: int, outcomes: tuple[str, ...]) -> dict[str, Any]:
    """One run of the national scenario: every region's end-of-run outcomes (mean of the last 4
    reported quarters of the region table), and the national ones."""
    from ..model import StateBusinessModel

    model = StateBusinessModel(rng=seed, **(dict(params) | {"steps": steps}))
    model.run()
    table = model.region_table()
    last = table[table["quarter"] > table["quarter"].max() - 4]
    regions = last.groupby("region", sort=False)[list(outcomes)].mean()
    return {"regions": {r: {o: float(v) for o, v in row.items()} for r, row in regions.iterrows()}} | {
        o: float(model.outcomes()[o]) for o in outcomes
    }


def units(config: CompareConfig, part) -> list[tuple[int, int, int, dict[str, float]]]:
    """The (draw, replication, seed, draw's parameters) of a posterior part: draw d's
    replication r runs on seed ``u = d * R + r`` of the root seed's replication seeds, in every
    arm (so differences between arms are paired); without a posterior one draw (the base
    scenario) on ``draws x replications`` seeds, the same number of runs."""
    draws = config.draws(part)
    # without a posterior the part's runs all go to seeds: one "draw" on draws x replications seeds
    reps = config.n_seeds(part)
    seeds = replication_seeds(config.seed, len(draws) * reps)
    return [(d, r, seeds[d * reps + r], draw) for d, draw in enumerate(draws) for r in range(reps)]


@dataclass
class Plan:
    """Every task of the comparison and what each one is (part, governance, replication, setting)."""

    tasks: list[tuple]  # (task_id, fn, params, seed, steps, outcomes) as evaluator.execute takes them
    meta: dict[int, dict[str, Any]]  # task_id -> part, governance, replication, seed, setting


def regime_outcomes() -> tuple[str, ...]:
    """The outcomes kept from the regime map: the emergent Table 1's (the registry's ``TABLE1``)."""
    return TABLE1


#: The parts of the comparison, as the plan names them.
PARTS = ("national", "paired", "along", "regime_map", "levers", "robust")


def plan(config: CompareConfig, parts: tuple[str, ...] = PARTS) -> Plan:
    """The comparison's tasks (of ``parts``, default all), longest runs first, paired by seed
    across models and settings."""
    tasks, meta = [], {}

    def add(part, fn, params, seed, steps, outcomes, **info):
        if part not in parts:
            return
        task_id = len(tasks)
        tasks.append((task_id, fn, params, seed, steps, tuple(outcomes)))
        meta[task_id] = {"part": part, "seed": seed, **info}

    # longest runs first, so that the pool's workers finish together
    nat = config.national
    for d, r, seed, draw in units(config, nat) if nat is not None else []:
        for g in GOVERNANCE:
            add(
                "national",
                national_run,
                config.arm_params(nat, draw, g),
                seed,
                nat.quarters,
                NATIONAL_OUTCOMES,
                governance=g,
                draw=d,
                replication=r,
            )
    for d, r, seed, draw in units(config, config.paired):
        for arm in ARMS:
            params = config.arm_params(config.paired, draw, arm)
            add(
                "paired",
                paired_run,
                params,
                seed,
                config.paired.quarters,
                (),
                governance=arm,
                draw=d,
                replication=r,
                symbiosis=params["symbiosis"],
                overdispersion=draw.get("overdispersion", np.nan),
            )
    # along s: the paired runs' draws, seeds and sizes at the values of s between the ends
    for d, r, seed, draw in units(config, config.paired):
        for s in config.paired.along_s:
            add(
                "along",
                run_one,
                config.arm_params(config.paired, draw, "calibrated", symbiosis=s),
                seed,
                config.paired.quarters,
                ALONG_OUTCOMES,
                governance="",
                draw=d,
                replication=r,
                symbiosis=s,
            )
    rm = config.regime_map
    outcomes = regime_outcomes()
    for r, seed in enumerate(replication_seeds(config.seed, rm.replications)):
        for g in GOVERNANCE:
            for p in rm.grid["power_strength"]:
                for b in rm.grid["business_strength"]:
                    add(
                        "regime_map",
                        run_one,
                        config.params(rm, governance=g, power_strength=p, business_strength=b),
                        seed,
                        rm.quarters,
                        outcomes,
                        governance=g,
                        replication=r,
                        power_strength=p,
                        business_strength=b,
                    )
    lv = config.levers
    for d, r, seed, draw in units(config, lv):
        for arm in ARMS:
            for lever, (low, high) in config.lever_ranges().items():
                for level, value in (("low", low), ("high", high)):
                    params = config.arm_params(lv, draw, arm, **{lever: value})
                    add(
                        "levers",
                        run_one,
                        params,
                        seed,
                        lv.quarters,
                        LEVER_OUTCOMES,
                        governance=arm,
                        draw=d,
                        replication=r,
                        lever=lever,
                        level=level,
                        value=value,
                        symbiosis=params["symbiosis"],
                    )
    rb = config.robust
    if rb is not None:
        outcomes = tuple(rb.experiment.outcomes)
        for r, seed in enumerate(replication_seeds(config.seed, rb.replications)):
            for i, point in enumerate(rb.points):
                add(
                    "robust",
                    run_one,
                    config.params(rb, **point),
                    seed,
                    rb.quarters,
                    outcomes,
                    governance=point.get("governance", ""),
                    replication=r,
                    point=i,
                    setting=point,
                )
    return Plan(tasks, meta)


def execute(
    config: CompareConfig,
    backend: str = "processes",
    workers: int | None = None,
    address: str | None = None,
    progress: bool | None = None,
    parts: tuple[str, ...] = PARTS,
) -> dict[str, Any]:
    """Run every task of the plan (of ``parts``, default all); return the tables of each part.

    Returns:
        ``paired`` (one row per arm, draw and replication: seed, s, the draw's overdispersion,
        end-of-run outcomes; arm = ``governance``: calibrated, partnership or symbiotic),
        ``series`` (one row per governance, replication and quarter: national aggregates),
        ``survey`` (one row per governance, replication, table and answer: the sample's count),
        ``regime_map``, ``levers``, ``robust`` and ``along`` (one row per run: settings and
        outcomes; ``along``: the runs at s between the ends), ``national`` (one row per arm, draw,
        replication and region: the region's end-of-run outcomes), ``survey_shares`` (per paired
        run: arm, draw, seed, overdispersion and the population's answer shares), ``runs``.

    Raises:
        RunFailure: a run raised (its error and seed in the message).
    """
    from tqdm import tqdm

    from ..observe.survey import table_labels

    p = plan(config, parts)
    results: dict[int, dict] = {}
    tqdm.monitor_interval = 0  # no monitor thread: the process backend may then fork safely
    bar = tqdm(
        total=len(p.tasks),
        desc="compare",
        unit="run",
        file=sys.stderr,
        disable=(None if progress is None else not progress),
        dynamic_ncols=True,
    )
    try:
        with open_executor(backend, workers, address) as pool:
            for task_id, row in evaluate(p.tasks, pool.executor, pool.window, restart=pool.restart, alive=pool.alive):
                if row.get("error") is not None:
                    m = p.meta[task_id]
                    raise RunFailure(
                        f"{m['part']} run ({m['governance']}, draw {m.get('draw', 0)}, replication {m['replication']}, "
                        f"seed {m['seed']}) "
                        f"failed: {row['error']}"
                    )
                results[task_id] = row
                bar.update()
    finally:
        bar.close()

    paired, series, survey, regime, levers, robust, along, national, shares = [], [], [], [], [], [], [], [], []
    for task_id in sorted(results):
        m, row = p.meta[task_id], results[task_id]
        key = {"governance": m["governance"], "replication": m["replication"], "seed": m["seed"]}
        if "draw" in m:
            key = {"governance": m["governance"], "draw": m["draw"], "replication": m["replication"], "seed": m["seed"]}
        if m["part"] == "national":
            for region, values in row["regions"].items():
                national.append(key | {"region": region} | values)
        elif m["part"] == "paired":
            paired.append(key | {"symbiosis": m["symbiosis"], "overdispersion": m["overdispersion"]} | row["outcomes"])
            shares.append(key | {"overdispersion": m["overdispersion"], "shares": row["survey_shares"]})
            frame = pd.DataFrame(row["series"])
            frame.insert(0, "quarter", range(1, len(frame) + 1))
            for k, v in reversed(list(key.items())):
                frame.insert(0, k, v)
            series.append(frame)
            for table, counts in row["survey"].items():
                rows, cols = table_labels(table)
                for i, counts_row in enumerate(counts):
                    for j, n in enumerate(counts_row):
                        survey.append(
                            key
                            | {"table": table, "row": rows[i], "answer": cols[j], "answer_index": j, "count": int(n)}
                        )
        elif m["part"] == "regime_map":
            regime.append(
                key
                | {"power_strength": m["power_strength"], "business_strength": m["business_strength"]}
                | {k: v for k, v in row.items() if k not in ("error", "elapsed_s")}
            )
        elif m["part"] == "along":
            along.append(
                {"symbiosis": m["symbiosis"], "draw": m["draw"], "replication": m["replication"], "seed": m["seed"]}
                | {k: v for k, v in row.items() if k not in ("error", "elapsed_s")}
            )
        elif m["part"] == "robust":
            robust.append(
                {"point": m["point"], "replication": m["replication"], "seed": m["seed"]}
                | m["setting"]
                | {k: v for k, v in row.items() if k != "elapsed_s"}
            )
        else:
            levers.append(
                key
                | {"lever": m["lever"], "level": m["level"], "value": m["value"], "symbiosis": m["symbiosis"]}
                | {k: v for k, v in row.items() if k not in ("error", "elapsed_s")}
            )
    return {
        "paired": pd.DataFrame(paired),
        "series": pd.concat(series, ignore_index=True) if series else pd.DataFrame(),
        "survey": pd.DataFrame(survey),
        "regime_map": pd.DataFrame(regime),
        "levers": pd.DataFrame(levers),
        "robust": pd.DataFrame(robust),
        "along": pd.DataFrame(along, columns=["symbiosis", "draw", "replication", "seed", *ALONG_OUTCOMES]),
        "national": pd.DataFrame(national),
        "survey_shares": shares,
        "runs": len(p.tasks),
    }
