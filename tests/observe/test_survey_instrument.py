"""The simulated survey instrument (simulation/observe/survey.py, `statebiz survey`): the paper's samples,
answers that follow agent state in the right direction, determinism, and the command line."""

from __future__ import annotations

import functools
import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.cli import main
from simulation.model import StateBusinessModel
from simulation.observe.survey import (
    TABLES,
    business_satisfaction_answers,
    corruption_answers,
    expected_tables,
    influence_answers,
    observed_tables,
    simulate_survey,
    table_totals,
)

DATA = Path(__file__).resolve().parents[2] / "simulation" / "data" / "turkestan_survey.toml"
RESIDENT_QUOTAS = [72, 45, 42, 39]
FIRM_QUOTAS = [20, 18, 11, 9]
#: answers per table; Table 6 has 4 utility rows, the others 4 cohort rows
N_ANSWERS = {"table5": 5, "table6": 3, "table7": 3, "table8": 3, "table9": 3}
TINY = {"firms": 1500, "residents_per_region": 1000, "burn_in": 6, "steps": 4}


@functools.cache
def surveyed(seed: int = 0, **params):
    """A finished small run and its survey (shared, read-only)."""
    model = StateBusinessModel(rng=seed, **(TINY | params))
    model.run()
    return model, simulate_survey(model)


# --------------------------------------------------------------------------- observed data


def test_observed_tables_equal_the_data_file():
    data = tomllib.loads(DATA.read_text(encoding="utf-8"))
    obs = observed_tables()
    assert list(obs) == list(TABLES)
    for name in TABLES:
        assert obs[name] == data[name]["counts"], f"{name}: observed_tables() differs from the data file"
    assert table_totals(obs) == {name: data[name]["column_totals"] for name in TABLES}


# --------------------------------------------------------------------------- samples and tables


@pytest.mark.runs_model
def test_samples_have_the_papers_size_and_cohorts():
    model, r = surveyed()
    res, f = model.residents, model.firms
    assert r.resampled == {"residents": 0, "firms": 0}
    assert len(r.residents) == 198 and len(set(r.residents.tolist())) == 198, "residents: 198 distinct respondents"
    assert np.bincount(res.cohort[r.residents], minlength=4).tolist() == RESIDENT_QUOTAS
    assert len(r.firms) == 58 and len(set(r.firms.tolist())) == 58, "entrepreneurs: 58 distinct firms"
    assert np.bincount(f.cohort[r.firms], minlength=4).tolist() == FIRM_QUOTAS
    assert f.alive[r.firms].all(), "only firms in business are surveyed"
    assert r.region == "turkestan"


@pytest.mark.runs_model
def test_every_table_adds_up_to_its_sample():
    _, r = surveyed()
    for name in TABLES:
        t = r.tables[name]
        assert t.shape == (4, N_ANSWERS[name]), f"{name}: shape {t.shape}"
        assert (t >= 0).all() and t.dtype.kind == "i"
    assert r.tables["table5"].sum(axis=1).tolist() == RESIDENT_QUOTAS
    assert r.tables["table6"].sum(axis=1).tolist() == [198] * 4, "each utility row holds all 198 residents"
    for name in ("table7", "table8", "table9"):
        assert r.tables[name].sum(axis=1).tolist() == FIRM_QUOTAS, f"{name}: rows are not the entrepreneurs' cohorts"


@pytest.mark.runs_model
def test_population_shares_are_distributions():
    _, r = surveyed()
    for name in TABLES:
        for key in ("total", "by_cohort"):
            s = np.asarray(r.population_shares[name][key])
            assert ((s >= 0) & (s <= 1)).all(), f"{name} {key}: share outside [0, 1]"
            assert np.allclose(s.sum(axis=-1), 1.0), f"{name} {key}: shares do not sum to 1"
    assert np.asarray(r.population_shares["table6"]["total"]).shape == (4, 3)
    assert np.asarray(r.population_shares["table6"]["by_cohort"]).shape == (4, 4, 3)
    expected = expected_tables(r.population_shares)
    for name in TABLES:
        assert np.isclose(expected[name].sum(), r.tables[name].sum()), (
            f"{name}: expected counts do not add up to the sample"
        )


@pytest.mark.runs_model
def test_table7_population_shares_match_the_models_business_satisfaction():
    """The survey's Table 7 rule is the model's own satisfaction output, applied to every firm."""
    model, r = surveyed()
    last = model.region_table().iloc[-1]
    total = r.population_shares["table7"]["total"]
    assert np.allclose(total, [last["business_satisfied"], last["business_partially"], last["business_dissatisfied"]])


@pytest.mark.runs_model
def test_residents_are_drawn_from_turkestan_or_all_regions():
    model = StateBusinessModel(
        rng=1, regions="almaty_region,turkestan", firms=1500, residents_per_region=400, burn_in=4, steps=1
    )
    model.run()
    r = simulate_survey(model)
    assert r.region == "turkestan"
    assert (model.residents.region[r.residents] == 1).all() and (model.firms.region[r.firms] == 1).all()
    assert r.population["residents"] == 400
    pooled = simulate_survey(model, region="all")
    assert pooled.region == "all" and pooled.population["residents"] == 800
    with pytest.raises(ValueError, match="atlantis"):
        simulate_survey(model, region="atlantis")


@pytest.mark.runs_model
def test_small_strata_are_topped_up_and_flagged():
    """With 198 residents the random cohorts rarely match 72/45/42/39: the quotas still hold."""
    model = StateBusinessModel(rng=2, firms=1000, residents_per_region=198, burn_in=4, steps=1)
    model.run()
    r = simulate_survey(model)
    assert np.bincount(model.residents.cohort[r.residents], minlength=4).tolist() == RESIDENT_QUOTAS
    short = sum(max(0, q - c) for q, c in zip(RESIDENT_QUOTAS, np.bincount(model.residents.cohort, minlength=4)))
    assert r.resampled["residents"] == short


# --------------------------------------------------------------------------- determinism


@pytest.mark.runs_model
def test_same_seed_same_survey():
    a = StateBusinessModel(rng=5, **TINY).run()
    b = StateBusinessModel(rng=5, **TINY).run()
    ra, rb = simulate_survey(a), simulate_survey(b)
    assert all((ra.tables[n] == rb.tables[n]).all() for n in TABLES)
    assert (ra.residents == rb.residents).all() and (ra.firms == rb.firms).all()
    again = simulate_survey(a)
    assert (again.firms == ra.firms).all(), "surveying the same state twice must draw the same sample"
    other = simulate_survey(a, rng=123)
    assert not (other.firms == ra.firms).all(), "an explicit rng draws another sample"


@pytest.mark.runs_model
def test_surveying_does_not_change_the_trajectory():
    a = StateBusinessModel(rng=7, **TINY)
    b = StateBusinessModel(rng=7, **TINY)
    a.step(), b.step()
    simulate_survey(a)
    simulate_survey(a, region="all")
    a.run(), b.run()
    pd.testing.assert_frame_equal(a.region_table(), b.region_table())


# --------------------------------------------------------------------------- answer rules


def test_table9_rule_on_hand_made_memories():
    # columns are firms; rows are the last 4 quarters
    dealings = np.array([[2, 2, 2, 1, 2, 2, 0], [2, 2, 2, 1, 2, 2, 0], [2, 2, 2, 1, 2, 2, 0], [2, 2, 2, 1, 2, 2, 0]])
    demands = np.array([[0, 1, 1, 1, 1, 2, 0], [0, 0, 1, 1, 1, 1, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]])
    # none | 1 of 8 | 3 quarters | 2 of 4 dealings: >1/2 | 2 of 8, 2 quarters | 3 of 8, 2 quarters | no dealings
    assert corruption_answers(demands, dealings).tolist() == [2, 1, 0, 1, 1, 1, 2]
    assert corruption_answers([2, 0, 0, 0], [3, 0, 0, 0]).tolist() == [0], "2 of 3 dealings is more than half"


def test_table9_more_demands_never_mean_fewer_cases():
    rng = np.random.default_rng(0)
    dealings = rng.poisson(2.0, size=(4, 5000))
    demands = rng.binomial(dealings, 0.2)
    before = corruption_answers(demands, dealings)
    q = rng.integers(0, 4, 5000)
    more = demands.copy()
    more[q, np.arange(5000)] += 1  # one more dealing, and it carried a demand
    more_dealings = dealings.copy()
    more_dealings[q, np.arange(5000)] += 1
    after = corruption_answers(more, more_dealings)
    assert (after <= before).all(), "an extra demand moved an answer away from 'constantly'"
    assert (after < before).any()


def test_table8_rule():
    z = np.zeros(6)
    support = np.array([0, 1, 1, 0, 0, 0.0])
    cooperation = np.array([0, 0, 0, 2, 0, 0.0])
    disputes = np.array([0, 0, 0, 0, 1, 0.0])
    capture = np.array([0, 0, 0, 0, 0, 1.0])
    experience = np.array([-0.5, 0.3, -0.1, 0.02, -0.2, -0.1])
    # demands only: no effect | support > burden: positively | support < burden: partially |
    # consultation, no burden: positively | dispute: partially | captor: positively
    assert influence_answers(support, cooperation, disputes, capture, experience).tolist() == [2, 0, 1, 0, 1, 0]
    assert influence_answers(z, z, z, z, z).tolist() == [2] * 6


def test_table7_rule_uses_the_models_cut_points():
    s = np.array([-1.0, -0.34, -1 / 3, 0.0, 1 / 3, 0.34, 1.0])
    assert business_satisfaction_answers(s).tolist() == [2, 2, 1, 1, 1, 0, 0]


@pytest.mark.runs_model
def test_more_corrupt_officials_mean_more_constant_corruption():
    # officials' moral costs set the corrupt share (its initial value is only an initial condition)
    honest_model, honest = surveyed(moral_cost=0.05)
    corrupt_model, corrupt = surveyed(moral_cost=0.002)
    shares = [float(m.world.akimats.corrupt_share.mean()) for m in (honest_model, corrupt_model)]
    assert shares[0] < shares[1], f"corrupt shares {shares}: the comparison says nothing"
    h, c = honest.population_shares["table9"]["total"], corrupt.population_shares["table9"]["total"]
    assert c[0] > h[0] and c[2] < h[2], f"Table 9 population shares: c={shares[0]:.2f} {h}, c={shares[1]:.2f} {c}"


@pytest.mark.runs_model
def test_more_support_means_more_satisfied_firms():
    _, none = surveyed(support_share=0.0)
    _, much = surveyed(support_share=0.3)
    n7, m7 = none.population_shares["table7"]["total"], much.population_shares["table7"]["total"]
    n8, m8 = none.population_shares["table8"]["total"], much.population_shares["table8"]["total"]
    assert m7[0] > n7[0], f"Table 7 satisfied: support 0 {n7}, support 0.3 {m7}"
    assert m8[0] > n8[0] and m8[2] < n8[2], f"Table 8: support 0 {n8}, support 0.3 {m8}"


# --------------------------------------------------------------------------- command line

SCENARIO = """\
name = "survey-tiny"
governance = "partnership"
[run]
steps = 4
burn_in = 4
[world]
regions = "turkestan"
firms = 1000
residents_per_region = 400
"""


def run_cli(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.runs_model
def test_cli_json(write_scenario, capsys):
    path = write_scenario(SCENARIO)
    code, out, err = run_cli(["survey", path, "--seed", "3", "--json", "--quarter", "2"], capsys)
    assert code == 0, err
    report = json.loads(out)
    for key in ("observed", "simulated", "population_shares", "seed", "scenario"):
        assert key in report, f"missing key {key}"
    assert report["seed"] == 3 and report["scenario"] == "survey-tiny" and report["reported_quarter"] == 2
    assert report["observed"] == observed_tables()
    for name in TABLES:
        for side in ("observed", "simulated"):
            t = np.asarray(report[side][name])
            assert t.shape == (4, N_ANSWERS[name]), f"{side} {name}: shape {t.shape}"
        assert set(report["population_shares"][name]) == {"total", "by_cohort"}
    model = StateBusinessModel(rng=3, **{k: v for k, v in tomllib.loads(SCENARIO)["world"].items()}, steps=4, burn_in=4)
    model.step(), model.step()
    assert report["simulated"] == simulate_survey(model).as_dict()["tables"], "CLI and library disagree"


@pytest.mark.runs_model
def test_cli_text(write_scenario, capsys):
    code, out, err = run_cli(["survey", write_scenario(SCENARIO), "--governance", "symbiotic"], capsys)
    assert code == 0, err
    for n in range(5, 10):
        assert f"Table {n}." in out
    assert "simulated" in out and "observed" in out and "symbiotic" in out


@pytest.mark.parametrize(
    "args, text",
    [
        (["--quarter", "5"], "--quarter"),
        (["--quarter", "-1"], "error:"),
        (["--seed", "x"], "error:"),
        (["--governance", "feudal"], "error:"),
    ],
    ids=["quarter-beyond-steps", "negative-quarter", "bad-seed", "bad-governance"],
)
@pytest.mark.runs_model
def test_cli_bad_options_exit_2(write_scenario, capsys, args, text):
    code, out, err = run_cli(["survey", write_scenario(SCENARIO), *args], capsys)
    assert code == 2 and text in err and "Traceback" not in err and out == ""


@pytest.mark.runs_model
def test_cli_bad_scenario_exit_2(write_scenario, tmp_path, capsys):
    code, out, err = run_cli(["survey", tmp_path / "missing.toml"], capsys)
    assert (
        code == 2
        and err.startswith("statebiz: error:")
        and "missing.toml" in err
        and len(err.strip().splitlines()) == 1
    )
    code, out, err = run_cli(["survey", write_scenario('name = "x"\n[levers]\naudit_rate = 2.0\n')], capsys)
    assert code == 2 and err.startswith("statebiz: error:") and "audit_rate" in err
