"""The national part: the 20 regions of Kazakhstan (scenarios/kazakhstan.toml) under both ends of
governance (s = 0 and s = 1) on the same posterior draws and seeds, per region, with maps: region
centres at their real coordinates, the neighbour graph's edges, nodes coloured by outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...regions import all_regions
from ..content import Code, Figure, ReportContext, SectionContent, Table, fmt_diff, fmt_value, para, rel, sizes
from ..runs import NATIONAL_OUTCOMES

ANCHOR = "national"
TITLE = "Kazakhstan: the 20 regions at s = 0 and s = 1"


def layout(summary: pd.DataFrame, outcome: str) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The map's nodes (one per region: id, name, lon, lat, both ends' means and the difference
    of ``outcome``) and edges (the land-border graph, each pair once)."""
    regions = all_regions()
    s = summary[summary["outcome"] == outcome].set_index("region")
    nodes = pd.DataFrame(
        {
            "region": [r.id for r in regions],
            "name": [r.name for r in regions],
            "lon": [r.lon for r in regions],
            "lat": [r.lat for r in regions],
            "kind": [r.kind for r in regions],
        }
    )
    for c in ("partnership", "symbiotic", "difference"):
        nodes[c] = [float(s.loc[r.id, c]) if r.id in s.index else np.nan for r in regions]
    ids = {r.id for r in regions}
    edges = sorted({tuple(sorted((r.id, n))) for r in regions for n in r.neighbours if n in ids})
    return nodes, edges


def map_figure(summary: pd.DataFrame, outcome: str, path, subtitle: str):
    """Three panels: ``outcome`` per region at s = 0 and at s = 1 (one colour scale, cividis) and
    the difference s = 1 − s = 0 (diverging PuOr, centred on 0); equal-aspect lon/lat axes
    (x scaled by the cosine of the mean latitude), edges of the neighbour graph, labels."""
    from ..figures import pyplot, save
    from ..stats import outcomes_label

    plt = pyplot()
    from matplotlib.colors import TwoSlopeNorm

    nodes, edges = layout(summary, outcome)
    pos = nodes.set_index("region")[["lon", "lat"]]
    aspect = 1.0 / np.cos(np.deg2rad(nodes["lat"].mean()))
    fig, axes = plt.subplots(1, 3, figsize=(19, 4.5), layout="constrained")
    both = np.concatenate([nodes["partnership"], nodes["symbiotic"]]) * 100
    lo, hi = np.nanmin(both), np.nanmax(both)
    dmax = max(np.nanmax(np.abs(nodes["difference"])) * 100, 1e-9)
    panels = (
        ("partnership", "s = 0 (partnership)", "cividis", plt.Normalize(lo, hi), "%"),
        ("symbiotic", "s = 1 (symbiotic)", "cividis", plt.Normalize(lo, hi), "%"),
        ("difference", "s = 1 − s = 0", "PuOr_r", TwoSlopeNorm(0.0, -dmax, dmax), "pp"),
    )
    for ax, (col, title, cmap, norm, unit) in zip(axes, panels):
        for a, b in edges:
            ax.plot(*zip(pos.loc[a], pos.loc[b]), color="#999999", lw=0.9, zorder=1)
        sc = ax.scatter(
            nodes["lon"], nodes["lat"], c=nodes[col] * 100, cmap=cmap, norm=norm, s=170, edgecolors="black", zorder=2
        )
        for _, n in nodes.iterrows():
            city = n["kind"] == "city"
            ax.annotate(
                n["name"].replace(" Region", "") + (" (city)" if city else ""),
                (n["lon"], n["lat"]),
                xytext=(-8, -3) if city else (0, 8),
                textcoords="offset points",
                ha="right" if city else "center",
                fontsize=6.5,
                style="italic" if city else "normal",
            )
        ax.set_aspect(aspect)
        ax.set_xlabel("longitude (° E)")
        ax.set_ylabel("latitude (° N)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.2)
        bar = fig.colorbar(sc, ax=ax, shrink=0.8)
        bar.set_label(f"{outcomes_label(outcome)} ({unit})", fontsize=8)
    fig.suptitle(
        f"{outcomes_label(outcome)} by region, end of run (mean over posterior draws × seeds); region centres at their "
        "coordinates, lines: land borders\n" + subtitle,
        fontsize=11,
    )
    return save(fig, path)


def subtitle(ctx: ReportContext) -> str:
    """The national runs' scenario, size, draws and seeds."""
    nat = ctx.config.national
    return f"{rel(nat.scenario_path)}; {sizes(ctx.config, nat)}; {ctx.draws_seeds(nat)}{ctx.quick}"


def draw(ctx: ReportContext) -> dict[str, Figure]:
    """``national_<outcome>.png`` for every national outcome (nothing when the part is not run)."""
    summary = ctx.tables.get("national")
    if ctx.config.national is None or summary is None or summary.empty:
        return {}
    out = {}
    for o in NATIONAL_OUTCOMES:
        path = map_figure(summary, o, ctx.out_dir / f"national_{o}.png", subtitle(ctx))
        out[o] = Figure(path, f"Map of the 20 regions: {o.replace('_', ' ')} at s = 0, s = 1 and the difference")
    return out


def table(summary: pd.DataFrame) -> Table:
    """One row per region: every outcome at s = 0, s = 1 and the difference [95% interval]."""
    names = {r.id: r.name for r in all_regions()}
    rows = []
    for region, grp in summary.groupby("region", sort=False):
        row = {"region": names.get(region, region)}
        for _, r in grp.iterrows():
            row[f"{r['label']}: s = 0 → s = 1"] = (
                f"{fmt_value(r['partnership'], 'pp')} → {fmt_value(r['symbiotic'], 'pp')}: "
                f"{fmt_diff(r['difference'], 'pp')} [{fmt_diff(r['ci_low'], 'pp')}, {fmt_diff(r['ci_high'], 'pp')}]"
            )
        rows.append(row)
    return Table(pd.DataFrame(rows), left=1)


def build(ctx: ReportContext) -> SectionContent:
    """What runs, the maps, the table (or why the part did not run)."""
    nat = ctx.config.national
    if nat is None:
        return SectionContent(ANCHOR, TITLE, [para("Not run: the compare file has no [national] part.", cls="warning")])
    figures = ctx.figures.get(ANCHOR, {})
    return SectionContent(
        ANCHOR,
        TITLE,
        [
            para(
                "The national scenario (",
                Code(rel(nat.scenario_path)),
                ": all 20 akimats with the land-border graph, sizes from ",
                Code("simulation/data/kazakhstan_regions.toml"),
                f") with the posterior draws applied to every region, at both ends of governance (s = 0 and s = 1); "
                f"{ctx.draws_seeds(nat)}, the same in both arms. The parameters were calibrated to Turkestan's survey "
                "only: applying them to every region assumes the other regions share Turkestan's behavioural "
                "parameters (the regions still differ in size, GRP per head, power and neighbours). Per region: the "
                "end-of-run value (mean of the last four quarters) at each end and the paired difference with its "
                "95% interval over draws × seeds. Tables: ",
                Code("national.csv"),
                ", ",
                Code("national_runs.parquet"),
                ".",
            ),
            *figures.values(),
            table(ctx.tables["national"]),
        ],
    )
