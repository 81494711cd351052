"""Posterior predictive checks, coverage, recovery on synthetic data and the horizon check."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..observe.survey import COHORTS, TABLES, observed_tables, table_labels
from ..runs.evaluator import Pool
from .config import COHORT_TABLES, MODELS, TABLE_SAMPLE, Calibration
from .likelihood import _rows, design_counts, row_sizes, run_survey_model, survey_logpmf
from .results import ModelPosterior, weighted_quantile
from .smc import _correlation


def _observed_counts() -> dict[str, np.ndarray]:
    """The paper's counts: the fitted rows (Table 6 per utility, else the total) and the cohort rows."""
    obs = {t: np.asarray(v, dtype=float) for t, v in observed_tables().items()}
    out = {t: (obs[t] if t == "table6" else obs[t].sum(axis=0, keepdims=True)) for t in TABLES}
    out |= {f"{t}_cohorts": obs[t] for t in COHORT_TABLES}
    return out


def _shares_rows(key: str, stats: dict[str, np.ndarray]) -> np.ndarray:
    table = key.split("_")[0]
    k = 3 if table != "table5" else 5
    return np.asarray(stats[key], dtype=float).reshape(-1, k)


def _draws(mp: ModelPosterior, n: int, rng: np.random.Generator) -> np.ndarray:
    ok = np.array([all(np.all(np.isfinite(v)) for v in s.values()) for s in mp.stats])
    w = np.where(ok, mp.weights, 0.0)
    return rng.choice(len(w), size=n, p=w / w.sum())


def predictive_checks(post: dict[str, ModelPosterior], calib: Calibration, observed=None):
    """Posterior predictive checks of every model, from its particles' stored statistics (no new runs).

    For ``predictive_draws`` weighted draws of particles and ``surveys_per_draw`` replicated surveys
    each (the survey's error model: Dirichlet-multinomial with the design effect of the table's sample,
    the paper's row sizes; the cohort rows with the paper's cohort sizes), returns ``(ppc, cells)``:
    - ppc: per model and table, the posterior predictive p-value of the discrepancy
      T = -log P(counts | shares, deff) (the share of replicates at least as discrepant as the
      paper's counts: small = the model cannot reproduce the table);
    - cells: per model and cell, the observed count, the predictive median and 90% interval.

    The stored statistics are the runs whose likelihood estimates kept the particles alive: with a
    noisy estimator these checks are optimistic (issue 25); :func:`fresh_checks` runs posterior
    draws again on new seeds.
    """
    import pandas as pd

    counts = _observed_counts() if observed is None else observed
    ppc_rows, cell_rows = [], []
    for m, mp in post.items():
        rng = np.random.default_rng([calib.seed, 3, list(MODELS).index(m)])
        picks = _draws(mp, calib.abc["predictive_draws"], rng)
        deffs = [calib.design_effects(dict(zip(mp.names, row))) for row in mp.values]
        stats = [mp.stats[i] for i in picks]
        reps = calib.abc["surveys_per_draw"]
        rows, cells = _replicated(m, stats, [deffs[i] for i in picks], calib, counts, rng, reps)
        ppc_rows += rows
        cell_rows += cells
    return pd.DataFrame(ppc_rows), pd.DataFrame(cell_rows)


def _replicated(
    m: str,
    stats: list[dict[str, np.ndarray]],
    deffs: list[dict[str, float]],
    calib: Calibration,
    counts: dict[str, np.ndarray],
    rng: np.random.Generator,
    reps: int,
) -> tuple[list[dict], list[dict]]:
    """The predictive checks of one model from the statistics of its draws (one dict per draw, with
    the draw's design effects): ``reps`` replicated surveys per draw; the PPC rows and the cell rows."""
    floor = calib.abc["share_floor"]
    keys = list(TABLES) + [f"{t}_cohorts" for t in COHORT_TABLES]
    sims = {k: [] for k in keys}
    worse = {t: 0 for t in TABLES}
    for st, deff in zip(stats, deffs):
        for key in keys:
            p = _shares_rows(key, st)
            n = counts[key].sum(axis=1)
            d = deff[TABLE_SAMPLE[key.split("_")[0]]]
            for _ in range(reps):
                y = np.stack([design_counts(p[r], n[r], d, rng, floor) for r in range(len(n))])
                sims[key].append(y)
                if key in worse:
                    t_rep = -survey_logpmf(y, p, d, floor).sum()
                    t_obs = -survey_logpmf(counts[key], p, d, floor).sum()
                    worse[key] += int(t_rep >= t_obs)
    total = len(stats) * reps
    ppc_rows = [{"model": m, "table": t, "p_value": worse[t] / total, "replicates": total} for t in TABLES]
    cell_rows = []
    for key in keys:
        table = key.split("_")[0]
        kind = "cohort" if key.endswith("_cohorts") else "total"
        row_labels, col_labels = table_labels(table)
        arr = np.stack(sims[key])  # replicates x rows x answers
        for r in range(arr.shape[1]):
            label = COHORTS[r] if kind == "cohort" else (row_labels[r] if table == "table6" else "Total")
            for c in range(arr.shape[2]):
                lo, med, hi = np.quantile(arr[:, r, c], [0.05, 0.5, 0.95], method="inverted_cdf")
                o = counts[key][r, c]
                cell_rows.append(
                    {
                        "model": m,
                        "kind": kind,
                        "table": table,
                        "row": label,
                        "column": col_labels[c],
                        "observed": int(round(o)),
                        "median": float(med),
                        "q05": float(lo),
                        "q95": float(hi),
                        "inside": bool(lo <= o <= hi),
                    }
                )
    return ppc_rows, cell_rows


#: The salt of the fresh runs' seeds: distinct from the calibration's other streams (3 the stored
#: predictive checks, 4 recovery, 5 the horizon check, 6 the misfit, 25 the independent runs).
FRESH_SALT = 31


def fresh_seed(seed: int, model: str, k: int) -> int:
    """The seed of the ``k``-th fresh run of ``model``: 2**32 plus a 32-bit draw from (seed,
    ``FRESH_SALT``, model, k). Every run of the fit (:func:`likelihood.particle_seed`), the horizon
    check and the misfit has a 32-bit seed (below 2**32), so no fresh run repeats a run of the fit."""
    return 2**32 + int(np.random.SeedSequence([seed, FRESH_SALT, list(MODELS).index(model), k]).generate_state(1)[0])


def fresh_checks(
    post: dict[str, ModelPosterior], calib: Calibration, pool: Pool | None = None, observed=None, task=None
):
    """The predictive checks on fresh runs (issue 25): for each model, ``fresh_draws`` particles drawn
    from the (pooled) posterior, each run once on a new seed (:func:`fresh_seed`) through the fit's
    evaluator (``pool``; None: in this process), and from these fresh statistics, not the stored ones:

    - the posterior predictive p-value per table, as :func:`predictive_checks` computes it (the same
      discrepancy, replicated surveys under the design effect); each draw carries
      ``ceil(predictive_draws x surveys_per_draw / fresh_draws)`` replicated surveys (at least
      ``surveys_per_draw``), so the p-value has the stored check's resolution;
    - the cells' 90% predictive intervals (their coverage: :func:`coverage`);
    - the misfit of the predictive mean shares (the fresh runs' mean): Pearson X^2, its Rao-Scott
      p at the design effect and the worst cell (:func:`likelihood.table_chi_square`).

    The fresh runs are draws of the posterior predictive, independent of the likelihood estimates
    that selected the particles: with a noisy estimator the stored statistics are the lucky runs,
    and the checks from them are optimistic. Returns ``(ppc, cells)``: ppc per model and table
    (``p_value``, ``replicates``, ``draws`` (runs that could be surveyed) and the misfit's columns),
    cells as :func:`predictive_checks`'s. Empty frames when
    ``fresh_draws`` is 0. ``task``: the run (a task for ``runs.evaluator``; a stub in tests).
    """
    import pandas as pd

    from ..runs.evaluator import evaluate
    from .likelihood import table_chi_square
    from .smc import stat_dict

    k = calib.abc.get("fresh_draws", 0)
    if k == 0:
        return pd.DataFrame(), pd.DataFrame()
    task = _misfit_task if task is None else task
    counts = _observed_counts() if observed is None else observed
    floor = calib.abc["share_floor"]
    reps = max(calib.abc["surveys_per_draw"], -(-calib.abc["predictive_draws"] * calib.abc["surveys_per_draw"] // k))
    tasks, drawn = [], {}
    for m, mp in post.items():
        rng = np.random.default_rng([calib.seed, FRESH_SALT, list(MODELS).index(m)])
        drawn[m] = _draws(mp, k, rng)
        for j, i in enumerate(drawn[m]):
            params = calib.run_parameters(m, dict(zip(mp.names, map(float, mp.values[i]))))
            tasks.append((len(tasks), task, params, fresh_seed(calib.seed, m, j), params["steps"], ()))
    if pool is None:
        results = {i: fn(p, seed, st, o) for i, fn, p, seed, st, o in tasks}
    else:
        results = dict(evaluate(tasks, pool.executor, pool.window, restart=pool.restart))
    ppc_rows, cell_rows, first = [], [], 0
    for m, mp in post.items():
        stats, deffs = [], []
        for j, i in enumerate(drawn[m]):
            row = results[first + j]
            st = None if row.get("error") else stat_dict(np.asarray(json.loads(row["stats"]), dtype=float))
            if st is not None and all(np.all(np.isfinite(v)) for v in st.values()):
                stats.append(st)
                deffs.append(calib.design_effects(dict(zip(mp.names, mp.values[i]))))
        first += len(drawn[m])
        if not stats:
            continue
        rng = np.random.default_rng([calib.seed, FRESH_SALT, list(MODELS).index(m), 1])
        rows, cells = _replicated(m, stats, deffs, calib, counts, rng, reps)
        mean = {key: np.mean([st[key] for st in stats], axis=0) for key in stats[0]}
        deff = {s: float(np.mean([d[s] for d in deffs])) for s in deffs[0]}
        chi = {r["table"]: r for r in table_chi_square(mean, counts, deff, floor)}
        for r in rows:
            c = chi[r["table"]]
            r |= {"draws": len(stats), "x2": c["x2"], "df": c["df"], "design_effect": c["design_effect"]}
            r |= {"x2_over_deff": c["x2_over_deff"], "misfit_p_value": c["p_value"], "worst_cell": c["worst_cell"]}
        ppc_rows += rows
        cell_rows += cells
    return pd.DataFrame(ppc_rows), pd.DataFrame(cell_rows)


def coverage(cells):
    """Share of observed cells inside their 90% predictive intervals, per model, kind and table, and overall."""
    import pandas as pd

    rows = []
    for (m, kind), sub in cells.groupby(["model", "kind"], sort=False):
        for t, s in list(sub.groupby("table", sort=False)) + [("all", sub)]:
            rows.append(
                {
                    "model": m,
                    "kind": kind,
                    "table": t,
                    "cells": len(s),
                    "inside": int(s["inside"].sum()),
                    "share_inside": float(s["inside"].mean()),
                }
            )
    return pd.DataFrame(rows)


def recovery(post: dict[str, ModelPosterior], calib: Calibration, observed=None):
    """Recovery of known parameters from synthetic data, per model and free parameter.

    For ``recovery_datasets`` particles drawn from the posterior (the truths), a synthetic survey
    is drawn from the truth's simulated shares (Dirichlet-multinomial, the paper's sizes) and
    the posterior given it is computed by importance reweighting the particles,
    w_i * L(synthetic | particle i) / L(paper | particle i) (no new runs: a local check around
    the fit). Reported: how often the truth lies in the 90% interval (about 0.9 when the
    inference is calibrated), the 90% interval's width over the prior's (shrinkage), and the
    correlation of the posterior mean with the truth over the datasets (recovery: near 1 when
    the data pin the parameter down, near 0 when they do not).
    """
    import pandas as pd

    floor = calib.abc["share_floor"]
    counts = _observed_counts() if observed is None else observed
    sizes = row_sizes()
    rows = []
    for m, mp in post.items():
        k = calib.abc["recovery_datasets"]
        if k == 0:
            continue
        rng = np.random.default_rng([calib.seed, 4, list(MODELS).index(m)])
        deffs = [calib.design_effects(dict(zip(mp.names, row))) for row in mp.values]
        unit = calib.to_unit(m, mp.values)
        ok = np.array([all(np.all(np.isfinite(s[t])) for t in TABLES) for s in mp.stats])

        def loglik(y: dict[str, np.ndarray], i: int, mp=mp, deffs=deffs) -> float:
            return sum(
                float(survey_logpmf(y[t], _rows(t, mp.stats[i][t]), deffs[i][TABLE_SAMPLE[t]], floor).sum())
                for t in TABLES
            )

        base = np.array([loglik(counts, i) if ok[i] else -np.inf for i in range(len(ok))])
        truths = _draws(mp, k, rng)
        cover = {n: [] for n in mp.names}
        width = {n: [] for n in mp.names}
        pairs = {n: [] for n in mp.names}
        for j in truths:
            y = {
                t: np.stack(
                    [
                        design_counts(r, n, deffs[j][TABLE_SAMPLE[t]], rng, floor)
                        for r, n in zip(_rows(t, mp.stats[j][t]), sizes[t].astype(int))
                    ]
                )
                for t in TABLES
            }
            logw = np.log(np.maximum(mp.weights, 1e-300)) + np.array(
                [loglik(y, i) - base[i] if ok[i] else -np.inf for i in range(len(ok))]
            )
            w = np.exp(logw - logw.max())
            w /= w.sum()
            for k, n in enumerate(mp.names):
                v = mp.column(n)
                lo, hi = weighted_quantile(v, w, [0.05, 0.95])
                cover[n].append(lo <= v[j] <= hi)
                u_lo, u_hi = weighted_quantile(unit[:, k], w, [0.05, 0.95])
                width[n].append(u_hi - u_lo)
                pairs[n].append((v[j], float(np.average(v, weights=w))))
        for n in mp.names:
            truth, mean = np.array(pairs[n]).T
            corr = _correlation(truth, mean)
            rows.append(
                {
                    "model": m,
                    "parameter": n,
                    "datasets": k,
                    "coverage_90": float(np.mean(cover[n])),
                    "width_over_prior": float(np.mean(width[n])),
                    "truth_mean_correlation": corr,
                }
            )
    return pd.DataFrame(rows)


def horizon_check(calib: Calibration, post: dict[str, ModelPosterior], pool: Pool, seeds: int = 2):
    """The fitted statistics at the posterior median of the first model, at the fit's horizon and
    with twice its burn-in (``seeds`` runs each): at the stationary state they agree within the
    runs' own noise. Returns per table the mean shares' largest difference and the seed noise."""
    import pandas as pd

    from ..runs.evaluator import evaluate

    m = next(iter(post))
    mp = post[m]
    median = {n: float(weighted_quantile(mp.column(n), mp.weights, 0.5)) for n in mp.names}
    base = calib.run_parameters(m, median)
    tasks = []
    for h, burn in enumerate((base["burn_in"], 2 * base["burn_in"])):
        for s in range(seeds):
            seed = int(np.random.SeedSequence([calib.seed, 5, s]).generate_state(1)[0])
            tasks.append((h * seeds + s, _horizon_task, base | {"burn_in": burn}, seed, base["steps"], ()))
    results = dict(evaluate(tasks, pool.executor, pool.window))
    rows = []
    for t in TABLES:
        runs = {h: [np.asarray(json.loads(results[h * seeds + s]["stats"])[t]) for s in range(seeds)] for h in (0, 1)}
        diff = np.abs(np.mean(runs[1], axis=0) - np.mean(runs[0], axis=0)).max()
        noise = float(np.max(np.std(np.concatenate([runs[0], runs[1]]), axis=0, ddof=1)))
        rows.append(
            {
                "table": t,
                "model": m,
                "burn_in": base["burn_in"],
                "burn_in_doubled": 2 * base["burn_in"],
                "largest_share_difference": float(diff),
                "seed_sd": noise,
            }
        )
    return pd.DataFrame(rows)


def _horizon_task(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One run for the horizon check (a task for ``runs.evaluator``): its statistics as JSON."""
    stats, _ = run_survey_model(params, seed)
    return {"stats": json.dumps({t: stats[t].tolist() for t in TABLES})}


def misfit(calib: Calibration, medians: dict[str, dict[str, float]], pool: Pool | None = None, seeds: int = 2):
    """Per model and table: Pearson's X^2 of the paper's counts at the model's posterior medians
    (the statistics averaged over ``seeds`` runs), its Rao-Scott correction by the design effect of
    the table's sample, the p-value and the worst cell (:func:`likelihood.table_chi_square`).
    Nothing here absorbs a misfit: it is reported as it is (issue 25)."""
    import pandas as pd

    from ..runs.evaluator import evaluate
    from .likelihood import table_chi_square
    from .smc import STAT_SIZES, stat_dict

    tasks, keys = [], []
    for m, values in medians.items():
        params = calib.run_parameters(m, values)
        for s in range(seeds):
            seed = int(np.random.SeedSequence([calib.seed, 6, list(MODELS).index(m), s]).generate_state(1)[0])
            tasks.append((len(tasks), _misfit_task, params, seed, params["steps"], ()))
            keys.append(m)
    if pool is None:
        results = {i: _misfit_task(p, seed, st, o) for i, _, p, seed, st, o in tasks}
    else:
        results = dict(evaluate(tasks, pool.executor, pool.window))
    counts = _observed_counts()
    rows = []
    for m, values in medians.items():
        vecs = [np.asarray(json.loads(results[i]["stats"])) for i, k in enumerate(keys) if k == m]
        stats = stat_dict(np.mean(vecs, axis=0)) if vecs else stat_dict(np.full(sum(STAT_SIZES.values()), np.nan))
        if not all(np.all(np.isfinite(stats[t])) for t in TABLES):
            continue
        for row in table_chi_square(stats, counts, calib.design_effects(values), calib.abc["share_floor"]):
            rows.append({"model": m, "runs": len(vecs)} | row)
    out = pd.DataFrame(rows)
    if len(out):
        for m, g in out.groupby("model", sort=False):
            x2 = float(g["x2_over_deff"].sum())
            df = int(g["df"].sum())
            from scipy.stats import chi2

            all_row = {"model": m, "runs": int(g["runs"].iloc[0]), "table": "all", "x2": float(g["x2"].sum())}
            all_row |= {"df": df, "x2_over_deff": x2, "p_value": float(chi2.sf(x2, df))}
            out = pd.concat([out, pd.DataFrame([all_row])], ignore_index=True)
    return out


def _misfit_task(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One run at a posterior median or a posterior draw (a task for ``runs.evaluator``): its
    statistics vector as JSON (NaN when the run cannot be surveyed)."""
    from .likelihood import _failed_statistics
    from .smc import stat_vector

    try:
        stats, _ = run_survey_model(params, seed)
    except ValueError:
        stats = _failed_statistics()
    return {"stats": json.dumps(stat_vector(stats).tolist())}


#: The transient check's long-run window (quarters from a run's start): past the burn-in that the
#: stationarity diagnostic certifies (docs/ODD.md 9: 112-177 quarters), and long enough that a slow drift
#: shows (docs/calibration/MEASURED.md 19-21 measured the transient against this window).
TRANSIENT_WINDOW = (250, 400)
#: Quarters between the surveys read in the window (the shares move slowly; the seeds do the averaging).
TRANSIENT_EVERY = 5
#: A cell's bias is "surely beyond" this margin when its 90% interval over seeds lies outside +-margin
#: (the margin of tools/calibration_burn_in.py: about a fifth of the survey's standard error of a share near
#: 0.3 among 198 residents at design effect 2, 4.6 pp).
TRANSIENT_MARGIN_PP = 1.0
#: The seed stream of the transient check's runs (others: 5 horizon, 6 misfit, 77-78 SBC).
TRANSIENT_SALT = 8


def transient_cells() -> list[tuple[str, str]]:
    """The fitted cells in the order of the statistics (Table 6 per utility, else the total row): (table,
    label), the label as the misfit table names a cell ("heat / Satisfied", "Total / 5")."""
    cells = []
    for t in TABLES:
        rows, cols = table_labels(t)
        for r in rows if t == "table6" else ["Total"]:
            cells += [(t, f"{r} / {c}") for c in cols]
    return cells


def transient(
    calib: Calibration,
    medians: dict[str, dict[str, float]],
    pool: Pool | None = None,
    seeds: int = 32,
    window: tuple[int, int] = TRANSIENT_WINDOW,
    every: int = TRANSIENT_EVERY,
):
    """What the burn-in leaves: per model (at its posterior medians) and fitted cell, the survey's population
    share at the fit's survey quarter (burn-in + steps) minus the same run's mean share over the long-run
    ``window`` (a survey every ``every`` quarters), over ``seeds`` runs from quarter 0 that only read the world.

    A run is the fit's run continued: up to the survey quarter its statistics are exactly those the fit's
    likelihood reads for the same parameters and seed (tests/calibration/test_transient.py); its seeds are the
    check's own (:data:`TRANSIENT_SALT`). Returns a
    DataFrame with one row per model and cell, and a row per model for Table 6 "satisfied" (the mean over the
    four utilities, with its own interval): the share at the survey quarter and in the window (%), the bias
    (pp) with its 90% interval over seeds (Student's t), and whether the interval lies beyond
    +-:data:`TRANSIENT_MARGIN_PP`. The bias is not in any posterior interval: the fit absorbed it into its
    parameters (docs/ODD.md limitation 23)."""

    from ..runs.evaluator import evaluate

    lo, hi = (int(q) for q in window)
    if seeds < 2:
        raise ValueError(f"seeds = {seeds}: the transient's interval needs at least 2 runs per model")
    tasks, keys = [], []
    for m, values in medians.items():
        params = calib.run_parameters(m, values)
        survey_at = int(params["burn_in"]) + int(params["steps"])
        if not (0 < survey_at < lo < hi and every >= 1):
            raise ValueError(
                f"window {lo}-{hi} (every {every}): expected the survey quarter {survey_at} < from < to, every >= 1"
            )
        for s in range(seeds):
            seed = int(
                np.random.SeedSequence([calib.seed, TRANSIENT_SALT, list(MODELS).index(m), s]).generate_state(1)[0]
            )
            tasks.append((len(tasks), _transient_task, params, seed, hi, (survey_at, lo, every)))
            keys.append((m, survey_at))
    if pool is None:
        results = {i: _transient_task(p, seed, st, o) for i, _, p, seed, st, o in tasks}
    else:
        results = dict(evaluate(tasks, pool.executor, pool.window))
    return transient_table(
        {m: [json.loads(results[i]["series"]) for i, k in enumerate(keys) if k[0] == m] for m in medians},
        {m: sa for m, sa in keys},
        window=(lo, hi),
    )


def transient_table(series: dict[str, list[dict]], survey_at: dict[str, int], window: tuple[int, int]):
    """The transient check's table from each model's runs: per run ``{"at": shares at the survey quarter,
    "window": [shares at each surveyed quarter of the window]}``, shares as the fitted cells (see
    :func:`transient`). A run that could not be surveyed (NaN) is left out."""
    import pandas as pd
    from scipy.stats import t as t_dist

    cells = transient_cells()
    first = table_labels("table6")[1][0]  # "Satisfied"
    satisfied = [i for i, (t, label) in enumerate(cells) if t == "table6" and label.endswith(f" / {first}")]
    rows = []
    for m, runs in series.items():
        at = np.array([r["at"] for r in runs], dtype=float)
        late = np.array([np.mean(r["window"], axis=0) for r in runs], dtype=float)
        keep = np.isfinite(at).all(axis=1) & np.isfinite(late).all(axis=1)
        at, late = 100 * at[keep], 100 * late[keep]
        n = int(keep.sum())
        columns = [(t, label, at[:, j], late[:, j]) for j, (t, label) in enumerate(cells)]
        columns.append(
            (
                "table6",
                f"mean of the utilities / {first}",
                at[:, satisfied].mean(axis=1),
                late[:, satisfied].mean(axis=1),
            )
        )
        for t, label, a, w in columns:
            bias = a - w
            mean = float(bias.mean()) if n else float("nan")
            half = float(t_dist.ppf(0.95, n - 1) * bias.std(ddof=1) / np.sqrt(n)) if n >= 2 else float("nan")
            rows.append(
                {
                    "model": m,
                    "table": t,
                    "cell": label,
                    "runs": n,
                    "survey_quarter": survey_at[m],
                    "window": f"{window[0]}-{window[1]}",
                    "at_survey_pct": float(a.mean()) if n else float("nan"),
                    "window_pct": float(w.mean()) if n else float("nan"),
                    "bias_pp": mean,
                    "bias_q05_pp": mean - half,
                    "bias_q95_pp": mean + half,
                    "beyond_margin": bool(mean - half > TRANSIENT_MARGIN_PP or mean + half < -TRANSIENT_MARGIN_PP),
                }
            )
    return pd.DataFrame(rows)


def _transient_task(params: dict[str, Any], seed: int, quarters: int, given: tuple) -> dict[str, Any]:
    """One run of the transient check (a task for ``runs.evaluator``): the fit's run from quarter 0 for
    ``quarters`` quarters, surveyed (only read) after the survey quarter and every ``every`` quarters of the
    window; the fitted cells' population shares as JSON (NaN when a survey finds no one to ask)."""
    from ..model import StateBusinessModel
    from ..observe.survey import simulate_survey
    from .likelihood import statistics_from_shares

    survey_at, lo, every = given
    size = len(transient_cells())

    def shares(model) -> list[float]:
        try:
            stats = statistics_from_shares(simulate_survey(model).population_shares)
        except ValueError:
            return [float("nan")] * size
        return np.concatenate([np.ravel(_rows(t, stats[t])) for t in TABLES]).tolist()

    model = StateBusinessModel(rng=seed, **(params | {"burn_in": 0, "steps": quarters}))
    at, late = None, []
    for q in range(1, quarters + 1):
        model.step()
        if q == survey_at:
            at = shares(model)
        if q >= lo and (q - lo) % every == 0:
            late.append(shares(model))
    return {"series": json.dumps({"at": at, "window": late})}
