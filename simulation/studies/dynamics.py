"""Stationarity and the corruption equilibrium, measured (``statebiz dynamics``).

``stationarity``: chains of the model from several seeds and from deliberately different
starts (``corruption_initial`` 0.05 and 0.8), at the scenario's defaults and at both ends of
governance (s = 0 and s = 1), simulated for ``quarters`` quarters without burn-in. For each
outcome and each window of ``window`` quarters, a Gelman-Rubin R-hat across the chains (BDA3
s.11.4) in its nested form (Margossian et al. 2024: the chains from one start in one part are
a superchain, so the spread across seeds enters the within variance and slowly mixing
outcomes are not mistaken for unconverged ones), the two parts being the window and the
run's last window (so a drift common to all chains counts too). The measured burn-in of a
group of chains is the first window start from which the R-hat of every outcome stays below
1.1 until the end. The classical split-R-hat over each window's quarters is kept for
comparison. A Geweke (1992) check on the rest of each chain compares the mean of its first
10% with that of its last 50%, with the long-run variance from the integrated
autocorrelation time; a stationary chain gives |z| > 1.96 about 5% of the time.

``corruption``: the stationary corruption incidence and corrupt share (means over
``measure`` quarters after ``burn_in``) against the audit rate and against s, each from a low
and a high start, with 95% intervals across seeds (t distribution over the seeds' means).
A gap between the curves from the two starts would show bistability (hysteresis); a jump
between neighbouring grid points a discontinuity.

The outcomes: corruption incidence, corrupt share, firms in business, mean firm age,
business satisfied and dissatisfied, population satisfied, mean utility quality, the utility PPP
contracts in operation (the last two since MEASURED 19 found a transient in them that every chain
shares, which the first seven did not show), and the six KPIs as year-on-year
growth rates (the sum of the last four quarters over the four before, minus 1; a level KPI
such as real wages compares annual means).
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, override

import numpy as np
import pandas as pd

from ..io import REPO_ROOT, atomic_write_bytes
from ..observe.kpi import KPI_NAMES as KPIS
from .base import Runs, Study

#: The scenario whose defaults the measurements start from.
SCENARIO = REPO_ROOT / "scenarios" / "turkestan.toml"

#: Okabe-Ito colours: the low start, the high start, markers.
LOW_COLOUR, HIGH_COLOUR, MARK_COLOUR, REF_COLOUR = "#0072B2", "#D55E00", "#000000", "#999999"
OUTCOME_COLOURS = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#000000",
)

#: Starts: corruption_initial of the low and of the high start.
STARTS = (0.05, 0.8)
RHAT_THRESHOLD = 1.1

LEVEL_OUTCOMES = (
    "corruption_incidence",
    "corrupt_share",
    "firms_in_business",
    "mean_firm_age",
    "business_satisfied",
    "business_dissatisfied",
    "population_satisfied",
    "utility_quality",
    "ppp_in_operation",
)
#: Outcomes read from the world after each quarter (not from the recorder's region table): the mean
#: utility quality (Table 6's driver) and the utility PPP contracts in operation, whose first wave
#: echoes for hundreds of quarters (docs/calibration/MEASURED.md 19).
WORLD_OUTCOMES = ("mean_firm_age", "utility_quality", "ppp_in_operation")
GROWTH_OUTCOMES = tuple(f"{k}_yoy" for k in KPIS)
OUTCOMES = LEVEL_OUTCOMES + GROWTH_OUTCOMES
UNITS = {
    "corruption_incidence": "share of firms",
    "corrupt_share": "share of officials",
    "firms_in_business": "firms",
    "mean_firm_age": "quarters",
    "utility_quality": "0..1",
    "ppp_in_operation": "contracts",
} | {o: "share" for o in ("business_satisfied", "business_dissatisfied", "population_satisfied")}
UNITS |= {o: "growth, year on year" for o in GROWTH_OUTCOMES}

#: The defaults of the command (``quick``: a smoke run that finishes in about a minute).
SIZES = {
    "full": {"firms": 3000, "residents": 500, "seeds": 8, "quarters": 200, "window": 20, "measure": 80},
    "quick": {"firms": 800, "residents": 300, "seeds": 4, "quarters": 120, "window": 20, "measure": 40},
}
AUDIT_GRID = {"full": tuple(np.round(np.arange(0, 0.301, 0.02), 2)), "quick": (0.0, 0.1, 0.2, 0.3)}
SYMBIOSIS_GRID = {"full": tuple(np.round(np.arange(0, 1.001, 0.1), 1)), "quick": (0.0, 0.5, 1.0)}


# --------------------------------------------------------------------------- runs


def base_params(firms: int, residents: int, **overrides: Any) -> dict[str, Any]:
    """The Turkestan scenario's parameters at the given size (``overrides`` win)."""
    from ..scenario import load_scenario

    scenario = load_scenario(SCENARIO, firms=firms, residents_per_region=residents, **overrides)
    return dict(scenario.params)


def trajectory(params: dict[str, Any], seed: int, quarters: int) -> pd.DataFrame:
    """One chain: the outcomes per quarter (1..quarters), simulated from quarter 0 without burn-in."""
    from ..model import StateBusinessModel

    p = dict(params) | {"burn_in": 0, "steps": quarters}
    return chain_table(StateBusinessModel(rng=seed, **p))


def chain_table(model) -> pd.DataFrame:
    """The outcomes per reported quarter (1..steps) of a model built and not yet run (see :func:`trajectory`)."""
    from ..world import OPERATION

    read = {name: [] for name in WORLD_OUTCOMES}
    while model.running:
        model.step()
        alive, book = model.firms.alive, model.world.projects
        read["mean_firm_age"].append(float(model.firms.age[alive].mean()) if alive.any() else float("nan"))
        read["utility_quality"].append(float(model.world.akimats.utility_quality.mean()))
        operating = ((book.phase == OPERATION) & (book.sector < 4)).sum() if len(book) else 0
        read["ppp_in_operation"].append(float(operating))
    regions = model.region_table()
    sums = ["firms_in_business", *KPIS]
    table = regions.groupby("quarter").agg(
        {c: ("sum" if c in sums else "mean") for c in LEVEL_OUTCOMES if c not in WORLD_OUTCOMES}
        | {k: "sum" for k in KPIS}
    )
    table = table.reset_index().sort_values("quarter")
    for name, values in read.items():
        table[name] = values[: len(table)]
    for k in KPIS:
        annual = table[k].rolling(4).sum()
        before = annual.shift(4)
        growth = annual / before - 1.0
        table[f"{k}_yoy"] = growth.where(before > 0)
    return table[["quarter", *OUTCOMES]]


def split_rhat(chains: np.ndarray) -> float:
    """Split-R-hat of ``chains`` (chains x draws): each chain cut in two halves, then
    sqrt(((n - 1)/n W + B/n) / W) with W the mean within-half variance and B/n the variance of
    the half means. 1 for a stationary, mixed set of chains. Missing values (a growth rate over
    a year with nothing) are left out; a half with fewer than 3 values is dropped."""
    x = np.asarray(chains, dtype=float)
    n = x.shape[1] // 2
    if n < 3:
        return float("nan")
    halves = np.concatenate([x[:, :n], x[:, n : 2 * n]], axis=0)
    halves = halves[(~np.isnan(halves)).sum(axis=1) >= 3]
    if len(halves) < 2:
        return float("nan")
    within = np.nanvar(halves, axis=1, ddof=1).mean()
    between_over_n = np.nanmean(halves, axis=1).var(ddof=1)
    if within <= 0:
        return 1.0 if between_over_n <= 0 else float("inf")
    return float(np.sqrt(((n - 1) / n * within + between_over_n) / within))


def nested_rhat(chains: np.ndarray, superchain: np.ndarray, reference: np.ndarray | None = None) -> float:
    """Nested split-R-hat (Margossian et al. 2024, for many short chains) of ``chains``
    (chains x draws). Every chain is cut in two parts: its two halves, or, with ``reference``
    (the same chains over a later window, e.g. the run's last), the window and the reference.
    The superchains are the chains from one start in one part (``superchain`` gives each
    chain's start). With B the variance of the superchain means and W the mean over
    superchains of the variance of their chains' means plus the chains' mean within variance,
    R = sqrt(1 + B / W).

    Because the chains from one start are independent (different seeds), W holds the spread
    across seeds, so R stays near 1 for a stationary outcome however slowly it mixes in time;
    a start that is not forgotten, or a drift (within the window, or between it and the
    reference, which catches a slow drift common to all chains), raises B."""
    x = np.asarray(chains, dtype=float)
    n = x.shape[1] // 2
    if n < 1 or np.isnan(x).all():
        return float("nan")
    superchain = np.asarray(superchain)
    means, withins = [], []
    parts = (x[:, :n], x[:, n : 2 * n]) if reference is None else (x, np.asarray(reference, dtype=float))
    for half in parts:
        n = half.shape[1]
        for key in np.unique(superchain):
            h = half[superchain == key]
            h = h[(~np.isnan(h)).sum(axis=1) >= min(2, n)]
            if len(h) < 2:
                continue
            chain_means = np.nanmean(h, axis=1)
            within = np.nanvar(h, axis=1, ddof=1).mean() if n > 1 else 0.0
            means.append(chain_means.mean())
            withins.append(chain_means.var(ddof=1) + (0.0 if np.isnan(within) else within))
    if len(means) < 2:
        return float("nan")
    b, w = float(np.var(means, ddof=1)), float(np.mean(withins))
    if w <= 0:
        return 1.0 if b <= 0 else float("inf")
    return float(np.sqrt(1 + b / w))


def autocorrelation_time(chains: np.ndarray) -> float:
    """Integrated autocorrelation time (quarters) of ``chains`` (chains x draws), from the
    autocorrelation averaged over chains, summed up to Sokal's window (the first lag M with
    M >= 5 tau). Missing values are left out of each chain."""
    acfs = []
    for c in np.asarray(chains, dtype=float):
        c = c[~np.isnan(c)]
        if len(c) < 8 or c.var() <= 0:
            continue
        c = c - c.mean()
        f = np.fft.rfft(c, 2 * len(c))
        acf = np.fft.irfft(f * np.conj(f))[: len(c)]
        acfs.append(acf / acf[0])
    if not acfs:
        return float("nan")
    rho = np.mean([a[: min(map(len, acfs))] for a in acfs], axis=0)
    tau = 1.0
    for m in range(1, len(rho)):
        tau += 2 * rho[m]
        if m >= 5 * tau:
            return float(tau)
    return float("nan")  # the chains are too short for it


def rhat_curve(traj: pd.DataFrame, window: int) -> pd.DataFrame:
    """R-hat per outcome over moving windows of ``window`` quarters: one row per window start
    (the quarters before it discarded) and outcome, with the nested R-hat of the window against
    the run's last window (``rhat``, the one the burn-in is measured by: the chains from both
    starts in this window and in the last come from one distribution) and the classical
    split-R-hat over the window's quarters (``split_rhat``, for comparison; it needs windows
    much longer than the outcome's autocorrelation time to fall below 1.1). ``traj`` holds one
    group's chains (columns ``chain``, ``start``)."""
    rows = []
    quarters = np.sort(traj["quarter"].unique())
    starts = traj.groupby("chain")["start"].first()
    for outcome in OUTCOMES:
        wide = traj.pivot(index="chain", columns="quarter", values=outcome).reindex(columns=quarters)
        superchain = starts.reindex(wide.index).to_numpy()
        wide = wide.to_numpy()
        valid = ~np.isnan(wide).all(axis=0)
        first = int(np.argmax(valid)) if valid.any() else len(quarters)
        for start in range(first, len(quarters) - window + 1):
            block = wide[:, start : start + window]
            rows.append(
                {
                    "discarded": int(quarters[start] - 1),
                    "outcome": outcome,
                    "rhat": nested_rhat(block, superchain, wide[:, -window:]),
                    "split_rhat": split_rhat(block),
                }
            )
    return pd.DataFrame(rows)


def burn_in_from(rhat: pd.DataFrame, threshold: float = RHAT_THRESHOLD) -> dict[str, float]:
    """The measured burn-in per outcome: the first number of discarded quarters from which
    every later window has R-hat below ``threshold`` (NaN if no such window start: the outcome is
    not certified); and ``all``, the largest over the certified outcomes.

    Growth outcomes have no R-hat before their 8th quarter; they do not hold the burn-in back
    there (they are undefined, not unconverged)."""
    out: dict[str, float] = {}
    for outcome, g in rhat.groupby("outcome", sort=False):
        g = g.sort_values("discarded")
        bad = ~(g["rhat"].to_numpy() < threshold)
        if bad[-1]:
            out[outcome] = float("nan")
            continue
        last_bad = np.flatnonzero(bad)
        out[outcome] = float(g["discarded"].iloc[last_bad[-1] + 1]) if last_bad.size else float(g["discarded"].iloc[0])
    values = np.array(list(out.values()))
    out["all"] = float(np.nanmax(values)) if (~np.isnan(values)).any() else float("nan")
    return out


def _long_run_variance(x: np.ndarray) -> float:
    """Newey-West (Bartlett kernel) long-run variance of ``x``."""
    x = x - x.mean()
    n = len(x)
    lags = int(np.ceil(4 * (n / 100) ** (2 / 9)))
    v = float(x @ x / n)
    for k in range(1, min(lags, n - 1) + 1):
        v += 2 * (1 - k / (lags + 1)) * float(x[k:] @ x[:-k] / n)
    return max(v, 0.0)


def geweke_z(x: np.ndarray, first: float = 0.1, last: float = 0.5, tau: float | None = None) -> float:
    """Geweke's z: mean of the first 10% minus mean of the last 50%, over its standard error,
    from the long-run variance of the whole series (the same under stationarity; segments of a
    few quarters would underestimate it): variance x ``tau``, the integrated autocorrelation
    time, when given (estimated from all chains, steadier), else Newey-West."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n < 10:
        return float("nan")
    a, b = x[: max(int(first * n), 2)], x[n - max(int(last * n), 2) :]
    lrv = x.var(ddof=1) * tau if tau is not None and tau == tau and tau > 0 else _long_run_variance(x)
    se2 = lrv * (1 / len(a) + 1 / len(b))
    if se2 <= 0:
        return 0.0 if a.mean() == b.mean() else float("inf")
    return float((a.mean() - b.mean()) / np.sqrt(se2))


# --------------------------------------------------------------------------- stationarity


def groups(firms: int, residents: int) -> dict[str, dict[str, Any]]:
    """The governance settings measured: the scenario's defaults and s = 0 and s = 1. Settings
    equal to the defaults are merged with them (the name says so), not run twice."""
    defaults = base_params(firms, residents)
    out: dict[str, dict[str, Any]] = {"defaults": defaults}
    for s in (0.0, 1.0):
        p = base_params(firms, residents, symbiosis=s)
        same = [k for k, v in out.items() if v == p]
        if same:
            out[f"{same[0]} (= s {s:g})"] = out.pop(same[0])
        else:
            out[f"s {s:g}"] = p
    return out


def run_chains(tasks: list[tuple], what: list[tuple], runs: Runs) -> pd.DataFrame:
    """Run the chains' tasks and stack their tables: one row per chain and quarter, with the chain's
    ``group``, ``start`` and ``seed`` (``what``, in the tasks' order) and its label ``chain``."""
    chains = []
    for (name, start, seed), row in zip(what, runs.run(tasks, describe=lambda t: f"chain {what[t[0]]}")):
        t = pd.DataFrame(row["table"])
        t.insert(0, "seed", seed)
        t.insert(0, "start", start)
        t.insert(0, "group", name)
        chains.append(t)
    traj = pd.concat(chains, ignore_index=True)
    traj["chain"] = traj["start"].astype(str) + "/" + traj["seed"].astype(str)
    return traj


def chain_run(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One chain as an evaluator task: its :func:`trajectory` of ``steps`` quarters, as columns."""
    return {"table": trajectory(params, seed, steps).to_dict("list")}


def run_stationarity(
    firms: int, residents: int, seeds: int, quarters: int, window: int, runs: Runs | None = None
) -> dict[str, Any]:
    """The chains, their R-hat curves, burn-ins and Geweke checks (see the module docstring).

    ``runs`` is the study's evaluator (default: serial, no journal)."""
    if runs is None:
        with Runs() as serial:
            return run_stationarity(firms, residents, seeds, quarters, window, serial)
    tasks, what = [], []
    for name, params in groups(firms, residents).items():
        for c0 in STARTS:
            for seed in range(seeds):
                tasks.append((len(tasks), chain_run, params | {"corruption_initial": c0}, seed, quarters, ()))
                what.append((name, c0, seed))
    traj = run_chains(tasks, what, runs)
    rhats, burn_rows, diag_rows = [], [], []
    for name, g in traj.groupby("group", sort=False):
        r = rhat_curve(g, window)
        r.insert(0, "group", name)
        rhats.append(r)
        b = burn_in_from(r)
        burn_rows.append({"group": name} | b)
        rest = b["all"] if not np.isnan(b["all"]) else float(quarters - window)
        after_rest = g[g["quarter"] > rest]
        for outcome in OUTCOMES:
            by_chain = [c[outcome].to_numpy() for _, c in after_rest.groupby("chain")]
            tau = autocorrelation_time(after_rest.pivot(index="chain", columns="quarter", values=outcome).to_numpy())
            zs = np.abs(np.array([geweke_z(c, tau=tau) for c in by_chain]))
            o = r[r["outcome"] == outcome]
            after = o[o["discarded"] >= rest]["rhat"]
            means = after_rest.groupby(["start", "chain"])[outcome].mean()
            low, high = means.loc[STARTS[0]].to_numpy(), means.loc[STARTS[1]].to_numpy()
            se = np.sqrt(low.var(ddof=1) / len(low) + high.var(ddof=1) / len(high)) if len(low) > 1 else np.nan
            gap = float(high.mean() - low.mean())
            diag_rows.append(
                {
                    "group": name,
                    "outcome": outcome,
                    "burn_in": b[outcome],
                    "min_rhat": float(o["rhat"].min()),
                    "discarded": int(rest),
                    "max_rhat_after": float(after.max()) if len(after) else float("nan"),
                    "autocorrelation_time": tau,
                    "chains": len(zs),
                    "geweke_share_abs_z_above_1.96": float((zs > 1.96).mean()),
                    "geweke_max_abs_z": float(np.nanmax(zs)),
                    "start_gap": gap,
                    "start_gap_z": float(gap / se) if se and se > 0 else float("nan"),
                }
            )
    burn = pd.DataFrame(burn_rows)
    overall = {"group": "overall"} | {c: float(burn[c].max(skipna=False)) for c in burn.columns if c != "group"}
    overall["all"] = float(burn["all"].max(skipna=False))
    burn = pd.concat([burn, pd.DataFrame([overall])], ignore_index=True)
    return {
        "trajectories": traj.drop(columns="chain"),
        "rhat": pd.concat(rhats, ignore_index=True),
        "burn_in": burn,
        "diagnostics": pd.DataFrame(diag_rows),
    }


# --------------------------------------------------------------------------- corruption


def stationary_means(params: dict[str, Any], seed: int, burn_in: int, measure: int) -> dict[str, float]:
    """Mean corruption incidence and corrupt share over ``measure`` quarters after ``burn_in``."""
    from ..model import StateBusinessModel

    model = StateBusinessModel(rng=seed, **(dict(params) | {"burn_in": burn_in, "steps": measure}))
    model.run()
    table = model.region_table().groupby("quarter")[["corruption_incidence", "corrupt_share"]].mean()
    return {k: float(v) for k, v in table.mean().items()}


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    from scipy import stats

    m = float(np.mean(values))
    if len(values) < 2:
        return m, float("nan"), float("nan")
    half = float(stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / np.sqrt(len(values)))
    return m, m - half, m + half


def means_run(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, float]:
    """One run as an evaluator task: :func:`stationary_means` over ``steps`` quarters after ``params["burn_in"]``."""
    return stationary_means(params, seed, params["burn_in"], steps)


def run_corruption(
    firms: int,
    residents: int,
    seeds: int,
    burn_in: int,
    measure: int,
    audit_grid: tuple[float, ...],
    symbiosis_grid: tuple[float, ...],
    runs: Runs | None = None,
) -> dict[str, pd.DataFrame]:
    """Per run and summarised: stationary corruption against the audit rate and against s.

    ``runs`` is the study's evaluator (default: serial, no journal)."""
    if runs is None:
        with Runs() as serial:
            return run_corruption(firms, residents, seeds, burn_in, measure, audit_grid, symbiosis_grid, serial)
    tasks, what = [], []
    for lever, grid in (("audit_rate", audit_grid), ("symbiosis", symbiosis_grid)):
        for value in grid:
            params = base_params(firms, residents, **{lever: float(value)})
            for c0 in STARTS:
                for seed in range(seeds):
                    task_params = params | {"corruption_initial": c0, "burn_in": burn_in}
                    tasks.append((len(tasks), means_run, task_params, seed, measure, ()))
                    what.append({"lever": lever, "value": float(value), "start": c0, "seed": seed})
    done = runs.run(tasks, describe=lambda t: f"run {what[t[0]]}")
    rows = [w | r for w, r in zip(what, done)]
    runs = pd.DataFrame(rows)
    summary = []
    for (lever, value, c0), g in runs.groupby(["lever", "value", "start"], sort=False):
        row = {"lever": lever, "value": value, "start": c0, "seeds": len(g)}
        for col in ("corruption_incidence", "corrupt_share"):
            m, lo, hi = _interval(g[col].to_numpy())
            row |= {col: m, f"{col}_low": lo, f"{col}_high": hi}
        summary.append(row)
    return {"runs": runs, "summary": pd.DataFrame(summary)}


def corruption_findings(summary: pd.DataFrame, jump: float = 0.15) -> dict[str, Any]:
    """Continuity and start agreement of each curve.

    A curve has a jump where the step between neighbouring grid points exceeds both ``jump``
    (absolute, on a share) and three times the median step; the starts agree at a grid point
    when the gap between their means is inside the combined half-widths of their intervals."""
    out: dict[str, Any] = {}
    for lever, g in summary.groupby("lever", sort=False):
        for col in ("corruption_incidence", "corrupt_share"):
            wide = g.pivot(index="value", columns="start", values=col).sort_index()
            lo_w = g.pivot(index="value", columns="start", values=f"{col}_low").sort_index()
            half = (wide - lo_w).fillna(0.0)
            mean = wide.mean(axis=1).to_numpy()
            steps = np.abs(np.diff(mean))
            median = float(np.median(steps)) if len(steps) else 0.0
            jumps = [
                (float(wide.index[i]), float(wide.index[i + 1]), float(steps[i]))
                for i in range(len(steps))
                if steps[i] > jump and steps[i] > 3 * median
            ]
            gap = (wide[STARTS[1]] - wide[STARTS[0]]).abs()
            tol = np.sqrt(half[STARTS[0]] ** 2 + half[STARTS[1]] ** 2)
            out[f"{lever}/{col}"] = {
                "continuous": not jumps,
                "jumps": jumps,
                "max_step": float(steps.max()) if len(steps) else 0.0,
                "max_gap": float(gap.max()),
                "max_gap_at": float(gap.idxmax()),
                "points_apart": int((gap > tol).sum()),
                "points": int(len(gap)),
            }
    return out


# --------------------------------------------------------------------------- figures


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    _pyplot().close(fig)
    return path


def _label(outcome: str) -> str:
    return outcome.replace("_yoy", " (y-o-y)").replace("_", " ")


def stationarity_figures(result: dict[str, Any], out: Path, default_burn_in: int) -> list[Path]:
    """Per group: the trajectories of every outcome (chains coloured by start, the measured burn-in
    and the default burn-in marked); and the R-hat of every outcome against the quarters discarded."""
    plt = _pyplot()
    traj, burn, rhat = result["trajectories"], result["burn_in"].set_index("group"), result["rhat"]
    paths = []
    for i, (name, g) in enumerate(traj.groupby("group", sort=False)):
        b = burn.loc[name, "all"]
        cols = 4
        rows = int(np.ceil(len(OUTCOMES) / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
        for ax, outcome in zip(axes.flat, OUTCOMES):
            for (c0, _seed), c in g.groupby(["start", "seed"]):
                colour = LOW_COLOUR if c0 == STARTS[0] else HIGH_COLOUR
                ax.plot(c["quarter"], c[outcome], color=colour, lw=0.7, alpha=0.6)
            if not np.isnan(b):
                ax.axvline(b, color=MARK_COLOUR, lw=1.2)
            ax.axvline(default_burn_in, color=REF_COLOUR, lw=1.0, ls="--")
            ax.set_title(_label(outcome), fontsize=9)
            ax.set_xlabel("quarter")
            ax.set_ylabel(UNITS[outcome], fontsize=8)
            ax.tick_params(labelsize=7)
        for ax in list(axes.flat)[len(OUTCOMES) :]:
            ax.axis("off")
        handles = [
            plt.Line2D([], [], color=LOW_COLOUR, label=f"start: corruption_initial {STARTS[0]:g}"),
            plt.Line2D([], [], color=HIGH_COLOUR, label=f"start: corruption_initial {STARTS[1]:g}"),
            plt.Line2D([], [], color=MARK_COLOUR, label="measured burn-in" + ("" if not np.isnan(b) else " (none)")),
            plt.Line2D([], [], color=REF_COLOUR, ls="--", label=f"default burn_in {default_burn_in}"),
        ]
        fig.legend(handles=handles, loc="lower right", fontsize=9, frameon=False)
        measured = "not reached" if np.isnan(b) else f"{b:.0f} quarters"
        fig.suptitle(f"Stationarity, {name}: chains by start; measured burn-in {measured}", fontsize=11)
        fig.tight_layout()
        paths.append(_save(fig, out / f"stationarity_{i}.png"))

    groups_ = list(traj["group"].unique())
    fig, axes = plt.subplots(1, len(groups_), figsize=(6.5 * len(groups_), 4.2), squeeze=False)
    styles = ("-", "--")
    for ax, name in zip(axes.flat, groups_):
        r = rhat[rhat["group"] == name]
        for j, outcome in enumerate(OUTCOMES):
            o = r[r["outcome"] == outcome]
            ax.plot(
                o["discarded"],
                o["rhat"],
                color=OUTCOME_COLOURS[j % len(OUTCOME_COLOURS)],
                ls=styles[j // len(OUTCOME_COLOURS)],
                lw=1,
                label=_label(outcome),
            )
        ax.axhline(RHAT_THRESHOLD, color=MARK_COLOUR, lw=1)
        b = burn.loc[name, "all"]
        if not np.isnan(b):
            ax.axvline(b, color=MARK_COLOUR, lw=1.2)
        ax.axvline(default_burn_in, color=REF_COLOUR, ls="--", lw=1)
        ax.set_ylim(0.95, 2.0)
        ax.set_xlabel("quarters discarded (start of the R-hat window), quarters")
        ax.set_ylabel("nested split-R-hat (clipped at 2)")
        ax.set_title(f"{name}: burn-in {'not reached' if np.isnan(b) else f'{b:.0f}'}", fontsize=10)
    axes.flat[-1].legend(fontsize=7, ncol=2, loc="upper right")
    fig.tight_layout()
    paths.append(_save(fig, out / "rhat.png"))
    return paths


def corruption_figure(summary: pd.DataFrame, out: Path) -> Path:
    """Two panels: stationary corruption against the audit rate and against s, from both starts."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    xlabels = {"audit_rate": "audit rate (probability a paid bribe is detected)", "symbiosis": "symbiosis s (0..1)"}
    for ax, lever in zip(axes, ("audit_rate", "symbiosis")):
        g = summary[summary["lever"] == lever]
        for c0, colour in zip(STARTS, (LOW_COLOUR, HIGH_COLOUR)):
            h = g[g["start"] == c0].sort_values("value")
            for col, marker, ls in (("corruption_incidence", "o", "-"), ("corrupt_share", "s", ":")):
                name = "incidence" if col == "corruption_incidence" else "corrupt share"
                ax.plot(h["value"], h[col], color=colour, marker=marker, ms=3, ls=ls, label=f"{name}, start {c0:g}")
                ax.fill_between(h["value"], h[f"{col}_low"], h[f"{col}_high"], color=colour, alpha=0.15, lw=0)
        ax.set_xlabel(xlabels[lever])
        ax.set_ylabel("share (incidence: of firms a year; corrupt: of officials)")
        ax.set_ylim(0, 1)
        ax.set_title(f"Stationary corruption against {xlabels[lever].split(' (')[0]}", fontsize=10)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, out / "corruption.png")


def timed(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` and its wall time in seconds."""
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - started


# --------------------------------------------------------------------------- summaries


def _fmt(value: float) -> str:
    return "not reached" if value != value else f"{value:.0f}"


def stationarity_text(result: dict[str, Any], size: dict[str, Any], default_burn_in: int, wall: float) -> str:
    """The printed summary of the stationarity study."""
    out: list[str] = []
    burn = result["burn_in"].set_index("group")
    diag = result["diagnostics"]
    out.append(
        f"stationarity: {size['firms']} firms, {size['seeds']} seeds x 2 starts per setting, {size['quarters']} "
        f"quarters, R-hat windows of {size['window']} quarters; {wall:.0f} s"
    )
    groups = [g for g in burn.index if g != "overall"]
    out.append(f"  {'outcome':<28}" + "".join(f"{g[:22]:>24}" for g in groups))
    for outcome in [c for c in burn.columns if c != "all"]:
        cells = []
        for g in groups:
            d = diag[(diag["group"] == g) & (diag["outcome"] == outcome)].iloc[0]
            cells.append(f"{_fmt(burn.loc[g, outcome]):>11} (R {d['max_rhat_after']:.2f})")
        out.append(f"  {outcome:<28}" + "".join(f"{c:>24}" for c in cells))
    out.append("  (burn-in per outcome; R: the largest R-hat of the windows after the setting's burn-in)")
    for g in groups:
        d = diag[diag["group"] == g]
        out.append(
            f"  {g}: burn-in {_fmt(burn.loc[g, 'all'])} quarters; Geweke |z| > 1.96 in "
            f"{d['geweke_share_abs_z_above_1.96'].mean():.0%} of chain-outcomes after it (about 5% if stationary); "
            f"largest start gap |z| {np.nanmax(np.abs(d['start_gap_z'])):.1f}"
        )
    uncertified = set()
    for g in groups:
        missing = [o for o in burn.columns if o != "all" and burn.loc[g, o] != burn.loc[g, o]]
        uncertified |= set(missing)
        if missing:
            out.append(f"  {g}: not certified within the run (R-hat >= 1.1 in a late window): {', '.join(missing)}")
    overall = burn.loc["overall", "all"]
    verdict = ""
    if overall == overall:
        enough = "enough" if overall <= default_burn_in else "too short"
        verdict = f"; the default burn_in is {default_burn_in} ({enough})"
        if uncertified:
            verdict += f"; not certified in this run: {', '.join(sorted(uncertified))}"
    out.append(f"  overall burn-in (largest over settings and certified outcomes): {_fmt(overall)} quarters{verdict}")
    return "\n".join(out)


def corruption_text(summary: pd.DataFrame, findings: dict, size: dict[str, Any], burn_in: int, wall: float) -> str:
    """The printed summary of the corruption study."""
    out: list[str] = []
    out.append(
        f"corruption: {size['firms']} firms, {size['seeds']} seeds per point and start, means over "
        f"{size['measure']} quarters after {burn_in} of burn-in; {wall:.0f} s"
    )
    for lever in ("audit_rate", "symbiosis"):
        g = summary[summary["lever"] == lever]
        out.append(f"  {lever:<10} {'start':>6} {'incidence [95% CI]':>24} {'corrupt share [95% CI]':>26}")
        for _, r in g.sort_values(["value", "start"]).iterrows():
            out.append(
                f"  {r['value']:<10.2f} {r['start']:>6.2f} "
                f"{r['corruption_incidence']:>8.3f} [{r['corruption_incidence_low']:.3f}, "
                f"{r['corruption_incidence_high']:.3f}] "
                f"{r['corrupt_share']:>10.3f} [{r['corrupt_share_low']:.3f}, {r['corrupt_share_high']:.3f}]"
            )
    for key, f in findings.items():
        jumps = "continuous" if f["continuous"] else "JUMP at " + ", ".join(f"{a:g}->{b:g}" for a, b, _ in f["jumps"])
        agree = "starts agree" if f["points_apart"] == 0 else f"starts apart at {f['points_apart']} of {f['points']}"
        out.append(
            f"  {key}: {jumps} (largest step {f['max_step']:.3f}); {agree}, "
            f"max low/high gap {f['max_gap']:.3f} at {f['max_gap_at']:g}"
        )
    return "\n".join(out)


# --------------------------------------------------------------------------- the study


@dataclass(frozen=True)
class DynamicsDesign:
    """The sizes of a dynamics study (``SIZES``), its burn-in (corruption) and grids (corruption)."""

    kind: str
    firms: int
    residents: int
    seeds: int
    quarters: int
    window: int
    measure: int
    burn_in: int
    audit_grid: tuple[float, ...]
    symbiosis_grid: tuple[float, ...]

    def size(self) -> dict[str, int]:
        """The sizes as the manifest records them."""
        return {k: getattr(self, k) for k in ("firms", "residents", "seeds", "quarters", "window", "measure")}


class Dynamics(Study):
    """``statebiz dynamics stationarity|corruption``: the measured burn-in, or stationary
    corruption against the audit rate and s from a low and a high start."""

    def __init__(self, kind: str):
        self.kind = kind
        self.name = kind
        self.files = {}

    def _design(self, which: str) -> DynamicsDesign:
        from ..parameters import BY_NAME

        size = dict(SIZES[which])
        if self.kind == "corruption":
            size["seeds"] = 2 if which == "quick" else 4
        burn_in = int(BY_NAME["burn_in"].default)
        return DynamicsDesign(
            self.kind, **size, burn_in=burn_in, audit_grid=AUDIT_GRID[which], symbiosis_grid=SYMBIOSIS_GRID[which]
        )

    @override
    def default(self) -> DynamicsDesign:
        return self._design("full")

    @override
    def quick(self) -> DynamicsDesign:
        return self._design("quick")

    @override
    def size(self, design: DynamicsDesign) -> int:
        if design.kind == "stationarity":
            points = len(groups(design.firms, design.residents))
        else:
            points = len(design.audit_grid) + len(design.symbiosis_grid)
        return points * len(STARTS) * design.seeds

    @override
    def compute(self, design: DynamicsDesign, runs: Runs) -> dict[str, pd.DataFrame]:
        d = design
        if d.kind == "stationarity":
            result = run_stationarity(d.firms, d.residents, d.seeds, d.quarters, d.window, runs)
        else:
            grids = d.audit_grid, d.symbiosis_grid
            result = run_corruption(d.firms, d.residents, d.seeds, d.burn_in, d.measure, *grids, runs)
        return {f"{name}.csv": frame for name, frame in result.items()}

    @staticmethod
    def _result(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        return {name.removesuffix(".csv"): frame for name, frame in tables.items()}

    @override
    def summary(self, design: DynamicsDesign, tables: dict[str, pd.DataFrame], wall: float) -> str:
        result = self._result(tables)
        if design.kind == "stationarity":
            return stationarity_text(result, design.size(), design.burn_in, wall)
        findings = corruption_findings(result["summary"])
        return corruption_text(result["summary"], findings, design.size(), design.burn_in, wall)

    @override
    def manifest(self, design: DynamicsDesign, tables: dict[str, pd.DataFrame], wall: float) -> dict[str, Any]:
        corruption = design.kind == "corruption"
        return {
            "kind": design.kind,
            "size": design.size(),
            "burn_in": design.burn_in if corruption else None,
            "starts_corruption_initial": list(STARTS),
            "findings": corruption_findings(tables["summary.csv"]) if corruption else None,
            "files": {name: name.removesuffix(".csv") for name in tables} | {"summary.txt": "the printed summary"},
            "wall_time_seconds": round(wall, 1),
        }

    @override
    def draw(self, design: DynamicsDesign, tables: dict[str, pd.DataFrame], tmp: Path) -> dict[str, str]:
        result = self._result(tables)
        if design.kind == "stationarity":
            figs = stationarity_figures(result, tmp, design.burn_in)
        else:
            figs = [corruption_figure(result["summary"], tmp)]
        return {f.name: "figure" for f in figs}
