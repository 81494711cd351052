"""The whole job: run the comparison, compute the tables, draw the figures, write the report.

Everything is written into a temporary sibling directory that replaces the output directory
by a rename once complete; an existing result is never replaced without ``overwrite``.
"""

from __future__ import annotations

import json
import platform
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import (
    check_writable,
    jsonable,
    model_version,
    provenance,
    result_dir,
    result_lock,
    staged_directory,
)
from ..runs.seeds import replication_seeds
from ..scenario import ScenarioError
from ..snapshots import start_record
from . import html, stats
from .config import DRAWN, ENDS, LEVERS, CompareConfig
from .content import ReportContext
from .content import rel as _rel
from .runs import execute
from .sections import draw, headline

REPORT = "report.html"
#: The report's first screen as plain text (the question, the answer, the headline differences, the caveats).
FIRST_SCREEN = "first_screen.txt"
#: Simulated surveys per paired run in the survey's posterior predictive (sampling only: cheap).
PREDICTIVE_PER_RUN = 20


@dataclass
class CompareResult:
    """The outcome of a comparison run: output directory, wall time, run count, statements and files
    written, and the report's first screen as plain text (``first_screen``: what the terminal shows)."""

    out_dir: Path
    wall: float
    runs: int
    statements: list[dict[str, Any]]
    files: list[str]
    first_screen: str = ""


def run_compare(
    config: CompareConfig,
    out_dir: str | Path | None = None,
    backend: str = "processes",
    workers: int | None = None,
    address: str | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    command: str | None = None,
) -> CompareResult:
    """Run the comparison and write ``out_dir`` (default ``results/<name>``): ``report.html``,
    the figures as PNG, the result tables (CSV, Parquet), ``summary.json`` and ``manifest.json``.

    Raises:
        ResultExistsError: ``out_dir`` exists and ``overwrite`` is false (checked before any run).
        RunFailure: a model run raised (nothing is written).
    """
    out_dir = result_dir(config.name, out_dir, origin=str(config.path), error=ScenarioError)
    check_writable(out_dir, overwrite)
    started = time.perf_counter()
    with result_lock(out_dir, quiet=progress is False):
        res = execute(config, backend=backend, workers=workers, address=address, progress=progress)
        run_wall = time.perf_counter() - started
        with staged_directory(out_dir, overwrite) as tmp:
            statements, files, first = _write(config, res, tmp, started, run_wall, backend, workers, address, command)
    return CompareResult(out_dir, time.perf_counter() - started, res["runs"], statements, files, first)


def _write(
    config: CompareConfig,
    res: dict[str, Any],
    tmp: Path,
    started: float,
    run_wall: float,
    backend: str,
    workers: int | None,
    address: str | None,
    command: str | None,
) -> tuple[list, list[str], str]:
    """Write everything into ``tmp``: the tables, the figures, the summary, the manifest and the page;
    returns the statements, the files and the first screen as text."""
    csvs, tables = _tables(config, res, tmp)
    ctx = ReportContext(config, tmp, tables=tables, runs=res, run_wall=run_wall)
    draw(ctx)  # every section draws its own figures
    diffs = tables["differences"]
    statements = html.summary_statements(
        diffs,
        tables["table1"],
        tables["survey"],
        tables["levers"],
        config.calibrated,
        int(diffs["n"].min()),
        ends=tables["ends"],
        along=tables["along"],
        ctx=ctx,
    )
    wall = time.perf_counter() - started
    manifest = _manifest(config, res, run_wall, wall, backend, workers, address, command)
    files = sorted(
        [
            *csvs,
            *(p.name for p in tmp.glob("*.parquet")),
            *(p.name for p in tmp.glob("*.png")),
            "summary.json",
            "manifest.json",
            FIRST_SCREEN,
            "report.html",
        ]
    )
    ctx.statements, ctx.manifest, ctx.files, ctx.wall = statements, manifest, files, wall
    page = html.render(ctx)
    first = headline.text(ctx)
    (tmp / "summary.json").write_text(json.dumps({"statements": statements}, indent=2) + "\n")
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=jsonable) + "\n")
    (tmp / FIRST_SCREEN).write_text(first, encoding="utf-8")
    (tmp / REPORT).write_text(page, encoding="utf-8")
    return statements, files, first


def _tables(config: CompareConfig, res: dict[str, Any], tmp: Path) -> tuple[dict[str, pd.DataFrame], dict]:
    """Compute the result tables and write them (CSV, and the raw runs as Parquet) into ``tmp``;
    returns the CSVs by file name and the tables by the names the sections read."""
    per_seed = stats.per_seed_differences(res["paired"])
    diffs = stats.paired_differences(per_seed)
    ts = stats.timeseries_summary(res["series"])
    t1 = stats.table1(res["regime_map"])
    counter = stats.counterfactuals(res["paired"])
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(2,)))
    survey, survey_cells = stats.survey_predictive(res["survey_shares"], rng, per_run=PREDICTIVE_PER_RUN)
    levers = stats.lever_effects(res["levers"])
    national = stats.national_summary(res["national"])
    robust = _robust_tables(config, res["robust"])
    along = stats.along_s(res["paired"], res["along"])
    ends = pd.DataFrame(config.ends_table())
    res["paired"].to_parquet(tmp / "paired_runs.parquet", index=False)
    res["series"].to_parquet(tmp / "timeseries.parquet", index=False)
    res["regime_map"].to_parquet(tmp / "regime_map_runs.parquet", index=False)
    res["levers"].to_parquet(tmp / "lever_runs.parquet", index=False)
    if not res["national"].empty:
        res["national"].to_parquet(tmp / "national_runs.parquet", index=False)
    if config.paired.along_s:
        res["along"].to_parquet(tmp / "along_runs.parquet", index=False)
    if config.robust is not None:
        res["robust"].to_parquet(tmp / "robust_runs.parquet", index=False)
    csvs = {
        "ends.csv": ends,
        "per_seed.csv": per_seed,
        "paired_differences.csv": diffs,
        "timeseries_summary.csv": ts,
        "table1.csv": t1,
        "survey_runs.csv": res["survey"],
        "survey_summary.csv": survey,
        "survey_cells.csv": survey_cells,
        "counterfactuals.csv": counter,
        "lever_effects.csv": levers,
        **({"national.csv": national} if not national.empty else {}),
        **({"posterior_draws.csv": draws_table(config)} if config.posterior is not None else {}),
        **({"along_s.csv": along} if config.paired.along_s else {}),
        **{f"robust_{name}.csv": frame for name, frame in robust.items()},
    }
    for name, frame in csvs.items():
        frame.to_csv(tmp / name, index=False)
    tables = {
        "per_seed": per_seed,
        "differences": diffs,
        "timeseries": ts,
        "table1": t1,
        "survey": survey,
        "survey_cells": survey_cells,
        "counterfactuals": counter,
        "levers": levers,
        "national": national,
        "along": along,
        "ends": ends,
        **{f"robust_{name}": frame for name, frame in robust.items()},
    }
    return csvs, tables


def _manifest(
    config: CompareConfig,
    res: dict[str, Any],
    run_wall: float,
    wall: float,
    backend: str,
    workers: int | None,
    address: str | None,
    command: str | None,
) -> dict[str, Any]:
    """The run's record: inputs, versions, machine, seeds, sizes, the ends, timing."""
    seeds = {
        name: replication_seeds(config.seed, getattr(config, name).replications * _n_draws(config, name))
        for name in ("paired", "regime_map", "levers", "robust", "national")
        if getattr(config, name) is not None
    }
    end_params = config.ends()  # the paired runs' parameters at s = 0 and s = 1
    rm = config.regime_map
    return {
        "name": config.name,
        "description": config.description,
        "compare_file": _rel(config.path),
        "compare_file_text": config.text,
        "quick": config.quick,
        "base_scenario": _rel(config.scenario_path),
        "calibrated": config.calibrated,
        "posterior": _rel(config.posterior.path) if config.posterior is not None else None,
        "posterior_ess": config.posterior.ess() if config.posterior is not None else None,
        "scenario_provenance": config.provenance,
        "model_version": model_version(),
        **provenance(),  # git commit, package versions, lock hash, machine
        "root_seed": config.seed,
        "replication_seeds": seeds,
        # how the runs start: cold, or warm from which pool of snapshots (simulation.snapshots)
        "start": {g: start_record(p) for g, p in end_params.items()},
        "parts": {
            name: {
                "replications": getattr(config, name).replications,
                "quarters": getattr(config, name).quarters,
                "base": getattr(config, name).base,
            }
            | ({"along_s": config.paired.along_s} if name == "paired" else {})
            | (
                {
                    "draws": config.n_draws(getattr(config, name)),
                    "seeds_per_draw": config.n_seeds(getattr(config, name)),
                }
                if name in DRAWN
                else {}
            )
            for name in ("paired", "regime_map", "levers", "robust", "national")
            if getattr(config, name) is not None
        },
        "ends": {g: {k: p[k] for k in ("governance", "symbiosis", *LEVERS)} for g, p in end_params.items()},
        "ends_differ_only_in": sorted(
            k for k, v in end_params["partnership"].items() if v != end_params["symbiotic"][k]
        ),
        "along_s": [ENDS["partnership"], *config.paired.along_s, ENDS["symbiotic"]],
        "regime_grid": rm.grid,
        "lever_ranges": config.lever_ranges(),
        "runs": res["runs"],
        "backend": backend,
        "workers": workers,
        "dask_address": address,
        "command": command,
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "run_wall_time_seconds": round(run_wall, 3),
        "wall_time_seconds": round(wall, 3),
    }


def _n_draws(config: CompareConfig, name: str) -> int:
    """Units per replication of a part: draws x seeds per draw / replications (1 for the other parts)."""
    part = getattr(config, name)
    return config.n_draws(part) * config.n_seeds(part) // part.replications if name in DRAWN else 1


def draws_table(config: CompareConfig) -> pd.DataFrame:
    """The posterior draws of the parts, one row per draw (the first draws are common to every part)."""
    part = max((p for p in (config.paired, config.levers, config.national) if p is not None), key=config.n_draws)
    return pd.DataFrame(config.draws(part)).rename_axis("draw").reset_index()


def _robust_tables(config: CompareConfig, runs) -> dict[str, Any]:
    """The robust part's tables (policies, PRIM boxes and limits, runs meeting the targets); {} if not run."""
    if config.robust is None or runs.empty:
        return {}
    from ..analysis.discovery import what_it_takes

    spec = config.robust.experiment
    levers = [f.name for f in spec.factors if f.role == "lever"]
    uncertainties = [f.name for f in spec.factors if f.role != "lever"]
    return what_it_takes(runs, levers, uncertainties, spec.targets)
