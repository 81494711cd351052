"""The app's two pages, served by Solara (``solara run simulation.app.pages``; ``statebiz app`` does it).

- Model (``/``): Mesa's SolaraViz with the controls of ``controls.model_params()`` and live
  components: the numbers of the latest quarter, the Figure 2 KPIs, corruption and
  satisfaction, the Table 1 matrix, PPP contracts by status, the map of the 20 regions and
  a sample of Turkestan's firms by regime.
- Explorer (``/explorer``): a finished sweep's store (``results/<name>/``), one outcome
  against one factor with filters and replication bands, and the regime map of a regime sweep.

Each figure is memoised on (model, quarter, choice) and its PNG on the same key, so a
component whose data did not change is not drawn again; Mesa's render interval sets how many
quarters one Step (or one tick of Play) advances before the page is redrawn.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from ..analysis.analysis import load, regime_maps
from ..observe.observer import REGIMES
from ..observe.outcomes import REGIONAL, label
from ..runs.spec import Factor
from . import controls, figures

DPI = 80


def _show(make, model, *choice) -> None:
    """Draw ``make(model, *choice)`` once per (model, quarter, choice) and show it as a PNG."""
    key = [id(model), model.reported_quarters, *choice]
    fig = solara.use_memo(lambda: make(model, *choice), key)
    solara.FigureMatplotlib(fig, dependencies=key, format="png", dpi=DPI)


@solara.component
def Numbers(model):
    """The latest quarter in numbers, and where each lever's value came from."""
    update_counter.get()
    rows = model.recorder.national_rows
    lines = [f"**{model.case.label}**, {model.params['governance']} model, seed {model.seed}", ""]
    if rows:
        now = rows[-1]
        dominant = max(REGIMES, key=lambda r: now[f"regime_{r}"])
        lines += [
            "| outcome | value |",
            "|---|---|",
            f"| quarter | {model.reported_quarters} of {model.params['steps']} |",
            f"| {label('corruption_incidence')} | {now['corruption_incidence']:.1%} |",
            f"| {label('business_satisfied')} | {now['business_satisfied']:.1%} |",
            f"| {label('population_satisfied')} | {now['population_satisfied']:.1%} |",
            f"| {label('real_wages')} (first quarter = 100) | {now['real_wages']:.1f} |",
            f"| {label('firms_in_business')} | {now['firms_in_business']:.0f} |",
            f"| dominant regime (share of output) | {dominant.replace('_', '-')} {now['regime_' + dominant]:.0%} |",
        ]
    else:
        lines.append(f"quarter 0 of {model.params['steps']} (after {model.params['burn_in']} quarters of burn-in)")
    lines += ["", "Levers in effect:", ""]
    lines += [f"- {name} = {model.params[name]:g} ({origin})" for name, origin in model.lever_origin.items()]
    lines += [f"- note: {n}" for n in model.notes]
    lines += ["", "What the levers mean (parameter registry):", ""]
    lines += [f"- **{name}**: {meaning} [{source}]" for name, meaning, source in controls.meanings()]
    lines += [
        "",
        "A lever you have not moved follows the scenario and the governance preset; a moved one overrides "
        "them. Press Reset to apply the controls.",
    ]
    with solara.Card("Now", style={"overflow": "auto", "height": "100%"}):
        solara.Markdown("\n".join(lines))


@solara.component
def KPIs(model):
    """The six Figure 2 KPIs over time."""
    update_counter.get()
    _show(figures.kpi_figure, model)


@solara.component
def Corruption(model):
    """Corruption incidence and both satisfactions over time."""
    update_counter.get()
    _show(figures.corruption_figure, model)


@solara.component
def Table1(model):
    """Regime shares as the 2x2 Table 1 matrix."""
    update_counter.get()
    _show(figures.table1_figure, model)


@solara.component
def PPP(model):
    """PPP contracts by status over time."""
    update_counter.get()
    _show(figures.ppp_figure, model)


MAP_OUTCOMES = {o.label: o.name for o in REGIONAL}


@solara.component
def RegionMap(model):
    """The 20 regions at their centres, the border graph, coloured by a chosen outcome."""
    update_counter.get()
    choice = solara.use_reactive(label("corruption_incidence"))
    solara.Select("colour regions by", values=list(MAP_OUTCOMES), value=choice)
    _show(figures.region_map, model, MAP_OUTCOMES[choice.value])


@solara.component
def Firms(model):
    """A sample of Turkestan's firms coloured by regime."""
    update_counter.get()
    _show(figures.firms_figure, model)


@solara.component
def ModelPage():
    """The model page: Mesa's SolaraViz with the app's controls and components."""
    model = solara.use_memo(controls.AppModel, [])
    params = solara.use_memo(controls.model_params, [])
    SolaraViz(
        model,
        components=[Numbers, KPIs, Corruption, Table1, PPP, RegionMap, Firms],
        model_params=params,
        name="statebiz: akimats and firms in Kazakhstan",
        play_interval=300,
        render_interval=1,
    )


# --- the explorer -------------------------------------------------------------------------


def results_root() -> Path:
    """Where the explorer looks for sweeps: ``$STATEBIZ_APP_RESULTS`` or ``results/``."""
    return Path(os.environ.get(controls.ENV_RESULTS) or "results")


def find_sweeps(root: Path) -> list[Path]:
    """The finished (or partial) sweep stores directly under ``root``: a manifest with factors, and result parts."""
    out = []
    if root.is_dir():
        for d in sorted(root.iterdir()):
            manifest = d / "manifest.json"
            if d.is_dir() and manifest.is_file() and any(d.glob("part-*.parquet")):
                try:
                    if "factors" in json.loads(manifest.read_text(encoding="utf-8")):
                        out.append(d)
                except (OSError, json.JSONDecodeError):
                    continue
    return out


def _factors(manifest) -> list[Factor]:
    return [Factor.from_manifest(f) for f in manifest["factors"]]


def regime_map_png(directory: Path, table, manifest) -> bytes | None:
    """The regime map of a factorial P x B sweep: the analysis' figure if written, else drawn now; None otherwise."""
    factors = _factors(manifest)
    names = {f.name for f in factors}
    outcomes = set(manifest["outcomes"])
    if not (
        {"power_strength", "business_strength"} <= names
        and all(f"regime_{r}" in outcomes for r in REGIMES)
        and manifest["design"]["type"] == "factorial"
    ):
        return None
    written = directory / "analysis" / "regime_map.png"
    if written.is_file():
        return written.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        regime_maps(table, factors, Path(tmp), manifest["experiment"]["name"])
        return (Path(tmp) / "regime_map.png").read_bytes()


@solara.component
def SweepView(directory: str):
    """One sweep: choose outcome, factor, grouping and filters; see the plot and the regime map."""
    data = solara.use_memo(lambda: load(directory), [directory])
    table, manifest = data
    factors = [f["name"] for f in manifest["factors"]]
    outcomes = [o for o in manifest["outcomes"] if o in table.columns]
    outcome = solara.use_reactive(outcomes[0])
    x = solara.use_reactive(factors[0])
    group = solara.use_reactive("governance" if "governance" in factors[1:] else "none")
    filters = solara.use_reactive({})
    ok = table[table["error"].isna()]
    with solara.Columns([1, 3]):
        with solara.Card("Sweep"):
            # every text from a results folder is shown as text, never as Markdown or HTML
            solara.Text(str(manifest["experiment"]["name"]), style={"font-weight": "bold"})
            solara.Text(
                f": {len(ok)} runs ({len(table) - len(ok)} failed), "
                f"{manifest['design']['type']} design, {manifest['replications']} replications per point"
            )
            solara.Select("outcome", values=outcomes, value=outcome)
            solara.Select("against (x axis)", values=factors, value=x)
            solara.Select("one line per", values=["none", *[f for f in factors if f != x.value]], value=group)
            for f in factors:
                if f in (x.value, group.value):
                    continue
                values = ["all", *[str(v) for v in sorted(ok[f].unique().tolist())]]

                def set_filter(v, f=f):
                    filters.set({**filters.value, f: v})

                solara.Select(f"filter: {f}", values=values, value=filters.value.get(f, "all"), on_value=set_filter)
        with solara.Column():
            shown = ok
            pooled = []
            for f in factors:
                if f in (x.value, group.value):
                    continue
                v = filters.value.get(f, "all")
                if v == "all":
                    if shown[f].nunique() > 1:
                        pooled.append(f)
                else:
                    shown = shown[shown[f].astype(str) == v]
            key = [directory, outcome.value, x.value, group.value, json.dumps(filters.value, sort_keys=True)]
            fig = solara.use_memo(
                lambda: (
                    figures.explorer_figure(
                        shown,
                        outcome.value,
                        x.value,
                        None if group.value == "none" else group.value,
                        manifest["experiment"]["name"],
                        pooled,
                    )
                    if len(shown)
                    else None
                ),
                key,
            )
            if fig is not None:
                solara.FigureMatplotlib(fig, dependencies=key, format="png", dpi=DPI)
            else:
                solara.Warning("no runs match the filters")
            png = solara.use_memo(lambda: regime_map_png(Path(directory), table, manifest), [directory])
            if png is not None:
                solara.Markdown("### Regime map (Table 1 over the P × B grid)")
                solara.Image(png)


@solara.component
def ExplorerPage():
    """The explorer page: pick a sweep under the results directory."""
    root = results_root()
    sweeps = solara.use_memo(lambda: [str(p) for p in find_sweeps(root)], [str(root)])
    chosen = solara.use_reactive(sweeps[0] if sweeps else None)
    solara.Title("statebiz explorer")
    with solara.Column(style={"padding": "12px"}):
        with solara.Row():
            solara.Markdown("## Explorer: finished sweeps in")
            solara.Text(f"{root}/", style={"font-family": "monospace", "font-size": "1.4em"})
        if not sweeps:
            solara.Info(f"no sweep results under {root}/: run `statebiz sweep experiments/regime_map.toml` first")
            return
        solara.Select("sweep", values=sweeps, value=chosen)
        SweepView(chosen.value).key(chosen.value)


routes = [
    solara.Route(path="/", component=ModelPage, label="Model"),
    solara.Route(path="explorer", component=ExplorerPage, label="Explorer"),
]
