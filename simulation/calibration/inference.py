"""The posterior in the ecosystem's format: one ArviZ ``InferenceData`` per model (``posterior_<model>.nc``),
its diagnostics (R-hat across the independent runs, ESS) and its posterior predictive plot.

The file is the InferenceData layout (netCDF-4 groups), as ArviZ 1.x writes it from an
``xarray.DataTree`` and as ``arviz.from_netcdf`` (1.x: a DataTree; 0.x: an ``InferenceData``) reads it:

- ``posterior``: one variable per free parameter of the model, dims ``(chain, draw)``. A chain is
  one independent SMC run of the fit (``replicates`` in the calibration file; run 0 has the
  calibration's seed), a draw one of its final particles. The final particles have equal weights
  (the last stage resamples, then moves), so they are the draws as they are, no resampling: draw
  ``i`` is particle ``i`` of the run's last stage, in the order the sampler keeps them (the
  systematic resample's ancestor order: neighbouring draws often share an ancestor, so the
  autocorrelation of the ESS counts them as correlated, which they are).
- ``posterior_predictive``: per particle, one survey of the paper's sizes drawn from the particle's
  simulated shares under the survey's error model (Dirichlet-multinomial with the design effect of
  the table's sample, ``likelihood.design_counts``), seeded by (seed, 7, model, run): the fitted rows
  (``table5`` .. ``table9``; ``table6`` per utility) and the held-out age-cohort rows
  (``table5_cohorts`` ..., not in the likelihood). It is one survey per draw, aligned with the
  posterior draws; ``predictive.csv`` and ``ppc.csv`` come from their own, larger set of draws.
- ``observed_data``: the same cells' counts in the data that were fitted (the paper's,
  ``data/turkestan_survey.toml``, or a synthetic data set's).
- ``sample_stats``: ``log_likelihood`` per particle (the sampler's estimate, as in the moves); the
  runs' log evidences, final inverse temperatures, stages and seeds as attributes.
- attributes: the model, the calibration, its seed, the design effects, the priors and the
  provenance the manifest records (git commit, model version, lock hash, package versions).

No ``log_likelihood`` group: the sampler's likelihood is an estimate from ``runs_per_estimate``
runs (pseudo-marginal), not a pointwise likelihood of the particle's parameters, and LOO on it
would mean something else than ArviZ users expect.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..io import ResultExistsError
from ..observe.survey import COHORTS, TABLES, table_labels
from .config import COHORT_TABLES, COLOURS, MODELS, TABLE_SAMPLE, Calibration
from .likelihood import design_counts
from .smc import Stage, stat_dict

#: The fitted cells first, then the held-out cohort rows (their order in every group).
KEYS = tuple(TABLES) + tuple(f"{t}_cohorts" for t in COHORT_TABLES)


def inference_file(model: str) -> str:
    """The name of a model's InferenceData file in the result directory."""
    return f"posterior_{model}.nc"


def ppc_figure(model: str) -> str:
    """The name of a model's posterior predictive figure (drawn from its InferenceData)."""
    return f"ppc_{model}.png"


def _dims(key: str) -> list[str]:
    table = key.split("_")[0]
    if key.endswith("_cohorts"):
        return ["cohort", f"{table}_answer"]
    return [f"{table}_utility", f"{table}_answer"] if table == "table6" else [f"{table}_answer"]


def _coords() -> dict[str, list[str]]:
    coords: dict[str, list[str]] = {"cohort": list(COHORTS)}
    for t in TABLES:
        rows, cols = table_labels(t)
        coords[f"{t}_answer"] = cols
        if t == "table6":
            coords["table6_utility"] = rows
    return coords


def _cells(key: str, counts: np.ndarray) -> np.ndarray:
    """A key's counts (rows x answers) in its variable's shape (the single total row squeezed)."""
    counts = np.asarray(counts)
    return counts if len(_dims(key)) == 2 else counts.reshape(-1)


def _as_counts(a: np.ndarray) -> np.ndarray:
    """Integer counts when every value is a whole number (the paper's), else the floats as they are."""
    a = np.asarray(a, dtype=float)
    if not (np.all(np.isfinite(a)) and np.all(a == np.round(a))):
        return a
    return a.astype(np.int16 if np.abs(a).max(initial=0) < 2**15 else np.int64)  # survey counts: int16


def _jsonable(v: Any) -> Any:
    """A netCDF attribute: numbers and strings as they are, anything else as JSON text."""
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, (int, float, str)):
        return v
    return json.dumps(v, default=float, sort_keys=True)


def inference_data(
    calib: Calibration,
    model: str,
    finals: list[Stage],
    observed_counts: dict[str, np.ndarray],
    attrs: dict[str, Any] | None = None,
    run_seeds: list[int] | None = None,
):
    """One model's InferenceData (an ``xarray.DataTree`` with ArviZ's groups) from the final stage of
    every independent run (``finals``: run r's last :class:`Stage`), the fitted data's counts
    (``checks._observed_counts`` layout: rows x answers per key) and extra root attributes."""
    import arviz as az

    names = list(calib.model_priors(model))
    sizes = {len(st.loglik) for st in finals}
    if len(sizes) != 1:
        raise ValueError(f"{model}: the runs' final stages have different sizes {sorted(sizes)}")
    floor = calib.abc["share_floor"]
    values = np.stack([calib.to_values(model, st.u) for st in finals])  # chain x draw x parameter
    posterior = {n: values[:, :, j] for j, n in enumerate(names)}
    n_rows = {k: np.asarray(observed_counts[k]).sum(axis=1) for k in KEYS}
    predictive: dict[str, list] = {k: [] for k in KEYS}
    for r, st in enumerate(finals):
        rng = np.random.default_rng([calib.seed, 7, list(MODELS).index(model), r])
        per = {k: [] for k in KEYS}
        for row, stats_vector in zip(values[r], st.stats):
            stats = stat_dict(stats_vector)
            deffs = calib.design_effects(dict(zip(names, map(float, row))))
            for k in KEYS:
                table = k.split("_")[0]
                width = len(table_labels(table)[1])
                p = np.asarray(stats[k], dtype=float).reshape(-1, width)
                if not np.all(np.isfinite(p)):  # a particle whose run could not answer: no survey
                    per[k].append(np.full(p.shape, np.nan))
                    continue
                d = deffs[TABLE_SAMPLE[table]]
                per[k].append(np.stack([design_counts(p[i], n, d, rng, floor) for i, n in enumerate(n_rows[k])]))
        for k in KEYS:
            predictive[k].append(np.stack(per[k]))
    pp = {k: _as_counts(np.stack(v)) for k, v in predictive.items()}
    pp = {k: v if len(_dims(k)) == 2 else v.reshape(v.shape[0], v.shape[1], -1) for k, v in pp.items()}
    obs = {k: _as_counts(_cells(k, observed_counts[k])) for k in KEYS}
    dt = az.from_dict(
        {
            "posterior": posterior,
            "posterior_predictive": pp,
            "observed_data": obs,
            "sample_stats": {"log_likelihood": np.stack([st.loglik for st in finals])},
        },
        dims={k: _dims(k) for k in KEYS},
        coords=_coords(),
    )
    dt["sample_stats"].attrs |= {
        "log_evidence": np.array([st.log_evidence for st in finals], dtype=float),
        "final_beta": np.array([st.beta for st in finals], dtype=float),
        "stages": np.array([st.stage for st in finals], dtype=np.int64),
        "log_likelihood_note": "the sampler's estimate (mean likelihood of runs_per_estimate runs), as in its moves",
    }
    root = {
        "model": model,
        "symbiosis_fixed": "free" if MODELS[model] is None else MODELS[model],
        "free_parameters": names,
        "calibration": calib.name,
        "calibration_file": calib.path,
        "seed": calib.seed,
        "independent_runs": len(finals),
        "run_seeds": list(run_seeds) if run_seeds is not None else None,
        "particles_per_run": sizes.pop(),
        "chain": "an independent tempered SMC run of the fit (differing only by seed)",
        "draw": "a final particle of the run (equal weights; the sampler's order)",
        "priors": {k: [float(lo), float(hi), calib.prior_kind(k)] for k, (lo, hi) in calib.model_priors(model).items()},
        "design_effects": "free (a parameter of the posterior)" if calib.likelihood else dict(calib.design),
        "table_sample": TABLE_SAMPLE,
        "error_model": "Dirichlet-multinomial per row with rho_n = (deff - 1) / (n - 1): Var = n p (1 - p) deff",
        "share_floor": floor,
        "quick": calib.quick,
    } | dict(attrs or {})
    dt.attrs |= {k: _jsonable(v) for k, v in root.items()}
    return dt


def write_inference_data(dt, path: str | Path, overwrite: bool = False) -> Path:
    """Write ``dt`` to ``path`` all or nothing (netCDF-4 via h5netcdf): a temporary file in the same
    directory, fsynced, then linked into place (or, with ``overwrite``, renamed over an old file).

    Raises:
        ResultExistsError: ``path`` exists and ``overwrite`` is false (nothing is written).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise ResultExistsError(f"{path}: a posterior file is already there; pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        dt.to_netcdf(tmp, engine="h5netcdf")  # gzip saves nothing here: HDF5 chunks cost what it saves
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if a file appeared meanwhile: never replaces another's file
            except FileExistsError as exc:
                raise ResultExistsError(f"{path}: a posterior file appeared meanwhile; pass --overwrite") from exc
            os.unlink(tmp)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


# --------------------------------------------------------------------------- diagnostics


def arviz_diagnostics(dt, model: str | None = None):
    """Per free parameter: ArviZ's rank-normalised split R-hat across the chains (the independent runs;
    NaN with one run, where it is undefined), the bulk and tail ESS of all draws, the Monte Carlo
    standard error of the mean, and the posterior mean and sd of the pooled draws."""
    import arviz as az
    import pandas as pd

    post = dt["posterior"].ds
    chains, draws = post.sizes["chain"], post.sizes["draw"]
    rhat = az.rhat(dt, group="posterior") if chains > 1 else None
    bulk = az.ess(dt, group="posterior", method="bulk")
    tail = az.ess(dt, group="posterior", method="tail")
    mcse = az.mcse(dt, group="posterior", method="mean")
    rows = []
    for name in post.data_vars:
        v = post[name].values
        rows.append(
            {
                "model": model or dt.attrs.get("model", ""),
                "parameter": name,
                "chains": chains,
                "draws": draws,
                "r_hat": float(rhat[name].values) if rhat is not None else float("nan"),
                "ess_bulk": float(bulk[name].values),
                "ess_tail": float(tail[name].values),
                "mcse_mean": float(mcse[name].values),
                "mean": float(np.mean(v)),
                "sd": float(np.std(v, ddof=1)) if v.size > 1 else float("nan"),
            }
        )
    return pd.DataFrame(rows)


RHAT_NOTE = (
    "R-hat (ArviZ's rank-normalised split R-hat) compares the independent SMC runs (chains); it is undefined "
    "(NaN) with a single run. ESS (bulk, tail) is ArviZ's, over all runs' final particles in the sampler's "
    "order, so copies of one ancestor count as correlated draws. Above 1.01 the runs disagree (Vehtari et al. 2021)."
)


# --------------------------------------------------------------------------- the figure


def _cell_labels(da) -> list[str]:
    """Tick labels of a table's cells: the answer, with the utility first for Table 6."""
    extra = [d for d in da.dims if d not in ("chain", "draw")]
    if len(extra) == 1:
        return [str(v) for v in da[extra[0]].values]
    return [f"{a}: {b}" for a in da[extra[0]].values for b in da[extra[1]].values]


def plot_ppc(dt, path: str | Path, title: str = "") -> None:
    """Observed counts against the posterior predictive, one panel per fitted table, read from the
    InferenceData alone: per cell the predictive median, its 50% and 90% intervals (equal-tailed,
    over every chain and draw) and the observed count (red when outside the 90% interval)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pp, obs = dt["posterior_predictive"].ds, dt["observed_data"].ds
    fitted = [t for t in TABLES if t in obs]
    widths = [obs[t].size for t in fitted]
    fig, axes = plt.subplots(1, len(fitted), figsize=(15, 4.6), gridspec_kw={"width_ratios": widths}, squeeze=False)
    for ax, t in zip(axes[0], fitted):
        draws = pp[t].values.reshape(pp[t].sizes["chain"] * pp[t].sizes["draw"], -1).astype(float)
        o = obs[t].values.reshape(-1).astype(float)
        q05, q25, q50, q75, q95 = np.nanquantile(draws, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        x = np.arange(len(o))
        ax.vlines(x, q05, q95, color=COLOURS["interval"], lw=5, alpha=0.55, label="90% predictive")
        ax.vlines(x, q25, q75, color=COLOURS["partnership"], lw=5, label="50% predictive")
        ax.scatter(x, q50, marker="_", s=140, color="#F0E442", zorder=3, label="predictive median")
        outside = (o < q05) | (o > q95)
        ax.scatter(x[~outside], o[~outside], color=COLOURS["observed"], s=22, zorder=4, label="observed")
        ax.scatter(x[outside], o[outside], color="#CC0000", s=30, marker="D", zorder=4, label="observed, outside 90%")
        ax.set_xticks(x, _cell_labels(pp[t]), rotation=60, ha="right", fontsize=7)
        ax.set_title(t, fontsize=9)
        ax.set_xlim(-0.7, len(o) - 0.3)
    axes[0][0].set_ylabel("respondents")
    handles, labels = {}, []
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    labels = list(handles)
    fig.legend([handles[k] for k in labels], labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)
