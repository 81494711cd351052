"""The whole calibration: fit, check and write (``statebiz calibrate``)."""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..io import (
    atomic_write_bytes,
    atomic_write_text,
    check_replaceable,
    check_writable,
    json_text,
    model_version,
    provenance,
    result_dir,
    result_lock,
    staged_directory,
)
from ..observe.survey import TABLES
from ..runs.evaluator import default_workers, open_executor
from ..scenario import load_scenario
from ..snapshots import start_record
from .checks import (
    _observed_counts,
    _shares_rows,
    coverage,
    fresh_checks,
    horizon_check,
    misfit,
    predictive_checks,
    recovery,
)
from .config import COHORT_TABLES, RECORD_DIR, RECORD_FILES, Calibration, CalibrationError
from .equivalence import FINGERPRINT_FILE, FINGERPRINT_NOTE, write_fingerprint
from .inference import (
    RHAT_NOTE,
    arviz_diagnostics,
    inference_data,
    inference_file,
    plot_ppc,
    ppc_figure,
    write_inference_data,
)
from .likelihood import _rows, row_sizes
from .plots import plot_diagnostics, plot_fit, plot_marginals
from .results import (
    bayes_factor,
    calibrated_scenario_text,
    evidence_table,
    generations,
    model_choice_statement,
    model_probabilities,
    pooled_posterior,
    posterior_summary,
    posterior_table,
    summary_markdown,
    weighted_quantile,
)
from .smc import fit, partial_database

#: What a calibration's result directory holds, as its manifest describes it.
FILES = {
    "smc.db": "the sampler's SQLite database (every stage's particles, likelihoods and statistics)",
    "posterior.csv": "the final particles of every model, weighted (read with simulation.posterior)",
    "posterior_summary.csv": "per model and parameter: mean, median, 5% and 95% quantiles, width/prior",
    "generations.csv": "per model and stage: temperature, ESS, acceptance, runs, log evidence",
    "ppc.csv": "per model and table: posterior predictive p-value of the DM discrepancy from the particles' "
    "stored statistics (optimistic: the runs that kept the particles alive)",
    "predictive.csv": "per model and cell: observed count, predictive median and 90% interval (stored statistics)",
    "coverage.csv": "share of observed cells in their 90% intervals: fitted totals, held-out cohorts (stored "
    "statistics)",
    "recovery.csv": "per model and parameter: coverage, shrinkage and recovery on synthetic data",
    "horizon.csv": "the fitted statistics at the fit's horizon and at twice its burn-in",
    "evidence.csv": "per model: log evidence of every independent run, mean, sd, 90% interval; distinct particles",
    "replicates.csv": "per model and independent run: log evidence, distinct share, posterior medians",
    "misfit.csv": "per model and table: X^2 at the posterior medians, Rao-Scott p at the design effect, worst cell",
    "diagnostics_arviz.csv": "per model and parameter: ArviZ R-hat across the independent runs (NaN with one), ESS",
    "posterior_marginals.png": "posterior marginals per parameter and model",
    "fit_totals.png": "observed vs predictive, fitted total cells",
    "fit_cohorts.png": "observed vs predictive, held-out age-cohort cells",
    "diagnostics.png": "temperature, ESS and acceptance per stage; posterior of s",
    "README.md": "the result in words and tables",
    FINGERPRINT_FILE: FINGERPRINT_NOTE,
}
#: The checks on fresh runs (``fresh_draws`` posterior draws, each run once on a new seed); written
#: when ``fresh_draws`` > 0.
FRESH_FILES = {
    "ppc_fresh.csv": "per model and table: posterior predictive p-value from fresh runs of posterior draws (new "
    "seeds), with the misfit (Pearson X^2, Rao-Scott p) of their mean shares and the stored p for comparison",
    "predictive_fresh.csv": "per model and cell: observed count, predictive median and 90% interval from fresh runs",
    "coverage_fresh.csv": "share of observed cells in their 90% intervals from fresh runs: totals, held-out cohorts",
}


@dataclass
class Fitted:
    """What the fit and its checks give, before anything is written."""

    post: dict[str, Any]
    gens: Any
    probs: dict[str, float]
    simulations: int
    exact: bool
    horizon: Any
    summary: Any
    ppc: Any
    cells: Any
    covered: Any
    rec: Any
    fit_wall: float
    evidence: Any = None
    runs: Any = None
    bf: dict | None = None
    statement: str = ""
    misfit: Any = None
    inference: dict[str, Any] | None = None  # model -> its InferenceData (posterior_<model>.nc)
    arviz: Any = None  # diagnostics_arviz.csv
    ppc_fresh: Any = None  # ppc_fresh.csv: the checks on fresh runs (empty when fresh_draws = 0)
    cells_fresh: Any = None  # predictive_fresh.csv
    covered_fresh: Any = None  # coverage_fresh.csv

    @property
    def fresh(self) -> bool:
        """Whether the checks on fresh runs were made."""
        return self.ppc_fresh is not None and len(self.ppc_fresh) > 0

    @property
    def best(self) -> str:
        """The model with the highest probability (the fitted one on a tie)."""
        return max(self.post, key=lambda m: (self.probs[m] if self.probs[m] == self.probs[m] else 0.0, m == "fitted"))

    @property
    def shown(self) -> str:
        """The model the figures of the fit show: the fitted one, else the best."""
        return "fitted" if "fitted" in self.post else self.best

    def coverage_share(self, fresh: bool = False) -> dict[str, dict[str, float]]:
        """Per model: the share of observed cells inside their 90% intervals (totals, cohorts), from the
        stored statistics or (``fresh``) from the fresh runs."""
        cov = self.covered_fresh if fresh else self.covered
        pick = cov["table"] == "all"
        return {
            m: {
                k: float(cov[(cov["model"] == m) & (cov["kind"] == k) & pick]["share_inside"].iloc[0])
                for k in ("total", "cohort")
            }
            for m in self.post
            if m in set(cov["model"])
        }


#: The shipped calibration file: the only one whose fit writes docs/calibration and the calibrated scenario by default.
SHIPPED_FILE = RECORD_DIR.parents[1] / "experiments" / "calibration_turkestan.toml"


def replicate_seed(seed: int, r: int) -> int:
    """The seed of independent run ``r`` (run 0: the calibration's own seed): the runs differ only by it."""
    return seed if r == 0 else int(np.random.SeedSequence([seed, 25, r]).generate_state(1)[0])


def replicate_database(partial: Path, r: int) -> Path:
    """Where independent run ``r`` keeps its database while it runs (run 0: ``partial`` itself)."""
    return partial if r == 0 else partial.with_name(partial.name.replace(".smc.db", f".smc_r{r}.db"))


def replicate_file(r: int) -> str:
    """The name of run ``r``'s database in the result directory."""
    return "smc.db" if r == 0 else f"smc_r{r}.db"


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
    resume: bool = False,
    record: str | Path | None = None,
) -> dict[str, Any]:
    """Fit, check and write everything (see the package docstring). Returns the manifest.

    ``resume``: continue the fit stored next to the result (an interrupted run) or in its
    ``abc.db`` (a finished one, up to a raised ``max_generations``); the result is replaced.
    ``scenario_out``: where to write the calibrated scenario (default: next to the base scenario,
    ``<name>_calibrated.toml``), never with ``--quick`` or synthetic data; ``False`` skips it.
    ``record``: where to copy the small result files (default ``docs/calibration``, same
    conditions as the scenario); ``False`` skips it. Both defaults apply only to the shipped
    file (``SHIPPED_FILE``); another calibration file writes them only when they are passed.
    """
    out_dir = result_dir(calib.name, out_dir, origin=calib.path, error=CalibrationError)
    partial = partial_database(out_dir)
    _check_start(calib, out_dir, partial, resume, overwrite)
    workers = workers or default_workers()
    started = time.perf_counter()

    def say(msg):
        if not quiet:
            print(f"[{time.perf_counter() - started:7.1f} s] {msg}", file=sys.stderr, flush=True)

    with result_lock(out_dir, quiet=quiet):
        for r in range(calib.abc["replicates"]):
            part = replicate_database(partial, r)
            if resume and not part.exists() and (out_dir / replicate_file(r)).exists():
                shutil.copy2(out_dir / replicate_file(r), part)
            elif not resume and part.exists():
                part.unlink()
        with staged_directory(out_dir, overwrite or resume) as tmp:  # all or nothing: renamed at the end
            say(
                f"tempered SMC: models {', '.join(calib.models)}; free {', '.join(calib.free())}; "
                f"{calib.abc['population_size']} particles per model; backend {backend} ({workers} workers)"
                + ("; resuming the stored fit" if resume else "")
            )
            done = _fit_and_check(calib, partial, observed, (backend, workers, address), started, say)
            _write_tables(tmp, calib, done)
            _draw(tmp, calib, done)
            for r in range(calib.abc["replicates"]):
                shutil.move(str(replicate_database(partial, r)), tmp / replicate_file(r))
            run = {"backend": backend, "workers": workers, "resumed": resume, "command": command}
            manifest = _manifest(calib, done, observed, run, time.perf_counter() - started)
            (tmp / "manifest.json").write_text(json_text(manifest), encoding="utf-8")
            say("fingerprint: 4 posterior particles per model run again at stored seeds")
            write_fingerprint(tmp)
            text = summary_markdown(
                manifest,
                done.summary,
                done.gens,
                done.ppc,
                done.covered,
                done.rec,
                done.horizon,
                extra={
                    "evidence": done.evidence,
                    "runs": done.runs,
                    "misfit": done.misfit,
                    "arviz": done.arviz,
                    "ppc_fresh": done.ppc_fresh if done.fresh else None,
                    "coverage_fresh": done.covered_fresh if done.fresh else None,
                },
            )
            (tmp / "README.md").write_text(text, encoding="utf-8")
    # the calibrated scenario and the record only from a full-size fit to the paper's data that reached the posterior
    official = not calib.quick and observed is None and manifest["exact_posterior"]
    # only the shipped calibration file writes the shipped record and scenario by default: a measurement
    # or study with its own file (another size, fewer models) must not overwrite them (issue 25: a
    # small-scale measurement did); pass ``scenario_out`` / ``record`` to write them from another file
    shipped = Path(calib.path).resolve() == SHIPPED_FILE.resolve()
    if not shipped:
        scenario_out = False if scenario_out is None else scenario_out
        record = False if record is None else record
    if official and scenario_out is not False:
        manifest["scenario_written"] = str(_write_scenario(calib, done, manifest, out_dir, scenario_out, command))
    if official and record is not False:
        manifest["record_written"] = str(_write_record(out_dir, record))
    return manifest


def _check_start(calib: Calibration, out_dir: Path, partial: Path, resume: bool, overwrite: bool) -> None:
    """Check before anything runs that the fit may start (or resume) and its result may be written."""
    stored = out_dir / "smc.db"
    if resume:
        if not partial.exists() and not stored.exists():
            raise CalibrationError(f"{calib.path}: nothing to resume: neither {partial} nor {stored} exists")
        if out_dir.exists() or out_dir.is_symlink():
            check_replaceable(out_dir, CalibrationError)  # the result is replaced: only statebiz's own
    else:
        check_writable(out_dir, overwrite)
        if partial.exists() and not overwrite:
            raise CalibrationError(
                f"{calib.path}: an interrupted fit is stored in {partial}; continue it with --resume, "
                "or start again with --overwrite"
            )


def _fit_and_check(calib: Calibration, partial: Path, observed, backend: tuple, started: float, say) -> Fitted:
    """The fit (``replicates`` independent tempered SMC runs on the backend's executor, differing only by
    seed), the pooled posterior, the evidences with their Monte Carlo error, the misfit at the posterior
    medians, the horizon check, the posterior predictive checks and recovery."""
    from dataclasses import replace

    with open_executor(*backend) as pool:
        replicates = []
        for r in range(calib.abc["replicates"]):
            run_calib = replace(calib, seed=replicate_seed(calib.seed, r))
            if calib.abc["replicates"] > 1:
                say(f"independent run {r + 1} of {calib.abc['replicates']} (seed {run_calib.seed})")
            replicates.append(fit(run_calib, replicate_database(partial, r), observed, pool=pool, say=say))
        fit_wall = time.perf_counter() - started
        post = pooled_posterior(replicates, calib)
        import pandas as pd

        gens = pd.concat([generations(st).assign(run=r) for r, st in enumerate(replicates)], ignore_index=True)
        probs = model_probabilities(post)
        simulations = int(gens["simulations"].sum())
        exact = all(mp.beta >= 1.0 for mp in post.values())
        evidence, runs = evidence_table(replicates, calib)
        bf = bayes_factor(runs, seed=calib.seed)
        statement = model_choice_statement(bf)
        say(
            f"fit done in {fit_wall:.0f} s: {simulations} runs; "
            + ("every model reached the posterior; " if exact else "STOPPED before the posterior; ")
            + ", ".join(f"P({m}) = {p:.3f}" for m, p in probs.items())
            + f"; {statement}"
        )
        medians = {
            m: {n: float(weighted_quantile(mp.column(n), mp.weights, 0.5)) for n in mp.names} for m, mp in post.items()
        }
        mis = misfit(calib, medians, pool)
        horizon = horizon_check(calib, post, pool)
        obs_counts = None if observed is None else _counts_from_statistics(observed)
        # the checks on fresh runs: posterior draws run again on new seeds (issue 25)
        ppc_fresh, cells_fresh = fresh_checks(post, calib, pool, obs_counts)
    summary = posterior_summary(post, calib)
    # the posterior in ArviZ's format: chain = independent run, draw = final particle (issue 25)
    seeds = [replicate_seed(calib.seed, r) for r in range(len(replicates))]
    counts, attrs = _observed_counts() if obs_counts is None else obs_counts, _provenance_attrs(observed)
    inference = {
        m: inference_data(calib, m, [st[m][-1] for st in replicates], counts, attrs, seeds) for m in calib.models
    }
    diagnostics = pd.concat([arviz_diagnostics(dt, m) for m, dt in inference.items()], ignore_index=True)
    ppc, cells = predictive_checks(post, calib, obs_counts)
    cov = coverage(cells)
    cov_fresh = None
    if len(ppc_fresh):
        stored = ppc.rename(columns={"p_value": "p_value_stored"})[["model", "table", "p_value_stored"]]
        ppc_fresh = ppc_fresh.merge(stored, on=["model", "table"], how="left")
        cov_fresh = coverage(cells_fresh)
        say(f"predictive checks on fresh runs done ({calib.abc['fresh_draws']} draws per model, new seeds)")
    rec = recovery(post, calib, obs_counts)
    say(f"posterior predictive checks and recovery done ({calib.abc['predictive_draws']} draws per model)")
    return Fitted(
        post,
        gens,
        probs,
        simulations,
        exact,
        horizon,
        summary,
        ppc,
        cells,
        cov,
        rec,
        fit_wall,
        evidence,
        runs,
        bf,
        statement,
        mis,
        inference,
        diagnostics,
        ppc_fresh,
        cells_fresh,
        cov_fresh,
    )


def _provenance_attrs(observed) -> dict[str, Any]:
    """What an InferenceData file records of where it came from (as the manifest does)."""
    prov = provenance(("arviz", "xarray", "h5netcdf"))
    return {
        "git_commit": prov["git_commit"],
        "model_version": model_version(),
        "lock_sha256": prov["lock_sha256"],
        "package_versions": prov["package_versions"],
        "machine_class": prov["machine"].get("machine_class", ""),
        "observed": "synthetic (passed in)"
        if observed is not None
        else "paper (simulation/data/turkestan_survey.toml)",
    }


def _write_tables(tmp: Path, calib: Calibration, done: Fitted) -> None:
    (tmp / "posterior.csv").write_text(posterior_table(done.post, calib), encoding="utf-8")
    for name, table in (
        ("posterior_summary", done.summary),
        ("generations", done.gens),
        ("ppc", done.ppc),
        ("predictive", done.cells),
        ("coverage", done.covered),
        ("recovery", done.rec),
        ("horizon", done.horizon),
        ("evidence", done.evidence),
        ("replicates", done.runs),
        ("misfit", done.misfit),
        ("diagnostics_arviz", done.arviz),
    ):
        table.to_csv(tmp / f"{name}.csv", index=False, float_format="%.6g")
    if done.fresh:
        for name, table in (
            ("ppc_fresh", done.ppc_fresh),
            ("predictive_fresh", done.cells_fresh),
            ("coverage_fresh", done.covered_fresh),
        ):
            table.to_csv(tmp / f"{name}.csv", index=False, float_format="%.6g")
    for m, dt in done.inference.items():
        write_inference_data(dt, tmp / inference_file(m))


def _draw(tmp: Path, calib: Calibration, done: Fitted) -> None:
    shown, cells = done.shown, done.cells
    plot_marginals(done.post, calib, tmp / "posterior_marginals.png")
    size = f"{calib.run_parameters(shown, {})['firms']} firms"
    plot_fit(
        cells[cells["model"] == shown],
        "total",
        f"Fitted totals: observed vs posterior predictive ({shown} model, {size}; "
        "90% intervals with the survey's design effect and the paper's sample sizes)",
        tmp / "fit_totals.png",
    )
    plot_fit(
        cells[cells["model"] == shown],
        "cohort",
        f"Held-out age-cohort cells: observed vs posterior predictive ({shown} model; not in the fit)",
        tmp / "fit_cohorts.png",
    )
    plot_diagnostics(done.gens, done.post, calib, tmp / "diagnostics.png")
    for m, dt in done.inference.items():
        runs = dt["posterior"].ds.sizes["chain"]
        plot_ppc(
            dt,
            tmp / ppc_figure(m),
            f"Posterior predictive check, {m} model ({inference_file(m)}: {runs} independent runs x "
            f"{dt['posterior'].ds.sizes['draw']} final particles, one survey each with the design effect)",
        )


def _manifest(calib: Calibration, done: Fitted, observed, run: dict[str, Any], wall: float) -> dict[str, Any]:
    """The calibration's manifest: its settings, the fit's facts, the checks, the provenance."""
    post, summary = done.post, done.summary
    s_row = summary[(summary["model"] == "fitted") & (summary["parameter"] == "symbiosis")]
    return {
        "calibration": calib.name,
        "calibration_file": calib.path,
        "scenario_file": calib.scenario.path,
        "quick": calib.quick,
        "seed": calib.seed,
        "models": calib.models,
        "model_settings": calib.model,
        # how the fit's runs start: cold, or warm from which pool of snapshots (simulation.snapshots)
        "start": start_record(dict(calib.scenario.params) | calib.model),
        "priors": {
            k: {"distribution": calib.prior_kind(k), "low": lo, "high": hi}
            for k, (lo, hi) in (calib.priors | calib.likelihood).items()
        },
        "error_model": {
            "likelihood": "Dirichlet-multinomial per row with rho_n = (deff - 1) / (n - 1): Var = n p (1 - p) deff",
            "design_effect": "free (prior in 'priors')" if calib.likelihood else calib.design,
            "per_table_discrepancy": None,
        },
        "abc": calib.abc,
        "backend": run["backend"],
        "workers": run["workers"],
        "resumed": run["resumed"],
        "observed": "synthetic (passed in)"
        if observed is not None
        else "paper (simulation/data/turkestan_survey.toml)",
        "stages": {m: int(mp.generation) for m, mp in post.items()},
        "simulations": done.simulations,
        "final_temperature": {m: (1.0 / mp.beta if mp.beta > 0 else None) for m, mp in post.items()},
        "exact_posterior": done.exact,
        "log_evidence": {m: float(mp.log_evidence) for m, mp in post.items()},
        "model_probabilities": done.probs,
        "independent_runs": calib.abc["replicates"],
        "log_evidence_runs": {
            m: done.runs[done.runs["model"] == m]["log_evidence"].astype(float).tolist() for m in calib.models
        },
        "log_evidence_sd": dict(zip(done.evidence["model"], done.evidence["log_evidence_sd"].astype(float))),
        "distinct_share": dict(zip(done.evidence["model"], done.evidence["distinct_share_mean"].astype(float))),
        "bayes_factor_s0_s1": done.bf,
        "model_choice": done.statement,
        "piles_at_bound": [
            {
                "model": r["model"],
                "parameter": r["parameter"],
                "bottom": r["mass_bottom_tenth"],
                "top": r["mass_top_tenth"],
                "q05": r["q05"],
                "q95": r["q95"],
            }
            for _, r in done.summary[done.summary["piles_at_bound"]].iterrows()
        ],
        "misfit_p_values": {
            m: dict(zip(g["table"], g["p_value"].astype(float))) for m, g in done.misfit.groupby("model")
        }
        if len(done.misfit)
        else {},
        "best_model": done.best,
        "symbiosis": None if s_row.empty else {k: float(s_row.iloc[0][k]) for k in ("median", "q05", "q95", "mean")},
        "ppc_p_values": {m: dict(zip(g["table"], g["p_value"].astype(float))) for m, g in done.ppc.groupby("model")},
        "coverage_90": done.coverage_share(),
        # the checks on fresh runs (issue 25): what says whether a table passes; the two above come from the
        # particles' stored statistics, the runs that kept them alive, and are optimistic
        "fresh_draws": calib.abc["fresh_draws"],
        "ppc_p_values_fresh": {
            m: dict(zip(g["table"], g["p_value"].astype(float))) for m, g in done.ppc_fresh.groupby("model")
        }
        if done.fresh
        else {},
        "fresh_misfit_p_values": {
            m: dict(zip(g["table"], g["misfit_p_value"].astype(float))) for m, g in done.ppc_fresh.groupby("model")
        }
        if done.fresh
        else {},
        "coverage_90_fresh": done.coverage_share(fresh=True) if done.fresh else {},
        "fit_wall_time_seconds": round(done.fit_wall, 1),
        "wall_time_seconds": round(wall, 1),
        **provenance(),
        "model_version": model_version(),
        "command": run["command"],
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "r_hat_max": {
            m: (float(g["r_hat"].max()) if g["r_hat"].notna().any() else None) for m, g in done.arviz.groupby("model")
        },
        "r_hat_note": RHAT_NOTE,
        "files": FILES
        | (FRESH_FILES if done.fresh else {})
        | {replicate_file(r): f"independent run {r}'s database" for r in range(1, calib.abc["replicates"])}
        | {
            inference_file(m): f"the {m} model's posterior as an ArviZ InferenceData (netCDF-4): posterior "
            "(chain = independent run, draw = final particle), posterior_predictive, observed_data, sample_stats"
            for m in calib.models
        }
        | {
            ppc_figure(m): f"posterior predictive check of the {m} model, drawn from its .nc file" for m in calib.models
        },
    }


def _write_scenario(calib: Calibration, done: Fitted, manifest: dict, out_dir: Path, scenario_out, command) -> Path:
    """Write the calibrated scenario (posterior medians of the fitted model) with its provenance; it must load."""
    base = Path(calib.scenario.path)
    target = Path(scenario_out) if scenario_out else base.with_name(f"{base.stem}_calibrated.toml")
    p = manifest["model_probabilities"]
    sym = manifest["symbiosis"]
    share = manifest.get("coverage_90_fresh") or manifest["coverage_90"]
    kind = "fresh runs" if manifest.get("coverage_90_fresh") else "stored statistics, optimistic"
    first_share = share[next(iter(share))]
    lines = [
        f"Calibrated {calib.scenario.name} scenario, written by `statebiz calibrate` (simulation/calibration/).",
        "Do not edit by hand: rerun the calibration instead.",
        f"date: {manifest['finished']}; git commit: {manifest['git_commit']}",
        f"command: {command or 'run_calibration()'}",
        f"calibration file: {calib.path}; base scenario: {calib.scenario.path}; seed {calib.seed}",
        f"fit runs: {json.dumps(calib.model)}; the survey is matched at the stationary state (after the burn-in)",
        "tempered SMC with a Dirichlet-multinomial likelihood: "
        f"{calib.abc['population_size']} particles per model, stages {json.dumps(manifest['stages'])}, "
        f"{manifest['simulations']} runs; exact posterior: {manifest['exact_posterior']}",
        "model probabilities: " + ", ".join(f"{m} {v:.3f}" for m, v in p.items()),
        (f"symbiosis s: median {sym['median']:.3f}, 90% interval [{sym['q05']:.3f}, {sym['q95']:.3f}]" if sym else ""),
        f"90% predictive coverage of the {next(iter(share))} model ({kind}): totals {first_share['total']:.0%}, "
        f"held-out cohort cells {first_share['cohort']:.0%}",
        f"full results: {out_dir}/; record: docs/calibration/",
    ]
    model = "fitted" if "fitted" in done.post else done.best
    atomic_write_text(target, calibrated_scenario_text(calib, model, done.summary, [x for x in lines if x]))
    load_scenario(target)  # the written file must load
    return target


def _write_record(out_dir: Path, record) -> Path:
    """Copy the small result files to the record (default ``docs/calibration``)."""
    dest = Path(record) if record else RECORD_DIR
    dest.mkdir(parents=True, exist_ok=True)
    names = [n for n in RECORD_FILES if n not in FRESH_FILES or (out_dir / n).exists()]  # fresh: when made
    names += sorted(p.name for p in out_dir.glob("posterior_*.nc"))
    names += sorted(p.name for p in out_dir.glob("ppc_*.png"))
    for name in names:
        atomic_write_bytes(dest / name, (out_dir / name).read_bytes())
    return dest


def _counts_from_statistics(stats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Counts of the fitted rows (shares x the paper's row sizes) and of the cohort rows (x the paper's
    cohort sizes) from statistics: the data of a synthetic calibration."""
    sizes = row_sizes()
    obs = _observed_counts()
    out = {t: _rows(t, stats[t]) * sizes[t][:, None] for t in TABLES}
    for t in COHORT_TABLES:
        key = f"{t}_cohorts"
        n = obs[key].sum(axis=1, keepdims=True)
        out[key] = _shares_rows(key, stats) * n if key in stats else obs[key]
    return out
