"""The validation's printed summary, figures, manifest, and reading a written result back."""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...runs.seeds import design_seed
from .data import LEVEL, REGIONAL, STRUCTURAL
from .stats import ValidationResult

# --------------------------------------------------------------------------- text and figures


def _pct(x: float) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.1f}%"


def format_summary(res: ValidationResult) -> str:
    """The printed summary (plain text)."""
    d, s = res.design, res.source
    label = (
        f"posterior {s.path} (model '{s.model}', sha256 {str(s.sha256)[:12]}...)"
        if s.label == "posterior"
        else "UNCALIBRATED: the scenario files' default parameters (no posterior)"
    )
    lines = [
        f"Validation out of sample (nothing fitted): {label}",
        f"  {d.draws} draw(s) x {d.seeds} seed(s) per scenario; Turkestan {d.turkestan_firms} firms, national "
        f"{d.national_firms} firms in 20 regions (power_spread {d.power_spread:g}); burn-in {d.burn_in}, "
        f"{d.quarters} reported quarters; {d.runs()} runs in {res.runs.wall:.0f} s; intervals 90%",
        "  published figures (simulated median [90% over draws x seeds] vs published [approx. sampling interval]):",
    ]
    for _, r in res.figures.iterrows():
        pub = f"{'>= ' if r['bound'] else ''}{_pct(r['published'])}"
        if math.isfinite(r["published_low"]):
            pub += f" [{_pct(r['published_low'])}, {_pct(r['published_high'])}]"
        diff = (
            f"{r['difference_pp']:+.1f} pp [{r['difference_low_pp']:+.1f}, {r['difference_high_pp']:+.1f}]"
            if math.isfinite(r["difference_pp"])
            else "n/a"
        )
        lines.append(
            f"    {r['figure']} ({r['scenario']}): simulated {_pct(r['simulated'])} "
            f"[{_pct(r['simulated_low'])}, {_pct(r['simulated_high'])}] vs {pub}: {diff}; {r['verdict']}"
        )
    lines.append(
        "  national scenario, regions in the order of their median corruption incidence; value median [90%]; "
        "rank: median [90%] of the per-run ranks (1 = most corruption; satisfaction: 1 = most satisfied):"
    )
    for _, r in res.regions.iterrows():
        tiers = ", ".join(f"{rk.id}: {r[rk.id]}" for rk in res.data.rankings if rk.primary)
        lines.append(
            f"    {int(r['rank_of_median_corruption_incidence']):>2}. {r['name']:<24} "
            f"{_pct(r['corruption_incidence'])} [{_pct(r['corruption_incidence_low'])}, "
            f"{_pct(r['corruption_incidence_high'])}]  rank {r['rank_corruption_incidence']:.0f} "
            f"[{r['rank_corruption_incidence_low']:.0f}, {r['rank_corruption_incidence_high']:.0f}]; "
            f"satisfied {_pct(r['business_satisfied'])} (rank {r['rank_business_satisfied']:.0f})  ({tiers})"
        )
    for _, r in res.rankings.iterrows():
        lines.append(
            f"  Spearman rho, simulated {r['outcome']} vs {r['ranking']} ({r['regions']} regions): "
            f"{r['rho_median_run']:+.2f} [{r['rho_low']:+.2f}, {r['rho_high']:+.2f}] over runs; "
            f"of the medians {r['rho_of_medians']:+.2f} (shuffled classes: [{r['null_low']:+.2f}, "
            f"{r['null_high']:+.2f}], one-sided p in the expected direction ({r['expected_sign']}) "
            f"{r['p_one_sided']:.2f})"
        )
    for m in res.data.missing:
        lines.append(f"  not found: {m['what']}")
    return "\n".join(lines)


TIER_COLOURS = {
    "high": "#D55E00",
    "average": "#E69F00",
    "low": "#009E73",
    "above_average": "#D55E00",
    "not_above": "#009E73",
    "not covered": "#999999",
}


def plot_ranking(res: ValidationResult, path: Path) -> Path:
    """The 20 regions: simulated rank by corruption incidence and by business satisfaction
    (median and 90% interval over draws x seeds), coloured by the primary independent ranking's class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    reg = res.regions.sort_values("rank_corruption_incidence", kind="stable").reset_index(drop=True)
    primary = res.data.primary()
    n = len(reg)
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.36 * n + 2.6), sharey=True)
    y = np.arange(n)
    for ax, k, title in (
        (axes[0], "corruption_incidence", "by corruption incidence (rank 1 = most corruption)"),
        (axes[1], "business_satisfied", "by business satisfaction (rank 1 = most satisfied)"),
    ):
        colours = [TIER_COLOURS.get(r[primary.id], "#999999") if primary else "#0072B2" for _, r in reg.iterrows()]
        med = reg[f"rank_{k}"].to_numpy()
        err = np.vstack([med - reg[f"rank_{k}_low"].to_numpy(), reg[f"rank_{k}_high"].to_numpy() - med])
        ax.errorbar(med, y, xerr=err, fmt="none", ecolor="#555555", elinewidth=1.2, capsize=3, zorder=1)
        ax.scatter(med, y, c=colours, s=55, edgecolors="black", linewidths=0.6, zorder=2)
        ax.text(n + 2.0, -0.9, "median\nvalue", ha="center", va="bottom", fontsize=7.5, color="#333333")
        for yi, (_, r) in zip(y, reg.iterrows()):
            ax.text(n + 2.0, yi, _pct(r[k]), ha="center", va="center", fontsize=7.5, color="#333333")
        ax.set_xlim(0.3, n + 3.4)
        ax.set_xticks(range(1, n + 1, 2 if n > 12 else 1))
        ax.set_xlabel("simulated rank (median and 90% interval)")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", color="#dddddd", lw=0.6)
    axes[0].set_yticks(y, reg["name"])
    axes[0].set_ylim(n - 0.4, -1.6)
    handles = []
    if primary is not None:
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                markerfacecolor=TIER_COLOURS.get(t, "#999999"),
                markeredgecolor="black",
                label=f"{t.replace('_', ' ')}",
            )
            for t in (*primary.tiers, "not covered")
        ]
    rk = res.rankings
    rho = rk[(rk["ranking"] == getattr(primary, "id", "")) & (rk["outcome"] == REGIONAL[0])]
    note = ""
    if len(rho):
        r = rho.iloc[0]
        note = (
            f"Spearman rho of corruption incidence with the independent classes ({int(r['regions'])} regions): "
            f"{r['rho_median_run']:+.2f} [{r['rho_low']:+.2f}, {r['rho_high']:+.2f}] over runs "
            f"(shuffled classes give [{r['null_low']:+.2f}, {r['null_high']:+.2f}])"
        )
    if handles:
        fig.legend(
            handles=handles,
            loc="lower center",
            ncol=len(handles),
            title=f"point colour: independent ranking, {primary.label}",
            bbox_to_anchor=(0.5, -0.01),
            fontsize=8,
            title_fontsize=8,
        )
    d = res.design
    if res.source.label == "posterior":
        at = "at the Turkestan calibration"
        runs = f"{d.draws} posterior draws x {d.seeds} seeds"
    else:
        at = "at the UNCALIBRATED scenario defaults (no posterior)"
        runs = f"{d.draws * d.seeds} seeds"
    fig.suptitle(
        f"Model prediction: the 20 regions of the national scenario {at}, ranked\n"
        f"(intervals over {runs}; regions differ only by their official data)\n" + note,
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.07 if handles else 0, 1, 1))
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_figures(res: ValidationResult, path: Path) -> Path:
    """Published figures against the simulated values (90% intervals on both sides)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    rows = res.figures.reset_index(drop=True)
    n = len(rows)
    fig, ax = plt.subplots(figsize=(10.5, 0.62 * n + 2.2))
    y = np.arange(n)
    colours = {"turkestan": "#0072B2", "national": "#CC79A7"}
    for yi, (_, r) in zip(y, rows.iterrows()):
        c = colours.get(r["scenario"], "#0072B2")
        structural = r["model_quantity"] in STRUCTURAL
        if structural:
            ax.plot(100 * r["simulated"], yi - 0.15, marker="X", color=c, ms=8, ls="")
            ax.annotate(
                "by construction",
                (100 * r["simulated"], yi - 0.15),
                xytext=(-6, 0),
                textcoords="offset points",
                ha="right",
                va="center",
                fontsize=7,
                color=c,
            )
        else:
            ax.errorbar(
                100 * r["simulated"],
                yi - 0.15,
                xerr=[[100 * (r["simulated"] - r["simulated_low"])], [100 * (r["simulated_high"] - r["simulated"])]],
                fmt="o",
                color=c,
                capsize=3,
                ms=6,
            )
        if math.isfinite(r["published_low"]):
            ax.errorbar(
                100 * r["published"],
                yi + 0.15,
                xerr=[[100 * (r["published"] - r["published_low"])], [100 * (r["published_high"] - r["published"])]],
                fmt="s",
                color="black",
                capsize=3,
                ms=6,
            )
        else:
            ax.plot(100 * r["published"], yi + 0.15, marker=">" if r["bound"] else "D", color="black", ms=6, ls="")
    labels = [f"{r['label']}\n[{r['scenario']} scenario]" for _, r in rows.iterrows()]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_ylim(n - 0.5, -0.6)
    ax.set_xlim(0, 105)
    ax.set_xlabel("percent (of firms, respondents or cases: see the table)")
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.legend(
        handles=[
            *(
                Line2D(
                    [], [], marker="o", color=colours[k], ls="", label=f"simulated, {k} scenario (90%: draws x seeds)"
                )
                for k in ("turkestan", "national")
            ),
            Line2D([], [], marker="X", color="grey", ls="", label="simulated, fixed by the model's structure"),
            *(
                Line2D([], [], marker=m, color="black", ls="", label=label)
                for m, label in (
                    ("s", "published, approx. 90% sampling interval (n known)"),
                    ("D", "published, no sampling error known"),
                    (">", "published lower bound ('at least')"),
                )
            ),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.09),
        ncol=2,
        fontsize=8,
    )
    which = "posterior draws" if res.source.label == "posterior" else "UNCALIBRATED scenario defaults"
    ax.set_title(f"Published Kazakhstan figures (none of them fitted) vs the model ({which})", fontsize=10.5)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def manifest(res: ValidationResult) -> dict[str, Any]:
    """The run's provenance: seed, design, parameter source (file and hash), data file and sources."""
    s = res.source
    return {
        "kind": "validation out of sample",
        "calibrated": s.label == "posterior",
        "parameter_source": {
            "label": s.label,
            "posterior_file": s.path,
            "posterior_sha256": s.sha256,
            "posterior_model": s.model,
            "free_parameters": list(s.names),
        },
        "root_seed": res.design.root_seed,
        "draw_seed": design_seed(res.design.root_seed),
        "design": asdict(res.design),
        "runs": res.design.runs(),
        "run_wall_time_seconds": round(res.runs.wall, 3),
        "run_task_seconds": round(res.runs.task_seconds, 3),
        "data_file": res.data.path,
        "data_file_sha256": res.data.sha256,
        "sources": res.data.sources(),
        "not_found": list(res.data.missing),
        "interval": f"{LEVEL:.0%}: quantiles over posterior draws x seeds; published figures: binomial sampling "
        "interval where the sample size is known (no design effect); differences: Monte Carlo over both",
        "files": {
            "figures.csv": "per published figure and scenario: published value and interval, simulated median and "
            "90% interval, difference (pp) with its interval, verdict, source",
            "quantities.csv": "per scenario and model quantity: median, 90% interval, share of variance between draws",
            "regions.csv": "per region (national scenario): corruption incidence and business satisfaction with "
            "intervals, their ranks with intervals, and the region's class in each independent ranking",
            "rankings.csv": "Spearman rho of the simulated regional outcomes with each independent ranking "
            "(per run: median and interval; of the medians; permutation null)",
            "runs.csv": "per run (scenario, draw, seed): every comparison quantity",
            "region_runs.csv": "per national run and region: corruption incidence and business satisfaction",
            "draws.csv": "the parameter draws used (one row per draw)",
            "ranking.png": "the 20 regions' simulated ranks with intervals, coloured by the independent ranking",
            "figures.png": "published figures against the simulated values",
            "summary.txt": "the printed summary",
        },
    }


def read_result(directory: str | Path) -> dict[str, Any] | None:
    """A written validation result (for the report): its tables and manifest, or None if absent."""
    import json

    d = Path(directory)
    if not (d / "manifest.json").is_file() or not (d / "figures.csv").is_file():
        return None
    out: dict[str, Any] = {"dir": d, "manifest": json.loads((d / "manifest.json").read_text(encoding="utf-8"))}
    for name in ("figures", "quantities", "regions", "rankings"):
        out[name] = pd.read_csv(d / f"{name}.csv", keep_default_na=True)
    return out
