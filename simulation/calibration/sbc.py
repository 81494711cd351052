"""Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018): genuine re-fits of
synthetic data drawn from the prior (``statebiz calibrate FILE --sbc N``; issue 25, item 4).

For each of N datasets: draw the truth theta* from the prior, run the model at theta* and draw the
paper's tables from the run's shares under the survey's error model (the design effect, the paper's
row sizes), fit them with the same sampler as the real data (a new seed per dataset), and take the
rank of theta* among the L posterior particles, per parameter. If the sampler and the likelihood are
right, every rank is uniform on 0..L; a U shape says the posterior is too narrow, a hump too wide, a
slope a bias. Uniformity is tested per parameter with Pearson's chi-square over equal-width bins, and
the share of truths inside the central 90% posterior interval is reported (nominal 0.9).

The generic part (:func:`sbc_ranks`, :func:`rank_uniformity`) takes any prior, simulator and fitter,
so it is tested on a conjugate model whose exact posterior is known (tests/calibration/test_sbc.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..observe.survey import TABLES
from .config import MODELS, SAMPLE_SIZE, TABLE_SAMPLE, Calibration
from .likelihood import _rows, design_counts, row_sizes


def sbc_ranks(
    prior: Callable[[np.random.Generator], np.ndarray],
    simulate: Callable[[np.ndarray, np.random.Generator], Any],
    fit: Callable[[Any, int], np.ndarray],
    datasets: int,
    seed: int,
) -> tuple[np.ndarray, int]:
    """Ranks of the truths among the posterior draws: ``(ranks datasets x parameters, draws L)``.

    ``prior(rng)`` -> a truth; ``simulate(truth, rng)`` -> data; ``fit(data, k)`` -> posterior draws
    (L x parameters, equally weighted) of dataset k. The rank is the number of draws below the truth
    (ties split at random), so it lies in 0..L."""
    ranks, size = [], None
    for k in range(datasets):
        rng = np.random.default_rng([seed, k])
        truth = np.atleast_1d(prior(rng))
        draws = np.atleast_2d(fit(simulate(truth, rng), k))
        if draws.shape[0] == 1 and draws.shape[1] != truth.size:
            draws = draws.T
        size = draws.shape[0]
        below = (draws < truth).sum(axis=0)
        ties = (draws == truth).sum(axis=0)
        ranks.append(below + np.array([rng.integers(0, t + 1) for t in ties]))
    return np.array(ranks), int(size or 0)


def rank_uniformity(ranks: np.ndarray, draws: int, bins: int | None = None) -> list[dict[str, float]]:
    """Per parameter (column of ``ranks``): Pearson's chi-square of the ranks' histogram over ``bins``
    equal bins of 0..``draws`` against the uniform, its p-value, and the histogram."""
    from scipy.stats import chisquare

    ranks = np.atleast_2d(ranks)
    n = ranks.shape[0]
    bins = bins or max(2, min(20, n // 5, draws + 1))
    edges = np.linspace(0, draws + 1, bins + 1)
    out = []
    for j in range(ranks.shape[1]):
        hist, _ = np.histogram(ranks[:, j], bins=edges)
        expected = np.full(bins, n / bins) * np.diff(edges) / ((draws + 1) / bins)
        expected *= n / expected.sum()
        out.append(
            {
                "bins": bins,
                "chi2": float(((hist - expected) ** 2 / expected).sum()),
                "p_value": float(chisquare(hist, expected).pvalue),
                "histogram": hist.tolist(),
            }
        )
    return out


# --------------------------------------------------------------------------- the model's SBC


def synthetic_statistics(stats: dict[str, np.ndarray], deffs: dict[str, float], rng) -> dict[str, np.ndarray]:
    """The paper's tables drawn from a run's shares under the survey's error model, as observed
    statistics (shares of the paper's row sizes; Table 6 per utility)."""
    sizes = row_sizes()
    out = {}
    for t in TABLES:
        rows = _rows(t, stats[t])
        counts = np.stack(
            [design_counts(r, int(n), deffs[TABLE_SAMPLE[t]], rng) for r, n in zip(rows, sizes[t].astype(int))]
        )
        out[t] = (counts / SAMPLE_SIZE[t]).ravel() if t == "table6" else (counts.sum(axis=0) / counts.sum())
    return out


def _sbc_model(calib: Calibration, m: str, datasets: int, work: Path, pool, say) -> tuple[list, list, list, list, int]:
    """One model's SBC: the truths, the posterior particles, the ranks, the re-fit times and runs."""
    from .likelihood import SurveyModel
    from .smc import fit

    names = list(calib.model_priors(m))
    truths, posts, times, runs = [], [], [], []

    def prior(rng):
        truths.append(calib.to_values(m, rng.random(len(names))))
        return truths[-1]

    def simulate(truth, rng):
        values = dict(zip(names, map(float, truth)))
        stats = SurveyModel(calib, m)(values)
        if not all(np.all(np.isfinite(stats[t])) for t in TABLES):
            return None
        return synthetic_statistics(stats, calib.design_effects(values), rng)

    def refit(data, k):
        if data is None:  # the truth cannot be surveyed (a cohort without units): no rank
            posts.append(np.full((calib.abc["population_size"], len(names)), np.nan))
            return posts[-1]
        one = replace(calib, models=[m], seed=int(np.random.SeedSequence([calib.seed, 77, k]).generate_state(1)[0]))
        db = work / f"sbc_{m}_{k}.db"
        if db.exists():
            db.unlink()
        started = time.perf_counter()
        stages = fit(one, db, data, pool=pool)
        times.append(time.perf_counter() - started)
        runs.append(int(sum(s.simulations for s in stages[m])))
        db.unlink()
        say(f"SBC {m}: dataset {k + 1} of {datasets} refitted in {times[-1]:.0f} s ({runs[-1]} runs)")
        posts.append(calib.to_values(m, stages[m][-1].u))
        return posts[-1]

    seed = int(np.random.SeedSequence([calib.seed, 78, list(MODELS).index(m)]).generate_state(1)[0])
    ranks, size = sbc_ranks(prior, simulate, refit, datasets, seed)
    return truths, posts, ranks, [times, runs], size


def run_sbc(calib: Calibration, datasets: int, work: Path, pool, say=lambda msg: None) -> tuple[Any, Any, dict]:
    """SBC of every model of ``calib`` (s free or fixed): ``(ranks, summary, facts)``.

    ``ranks``: per model, dataset and parameter the truth, the rank and the posterior's 90% interval;
    ``summary``: per model and parameter the chi-square p of uniformity and the 90% coverage;
    ``facts``: the time of one re-fit (mean and max) and the runs per re-fit, per model."""
    import pandas as pd

    rows, facts = [], {"refit_seconds": {}, "runs_per_refit": {}}
    for m in calib.models:
        truths, posts, ranks, (times, runs), size = _sbc_model(calib, m, datasets, work, pool, say)
        for k in range(datasets):
            for j, n in enumerate(calib.model_priors(m)):
                d = posts[k][:, j]
                ok = bool(np.all(np.isfinite(d)))
                lo, hi = np.quantile(d, [0.05, 0.95]) if ok else (np.nan, np.nan)
                rows.append(
                    {
                        "model": m,
                        "dataset": k,
                        "parameter": n,
                        "truth": float(truths[k][j]),
                        "rank": int(ranks[k, j]) if ok else -1,
                        "draws": size,
                        "q05": float(lo),
                        "q95": float(hi),
                        "inside_90": bool(ok and lo <= truths[k][j] <= hi),
                    }
                )
        facts["refit_seconds"][m] = {"mean": float(np.mean(times)) if times else None, "max": max(times, default=None)}
        facts["runs_per_refit"][m] = float(np.mean(runs)) if runs else None
    table = pd.DataFrame(rows)
    summary = []
    for (m, n), g in table[table["rank"] >= 0].groupby(["model", "parameter"], sort=False):
        u = rank_uniformity(g["rank"].to_numpy()[:, None], int(g["draws"].iloc[0]))[0]
        summary.append(
            {
                "model": m,
                "parameter": n,
                "datasets": len(g),
                "bins": u["bins"],
                "chi2": u["chi2"],
                "p_uniform": u["p_value"],
                "coverage_90": float(g["inside_90"].mean()),
                "histogram": " ".join(map(str, u["histogram"])),
            }
        )
    return table, pd.DataFrame(summary), facts


def plot_ranks(table, path: Path) -> None:
    """Rank histograms, one panel per model and parameter, with the 99% band of a uniform histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import binom

    from .config import COLOURS

    ok = table[table["rank"] >= 0]
    panels = list(ok.groupby(["model", "parameter"], sort=False))
    cols = min(4, max(1, len(panels)))
    rows = max(1, -(-len(panels) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    for ax, ((m, n), g) in zip(axes.ravel(), panels):
        size = int(g["draws"].iloc[0])
        k = len(g)
        bins = max(2, min(20, k // 5, size + 1))
        lo, hi = binom.ppf([0.005, 0.995], k, 1.0 / bins)
        ax.axhspan(lo, hi, color="#DDDDDD", lw=0, zorder=0)  # behind the bars, not over them
        ax.axhline(k / bins, color="#777777", lw=0.8, ls="--", zorder=1)
        ax.hist(g["rank"], bins=np.linspace(0, size + 1, bins + 1), color=COLOURS.get(m, "#999999"), zorder=2)
        ax.set_title(f"{m}: {n}", fontsize=8)
        ax.set_xlabel("rank of the truth", fontsize=7)
        ax.tick_params(labelsize=7)
    fig.suptitle("SBC rank histograms (grey: 99% band of a uniform histogram; dashed: its expected count)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
