"""statebiz validate: the published figures file, bad input, Spearman, backends, the posterior's
effect on the national ranking, and --quick end to end (small worlds, short burn-in)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulation.cli import main
from simulation.io import InputError
from simulation.posterior import load_posterior, write_posterior_rows
from simulation.regions import all_regions
from simulation.studies import validation as vd

FREE = ["moral_cost", "choice_sensitivity", "experience_scale", "support_share", "business_strength",
        "utility_quality", "resident_noise", "symbiosis", "overdispersion"]  # fmt: skip
#: A few particles around the defaults (a fixture, not a calibration).
AROUND = [0.01, 40.0, 20.0, 0.1, 0.3, 0.6, 0.9, 0.2, 0.03]
#: Tiny runs: 2 draws x 1 seed, a few hundred firms, a short burn-in.
TINY = vd.ValidationDesign(
    draws=2,
    seeds=1,
    turkestan_firms=300,
    turkestan_residents=198,
    national_firms=1000,
    national_residents=198,
    burn_in=6,
    quarters=4,
)


def write_posterior(path, centre=AROUND, spread=0.1, particles=5, seed=0):
    """A posterior file of ``particles`` fitted particles near ``centre`` (and 2 partnership ones)."""
    rng = np.random.default_rng(seed)
    values = np.array(centre) * (1 + spread * rng.uniform(-1, 1, (particles, len(centre))))
    values[:, FREE.index("symbiosis")] = np.clip(values[:, FREE.index("symbiosis")], 0, 1)
    other = values[:2].copy()
    other[:, FREE.index("symbiosis")] = 0.0
    text = write_posterior_rows(
        {"fitted": (FREE, values, np.ones(particles)), "partnership": (FREE, other, np.ones(2))}
    )
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the data file


def test_data_file_loads_and_every_value_has_a_source():
    data = vd.load_validation_data()
    assert data.figures and data.rankings and data.missing
    for f in data.figures:
        assert f.url.startswith(("http://", "https://")) and f.source and f.title and f.publisher and f.date
        assert f.passage and f.mapping and f.status
        assert 0 <= f.value <= 100 and f.model_quantity in vd.QUANTITIES
        assert f.sample_size or f.sample_note  # what is known of the sample, always
        lo, hi = f.interval()
        assert (np.isnan(lo) and f.sample_size is None) or lo < f.share < hi
    ids = {r.id for r in all_regions()}
    for r in data.rankings:
        assert r.url.startswith(("http://", "https://")) and r.source and r.method and r.year
        covered = set(r.score())
        assert covered | set(r.not_covered) == ids and not covered & set(r.not_covered)
    assert data.primary() is not None
    # the Enterprise Surveys figure the issue names, and what could not be found is said
    wbes = next(f for f in data.figures if f.id == "wbes_2013_bribery_incidence")
    assert wbes.value == 26.7 and wbes.model_quantity == "es_bribery_incidence"
    assert any("2019" in m["what"] for m in data.missing)
    assert len(data.sha256) == 64 and len(data.sources()) == len(data.figures) + len(data.rankings)


def _good_text():
    from importlib import resources

    return resources.files("simulation.data").joinpath("validation.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "old, new, words",
    [
        ('url = "https://data.worldbank.org', 'url = "data.worldbank.org', "url"),
        ("value = 26.7", "value = 126.7", "value"),
        ('model_quantity = "es_bribery_incidence"', 'model_quantity = "bribes"', "model_quantity"),
        ('"west_kazakhstan", "atyrau"', '"west_kazakstan", "atyrau"', "unknown region"),
        ('source = "World Bank, Enterprise Surveys', 'sourc = "World Bank, Enterprise Surveys', "source"),
        ("value = 26.7", "value = [26.7", "malformed TOML"),
        ('compare_with = ["turkestan", "national"]', 'compare_with = ["almaty"]', "compare_with"),
    ],
)
def test_malformed_data_file_is_one_line_error(tmp_path, capsys, monkeypatch, old, new, words):
    text = _good_text()
    assert old in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as err:
        vd.load_validation_data(bad)
    assert words in str(err.value) and "\n" not in str(err.value)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--uncalibrated", "--data", str(bad), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    out = capsys.readouterr().err
    assert out.count("\n") == 1 and "error" in out and "bad.toml" in out
    assert not (tmp_path / "o").exists()


def test_missing_posterior_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["validate", "--posterior", str(tmp_path / "none.csv"), "--quick", "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "statebiz calibrate" in err and "--uncalibrated" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "argv_extra, text",
    [
        ([], "model,weight,moral_cost\nfitted,1,abc\n"),  # not a number
        ([], "model,weight,nonsense\nfitted,1,0.1\n"),  # unknown column
        (["--model", "symbiotic"], None),  # no particle of that model
        (["--uncalibrated"], None),  # both sources of parameters
        (["--draws", "0"], None),
    ],
)
def test_bad_posterior_or_flags_are_one_line_exit_2(tmp_path, capsys, monkeypatch, argv_extra, text):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "post.csv"
    if text is None:
        write_posterior(path)
    else:
        path.write_text(text, encoding="utf-8")
    argv = ["validate", "--posterior", str(path), "--quick", "--out", str(tmp_path / "o"), *argv_extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err


# --------------------------------------------------------------------------- statistics


def test_spearman_on_hand_made_cases():
    assert vd.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert vd.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ties take average ranks: y ranks (1.5, 1.5, 3.5, 3.5) against (1, 2, 3, 4): 4 / (sqrt(5) * 2)
    assert vd.spearman([1, 2, 3, 4], [1, 1, 2, 2]) == pytest.approx(4 / (np.sqrt(5) * 2))
    # d^2 formula without ties: 1 - 6 sum d^2 / (n (n^2 - 1)); ranks (1,2,3,4,5) vs (2,1,4,3,5): sum d^2 = 4
    assert vd.spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(1 - 6 * 4 / (5 * 24))
    x, y = np.random.default_rng(3).normal(size=(2, 17))
    assert vd.spearman(x, np.round(y)) == pytest.approx(stats.spearmanr(x, np.round(y)).statistic)
    assert np.isnan(vd.spearman([1, 2, 3], [5, 5, 5]))
    with pytest.raises(ValueError):
        vd.spearman([1, 2], [1, 2, 3])


def test_correlation_of_a_planted_ranking():
    """Simulated values that follow the independent classes exactly give rho > 0 and a small p;
    reversed ones give rho < 0."""
    data = vd.load_validation_data()
    ranking = data.primary()
    score = ranking.score()
    ids = [r.id for r in all_regions()]
    rows = []
    for j in range(3):
        for i, region in enumerate(ids):
            s = score.get(region, 2.0)
            rows.append({"draw": j, "seed_index": 0, "seed": j, "region": region,
                         "corruption_incidence": 0.2 * s + 0.001 * i, "business_satisfied": 1 - 0.2 * s})  # fmt: skip
    runs = vd.ValidationRuns(pd.DataFrame(), pd.DataFrame(rows), pd.DataFrame())
    table = vd.ranking_correlations(runs, data, seed=1).set_index(["ranking", "outcome"])
    r = table.loc[(ranking.id, "corruption_incidence")]
    assert r["regions"] == len(score) and r["rho_of_medians"] > 0.9 and r["p_one_sided"] < 0.01
    assert table.loc[(ranking.id, "business_satisfied"), "rho_of_medians"] < -0.9


def test_published_interval_and_difference():
    fig = vd.PublishedFigure(
        "x", "x", "x", 26.7, "percent of firms", "2013", "x", "es_bribery_incidence", ("turkestan",), "x",
        "x", "https://x", "x", "x", "x", "x", "x", sample_size=600,
    )  # fmt: skip
    sd = np.sqrt(0.267 * 0.733 / 600)
    lo, hi = fig.interval()
    assert lo == pytest.approx(0.267 - 1.6449 * sd, abs=1e-4) and hi == pytest.approx(0.267 + 1.6449 * sd, abs=1e-4)
    data = vd.ValidationData("x", "0" * 64, (fig,), (), ())
    q = pd.DataFrame({"scenario": "turkestan", "draw": range(50), "es_bribery_incidence": np.full(50, 0.5)})
    row = vd.compare_figures(vd.ValidationRuns(q, pd.DataFrame(), pd.DataFrame()), data, seed=0).iloc[0]
    # a simulated value without spread: the difference's interval is the published sampling error's
    assert row["difference_pp"] == pytest.approx(23.3, abs=0.2)
    assert row["difference_low_pp"] == pytest.approx(100 * (0.5 - hi), abs=0.3)
    assert row["verdict"] == "model higher"


# --------------------------------------------------------------------------- runs


def test_national_params_apply_the_draw_to_every_region_and_only_official_data_differ():
    draw = dict(zip(FREE[:-1], AROUND[:-1]))
    p = vd.scenario_params(vd.ValidationDesign(), "national", draw)
    assert p["regions"] == "all" and p["symbiosis"] == draw["symbiosis"] and p["power_spread"] == 0.0
    assert p["business_strength"] == draw["business_strength"] and p["firms"] == 20000
    t = vd.scenario_params(vd.ValidationDesign(), "turkestan", draw)
    assert t["regions"] == "turkestan" and t["moral_cost"] == draw["moral_cost"]
    # the symbiosis index is one scenario parameter: every akimat starts with it
    from simulation.model import StateBusinessModel

    model = StateBusinessModel(rng=1, **(p | {"firms": 400, "burn_in": 0, "steps": 1}))
    assert np.all(model.world.akimats.symbiosis == draw["symbiosis"])
    assert np.ptp(model.world.akimats.power) == 0  # no random spread of power between regions


def test_serial_and_processes_give_identical_results(tmp_path):
    post = load_posterior(write_posterior(tmp_path / "p.csv"))
    source = vd.from_posterior(post, TINY)
    data = vd.load_validation_data()
    a = vd.validate(TINY, source, data, backend="serial")
    b = vd.validate(TINY, source, data, backend="processes", workers=2)
    for name, frame in a.tables().items():
        pd.testing.assert_frame_equal(frame.drop(columns="elapsed_s", errors="ignore"),
                                      b.tables()[name].drop(columns="elapsed_s", errors="ignore"))  # fmt: skip
    assert len(a.runs.regions) == TINY.draws * TINY.seeds * 20


def test_the_ranking_uses_the_posterior(tmp_path):
    data = vd.load_validation_data()
    low = write_posterior(tmp_path / "low.csv", centre=[0.002, *AROUND[1:]], spread=0.01)
    high = write_posterior(tmp_path / "high.csv", centre=[0.05, *AROUND[1:]], spread=0.01)
    res = {}
    for name, path in (("low", low), ("high", high)):
        source = vd.from_posterior(load_posterior(path), TINY)
        assert source.draws[0]["moral_cost"] == pytest.approx(0.002 if name == "low" else 0.05, rel=0.02)
        runs = vd.run_validation(TINY, source, backend="serial")
        res[name] = vd.region_summary(runs, data).set_index("region")
    # the same seeds, another posterior: other regional values (officials with a low moral cost are
    # corrupt more often, so corruption incidence is higher)
    assert not np.allclose(res["low"]["corruption_incidence"], res["high"]["corruption_incidence"])
    assert res["low"]["corruption_incidence"].mean() > res["high"]["corruption_incidence"].mean()


def test_quick_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    post = write_posterior(tmp_path / "posterior.csv")
    out = tmp_path / "v"
    argv = ["validate", "--posterior", str(post), "--quick", "--out", str(out), "--backend", "serial", "--quiet"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "Validation out of sample" in text and "Spearman" in text
    for name in ("figures.csv", "quantities.csv", "regions.csv", "rankings.csv", "runs.csv", "region_runs.csv",
                 "draws.csv", "ranking.png", "figures.png", "summary.txt", "manifest.json"):  # fmt: skip
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["calibrated"] is True and manifest["root_seed"] == vd.QUICK.root_seed
    assert manifest["parameter_source"]["posterior_sha256"] == hashlib.sha256(post.read_bytes()).hexdigest()
    assert {s["url"] for s in manifest["sources"]} >= {f.url for f in vd.load_validation_data().figures}
    regions = pd.read_csv(out / "regions.csv")
    assert len(regions) == 20 and set(regions["rank_of_median_corruption_incidence"]) <= set(range(1, 21))
    figures = pd.read_csv(out / "figures.csv")
    assert set(figures["figure"]) == {f.id for f in vd.load_validation_data().figures}
    result = vd.read_result(out)
    assert result is not None and len(result["rankings"]) == 4
    # an existing result is not replaced without --overwrite
    assert main(argv) == 2


# --------------------------------------------------------------------------- the report's section


def _section_page(tmp_path, results, posterior, commit="abc"):
    from types import SimpleNamespace

    from simulation.report import html as report_html
    from simulation.report.config import ValidationPart
    from simulation.report.sections import validation as section

    config = SimpleNamespace(validation=ValidationPart(results, posterior))
    ctx = SimpleNamespace(
        config=config, runs={}, out_dir=tmp_path, figures={}, manifest={"git_commit": commit}, title="t", subtitle="s"
    )
    ctx.figures[section.ANCHOR] = section.draw(ctx)
    content = section.build(ctx)
    return content, report_html.render_sections(ctx, [content])


def test_the_report_section_shows_the_result_its_sources_and_staleness(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    post = write_posterior(tmp_path / "posterior.csv")
    out = tmp_path / "v"
    argv = ["validate", "--posterior", str(post), "--quick", "--out", str(out), "--backend", "serial", "--quiet"]
    assert main(argv) == 0
    page_dir = tmp_path / "page"
    page_dir.mkdir()
    content, page = _section_page(page_dir, out, post)
    assert (page_dir / "validation_ranking.png").read_bytes()[:4] == b"\x89PNG"
    assert len(content.figures) == 2 and len(content.tables) == 3
    assert "Enterprise Surveys bribery incidence, 2013" in page and "data.worldbank.org" in page
    assert "STALE" not in page and "UNCALIBRATED" not in page
    (regions_table,) = [t for t in content.tables if "region" in t.columns]
    assert len(regions_table.rows) == 20
    # another posterior file now: the section says the result is stale
    write_posterior(post, seed=5)
    _, page = _section_page(page_dir, out, post)
    assert "STALE" in page
    # no result yet: the section says how to make one
    _, page = _section_page(page_dir, tmp_path / "nothing", post)
    assert "Not run yet" in page and "statebiz validate" in page
