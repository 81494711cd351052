"""The comparison page's figures: paired differences (model at s_b minus model at s_a, same seed)
over the latest quarters, and the Table 1 matrix's differences now. With several seeds, the
line is the mean over the seeds and the band their range: what lies inside the band is noise."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..analysis.analysis import REGIME_COLOURS
from ..observe.kpi import KPI_NAMES
from ..observe.observer import QUADRANTS, REGIMES
from ..observe.outcomes import label
from .figures import HISTORY_SHADE, QUARTER_AXIS, quadrant_title
from .live import once
from .pair import PPP, SHARES, Pair

COLOURS = {
    "corruption_incidence": "#D55E00",
    "business_satisfied": "#0072B2",
    "population_satisfied": "#009E73",
    "ppp_started": "#56B4E9",
    "ppp_performing": "#009E73",
    "ppp_disputed": "#CC79A7",
    "ppp_terminated": "#D55E00",
}


def _which(pair: Pair) -> str:
    return f"s = {pair.s_b:g} minus s = {pair.s_a:g}"


def _seeds(pair: Pair) -> str:
    n = len(pair.seeds)
    return f"seed {pair.seeds[0]}" if n == 1 else f"mean of {n} seeds, band: their range"


def _line(ax, d: pd.DataFrame, name: str, colour: str) -> None:
    g = d.groupby("quarter")[name]
    mean = g.mean()
    ax.plot(mean.index, mean.to_numpy(), color=colour, lw=1.6)
    if d["seed"].nunique() > 1:
        ax.fill_between(mean.index, g.min().to_numpy(), g.max().to_numpy(), color=colour, alpha=0.2, lw=0)


def _frame(ax, d: pd.DataFrame) -> None:
    q = d["quarter"]
    lo, hi = int(q.min()), int(q.max())
    if lo <= 0:
        ax.axvspan(lo - 0.5, 0.5, color=HISTORY_SHADE, zorder=0, lw=0)
    ax.set_xlim(lo - 0.5, max(hi, lo + 8) + 0.5)
    ax.axhline(0, color="#555", lw=0.8)
    ax.relim()
    ax.autoscale_view(scalex=False)


def _axes(ax) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    ax.tick_params(labelsize=7)


def _legend(ax, names) -> None:
    ax.legend(handles=[Line2D([], [], color=COLOURS[n], label=label(n)) for n in names], fontsize=7, loc="upper left")


def _lines_setup(pair: Pair, names, ylabel: str, title: str) -> Figure:
    """One axes of paired differences over the quarters, one line per outcome in ``names``."""
    fig = Figure(figsize=(6.4, 3.8))
    fig.subplots_adjust(left=0.11, right=0.97, top=0.86, bottom=0.14)
    ax = fig.subplots()
    _axes(ax)
    _legend(ax, names)
    ax.set_xlabel(QUARTER_AXIS, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_title(f"{title}: {_which(pair)}\n({_seeds(pair)})", fontsize=10)
    return fig


def _lines_fill(fig: Figure, pair: Pair, names) -> None:
    ax = fig.axes[0]
    d = pair.differences()
    for name in names:
        _line(ax, d, name, COLOURS[name])
    _frame(ax, d)


def shares_setup(pair: Pair) -> Figure:
    """Corruption and satisfaction differences: axes, labels, legend."""
    return _lines_setup(pair, SHARES, "difference (percentage points)", "Corruption and satisfaction")


def shares_fill(fig: Figure, pair: Pair) -> None:
    """Corruption incidence and both satisfactions: the paired difference in percentage points."""
    _lines_fill(fig, pair, SHARES)


def kpi_setup(pair: Pair) -> Figure:
    """The six Figure 2 KPIs' difference axes."""
    fig = Figure(figsize=(9, 5.0))
    fig.subplots_adjust(left=0.07, right=0.98, top=0.86, bottom=0.12, wspace=0.32, hspace=0.55)
    axes = fig.subplots(2, 3)
    for ax, name in zip(axes.ravel(), KPI_NAMES):
        _axes(ax)
        ax.set_title(label(name), fontsize=9)
        ax.set_ylabel("% of the value at s_a", fontsize=7)
    for ax in axes[1]:
        ax.set_xlabel("quarter", fontsize=8)
    fig.suptitle(f"Figure 2 KPIs: {_which(pair)}, in % ({_seeds(pair)})", fontsize=11)
    return fig


def kpi_fill(fig: Figure, pair: Pair) -> None:
    """The six Figure 2 KPIs: the paired difference in % of the value at s_a."""
    d = pair.differences()
    for ax, name in zip(fig.axes, KPI_NAMES):
        _line(ax, d, name, "#0072B2")
        _frame(ax, d)


def ppp_setup(pair: Pair) -> Figure:
    """The PPP pipeline's difference axes."""
    return _lines_setup(pair, PPP, "difference (contracts)", "PPP pipeline")


def ppp_fill(fig: Figure, pair: Pair) -> None:
    """The PPP pipeline: contracts started per quarter and live by status, paired difference."""
    _lines_fill(fig, pair, PPP)


def table1_setup(pair: Pair) -> Figure:
    """The Table 1 differences' axes and legend."""
    fig = Figure(figsize=(6.4, 3.8))
    fig.subplots_adjust(left=0.3, right=0.97, top=0.9, bottom=0.3)
    ax = fig.subplots()
    ax.set_yticks(range(len(QUADRANTS)), [quadrant_title(qi) for qi in reversed(range(len(QUADRANTS)))], fontsize=7)
    ax.set_ylim(-0.5, len(QUADRANTS) - 0.5)
    ax.set_xlabel("difference in the regime's share of the quadrant's output (pp)", fontsize=8)
    ax.tick_params(labelsize=7)
    handles = [Patch(color=REGIME_COLOURS[r], label=r.replace("_", "-")) for r in REGIMES]
    if len(pair.seeds) > 1:
        handles.append(Line2D([], [], color="#333", label="range over seeds"))
    fig.legend(handles=handles, loc="lower center", ncols=4, fontsize=7, frameon=False)
    return fig


def table1_fill(fig: Figure, pair: Pair) -> None:
    """Table 1 now: each regime's share of each quadrant's output, paired difference (pp)."""
    ax = fig.axes[0]
    q = pair.quadrant_differences()  # seeds x quadrants x regimes
    mean = q.mean(axis=0)
    height = 0.8 / len(REGIMES)
    for qi in range(len(QUADRANTS)):
        y = len(QUADRANTS) - 1 - qi
        for k, regime in enumerate(REGIMES):
            yk = y + 0.4 - (k + 0.5) * height
            ax.broken_barh(
                [(min(0.0, mean[qi, k]), abs(mean[qi, k]))],
                (yk - 0.45 * height, 0.9 * height),
                color=REGIME_COLOURS[regime],
            )
            if len(q) > 1:
                ax.plot([q[:, qi, k].min(), q[:, qi, k].max()], [yk, yk], color="#333", lw=1)
    ax.axvline(0, color="#555", lw=0.8)
    ax.relim()
    ax.autoscale_view(scaley=False)
    ax.set_title(f"Table 1 regimes, quarter {pair.quarter}: {_which(pair)}", fontsize=10)


def latest_table(pair: Pair) -> str:
    """The last year's differences as a Markdown table (mean over the seeds and their range)."""
    t = pair.latest_year()
    several = len(pair.seeds) > 1
    head = "| outcome | difference | unit |" + (" range over seeds |" if several else "")
    lines = [head, "|---|---|---|" + ("---|" if several else "")]
    for _, r in t.iterrows():
        cell = f"| {r['label']} | {r['difference']:+.1f} | {r['unit']} |"
        if several:
            cell += f" {r['low']:+.1f} to {r['high']:+.1f} |"
        lines.append(cell)
    return "\n".join(lines)


#: The comparison page's figures by name: (setup, fill).
FIGURES = {
    "kpis": (kpi_setup, kpi_fill),
    "shares": (shares_setup, shares_fill),
    "ppp": (ppp_setup, ppp_fill),
    "table1": (table1_setup, table1_fill),
}


def all_figures(pair: Pair) -> dict[str, Figure]:
    """Every figure of the comparison page, by name, drawn once."""
    return {name: once(setup, fill, pair) for name, (setup, fill) in FIGURES.items()}
