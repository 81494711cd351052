"""Reproducibility: a run is a function of its seed and parameters, and of nothing else."""

from __future__ import annotations

import json
import random

import mesa
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from simulation.model import StateBusinessModel
from simulation.runner import run_model

TINY = {"firms": 1000, "residents_per_region": 300, "burn_in": 4, "steps": 8}


def fresh(rng, **params):
    model = StateBusinessModel(rng=rng, **(TINY | params))
    model.run()
    return model


def assert_same_run(a, b, what):
    assert_frame_equal(a.region_table(), b.region_table(), check_exact=True, obj=f"region_table ({what})")
    assert_frame_equal(a.regime_table(), b.regime_table(), check_exact=True, obj=f"regime_table ({what})")
    assert a.outcomes() == b.outcomes(), f"outcomes differ ({what})"


@pytest.mark.parametrize("governance", ["partnership", "symbiotic"])
def test_same_seed_same_tables(governance):
    a = fresh(7, governance=governance)
    b = fresh(7, governance=governance)
    assert not a.region_table().empty, "region_table is empty after a run"
    assert len(a.region_table()) == TINY["steps"], (
        f"region_table has {len(a.region_table())} rows, expected one per reported quarter ({TINY['steps']})"
    )
    assert_same_run(a, b, f"seed 7, {governance}")


def test_different_seeds_differ():
    a, b = fresh(1), fresh(2)
    ta, tb = a.region_table(), b.region_table()
    assert not ta.equals(tb), "seeds 1 and 2 gave identical region tables"
    assert not a.regime_table().equals(b.regime_table()), "seeds 1 and 2 gave identical regime tables"
    assert a.outcomes() != b.outcomes(), "seeds 1 and 2 gave identical outcomes"


def test_global_random_state_does_not_matter():
    np.random.seed(123)
    random.seed(123)
    a = fresh(5)
    np.random.seed(98765)
    random.seed(98765)
    for _ in range(17):  # move the global generators on as well
        np.random.random()
        random.random()
    b = fresh(5)
    assert_same_run(a, b, "seed 5 after different global numpy/random seeds")


def test_model_leaves_global_random_state_alone():
    np.random.seed(2024)
    random.seed(2024)
    np_before = np.random.get_state()
    py_before = random.getstate()
    fresh(3)
    np_after = np.random.get_state()
    assert (
        np_before[0] == np_after[0] and np.array_equal(np_before[1], np_after[1]) and np_before[2:] == np_after[2:]
    ), "constructing and running the model changed numpy's global random state"
    assert random.getstate() == py_before, "constructing and running the model changed the global `random` state"


@pytest.mark.parametrize("seed", [0, 11, 2**40 + 3, np.int64(9)])
def test_model_seed_is_the_given_int(seed):
    model = StateBusinessModel(rng=seed, **(TINY | {"burn_in": 0, "steps": 1}))
    assert model.seed == int(seed), f"model.seed = {model.seed!r}, expected {int(seed)}"
    assert type(model.seed) is int, f"model.seed is a {type(model.seed).__name__}, expected a plain int"


def test_rng_none_draws_a_reproducible_seed():
    a = fresh(None)
    assert isinstance(a.seed, int) and a.seed >= 0, (
        f"rng=None gave model.seed = {a.seed!r}, expected a non-negative int"
    )
    b = fresh(a.seed)
    assert b.seed == a.seed, f"passing back the drawn seed gave model.seed {b.seed}, expected {a.seed}"
    assert_same_run(a, b, f"rng=None (drawn seed {a.seed}) then rng={a.seed}")
    c = fresh(None)
    assert c.seed != a.seed, f"two rng=None runs drew the same seed {a.seed}"


def test_numpy_generator_as_rng_is_deterministic():
    a = fresh(np.random.default_rng(42))
    b = fresh(np.random.default_rng(42))
    assert a.seed == b.seed, f"generators with the same seed gave model.seed {a.seed} and {b.seed}"
    assert_same_run(a, b, "rng=np.random.default_rng(42) twice")
    c = fresh(a.seed)
    assert_same_run(a, c, "rng=Generator(42) vs rng=the seed it drew")
    d = fresh(np.random.default_rng(43))
    assert d.seed != a.seed, "generators seeded 42 and 43 gave the same model seed"


@pytest.mark.parametrize("bad", [-1, "seven", 1.5, True])
def test_bad_rng_is_rejected(bad):
    from simulation.scenario import ScenarioError

    with pytest.raises(ScenarioError) as err:
        StateBusinessModel(rng=bad, **TINY)
    assert "\n" not in str(err.value), f"message is not one line: {err.value!s}"


def test_mesa_batch_run():
    params = {
        "firms": 500,
        "residents_per_region": 200,
        "burn_in": 2,
        "steps": 3,
        "governance": ["partnership", "symbiotic"],
    }
    results = mesa.batch_run(
        StateBusinessModel, parameters=params, rng=[1, 2], max_steps=10, number_processes=1, display_progress=False
    )
    assert len(results) == 4, f"batch_run returned {len(results)} rows, expected 4 (2 governance x 2 seeds)"
    reporters = [
        name
        for name in StateBusinessModel(
            rng=0, firms=500, residents_per_region=200, burn_in=0, steps=1
        ).datacollector.model_reporters
    ]
    combos = set()
    for row in results:
        missing = [name for name in reporters if name not in row]
        assert not missing, f"batch_run row lacks model reporters {missing}"
        assert row["Step"] == 3, f"batch_run stopped at step {row['Step']}, expected 3 (the model's steps)"
        combos.add((row["governance"], row["rng"]))
        direct = StateBusinessModel(
            rng=row["rng"], firms=500, residents_per_region=200, burn_in=2, steps=3, governance=row["governance"]
        )
        direct.run()
        last = direct.datacollector.get_model_vars_dataframe().iloc[-1]
        for name in reporters:
            assert row[name] == float(last[name]), (
                f"batch_run {row['governance']} rng={row['rng']}: {name} = {row[name]!r}, "
                f"a direct run gives {last[name]!r}"
            )
    assert combos == {("partnership", 1), ("partnership", 2), ("symbiotic", 1), ("symbiotic", 2)}, (
        f"batch_run covered {sorted(combos)}"
    )


def test_run_model_matches_direct_run():
    out = run_model(steps=8, seed=4, **{k: v for k, v in TINY.items() if k != "steps"})
    model = fresh(4)
    assert out == model.outcomes(), "run_model(seed=4) and StateBusinessModel(rng=4).run().outcomes() differ"
    assert all(isinstance(v, float) for v in out.values()), "run_model returned non-float values"


def test_cli_summary_matches_run_model(small_scenario, tmp_path, capsys):
    from simulation.cli import main
    from simulation.scenario import load_scenario

    out_dir = tmp_path / "out"
    code = main(["run", str(small_scenario), "--seed", "13", "--out", str(out_dir), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, f"statebiz run exited {code}; stderr: {captured.err}"
    summary = json.loads((out_dir / "summary.json").read_text())
    params = load_scenario(small_scenario).params
    expected = run_model(seed=13, **params)
    assert set(summary) == set(expected), (
        f"summary.json keys differ from run_model's: {sorted(set(summary) ^ set(expected))}"
    )
    diff = {k: (summary[k], expected[k]) for k in expected if summary[k] != expected[k]}
    assert not diff, f"summary.json differs from run_model(seed=13) for the same scenario: {diff}"

    model = StateBusinessModel(rng=13, **params)
    model.run()
    assert_frame_equal(
        pd.read_parquet(out_dir / "regions.parquet"),
        model.region_table(),
        check_exact=True,
        obj="regions.parquet vs region_table()",
    )
    assert_frame_equal(
        pd.read_parquet(out_dir / "regimes.parquet"),
        model.regime_table(),
        check_exact=True,
        obj="regimes.parquet vs regime_table()",
    )
