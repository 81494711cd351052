"""Global sensitivity of the survey statistics, the fit and the s = 0 against s = 1 differences to the
hand-set parameters (``statebiz sensitivity``; issue 25, item 5).

The hand-set parameters are the registry's real-valued parameters whose source is an assumption
(``Param.source`` starting with "assumption") and that the calibration does not fit or fix for its
runs: :func:`hand_set`. Each is varied over ``span`` around its default (default x [1 - span,
1 + span], clipped to the registered range; a default of 0: [low, low + span (high - low)]) or, with
``span = "registered"``, over its whole registered range (where many combinations are not valid
scenarios). The fitted parameters stay fixed at one point for both models: the calibration
scenario's values, or the values given as ``at`` (``--at``; e.g. a fit's posterior medians). Both
models run at the same point, as the report's paired comparison does (everything but s equal).

At every design point the model runs twice, at s = 0 and at s = 1, and every point of the design
runs on the same seed (common random numbers: an elementary effect or a Sobol difference then
compares the parameters, not two seeds' noise; the noise of the one seed remains, so a second
``statebiz sensitivity`` with another calibration seed shows how far the ranking is the seed's).
The outputs are

- ``loglik``: the log likelihood of the paper's Tables 5-9 under the survey's error model (the fit);
- the survey statistics: ``t5_good`` (scores 4-5), ``t6_satisfied`` (mean over the utilities),
  ``t7_satisfied``, ``t8_satisfied``, ``t9_constantly``, ``t9_none``;
- the report's headline outcomes (``report.sections.headline.HEADLINE``: corruption incidence,
  business and population satisfied, insiders' share of support), the model's end-of-run values
  (``model.outcomes()``, the last 4 reported quarters) of the same run;
- each of these at s = 0 (``s0_``) and s = 1 (``s1_``), and their difference s = 1 minus s = 0
  (``diff_``): the headline comparison of the governance models.

Methods (SALib): Morris elementary effects (Morris 1991; mu* of Campolongo, Cariboni & Saltelli
2007), r (D + 1) points, or Sobol first-order and total indices (Saltelli 2002; Jansen 1999),
N (D + 2) points. With D of about 95 hand-set parameters, Sobol at N = 512 would need about 100,000
runs (both models): Morris is the default (``docs/calibration/README.md`` gives measured costs).
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from ..observe.survey import TABLES
from ..scenario import BY_NAME, ScenarioError
from .config import Calibration, CalibrationError
from .likelihood import _failed_statistics, log_likelihood, observed_statistics, statistics_from_shares

#: The survey statistics of a run (see the module docstring).
#: Chains of parameters that a valid scenario keeps in order (``parameters.resolve``): each one's range
#: in the design is cut at the midpoint between its default and its neighbour's, so no point is invalid.
ORDERED = (("micro_capital", "small_capital", "medium_capital"),)
STATISTICS = ("loglik", "t5_good", "t6_satisfied", "t7_satisfied", "t8_satisfied", "t9_constantly", "t9_none")
#: The report's headline outcomes (``report.sections.headline.HEADLINE``; the calibration does not
#: import the report), read from the run's end-of-run outcomes.
HEADLINE = ("corruption_incidence", "business_satisfied", "population_satisfied", "insider_support_share")
#: Every output of a run, at s = 0 and s = 1 and as their difference.
OUTPUTS = STATISTICS + HEADLINE
METHODS = ("morris", "sobol")


def hand_set(calib: Calibration) -> list[str]:
    """The registry's hand-set real-valued parameters (source: an assumption) that this calibration
    neither fits nor fixes for its runs, in registry order."""
    from ..parameters import PARAMETERS

    skip = set(calib.priors) | set(calib.model) | {"symbiosis"}
    return [
        p.name
        for p in PARAMETERS
        if p.kind is float and p.source.startswith("assumption") and p.name not in skip and p.section != "run"
    ]


def bounds(names: list[str], span: float | str) -> list[list[float]]:
    """Each parameter's range in the design (see the module docstring)."""
    out = []
    for n in names:
        p = BY_NAME[n]
        if span == "registered":
            out.append([float(p.low), float(p.high)])
            continue
        d = float(p.default)
        if d == 0.0:
            lo, hi = float(p.low), float(p.low) + float(span) * (float(p.high) - float(p.low))
        else:
            lo, hi = sorted((d * (1.0 - float(span)), d * (1.0 + float(span))))
            lo, hi = max(lo, float(p.low)), min(hi, float(p.high))
        if not lo < hi:
            lo, hi = float(p.low), float(p.high)
        out.append([lo, hi])
    index = {n: i for i, n in enumerate(names)}
    for chain in ORDERED:
        for a, b in zip(chain, chain[1:]):
            cut = 0.5 * (float(BY_NAME[a].default) + float(BY_NAME[b].default))
            if a in index:
                out[index[a]][1] = min(out[index[a]][1], cut)
            if b in index:
                out[index[b]][0] = max(out[index[b]][0], cut)
    return out


def check_at(calib: Calibration, at: dict[str, float] | None) -> dict[str, float]:
    """``at`` (values of the fitted parameters for every run) checked against the calibration's
    fitted parameters and their registered ranges."""
    at = {k: float(v) for k, v in dict(at or {}).items()}
    fitted = [k for k in calib.priors if k != "symbiosis" and k in BY_NAME]
    for n, v in at.items():
        if n not in fitted:
            raise CalibrationError(
                f"{calib.path}: --at '{n}' is not a fitted parameter of this calibration; expected some of "
                f"{', '.join(fitted)}"
            )
        p = BY_NAME[n]
        if not float(p.low) <= v <= float(p.high):
            raise CalibrationError(
                f"{calib.path}: --at {n} = {v:g} is not allowed; expected a number in [{p.low:g}, {p.high:g}]"
            )
    return at


def survey_summary(stats: dict[str, np.ndarray], observed: dict[str, np.ndarray], deffs: dict[str, float]) -> dict:
    """The outputs of one run (``STATISTICS``) from its survey statistics."""
    if not all(np.all(np.isfinite(stats[t])) for t in TABLES):
        return {k: float("nan") for k in STATISTICS}
    t6 = np.asarray(stats["table6"]).reshape(4, 3)
    return {
        "loglik": log_likelihood(stats, observed, deffs, 0.005),
        "t5_good": float(stats["table5"][3] + stats["table5"][4]),
        "t6_satisfied": float(t6[:, 0].mean()),
        "t7_satisfied": float(stats["table7"][0]),
        "t8_satisfied": float(stats["table8"][0]),
        "t9_constantly": float(stats["table9"][0]),
        "t9_none": float(stats["table9"][2]),
    }


def survey_run(params: dict[str, Any], seed: int) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """The run of ``likelihood.run_survey_model`` (the same statistics) and its headline outcomes."""
    from ..model import StateBusinessModel
    from ..observe.survey import simulate_survey

    model = StateBusinessModel(rng=seed, **params)
    model.run()
    stats = statistics_from_shares(simulate_survey(model).population_shares)
    out = model.outcomes()
    return stats, {k: float(out[k]) for k in HEADLINE}


def _sensitivity_task(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One run of the design (a task for ``runs.evaluator``): its statistics and headline outcomes as JSON."""
    try:
        stats, headline = survey_run(params, seed)
    except ValueError:
        stats, headline = _failed_statistics(), {k: float("nan") for k in HEADLINE}
    return {
        "stats": json.dumps({k: np.asarray(v).tolist() for k, v in stats.items()}),
        "headline": json.dumps(headline),
    }


def design(names: list[str], span, method: str, size: int, seed: int) -> tuple[dict[str, Any], np.ndarray]:
    """The SALib problem and its sample: Morris with ``size`` trajectories (4 levels), or Sobol
    (Saltelli's scheme, first-order and total indices) with base sample ``size`` (a power of 2)."""
    problem = {"num_vars": len(names), "names": list(names), "bounds": bounds(names, span)}
    if method == "morris":
        from SALib.sample import morris

        return problem, morris.sample(problem, size, num_levels=4, seed=seed)
    from SALib.sample import sobol

    return problem, sobol.sample(problem, size, calc_second_order=False, seed=seed)


def analyse(problem: dict[str, Any], x: np.ndarray, y: np.ndarray, method: str, seed: int) -> dict[str, np.ndarray]:
    """SALib's indices of one output ``y`` (NaN runs replaced by the output's mean, counted apart)."""
    y = np.where(np.isfinite(y), y, np.nanmean(y) if np.isfinite(y).any() else 0.0)
    if method == "morris":
        from SALib.analyze import morris

        r = morris.analyze(problem, x, y, num_levels=4, seed=seed)
        return {
            "mu_star": np.asarray(r["mu_star"]),
            "mu_star_conf": np.asarray(r["mu_star_conf"]),
            "sigma": np.asarray(r["sigma"]),
        }
    from SALib.analyze import sobol

    r = sobol.analyze(problem, y, calc_second_order=False, seed=seed)
    return {"S1": r["S1"], "S1_conf": r["S1_conf"], "ST": r["ST"], "ST_conf": r["ST_conf"]}


def run_sensitivity(
    calib: Calibration,
    method: str = "morris",
    size: int = 10,
    span: float | str = 0.5,
    names: list[str] | None = None,
    pool=None,
    say=lambda msg: None,
    at: dict[str, float] | None = None,
    seed: int | None = None,
):
    """The design's runs and the indices: ``(indices, points, facts)``.

    ``indices``: one row per output and parameter (Morris mu*, its 95% bootstrap half-width, sigma,
    and mu* over the output's sd across the design: comparable across outputs; or Sobol S1, ST with
    their half-widths); ``points``: the design (one row per point: the parameters and every output);
    ``facts``: runs, invalid points, wall time and the time per run, and where the fitted parameters
    sat. ``at``: values of the fitted parameters (``calib.priors``) for every run (default the
    scenario's); ``seed``: the root of the design's and the runs' seeds (default the calibration's).
    """
    import pandas as pd

    from ..runs.evaluator import evaluate

    allowed = hand_set(calib)
    names = list(allowed if names is None else names)
    for n in names:
        if n not in allowed:
            raise CalibrationError(
                f"{calib.path}: '{n}' is not a hand-set parameter of this calibration; expected some of "
                f"{', '.join(allowed[:6])}, ... ({len(allowed)} in all: `statebiz params`, source 'assumption')"
            )
    at = check_at(calib, at)
    root = calib.seed if seed is None else int(seed)
    seed = int(np.random.SeedSequence([root, 55]).generate_state(1)[0])
    problem, x = design(names, span, method, size, seed)
    observed = observed_statistics()
    deffs = calib.design_effects({"design_effect": 2.0})
    tasks, invalid, fitted = [], set(), dict(at)
    run_seed = int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])
    for i, row in enumerate(x):
        values = at | dict(zip(names, map(float, row)))
        for j, model in enumerate(("partnership", "symbiotic")):
            try:
                params = calib.run_parameters(model, values)
            except ScenarioError:
                invalid.add(i)
                continue
            tasks.append((2 * i + j, _sensitivity_task, params, run_seed, params["steps"], ()))
            fitted = {k: params[k] for k in calib.priors if k in params and k != "symbiosis"}
    say(f"{method}: {len(names)} parameters, {len(x)} points, {len(tasks)} runs (s = 0 and s = 1 at each point)")
    started = time.perf_counter()
    results = dict(evaluate(tasks, pool.executor, pool.window)) if pool is not None else {}
    if pool is None:
        results = {k: _sensitivity_task(p, s, st, o) for k, _, p, s, st, o in tasks}
    wall = time.perf_counter() - started
    rows = []
    for i, row in enumerate(x):
        point = {"point": i} | dict(zip(names, map(float, row)))
        out = {}
        for j, tag in enumerate(("s0", "s1")):
            res = results.get(2 * i + j)
            if res is None or res.get("error"):
                summary = {k: float("nan") for k in OUTPUTS}
            else:
                stats = {k: np.asarray(v, dtype=float) for k, v in json.loads(res["stats"]).items()}
                summary = survey_summary(stats, observed, deffs) | json.loads(res["headline"])
            out |= {f"{tag}_{k}": v for k, v in summary.items()}
        out |= {f"diff_{k}": out[f"s1_{k}"] - out[f"s0_{k}"] for k in OUTPUTS}
        rows.append(point | out)
    points = pd.DataFrame(rows)
    outputs = [c for c in points.columns if c.startswith(("s0_", "s1_", "diff_"))]
    index_rows = []
    for output in outputs:
        y = points[output].to_numpy(dtype=float)
        res = analyse(problem, x, y, method, seed)
        sd = float(np.nanstd(y)) if np.isfinite(y).sum() > 1 else float("nan")
        for k, n in enumerate(names):
            r = {"output": output, "parameter": n} | {key: float(v[k]) for key, v in res.items()}
            if method == "morris":
                r["mu_star_over_sd"] = r["mu_star"] / sd if sd > 0 else float("nan")
            index_rows.append(r)
    indices = pd.DataFrame(index_rows)
    facts = {
        "method": method,
        "size": size,
        "span": span,
        "seed": root,
        "fitted_at": fitted,
        "fitted_at_source": "--at" if at else "the calibration scenario's values",
        "parameters": names,
        "points": int(len(x)),
        "runs": len(tasks),
        "invalid_points": len(invalid),
        "failed_runs": int(sum(1 for r in results.values() if r.get("error"))),
        "runs_wall_seconds": round(wall, 2),
        "seconds_per_run": round(wall / max(len(tasks), 1), 3),
    }
    return indices, points, facts


def ranking(indices, method: str, top: int = 10):
    """Per output, the ``top`` parameters by mu* (Morris) or ST (Sobol)."""
    key = "mu_star" if method == "morris" else "ST"
    return (
        indices.sort_values(["output", key], ascending=[True, False])
        .groupby("output", sort=False)
        .head(top)
        .reset_index(drop=True)
    )
