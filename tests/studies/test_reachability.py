"""statebiz reachability: the 90% sampling intervals, the observed totals, a tiny search, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulation.cli import main
from simulation.studies import reachability as rc


def test_interval_known_cases():
    # no case: [0, 1 - 0.05^(1/n)]; every case: [0.05^(1/n), 1]
    assert rc.interval(0, 58) == (0.0, pytest.approx(1 - 0.05 ** (1 / 58)))
    assert rc.interval(58, 58) == (pytest.approx(0.05 ** (1 / 58)), 1.0)
    # 1 of 2: P(X >= 1) = 1 - (1 - p)^2 = 0.05 and P(X <= 1) = 1 - p^2 = 0.05
    lo, hi = rc.interval(1, 2)
    assert lo == pytest.approx(1 - np.sqrt(0.95)) and hi == pytest.approx(np.sqrt(0.95))
    # the defining property at a table's size: the count is at the 5% edge at each bound
    c, n = 21, 198
    lo, hi = rc.interval(c, n)
    assert stats.binom.sf(c - 1, n, lo) == pytest.approx(0.05, rel=1e-6)
    assert stats.binom.cdf(c, n, hi) == pytest.approx(0.05, rel=1e-6)
    assert lo < c / n < hi
    with pytest.raises(ValueError):
        rc.interval(59, 58)


def test_observed_totals():
    t = rc.observed_totals(cohorts=False)
    assert len(t) == 5 + 12 + 3 + 3 + 3 and set(t["kind"]) == {"total"}
    assert set(t.loc[t["table"].isin(["table5", "table6"]), "n"]) == {198}
    assert set(t.loc[t["table"].isin(["table7", "table8", "table9"]), "n"]) == {58}
    for name, n_rows in (("table5", 1), ("table6", 4), ("table7", 1), ("table8", 1), ("table9", 1)):
        assert t.loc[t["table"] == name, "observed"].sum() == pytest.approx(n_rows)
    assert ((t["low"] <= t["observed"]) & (t["observed"] <= t["high"])).all()


def test_observed_cohort_cells_cover_every_cohort_cell_of_tables_5_to_9():
    """Pattern 7: every observed cohort cell (Tables 5, 7, 8, 9; Table 6 has no age rows) is checked,
    each against the interval of its count out of its cohort's quota."""
    t = rc.observed_totals()
    cells = t[t["kind"] == "cohort"]
    assert len(t) == 26 + 56 and len(cells) == 4 * 5 + 3 * (4 * 3)
    assert (t["kind"].iloc[:26] == "total").all()
    obs = rc.observed_tables()
    for name, quotas in (("table5", [72, 45, 42, 39]), ("table7", [20, 18, 11, 9]), ("table9", [20, 18, 11, 9])):
        rows = cells[cells["table"] == name]
        counts = np.asarray(obs[name])
        assert rows["count"].tolist() == counts.ravel().tolist()
        assert rows["n"].tolist() == np.repeat(quotas, counts.shape[1]).tolist()
    # 30-39 dissatisfied with support (Table 7): 10 of 18
    r = cells[(cells["table"] == "table7") & (cells["answer"] == "30-39 / Dissatisfied")].iloc[0]
    assert (r["count"], r["n"]) == (10, 18) and (r["low"], r["high"]) == rc.interval(10, 18)
    assert ((t["low"] <= t["observed"]) & (t["observed"] <= t["high"])).all()


def test_tiny_search():
    design = rc.ReachDesign(points=2, refine=0, firms=600, burn_in=80)
    result, points = rc.search(design)
    assert len(result) == 26 + 56 and len(points) == 2
    assert set(points.columns) >= {"totals_within", "cohort_cells_within"}
    # a cohort cell's share is the population share within the cohort, between 0 and 1
    cohort = result[result["kind"] == "cohort"]
    assert ((cohort["best"] >= 0) & (cohort["best"] <= 1)).all()
    inside = (result["best"] >= result["low"]) & (result["best"] <= result["high"])
    assert (inside == result["within"]).all()
    assert ((result["distance"] == 0) == result["within"]).all()
    for name in rc.FREE:
        spec = rc.BY_NAME[name]
        assert ((points[name] >= spec.low) & (points[name] <= spec.high)).all()


@pytest.mark.parametrize(
    "argv",
    [["reachability", "--points", "1"], ["reachability", "--points", "x"], ["reachability", "--seed", "1"]],
)
def test_bad_input_is_one_line_exit_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err
    assert not (tmp_path / "results").exists()


def test_joint_reach_counts_cells_reached_together_by_hand():
    """Two points, Table 5's five totals: point 0 reaches cells 0-2, point 1 reaches all five."""
    import pandas as pd

    t = rc.observed_totals()
    result = t.drop(columns="index").copy()
    cols = [f"{a}:{b}" for a, b in zip(result["table"], result["answer"])]
    far = np.where(result["low"] > 0.5, 0.0, 1.0)  # outside every interval
    mid = (result["low"] + result["high"]).to_numpy() / 2  # inside every interval
    p0, p1 = far.copy(), far.copy()
    p0[:3], p1[:5] = mid[:3], mid[:5]
    points = pd.DataFrame([p0, p1], columns=cols)
    joint = rc.joint_reach(result, points).set_index("cells")
    assert joint.loc["table5 total", "n"] == 5
    assert joint.loc["table5 total", "most_by_one_point"] == 5
    assert joint.loc["table5 total", "points_reaching_all"] == 1
    assert joint.loc["table6 total", "most_by_one_point"] == 0
    assert joint.loc["table5+table6 total", "n"] == 17 and joint.loc["table5+table6 total", "most_by_one_point"] == 5
    assert joint.loc["table7 cohort", "n"] == 12
