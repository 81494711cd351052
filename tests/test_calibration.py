"""Calibration (statebiz calibrate): file validation, the distance, recovery of known parameters, --quick end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation import calibration as cal
from simulation.cli import main

ROOT = Path(__file__).resolve().parents[1]
CALIBRATION = ROOT / "experiments" / "calibration_turkestan.toml"
SCENARIO = ROOT / "scenarios" / "turkestan.toml"

GOOD = f"""
name = "t"
scenario = "{SCENARIO}"
seed = 1
governance = ["partnership"]
[model]
firms = 300
[priors]
moral_cost = {{ distribution = "uniform", low = 0.001, high = 0.05 }}
[abc]
population_size = 20
"""


# --------------------------------------------------------------------------- bad files

BAD = {
    "unknown top key": ("foo = 1\n" + GOOD, "unknown key 'foo'"),
    "malformed": ("name = \n", "malformed TOML"),
    "unknown parameter": (
        GOOD.replace("moral_cost =", "moral_cots ="),
        "'priors.moral_cots' is not a scenario parameter",
    ),
    "out of range": (GOOD.replace("high = 0.05", "high = 1.5"), "'priors.moral_cost.high' = 1.5"),
    "low >= high": (GOOD.replace("low = 0.001", "low = 0.9"), "expected low < high"),
    "distribution": (GOOD.replace('"uniform"', '"normal"'), "'priors.moral_cost.distribution'"),
    "preset parameter": (
        GOOD.replace("[abc]", "symbiosis = { low = 0.1, high = 0.5 }\n[abc]"),
        "set by the governance presets",
    ),
    "integer parameter": (
        GOOD.replace("[abc]", "firm_ties = { low = 2, high = 10 }\n[abc]"),
        "only real-valued parameters",
    ),
    "governance": (GOOD.replace('["partnership"]', '["partner"]'), "'governance' = ['partner']"),
    "abc setting": (GOOD.replace("population_size = 20", "population_size = 0"), "'abc.population_size' = 0"),
    "abc key": (GOOD + "generations = 3\n", "unknown key 'abc.generations'"),
    "model parameter": (GOOD.replace("firms = 300", "firm = 300"), "unknown parameter 'model.firm'"),
    "fixed and fitted": (GOOD.replace("firms = 300", "moral_cost = 0.01"), "both fixed in 'model' and fitted"),
    "no priors": (f'scenario = "{SCENARIO}"\n', "missing 'priors'"),
    "scenario missing": (GOOD.replace(str(SCENARIO), "nowhere.toml"), "scenario file not found"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_calibration_file_is_a_one_line_error_and_writes_nothing(case, tmp_path, capsys):
    text, expected = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out = tmp_path / "out"
    rc = main(["calibrate", str(path), "--quick", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith("statebiz: error: ") and "\n" not in err
    assert str(path) in err and expected in err, err
    assert not out.exists()
    assert not any(tmp_path.glob(".out*"))


def test_missing_calibration_file(tmp_path, capsys):
    assert main(["calibrate", str(tmp_path / "none.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "calibration file not found" in capsys.readouterr().err


def test_the_shipped_calibration_file_is_valid():
    c = cal.load_calibration(CALIBRATION)
    q = cal.load_calibration(CALIBRATION, quick=True)
    assert c.governance == ["partnership", "symbiotic"]
    # at most half the degrees of freedom of the fitted tables (18: each table's shares less one per row sum)
    dof = sum(v.size - (4 if k == "table6" else 1) for k, v in cal.observed_statistics().items())
    assert dof == 18 and 5 <= len(c.priors) <= dof // 2, f"{len(c.priors)} fitted parameters for {dof} dof"
    assert q.abc["population_size"] < c.abc["population_size"] and q.model["firms"] < c.model["firms"]
    for g in c.governance:  # the governance preset is applied under the fitted values
        p = c.run_parameters(g, {"moral_cost": 0.02})
        assert p["governance"] == g and p["moral_cost"] == 0.02
    assert c.run_parameters("symbiotic", {})["symbiosis"] != c.run_parameters("partnership", {})["symbiosis"]


# --------------------------------------------------------------------------- the distance


def test_observed_statistics_are_the_papers_shares():
    obs = cal.observed_statistics()
    assert np.allclose(obs["table9"] * 58, [7, 24, 27])
    assert np.allclose(obs["table6"].reshape(4, 3).sum(axis=1), 1.0)
    assert sum(v.size - (4 if k == "table6" else 1) for k, v in obs.items()) == 18  # degrees of freedom


def test_deviance_is_zero_at_the_observed_shares_and_grows_with_distance():
    obs = cal.observed_statistics()
    assert cal.deviance(obs, obs) == pytest.approx(0.0, abs=1e-9)
    uniform = {k: np.full(v.size, 3 / v.size if k == "table6" else 1 / v.size) for k, v in obs.items()}
    values = [
        cal.deviance({k: (1 - lam) * obs[k] + lam * uniform[k] for k in obs}, obs) for lam in (0.1, 0.3, 0.6, 1.0)
    ]
    assert all(v > 0 for v in values) and values == sorted(values)
    # each table is weighted by its sample size: 2 n sum o log(o / s), n = 58 for Table 7
    sim = np.array([0.5, 0.3, 0.2])
    expected = 2 * 58 * float(np.sum(obs["table7"] * np.log(obs["table7"] / sim)))
    assert cal.table_deviance("table7", sim, obs["table7"]) == pytest.approx(expected)
    # a simulated share of zero where the paper has answers is finite (floor), a failed run is not
    zero = dict(obs, table9=np.array([0.0, 0.5, 0.5]))
    assert np.isfinite(cal.deviance(zero, obs))
    assert cal.deviance(dict(obs, table9=np.full(3, np.nan)), obs) == np.inf


# --------------------------------------------------------------------------- recovery of known parameters

RECOVERY = f"""
name = "recovery"
scenario = "{SCENARIO}"
seed = 7
governance = ["partnership"]
[model]
firms = 300
residents_per_region = 300
burn_in = 10   # long enough for the corrupt share to settle (within 1/1000) at the rotation rate below
steps = 4
official_rotation = 0.5   # officials decide anew twice a year: the corrupt share settles within the short run
[priors]
moral_cost = {{ distribution = "uniform", low = 0.001, high = 0.05 }}
utility_quality = {{ distribution = "uniform", low = 0.1, high = 0.95 }}
[abc]
population_size = 60
max_generations = 5
max_simulations = 2000
max_walltime_minutes = 3
predictive_draws = 10
surveys_per_draw = 2
"""


def test_synthetic_data_from_known_parameters_are_recovered(tmp_path):
    path = tmp_path / "recovery.toml"
    path.write_text(RECOVERY)
    calib = cal.load_calibration(path)
    truth = {"moral_cost": 0.01, "utility_quality": 0.4}
    synthetic = cal.SurveyModel(calib, "partnership")(truth)
    # serial: pyabc's single-core sampler draws from numpy's global stream, seeded from the file (reproducible)
    manifest = cal.run_calibration(calib, tmp_path / "out", backend="serial", observed=synthetic, quiet=True)
    assert manifest["observed"].startswith("synthetic") and "scenario_written" not in manifest
    summary = pd.read_csv(tmp_path / "out" / "posterior_summary.csv").set_index("parameter")
    for name, value in truth.items():
        row = summary.loc[name]
        assert row["q05"] <= value <= row["q95"], (name, value, row.to_dict())
        assert row["ci90_width_over_prior"] < 0.5, (name, row.to_dict())  # the data did narrow the prior


# --------------------------------------------------------------------------- --quick end to end


def test_quick_calibration_writes_the_documented_outputs(tmp_path, capsys):
    out = tmp_path / "quick"
    before = sorted(p.name for p in (ROOT / "scenarios").iterdir())
    rc = main(["calibrate", str(CALIBRATION), "--quick", "--out", str(out), "--workers", "2", "--quiet"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(p.name for p in (ROOT / "scenarios").iterdir()) == before  # --quick never writes a scenario
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) | {"manifest.json"} == {p.name for p in out.iterdir()}
    assert manifest["quick"] is True and set(manifest["model_probabilities"]) == {"partnership", "symbiotic"}
    assert sum(manifest["model_probabilities"].values()) == pytest.approx(1.0)
    probs = pd.read_csv(out / "model_probabilities.csv")
    assert list(probs.columns) == ["generation", "epsilon", "simulations", "p_partnership", "p_symbiotic"]
    cov = pd.read_csv(out / "coverage.csv")
    assert set(cov["kind"]) == {"total", "cohort"}
    overall = cov[cov["table"] == "all"].set_index("kind")
    assert overall.loc["total", "cells"] == 5 + 12 + 3 * 3 and overall.loc["cohort", "cells"] == 4 * (5 + 3 * 3)
    cells = pd.read_csv(out / "predictive.csv")
    assert (cells["q05"] <= cells["median"]).all() and (cells["median"] <= cells["q95"]).all()
    # the rerun refuses to overwrite without --overwrite
    assert main(["calibrate", str(CALIBRATION), "--quick", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
