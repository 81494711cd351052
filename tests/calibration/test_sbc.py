"""Simulation-based calibration (statebiz calibrate --sbc): the rank machinery on a conjugate model
whose exact posterior is known, and the command at a smoke-test size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.calibration import sbc
from simulation.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "turkestan.toml"


def _normal_sbc(shrink: float, datasets: int = 400, draws: int = 99):
    """theta ~ N(0, 1), y_1..5 ~ N(theta, 1): the posterior is N(sum y / 6, 1 / 6); ``shrink`` scales
    the fitter's posterior sd (1: exact; below 1: overconfident)."""

    def prior(rng):
        return rng.normal(0.0, 1.0, 1)

    def simulate(theta, rng):
        return rng.normal(theta[0], 1.0, 5)

    def fit(y, k):
        rng = np.random.default_rng([99, k])
        return rng.normal(y.sum() / 6.0, shrink * np.sqrt(1.0 / 6.0), (draws, 1))

    return sbc.sbc_ranks(prior, simulate, fit, datasets, seed=5)


def test_sbc_ranks_are_uniform_for_the_exact_posterior_and_not_for_an_overconfident_one():
    """400 datasets, 99 draws, 20 bins. Exact posterior: the ranks' chi-square p is above 0.01 (it is a
    uniform p-value: this seed's p is fixed, the test is deterministic). A posterior whose sd is half the
    true one piles ranks at both ends (the U of Talts et al. 2018, Fig. 3): p below 1e-6, with power
    near 1 at this size (about 30% of the truths fall outside the 99 draws' range)."""
    ranks, draws = _normal_sbc(1.0)
    assert draws == 99 and ranks.shape == (400, 1) and ranks.min() >= 0 and ranks.max() <= 99
    exact = sbc.rank_uniformity(ranks, draws)[0]
    assert exact["bins"] == 20 and sum(exact["histogram"]) == 400
    assert exact["p_value"] > 0.01
    narrow = sbc.rank_uniformity(*_normal_sbc(0.5))[0]
    assert narrow["p_value"] < 1e-6
    h = narrow["histogram"]
    assert h[0] + h[-1] > 4 * (400 / 20)  # the U: the two end bins hold twice their share of 2 x 20 each
    wide = sbc.rank_uniformity(*_normal_sbc(2.0))[0]
    assert wide["p_value"] < 1e-6 and wide["histogram"][0] + wide["histogram"][-1] < 400 / 20  # the hump


TINY = f"""
name = "sbc_tiny"
scenario = "{SCENARIO}"
seed = 3
models = ["partnership"]
[model]
firms = 200
residents_per_region = 200
burn_in = 6
steps = 2
[priors]
moral_cost = {{ distribution = "registered" }}
utility_quality = {{ distribution = "uniform", low = 0.2, high = 0.95 }}
[smc]
population_size = 8
moves_per_stage = 1
max_stages = 2
"""


def test_the_sbc_command_at_a_smoke_test_size(tmp_path, capsys):
    """Two synthetic datasets from the prior, each refitted (8 particles, at most 2 stages: a smoke
    test of the machinery, not of calibration): ranks in 0..8 for every parameter, the re-fit's time
    recorded, the figure drawn, all written with provenance."""
    path = tmp_path / "sbc.toml"
    path.write_text(TINY)
    out = tmp_path / "out"
    rc = main(["calibrate", str(path), "--sbc", "2", "--out", str(out), "--quiet", "--backend", "serial"])
    assert rc == 0, capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert {p.name for p in out.iterdir()} == set(manifest["files"]) | {"manifest.json"}
    assert manifest["refit_seconds"]["partnership"]["mean"] > 0 and manifest["runs_per_refit"]["partnership"] >= 8
    ranks = pd.read_csv(out / "sbc_ranks.csv")
    assert len(ranks) == 2 * 2 and set(ranks["parameter"]) == {"moral_cost", "utility_quality"}
    ok = ranks[ranks["rank"] >= 0]
    assert len(ok) >= 2 and ok["rank"].between(0, 8).all() and (ok["draws"] == 8).all()
    mc = ranks[ranks["parameter"] == "moral_cost"]["truth"]
    assert mc.between(1e-4, 1.0).all()  # drawn from the registered (log-uniform) prior
    # bad input: one line, exit 2, nothing written
    rc = main(["calibrate", str(path), "--sbc", "1", "--out", str(tmp_path / "no"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "--sbc = 1 is not allowed" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "no").exists()
