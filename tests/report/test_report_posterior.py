"""The report over the calibration's posterior: the variance decomposition on hand-made numbers,
the Dirichlet-multinomial predictive, intervals that widen when a spread posterior's draws are
added, the national map, and the whole report end to end on a fixture posterior and without one
(tiny worlds, a few quarters of burn-in: cheap)."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd

from simulation.posterior import write_posterior_rows
from simulation.report import stats
from simulation.scenario import BY_NAME

#: Free parameters of the fixture posterior (a subset of what the calibration fits).
NAMES = ["moral_cost", "support_share", "business_strength", "symbiosis", "overdispersion"]
TINY = {"firms": 200, "residents_per_region": 198, "burn_in": 4}
#: Worlds large enough that a spread posterior's share of an interval shows above the seeds' noise.
WIDEN = TINY | {"firms": 1000}


def write_fixture(folder, n=30, spread=True, seed=5, s_range=(0.3, 0.9)):
    """A posterior file (fitted, partnership, symbiotic) around the defaults, s uniform over
    ``s_range`` in the fitted model; ``spread=False``: every particle at one point (s = 0.6)."""
    rng = np.random.default_rng(seed)
    models = {}
    for model, s_fixed in (("fitted", None), ("partnership", 0.0), ("symbiotic", 1.0)):
        cols = []
        for name in NAMES:
            if name == "overdispersion":
                v = rng.uniform(0.01, 0.05, n) if spread else np.full(n, 0.03)
            elif name == "symbiosis":
                v = (
                    np.full(n, s_fixed)
                    if s_fixed is not None
                    else (rng.uniform(*s_range, n) if spread else np.full(n, 0.6))
                )
            else:
                p = BY_NAME[name]
                half = 0.1 * (p.high - p.low) if spread else 0.0
                v = np.clip(p.default + rng.uniform(-half, half, n), p.low, p.high)
            cols.append(v)
        models[model] = (NAMES, np.column_stack(cols), np.full(n, 1.0 / n))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "posterior.csv").write_text(write_posterior_rows(models))
    record = {
        "model_probabilities": {"fitted": 0.5, "partnership": 0.35, "symbiotic": 0.15},
        "model_choice": "Bayes factor of s = 0 against s = 1: the interval contains 1, so the data cannot tell...",
        "bayes_factor_s0_s1": {
            "estimator": "pooled evidences",
            "p_partnership": 0.7,
            "p_partnership_q05": 0.21,
            "p_partnership_q95": 0.93,
        },
        "abc": {"replicates": 5},
        "r_hat_max": {"fitted": 1.004, "partnership": 1.42, "symbiotic": None},
    }
    (folder / "manifest.json").write_text(json.dumps(record))
    return folder / "posterior.csv"


def compare_with(tmp_path, posterior: str):
    """The quick compare config with ``posterior`` as its posterior file."""
    from simulation.report.config import DEFAULT_FILE, load_compare

    text = re.sub(r'(?m)^posterior = "[^"]*"', f'posterior = "{posterior}"', DEFAULT_FILE.read_text())
    assert f'posterior = "{posterior}"' in text
    # the base scenario is the plain Turkestan scenario whether or not a calibration has been shipped:
    # these tests are about the design over a fixture posterior, not about the shipped fit
    text = re.sub(r'(?m)^calibrated_scenario = "[^"]*"', 'calibrated_scenario = "no_such_calibration.toml"', text)
    assert 'calibrated_scenario = "no_such_calibration.toml"' in text
    path = DEFAULT_FILE.parent / f"_test_{tmp_path.name}.toml"
    path.write_text(text)
    try:
        return load_compare(path, quick=True)
    finally:
        path.unlink()


def tiny(config, paired_draws=2, levers_draws=1, base=TINY):
    """``config`` with tiny worlds (``base``), 4 quarters of burn-in, 2 of the levers and 4 robust points."""
    import dataclasses

    from simulation.report.config import shrink

    small = {"base": base, "quarters": 4}
    spec = config.levers.experiment
    levers = [f for f in spec.factors if f.role == "lever" and f.low is not None][:2]
    config = dataclasses.replace(
        config,
        levers=dataclasses.replace(config.levers, experiment=dataclasses.replace(spec, factors=levers)),
        robust=dataclasses.replace(config.robust, points=config.robust.points[:4]),
    )
    return shrink(
        config,
        paired=small | {"draws": paired_draws, "replications": 2},
        levers=small | {"draws": levers_draws, "replications": 2},
        regime_map=small | {"replications": 2},
        robust=small,
        national={"base": TINY | {"firms": 400}, "quarters": 4, "draws": 2, "replications": 2},
    )


# ------------------------------------------------------------------------------- statistics


def test_decompose_on_hand_made_numbers():
    # draw 1: 1, 3; draw 2: 5, 7. Within-draw variances 2 and 2 -> W = 2; per-draw means 2, 6
    # -> B = 8; parameters 8 - 2/2 = 7; sd^2 = 9.
    d = stats.decompose([[1.0, 3.0], [5.0, 7.0]])
    assert d["mean"] == 4.0 and d["draws"] == 2 and d["seeds"] == 2 and d["n"] == 4
    assert np.isclose(d["var_seeds"], 2.0) and np.isclose(d["var_parameters"], 7.0) and np.isclose(d["sd"], 3.0)
    assert np.isclose(d["share_parameters"], 7 / 9) and np.isclose(d["share_seeds"], 2 / 9)
    # the interval: 2.5th and 97.5th percentiles of the 4 values (linear interpolation: 1 + 0.075 * 2)
    assert np.isclose(d["ci_low"], 1.15) and np.isclose(d["ci_high"], 6.85)
    assert np.isclose(d["se_mean"], np.sqrt(8 / 2))
    # one draw: no parameter uncertainty; the interval is the seeds' alone
    one = stats.decompose([[1.0, 3.0, 5.0]])
    assert one["var_parameters"] == 0.0 and one["share_seeds"] == 1.0 and np.isclose(one["sd"], 2.0)
    # per-draw means that differ less than seed noise explains: the parameters' part is 0, not negative
    noise = stats.decompose([[0.0, 2.0], [1.0, 1.0]])
    assert noise["var_parameters"] == 0.0 and np.isclose(noise["var_seeds"], 1.0)
    # the parameters' part corrects the per-draw means for their own seed noise (W / R)
    x = np.array([[0.0, 4.0, 2.0, 2.0], [10.0, 14.0, 12.0, 12.0]])
    d = stats.decompose(x)
    w = np.mean([np.var(r, ddof=1) for r in x])
    assert np.isclose(d["var_parameters"], np.var(x.mean(axis=1), ddof=1) - w / 4)


def test_unit_matrix_orders_draws_and_seeds():
    frame = pd.DataFrame({"draw": [1, 0, 1, 0], "replication": [1, 1, 0, 0], "v": [4.0, 2.0, 3.0, 1.0]})
    assert stats.unit_matrix(frame, "v").tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_predictive_counts_are_dirichlet_multinomial():
    rng = np.random.default_rng(1)
    p = [0.5, 0.3, 0.2, 0.0]
    plain = np.array([stats.predictive_counts(p, 58, None, rng) for _ in range(4000)])
    wide = np.array([stats.predictive_counts(p, 58, 0.2, rng) for _ in range(4000)])
    assert (plain.sum(axis=1) == 58).all() and (wide.sum(axis=1) == 58).all()
    # an answer nobody gives in the model keeps the likelihood's floor of 0.005 (renormalised)
    floored = np.maximum(p, 0.005) / np.maximum(p, 0.005).sum()
    assert plain[:, 3].mean() / 58 < 0.01 and wide[:, 3].mean() / 58 < 0.01
    assert np.allclose(plain.mean(axis=0) / 58, floored, atol=0.01)
    assert np.allclose(wide.mean(axis=0) / 58, floored, atol=0.02)
    # Dirichlet-multinomial variance: n p (1 - p) (1 + (n - 1) rho)
    expected = 58 * 0.5 * 0.5 * (1 + 57 * 0.2)
    assert np.isclose(wide[:, 0].var(), expected, rtol=0.1)
    assert np.isclose(plain[:, 0].var(), 58 * 0.25, rtol=0.1)


# ------------------------------------------------------------------- intervals and draws


def test_intervals_widen_when_a_spread_posterior_is_drawn(tmp_path):
    """The same paired design (16 draws x 2 seeds, the same seeds) on a point posterior (every
    particle the same) and on a spread one (s over [0.05, 0.95]): the counterfactual calibrated
    -> s = 0 gets a wider interval, most of it from the parameters, and far wider than the
    seeds-only interval the report gave before; with one draw the parameters' share is 0.

    Worlds of 1,000 firms (``WIDEN``): at 200 the seeds' noise alone (the point posterior's width,
    0.22 since the rent segment of Turkestan is one or two firms in so small a world) hid the
    parameters' share. At 1,000 firms, over the fixture's seeds 5-12, the spread posterior's width
    was 1.4-2.9 times the point posterior's (0.082) and the parameters' share 0.78-0.97: all 8
    passed, where at 200 firms seeds 5-7 gave ratios of 0.87-1.04.

    16 draws, not 8: with speed money and the survey mechanisms (issue 22) 8 draws estimated the
    parameters' variance too roughly, and over fixture seeds 5-12 the spread posterior's width was
    1.78-4.15 times its seeds-only part (two of eight below 2). With 16 draws it is 2.65-4.21
    times (all eight above 2), 2.33-3.50 times the point posterior's, and the parameters' share
    0.90-0.97 (``tests/report`` measurements, worlds of 1,000 firms)."""
    from simulation.report.runs import execute

    widths, shares, seeds_only = {}, {}, {}
    for label, spread, draws in (("point", False, 16), ("spread", True, 16), ("one", True, 1)):
        path = write_fixture(tmp_path / label, spread=spread, s_range=(0.05, 0.95))
        config = tiny(compare_with(tmp_path, str(path)), paired_draws=draws, base=WIDEN)
        res = execute(config, backend="serial", progress=False, parts=("paired",))
        assert len(res["paired"]) == draws * 2 * 3
        c = stats.counterfactuals(res["paired"], outcomes=("corruption_incidence",))
        row = c[(c["from"] == "calibrated") & (c["to"] == "partnership")].iloc[0]
        assert row["draws"] == draws and row["seeds"] == 2
        widths[label] = row["ci_high"] - row["ci_low"]
        shares[label] = row["share_parameters"]
        seeds_only[label] = 2 * stats.Z95 * row["sd"] * np.sqrt(row["share_seeds"])
    assert widths["spread"] > 1.2 * widths["point"], widths
    assert shares["spread"] > 0.7 and shares["spread"] > shares["point"], shares
    assert widths["spread"] > 2 * seeds_only["spread"], (widths, seeds_only)
    assert shares["one"] == 0.0


def test_draws_are_shared_and_paired_across_arms(tmp_path):
    from simulation.report.runs import ARMS, plan

    config = tiny(compare_with(tmp_path, str(write_fixture(tmp_path / "cal"))), paired_draws=3, levers_draws=2)
    draws = config.draws(config.paired)
    assert len(draws) == 3 and config.draws(config.levers) == draws[:2]
    assert all(0.3 <= d["symbiosis"] <= 0.9 and "overdispersion" in d for d in draws)
    p = plan(config, parts=("paired",))
    by_unit = {}
    for task_id, _, params, seed, _, _ in p.tasks:
        m = p.meta[task_id]
        by_unit.setdefault((m["draw"], m["replication"]), {})[m["governance"]] = (seed, params)
    assert len(by_unit) == 6
    seeds = set()
    for (d, _), arms in by_unit.items():
        assert set(arms) == set(ARMS)
        assert len({s for s, _ in arms.values()}) == 1  # one seed for every arm of a unit
        seeds.add(next(iter(arms.values()))[0])
        cal, s0, s1 = arms["calibrated"][1], arms["partnership"][1], arms["symbiotic"][1]
        assert cal["symbiosis"] == draws[d]["symbiosis"] and s0["symbiosis"] == 0.0 and s1["symbiosis"] == 1.0
        for k in ("moral_cost", "support_share", "business_strength"):
            assert cal[k] == s0[k] == s1[k] == draws[d][k]
        assert "overdispersion" not in cal
        assert [k for k in cal if cal[k] != s1[k]] in (["symbiosis"], ["governance", "symbiosis"])
    assert len(seeds) == 6  # every (draw, seed) pair has its own seed


# --------------------------------------------------------------------------------- the map


def test_the_map_has_the_20_regions_at_their_coordinates(tmp_path):
    from simulation.regions import all_regions, neighbour_graph
    from simulation.report.sections.national import layout, map_figure

    regions = all_regions()
    rows = [
        {
            "region": r.id,
            "outcome": "corruption_incidence",
            "partnership": 0.1 + i / 100,
            "symbiotic": 0.3,
            "difference": 0.2 - i / 100,
        }
        for i, r in enumerate(regions)
    ]
    summary = pd.DataFrame(rows)
    nodes, edges = layout(summary, "corruption_incidence")
    assert len(nodes) == 20 and nodes["region"].is_unique
    assert nodes["lat"].between(40, 56).all() and nodes["lon"].between(46, 88).all()
    assert len(edges) == neighbour_graph(regions).number_of_edges()
    astana = nodes.set_index("region").loc["astana"]
    assert abs(astana["lat"] - 51.17) < 0.1 and abs(astana["lon"] - 71.43) < 0.1
    path = map_figure(summary, "corruption_incidence", tmp_path / "map.png", "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000


# ---------------------------------------------------------------------------- end to end


def _page_text(out) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", (out / "report.html").read_text(encoding="utf-8")))


def test_report_end_to_end_on_a_fixture_posterior(tmp_path):
    from simulation.report.compare import run_compare

    post = write_fixture(tmp_path / "cal")
    config = tiny(compare_with(tmp_path, str(post)))
    out = tmp_path / "out"
    run_compare(config, out_dir=out, backend="serial", progress=False)
    page = _page_text(out)
    assert "Posterior of s in the fitted model (s free): median" in page
    assert "P(s = 0 model) vs P(s = 1 model): 0.35 vs 0.15 (of the two, P(s = 0 model): 90% bootstrap" in page
    assert "interval over the independent runs 0.21 to 0.93)" in page
    # the record's runs disagree (one model's R-hat above 1.01): the section says so, naming each model's
    assert "The calibration's 5 independent runs have not found the same posterior" in page
    assert "fitted 1.00, partnership 1.42" in page and "symbiotic" not in page.split("R-hat across the runs:")[1][:40]
    warnings = [
        s["text"] for s in json.loads((out / "summary.json").read_text())["statements"] if s["kind"] == "warning"
    ]
    assert any("have not found the same posterior" in w and "every interval" in w for w in warnings)
    assert "No posterior" not in page
    counter = pd.read_csv(out / "counterfactuals.csv")
    assert set(counter["from"]) == {"calibrated", "partnership"} and (counter["draws"] == 2).all()
    varied = counter[counter["sd"] > 0]
    assert len(varied) > len(counter) / 2
    assert np.allclose(varied["share_parameters"] + varied["share_seeds"], 1.0)
    national = pd.read_csv(out / "national.csv")
    assert national["region"].nunique() == 20 and (national["draws"] == 2).all()
    levers = pd.read_csv(out / "lever_effects.csv")
    assert set(levers["governance"]) == {"partnership", "calibrated", "symbiotic"}
    cal = levers[levers["governance"] == "calibrated"]["symbiosis"]
    assert cal.between(0.3, 0.9).all()
    cells = pd.read_csv(out / "survey_cells.csv")
    assert len(cells) == 4 * 5 + 4 * 3 * 4 and {"calibrated_p05", "calibrated_covers"} <= set(cells.columns)
    draws = pd.read_csv(out / "posterior_draws.csv")
    assert len(draws) == 2 and draws["symbiosis"].between(0.3, 0.9).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parts"]["paired"]["draws"] == 2 and manifest["posterior"].endswith("posterior.csv")
    for name in ("posterior_s.png", "national_corruption_incidence.png", "survey_cells.png", "counterfactuals.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name


def test_report_without_a_posterior_says_parameter_uncertainty_is_absent(tmp_path):
    from simulation.report.compare import run_compare

    config = tiny(compare_with(tmp_path, str(tmp_path / "no_such_posterior.csv")), paired_draws=4)
    assert config.posterior is None and config.draws(config.paired) == [{}]
    out = tmp_path / "out"
    run_compare(config, out_dir=out, backend="serial", progress=False)
    page = _page_text(out)
    assert "No posterior" in page and "parameter uncertainty is ABSENT" in page
    assert "does not exist yet" in page  # the posterior section
    # no calibrated scenario either (compare_with names a missing one): the not-calibrated branch, said
    # in the summary and the methods, on the hand-set scenario
    assert not config.calibrated and config.scenario_path.name == "turkestan.toml"
    assert "The model is NOT calibrated to the survey" in page and "model not calibrated yet" in page
    assert "how far the uncalibrated model is from the observed answers" in page
    assert json.loads((out / "manifest.json").read_text())["base_scenario"] == "scenarios/turkestan.toml"
    counter = pd.read_csv(out / "counterfactuals.csv")
    # no posterior: one draw, and the runs go to seeds (4 draws x 2 replications -> 8 seeds)
    assert (counter["draws"] == 1).all() and (counter["seeds"] == 8).all() and (counter["share_parameters"] == 0).all()
    assert not (out / "posterior_draws.csv").exists() and not (out / "posterior_s.png").exists()
    statements = json.loads((out / "summary.json").read_text())["statements"]
    assert any(s["kind"] == "warning" and s["text"].startswith("No posterior") for s in statements)


def test_the_misfit_table_names_the_model_and_the_medians_it_was_computed_with(tmp_path):
    """A misfit table written by ``--misfit-of`` says which commit of the model and which posterior's
    medians it comes from (a table computed on an older model must not pass for the current one);
    a malformed or missing manifest adds nothing; p-values keep 2 significant digits."""
    from simulation.report.sections.posterior import _misfit_origin, _misfit_shown

    path = tmp_path / "misfit_manifest.json"
    assert _misfit_origin(path) == ""
    path.write_text(
        json.dumps(
            {"git_commit": "3891c72abcdef+dirty", "posterior_file": "docs/calibration/posterior.csv", "seeds": 4}
        ),
        encoding="utf-8",
    )
    text = _misfit_origin(path)
    assert "commit 3891c72 (with uncommitted changes)" in text and "posterior.csv, 4 runs per model" in text
    path.write_text("{not json", encoding="utf-8")
    assert _misfit_origin(path) == ""
    shown = _misfit_shown(pd.DataFrame({"table": ["table5"], "x2": [86.28081], "p_value": [1.8454e-08]}))
    assert shown["p_value"].tolist() == ["1.8e-08"] and shown["x2"].tolist() == [86.2808]


def test_the_survey_names_a_model_only_when_the_discordant_totals_say_so():
    """McNemar's exact test on the totals covered by one model only: 14 of 17 against 12 of 17
    (2 discordant, both for s = 0: p = 0.5) cannot tell the models apart, as the old rule of a
    difference above 1 said it could; 10 discordant totals all for s = 1 (p = 0.002) favour s = 1;
    9 against 1 (p = 0.021) favour s = 0; equal coverage and no discordant totals cannot tell."""
    from simulation.report.sections.headline import coverage_statement

    both = [True] * 12
    text = coverage_statement(both + [True, True, False, False, False], both + [False, False, False, False, False])
    assert text.startswith("The survey cannot tell the two models apart: 14 of 17") and "p = 0.5" in text
    text = coverage_statement([False] * 10 + [True] * 7, [True] * 17)
    assert text.startswith("The survey favours s = 1") and "p = 0.002" in text
    text = coverage_statement([True] * 9 + [False] + [True] * 7, [False] * 9 + [True] + [True] * 7)
    assert text.startswith("The survey favours s = 0") and "p = 0.021" in text
    assert coverage_statement([True] * 17, [True] * 17).startswith("The survey cannot tell")
