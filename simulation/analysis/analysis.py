"""Analysis of an experiment's results: ``statebiz analyze RESULTS_DIR``.

Writes into ``RESULTS_DIR/analysis/``:

- ``summary.csv``: per design point and outcome, the mean across replications, its standard
  deviation and a 95% t-interval of the mean (failed runs left out; ``n`` says how many count).
- ``paired_differences.csv`` (factorial designs): for every factor, each level minus the first
  listed level, paired by replication (common random numbers) and by the other factors' values;
  per combination of the other factors and pooled (``others = "all"``), with a 95% t-interval
  over replications.
- ``sensitivity.csv`` (Sobol and Morris designs): SALib indices computed on the
  replication-averaged outcome of every design point, with SALib's bootstrap interval over the
  design (``*_conf``) and a second bootstrap over replications (``*_seed_low``/``*_seed_high``:
  the indices recomputed on replication means resampled per point), plus ``noise_share``: the
  variance of the replication means due to seed noise over the variance between design points.
  An index whose seed interval reaches zero is not told apart from seed noise.
- ``robust_policies.csv`` and ``regret.csv`` (crossed designs, policies x states, with
  ``[targets]``): per policy the share of states meeting each target and all of them, its mean
  and largest regret against the best policy of each state (:mod:`simulation.analysis.robust`).
- figures (PNG): ``regime_map.png`` and ``regime_shares.png`` when power and business strength
  vary on a grid and regime shares are kept; ``main_effects.png`` (factorial);
  ``sensitivity.png`` (Sobol, Morris).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import atomic_write_bytes, result_subdir
from ..observe.observer import REGIMES
from ..observe.outcomes import label as outcome_label
from ..observe.outcomes import unit as outcome_unit
from ..runs.spec import Factor
from ..runs.store import MANIFEST, read_results
from ..scenario import ScenarioError

#: Okabe-Ito colour-blind-safe palette, one colour per regime.
REGIME_COLOURS = {
    "suppression": "#D55E00",
    "patronage": "#E69F00",
    "partnership": "#009E73",
    "conflict": "#CC79A7",
    "non_interference": "#999999",
    "capture": "#0072B2",
}
SEED_BOOTSTRAP = 200
MAX_FIGURE_OUTCOMES = 12


class AnalysisError(ScenarioError):
    """The results directory cannot be analysed (one line naming it and why)."""


def _t95(n: np.ndarray) -> np.ndarray:
    from scipy.stats import t

    n = np.asarray(n, dtype=float)
    out = np.full(n.shape, np.nan)
    ok = n > 1
    out[ok] = t.ppf(0.975, n[ok] - 1)
    return out


def _mean_ci(values: np.ndarray) -> tuple[int, float, float, float, float]:
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = len(v)
    if n == 0:
        return 0, np.nan, np.nan, np.nan, np.nan
    mean = float(v.mean())
    sd = float(v.std(ddof=1)) if n > 1 else np.nan
    half = float(_t95(np.array([n]))[0] * sd / np.sqrt(n)) if n > 1 else np.nan
    return n, mean, sd, mean - half, mean + half


def outcome_axis(name: str) -> str:
    """An axis label for an outcome: its label and unit from the registry."""
    unit = outcome_unit(name)
    return f"{outcome_label(name)} ({unit})" if unit else outcome_label(name)


def load(results_dir: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A finished sweep's table (sorted by point and replication) and its manifest."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise AnalysisError(f"{results_dir}: no such results directory")
    path = results_dir / MANIFEST
    fix = f"rerun the `statebiz sweep` that wrote {results_dir} to rebuild it (finished runs are kept)"
    if not path.is_file():
        if (results_dir / "experiment.toml").is_file():
            raise AnalysisError(f"{results_dir}: no {MANIFEST}; {fix}")
        raise AnalysisError(f"{results_dir}: no {MANIFEST}; expected the directory a `statebiz sweep` wrote")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as err:
        raise AnalysisError(f"{path}: malformed JSON: {' '.join(str(err).split())}; {fix}") from None
    needed = ("factors", "outcomes", "design", "experiment", "replications", "design_points", "root_seed")
    if not isinstance(manifest, dict) or any(k not in manifest for k in needed):
        raise AnalysisError(f"{path}: not a sweep's manifest; {fix}")
    try:
        [Factor.from_manifest(f) for f in manifest["factors"]]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise AnalysisError(f"{path}: its 'factors' are not a sweep's factors; {fix}") from None
    kinds = {
        "experiment": lambda v: isinstance(v, dict) and isinstance(v.get("name"), str),
        "design": lambda v: isinstance(v, dict) and isinstance(v.get("type"), str),
        "outcomes": lambda v: isinstance(v, list) and all(isinstance(o, str) for o in v),
        "replications": lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
        "design_points": lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
    }
    for key, ok in kinds.items():
        if not ok(manifest[key]):
            raise AnalysisError(f"{path}: its '{key}' is not what a sweep writes; {fix}")
    try:
        table = read_results(results_dir)
    except FileNotFoundError as err:
        raise AnalysisError(str(err)) from None
    return table, manifest


def summary_table(table: pd.DataFrame, factors: list[str], outcomes: list[str]) -> pd.DataFrame:
    """Per design point and outcome: mean over replications, sd and 95% t-interval."""
    ok = table[table["error"].isna()]
    rows = []
    for point, group in ok.groupby("point", sort=True):
        first = group.iloc[0]
        for o in outcomes:
            n, mean, sd, lo, hi = _mean_ci(group[o].to_numpy())
            rows.append(
                {
                    "point": point,
                    **{f: first[f] for f in factors},
                    "outcome": o,
                    "n": n,
                    "mean": mean,
                    "sd": sd,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return pd.DataFrame(rows)


def paired_differences(table: pd.DataFrame, factors: list[Factor], outcomes: list[str]) -> pd.DataFrame:
    """Each level of each factor minus its first level, paired by replication and the other factors."""
    ok = table[table["error"].isna()]
    rows = []
    names = [f.name for f in factors]
    for f in factors:
        levels = list(f.factorial_values())
        if len(levels) < 2:
            continue
        others = [n for n in names if n != f.name]
        base = ok[ok[f.name] == levels[0]].set_index(others + ["replication"])
        for level in levels[1:]:
            cur = ok[ok[f.name] == level].set_index(others + ["replication"])
            joined = cur[outcomes].join(base[outcomes].add_suffix("__base"), how="inner")
            for o in outcomes:
                d = (joined[o] - joined[o + "__base"]).rename("d").reset_index()
                groups = d.groupby(others, sort=True) if others else [((), d)]
                for combo, g in groups:
                    combo = combo if isinstance(combo, tuple) else (combo,)
                    n, mean, sd, lo, hi = _mean_ci(g["d"].to_numpy())
                    rows.append(
                        {
                            "factor": f.name,
                            "role": f.role,
                            "level": level,
                            "baseline": levels[0],
                            "others": json.dumps(dict(zip(others, map(_plain, combo)))),
                            "outcome": o,
                            "n_pairs": n,
                            "mean_difference": mean,
                            "sd": sd,
                            "ci_low": lo,
                            "ci_high": hi,
                        }
                    )
                if others:
                    pooled = d.groupby("replication")["d"].mean().to_numpy()  # paired per replication
                    n, mean, sd, lo, hi = _mean_ci(pooled)
                    rows.append(
                        {
                            "factor": f.name,
                            "role": f.role,
                            "level": level,
                            "baseline": levels[0],
                            "others": "all",
                            "outcome": o,
                            "n_pairs": n,
                            "mean_difference": mean,
                            "sd": sd,
                            "ci_low": lo,
                            "ci_high": hi,
                        }
                    )
    return pd.DataFrame(rows)


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def _point_matrix(table: pd.DataFrame, outcome: str, n_points: int, reps: int) -> np.ndarray:
    """points x replications (NaN where a run failed or is missing)."""
    m = np.full((n_points, reps), np.nan)
    m[table["point"].to_numpy(), table["replication"].to_numpy()] = (
        table[outcome].where(table["error"].isna()).to_numpy()
    )
    return m


def sensitivity(
    table: pd.DataFrame, manifest: dict[str, Any], factors: list[Factor], outcomes: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """SALib indices on replication-averaged outcomes, with design and seed bootstrap intervals."""
    from ..runs.design import design_matrix, salib_problem
    from ..runs.seeds import design_seed

    design, root = manifest["design"], manifest["root_seed"]
    problem = salib_problem(factors)
    X = design_matrix(design, factors, root)
    n_points, reps = len(X), manifest["replications"]
    rng = np.random.default_rng(design_seed(root))
    notes, rows = [], []

    def indices(y: np.ndarray, resamples: int) -> dict[str, np.ndarray]:
        if design["type"] == "morris":
            from SALib.analyze import morris

            r = morris.analyze(
                problem,
                X,
                y,
                num_resamples=resamples,
                conf_level=0.95,
                num_levels=design["levels"],
                seed=design_seed(root),
            )
            return {
                "mu": np.asarray(r["mu"]),
                "mu_star": np.asarray(r["mu_star"]),
                "sigma": np.asarray(r["sigma"]),
                "mu_star_conf": np.asarray(r["mu_star_conf"]),
            }
        from SALib.analyze import sobol

        r = sobol.analyze(
            problem,
            y,
            calc_second_order=design["second_order"],
            num_resamples=resamples,
            conf_level=0.95,
            seed=design_seed(root),
        )
        return {
            "S1": np.asarray(r["S1"]),
            "S1_conf": np.asarray(r["S1_conf"]),
            "ST": np.asarray(r["ST"]),
            "ST_conf": np.asarray(r["ST_conf"]),
        }

    main_keys = ("mu_star", "sigma") if design["type"] == "morris" else ("S1", "ST")
    for o in outcomes:
        m = _point_matrix(table, o, n_points, reps)
        if np.isnan(m).all(axis=1).any():
            notes.append(f"{o}: some design points have no successful run; no sensitivity indices")
            continue
        y = np.nanmean(m, axis=1)
        between = float(np.var(y, ddof=1)) if n_points > 1 else 0.0
        counts = (~np.isnan(m)).sum(axis=1)
        within = (
            float(np.nanmean(np.where(counts > 1, np.nanvar(m, axis=1, ddof=1) / np.maximum(counts, 1), np.nan)))
            if reps > 1
            else np.nan
        )
        noise_share = within / between if between > 0 else np.nan
        if between == 0:
            notes.append(f"{o}: does not vary across design points; no sensitivity indices")
            continue
        est = indices(y, 1000)
        boot = {k: [] for k in main_keys}
        if reps > 1:
            for _ in range(SEED_BOOTSTRAP):
                pick = rng.integers(0, reps, size=(n_points, reps))
                yb = np.nanmean(np.take_along_axis(m, pick, axis=1), axis=1)
                yb = np.where(np.isnan(yb), y, yb)
                b = indices(yb, 2)
                for k in main_keys:
                    boot[k].append(b[k])
        for j, f in enumerate(factors):
            row = {"outcome": o, "factor": f.name, "role": f.role, "noise_share": noise_share}
            for k, v in est.items():
                row[k] = float(v[j])
            for k in main_keys:
                if boot[k]:
                    arr = np.array(boot[k])[:, j]
                    row[f"{k}_seed_low"], row[f"{k}_seed_high"] = (
                        float(np.nanpercentile(arr, 2.5)),
                        float(np.nanpercentile(arr, 97.5)),
                    )
            rows.append(row)
        if noise_share == noise_share and noise_share > 0.1:
            notes.append(
                f"{o}: seed noise is {noise_share:.0%} of the variance between design points; "
                f"indices are uncertain, more replications would help"
            )
    return pd.DataFrame(rows), notes


# -- figures -----------------------------------------------------------------------------------------
def _save(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())


def _facets(table: pd.DataFrame, names: list[str]) -> list[tuple[str, pd.DataFrame]]:
    if not names:
        return [("", table)]
    return [
        (", ".join(f"{n} = {v}" for n, v in zip(names, combo if isinstance(combo, tuple) else (combo,))), g)
        for combo, g in table.groupby(names if len(names) > 1 else names[0], sort=True)
    ]


def regime_maps(table: pd.DataFrame, factors: list[Factor], out: Path, name: str) -> list[Path]:
    """The regime map and regime shares figures of a P x B grid; the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    ok = table[table["error"].isna()]
    others = [f.name for f in factors if f.name not in ("power_strength", "business_strength")]
    facet_by = [n for n in others if ok[n].nunique() > 1 and ok[n].nunique() <= 4][:1]
    facets = _facets(ok, facet_by)
    cols = [f"regime_{r}" for r in REGIMES]
    written = []

    # 1. dominant regime per cell
    fig, axes = plt.subplots(1, len(facets), figsize=(5.2 * len(facets) + 1.5, 4.6), squeeze=False)
    cmap = ListedColormap([REGIME_COLOURS[r] for r in REGIMES])
    for ax, (title, g) in zip(axes[0], facets):
        means = g.groupby(["power_strength", "business_strength"])[cols].mean()
        P = sorted(means.index.get_level_values(0).unique())
        B = sorted(means.index.get_level_values(1).unique())
        dom = np.full((len(P), len(B)), np.nan)
        for i, p in enumerate(P):
            for j, b in enumerate(B):
                if (p, b) in means.index:
                    shares = means.loc[(p, b)].to_numpy()
                    k = int(np.argmax(shares))
                    dom[i, j] = k
                    ax.text(
                        j,
                        i,
                        f"{REGIMES[k].replace('_', '-')}\n{shares[k]:.0%}",
                        ha="center",
                        va="center",
                        fontsize=7.5,
                        color="white" if REGIMES[k] in ("suppression", "capture") else "black",
                    )
        ax.imshow(dom, origin="lower", cmap=cmap, vmin=-0.5, vmax=len(REGIMES) - 0.5, aspect="auto")
        ax.set_xticks(range(len(B)), [f"{b:g}" for b in B])
        ax.set_yticks(range(len(P)), [f"{p:g}" for p in P])
        ax.set_xlabel("business strength B of the output-weighted median firm (0..1)")
        ax.set_ylabel("initial power strength P of the akimat (0..1)")
        ax.set_title(
            f"dominant regime (share of relations)\n{title}" if title else "dominant regime (share of relations)",
            fontsize=10,
        )
    fig.legend(
        handles=[Patch(color=REGIME_COLOURS[r], label=r.replace("_", "-")) for r in REGIMES],
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        title="regime (Table 1)",
    )
    fig.suptitle(f"{name}: regime map, mean over replications", fontsize=11)
    fig.tight_layout()
    _save(fig, out / "regime_map.png")
    plt.close(fig)
    written.append(out / "regime_map.png")

    # 2. every regime's share per cell
    fig, axes = plt.subplots(
        len(facets),
        len(REGIMES),
        figsize=(2.9 * len(REGIMES) + 1, 3.0 * len(facets) + 0.8),
        squeeze=False,
        gridspec_kw={"hspace": 0.45, "wspace": 0.3},
    )
    im = None
    for row, (title, g) in zip(axes, facets):
        means = g.groupby(["power_strength", "business_strength"])[cols].mean()
        P = sorted(means.index.get_level_values(0).unique())
        B = sorted(means.index.get_level_values(1).unique())
        for ax, c, r in zip(row, cols, REGIMES):
            grid = means[c].unstack("business_strength").reindex(index=P, columns=B).to_numpy()
            im = ax.imshow(grid, origin="lower", cmap="viridis", vmin=0, vmax=1, aspect="auto")
            ax.set_xticks(range(len(B)), [f"{b:g}" for b in B], fontsize=7)
            ax.set_yticks(range(len(P)), [f"{p:g}" for p in P], fontsize=7)
            ax.set_title(r.replace("_", "-"), fontsize=9)
            ax.set_xlabel("business strength B", fontsize=8)
            if ax is row[0]:
                ax.set_ylabel((f"{title}\n" if title else "") + "power strength P", fontsize=8)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8, label="share of relations in the regime")
    fig.suptitle(f"{name}: regime shares by power and business strength (mean over replications)", fontsize=11)
    _save(fig, out / "regime_shares.png")
    plt.close(fig)
    written.append(out / "regime_shares.png")
    return written


def main_effects(table: pd.DataFrame, factors: list[Factor], outcomes: list[str], out: Path, name: str) -> Path | None:
    """Main effects of each factor on each outcome (a grid of panels); the path, or None."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    varying = [f for f in factors if len(f.factorial_values()) > 1]
    if not varying:
        return None
    shown = outcomes[:MAX_FIGURE_OUTCOMES]
    ok = table[table["error"].isna()]
    fig, axes = plt.subplots(
        len(shown), len(varying), figsize=(3.4 * len(varying) + 0.5, 2.1 * len(shown) + 0.8), squeeze=False
    )
    for i, o in enumerate(shown):
        for j, f in enumerate(varying):
            ax = axes[i][j]
            levels = list(f.factorial_values())
            per_rep = ok.groupby([f.name, "replication"])[o].mean()
            stats = [
                _mean_ci(per_rep.loc[lv].to_numpy())
                if lv in per_rep.index.get_level_values(0)
                else (0, np.nan, np.nan, np.nan, np.nan)
                for lv in levels
            ]
            x = np.arange(len(levels))
            mean = np.array([s[1] for s in stats])
            lo, hi = np.array([s[3] for s in stats]), np.array([s[4] for s in stats])
            ax.errorbar(
                x,
                mean,
                yerr=[np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)],
                fmt="o-",
                color="#0072B2",
                capsize=3,
                lw=1.2,
                ms=4,
            )
            ax.set_xticks(x, [f"{v:g}" if isinstance(v, float) else str(v) for v in levels], fontsize=7)
            ax.tick_params(axis="y", labelsize=7)
            if i == len(shown) - 1:
                ax.set_xlabel(f"{f.name} ({f.role})", fontsize=8)
            if j == 0:
                ax.set_ylabel(outcome_axis(o), fontsize=7)
            ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.suptitle(
        f"{name}: main effects (mean over the other factors; 95% interval over replications)",
        fontsize=10,
        y=1.0 + 0.25 / fig.get_figheight(),
    )
    path = out / "main_effects.png"
    _save(fig, path)
    plt.close(fig)
    return path


def sensitivity_figure(sens: pd.DataFrame, design_type: str, out: Path, name: str) -> Path | None:
    """Sensitivity indices per outcome and factor; the path, or None."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if sens.empty:
        return None
    shown = list(dict.fromkeys(sens["outcome"]))[:MAX_FIGURE_OUTCOMES]
    ncol = 3
    nrow = (len(shown) + ncol - 1) // ncol
    fig, axes = plt.subplots(
        nrow, ncol, figsize=(5.2 * ncol, 0.32 * sens["factor"].nunique() * nrow + 1.6 * nrow + 0.6), squeeze=False
    )
    for ax in axes.ravel()[len(shown) :]:
        ax.axis("off")
    for ax, o in zip(axes.ravel(), shown):
        s = sens[sens["outcome"] == o]
        y = np.arange(len(s))
        if design_type == "morris":
            lo = s.get("mu_star_seed_low", s["mu_star"] - s["mu_star_conf"]).to_numpy()
            hi = s.get("mu_star_seed_high", s["mu_star"] + s["mu_star_conf"]).to_numpy()
            ax.barh(y, s["mu_star"], color="#0072B2", label="mu* (mean |elementary effect|)")
            ax.errorbar(
                s["mu_star"],
                y,
                xerr=[np.clip(s["mu_star"] - lo, 0, None), np.clip(hi - s["mu_star"], 0, None)],
                fmt="none",
                ecolor="black",
                capsize=2,
                lw=0.8,
                label="95% interval over seeds",
            )
            ax.plot(s["sigma"], y, "D", color="#E69F00", ms=4, label="sigma (interaction / non-linearity)")
            ax.set_xlabel(f"{outcome_axis(o)} per unit range of the factor", fontsize=8)
        else:
            h = 0.38
            ax.barh(y - h / 2, s["S1"], h, color="#0072B2", label="S1 (first order)")
            ax.barh(y + h / 2, s["ST"], h, color="#E69F00", label="ST (total)")
            ax.errorbar(
                s["ST"],
                y + h / 2,
                xerr=s["ST_conf"],
                fmt="none",
                ecolor="black",
                capsize=2,
                lw=0.8,
                label="95% bootstrap interval",
            )
            ax.set_xlabel("share of variance", fontsize=8)
        ax.set_yticks(y, s["factor"], fontsize=7)
        ax.invert_yaxis()
        ns = s["noise_share"].iloc[0]
        ax.set_title(f"{o}" + (f"  (seed noise {ns:.0%})" if ns == ns else ""), fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, -0.02))
    kind = "Morris elementary effects" if design_type == "morris" else "Sobol indices"
    fig.suptitle(f"{name}: {kind} on replication-averaged outcomes", fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    path = out / "sensitivity.png"
    _save(fig, path)
    plt.close(fig)
    return path


def analyze(results_dir: str | Path) -> dict[str, Any]:
    """Write summary tables, sensitivity indices and figures into ``RESULTS_DIR/analysis/``.

    Returns ``{"files": [...], "notes": [...], "failed_runs": n, "runs": n}``.
    """
    results_dir = Path(results_dir)
    table, manifest = load(results_dir)
    factors = [Factor.from_manifest(f) for f in manifest["factors"]]
    outcomes = list(manifest["outcomes"])
    names = [f.name for f in factors]
    design = manifest["design"]["type"]
    out = result_subdir(results_dir, "analysis", error=AnalysisError)  # a real folder: no write follows a link out
    files, notes = [], []
    failed = int(table["error"].notna().sum())
    if failed:
        notes.append(f"{failed} failed runs left out")
    missing = manifest["design_points"] * manifest["replications"] - len(table)
    if missing > 0:
        notes.append(f"{missing} runs are not in the results yet (sweep incomplete)")

    def write_csv(frame: pd.DataFrame, filename: str) -> None:
        atomic_write_bytes(out / filename, frame.to_csv(index=False).encode())
        files.append(out / filename)

    write_csv(summary_table(table, names, outcomes), "summary.csv")
    if design == "factorial" and factors:
        write_csv(paired_differences(table, factors, outcomes), "paired_differences.csv")
        path = main_effects(table, factors, outcomes, out, manifest["experiment"]["name"])
        if path:
            files.append(path)
    if design in ("sobol", "morris"):
        if missing > 0:
            notes.append("sensitivity indices need every design point; run the sweep to completion first")
        else:
            sens, more = sensitivity(table, manifest, factors, outcomes)
            notes += more
            write_csv(sens, "sensitivity.csv")
            path = sensitivity_figure(sens, design, out, manifest["experiment"]["name"])
            if path:
                files.append(path)
    if (
        {"power_strength", "business_strength"} <= set(names)
        and all(f"regime_{r}" in outcomes for r in REGIMES)
        and design == "factorial"
    ):
        files += regime_maps(table, factors, out, manifest["experiment"]["name"])
    if "states" in manifest["design"]:  # a crossed design: policies x states of the world
        from .robust import policy_state_means, regret_table, robustness, targets_of

        targets = targets_of(manifest)
        if targets:
            levers = [f.name for f in factors if f.role == "lever"]
            means = policy_state_means(table, levers, [f.name for f in factors if f.role != "lever"], outcomes)
            write_csv(robustness(means, targets, levers), "robust_policies.csv")
            write_csv(regret_table(means, targets), "regret.csv")
        else:
            notes.append("a crossed design without [targets]: no regret or target shares (they need a direction)")
    atomic_write_bytes(out / "notes.txt", ("\n".join(notes) + "\n").encode())
    return {"files": files, "notes": notes, "failed_runs": failed, "runs": len(table)}
