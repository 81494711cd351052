"""The regression baseline holds: every table of the fixed-seed runs is unchanged, bit for bit.

A deliberate change of results regenerates the baseline (``make baseline``) in a commit
that names the change. See ``tests/regression.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import regression


@pytest.mark.parametrize("case", list(regression.CASES))
def test_results_match_the_baseline(case):
    tables = regression.compute(case)
    assert tables, "a case with no table checks nothing"
    problems = []
    for name, table in tables.items():
        problems += regression.differences(name, table, regression.stored(name))
    assert not problems, "results changed; if on purpose, run `make baseline` and name the change:\n" + "\n".join(
        problems
    )


def test_the_comparison_sees_one_ulp_and_a_missing_column():
    before = pd.DataFrame({"x": [0.1, 0.2], "n": [1, 2]})
    nudged = before.assign(x=[0.1, np.nextafter(0.2, 1.0)])
    assert regression.differences("t", before.copy(), before) == []
    assert regression.differences("t", nudged, before)
    assert regression.differences("t", before[["x"]], before)
    assert regression.differences("t", before.iloc[:1], before)
