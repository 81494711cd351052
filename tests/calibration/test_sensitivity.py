"""Global sensitivity (statebiz sensitivity): SALib's indices through the module's own design and
analysis on functions with known answers, and the command at a small size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.calibration import sensitivity as sens
from simulation.cli import main

ROOT = Path(__file__).resolve().parents[2]
CALIBRATION = ROOT / "experiments" / "calibration_turkestan.toml"


def _ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_the_ishigami_function():
    """Ishigami (a = 7, b = 0.1) on [-pi, pi]^3 has the analytic indices S1 = (0.314, 0.442, 0), ST =
    (0.558, 0.442, 0.244) (Saltelli et al. 2008, Global Sensitivity Analysis, s. 4.9). With N = 2,048
    base samples the estimates are within 0.05 of them (their bootstrap half-widths are about 0.03)."""
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    from SALib.sample import sobol

    x = sobol.sample(problem, 2048, calc_second_order=False, seed=3)
    r = sens.analyse(problem, x, _ishigami(x), "sobol", seed=3)
    assert r["S1"] == pytest.approx([0.314, 0.442, 0.0], abs=0.05)
    assert r["ST"] == pytest.approx([0.558, 0.442, 0.244], abs=0.05)


def test_morris_tells_a_parameter_that_matters_from_one_that_does_not():
    """y = 10 x1 + x2^2 + 0 x3 on [0, 1]^3: mu* is 10 for x1 (linear: every elementary effect is 10),
    between 0 and 2 for x2, and exactly 0 for x3, which does not enter."""
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0.0, 1.0]] * 3}
    from SALib.sample import morris

    x = morris.sample(problem, 20, num_levels=4, seed=1)
    y = 10 * x[:, 0] + x[:, 1] ** 2
    r = sens.analyse(problem, x, y, "morris", seed=1)
    assert r["mu_star"][0] == pytest.approx(10.0) and r["sigma"][0] == pytest.approx(0.0, abs=1e-9)
    assert 0.0 < r["mu_star"][1] < 2.0 and r["mu_star"][2] == 0.0


def test_the_hand_set_parameters_are_the_registry_s_assumptions_not_the_fitted_ones():
    from simulation.calibration import load_calibration
    from simulation.scenario import BY_NAME

    calib = load_calibration(CALIBRATION)
    names = sens.hand_set(calib)
    assert len(names) > 60 and not set(names) & (set(calib.priors) | set(calib.model))
    assert all(BY_NAME[n].source.startswith("assumption") and BY_NAME[n].kind is float for n in names)
    ranges = dict(zip(names, sens.bounds(names, 0.5)))
    ordered = {n for chain in sens.ORDERED for n in chain}
    for n, (lo, hi) in ranges.items():
        p = BY_NAME[n]
        assert p.low <= lo < hi <= p.high, n
        if n not in ordered and p.default and p.low <= 0.5 * p.default and 1.5 * p.default <= p.high:
            assert (lo, hi) == pytest.approx(sorted((0.5 * p.default, 1.5 * p.default))), n
    # a chain the scenario keeps in order never crosses in the design (40 of 192 points were invalid before)
    for chain in sens.ORDERED:
        for a, b in zip(chain, chain[1:]):
            assert ranges[a][1] <= ranges[b][0] and ranges[a][0] < BY_NAME[a].default < ranges[a][1]


def test_bad_sensitivity_input_is_a_one_line_error_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    for argv, message in (
        (["--parameters", "moral_cost"], "'moral_cost' is not a hand-set parameter"),
        (["--span", "2"], "--span = '2' is not allowed"),
        (["--method", "sobol", "--size", "6"], "expected a power of 2"),
        (["--at", "bribe_size=0.2"], "--at 'bribe_size' is not a fitted parameter"),
        (["--at", "moral_cost=5"], "--at moral_cost = 5 is not allowed"),
        (["--at", "moral_cost"], "expected name=number"),
    ):
        rc = main(["sensitivity", str(CALIBRATION), "--quick", "--out", str(out), "--quiet", *argv])
        err = capsys.readouterr().err.strip()
        assert rc == 2 and len(err.splitlines()) == 1 and message in err, err
        assert not out.exists() and list(tmp_path.iterdir()) == []


def test_the_sensitivity_command_at_a_small_size(tmp_path, capsys):
    """Three hand-set parameters, 2 Morris trajectories at the quick size: 8 points, 16 runs (s = 0 and
    s = 1 at each point, one seed), indices for every output and parameter, written with provenance."""
    out = tmp_path / "sens"
    names = ["capital_dispersion", "bribe_size", "delay_cost"]
    argv = ["sensitivity", str(CALIBRATION), "--quick", "--size", "2", "--out", str(out), "--quiet"]
    rc = main([*argv, "--parameters", ",".join(names), "--backend", "serial"])
    assert rc == 0, capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs"] == 16 and manifest["points"] == 8 and "git_commit" in manifest
    assert {p.name for p in out.iterdir()} == set(manifest["files"]) | {"manifest.json"}
    idx = pd.read_csv(out / "indices.csv")
    outputs = {f"{tag}_{k}" for tag in ("s0", "s1", "diff") for k in sens.OUTPUTS}
    assert set(idx["output"]) == outputs and set(idx["parameter"]) == set(names)
    points = pd.read_csv(out / "points.csv")
    assert len(points) == 8 and points["s0_loglik"].notna().all()
    assert np.allclose(points["diff_t5_good"], points["s1_t5_good"] - points["s0_t5_good"])
    for k in sens.HEADLINE:  # the report's headline outcomes: shares, their difference s = 1 minus s = 0
        assert points[f"s0_{k}"].between(0, 1).all() and points[f"s1_{k}"].between(0, 1).all(), k
        assert np.allclose(points[f"diff_{k}"], points[f"s1_{k}"] - points[f"s0_{k}"]), k
    assert (points["diff_corruption_incidence"].abs() > 0).any()
    # without --at the fitted parameters sit at the scenario's values, and the manifest says so
    from simulation.calibration import load_calibration
    from simulation.scenario import BY_NAME

    calib = load_calibration(CALIBRATION, quick=True)
    assert manifest["fitted_at"]["moral_cost"] == BY_NAME["moral_cost"].default
    assert set(manifest["fitted_at"]) == set(calib.priors) - {"symbiosis"}
    assert manifest["seed"] == calib.seed and manifest["fitted_at_source"] == "the calibration scenario's values"
    # the paired runs differ: s moves the survey at some point of the design
    assert (points["diff_t9_constantly"].abs() > 0).any()


def test_the_headline_outputs_are_the_report_s():
    """The sensitivity's headline outputs are the report's first-screen differences, in its order."""
    from simulation.report.sections.headline import HEADLINE

    assert sens.HEADLINE == HEADLINE and not set(sens.HEADLINE) & set(sens.STATISTICS)


def test_a_sensitivity_run_surveys_as_the_fit_does_and_adds_the_headline_outcomes():
    """``survey_run`` is the fit's run (``likelihood.run_survey_model``): at the quick size, the same
    parameters and seed give the same statistics to the bit, and its headline outcomes are the run's
    own end-of-run outcomes (``model.outcomes()``). Fails if the two runs drift apart."""
    from simulation.calibration import load_calibration
    from simulation.calibration.likelihood import run_survey_model
    from simulation.model import StateBusinessModel

    calib = load_calibration(CALIBRATION, quick=True)
    params = calib.run_parameters("symbiotic", {"moral_cost": 0.05})
    stats, headline = sens.survey_run(params, 7)
    reference, _ = run_survey_model(params, 7)
    assert set(stats) == set(reference)
    for k in stats:
        np.testing.assert_array_equal(stats[k], reference[k], err_msg=k)
    model = StateBusinessModel(rng=7, **params)
    model.run()
    out = model.outcomes()
    assert headline == {k: out[k] for k in sens.HEADLINE}


def test_at_places_the_fitted_parameters_and_seed_moves_the_design(tmp_path, monkeypatch):
    """``at`` sets the fitted parameters of every run of both models; another ``seed`` draws another
    design. Checked on the tasks the design hands out (the runs replaced by a stub)."""
    from simulation.calibration import load_calibration

    calib = load_calibration(CALIBRATION, quick=True)
    seen = []

    def stub(params, seed, steps, outcomes):
        seen.append((params, seed))
        return {"error": "stub"}

    monkeypatch.setattr(sens, "_sensitivity_task", stub)
    names = ["bribe_size", "delay_cost"]
    _, points, facts = sens.run_sensitivity(calib, "morris", 2, 0.5, names, at={"experience_scale": 300.0})
    assert len(seen) == 2 * len(points) and {p["experience_scale"] for p, _ in seen} == {300.0}
    assert {p["symbiosis"] for p, _ in seen} == {0.0, 1.0} and len({s for _, s in seen}) == 1
    assert facts["fitted_at"]["experience_scale"] == 300.0 and facts["fitted_at_source"] == "--at"
    assert points["s0_loglik"].isna().all()  # failed runs are NaN, not a number
    _, other, facts2 = sens.run_sensitivity(calib, "morris", 2, 0.5, names, seed=calib.seed + 1)
    assert facts2["seed"] == calib.seed + 1
    assert not np.allclose(points[names].to_numpy(), other[names].to_numpy())
