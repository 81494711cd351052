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
    t = rc.observed_totals()
    assert len(t) == 5 + 12 + 3 + 3 + 3
    assert set(t.loc[t["table"].isin(["table5", "table6"]), "n"]) == {198}
    assert set(t.loc[t["table"].isin(["table7", "table8", "table9"]), "n"]) == {58}
    for name, n_rows in (("table5", 1), ("table6", 4), ("table7", 1), ("table8", 1), ("table9", 1)):
        assert t.loc[t["table"] == name, "observed"].sum() == pytest.approx(n_rows)
    assert ((t["low"] <= t["observed"]) & (t["observed"] <= t["high"])).all()


def test_tiny_search():
    design = rc.ReachDesign(points=2, refine=0, firms=600, burn_in=80)
    result, points = rc.search(design)
    assert len(result) == 26 and len(points) == 2
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
