"""statebiz table1: the regime map over P x B at s = 0, 0.5, 1, its robustness to the observer's
thresholds, and the command's bad input."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.cli import main
from simulation.observe.observer import REGIMES
from simulation.runner import run_model
from simulation.studies import table1 as t1

#: A small full grid: 5 x 5 cells at the three s values, 2 seeds, 600 firms, short burn-in.
SMALL = t1.Table1Design(
    powers=(0.1, 0.3, 0.5, 0.7, 0.9),
    businesses=(0.1, 0.3, 0.5, 0.7, 0.9),
    seeds=2,
    firms=600,
    burn_in=24,
    models=("full",),
)
#: Bound on the flip share. Measured: 8% of the 75 cells of this grid (6 cells, all under
#: interaction_threshold +-20%); 6.6% of the 243 cells of the 9 x 9 grid at burn-in 80 with
#: 2 seeds and 1500 firms (16 cells, 15 of them under interaction_threshold +20%); 0.4% in
#: the null model. Labels near a tie between the two largest shares can flip; a quarter of
#: the cells flipping (about 3x the measurement) would mean the map is the thresholds', not
#: the behaviour's.
FLIP_BOUND = 0.25
#: The columns that name a cell.
CELL_COLUMNS = ["model", "symbiosis", "power_strength", "business_strength"]


@pytest.fixture(scope="module")
def cells():
    runs = t1.run_table1(SMALL)
    return t1.dominant_map(runs)


def test_every_regime_dominates_some_cell(cells):
    assert set(cells["dominant"]) == set(REGIMES)


def test_patronage_dominates_only_with_weak_business_and_symbiosis(cells):
    pat = cells[cells["dominant"] == "patronage"]
    assert len(pat) > 0
    assert (pat["business_strength"] < 0.5).all()
    assert (pat["symbiosis"] > 0).all()
    assert (pat["power_strength"] >= 0.5).any()


#: Seeds for re-running a weak-power cell where the small grid's 2 seeds put patronage ahead.
RECHECK_SEEDS = 16


def _patronage_lead(power: float, business: float, symbiosis: float) -> np.ndarray:
    """Patronage's share of output minus the largest other regime's, per seed, in one cell of the
    small grid's settings re-run with :data:`RECHECK_SEEDS` seeds (baseline thresholds)."""
    design = t1.with_settings(SMALL, powers=(power,), businesses=(business,), seeds=RECHECK_SEEDS)
    runs = t1.run_table1(design)
    base = runs[(runs["variant"] == t1.BASELINE) & (runs["symbiosis"] == symbiosis)]
    others = [f"share_{k}" for k in REGIMES if k != "patronage"]
    return (base["share_patronage"] - base[others].max(axis=1)).to_numpy()


def test_patronage_dominates_only_with_strong_power(cells):
    """Where the paper puts it. (Before a client went on paying its patron and the rents went
    to the network by capital, patronage also dominated at P = 0.3-0.4 on this grid, and this
    test was an expected failure.)

    With the rent mechanism (issue 22), rents keep corruption up even at weak power, and at
    P = 0.3, B = 0.1, s = 1 patronage ties non-interference: with speed money and the survey
    mechanisms, patronage's lead over the runner-up is -0.014 of output over 16 seeds (sd 0.038,
    se 0.0095), while this grid's 2 seeds (se about 0.027) put it 0.022 ahead. A 2-seed label is
    too noisy to tell a tie from dominance, so any weak-power cell where patronage leads the
    grid is re-run with 16 seeds, and its mean lead must stay below 0.02 of output: a tie, not
    dominance. Power: a true lead of 0.05 gives a 16-seed mean below 0.02 with probability about
    0.001 (3.2 se)."""
    pat = cells[cells["dominant"] == "patronage"]
    assert (pat["power_strength"] >= 0.5).any(), pat
    weak = pat[pat["power_strength"] < 0.5]
    for _, cell in weak.iterrows():
        lead = _patronage_lead(cell["power_strength"], cell["business_strength"], cell["symbiosis"])
        assert lead.mean() < 0.02, (cell[CELL_COLUMNS].to_dict(), lead.mean(), lead.std())


def test_flip_share_is_small_and_only_the_interaction_threshold_flips(cells):
    share = cells["flipped"].mean()
    assert 0 <= share <= FLIP_BOUND
    moved = {name for v in cells["flipped_by"] for name in v.split(",") if name}
    assert all(name.startswith("interaction_threshold") for name in moved)
    facts = t1.summary(cells)
    assert facts["models"]["full"]["flip_share"] == pytest.approx(share)


def test_shadow_reading_leaves_the_trajectory_and_equals_a_rerun():
    params = t1.QUICK.params(0.5, 0.7, 0.3, "full") | {"burn_in": 8, "steps": 5}
    overrides = t1.variants(params)
    read = t1.observe_run(3, params, overrides)
    plain = run_model(seed=3, **params)
    assert read["outcomes"] == plain  # the shadow observers write nothing
    assert np.array_equal(read[t1.BASELINE]["shares"], [plain[f"regime_{r}"] for r in REGIMES])
    for name in ("interaction_threshold+20%", "business_threshold-20%"):
        ((key, value),) = overrides[name].items()
        rerun = run_model(seed=3, **params, **{key: value})
        assert np.allclose(read[name]["shares"], [rerun[f"regime_{r}"] for r in REGIMES], atol=1e-12)
        quadrant = [rerun[f"weight_{q}"] for q in t1.QUADRANTS]
        assert np.allclose(read[name]["quadrant_weight"], quadrant, atol=1e-12)
        assert rerun["power"] == plain["power"] and rerun["corrupt_share"] == plain["corrupt_share"]


@pytest.mark.parametrize(
    "argv",
    [
        ["table1", "--seeds", "0"],
        ["table1", "--firms", "many"],
        ["table1", "--grid", "3"],
        ["table1", "--out", ".."],
    ],
)
def test_bad_input_is_one_line_exit_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err
    assert not (tmp_path / "results").exists()


def test_existing_result_is_not_overwritten(capsys, tmp_path):
    out = tmp_path / "t1"
    out.mkdir()
    (out / "manifest.json").write_text("{}\n")
    assert main(["table1", "--quick", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--overwrite" in err


def test_null_model_contrast_and_csv_round_trip(tmp_path):
    import pandas as pd

    design = t1.Table1Design(powers=(0.2, 0.8), businesses=(0.1, 0.8), symbioses=(0.0,), seeds=1, firms=300, burn_in=8)
    runs = t1.run_table1(design)
    cells = t1.dominant_map(runs)
    cells.to_csv(tmp_path / "cells.csv", index=False)
    again = pd.read_csv(tmp_path / "cells.csv")
    assert list(again["model"].unique()) == ["full", "null_model"]  # no model name reads as NaN
    facts = t1.summary(again, t1.quadrant_reading(runs))
    assert 0 <= facts["null_differs_share"] <= 1
    assert set(facts["mean_shares"]) == {"full", "null_model"}
    assert "null vs full" in t1.format_summary(facts, design, 0.0)
