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

from ..analysis.analysis import load, regime_maps
from ..observe.observer import REGIMES
from ..observe.outcomes import REGIONAL, label
from ..runs.spec import Factor
from . import controls, figures, live, pair, pair_figures, runner
from .live import DPI


def _show(make, run, *choice) -> None:
    """Draw ``make(target, *choice)`` once per (run, quarter, choice) and show it as a PNG (a new figure each time:
    for the detail figures, drawn only when chosen)."""
    key = [id(run), run.quarter, *choice]

    def draw():
        with run.lock:
            return live.png(make(run.target, *choice))

    solara.Image(solara.use_memo(draw, key))


def _live(setup, fill, run) -> None:
    """Show a :class:`live.Live` figure of the run: built once per run, refilled once per quarter."""
    figure = solara.use_memo(lambda: live.Live(setup, fill), [id(run)])

    def draw():
        with run.lock:
            return figure.png(run.target)

    solara.Image(solara.use_memo(draw, [id(run), run.quarter]))


def numbers_markdown(model) -> str:
    """The "Now" card: the latest quarter in numbers, and where each lever's value came from."""
    rows = model.recorder.national_rows or model.history[-1:]
    quarter = model.reported_quarters
    p = model.params
    lines = [f"**{model.case.label}**, s = {p['symbiosis']:g} ({p['governance']} preset), seed {model.seed}", ""]
    if rows:
        now = rows[-1]
        dominant = max(REGIMES, key=lambda r: now[f"regime_{r}"])
        when = f"{quarter} of {p['steps']}" + ("" if quarter else " (end of the burn-in)")
        lines += [
            "| outcome | value |",
            "|---|---|",
            f"| quarter | {when} |",
            f"| {label('corruption_incidence')} | {now['corruption_incidence']:.1%} |",
            f"| {label('business_satisfied')} | {now['business_satisfied']:.1%} |",
            f"| {label('population_satisfied')} | {now['population_satisfied']:.1%} |",
            f"| {label('real_wages')} (index) | {now['real_wages']:.1f} |",
            f"| {label('firms_in_business')} | {now['firms_in_business']:.0f} |",
            f"| dominant regime (share of relations) | {dominant.replace('_', '-')} {now['regime_' + dominant]:.0%} |",
        ]
    moved = [(n, o) for n, o in model.lever_origin.items() if o.startswith("set")]
    lines += ["", f"Levers in effect ({len(moved)} set here, the rest from the scenario and preset):", ""]
    lines += [f"- {name} = {model.params[name]:g} ({origin})" for name, origin in model.lever_origin.items()]
    lines += [f"- note: {n}" for n in model.notes]
    return "\n".join(lines)


@solara.component
def Numbers(run, tick):
    """The latest quarter in numbers, and where each lever's value came from."""
    with run.lock:
        text = numbers_markdown(run.target)
    with solara.Card("Now"):
        solara.Markdown(text)


@solara.component
def Meanings():
    """What the levers mean, from the registry."""
    lines = [f"- **{name}**: {meaning} [{source}]" for name, meaning, source in controls.meanings()]
    with solara.Details("What the levers mean (parameter registry)"):
        solara.Markdown("\n".join(lines))


MAP_OUTCOMES = {o.label: o.name for o in REGIONAL}
DETAILS = ("none", "map of the regions", "firms of Turkestan")


@solara.component
def Detail(run, tick):
    """One detail figure at a time, drawn only when chosen: the map of the regions or a sample of firms."""
    choice = solara.use_reactive(DETAILS[0])
    outcome = solara.use_reactive(label("corruption_incidence"))
    with solara.Row():
        solara.Select("detail figure (drawn each quarter when shown)", values=list(DETAILS), value=choice)
        if choice.value == DETAILS[1]:
            solara.Select("colour regions by", values=list(MAP_OUTCOMES), value=outcome)
    if choice.value == DETAILS[1]:
        _show(figures.region_map, run, MAP_OUTCOMES[outcome.value])
    elif choice.value == DETAILS[2]:
        _show(figures.firms_figure, run)


def _start(params: dict[str, dict]) -> dict:
    return {k: v["value"] for k, v in params.items()}


def _build_model(values: dict, progress) -> controls.AppModel:
    return controls.build(progress=lambda done, total: progress(done / max(total, 1)), **values)


@solara.component
def ModelPage():
    """The model page: the controls, Reset / Play / Step, the numbers and the figures."""
    params = solara.use_memo(controls.model_params, [])
    r = runner.use_runner(_start(params), _build_model)
    solara.Title("statebiz: model")
    with solara.Sidebar():
        with solara.Card("Run"):
            runner.Buttons(r)
        with solara.Card("Controls"):
            runner.Controls(r, params)
    ModelView(r)


@solara.component
def ModelView(r: runner.Runner):
    """The model page's numbers and figures: the only part drawn again at each Step (the controls are not)."""
    run, tick = r.run.value, r.tick.value
    if run is None:
        runner.Building(r, "model")
        return
    with solara.Columns([1, 2]):
        with solara.Column():
            Numbers(run, tick)
            Meanings()
        with solara.Column():
            KPIs(run, tick)
    with solara.Columns([1, 1]):
        Corruption(run, tick)
        PPP(run, tick)
    with solara.Columns([1, 1]):
        Table1(run, tick)
        Detail(run, tick)


@solara.component
def KPIs(run, tick):
    """The six Figure 2 KPIs over time."""
    _live(figures.kpi_setup, figures.kpi_fill, run)


@solara.component
def Corruption(run, tick):
    """Corruption incidence and both satisfactions over time."""
    _live(figures.corruption_setup, figures.corruption_fill, run)


@solara.component
def Table1(run, tick):
    """Regime shares as the Table 1 matrix."""
    _live(figures.table1_setup, figures.table1_fill, run)


@solara.component
def PPP(run, tick):
    """PPP contracts by status over time."""
    _live(figures.ppp_setup, figures.ppp_fill, run)


# --- the comparison page ------------------------------------------------------------------


def compare_params() -> dict[str, dict]:
    """The comparison page's controls: the model page's, without the governance model and s,
    with the two values of s and the more-seeds toggle."""
    base = controls.model_params()
    out = {k: v for k, v in base.items() if k not in ("governance", "symbiosis")}
    slider = {"type": "SliderFloat", "min": 0.0, "max": 1.0, "step": 0.05}
    return {
        "s_a": slider | {"value": 0.0, "label": "s_a: first model's s (0 = partnership)"},
        "s_b": slider | {"value": 1.0, "label": "s_b: second model's s (1 = symbiotic)"},
        "more_seeds": {"type": "Checkbox", "value": False, "label": f"{pair.MORE_SEEDS} seeds (a band of noise)"},
        **out,
    }


def _build_pair(values: dict, progress) -> pair.Pair:
    rest = {k: v for k, v in values.items() if k not in ("s_a", "s_b", "more_seeds")}
    n = pair.MORE_SEEDS if values.get("more_seeds") else 1
    return pair.Pair.build(rest, float(values["s_a"]), float(values["s_b"]), n, progress)


@solara.component
def PairNumbers(run, tick):
    """The last year's paired differences as a table."""
    p = run.target
    with run.lock:
        table = pair_figures.latest_table(p)
    seeds = ", ".join(str(s) for s in p.seeds)
    with solara.Card("Differences now"):
        solara.Markdown(
            f"**s = {p.s_b:g} minus s = {p.s_a:g}**, same levers, seed{'s' if len(p.seeds) > 1 else ''} {seeds}; "
            f"quarter {p.quarter} of {p.steps}; mean over the last 4 quarters"
            + (" (with the burn-in's last quarters while fewer than 4 are reported)" if p.quarter < 4 else "")
            + ".\n\n"
            + table
        )


@solara.component
def PairFigure(run, tick, name: str):
    """One of the comparison's figures."""

    _live(*pair_figures.FIGURES[name], run)


@solara.component
def ComparePage():
    """The comparison page: the same levers and seed at two values of s, stepped together."""
    params = solara.use_memo(compare_params, [])
    r = runner.use_runner(_start(params), _build_pair)
    solara.Title("statebiz: compare")
    with solara.Sidebar():
        with solara.Card("Run both"):
            runner.Buttons(r, "pair")
        with solara.Card("Levers (the same at both values of s)"):
            runner.Controls(r, params)
    CompareView(r)


@solara.component
def CompareView(r: runner.Runner):
    """The comparison page's table and figures: the only part drawn again at each Step."""
    run, tick = r.run.value, r.tick.value
    if run is None:
        runner.Building(r, "two models")
        return
    with solara.Columns([1, 2]):
        PairNumbers(run, tick)
        PairFigure(run, tick, "kpis")
    with solara.Columns([1, 1]):
        PairFigure(run, tick, "shares")
        PairFigure(run, tick, "ppp")
    with solara.Columns([1, 1]):
        PairFigure(run, tick, "table1")
        Meanings()


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


@solara.component
def Layout(children=[]):  # noqa: B006  (Solara's signature for a layout)
    """The page frame: Solara's app layout, with the pages named in the bar (Solara's own tabs name "/" Home)."""
    route, _ = solara.use_route()
    with solara.AppLayout(children=children, navigation=False, title="statebiz: akimats and firms in Kazakhstan"):
        with solara.AppBar():
            for r in routes:
                with solara.Link("/" if r.path == "/" else f"/{r.path}"):
                    current = route is not None and route.path == r.path
                    solara.Button(r.label, text=True, dark=True, style={"font-weight": "bold" if current else "normal"})


routes = [
    solara.Route(path="/", component=ModelPage, label="Model", layout=Layout),
    solara.Route(path="compare", component=ComparePage, label="Compare two values of s"),
    solara.Route(path="explorer", component=ExplorerPage, label="Explorer"),
]
