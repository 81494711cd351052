"""The posterior and what is written from it: tables, the Markdown summary and the calibrated scenario."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..posterior import write_posterior_rows
from ..scenario import BY_NAME, SECTIONS
from .config import MODELS, Calibration
from .smc import Stage, distinct_share, stat_dict

#: A posterior "piles at a bound" when at least this share of its mass lies in the top or bottom
#: tenth of the prior's range (on the prior's own scale: log for log-uniform priors); flat is 0.1.
PILE_FLAG = 0.3


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
        n = len(last.loglik)
        out[m] = ModelPosterior(
            m,
            last.stage,
            names,
            calib.to_values(m, last.u),
            np.full(n, 1.0 / n),
            [stat_dict(s) for s in last.stats],
            last.beta,
            last.log_evidence,
        )
    return out


def pooled_posterior(replicates: list[dict[str, list[Stage]]], calib: Calibration) -> dict[str, ModelPosterior]:
    """The independent runs' final particles pooled (each run's particles weighted equally), with the
    log evidence of the mean of the runs' evidences (each run's estimate of Z is unbiased, so is
    their mean). One run: :func:`posterior` as it is."""
    per = [posterior(st, calib) for st in replicates]
    if len(per) == 1:
        return per[0]
    out = {}
    for m in per[0]:
        parts = [p[m] for p in per]
        z = np.array([p.log_evidence for p in parts])
        out[m] = ModelPosterior(
            m,
            max(p.generation for p in parts),
            parts[0].names,
            np.concatenate([p.values for p in parts]),
            np.concatenate([p.weights for p in parts]) / len(parts),
            [s for p in parts for s in p.stats],
            min(p.beta for p in parts),
            log_mean_exp(z),
        )
    return out


#: Student's t quantile for a two-sided 90% interval by degrees of freedom (1..30; more: normal).
def _t90(df: int) -> float:
    from scipy.stats import t as student

    return float(student.ppf(0.95, max(df, 1)))


def evidence_table(replicates: list[dict[str, list[Stage]]], calib: Calibration):
    """Per model: the log evidence of every independent run, their mean, sd and the 90% interval of
    the mean (Student's t over the runs), and the share of distinct final particles; plus per run
    and parameter the posterior median (``replicates.csv``: the Monte Carlo spread of each summary)."""
    import pandas as pd

    ev, runs = [], []
    for m in calib.models:
        z = np.array([st[m][-1].log_evidence for st in replicates])
        distinct = [distinct_share(st[m][-1].u) for st in replicates]
        k = len(z)
        sd = float(z.std(ddof=1)) if k > 1 else float("nan")
        half = _t90(k - 1) * sd / np.sqrt(k) if k > 1 else float("nan")
        ev.append(
            {
                "model": m,
                "runs": k,
                "log_evidence_mean": float(z.mean()),
                "log_evidence_sd": sd,
                "log_evidence_q05": float(z.mean() - half),
                "log_evidence_q95": float(z.mean() + half),
                "distinct_share_min": float(min(distinct)),
                "distinct_share_mean": float(np.mean(distinct)),
                "reached_posterior": all(st[m][-1].beta >= 1.0 for st in replicates),
            }
        )
        for r, st in enumerate(replicates):
            mp = posterior({m: st[m]}, calib)[m]
            row = {"model": m, "run": r, "log_evidence": float(z[r]), "distinct_share": distinct[r]}
            row |= {f"median_{n}": float(weighted_quantile(mp.column(n), mp.weights, 0.5)) for n in mp.names}
            runs.append(row)
    return pd.DataFrame(ev), pd.DataFrame(runs)


#: Bootstrap resamples of the independent runs behind the Bayes factor's interval.
BOOTSTRAP_RESAMPLES = 4000
#: Salt of the bootstrap's stream (``[seed, salt]``): its draws derive from the calibration's seed.
BOOTSTRAP_SALT = 9


def log_mean_exp(z) -> float:
    """log(mean(exp(z))): the log of the mean of the runs' evidences (each run's estimate of Z is
    unbiased, so is their mean: the pooled evidence)."""
    z = np.asarray(z, dtype=float)
    top = z.max()
    return float(top + np.log(np.mean(np.exp(z - top))))


def _log_mean_exp_rows(z: np.ndarray) -> np.ndarray:
    top = z.max(axis=1, keepdims=True)
    return (top + np.log(np.mean(np.exp(z - top), axis=1, keepdims=True)))[:, 0]


def bayes_factor(runs_table, a: str = "partnership", b: str = "symbiotic", seed: int = 0) -> dict[str, float] | None:
    """The log Bayes factor of model ``a`` against ``b`` from the independent runs: the ratio of the
    pooled evidences (the log of the mean of each model's run evidences, as the model probabilities
    use), with a 90% percentile bootstrap interval (each model's runs resampled with replacement,
    independently; ``BOOTSTRAP_RESAMPLES`` resamples drawn from ``[seed, BOOTSTRAP_SALT]``) and the
    models' probabilities (of the two, equal prior probabilities) at the estimate and the interval's
    ends; ``top_run_share``: per model, the share of its pooled evidence that its luckiest run carries.
    None if either model is missing.

    The mean of the runs' log evidences is not used: it estimates E[log Z_hat], which lies below
    log Z by about half the runs' log-evidence variance (Jensen), so the model whose runs spread more
    would be penalised by its Monte Carlo noise. The bootstrap cannot see runs luckier than those
    made, so with few runs that spread by several nats its interval understates the error."""
    if runs_table is None or not {a, b} <= set(runs_table["model"]):
        return None
    za = runs_table[runs_table["model"] == a].sort_values("run")["log_evidence"].to_numpy(dtype=float)
    zb = runs_table[runs_table["model"] == b].sort_values("run")["log_evidence"].to_numpy(dtype=float)
    k = min(len(za), len(zb))
    log_bf = log_mean_exp(za) - log_mean_exp(zb)
    if k > 1:
        rng = np.random.default_rng([int(seed), BOOTSTRAP_SALT])
        boot_a = _log_mean_exp_rows(za[rng.integers(0, len(za), size=(BOOTSTRAP_RESAMPLES, len(za)))])
        boot_b = _log_mean_exp_rows(zb[rng.integers(0, len(zb), size=(BOOTSTRAP_RESAMPLES, len(zb)))])
        boot = boot_a - boot_b
        sd = float(boot.std(ddof=1))
        lo, hi = (float(q) for q in np.quantile(boot, [0.05, 0.95]))
    else:
        sd, lo, hi = float("nan"), float("-inf"), float("inf")

    def prob(x: float) -> float:
        return float(1.0 / (1.0 + np.exp(-x))) if np.isfinite(x) else float(x > 0)

    def top_share(z: np.ndarray) -> float:
        return float(np.exp(z.max() - log_mean_exp(z)) / len(z))

    return {
        "log_bf": log_bf,
        "log_bf_sd": sd,
        "log_bf_q05": lo,
        "log_bf_q95": hi,
        "bf": float(np.exp(log_bf)),
        "bf_q05": float(np.exp(lo)),
        "bf_q95": float(np.exp(hi)),
        f"p_{a}": prob(log_bf),
        f"p_{a}_q05": prob(lo),
        f"p_{a}_q95": prob(hi),
        "runs": k,
        "top_run_share": {a: top_share(za), b: top_share(zb)},
        "estimator": (
            f"pooled evidences (log of the mean of each model's run evidences); 90% interval: percentile bootstrap "
            f"over the runs, {BOOTSTRAP_RESAMPLES} resamples"
        ),
    }


def model_choice_statement(bf: dict[str, float] | None, a: str = "partnership", b: str = "symbiotic") -> str:
    """What the report says about s = 0 against s = 1: the data cannot tell them apart when the 90%
    interval of the Bayes factor (bootstrap over the independent runs) contains 1, or with fewer than 2
    runs; a model whose luckiest run carries more than half of its pooled evidence is named, since
    then the interval understates the error."""
    if bf is None:
        return "No comparison: the calibration did not fit both s = 0 and s = 1."
    if bf["runs"] < 2 or not np.isfinite(bf["log_bf_q05"]):
        return (
            "The Bayes factor has no Monte Carlo error (fewer than 2 independent runs): "
            "no statement about which model fits can be made."
        )
    text = (
        f"Bayes factor of s = 0 ({a}) against s = 1 ({b}), the ratio of the pooled evidences of "
        f"{bf['runs']} independent runs per model: {bf['bf']:.3g}, 90% bootstrap interval "
        f"[{bf['bf_q05']:.3g}, {bf['bf_q95']:.3g}]"
    )
    if bf["log_bf_q05"] <= 0.0 <= bf["log_bf_q95"]:
        text += ": the interval contains 1, so the data cannot tell the models apart."
    else:
        better = a if bf["log_bf_q05"] > 0 else b
        text += f": the interval excludes 1, so the data favour the {better} model."
    lucky = {m: v for m, v in (bf.get("top_run_share") or {}).items() if v > 0.5}
    if lucky:
        text += (
            " The pooled evidence rests mostly on one run for the "
            + " and the ".join(f"{m} model ({100 * v:.0f}% from its luckiest run)" for m, v in lucky.items())
            + ": the bootstrap cannot see runs luckier than those made, so the interval understates the error."
        )
    return text


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
        unit = calib.to_unit(m, mp.values)
        for j, (name, (lo, hi)) in enumerate(calib.model_priors(m).items()):
            v = mp.column(name)
            q05, q50, q95 = weighted_quantile(v, mp.weights, [0.05, 0.5, 0.95])
            bottom = float(mp.weights[unit[:, j] <= 0.1].sum())
            top = float(mp.weights[unit[:, j] >= 0.9].sum())
            u05, u95 = weighted_quantile(unit[:, j], mp.weights, [0.05, 0.95])
            rows.append(
                {
                    "model": m,
                    "parameter": name,
                    "mean": float(np.average(v, weights=mp.weights)),
                    "median": q50,
                    "q05": q05,
                    "q95": q95,
                    "prior": calib.prior_kind(name),
                    "prior_low": lo,
                    "prior_high": hi,
                    "ci90_width_over_prior": float(u95 - u05),
                    "mass_bottom_tenth": bottom,
                    "mass_top_tenth": top,
                    "piles_at_bound": bool(max(bottom, top) >= PILE_FLAG),
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


def pile_reading(pile: dict[str, Any]) -> str:
    """How to read a posterior that piles at a bound of its prior: the data bound it on one side only, so its
    median says little and its 5% (or 95%) quantile is the statement: "at least q05" for a pile at the top,
    "at most q95" at the bottom. Empty when the record has no quantiles (an older record)."""
    if pile.get("top", 0.0) >= pile.get("bottom", 0.0):
        return f"read as at least {pile['q05']:.3g}" if "q05" in pile else ""
    return f"read as at most {pile['q95']:.3g}" if "q95" in pile else ""


def summary_markdown(manifest: dict[str, Any], summary, gens, ppc, cov, rec, horizon, extra=None) -> str:
    """The calibration's result in words and tables (``README.md`` of the record); ``extra``: the
    evidence, runs and misfit tables of the independent runs, and the checks on fresh runs (issue 25)."""
    extra = extra or {}
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
    if manifest.get("model_choice"):
        lines.append(f"- **Model choice**: {manifest['model_choice']}")
    err = manifest.get("error_model", {})
    if err:
        lines.append(
            f"- **Error model**: {err['likelihood']}; design effect {json.dumps(err['design_effect'])} "
            "(from the survey's design, simulation/data/turkestan_survey.toml [design]); no per-table "
            "discrepancy term: a misfit is reported below, not absorbed."
        )
    if manifest.get("distinct_share"):
        lines.append(
            "- **Distinct final particles** (mean over the runs; issue 25 asks >= 0.8): "
            + ", ".join(f"{m} {v:.2f}" for m, v in manifest["distinct_share"].items())
            + "."
        )
    piles = manifest.get("piles_at_bound") or []
    lines.append(
        "- **Posteriors piling at a prior bound** (>= 30% of the mass in the top or bottom tenth of the prior): "
        + (
            ", ".join(
                f"{p['model']} {p['parameter']} (bottom {p['bottom']:.2f}, top {p['top']:.2f}"
                + (f"; {pile_reading(p)}" if pile_reading(p) else "")
                + ")"
                for p in piles
            )
            or "none"
        )
        + "."
    )
    if extra.get("evidence") is not None:
        lines += ["", "## Log evidence per model over the independent runs (Monte Carlo error)", ""]
        lines.append(_md_table(extra["evidence"]))
    if extra.get("runs") is not None:
        lines += ["", "## Posterior medians per independent run", "", _md_table(extra["runs"])]
    if extra.get("misfit") is not None and len(extra["misfit"]):
        lines += [
            "",
            "## Misfit at the posterior medians (Pearson X^2, Rao-Scott p at the design effect; small p = misfit)",
            "",
        ]
        lines.append(_md_table(extra["misfit"]))
    lines += ["", "## Posterior", "", _md_table(summary.drop(columns=["particles", "generation"]))]
    if extra.get("arviz") is not None:
        lines += [
            "",
            "## Convergence across the independent runs (ArviZ; diagnostics_arviz.csv, posterior_<model>.nc)",
            "",
            manifest.get("r_hat_note", ""),
            "",
            _md_table(extra["arviz"]),
        ]
    fresh, cov_fresh = extra.get("ppc_fresh"), extra.get("coverage_fresh")
    if fresh is not None and len(fresh):
        lines += fresh_ppc_markdown(fresh, cov_fresh, manifest.get("fresh_draws"))
    stored = " from the stored statistics (optimistic)" if fresh is not None and len(fresh) else ""
    lines += ["", f"## Posterior predictive p-values{stored} (per table; small = the table is not reproduced)", ""]
    if stored:
        lines += [STORED_NOTE, ""]
    lines.append(_md_table(ppc.pivot(index="table", columns="model", values="p_value").reset_index()))
    lines += ["", f"## Coverage of 90% predictive intervals{stored} (fitted totals and held-out cohort cells)", ""]
    lines.append(_md_table(cov[cov["table"] == "all"][["model", "kind", "cells", "inside", "share_inside"]]))
    lines += ["", "By table:", "", _md_table(cov[cov["table"] != "all"])]
    lines += ["", "## Recovery on synthetic data (importance reweighting of the final particles)", ""]
    lines.append(_md_table(rec))
    lines += ["", "## Sampler, per model and stage", "", _md_table(gens)]
    lines += ["", "## Stationarity of the fit (posterior median, burn-in doubled)", "", _md_table(horizon)]
    return "\n".join(lines) + "\n"


#: Why the checks from the particles' stored statistics are optimistic (README and report).
STORED_NOTE = (
    "Stored statistics (optimistic): these checks use the runs stored with the final particles, the very "
    "runs whose lucky likelihood estimates kept the particles alive through the noisy (pseudo-marginal) "
    "estimator, so they fit the data better than the model does; the checks on fresh runs above say "
    "whether a table passes."
)
#: A table passes the predictive check when its p-value is at least this.
PASS_P = 0.05


def failing_tables(ppc, column: str = "p_value") -> dict[str, list[str]]:
    """Per model: the tables whose p-value (``column``: the posterior predictive one, or the misfit's)
    is below ``PASS_P``."""
    return {m: [t for t, p in zip(g["table"], g[column]) if p < PASS_P] for m, g in ppc.groupby("model", sort=False)}


def failing_text(ppc) -> str:
    """Which tables fail, per model: by the posterior predictive p-value and (if given) by the misfit of
    the predictive mean shares."""

    def listed(fails):
        return "; ".join(f"{m}: {', '.join(t) or 'none'}" for m, t in fails.items())

    text = f"Tables not reproduced (posterior predictive p < {PASS_P:g}): {listed(failing_tables(ppc))}."
    if "misfit_p_value" in ppc:
        text += (
            f" Tables whose predictive mean shares miss the data (Rao-Scott p < {PASS_P:g}): "
            f"{listed(failing_tables(ppc, 'misfit_p_value'))}."
        )
    return text


def fresh_ppc_markdown(fresh, cov_fresh, draws) -> list[str]:
    """The README's section on the checks from fresh runs: which tables pass, the p-values (fresh and
    stored) and the misfit of the predictive mean shares, and the coverage."""
    lines = [
        "",
        "## Posterior predictive checks on fresh runs (per table; small p = the table is not reproduced)",
        "",
        f"{draws} draws of each model's posterior, each run once more on a seed no run of the fit used "
        "(ppc_fresh.csv, predictive_fresh.csv, coverage_fresh.csv): the posterior predictive, independent of "
        "the likelihood estimates that selected the particles. p_value: the predictive p-value from these runs; "
        "misfit_p_value: Rao-Scott p of the runs' mean shares at the design effect; p_value_stored: the check "
        "from the particles' stored statistics (optimistic).",
        "",
        "On fresh runs: " + failing_text(fresh),
        "",
    ]
    keep = ("model", "table", "p_value", "misfit_p_value", "p_value_stored", "x2", "df", "worst_cell")
    lines.append(_md_table(fresh[[c for c in keep if c in fresh]]))
    if cov_fresh is not None and len(cov_fresh):
        lines += ["", "Coverage of the 90% predictive intervals from fresh runs:", ""]
        overall = cov_fresh[cov_fresh["table"] == "all"]
        lines.append(_md_table(overall[["model", "kind", "cells", "inside", "share_inside"]]))
    return lines


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
                    f"prior {row['prior']} [{row['prior_low']:g}, {row['prior_high']:g}]"
                )
            lines.append(f"{p} = {_toml_value(values[p])}{comment}")
    return "\n".join(lines) + "\n"
