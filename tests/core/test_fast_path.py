"""The fused fast path is equivalent, in distribution, to the path it replaced (issue 24, item 3).

For Turkestan (1,500 firms, 24 quarters of burn-in and 8 reported) under both governance presets, 16 seeds
of the fast path give each statistic that the report and the calibration read (every end-of-run outcome
of ``model.outcomes()`` and every survey statistic of ``calibration.likelihood.statistics_from_shares``);
their means are compared with the means over 16 seeds of the previous path (``tests/fast_path.py``, the
reference ``tests/golden/fast_path_reference.parquet`` written at the commit its ``source`` names).

Margins, per statistic k (sd0, sd1: its between-seed standard deviations in the reference and the fast
path, sd = sqrt((sd0^2 + sd1^2) / 2) pooled; se: the standard error of the difference of the two means,
sqrt((sd0^2 + sd1^2) / 16)):
- equivalence: |mean1 - mean0| <= MARGIN_SD x sd + ABS_FLOOR (1.5 seed-to-seed standard deviations: a
  shift the report's intervals over seeds would barely show; pooled, because a rare event, an akim
  replaced in 1 run of 32, may be absent from one sample; the floor lets a statistic that is constant
  over seeds in both differ by nothing but rounding);
- no difference: |mean1 - mean0| <= Z x se (4 standard errors).
Power and false alarms, with normal statistics: if nothing changed, |d| / sd has sd sqrt(2/16) = 0.35, so
the equivalence bound is 4.2 of its standard errors (two-sided 2.4e-5) and the difference bound 4 (6e-5):
over the ~280 statistics of the two cases (correlated, so fewer independent ones) a false alarm has a
chance of about 2.5% at most. A shift of 2 sd in one statistic fails with probability ~0.92 (it exceeds
1.5 sd with probability P(Z > 0.5 / 0.35) and 4 se = 1.41 sd with P(Z > 1.66)). A deliberate change of a
mechanism fails it: the chance of a bribe demand in a dealing 20% lower (dealings.demand_pass, ``0.8 *
c.damping``, not committed) failed 29 statistics, among them corruption incidence (-5.2 se in partnership,
0.556 against 0.634), bribe demands per firm (-5.4 se), business trust (+7.4 se) and Table 9's rows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

MARGIN_SD = 1.5
ABS_FLOOR = 1e-9
Z = 4.0


def compare(now: pd.DataFrame, before: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(problems, one line per statistic) of the fast path's sample ``now`` against the reference ``before``
    (rows: seeds; columns: statistics)."""
    problems, lines = [], []
    for col in before.columns:
        x, y = now[col].to_numpy(float), before[col].to_numpy(float)
        if np.isnan(y).all() and np.isnan(x).all():
            continue
        m1, m0 = np.nanmean(x), np.nanmean(y)
        s1, s0 = np.nanstd(x, ddof=1), np.nanstd(y, ddof=1)
        se = np.sqrt((s0**2 + s1**2) / len(y))
        d = m1 - m0
        sd = np.sqrt((s0**2 + s1**2) / 2.0)  # pooled: a rare event may be absent from one sample
        margin = MARGIN_SD * sd + ABS_FLOOR * max(1.0, abs(m0))
        text = f"  {col}: {m1:.6g} vs {m0:.6g} (d = {d:+.3g}; {d / sd if sd > 0 else 0:+.2f} sd, "
        text += f"{d / se if se > 0 else 0:+.2f} se; margin {margin:.3g})"
        bad = abs(d) > margin or (se > 0 and abs(d) > Z * se) or np.isnan(d)
        lines.append(("FAIL" if bad else "ok  ") + text)
        if bad:
            problems.append(text.strip())
    return problems, lines


@pytest.mark.parametrize("case", ["turkestan_partnership", "turkestan_symbiotic"])
def test_the_fast_path_is_equivalent_to_the_path_it_replaced(case):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import fast_path

    problems, _ = compare(fast_path.sample(case), fast_path.reference(case))
    assert not problems, f"{case}: the fast path's statistics differ from the reference's:\n" + "\n".join(problems)


def test_the_comparison_fails_a_shift_of_two_standard_deviations_and_passes_the_same_sample():
    g = np.random.default_rng(0)
    before = pd.DataFrame({"a": g.normal(0.5, 0.02, 16), "b": g.normal(3.0, 1.0, 16), "c": np.zeros(16)})
    assert compare(before.copy(), before)[0] == []
    shifted = before.assign(a=before["a"] + 0.04)
    assert [p.split(":")[0] for p in compare(shifted, before)[0]] == ["a"]
    assert compare(before.assign(c=1e-6), before)[0]  # a constant statistic may not move
