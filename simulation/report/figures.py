"""Figures of the report (PNG, written atomically). Okabe-Ito colour-blind-safe colours;
every figure has a title, axis labels with units and a legend."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..runs.analysis import REGIME_COLOURS
from ..runs.store import atomic_write_bytes
from ..kpi import KPI_NAMES
from ..observer import REGIMES
from ..survey import TABLES, table_question
from .config import GOVERNANCE
from .stats import KPI_LABELS, LEVER_LABELS

#: Okabe-Ito colours of the two governance models.
MODEL_COLOURS = {"partnership": "#0072B2", "symbiotic": "#D55E00"}
OBSERVED_COLOUR = "#000000"
DPI = 110


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    _plt().close(fig)
    return path


def _regime(r: str) -> str:
    return r.replace("_", "-")


def table1_matrix(t1: pd.DataFrame, path: Path, subtitle: str) -> Path:
    """The paper's 2x2 matrix per governance model: rows strong / weak power, columns weak /
    strong business; each cell coloured by its dominant regime, listing every regime's share."""
    plt = _plt()
    from matplotlib.patches import Patch, Rectangle

    fig, axes = plt.subplots(1, 2, figsize=(12.5, 5.6))
    for ax, g in zip(axes, GOVERNANCE):
        grp = t1[t1["governance"] == g]
        for i, power in enumerate(("strong", "weak")):
            for j, business in enumerate(("weak", "strong")):
                cell = grp[(grp["power"] == power) & (grp["business"] == business)]
                x, y = j, 1 - i
                dom = cell[cell["dominant"]]
                if dom.empty:
                    ax.add_patch(Rectangle((x, y), 1, 1, facecolor="white", edgecolor="black"))
                    ax.text(x + 0.5, y + 0.5, "no firm in this quadrant", ha="center", va="center", fontsize=9)
                    continue
                regime = dom["regime"].iloc[0]
                ax.add_patch(Rectangle((x, y), 1, 1, facecolor=REGIME_COLOURS[regime], alpha=0.35, edgecolor="black"))
                ax.text(x + 0.5, y + 0.86, _regime(regime).upper(), ha="center", va="center", fontsize=11,
                        fontweight="bold")
                lines = [f"{_regime(r):<17}{s:6.0%}" for r, s in zip(cell["regime"], cell["share"])]
                ax.text(x + 0.5, y + 0.42, "\n".join(lines), ha="center", va="center", fontsize=8.5, family="monospace")
                ax.text(x + 0.5, y + 0.07, f"{cell['quadrant_weight'].iloc[0]:.0%} of output (grid mean)",
                        ha="center", va="center", fontsize=7.5, style="italic")
        ax.set_xlim(0, 2)
        ax.set_ylim(0, 2)
        ax.set_xticks([0.5, 1.5], ["weak business\n($B < \\theta_B$)", "strong business\n($B \\geq \\theta_B$)"])
        ax.set_yticks([1.5, 0.5], ["strong power\n($P \\geq \\theta_P$)", "weak power\n($P < \\theta_P$)"])
        ax.tick_params(length=0)
        ax.set_title(f"{g} model", fontsize=12, color=MODEL_COLOURS[g], fontweight="bold")
    fig.legend(handles=[Patch(color=REGIME_COLOURS[r], alpha=0.5, label=_regime(r)) for r in REGIMES],
               loc="lower center", ncol=6, title="dominant regime (cell colour)", bbox_to_anchor=(0.5, -0.13))
    fig.suptitle("Emergent Table 1: regime shares of output by quadrant (power × business strength)\n" + subtitle,
                 fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def kpi_timeseries(summary: pd.DataFrame, path: Path, subtitle: str) -> Path:
    """The six Figure 2 indicators per quarter: mean across replications and 95% band."""
    plt = _plt()
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.2), sharex=True)
    for ax, k in zip(axes.ravel(), KPI_NAMES):
        for g in GOVERNANCE:
            s = summary[(summary["governance"] == g) & (summary["indicator"] == k)].sort_values("quarter")
            ax.plot(s["quarter"], s["mean"], color=MODEL_COLOURS[g], lw=1.8, label=f"{g}: mean",
                    ls="-" if g == "partnership" else "--")
            ax.fill_between(s["quarter"], s["ci_low"], s["ci_high"], color=MODEL_COLOURS[g], alpha=0.2,
                            label=f"{g}: 95% interval")
        label, unit = KPI_LABELS[k]
        ax.set_title(label, fontsize=10)
        ax.set_ylabel(unit, fontsize=8.5)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("reported quarter (after burn-in)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.04))
    fig.suptitle("Figure 2 indicators by governance model: mean across replications with 95% t-interval\n" + subtitle,
                 fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def paired_forest(diffs: pd.DataFrame, path: Path, subtitle: str) -> Path:
    """Forest plot of symbiotic - partnership: shares in percentage points (left), other
    outcomes as % of the partnership mean (right); 95% t-intervals over paired seeds."""
    plt = _plt()
    shares = diffs[diffs["unit"] == "pp"]
    others = diffs[diffs["unit"] != "pp"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.45 * max(len(shares), len(others)) + 2.2))
    for ax, frame, scale, xlabel in ((axes[0], shares, 100.0, "symbiotic − partnership (percentage points)"),
                                     (axes[1], others, None, "symbiotic − partnership (% of the partnership mean)")):
        y = np.arange(len(frame))[::-1]
        if scale is None:
            base = frame["partnership"].to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(base != 0, 100.0 / np.abs(base), np.nan)
        else:
            f = np.full(len(frame), scale)
        mean = frame["difference"].to_numpy() * f
        lo = frame["ci_low"].to_numpy() * f
        hi = frame["ci_high"].to_numpy() * f
        colours = np.where(frame["significant"].to_numpy(), "#D55E00", "#999999")
        for yi, m, a, b, c in zip(y, mean, lo, hi, colours):
            ax.plot([a, b], [yi, yi], color=c, lw=2)
            ax.plot([m], [yi], "o", color=c, ms=6)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y, [f"{lab} [{u}]" if u != "pp" else lab for lab, u in zip(frame["label"], frame["unit"])],
                      fontsize=8.5)
        ax.set_xlabel(xlabel)
        ax.grid(axis="x", alpha=0.3)
    from matplotlib.lines import Line2D

    fig.legend(handles=[Line2D([], [], color="#D55E00", marker="o", label="95% interval excludes 0"),
                        Line2D([], [], color="#999999", marker="o", label="95% interval includes 0")],
               loc="lower center", ncol=2, bbox_to_anchor=(0.5, -0.05))
    fig.suptitle("Paired differences, symbiotic − partnership, end of run (mean of the last 4 quarters), "
                 "95% t-interval over seeds\n" + subtitle, fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def survey_figure(summary: pd.DataFrame, path: Path, subtitle: str) -> Path:
    """Observed column totals of Tables 5-9 vs the simulated median and 90% predictive interval."""
    plt = _plt()
    fig, axes = plt.subplots(1, 5, figsize=(17, 4.9), gridspec_kw={"width_ratios": [5, 3, 3, 3, 3]})
    for ax, table in zip(axes, TABLES):
        s = summary[summary["table"] == table].sort_values("answer_index")
        x = np.arange(len(s))
        for k, g in enumerate(GOVERNANCE):
            dx = -0.15 if k == 0 else 0.15
            med = s[f"{g}_median"].to_numpy()
            ax.errorbar(x + dx, med, yerr=[med - s[f"{g}_p05"].to_numpy(), s[f"{g}_p95"].to_numpy() - med],
                        fmt="o" if k == 0 else "s", color=MODEL_COLOURS[g], capsize=3, lw=1.6,
                        label=f"{g}: simulated median, 90% predictive interval")
        ax.plot(x, s["observed"], "D", color=OBSERVED_COLOUR, ms=7, mfc="none", mew=1.8, label="observed (paper)")
        labels = [_wrap(a, 16) for a in s["answer"]]
        ax.set_xticks(x, labels, fontsize=7.5)
        n = int(s["respondents"].iloc[0])
        ax.set_title(f"Table {table[5:]}\n" + _wrap(table_question(table), 38), fontsize=8.5)
        ax.set_ylabel(f"respondents (of {n})" if table != "table6" else f"answers (4 utilities × 198 = {n})", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.1))
    fig.suptitle("The survey: simulated vs observed answers (column totals of Tables 5–9)\n" + subtitle, fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)[:4])


def lever_figure(effects: pd.DataFrame, path: Path, subtitle: str) -> Path:
    """Effect of each lever (high - low) on the headline outcomes, both models, 95% intervals."""
    plt = _plt()
    outcomes = list(LEVER_LABELS)
    levers = list(dict.fromkeys(effects["lever"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(3.3 * len(outcomes) + 1.5, 0.42 * len(levers) + 2.4), sharey=True)
    y = np.arange(len(levers))[::-1]
    for ax, o in zip(axes, outcomes):
        label, unit = LEVER_LABELS[o]
        scale = 100.0 if unit == "pp" else 1.0
        for k, g in enumerate(GOVERNANCE):
            e = effects[(effects["governance"] == g) & (effects["outcome"] == o)].set_index("lever").reindex(levers)
            dy = 0.17 if k == 0 else -0.17
            m = e["effect"].to_numpy() * scale
            ax.errorbar(m, y + dy, xerr=[m - e["ci_low"].to_numpy() * scale, e["ci_high"].to_numpy() * scale - m],
                        fmt="o" if k == 0 else "s", color=MODEL_COLOURS[g], capsize=2, ms=4, lw=1.3, label=f"{g} model")
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("high − low (percentage points)" if unit == "pp" else f"high − low ({unit})", fontsize=8.5)
        ax.grid(axis="x", alpha=0.3)
    ranges = effects.drop_duplicates("lever").set_index("lever")
    axes[0].set_yticks(y, [f"{lv.replace('_', ' ')} {ranges.loc[lv, 'low']:g}→{ranges.loc[lv, 'high']:g}" for lv in levers],
                       fontsize=8.5)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, bbox_to_anchor=(0.5, -0.14), title="mean effect, 95% t-interval")
    fig.suptitle("Table 4 levers, one at a time: effect of moving each lever from low to high (paired seeds)\n" + subtitle,
                 fontsize=11)
    fig.tight_layout()
    return _save(fig, path)

