"""The survey instrument on a hand-built world: every answer, share and count known in advance.

Beside ``test_survey_instrument.py`` (which surveys model runs), these survey a world built by
hand (``tests/worlds.py``) in which every respondent's answers are fixed by its cohort, so the
tables, the population shares, the expected tables and the text report are known exactly
whatever units the sampling draws. They also pin the sampling frame (region, firms in
business that have lived a quarter), the strata (quotas, without replacement, topped up when
a stratum is short) and the region argument. Fast: nothing is simulated.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from worlds import make_world

from simulation.observe import survey
from simulation.observe.survey import (
    business_satisfaction_answers,
    corruption_answers,
    expected_tables,
    firm_answers,
    format_report,
    influence_answers,
    simulate_survey,
    survey_report,
)

RESIDENT_QUOTAS = [72, 45, 42, 39]
FIRM_QUOTAS = [20, 18, 11, 9]
GOLDEN = Path(__file__).parents[1] / "golden"

#: Residents' latent satisfaction with the authorities per cohort -> Table 5 answers 1, 2, 4, 5
AUTHORITY = [-2.0, -1.0, 1.0, 2.0]
#: Latent satisfaction with heat, water, power, gas per cohort (Table 6: >= 0.5 satisfied, < -0.5 dissatisfied)
UTILITIES = [
    [1.0, 1.0, 1.0, 1.0],  # all satisfied
    [-1.0, 0.0, 1.0, 1.0],  # heat dissatisfied, water partially
    [0.0, 0.0, 0.0, 0.0],  # all partially
    [-1.0, -1.0, -1.0, -1.0],  # all dissatisfied
]
#: Firms' satisfaction S per owner cohort -> Table 7 answers 0, 1, 2, 1
SATISFACTION = [0.9, 0.0, -0.9, 0.2]


def hand_world(regions="turkestan,zhambyl", per_cohort=(5, 1), quarter=3):
    """Region 0: quota + ``per_cohort[0]`` residents and firms of each cohort, plus firms that
    are not in the frame (an entrant of this quarter, a firm that exited) and one informal
    firm per cohort; region 1: ``per_cohort[1]`` resident and firm of each cohort.

    Answers depend on the cohort only (see the constants above). Table 8: cohort 0 got
    support with a positive experience (positively), cohort 1 support with a negative one
    (partially), cohorts 2 and 3 nothing (does not affect). Table 9: cohort 0 a demand in
    its 1 dealing of one quarter (constantly: more than half), cohort 1 one demand in 4
    dealings (occasionally), cohorts 2 and 3 none."""
    firms, res_region, res_cohort = [], [], []
    for r, extra in enumerate(per_cohort):
        for c in range(4):
            n_res = (RESIDENT_QUOTAS[c] if r == 0 else 0) + extra
            res_region += [r] * n_res
            res_cohort += [c] * n_res
            n_firms = (FIRM_QUOTAS[c] if r == 0 else 0) + extra
            firms += [{"region": r, "cohort": c, "age": 5}] * n_firms
            if r == 0:
                firms += [{"region": 0, "cohort": c, "age": 5, "formal": False}]
    outside = [{"region": 0, "cohort": 0, "age": 0}, {"region": 0, "cohort": 1, "alive": False}]
    w = make_world(
        firms + outside,
        regions=regions,
        residents={"region": np.array(res_region), "cohort": np.array(res_cohort)},
        quarter=quarter,
    )
    f, res = w.firms, w.residents
    res.authority[:] = np.array(AUTHORITY)[res.cohort]
    res.utilities[:] = np.array(UTILITIES)[res.cohort]
    cohort = f.cohort.astype(int)
    f.satisfaction[:] = np.array(SATISFACTION)[cohort]
    slot = (quarter - 1) % 4
    f.memory("support")[slot] = np.where(cohort <= 1, 0.1, 0.0)
    f.memory("experience")[slot] = np.select([cohort == 0, cohort == 1], [0.05, -0.05], 0.0)
    f.memory("dealings")[slot] = np.select([cohort == 0, cohort == 1], [1.0, 4.0], 0.0)
    f.memory("demands")[slot] = np.where(cohort <= 1, 1.0, 0.0)
    return SimpleNamespace(
        world=w, firms=f, residents=res, regions=w.regions, seed=11, quarter=quarter, reported_quarters=quarter - 2
    )


#: per cohort: Table 5 counts row (answers 1..5 -> columns 0..4), Tables 7, 8, 9 answer
T5 = [0, 1, 3, 4]
T7 = [0, 1, 2, 1]
T8 = [0, 1, 2, 2]
T9 = [0, 1, 2, 2]


def one_hot(column, n, k):
    row = np.zeros(k, dtype=int)
    row[column] = n
    return row


def test_tables_shares_and_frame_of_a_hand_built_world():
    m = hand_world()
    r = simulate_survey(m)
    assert r.region == "turkestan" and r.quarter == 3 and r.reported_quarter == 1
    assert r.resampled == {"residents": 0, "firms": 0}
    # the samples: every respondent once, from the surveyed region, the quotas by cohort
    for rows, cohort, region, quotas in (
        (r.residents, m.residents.cohort, m.residents.region, RESIDENT_QUOTAS),
        (r.firms, m.firms.cohort, m.firms.region, FIRM_QUOTAS),
    ):
        assert len(np.unique(rows)) == len(rows) == sum(quotas)
        assert (region[rows] == 0).all()
        assert np.bincount(cohort[rows], minlength=4).tolist() == quotas
    f = m.firms
    assert f.alive[r.firms].all() and (f.age[r.firms] >= 1).all()  # no exited firm, no entrant of this quarter
    assert r.population == {
        "residents": sum(RESIDENT_QUOTAS) + 20,
        "residents_by_cohort": [q + 5 for q in RESIDENT_QUOTAS],
        "firms": sum(FIRM_QUOTAS) + 20 + 4,
        "firms_by_cohort": [q + 6 for q in FIRM_QUOTAS],
        "informal_firms": 4,
    }
    # the tables: each cohort's answers are fixed
    expected = {
        "table5": np.array([one_hot(T5[c], RESIDENT_QUOTAS[c], 5) for c in range(4)]),
        "table7": np.array([one_hot(T7[c], FIRM_QUOTAS[c], 3) for c in range(4)]),
        "table8": np.array([one_hot(T8[c], FIRM_QUOTAS[c], 3) for c in range(4)]),
        "table9": np.array([one_hot(T9[c], FIRM_QUOTAS[c], 3) for c in range(4)]),
    }
    answers6 = 2 - np.searchsorted([-0.5, 0.5], np.array(UTILITIES), side="right")  # cohort x utility
    expected["table6"] = np.array(
        [[sum(RESIDENT_QUOTAS[c] for c in range(4) if answers6[c, u] == a) for a in range(3)] for u in range(4)]
    )
    for name, table in expected.items():
        np.testing.assert_array_equal(r.tables[name], table, err_msg=name)
        assert r.tables[name].dtype == np.int64
    # population shares: by cohort each row is that cohort's answer; the total weighs cohorts by size
    sizes_r = np.array([q + 5 for q in RESIDENT_QUOTAS], dtype=float)
    sizes_f = np.array([q + 6 for q in FIRM_QUOTAS], dtype=float)
    for name, col, sizes, k in (("table5", T5, sizes_r, 5), ("table7", T7, sizes_f, 3), ("table9", T9, sizes_f, 3)):
        by_cohort = np.array([one_hot(col[c], 1, k) for c in range(4)], dtype=float)
        np.testing.assert_allclose(r.population_shares[name]["by_cohort"], by_cohort, err_msg=name)
        np.testing.assert_allclose(r.population_shares[name]["total"], sizes @ by_cohort / sizes.sum(), err_msg=name)
    six = r.population_shares["table6"]
    assert np.shape(six["by_cohort"]) == (4, 4, 3) and np.shape(six["total"]) == (4, 3)
    for c in range(4):
        for u in range(4):
            np.testing.assert_array_equal(six["by_cohort"][c, u], one_hot(answers6[c, u], 1, 3))
    np.testing.assert_allclose(
        six["total"], [[sizes_r[answers6[:, u] == a].sum() / sizes_r.sum() for a in range(3)] for u in range(4)]
    )
    # expected tables: quota x the cohort's population shares (Table 6: summed over cohorts)
    e = expected_tables(r.population_shares)
    for name in ("table5", "table7", "table8", "table9"):
        np.testing.assert_allclose(e[name], expected[name], err_msg=name)
    np.testing.assert_allclose(e["table6"], expected["table6"])


def test_the_frame_at_quarter_0_holds_every_firm_in_business():
    """Before the first quarter every firm is of age 0 or more and all are asked; after it,
    this quarter's entrants (age 0) are not."""
    m = hand_world(quarter=0)
    m.firms.age[:] = 0
    r = simulate_survey(m)
    assert r.population["firms"] == sum(FIRM_QUOTAS) + 20 + 4 + 1  # the entrant too; never the exited firm
    m = hand_world(quarter=1)
    m.firms.age[: m.firms.n - 2] = 1  # age 1: has lived one quarter
    assert simulate_survey(m).population["firms"] == sum(FIRM_QUOTAS) + 20 + 4


def test_short_strata_are_topped_up_and_a_region_is_chosen_by_id_or_index():
    m = hand_world()
    by_id = simulate_survey(m, region="zhambyl")
    by_index = simulate_survey(m, region=1)
    for r in (by_id, by_index):
        assert r.region == "zhambyl"
        assert (m.residents.region[r.residents] == 1).all() and (m.firms.region[r.firms] == 1).all()
        # one unit per cohort: taken once, and the rest of its quota drawn again from it
        assert r.resampled == {"residents": sum(RESIDENT_QUOTAS) - 4, "firms": sum(FIRM_QUOTAS) - 4}
        assert np.bincount(m.residents.cohort[r.residents], minlength=4).tolist() == RESIDENT_QUOTAS
        assert np.bincount(m.firms.cohort[r.firms], minlength=4).tolist() == FIRM_QUOTAS
        assert r.population["residents"] == 4 and r.population["firms"] == 4
    np.testing.assert_array_equal(by_id.firms, by_index.firms)
    first = simulate_survey(m, region=0)
    assert first.region == "turkestan" and (m.firms.region[first.firms] == 0).all()
    pooled = simulate_survey(m, region="all")
    assert pooled.region == "all" and pooled.population["residents"] == sum(RESIDENT_QUOTAS) + 24
    for bad in (2, -1, 5):
        with pytest.raises(ValueError, match=f"region index {bad} is out of range; the model has 2 regions"):
            simulate_survey(m, region=bad)
    with pytest.raises(ValueError, match="'atlantis' is not in the model; expected 'all' or one of turkestan, zhambyl"):
        simulate_survey(m, region="atlantis")


def test_turkestan_is_surveyed_wherever_it_is_in_the_model():
    m = hand_world(regions="zhambyl,turkestan", per_cohort=(1, 5))
    r = simulate_survey(m)
    assert r.region == "turkestan" and (m.firms.region[r.firms] == 1).all()


def test_without_turkestan_the_first_region_is_surveyed():
    m = hand_world(regions="zhambyl,kyzylorda", per_cohort=(5, 5))
    r = simulate_survey(m)
    assert r.region == "zhambyl" and (m.firms.region[r.firms] == 0).all()
    assert (m.residents.region[r.residents] == 0).all()


def test_table6_keeps_its_three_columns_when_an_answer_is_never_given():
    m = hand_world()
    m.residents.utilities[:] = 1.0  # everybody satisfied with every utility
    r = simulate_survey(m)
    np.testing.assert_array_equal(r.tables["table6"], [[198, 0, 0]] * 4)
    assert np.shape(r.population_shares["table6"]["by_cohort"]) == (4, 4, 3)


def test_a_cohort_with_nobody_to_ask_is_an_error():
    m = hand_world()
    m.firms.alive[m.firms.cohort == 3] = False
    with pytest.raises(ValueError, match=r"no unit of cohort 50\+ to survey \(quota 9\)"):
        simulate_survey(m)


def test_a_cohort_of_one_is_asked_its_whole_quota():
    m = hand_world()
    keep = np.flatnonzero((m.residents.cohort == 2) & (m.residents.region == 0))[0]
    m.residents.region[(m.residents.cohort == 2) & (np.arange(m.residents.n) != keep)] = 1
    r = simulate_survey(m)
    assert (r.residents[m.residents.cohort[r.residents] == 2] == keep).all()
    assert r.resampled["residents"] == RESIDENT_QUOTAS[2] - 1
    # a population share over a cohort of one is that one's answer
    np.testing.assert_array_equal(r.population_shares["table5"]["by_cohort"][2], one_hot(T5[2], 1, 5))


def test_the_sample_is_the_same_for_the_same_seed_and_quarter():
    m = hand_world()
    a, b = simulate_survey(m), simulate_survey(m)
    np.testing.assert_array_equal(a.firms, b.firms)
    c, d = simulate_survey(m, rng=5), simulate_survey(m, rng=5)
    np.testing.assert_array_equal(c.firms, d.firms)
    np.testing.assert_array_equal(c.residents, d.residents)
    assert not np.array_equal(a.firms, c.firms)
    m.quarter += 1
    assert not np.array_equal(simulate_survey(m).firms, a.firms), "another quarter, another sample"


def test_firm_answers_read_the_firms_own_state():
    m = hand_world()
    rows = np.array([0, FIRM_QUOTAS[0] + 5 + 1])  # a firm of cohort 0 and one of cohort 1
    assert m.firms.cohort[rows].tolist() == [0, 1]
    a = firm_answers(m, rows)
    assert a["table7"].tolist() == [0, 1] and a["table8"].tolist() == [0, 1] and a["table9"].tolist() == [0, 1]


# --------------------------------------------------------------------------- the answer rules at their edges


def test_table8_one_quarter_of_cooperation_engages_and_zero_experience_is_partial():
    one = np.ones(1)
    z = np.zeros(1)
    assert influence_answers(z, one, z, z, one).tolist() == [0]  # cooperated once, gained: positively
    assert influence_answers(one, z, z, z, z).tolist() == [1]  # support, no net gain: partially
    assert influence_answers(z, z, one, z, -one).tolist() == [1]


def test_table9_one_demand_in_one_dealing_is_constant_corruption():
    # 1 of 1 dealings: more than half; one quarter only
    assert corruption_answers([1, 0, 0, 0], [1, 0, 0, 0]).tolist() == [0]
    # the share is each firm's own: a firm with many dealings does not dilute another's
    demands = np.array([[1, 0], [0, 1], [0, 0], [0, 0]])
    dealings = np.array([[1, 30], [0, 30], [0, 0], [0, 0]])
    assert corruption_answers(demands, dealings).tolist() == [0, 1]


def test_table7_answers_of_integer_satisfaction():
    assert business_satisfaction_answers([1, 0, -1]).tolist() == [0, 1, 2]


# --------------------------------------------------------------------------- the report


def _reports():
    m = hand_world()
    meta = {"scenario": "hand-built", "governance": "partnership", "seed": 11}
    return survey_report(simulate_survey(m), **meta), survey_report(simulate_survey(m, region="zhambyl"), **meta)


def test_survey_report_holds_what_it_says():
    report, _ = _reports()
    assert list(report)[:3] == ["scenario", "governance", "seed"]
    assert report["quarter"] == 3 and report["reported_quarter"] == 1 and report["region"] == "turkestan"
    assert report["samples"] == {"residents": RESIDENT_QUOTAS, "entrepreneurs": FIRM_QUOTAS}
    assert report["observed"] == survey.observed_tables()
    assert report["simulated"]["table7"] == [one_hot(T7[c], FIRM_QUOTAS[c], 3).tolist() for c in range(4)]
    assert report["resampled"] == {"residents": 0, "firms": 0}


def test_format_report_is_the_documented_text():
    """The text report of two fixed surveys (a full region; a region topped up), line for line.

    The golden file was written by ``format_report`` and read by eye; regenerate it with
    ``python tests/observe/test_survey_hand_built.py`` after a deliberate change of the layout."""
    text = "\n\n=====\n\n".join(format_report(r) for r in _reports())
    assert text == (GOLDEN / "survey_report.txt").read_text(encoding="utf-8")


if __name__ == "__main__":
    GOLDEN.mkdir(exist_ok=True)
    (GOLDEN / "survey_report.txt").write_text(
        "\n\n=====\n\n".join(format_report(r) for r in _reports()), encoding="utf-8"
    )
