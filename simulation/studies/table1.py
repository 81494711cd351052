"""The paper's Table 1 as a regime map: the dominant regime over power P x business B, per s.

For every cell of a P x B grid (``power_strength`` x ``business_strength``) at each
symbiosis index s, several seeds are run; the cell's dominant regime is the regime with the
largest share of relations (``regime_*``, mean over the last 4 reported quarters),
averaged over the seeds. The null model (``dealings_power`` = 0: dealings do not depend on
P) is run on the same grid and seeds for contrast.

Robustness of the labels. The observer's three thresholds (``power_threshold``,
``business_threshold``, ``interaction_threshold``) appear in no behavioural rule, so moving
one leaves the trajectory unchanged (tests/observe/test_observer_outside.py). Rather than re-run
the model once per moved threshold, each run is observed a second time at the same
observation point: a shadow ``Observer`` per variant reads the same world, through a view
whose parameters have that one threshold moved by -20% or +20%, right after the model's own
observer, in each reported quarter. The variant shares are therefore exactly what a re-run
with the moved threshold would report (its trajectory being identical), at no extra
simulation; the unmoved variant reproduces the model's own ``regime_*`` outcomes exactly
(tested). Relabelling only the final world after the run would be wrong: the model's
shares are means over 4 quarters, each read at the observation point of its quarter,
before entry changes the firm table.

Note: the quadrant thresholds theta_P and theta_B only sort firms into Table 1's quadrants;
a firm's regime label and so the overall shares do not depend on them. A cell's dominant
regime can flip only under ``interaction_threshold``; theta_P and theta_B can change the
quadrant reading (regime shares within each quadrant), which is recorded too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, override

import numpy as np
import pandas as pd

from ..model import StateBusinessModel
from ..observe.observer import QUADRANTS, REGIMES, Observer
from ..parameters import BY_NAME
from .base import Runs, Study, Task, counted

#: The observer's thresholds and how far each is moved for the robustness check.
THRESHOLDS = ("power_threshold", "business_threshold", "interaction_threshold")
MOVES = (-0.2, 0.2)
BASELINE = "baseline"
#: Colour-blind-safe colours (Okabe & Ito 2008), one per regime.
PALETTE = {
    "suppression": "#D55E00",
    "patronage": "#E69F00",
    "partnership": "#009E73",
    "conflict": "#CC79A7",
    "non_interference": "#BBBBBB",
    "capture": "#0072B2",
}
#: What ``statebiz table1`` writes, as its manifest describes it.
FILES = {
    "runs.csv": "per run and threshold variant: regime shares, quadrant weights, shares within quadrants",
    "cells.csv": "per model, s, P, B: mean shares over seeds, dominant regime, flips under moved cuts",
    "quadrants.csv": "the observer's quadrant reading pooled over the grid, per model, s and variant",
    "regime_maps.png": "dominant regime per cell; hatched cells flip under a threshold moved by +-20%",
    "summary.txt": "the printed summary",
}
MODELS = {"full": 1.0, "null_model": 0.0}  # name -> dealings_power ("null" would read as NaN in pandas)


@dataclass(frozen=True)
class Table1Design:
    """The grid, seeds and run settings of a Table 1 map."""

    powers: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(1, 10))
    businesses: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(1, 10))
    symbioses: tuple[float, ...] = (0.0, 0.5, 1.0)
    seeds: int = 3
    firms: int = 1500
    residents_per_region: int = 300
    burn_in: int = int(BY_NAME["burn_in"].default)  # the measured burn-in (statebiz dynamics stationarity)
    steps: int = 8
    regions: str = "turkestan"
    models: tuple[str, ...] = ("full", "null_model")
    extra: dict[str, Any] = field(default_factory=dict)

    def params(self, s: float, p: float, b: float, model: str) -> dict[str, Any]:
        """The run_model parameters of one cell."""
        return {
            "regions": self.regions,
            "firms": self.firms,
            "residents_per_region": self.residents_per_region,
            "burn_in": self.burn_in,
            "steps": self.steps,
            "symbiosis": s,
            "power_strength": p,
            "business_strength": b,
            "dealings_power": MODELS[model],
            **self.extra,
        }

    def runs(self) -> int:
        """Number of model runs."""
        return len(self.models) * len(self.symbioses) * len(self.powers) * len(self.businesses) * self.seeds


#: The small, fast design of ``--quick`` (a 5 x 5 grid, 2 seeds, a short burn-in).
QUICK = Table1Design(
    powers=(0.1, 0.3, 0.5, 0.7, 0.9), businesses=(0.1, 0.3, 0.5, 0.7, 0.9), seeds=2, firms=600, burn_in=24
)


def variants(params: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Name -> threshold overrides: the baseline (none) and each threshold moved by each of MOVES."""
    from ..parameters import BY_NAME, defaults

    base = defaults() | params
    out: dict[str, dict[str, float]] = {BASELINE: {}}
    for name in THRESHOLDS:
        spec = BY_NAME[name]
        for move in MOVES:
            value = float(np.clip(base[name] * (1 + move), spec.low, spec.high))
            out[f"{name}{move:+.0%}"] = {name: value}
    return out


class _ThresholdView:
    """The world as a shadow observer reads it: every attribute the world's, but the parameters
    with some observer thresholds replaced. Read only."""

    def __init__(self, world, overrides: dict[str, float]):
        self._world = world
        self.params = {**world.params, **overrides}

    def __getattr__(self, name: str):
        return getattr(self._world, name)


def _national(obs: Observer, weight: np.ndarray) -> np.ndarray:
    """National regime shares: regional shares weighted by the regions' firms in business (as the outcomes are)."""
    if weight.sum() > 0:
        return np.average(obs.shares, axis=0, weights=weight)
    return obs.shares.mean(axis=0)


def observe_run(seed: int, params: dict[str, Any], overrides: dict[str, dict[str, float]]) -> dict[str, dict]:
    """Run one replication and read it under every threshold variant at every reported quarter.

    Returns variant -> {"shares": 6 regime shares, "quadrant_weight": 4 shares of relations in the
    quadrants, "quadrant_shares": 4 x 6 regime shares within each quadrant}, each a mean over
    the last 4 reported quarters, plus "outcomes": the model's own outcomes (unchanged by
    the shadow reading).
    """
    model = StateBusinessModel(rng=seed, **params)
    own = model.observer
    shadows = {name: Observer(1, model.world.n_regions) for name in overrides}
    readings: list[dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]] = []
    own_step = own.step

    def step(world, log) -> None:
        own_step(world, log)
        f = world.firms
        weight = np.bincount(f.region, weights=f.alive.astype(float), minlength=world.n_regions)
        row = {}
        for name, ov in overrides.items():
            shadow = shadows[name]
            shadow.step(_ThresholdView(world, ov), log)
            qw = shadow.quadrant_weight.sum(axis=0)
            within = (shadow.quadrant_shares * shadow.quadrant_weight[:, :, None]).sum(axis=0)
            within = np.divide(within, qw[:, None], out=np.zeros_like(within), where=qw[:, None] > 0)
            qshare = qw / qw.sum() if qw.sum() > 0 else np.zeros_like(qw)
            row[name] = (_national(shadow, weight), qshare, within)
        readings.append(row)

    own.step = step  # the model's observer, followed by the shadows; nothing is written to the world
    try:
        model.run()
    finally:
        del own.step
    last = readings[-4:]
    out: dict[str, dict] = {}
    for name in overrides:
        out[name] = {
            "shares": np.mean([r[name][0] for r in last], axis=0),
            "quadrant_weight": np.mean([r[name][1] for r in last], axis=0),
            "quadrant_shares": np.mean([r[name][2] for r in last], axis=0),
        }
    out["outcomes"] = model.outcomes()
    return out


def table1_run(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One replication as an evaluator task: its rows under every threshold variant (``rows``),
    each with the variant's regime shares, quadrant weights and shares within quadrants."""
    overrides = variants(params)
    read = observe_run(seed, params, overrides)
    rows = []
    for name in overrides:
        r = read[name]
        row = {"variant": name, "power_realised": read["outcomes"]["power"]}
        row |= {f"share_{k}": float(v) for k, v in zip(REGIMES, r["shares"])}
        row |= {f"weight_{q}": float(v) for q, v in zip(QUADRANTS, r["quadrant_weight"])}
        for qi, q in enumerate(QUADRANTS):
            row |= {f"{q}_{k}": float(r["quadrant_shares"][qi, ki]) for ki, k in enumerate(REGIMES)}
        rows.append(row)
    return {"rows": rows}


def tasks(design: Table1Design) -> tuple[list[Task], list[dict[str, Any]]]:
    """The evaluator's tasks, in the grid's order (model, s, P, B, seed), and what each cell is."""
    out, cells = [], []
    for model in design.models:
        for s in design.symbioses:
            for p in design.powers:
                for b in design.businesses:
                    params = design.params(s, p, b, model)
                    for seed in range(design.seeds):
                        out.append((len(out), table1_run, params, seed, design.steps, ()))
                        cells.append({"model": model, "symbiosis": s, "power_strength": p, "business_strength": b})
    return out, cells


def run_table1(
    design: Table1Design, progress: Callable[[int, int], None] | None = None, runs: Runs | None = None
) -> pd.DataFrame:
    """Every run of the design under every threshold variant: one row per run and variant.

    ``runs`` is the study's evaluator (:class:`~simulation.studies.base.Runs`; default: serial,
    no journal); ``progress(done, total)`` is called after each run when no ``runs`` is given."""
    todo, cells = tasks(design)
    if runs is None:
        with counted(progress, len(todo)) as serial:
            return run_table1(design, runs=serial)
    got = runs.run(todo, describe=lambda t: f"run of cell {cells[t[0]]}, seed {t[3]}")
    rows = []
    for task, cell, result in zip(todo, cells, got):
        for r in result["rows"]:
            head = cell | {"seed": task[3], "variant": r["variant"], "power_realised": r["power_realised"]}
            rows.append(head | {k: v for k, v in r.items() if k not in ("variant", "power_realised")})
    return pd.DataFrame(rows)


CELL = ["model", "symbiosis", "power_strength", "business_strength"]
SHARES = [f"share_{k}" for k in REGIMES]


def dominant_map(runs: pd.DataFrame) -> pd.DataFrame:
    """Per cell: mean shares over seeds, the dominant regime (baseline labels), and whether it flips
    under any moved threshold (``flipped``, with the variants that flip it in ``flipped_by``)."""
    mean = runs.groupby([*CELL, "variant"], sort=False)[SHARES].mean().reset_index()
    mean["dominant"] = [REGIMES[i] for i in np.argmax(mean[SHARES].to_numpy(), axis=1)]
    base = mean[mean["variant"] == BASELINE].set_index(CELL)
    moved = mean[mean["variant"] != BASELINE]
    by = {}
    for key, grp in moved.groupby(CELL, sort=False):
        flips = grp.loc[grp["dominant"] != base.loc[key, "dominant"], "variant"].tolist()
        by[key] = flips
    cells = base.drop(columns="variant").reset_index()
    cells["flipped_by"] = [",".join(by.get(tuple(k), [])) for k in cells[CELL].itertuples(index=False)]
    cells["flipped"] = cells["flipped_by"] != ""
    shares = cells[SHARES].to_numpy()
    top2 = np.sort(shares, axis=1)[:, -2:]
    cells["margin"] = top2[:, 1] - top2[:, 0]
    return cells


def quadrant_reading(runs: pd.DataFrame) -> pd.DataFrame:
    """The observer's Table 1 per model, s and variant: share of relations in each quadrant and its
    dominant regime, pooled over the grid's cells and seeds (weighted by the quadrant's share of relations)."""
    recs = []
    for (model, s, variant), grp in runs.groupby(["model", "symbiosis", "variant"], sort=False):
        for q in QUADRANTS:
            w = grp[f"weight_{q}"].to_numpy()
            shares = grp[[f"{q}_{k}" for k in REGIMES]].to_numpy()
            pooled = (shares * w[:, None]).sum(axis=0) / w.sum() if w.sum() > 0 else np.zeros(len(REGIMES))
            recs.append(
                {
                    "model": model,
                    "symbiosis": s,
                    "variant": variant,
                    "quadrant": q,
                    "weight": float(w.mean()),
                    "dominant": REGIMES[int(np.argmax(pooled))] if w.sum() > 0 else "none",
                    "share": float(pooled.max()),
                }
            )
    return pd.DataFrame(recs)


def _ranges(values: Sequence[float]) -> str:
    vals = sorted(set(round(float(v), 2) for v in values))
    return ", ".join(f"{v:g}" for v in vals)


def summary(
    cells: pd.DataFrame, quadrants: pd.DataFrame | None = None, theta: tuple[float, float] = (0.5, 0.5)
) -> dict:
    """The facts the command prints: where each regime dominates, coverage, patronage's place, flips, null."""
    out: dict[str, Any] = {"models": {}}
    for model, grp in cells.groupby("model", sort=False):
        m: dict[str, Any] = {"cells": int(len(grp)), "by_s": {}}
        for s, g in grp.groupby("symbiosis", sort=True):
            m["by_s"][float(s)] = {
                r: [
                    (float(p), float(b))
                    for p, b in g.loc[g["dominant"] == r, ["power_strength", "business_strength"]].to_numpy()
                ]
                for r in REGIMES
            }
        dominated = set(grp["dominant"])
        m["dominating"] = [r for r in REGIMES if r in dominated]
        m["never_dominating"] = [r for r in REGIMES if r not in dominated]
        pat = grp[grp["dominant"] == "patronage"]
        m["patronage_cells"] = [
            (float(s), float(p), float(b))
            for s, p, b in pat[["symbiosis", "power_strength", "business_strength"]].to_numpy()
        ]
        m["patronage_in_place"] = bool(
            len(pat) > 0
            and (pat["power_strength"] >= theta[0]).all()
            and (pat["business_strength"] < theta[1]).all()
            and (pat["symbiosis"] > 0).all()
        )
        m["flip_share"] = float(grp["flipped"].mean())
        m["flips_by_variant"] = {}
        for v in grp["flipped_by"]:
            for name in filter(None, v.split(",") if isinstance(v, str) else []):  # from a CSV, "" reads as NaN
                m["flips_by_variant"][name] = m["flips_by_variant"].get(name, 0) + 1
        out["models"][model] = m
    if {"full", "null_model"} <= set(cells["model"]):
        full = cells[cells["model"] == "full"].set_index(CELL[1:])
        null = cells[cells["model"] == "null_model"].set_index(CELL[1:])
        common = full.index.intersection(null.index)
        differ = full.loc[common, "dominant"] != null.loc[common, "dominant"]
        out["null_differs_share"] = float(differ.mean())
        out["null_changes"] = {}
        for key in common[differ.to_numpy()]:
            change = f"{full.loc[key, 'dominant']} -> {null.loc[key, 'dominant']}"
            out["null_changes"][change] = out["null_changes"].get(change, 0) + 1
        out["mean_shares"] = {
            model: {r: float(cells.loc[cells["model"] == model, f"share_{r}"].mean()) for r in REGIMES}
            for model in ("full", "null_model")
        }
    if quadrants is not None and len(quadrants):
        base = quadrants[quadrants["variant"] == BASELINE].set_index(["model", "symbiosis", "quadrant"])
        moved = quadrants[quadrants["variant"] != BASELINE]
        flips = []
        for _, r in moved.iterrows():
            b = base.loc[(r["model"], r["symbiosis"], r["quadrant"])]
            if r["dominant"] != b["dominant"]:
                flips.append(
                    (r["model"], float(r["symbiosis"]), r["quadrant"], r["variant"], b["dominant"], r["dominant"])
                )
        out["quadrant_flips"] = flips
        out["quadrant_table"] = {
            (m, float(s), q): (d, float(sh), float(w))
            for (m, s, q), d, sh, w in zip(base.index, base["dominant"], base["share"], base["weight"])
        }
    return out


def format_summary(facts: dict, design: Table1Design, wall: float) -> str:
    """The printed summary (plain text)."""
    lines = [
        f"Table 1 map: {len(design.powers)} x {len(design.businesses)} cells (P x B) at s = "
        f"{', '.join(f'{s:g}' for s in design.symbioses)}, {design.seeds} seed(s), {design.firms} firms, "
        f"burn-in {design.burn_in}, {design.runs()} runs in {wall:.0f} s"
    ]
    for model, m in facts["models"].items():
        title = "full model" if model == "full" else "null model (dealings_power = 0)"
        lines.append(f"{title}:")
        for s, regimes in m["by_s"].items():
            parts = []
            for r, cells in regimes.items():
                if cells:
                    ps = _ranges([c[0] for c in cells])
                    bs = _ranges([c[1] for c in cells])
                    parts.append(f"{r} {len(cells)} (P {ps}; B {bs})")
            lines.append(f"  s = {s:g}: " + "; ".join(parts))
        lines.append(
            "  each of the six regimes dominates some cell: "
            + ("yes" if not m["never_dominating"] else "no; never: " + ", ".join(m["never_dominating"]))
        )
        pat = m["patronage_cells"]
        where = ", ".join(f"(s {s:g}, P {p:g}, B {b:g})" for s, p, b in pat) or "nowhere"
        lines.append(
            f"  patronage dominates at {where}; only with strong power, weak business and s > 0: "
            + ("yes" if m["patronage_in_place"] else "no")
        )
        by = ", ".join(f"{k} {v}" for k, v in sorted(m["flips_by_variant"].items())) or "none"
        lines.append(
            f"  flip share (dominant label changes under any threshold moved by +-20%): {m['flip_share']:.1%} "
            f"of {m['cells']} cells (by variant: {by})"
        )
    if "null_differs_share" in facts:
        changes = ", ".join(f"{k} {v}" for k, v in sorted(facts["null_changes"].items(), key=lambda kv: -kv[1]))
        lines.append(
            f"null vs full: the dominant regime differs in {facts['null_differs_share']:.0%} of cells "
            f"({changes or 'none'})"
        )
        ms = facts["mean_shares"]
        lines.append(
            "  mean shares over the grid, full -> null: "
            + ", ".join(f"{r} {ms['full'][r]:.0%} -> {ms['null_model'][r]:.0%}" for r in REGIMES)
        )
    if "quadrant_flips" in facts:
        n = len(facts["quadrant_flips"])
        lines.append(
            f"observer's quadrant reading (pooled over the grid): {n} quadrant x s x model readings "
            "flip under a moved threshold"
            + (
                ": " + "; ".join(f"{m} s {s:g} {q} {v}: {a} -> {b}" for m, s, q, v, a, b in facts["quadrant_flips"])
                if n
                else ""
            )
        )
    return "\n".join(lines)


def plot_maps(cells: pd.DataFrame, path, design: Table1Design) -> None:
    """Regime maps: one panel per s (rows: full model, null model); colour = dominant regime,
    hatched = the label flips under a moved threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch, Rectangle

    models = [m for m in design.models if m in set(cells["model"])]
    ss = list(design.symbioses)
    fig, axes = plt.subplots(
        len(models), len(ss), figsize=(3.4 * len(ss) + 1.8, 3.2 * len(models)), squeeze=False, constrained_layout=True
    )
    cmap = ListedColormap([PALETTE[r] for r in REGIMES])
    ps, bs = list(design.powers), list(design.businesses)
    for i, model in enumerate(models):
        for j, s in enumerate(ss):
            ax = axes[i][j]
            g = cells[(cells["model"] == model) & np.isclose(cells["symbiosis"], s)]
            grid = np.full((len(ps), len(bs)), np.nan)
            for _, r in g.iterrows():
                pi = int(np.argmin(np.abs(np.array(ps) - r["power_strength"])))
                bi = int(np.argmin(np.abs(np.array(bs) - r["business_strength"])))
                grid[pi, bi] = REGIMES.index(r["dominant"])
                if r["flipped"]:
                    ax.add_patch(Rectangle((bi - 0.5, pi - 0.5), 1, 1, fill=False, hatch="///", lw=0, ec="black"))
            ax.imshow(grid, origin="lower", cmap=cmap, vmin=-0.5, vmax=len(REGIMES) - 0.5, aspect="auto")
            ax.set_xticks(range(len(bs)), [f"{b:g}" for b in bs], fontsize=7)
            ax.set_yticks(range(len(ps)), [f"{p:g}" for p in ps], fontsize=7)
            ax.set_xlabel("business strength B")
            if j == 0:
                ax.set_ylabel(("full model" if model == "full" else "null: dealings_power 0") + "\npower strength P")
            ax.set_title(f"s = {s:g}" + (" (null)" if model == "null_model" else ""))
    handles = [Patch(facecolor=PALETTE[r], label=r.replace("_", "-")) for r in REGIMES]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="///", label="flips under a\nthreshold +-20%"))
    fig.legend(handles=handles, loc="outside right center", fontsize=8, title="dominant regime")
    fig.suptitle(
        f"Dominant regime (share of relations, mean of {design.seeds} seed(s)); {design.firms} firms, Turkestan"
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)


def with_settings(design: Table1Design, **changes: Any) -> Table1Design:
    """A copy of the design with some settings changed (None leaves a setting as it is)."""
    return replace(design, **{k: v for k, v in changes.items() if v is not None})


def timed_run(design: Table1Design, progress=None) -> tuple[pd.DataFrame, float]:
    """``run_table1`` and its wall time in seconds."""
    started = time.perf_counter()
    runs = run_table1(design, progress)
    return runs, time.perf_counter() - started


class Table1(Study):
    """``statebiz table1``: the regime maps over P x B per s, the quadrant reading and the null model."""

    name = "table1"
    files = FILES

    @override
    def default(self) -> Table1Design:
        return Table1Design()

    @override
    def quick(self) -> Table1Design:
        return QUICK

    @override
    def size(self, design: Table1Design) -> int:
        return design.runs()

    @override
    def compute(self, design: Table1Design, runs: Runs) -> dict[str, pd.DataFrame]:
        table = run_table1(design, runs=runs)
        return {"runs.csv": table, "cells.csv": dominant_map(table), "quadrants.csv": quadrant_reading(table)}

    @override
    def summary(self, design: Table1Design, tables: dict[str, pd.DataFrame], wall: float) -> str:
        facts = summary(tables["cells.csv"], tables["quadrants.csv"])
        return format_summary(facts, design, wall)

    @override
    def manifest(self, design: Table1Design, tables: dict[str, pd.DataFrame], wall: float) -> dict[str, Any]:
        return {
            "design": {k: getattr(design, k) for k in design.__dataclass_fields__},
            "runs": design.runs(),
            "wall_time_seconds": round(wall, 3),
            "files": FILES,
        }

    @override
    def draw(self, design: Table1Design, tables: dict[str, pd.DataFrame], tmp) -> None:
        plot_maps(tables["cells.csv"], tmp / "regime_maps.png", design)
