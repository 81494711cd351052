"""The app's figures: matplotlib ``Figure`` objects (no pyplot state), one function per plot.

Every plot has a title, axis labels with units (from the outcome registry) and a legend.
The model page's figures read a live model: the national values of each reported quarter
(``model.recorder.national_rows``), the regional values of the latest quarter
(``model.recorder.current``) and the observer's readings. The explorer's figure reads a
finished sweep's table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from ..analysis.analysis import REGIME_COLOURS, outcome_axis
from ..observe.kpi import KPI_NAMES
from ..observe.observer import QUADRANTS, REGIMES
from ..observe.outcomes import label, unit
from ..regions import all_regions
from ..world import STATUS_NAMES
from .live import once

EMPTY = "no quarter reported yet: press Step"
PPP_COLOURS = {
    "performing": "#009E73",
    "renegotiated": "#E69F00",
    "disputed": "#CC79A7",
    "terminated": "#D55E00",
    "completed": "#0072B2",
}


#: Quarters the time-series plots show: the latest WINDOW, the burn-in's last quarters included.
WINDOW = 40
HISTORY_SHADE = "#eeeeee"
QUARTER_AXIS = "quarter (≤ 0: end of the burn-in, the stationary state)"


def national_series(model, window: int = WINDOW) -> pd.DataFrame:
    """National values per quarter, the latest ``window`` (index: quarter; the burn-in's last
    quarters, if the model kept them as ``history``, are quarters ``1 - len(history)`` .. 0)."""
    history = list(getattr(model, "history", []))
    rows = history + list(model.recorder.national_rows)
    frame = pd.DataFrame(rows)
    frame.index = np.arange(1 - len(history), len(rows) - len(history) + 1)
    return frame.iloc[-window:]


def _axis(name: str) -> str:
    u = unit(name)
    return "%" if u == "share" else u


def _values(frame: pd.DataFrame, name: str) -> np.ndarray:
    v = frame[name].to_numpy(dtype=float)
    return 100 * v if unit(name) == "share" else v


def _quarters(ax, frame: pd.DataFrame | None = None) -> None:
    """Whole quarters on the x axis; the quarters of the burn-in shaded; the y axis rescaled."""
    if frame is not None and len(frame):
        if frame.index[0] <= 0:
            ax.axvspan(frame.index[0] - 0.5, 0.5, color=HISTORY_SHADE, zorder=0, lw=0)
        ax.set_xlim(frame.index[0] - 0.5, max(frame.index[-1], frame.index[0] + 8) + 0.5)
    ax.relim()
    ax.autoscale_view(scalex=False)


def _quarter_axis(ax) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))


def _percent(ax) -> None:
    ax.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))


def _empty(ax, text: str = EMPTY) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="#555")


def _where(model) -> str:
    return model.regions[0].name if model.n_regions == 1 else f"{model.n_regions} regions"


def _now(model) -> str:
    return f"quarter {model.reported_quarters}"


def kpi_setup(model) -> Figure:
    """The six Figure 2 KPIs' axes, titles, labels and legend."""
    fig = Figure(figsize=(9, 5.2))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.16, wspace=0.38, hspace=0.55)
    axes = fig.subplots(2, 3)
    for ax, name in zip(axes.ravel(), KPI_NAMES):
        ax.set_title(label(name), fontsize=9)
        ax.set_ylabel(_axis(name).replace("money units / quarter", "money / quarter"), fontsize=7)
        ax.tick_params(labelsize=7)
        _quarter_axis(ax)
    for ax in axes[1]:
        ax.set_xlabel("quarter", fontsize=8)
    handle = Line2D([], [], color="#0072B2", label=f"simulated, {_where(model)} (sum or mean)")
    shade = Patch(color=HISTORY_SHADE, label="end of the burn-in (stationary state)")
    fig.legend(handles=[handle, shade], loc="lower center", ncols=2, fontsize=8, frameon=False)
    return fig


def kpi_fill(fig: Figure, model) -> None:
    """The six Figure 2 KPIs over the latest quarters (national values)."""
    frame = national_series(model)
    for ax, name in zip(fig.axes, KPI_NAMES):
        if len(frame):
            ax.plot(frame.index, _values(frame, name), color="#0072B2", lw=1.4)
        else:
            _empty(ax, "press Step")
        _quarters(ax, frame)
    fig.suptitle(f"Figure 2 KPIs of the akims' evaluation, {_now(model)}", fontsize=11)


CORRUPTION_SERIES = {
    "corruption_incidence": "#D55E00",
    "business_satisfied": "#0072B2",
    "population_satisfied": "#009E73",
}


def corruption_setup(model) -> Figure:
    """Corruption and satisfaction: the axes, labels and legend."""
    fig = Figure(figsize=(6.4, 4))
    fig.subplots_adjust(left=0.1, right=0.97, top=0.9, bottom=0.13)
    ax = fig.subplots()
    ax.legend(
        handles=[Line2D([], [], color=c, label=label(n)) for n, c in CORRUPTION_SERIES.items()],
        fontsize=8,
        loc="upper left",
    )
    _quarter_axis(ax)
    _percent(ax)
    ax.set_xlabel(QUARTER_AXIS, fontsize=8)
    ax.set_ylabel("% of firms or of residents", fontsize=8)
    ax.set_title(f"Corruption and satisfaction, {_where(model)}", fontsize=11)
    return fig


def corruption_fill(fig: Figure, model) -> None:
    """Corruption incidence and business and population satisfaction over the latest quarters (%)."""
    ax = fig.axes[0]
    frame = national_series(model)
    for name, colour in CORRUPTION_SERIES.items():
        if len(frame):
            ax.plot(frame.index, _values(frame, name), color=colour, lw=1.6)
    _quarters(ax, frame)
    ax.set_ylim(0, 100)


def quadrant_matrix(model) -> tuple[np.ndarray, np.ndarray]:
    """National Table 1 matrix now: each quadrant's output share and the regime shares within it."""
    obs = model.observer
    weight = obs.quadrant_weight.sum(axis=0)
    within = (obs.quadrant_shares * obs.quadrant_weight[:, :, None]).sum(axis=0)
    within = np.divide(within, weight[:, None], out=np.zeros_like(within), where=weight[:, None] > 0)
    total = weight.sum()
    return (weight / total if total > 0 else weight), within


def quadrant_title(qi: int) -> str:
    """A quadrant's name, in QUADRANTS order (strong power first, weak business first)."""
    power, business = qi // 2, qi % 2
    return f"{'strong' if power == 0 else 'weak'} power, {'weak' if business == 0 else 'strong'} business"


def table1_setup(model) -> Figure:
    """The Table 1 matrix's axes and legend."""
    fig = Figure(figsize=(6.4, 4.0))
    fig.subplots_adjust(left=0.32, right=0.97, top=0.88, bottom=0.24)
    ax = fig.subplots()
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.5, len(QUADRANTS) - 0.5)
    ax.xaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    ax.set_xlabel("share of the quadrant's output", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.legend(
        handles=[Patch(color=REGIME_COLOURS[r], label=r.replace("_", "-")) for r in REGIMES],
        loc="lower center",
        ncols=3,
        fontsize=8,
        frameon=False,
    )
    return fig


def table1_fill(fig: Figure, model) -> None:
    """Regime shares as the Table 1 matrix: one stacked bar per quadrant (power x business)."""
    ax = fig.axes[0]
    weight, within = quadrant_matrix(model)
    for qi in range(len(QUADRANTS)):
        y = len(QUADRANTS) - 1 - qi
        left = 0.0
        for k, regime in enumerate(REGIMES):
            share = 100 * within[qi, k]
            ax.broken_barh([(left, share)], (y - 0.3, 0.6), color=REGIME_COLOURS[regime])
            if share >= 12:
                ax.text(left + share / 2, y, f"{share:.0f}%", ha="center", va="center", fontsize=7, color="white")
            left += share
        if weight[qi] == 0:
            ax.text(50, y, "no firm in this quadrant", ha="center", va="center", fontsize=7, color="#555")
    ax.set_yticks(
        range(len(QUADRANTS)),
        [f"{quadrant_title(qi)}\n{100 * weight[qi]:.0f}% of output" for qi in reversed(range(len(QUADRANTS)))],
        fontsize=7,
    )
    fig.suptitle(f"Table 1: regimes read by the observer, {_now(model)}", fontsize=10)


def ppp_setup(model) -> Figure:
    """PPP contracts by status: the axes, labels and legend."""
    fig = Figure(figsize=(6.4, 4))
    fig.subplots_adjust(left=0.1, right=0.97, top=0.9, bottom=0.13)
    ax = fig.subplots()
    names = [f"ppp_{s}" for s in STATUS_NAMES]
    ax.legend(
        handles=[Patch(color=PPP_COLOURS[s], label=label(n)) for n, s in zip(names, STATUS_NAMES)],
        fontsize=7,
        loc="upper left",
    )
    _quarter_axis(ax)
    ax.set_xlabel(QUARTER_AXIS, fontsize=8)
    ax.set_ylabel("contracts")
    ax.set_title(f"PPP contracts by status, {_where(model)}", fontsize=11)
    return fig


def ppp_fill(fig: Figure, model) -> None:
    """PPP contracts by status over the latest quarters (stacked)."""
    ax = fig.axes[0]
    frame = national_series(model)
    if len(frame):
        ax.stackplot(
            frame.index,
            *[frame[f"ppp_{s}"].to_numpy(dtype=float) for s in STATUS_NAMES],
            colors=[PPP_COLOURS[s] for s in STATUS_NAMES],
            alpha=0.85,
        )
    else:
        _empty(ax)
    _quarters(ax, frame)


def kpi_figure(model) -> Figure:
    """The six Figure 2 KPIs over the latest quarters (national values)."""
    return once(kpi_setup, kpi_fill, model)


def corruption_figure(model) -> Figure:
    """Corruption incidence and business and population satisfaction over the latest quarters (%)."""
    return once(corruption_setup, corruption_fill, model)


def table1_figure(model) -> Figure:
    """Regime shares as the Table 1 matrix."""
    return once(table1_setup, table1_fill, model)


def ppp_figure(model) -> Figure:
    """PPP contracts by status over the latest quarters (stacked)."""
    return once(ppp_setup, ppp_fill, model)


def region_map(model, outcome: str) -> Figure:
    """Kazakhstan's 20 regions at their centres' coordinates, the land-border graph, coloured by an outcome."""
    import matplotlib as mpl

    fig = Figure(figsize=(7.4, 4.6))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.92, bottom=0.1)
    ax = fig.subplots()
    regions = all_regions()
    by_id = {r.id: r for r in regions}
    for r in regions:
        for other in r.neighbours:
            if r.id < other:
                o = by_id[other]
                ax.plot([r.lon, o.lon], [r.lat, o.lat], color="#bbbbbb", lw=0.9, zorder=1)
    simulated = {r.id: i for i, r in enumerate(model.regions)}
    names = [r.name for r in regions]
    short = {r.id: r.name.removesuffix(" Region") for r in regions}
    short = {k: (v if v not in names else by_id[k].name) for k, v in short.items()}  # Almaty Region vs Almaty
    values = np.asarray(model.recorder.current.get(outcome, np.zeros(model.n_regions)), dtype=float)
    if unit(outcome) == "share":
        values = 100 * values
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-9 * max(1.0, abs(hi)):  # one region, or all equal: a range around the value
        pad = max(abs(hi) * 0.1, 1.0)
        lo, hi = lo - pad, hi + pad
    norm = mpl.colors.Normalize(lo, hi)
    cmap = mpl.colormaps["viridis"]
    for r in regions:
        if r.id in simulated:
            colour, size, edge = cmap(norm(values[simulated[r.id]])), 90, "black"
        else:
            colour, size, edge = "#e5e5e5", 45, "#999999"
        ax.scatter(r.lon, r.lat, s=size, color=colour, edgecolors=edge, linewidths=0.6, zorder=3)
        ax.annotate(short[r.id], (r.lon, r.lat), xytext=(4, 3), textcoords="offset points", fontsize=6)
    fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7, label=outcome_axis_short(outcome))
    ax.legend(
        handles=[
            Line2D([], [], marker="o", ls="", color=cmap(0.6), markeredgecolor="black", label="simulated region"),
            Line2D([], [], marker="o", ls="", color="#e5e5e5", markeredgecolor="#999999", label="not in this run"),
            Line2D([], [], color="#bbbbbb", label="land border"),
        ],
        fontsize=7,
        loc="lower left",
    )
    ax.set_aspect(1 / np.cos(np.radians(48)))
    ax.set_xlabel("longitude of the administrative centre (°E)", fontsize=8)
    ax.set_ylabel("latitude (°N)", fontsize=8)
    ax.tick_params(labelsize=7)
    quarter = model.reported_quarters
    ax.set_title(f"{label(outcome)} by region, quarter {quarter}" + (" (burn-in)" if quarter == 0 else ""), fontsize=10)
    return fig


def outcome_axis_short(name: str) -> str:
    """An outcome's label with its unit, shares in %."""
    return f"{label(name)} ({_axis(name)})" if _axis(name) else label(name)


def firms_figure(model, region_id: str = "turkestan", sample: int = 600) -> Figure:
    """A fixed-seed sample of one region's firms in business: capital vs satisfaction, coloured by regime."""
    fig = Figure(figsize=(6.4, 4.2))
    fig.subplots_adjust(left=0.1, right=0.7, top=0.9, bottom=0.13)
    ax = fig.subplots()
    ids = [r.id for r in model.regions]
    if region_id not in ids:
        _empty(ax, f"{region_id} is not in this run")
        ax.set_title("Firms", fontsize=11)
        return fig
    f = model.firms
    labelled = len(model.observer.labels)  # entrants of the last quarter are labelled next quarter
    rows = np.flatnonzero(f.alive[:labelled] & (f.region[:labelled] == ids.index(region_id)))
    if len(rows) > sample:  # the app's own generator: the model's streams are not touched
        rows = np.sort(np.random.default_rng(0).choice(rows, sample, replace=False))
    labels = model.observer.labels[rows]
    for k, regime in enumerate(REGIMES):
        pick = labels == k
        ax.scatter(
            f.capital[rows[pick]],
            f.satisfaction[rows[pick]],
            s=10,
            color=REGIME_COLOURS[regime],
            label=f"{regime.replace('_', '-')} ({pick.sum()})",
            alpha=0.8,
        )
    ax.set_xscale("log")
    ax.set_xlabel("capital K (initial median firm = 1, log scale)", fontsize=8)
    ax.set_ylabel("satisfaction S with the akimat (-1..1)", fontsize=8)
    ax.set_ylim(-1.05, 1.05)
    ax.legend(title="regime (firms)", fontsize=7, title_fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    name = model.regions[ids.index(region_id)].name
    ax.set_title(f"{name}: {len(rows)} firms by regime, quarter {model.reported_quarters}", fontsize=10)
    return fig


def mean_band(values: np.ndarray) -> tuple[float, float, float]:
    """Mean of the runs and its 95% t-interval (the interval is the mean itself for fewer than 2 runs)."""
    from scipy.stats import t

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    mean = float(v.mean())
    if len(v) < 2:
        return mean, mean, mean
    half = float(t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return mean, mean - half, mean + half


def explorer_figure(
    table: pd.DataFrame, outcome: str, x: str, group: str | None, title: str, pooled: list[str]
) -> Figure:
    """An outcome against a factor: the mean over runs per value, a 95% band over replications, the runs as dots.

    With more than 12 distinct values of ``x`` (sampled designs), runs are binned into 8 quantile bins.
    """
    fig = Figure(figsize=(7.4, 4.6), layout="constrained")
    ax = fig.subplots()
    ok = table[table["error"].isna()] if "error" in table else table
    groups = [("all runs", ok)] if not group else [(f"{group} = {v}", g) for v, g in ok.groupby(group, sort=True)]
    palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#999999"]
    share = unit(outcome) == "share"
    numeric_x = pd.api.types.is_numeric_dtype(ok[x]) and not pd.api.types.is_bool_dtype(ok[x])
    categories = sorted(ok[x].unique().tolist(), key=str) if not numeric_x else None
    for (name, g), colour in zip(groups, palette * 3):
        y = g[outcome].to_numpy(dtype=float) * (100 if share else 1)
        xs = g[x].to_numpy() if numeric_x else np.array([categories.index(v) for v in g[x]])
        ax.scatter(xs, y, s=9, color=colour, alpha=0.35)
        keys = xs
        if numeric_x and len(np.unique(xs)) > 12:
            edges = np.unique(np.quantile(xs.astype(float), np.linspace(0, 1, 9)))
            bins = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, len(edges) - 2)
            keys = np.array([(edges[b] + edges[b + 1]) / 2 for b in bins])
        centres, means, lows, highs = [], [], [], []
        for key in np.unique(keys):
            mean, lo, hi = mean_band(y[keys == key])
            centres.append(key)
            means.append(mean)
            lows.append(lo)
            highs.append(hi)
        ax.plot(centres, means, color=colour, marker="o", ms=3.5, label=f"{name}: mean")
        ax.fill_between(centres, lows, highs, color=colour, alpha=0.18, label=f"{name}: 95% interval of the mean")
    if categories is not None:
        ax.set_xticks(range(len(categories)), [str(c) for c in categories])
    from ..scenario import BY_NAME

    p = BY_NAME.get(x)
    ax.set_xlabel(f"{x} ({p.unit})" if p is not None and p.unit else x, fontsize=9)
    ax.set_ylabel(outcome_axis(outcome).replace("(share)", "(%)"), fontsize=9)
    ax.legend(fontsize=7, loc="best", title="dots: single runs", title_fontsize=7)
    sub = f"\n(pooled over {', '.join(pooled)})" if pooled else ""
    ax.set_title(f"{title}: {label(outcome)} against {x}{sub}", fontsize=10)
    return fig
