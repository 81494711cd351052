"""The posterior and what is written from it: tables, the Markdown summary and the calibrated scenario."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..posterior import write_posterior_rows
from ..scenario import BY_NAME, SECTIONS
from .config import MODELS, Calibration
from .smc import Stage, stat_dict


@dataclass
class ModelPosterior:
    """One model's final particles: values (particles x free parameters, in ``names`` order),
    normalised weights and each particle's statistics."""

    model: str
    generation: int
    names: list[str]
    values: np.ndarray
    weights: np.ndarray
    stats: list[dict[str, np.ndarray]]
    beta: float = 1.0
    log_evidence: float = 0.0

    def ess(self) -> float:
        """Kish's effective sample size."""
        return float(1.0 / np.sum(self.weights**2))

    def column(self, name: str) -> np.ndarray:
        """One parameter's values over the particles."""
        return self.values[:, self.names.index(name)]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles ``q`` of ``values`` under ``weights`` (midpoint rule on the weighted CDF)."""
    order = np.argsort(values)
    v, w = np.asarray(values, dtype=float)[order], np.asarray(weights, dtype=float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)


def posterior(stages: dict[str, list[Stage]], calib: Calibration) -> dict[str, ModelPosterior]:
    """model -> its last stage's particles (equal weights after the moves)."""
    out = {}
    for m, st in stages.items():
        last = st[-1]
        names = list(calib.model_priors(m))
        lo = np.array([a for a, _ in calib.model_priors(m).values()])
        width = np.array([b - a for a, b in calib.model_priors(m).values()])
        n = len(last.loglik)
        out[m] = ModelPosterior(
            m,
            last.stage,
            names,
            lo + last.u * width,
            np.full(n, 1.0 / n),
            [stat_dict(s) for s in last.stats],
            last.beta,
            last.log_evidence,
        )
    return out


def model_probabilities(post: dict[str, ModelPosterior]) -> dict[str, float]:
    """Posterior model probabilities from the log evidences (equal prior probabilities; NaN if any
    model's sampler did not reach the posterior)."""
    if any(mp.beta < 1.0 for mp in post.values()):
        return {m: float("nan") for m in post}
    z = np.array([mp.log_evidence for mp in post.values()])
    p = np.exp(z - z.max())
    return dict(zip(post, map(float, p / p.sum())))


def generations(stages: dict[str, list[Stage]]):
    """Per model and stage: inverse temperature, temperature, ESS, acceptance, runs and log evidence."""
    import pandas as pd

    rows = [
        {
            "model": m,
            "stage": s.stage,
            "beta": s.beta,
            "temperature": 1.0 / s.beta if s.beta > 0 else float("inf"),
            "ess": s.ess,
            "acceptance": s.acceptance,
            "simulations": s.simulations,
            "log_evidence": s.log_evidence,
        }
        for m, st in stages.items()
        for s in st
    ]
    return pd.DataFrame(rows)


def posterior_table(post: dict[str, ModelPosterior], calib: Calibration) -> str:
    """The posterior file's text (``simulation.posterior``): every model's particles, s included."""
    names = calib.free()
    models = {}
    for m, mp in post.items():
        cols = [
            mp.column(k) if k in mp.names else np.full(len(mp.weights), MODELS[m] if k == "symbiosis" else np.nan)
            for k in names
        ]
        models[m] = (names, np.stack(cols, axis=1), mp.weights)
    return write_posterior_rows(models)


def posterior_summary(post: dict[str, ModelPosterior], calib: Calibration):
    """Per model and parameter: weighted mean, median, 5% and 95% quantiles, and the 90% interval's
    width over the prior's (identifiability: near 1, the data say little about the parameter)."""
    import pandas as pd

    rows = []
    for m, mp in post.items():
        for name, (lo, hi) in calib.model_priors(m).items():
            v = mp.column(name)
            q05, q50, q95 = weighted_quantile(v, mp.weights, [0.05, 0.5, 0.95])
            rows.append(
                {
                    "model": m,
                    "parameter": name,
                    "mean": float(np.average(v, weights=mp.weights)),
                    "median": q50,
                    "q05": q05,
                    "q95": q95,
                    "prior_low": lo,
                    "prior_high": hi,
                    "ci90_width_over_prior": (q95 - q05) / (hi - lo),
                    "particles": len(v),
                    "generation": mp.generation,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the written summary


def _md_table(df, floatfmt: str = ".3g") -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        cells = [format(v, floatfmt) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary_markdown(manifest: dict[str, Any], summary, gens, ppc, cov, rec, horizon) -> str:
    """The calibration's result in words and tables (``README.md`` of the record)."""
    probs = manifest["model_probabilities"]
    sym = manifest["symbiosis"]
    lines = [
        f"# Calibration record: {manifest['calibration']}",
        "",
        f"Written by `{manifest['command'] or 'statebiz calibrate'}` on {manifest['finished']} "
        f"(git commit {manifest['git_commit']}); do not edit: rerun the calibration. Method: docs/ODD.md, "
        '4.12 "Calibration".',
        "",
        f"- Runs: {manifest['simulations']} in {manifest['fit_wall_time_seconds'] / 60:.1f} minutes "
        f"({manifest['workers']} workers, backend {manifest['backend']}); stages per model: "
        + ", ".join(f"{m} {k}" for m, k in manifest["stages"].items())
        + f"; every model reached the posterior (temperature 1): {manifest['exact_posterior']}.",
    ]
    if sym:
        lines.append(
            f"- **Which model describes Turkestan?** The symbiosis index s has posterior median "
            f"{sym['median']:.2f}, 90% interval [{sym['q05']:.2f}, {sym['q95']:.2f}] (uniform prior on [0, 1])."
        )
    lines.append(
        "- **Model probabilities** (equal prior probabilities, from the samplers' evidences): "
        + ", ".join(f"{m} {p:.3f}" for m, p in probs.items())
        + "."
    )
    if "partnership" in probs and "symbiotic" in probs and probs["symbiotic"] > 0:
        bf = probs["partnership"] / probs["symbiotic"]
        lines.append(f"- Bayes factor of s = 0 against s = 1: {bf:.3g}.")
    lines += ["", "## Posterior", "", _md_table(summary.drop(columns=["particles", "generation"]))]
    lines += ["", "## Posterior predictive p-values (per table; small = the table is not reproduced)", ""]
    lines.append(_md_table(ppc.pivot(index="table", columns="model", values="p_value").reset_index()))
    lines += ["", "## Coverage of 90% predictive intervals (fitted totals and held-out cohort cells)", ""]
    lines.append(_md_table(cov[cov["table"] == "all"][["model", "kind", "cells", "inside", "share_inside"]]))
    lines += ["", "By table:", "", _md_table(cov[cov["table"] != "all"])]
    lines += ["", "## Recovery on synthetic data (importance reweighting of the final particles)", ""]
    lines.append(_md_table(rec))
    lines += ["", "## Sampler, per model and stage", "", _md_table(gens)]
    lines += ["", "## Stationarity of the fit (posterior median, burn-in doubled)", "", _md_table(horizon)]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the calibrated scenario


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, float):
        return f"{v:.4g}" if "e" not in f"{v:.4g}" else repr(v)
    return str(v)


def calibrated_scenario_text(calib: Calibration, model: str, summary, provenance: list[str]) -> str:
    """The base scenario's explicit values plus the posterior medians of ``model``, as TOML.

    The fit is at the stationary state, so the calibrated scenario keeps the base scenario's
    horizon and size: any horizon past the burn-in stays at the fit.
    """
    from ..scenario import read_scenario_file

    flat, meta = read_scenario_file(calib.scenario.path)
    est = summary[summary["model"] == model].set_index("parameter")
    fitted = {k: float(est.loc[k, "median"]) for k in calib.model_priors(model) if k in BY_NAME}
    fixed = {} if MODELS[model] is None else {"symbiosis": MODELS[model]}
    values = {k: v for k, v in flat.items() if k != "governance"} | fixed | fitted
    description = f"Turkestan region calibrated to the paper's survey (posterior medians, {model} model)"
    lines = [f"# {line}" if line else "#" for line in provenance]
    lines += [
        "",
        f"name = {_toml_value(meta.get('name', calib.scenario.name) + '_calibrated')}",
        f"description = {_toml_value(description)}",
    ]
    for section in SECTIONS:
        names = [p for p in values if BY_NAME[p].section == section]
        if not names:
            continue
        lines += ["", f"[{section}]"]
        for p in names:
            comment = ""
            if p in fitted:
                row = est.loc[p]
                comment = (
                    f"  # calibrated: posterior median; 90% interval [{row['q05']:.4g}, {row['q95']:.4g}], "
                    f"prior uniform [{row['prior_low']:g}, {row['prior_high']:g}]"
                )
            lines.append(f"{p} = {_toml_value(values[p])}{comment}")
    return "\n".join(lines) + "\n"
