"""The whole job: run the comparison, compute the tables, draw the figures, write the report.

Everything is written into a temporary sibling directory that replaces the output directory
by a rename once complete; an existing result is never replaced without ``overwrite``.
"""

from __future__ import annotations

import json
from html import escape as _esc
import platform
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from ..runs.seeds import replication_seeds
from ..runs.spec import REPO_ROOT, Factor
from ..io import check_writable, git_commit, jsonable, model_version, package_versions, staged_directory
from . import figures, html, stats
from .config import GOVERNANCE, CompareConfig
from .runs import execute

REPORT = "report.html"


@dataclass
class CompareResult:
    out_dir: Path
    wall: float
    runs: int
    statements: list[dict[str, Any]]
    files: list[str]


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _sizes(config: CompareConfig, part) -> str:
    p = config.params(part, governance="partnership")
    return f"{p['firms']:,} firms, {p['residents_per_region']:,} residents, {part.quarters} quarters after {p['burn_in']} of burn-in"


def run_compare(config: CompareConfig, out_dir: str | Path | None = None, backend: str = "processes",
                workers: int | None = None, address: str | None = None, overwrite: bool = False,
                progress: bool | None = None, command: str | None = None) -> CompareResult:
    """Run the comparison and write ``out_dir`` (default ``results/<name>``): ``report.html``,
    the figures as PNG, the result tables (CSV, Parquet), ``summary.json`` and ``manifest.json``.

    Raises:
        ResultExistsError: ``out_dir`` exists and ``overwrite`` is false (checked before any run).
        RunFailure: a model run raised (nothing is written).
    """
    out_dir = Path(out_dir) if out_dir is not None else Path("results") / config.name
    check_writable(out_dir, overwrite)
    started = time.perf_counter()
    res = execute(config, backend=backend, workers=workers, address=address, progress=progress)
    run_wall = time.perf_counter() - started

    with staged_directory(out_dir, overwrite) as tmp:
        statements, files = _write(config, res, tmp, started, run_wall, backend, workers, address, command)
    return CompareResult(out_dir, time.perf_counter() - started, res["runs"], statements, files)


def _write(config: CompareConfig, res: dict[str, Any], tmp: Path, started: float, run_wall: float, backend: str,
           workers: int | None, address: str | None, command: str | None) -> tuple[list, list[str]]:
    # --- tables -------------------------------------------------------------------------------
    per_seed = stats.per_seed_differences(res["paired"])
    diffs = stats.paired_differences(per_seed)
    ts = stats.timeseries_summary(res["series"])
    t1 = stats.table1(res["regime_map"])
    survey = stats.survey_summary(res["survey"])
    levers = stats.lever_effects(res["levers"])
    res["paired"].to_parquet(tmp / "paired_runs.parquet", index=False)
    res["series"].to_parquet(tmp / "timeseries.parquet", index=False)
    res["regime_map"].to_parquet(tmp / "regime_map_runs.parquet", index=False)
    res["levers"].to_parquet(tmp / "lever_runs.parquet", index=False)
    csvs = {"per_seed.csv": per_seed, "paired_differences.csv": diffs, "timeseries_summary.csv": ts, "table1.csv": t1,
            "survey_runs.csv": res["survey"], "survey_summary.csv": survey, "lever_effects.csv": levers}
    for name, frame in csvs.items():
        frame.to_csv(tmp / name, index=False)

    # --- figures ------------------------------------------------------------------------------
    status = "calibrated" if config.calibrated else "NOT calibrated"
    where = f"{_rel(config.scenario_path)} ({status})"
    quick = ", --quick size" if config.quick else ""
    sub_paired = f"{where}; {_sizes(config, config.paired)}; {config.paired.replications} paired seeds{quick}"
    rm = config.regime_map
    grid = (f"P ∈ {{{', '.join(f'{v:g}' for v in rm.grid['power_strength'])}}} × "
            f"B ∈ {{{', '.join(f'{v:g}' for v in rm.grid['business_strength'])}}}")
    sub_regime = f"{where}; grid {grid}; {_sizes(config, rm)}; {rm.replications} seeds per cell{quick}"
    sub_levers = f"{where}; {_sizes(config, config.levers)}; {config.levers.replications} paired seeds{quick}"
    figs = {
        "table1": figures.table1_matrix(t1, tmp / "table1_matrix.png", sub_regime),
        "timeseries": figures.kpi_timeseries(ts, tmp / "kpi_timeseries.png", sub_paired),
        "differences": figures.paired_forest(diffs, tmp / "paired_differences.png", sub_paired),
        "survey": figures.survey_figure(survey, tmp / "survey.png", sub_paired),
        "levers": figures.lever_figure(levers, tmp / "levers.png", sub_levers),
    }
    from ..runs.analysis import regime_maps

    factors = [Factor("governance", "lever", values=GOVERNANCE),
               Factor("power_strength", "uncertainty", values=tuple(rm.grid["power_strength"])),
               Factor("business_strength", "uncertainty", values=tuple(rm.grid["business_strength"]))]
    written = regime_maps(res["regime_map"].assign(error=None), factors, tmp, config.name)
    figs["regime_map"] = written[0]

    # --- summary, methods, page ---------------------------------------------------------------
    statements = html.summary_statements(diffs, t1, survey, levers, config.calibrated, int(diffs["n"].min()))
    wall = time.perf_counter() - started
    seeds = {name: replication_seeds(config.seed, getattr(config, name).replications)
             for name in ("paired", "regime_map", "levers")}
    versions = package_versions()
    manifest = {
        "name": config.name, "description": config.description, "compare_file": _rel(config.path),
        "compare_file_text": config.text, "quick": config.quick,
        "base_scenario": _rel(config.scenario_path), "calibrated": config.calibrated,
        "scenario_provenance": config.provenance,
        "model_version": model_version(), "git_commit": git_commit(), "package_versions": versions,
        "root_seed": config.seed, "replication_seeds": seeds,
        "parts": {name: {"replications": getattr(config, name).replications, "quarters": getattr(config, name).quarters,
                         "base": getattr(config, name).base} for name in ("paired", "regime_map", "levers")},
        "regime_grid": rm.grid, "lever_ranges": config.lever_ranges(),
        "runs": res["runs"], "backend": backend, "workers": workers, "dask_address": address,
        "command": command, "host": socket.gethostname(), "platform": platform.platform(),
        "run_wall_time_seconds": round(run_wall, 3), "wall_time_seconds": round(wall, 3),
    }
    files = sorted([*csvs, *(p.name for p in tmp.glob("*.parquet")), *(p.name for p in tmp.glob("*.png")),
                    "summary.json", "manifest.json", "report.html"])
    methods = {"rows": [
        ("Question", "How do the partnership and the symbiotic model of state–business relations (two named parameter "
                     "presets of the same model) differ on the same seeds?"),
        ("Model", f"statebiz (Mesa {_esc(versions.get('mesa', '?'))}), ODD in <code>docs/ODD.md</code>; "
                  f"model version (hash of the model's source) <code>{model_version()}</code>; git commit "
                  f"<code>{_esc(git_commit())}</code>"),
        ("Base scenario", f"<code>{_esc(_rel(config.scenario_path))}</code> — "
                          + ("calibrated (provenance below)" if config.calibrated else
                             "<b>not calibrated</b>: the hand-set Turkestan scenario; no calibrated scenario "
                             "(<code>scenarios/turkestan_calibrated.toml</code>) existed when this report ran")),
        ("Compare file", f"<code>{_esc(_rel(config.path))}</code>" + (" (--quick sizes)" if config.quick else "")),
        ("Paired runs (sections 2–4)", f"{_esc(_sizes(config, config.paired))}; "
                                       f"{config.paired.replications} replications × 2 models"),
        ("Regime map (section 1)", f"grid {_esc(grid)} × 2 models; {_esc(_sizes(config, rm))}; "
                                   f"{rm.replications} replications per cell; design from "
                                   f"<code>{_esc(_rel(rm.experiment.path))}</code>"),
        ("Levers (section 5)", f"{len(config.lever_ranges())} levers × low/high × 2 models; "
                               f"{_esc(_sizes(config, config.levers))}; {config.levers.replications} replications; "
                               f"ranges from <code>{_esc(_rel(config.levers.experiment.path))}</code>"),
        ("Seeds", f"root seed {config.seed}; replication r of every part runs on "
                  f"<code>SeedSequence({config.seed}, spawn_key=(0, r))</code> in both models (paired); paired seeds: "
                  + ", ".join(str(s) for s in seeds["paired"])),
        ("Outcomes", "end of run = mean of the last 4 reported quarters (one year); national aggregates"),
        ("Intervals", "95% t-interval of the mean over replications (paired: over per-seed differences); survey: 5th–95th "
                      "percentile of the simulated counts across replications"),
        ("Runs", f"{res['runs']} model runs on backend <code>{_esc(backend)}</code>"
                 + (f" ({workers} workers)" if workers else "") + f"; {run_wall:.1f} s running, {wall:.1f} s in all"),
        ("Command", f"<code>{_esc(command or 'run_compare() from Python')}</code>"),
        ("Host", _esc(f"{socket.gethostname()}, {platform.platform()}, Python {versions['python']}")),
        ("Not included", "the national (20-region) scenario: the comparison is run on the Turkestan case of the paper's "
                         "survey only"),
    ], "provenance": config.provenance if config.calibrated else [], "files": files}
    title = "Partnership vs symbiotic governance: " + ("Turkestan, calibrated" if config.calibrated else
                                                        "Turkestan (model not calibrated yet)")
    page = html.render({"title": title, "subtitle": f"{config.description}. Generated "
                        f"{time.strftime('%Y-%m-%d %H:%M %Z')}" + (" at --quick size" if config.quick else ""),
                        "statements": statements, "figures": figs, "grid": grid,
                        "tables": {"table1": t1, "differences": diffs, "survey": survey, "levers": levers},
                        "methods": methods})
    (tmp / "summary.json").write_text(json.dumps({"statements": statements}, indent=2) + "\n")
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=jsonable) + "\n")
    (tmp / REPORT).write_text(page, encoding="utf-8")
    return statements, files

