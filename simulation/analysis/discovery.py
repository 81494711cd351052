"""Scenario discovery over a finished sweep: ``statebiz discover DIR --outcome NAME --below X``.

Every run of the sweep is a case; it is *of interest* when its outcome is below (or above)
the threshold. EMA Workbench's analysis module then finds where in the space of the
factors (levers and uncertainties) the cases of interest lie:

- **PRIM** (``ema_workbench.analysis.prim.Prim``, Friedman and Fisher's patient rule
  induction): boxes found one after another, each peeled from the whole space. Each box has
  its *coverage* (the share of all cases of interest that lie inside it) and *density* (the
  share of cases inside it that are of interest); the peeling trajectory traces the
  trade-off between them. The box kept from a trajectory is the densest one whose coverage
  is at least ``min_coverage`` (default 0.5). Each restricted input has a quasi-p value
  (Bryant and Lempert 2010: a one-sided binomial test of whether the restriction raises the
  density; small is significant).
- **CART** (``ema_workbench.analysis.cart.CART``, scikit-learn's decision tree): the tree's
  leaves as boxes; the leaves whose density exceeds one half are the boxes reported.

Files go to ``DIR/discovery/`` (named ``<method>_<outcome>_<below|above><X>_*``):
``boxes.csv`` (one row per box: coverage, density, mass, restricted inputs), ``limits.csv``
(one row per box and restricted input: its range, the input's full range, quasi-p values),
``trajectory.csv`` (PRIM: the peeling trajectory of every box) and the figures
``tradeoff.png`` (PRIM: coverage against density) and ``boxes.png`` (the restricted ranges),
``tree.png`` (CART). On a crossed design, ``robust.csv`` ranks the policies by the share of
states in which they meet the threshold and by their regret (:mod:`simulation.analysis.robust`).
"""

from __future__ import annotations

import difflib
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import atomic_write_bytes, result_subdir
from ..observe.outcomes import NAMES
from ..observe.outcomes import label as outcome_label
from ..runs.spec import outcome_bounds
from ..scenario import ScenarioError
from .analysis import _save

METHODS = ("prim", "cart")
MIN_COVERAGE = 0.5
MAX_BOXES = 3
MIN_LATER_DENSITY = 0.5  # a second or later box must hold at least this share of cases of interest


class DiscoveryError(ScenarioError):
    """Scenario discovery cannot run on this input (one line naming the flag or the directory)."""


@dataclass
class Found:
    """What a discovery found: the boxes, their limits and (PRIM) peeling trajectories."""

    boxes: pd.DataFrame
    limits: pd.DataFrame
    trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)
    model: Any = None  # the EMA Prim or CART object


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_threshold(outcome: str, below: float | None, above: float | None) -> tuple[str, float]:
    """Validate ``--outcome`` and ``--below``/``--above``; returns (direction, threshold).

    Raises:
        DiscoveryError: an unknown outcome, no or two thresholds, or a threshold outside the outcome's range.
    """
    if outcome not in NAMES:
        raise DiscoveryError(
            f"--outcome: unknown outcome '{outcome}'{_suggest(outcome, NAMES)}; "
            "expected an outcome of the registry, e.g. corruption_incidence, business_satisfied"
        )
    if (below is None) == (above is None):
        raise DiscoveryError("--below/--above: give exactly one threshold, e.g. --below 0.3")
    direction, value = ("below", below) if below is not None else ("above", above)
    low, high = outcome_bounds(outcome)
    if not math.isfinite(value) or not low <= value <= high:
        raise DiscoveryError(
            f"--{direction}: {value:g} is outside the range of {outcome} (a share): expected a number in "
            f"[{low:g}, {high:g}]"
        )
    return direction, float(value)


def interest(values: np.ndarray | pd.Series, direction: str, threshold: float) -> np.ndarray:
    """The boolean case-of-interest array: outcome strictly below (above) the threshold."""
    v = np.asarray(values, dtype=float)
    return v < threshold if direction == "below" else v > threshold


def input_frame(table: pd.DataFrame, inputs: list[str]) -> pd.DataFrame:
    """The inputs as EMA expects them: floats for numbers, ``category`` for the rest."""
    x = table[inputs].reset_index(drop=True).copy()
    for c in inputs:
        if pd.api.types.is_numeric_dtype(x[c]) and not pd.api.types.is_bool_dtype(x[c]):
            x[c] = x[c].astype(float)
        else:
            x[c] = x[c].astype(str).astype("category")
    return x


def _limit_rows(box_id: int, lim: pd.DataFrame, init: pd.DataFrame, qp: dict | None) -> list[dict[str, Any]]:
    rows = []
    for c in lim.columns:
        lo, hi = lim.loc[0, c], lim.loc[1, c]
        full_lo, full_hi = init.loc[0, c], init.loc[1, c]
        categorical = isinstance(lo, (set, frozenset))
        if categorical:
            if set(lo) == set(full_lo):
                continue
            values = sorted(map(str, lo))
            row = {"low": np.nan, "high": np.nan, "values": json.dumps(values)}
            row |= {"full_low": np.nan, "full_high": np.nan, "full_values": json.dumps(sorted(map(str, full_lo)))}
        else:
            if lo <= full_lo and hi >= full_hi:
                continue
            row = {"low": float(lo), "high": float(hi), "values": ""}
            row |= {"full_low": float(full_lo), "full_high": float(full_hi), "full_values": ""}
        q = (qp or {}).get(c, [np.nan, np.nan])
        q = [np.nan if v is None or (isinstance(v, (int, float)) and v < 0) else float(v) for v in q]
        rows.append({"box": box_id, "input": c, **row, "qp_low": q[0], "qp_high": q[1]})
    return rows


def run_prim(
    x: pd.DataFrame, y: np.ndarray, max_boxes: int = MAX_BOXES, min_coverage: float = MIN_COVERAGE, **kw
) -> Found:
    """PRIM (EMA Workbench) on inputs ``x`` and the boolean ``y``: up to ``max_boxes`` boxes,
    each the densest box of its peeling trajectory with coverage >= ``min_coverage``; a box is
    kept only if it restricts an input and is denser than the data left when it was found, and
    (after the first) if at least half its runs are of interest; the search stops at the first box
    that is not kept."""
    from ema_workbench.analysis import prim

    p = prim.Prim(x, y.astype(bool), peel_alpha=kw.get("peel_alpha", 0.05), mass_min=kw.get("mass_min", 0.05))
    total = max(int(y.sum()), 1)
    boxes, limits, trajectories = [], [], []
    for b in range(max_boxes):
        box = p.find_box()
        if box is None:
            break
        remaining = y[p.yi_remaining]  # the data this box was peeled from
        base = float(np.mean(remaining)) if len(remaining) else 0.0
        traj = box.peeling_trajectory.copy()
        eligible = traj[traj["coverage"] >= min_coverage]
        pick = eligible if len(eligible) else traj.tail(1)
        i = int(pick.sort_values(["density", "coverage"], ascending=False).index[0])
        box.select(i)
        traj.insert(0, "box", b + 1)
        traj["chosen"] = traj.index == i
        trajectories.append(traj)
        lim_rows = _limit_rows(b + 1, box.box_lims[i], p.box_init, box.p_values[i] if i < len(box.p_values) else None)
        k = int(traj.loc[i, "k"])
        if not lim_rows or traj.loc[i, "density"] <= base or (b > 0 and traj.loc[i, "density"] < MIN_LATER_DENSITY):
            break
        boxes.append(
            {
                "box": b + 1,
                "coverage": k / total,  # of all cases of interest, not of those left for this box
                "density": float(traj.loc[i, "density"]),
                "mass": float(traj.loc[i, "mass"]),
                "runs_in_box": int(traj.loc[i, "n"]),
                "cases_in_box": k,
                "restricted": len(lim_rows),
                "trajectory_step": i,
            }
        )
        limits += lim_rows
    return Found(pd.DataFrame(boxes), pd.DataFrame(limits), pd.concat(trajectories, ignore_index=True), p)


def run_cart(x: pd.DataFrame, y: np.ndarray, mass_min: float = 0.05) -> Found:
    """CART (EMA Workbench over scikit-learn) on inputs ``x`` and the boolean ``y``: the leaves
    whose density exceeds 0.5, densest first."""
    from ema_workbench.analysis import cart

    c = cart.CART(x, y.astype(bool), mass_min=mass_min)
    from ema_workbench.analysis import scenario_discovery_util as sdutil

    c.build_tree()

    init = sdutil._make_box(x)
    leaves = []
    for lim, st in zip(c.boxes, c.stats):
        leaves.append((lim, st))
    leaves.sort(key=lambda ls: (-float(ls[1]["density"]), -float(ls[1]["coverage"])))
    boxes, limits = [], []
    for lim, st in leaves:
        if not float(st["density"]) > 0.5:  # NaN: an empty leaf
            continue
        b = len(boxes) + 1
        rows = _limit_rows(b, lim, init, None)
        boxes.append(
            {
                "box": b,
                "coverage": float(st["coverage"]),
                "density": float(st["density"]),
                "mass": float(st["mass"]),
                "runs_in_box": int(round(float(st["mass"]) * len(y))),
                "cases_in_box": int(round(float(st["coverage"]) * y.sum())),
                "restricted": len(rows),
            }
        )
        limits += rows
    return Found(pd.DataFrame(boxes), pd.DataFrame(limits), model=c)


def describe_box(limits: pd.DataFrame, box: int, digits: int = 3) -> str:
    """A box's restrictions in words, e.g. 'transparency >= 0.62 and governance = partnership'."""
    parts = []
    for _, r in limits[limits["box"] == box].iterrows():
        name = r["input"].replace("_", " ")
        if r["values"]:
            parts.append(f"{name} = {' or '.join(json.loads(r['values']))}")
        elif r["low"] > r["full_low"] and r["high"] < r["full_high"]:
            parts.append(f"{name} between {r['low']:.{digits}g} and {r['high']:.{digits}g}")
        elif r["low"] > r["full_low"]:
            parts.append(f"{name} ≥ {r['low']:.{digits}g}")
        else:
            parts.append(f"{name} ≤ {r['high']:.{digits}g}")
    return " and ".join(parts) if parts else "anywhere"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def tradeoff_figure(trajectory: pd.DataFrame, path: Path, title: str) -> Path:
    """PRIM's peeling trajectories: coverage against density, colour = restricted inputs."""
    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(7, 5))
    markers = "os^Dv"
    sc = None
    for b, g in trajectory.groupby("box"):
        sc = ax.scatter(
            g["coverage"],
            g["density"],
            c=g["res_dim"],
            cmap="viridis",
            vmin=0,
            vmax=max(1, trajectory["res_dim"].max()),
            marker=markers[(b - 1) % len(markers)],
            s=28,
            label=f"box {b}: peeling trajectory",
        )
        chosen = g[g["chosen"]]
        ax.scatter(chosen["coverage"], chosen["density"], s=160, facecolors="none", edgecolors="red", lw=1.8)
    ax.scatter([], [], s=160, facecolors="none", edgecolors="red", lw=1.8, label="box kept")
    if sc is not None:
        fig.colorbar(sc, ax=ax, label="restricted inputs (number)")
    ax.set_xlabel("coverage (share of all cases of interest inside the box)")
    ax.set_ylabel("density (share of runs in the box that are of interest)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(title, fontsize=10)
    _save(fig, path)
    plt.close(fig)
    return path


def boxes_figure(boxes: pd.DataFrame, limits: pd.DataFrame, path: Path, title: str) -> Path:
    """Each box's restricted ranges, as a share of every input's full range, with quasi-p values."""
    plt = _pyplot()

    inputs = list(dict.fromkeys(limits["input"])) if len(limits) else []
    fig, ax = plt.subplots(figsize=(8, 0.55 * max(len(inputs), 1) * max(len(boxes), 1) + 1.8))
    colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00"]
    nb = max(len(boxes), 1)
    for k, (_, b) in enumerate(boxes.iterrows()):
        lim = limits[limits["box"] == b["box"]].set_index("input")
        for j, inp in enumerate(inputs):
            if inp not in lim.index:
                continue
            r = lim.loc[inp]
            y = len(inputs) - 1 - j + (nb - 1 - k) / (nb + 1) - 0.3
            if r["values"]:
                full = json.loads(r["full_values"])
                kept = json.loads(r["values"])
                lo, hi = 0.0, 1.0
                text = " or ".join(kept)
                for i, v in enumerate(full):
                    if v in kept:
                        lo, hi = i / len(full), (i + 1) / len(full)
            else:
                span = r["full_high"] - r["full_low"] or 1.0
                lo, hi = (r["low"] - r["full_low"]) / span, (r["high"] - r["full_low"]) / span
                text = f"{r['low']:.3g} – {r['high']:.3g}"
            qps = [q for q in (r["qp_low"], r["qp_high"]) if not pd.isna(q)]
            if qps:
                text += f"  (qp {max(qps):.1e})"
            ax.barh(
                y,
                hi - lo,
                left=lo,
                height=0.8 / (nb + 1),
                color=colours[k % len(colours)],
                label=f"box {int(b['box'])}: coverage {b['coverage']:.0%}, density {b['density']:.0%}"
                if j == next(i for i, n in enumerate(inputs) if n in lim.index)
                else None,
            )
            ax.text(hi + 0.01, y, text, va="center", fontsize=7.5)
    ax.set_yticks(range(len(inputs)), [i.replace("_", " ") for i in inputs][::-1] if inputs else [])
    ax.set_xlim(0, 1.45)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlabel("restricted range (share of the input's range in the sweep, 0 = low end, 1 = high end)")
    if len(boxes):
        # below the axes: inside it would hide the labels of the lowest bars
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(len(boxes), 3), fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    _save(fig, path)
    plt.close(fig)
    return path


def tree_figure(model, path: Path, title: str) -> Path:
    """The CART tree (scikit-learn's drawing): splits, case counts and classes per node."""
    from sklearn.tree import plot_tree

    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(14, 7))
    plot_tree(
        model.clf,
        feature_names=model.feature_names,
        class_names=["not of interest", "of interest"],
        filled=True,
        impurity=False,
        proportion=True,
        fontsize=7,
        ax=ax,
    )
    ax.set_title(title + "\n(node: split, share of runs, class shares [not of interest, of interest])", fontsize=10)
    _save(fig, path)
    plt.close(fig)
    return path


def discover(
    results_dir: str | Path,
    outcome: str,
    below: float | None = None,
    above: float | None = None,
    method: str = "prim",
    inputs: list[str] | None = None,
    min_coverage: float = MIN_COVERAGE,
    max_boxes: int = MAX_BOXES,
) -> dict[str, Any]:
    """Scenario discovery on a finished sweep; writes into ``RESULTS_DIR/discovery/``.

    Returns ``{"files", "boxes", "limits", "cases", "of_interest", "robust"}``.

    Raises:
        DiscoveryError: bad flags (unknown outcome, threshold out of range, unknown input) or a
            directory that is not a sweep's results; nothing is written.
    """
    from .analysis import AnalysisError, load

    direction, threshold = check_threshold(outcome, below, above)
    if method not in METHODS:
        raise DiscoveryError(f"--method: '{method}' is not allowed; expected one of {', '.join(METHODS)}")
    if not 0.0 < min_coverage <= 1.0:
        raise DiscoveryError(f"--min-coverage: {min_coverage:g} is not allowed; expected a number in (0, 1]")
    results_dir = Path(results_dir)
    try:
        table, manifest = load(results_dir)
    except AnalysisError as err:
        raise DiscoveryError(str(err)) from None
    if "factors" not in manifest or "outcomes" not in manifest or "design" not in manifest:
        raise DiscoveryError(f"{results_dir}: not a sweep's results (its manifest.json has no factors or design)")
    factors = [f["name"] for f in manifest["factors"]]
    if not factors:
        raise DiscoveryError(f"{results_dir}: the sweep varies no factor; there is nothing to discover")
    if outcome not in manifest["outcomes"]:
        raise DiscoveryError(
            f"--outcome: {outcome} is not in this sweep's results; it kept {', '.join(manifest['outcomes'])}"
        )
    chosen = list(inputs) if inputs else factors
    for name in chosen:
        if name not in factors:
            raise DiscoveryError(
                f"--inputs: '{name}' is not a factor of this sweep{_suggest(name, factors)}; "
                f"expected some of {', '.join(factors)}"
            )
    ok = table[table["error"].isna() & table[outcome].notna()].reset_index(drop=True)
    y = interest(ok[outcome], direction, threshold)
    if y.all() or not y.any():
        raise DiscoveryError(
            f"--{direction} {threshold:g}: {int(y.sum())} of {len(y)} runs have {outcome} {direction} it; "
            "scenario discovery needs cases on both sides of the threshold"
        )
    x = input_frame(ok, chosen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = run_prim(x, y, max_boxes, min_coverage) if method == "prim" else run_cart(x, y)

    out = result_subdir(results_dir, "discovery", error=DiscoveryError)  # a real folder: no write follows a link out
    stem = f"{method}_{outcome}_{direction}{threshold:g}"
    files: list[Path] = []

    def write_csv(frame: pd.DataFrame, suffix: str) -> None:
        path = out / f"{stem}_{suffix}"
        atomic_write_bytes(path, frame.to_csv(index=False).encode())
        files.append(path)

    sign = "<" if direction == "below" else ">"
    what = f"{outcome_label(outcome)} {sign} {threshold:g}"
    title = f"{manifest['experiment']['name']}: where {what} ({int(y.sum())} of {len(y)} runs)"
    boxes = found.boxes.assign(description=[describe_box(found.limits, b) for b in found.boxes.get("box", [])])
    write_csv(boxes, "boxes.csv")
    write_csv(found.limits, "limits.csv")
    if method == "prim":
        write_csv(found.trajectory.drop(columns=[], errors="ignore"), "trajectory.csv")
        files.append(
            tradeoff_figure(found.trajectory, out / f"{stem}_tradeoff.png", "PRIM peeling trajectory — " + title)
        )
    else:
        files.append(tree_figure(found.model, out / f"{stem}_tree.png", "CART tree — " + title))
    files.append(
        boxes_figure(found.boxes, found.limits, out / f"{stem}_boxes.png", f"{method.upper()} boxes — {title}")
    )

    robust = None
    if "states" in manifest["design"]:
        from .robust import policy_state_means, robustness

        levers = [f["name"] for f in manifest["factors"] if f["role"] == "lever"]
        uncs = [f["name"] for f in manifest["factors"] if f["role"] != "lever"]
        target = {"outcome": outcome, "direction": direction, "threshold": threshold, "observed": False}
        robust = robustness(policy_state_means(table, levers, uncs, [outcome]), [target], levers)
        write_csv(robust, "robust.csv")
    return {
        "files": files,
        "boxes": boxes,
        "limits": found.limits,
        "cases": len(y),
        "of_interest": int(y.sum()),
        "robust": robust,
    }


def what_it_takes(
    runs: pd.DataFrame, levers: list[str], uncertainties: list[str], targets: list[dict[str, Any]]
) -> dict[str, pd.DataFrame]:
    """Robust policies and PRIM boxes of a crossed design's runs (one row per run, with
    ``point``, ``replication``, the factors and the outcomes; ``error`` empty on success).

    Returns ``policies`` (:func:`robustness`), ``boxes`` and ``limits`` (PRIM, EMA Workbench,
    on the runs that meet every target at once, over levers and uncertainties) and ``met``
    (one row: runs, runs meeting all targets).
    """
    from .robust import meets, policy_state_means, robustness, target_text

    outcomes = [t["outcome"] for t in targets]
    if "error" not in runs:
        runs = runs.assign(error=None)
    means = policy_state_means(runs, levers, uncertainties, outcomes)
    policies = robustness(means, targets, levers)
    ok = runs[runs["error"].isna()].reset_index(drop=True)
    y = np.ones(len(ok), dtype=bool)
    for t in targets:
        y &= meets(ok[t["outcome"]], t)
    boxes, limits = pd.DataFrame(), pd.DataFrame()
    if 0 < y.sum() < len(y):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = run_prim(input_frame(ok, levers + uncertainties), y)
        boxes, limits = found.boxes, found.limits
        if len(boxes):
            boxes = boxes.assign(description=[describe_box(limits, b) for b in boxes["box"]])
    met = pd.DataFrame(
        [{"runs": len(y), "runs_meeting_all": int(y.sum()), "targets": json.dumps([target_text(t) for t in targets])}]
    )
    return {"policies": policies, "boxes": boxes, "limits": limits, "met": met}
