"""The posterior in ArviZ's format (simulation/calibration/inference.py): the netCDF file round-trips,
its groups hold what they say, R-hat tells agreeing runs from disagreeing ones, nothing is overwritten
without the flag. Synthetic final stages, no model run (fast)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import arviz as az
import numpy as np
import pytest

from simulation import calibration as cal
from simulation.calibration.checks import _observed_counts
from simulation.calibration.inference import (
    KEYS,
    arviz_diagnostics,
    inference_data,
    inference_file,
    plot_ppc,
    write_inference_data,
)
from simulation.calibration.likelihood import observed_statistics
from simulation.calibration.smc import Stage, stat_vector
from simulation.io import ResultExistsError

ROOT = Path(__file__).resolve().parents[2]
CALIBRATION = ROOT / "experiments" / "calibration_turkestan.toml"
SURVEY = ROOT / "simulation" / "data" / "turkestan_survey.toml"
RUNS, PARTICLES = 3, 200


@pytest.fixture(scope="module")
def calib():
    return cal.load_calibration(CALIBRATION, quick=True)


def _finals(calib, model: str, runs: int = RUNS, n: int = PARTICLES, seed: int = 0) -> list[Stage]:
    """Final stages of ``runs`` synthetic runs: random particles, every one with the paper's shares."""
    rng = np.random.default_rng(seed)
    shares = stat_vector(observed_statistics())
    k = len(calib.model_priors(model))
    return [
        Stage(
            model,
            4 + r,
            1.0,
            -100.0 - r,
            rng.random((n, k)),
            rng.normal(-90, 2, n),
            np.tile(shares, (n, 1)),
            n,
            0.3,
            n,
            0.5,
        )
        for r in range(runs)
    ]


@pytest.fixture(scope="module")
def fitted(calib):
    finals = _finals(calib, "fitted")
    return finals, inference_data(calib, "fitted", finals, _observed_counts(), {"git_commit": "abc123"}, [11, 12, 13])


def test_the_file_round_trips_with_the_posterior_the_runs_and_the_papers_counts(calib, fitted, tmp_path):
    finals, dt = fitted
    path = write_inference_data(dt, tmp_path / inference_file("fitted"))
    back = az.from_netcdf(path)
    assert {"posterior", "posterior_predictive", "observed_data", "sample_stats"} <= set(back.children)
    post = back["posterior"].ds
    assert list(post.data_vars) == list(calib.model_priors("fitted")) and "symbiosis" in post
    assert (post.sizes["chain"], post.sizes["draw"]) == (RUNS, PARTICLES)
    for r, st in enumerate(finals):  # chain r = run r's final particles, in the sampler's order
        values = calib.to_values("fitted", st.u)
        for j, name in enumerate(calib.model_priors("fitted")):
            np.testing.assert_array_equal(post[name].values[r], values[:, j])
    stats = back["sample_stats"]
    np.testing.assert_array_equal(stats.ds["log_likelihood"].values, np.stack([st.loglik for st in finals]))
    np.testing.assert_array_equal(stats.attrs["log_evidence"], [-100.0, -101.0, -102.0])
    assert back.attrs["model"] == "fitted" and back.attrs["git_commit"] == "abc123"
    assert int(back.attrs["seed"]) == calib.seed and back.attrs["run_seeds"] == "[11, 12, 13]"
    # observed_data: the paper's counts, read here from the data file itself
    paper = tomllib.loads(SURVEY.read_text())
    obs = back["observed_data"].ds
    for t in cal.TABLES:
        counts = np.asarray(paper[t]["counts"])
        expected = counts if t == "table6" else counts.sum(axis=0)
        np.testing.assert_array_equal(obs[t].values, expected, err_msg=t)
        assert list(obs[t].coords[f"{t}_answer"].values) == paper[t]["columns"]
    for t in ("table5", "table7", "table8", "table9"):
        np.testing.assert_array_equal(obs[f"{t}_cohorts"].values, paper[t]["counts"])
    assert list(obs["table6"].coords["table6_utility"].values) == paper["table6"]["rows"]


def test_the_predictive_surveys_have_the_papers_sizes_and_each_samples_design_effect(calib, fitted):
    """One survey per particle: every row sums to its paper's size, and a cell's variance over the
    draws is n p (1 - p) deff with the design effect of the table's sample (residents about 2.06,
    entrepreneurs about 1.24; 600 draws: the variance's sampling error is about 6%, and the two design
    effects differ by 66%, so a wrong sample's effect fails the 20% band)."""
    _, dt = fitted
    pp, obs = dt["posterior_predictive"].ds, dt["observed_data"].ds
    for k in KEYS:
        assert pp[k].sizes["chain"] == RUNS and pp[k].sizes["draw"] == PARTICLES
        row_sums = pp[k].sum(dim=[d for d in pp[k].dims if d.endswith("_answer")])
        paper = obs[k].sum(dim=[d for d in obs[k].dims if d.endswith("_answer")])
        assert (row_sums == paper).all(), k
    shares = observed_statistics()
    for t, sample in (("table5", "population"), ("table7", "entrepreneurs"), ("table9", "entrepreneurs")):
        draws = pp[t].values.reshape(RUNS * PARTICLES, -1).astype(float)
        n = draws[0].sum()
        p = np.maximum(shares[t], calib.abc["share_floor"])
        p /= p.sum()
        ratio = draws.var(axis=0, ddof=1) / (n * p * (1 - p))
        assert np.all(np.abs(ratio / calib.design[sample] - 1) < 0.2), (t, ratio, calib.design)
    assert calib.design["population"] / calib.design["entrepreneurs"] > 1.5  # the test tells them apart


def test_the_predictive_draws_are_fixed_by_the_seed(calib, fitted):
    finals, dt = fitted
    again = inference_data(calib, "fitted", finals, _observed_counts())
    for k in KEYS:
        np.testing.assert_array_equal(
            again["posterior_predictive"].ds[k].values, dt["posterior_predictive"].ds[k].values
        )
    pp = dt["posterior_predictive"].ds["table6"].values
    assert not np.array_equal(pp[0], pp[1])  # the runs' surveys are drawn apart


def _tree(chains: np.ndarray):
    return az.from_dict({"posterior": {"x": chains}})


def test_r_hat_is_one_for_agreeing_runs_and_above_1_1_for_runs_with_different_means():
    rng = np.random.default_rng(5)
    draws = rng.normal(size=500)
    same = arviz_diagnostics(_tree(np.stack([draws, draws])), "m").iloc[0]
    assert same["r_hat"] == pytest.approx(1.0, abs=0.01) and same["chains"] == 2 and same["draws"] == 500
    shifted = arviz_diagnostics(_tree(np.stack([draws, rng.normal(size=500) + 1.0])), "m").iloc[0]
    assert shifted["r_hat"] > 1.1
    assert same["ess_bulk"] > 300  # independent draws: the ESS is near their number (1000 draws, two copies)


def test_r_hat_is_nan_with_a_single_run_and_the_ess_is_still_given():
    one = arviz_diagnostics(_tree(np.random.default_rng(6).normal(size=(1, 400))), "m").iloc[0]
    assert np.isnan(one["r_hat"]) and one["chains"] == 1 and one["ess_bulk"] > 200


def test_the_diagnostics_cover_every_free_parameter(calib, fitted):
    _, dt = fitted
    diag = arviz_diagnostics(dt)
    assert list(diag["parameter"]) == list(calib.model_priors("fitted")) and (diag["model"] == "fitted").all()
    # uniform draws of the same prior in every run: the runs agree
    assert diag["r_hat"].max() < 1.05 and (diag["chains"] == RUNS).all()


def test_writing_never_replaces_a_file_without_the_overwrite_flag(fitted, tmp_path):
    _, dt = fitted
    path = tmp_path / "posterior_fitted.nc"
    path.write_bytes(b"an earlier result")
    with pytest.raises(ResultExistsError, match="overwrite"):
        write_inference_data(dt, path)
    assert path.read_bytes() == b"an earlier result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posterior_fitted.nc"]  # no temporary file left
    write_inference_data(dt, path, overwrite=True)
    assert az.from_netcdf(path)["posterior"].ds.sizes["chain"] == RUNS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posterior_fitted.nc"]


def test_the_record_copy_takes_the_netcdf_files_and_ppc_figures(tmp_path):
    from simulation.calibration.run import _write_record

    out = tmp_path / "out"
    out.mkdir()
    extra = ["posterior_fitted.nc", "posterior_partnership.nc", "ppc_fitted.png", "smc.db"]
    for name in list(cal.RECORD_FILES) + extra:
        (out / name).write_bytes(name.encode())
    dest = _write_record(out, tmp_path / "record")
    assert sorted(p.name for p in dest.iterdir()) == sorted(set(cal.RECORD_FILES) | set(extra) - {"smc.db"})
    assert "diagnostics_arviz.csv" in cal.RECORD_FILES


def test_the_ppc_figure_is_drawn_from_the_file(fitted, tmp_path):
    _, dt = fitted
    path = write_inference_data(dt, tmp_path / "p.nc")
    plot_ppc(az.from_netcdf(path), tmp_path / "ppc.png", "t")
    assert (tmp_path / "ppc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_free_design_effect_is_a_posterior_variable_and_sets_each_particles_surveys(tmp_path):
    """With ``design_effect`` free, it is a posterior variable like the others, and a particle at deff 1
    draws multinomial surveys while one at 2.5 draws 2.5 times their variance (300 draws each, the
    variances summed over Table 5's five cells: a wrong or ignored design effect gives a ratio of 1;
    the band is 2.0-3.1)."""
    text = CALIBRATION.read_text().replace(
        'design_effect = "survey"', 'design_effect = { distribution = "uniform", low = 1.0, high = 2.5 }'
    )
    assert text != CALIBRATION.read_text()
    path = tmp_path / "free.toml"
    path.write_text(text.replace('scenario = "../scenarios/', f'scenario = "{ROOT}/scenarios/'))
    free = cal.load_calibration(path, quick=True)
    names = list(free.model_priors("partnership"))
    assert names[-1] == "design_effect"
    finals = _finals(free, "partnership", runs=2, n=300)
    finals[0].u[:, -1], finals[1].u[:, -1] = 0.0, 1.0  # run 0 at deff 1, run 1 at deff 2.5
    dt = inference_data(free, "partnership", finals, _observed_counts())
    post = dt["posterior"].ds
    assert list(post.data_vars) == names and float(post["design_effect"][1].min()) == pytest.approx(2.5)
    assert "free" in dt.attrs["design_effects"]
    t5 = dt["posterior_predictive"].ds["table5"].values.astype(float)
    ratio = t5[1].var(axis=0, ddof=1).sum() / t5[0].var(axis=0, ddof=1).sum()
    assert 2.0 < ratio < 3.1, ratio
