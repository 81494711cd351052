"""The regression baseline holds: every table of the fixed-seed runs is unchanged, bit for bit on
the baseline's machine class and within a relative 1e-9 (counts exact) on another.

A deliberate change of results regenerates the baseline (``make baseline``) in a commit
that names the change. See ``tests/regression.py``; the header of the test run says which
comparison this machine gets.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import regression
from regression import Difference


@pytest.mark.parametrize("case", list(regression.CASES))
def test_results_match_the_baseline(case):
    problems, notes = regression.check_case(case)
    assert not problems, (
        f"{regression.mode_line()}\nresults changed; if on purpose, run `make baseline` and name the change:\n"
        + "\n".join(problems)
    )
    for note in notes:  # a named statistical fallback: shown with -rA, and in the CI log of a failure
        print(note)


def test_the_exact_comparison_sees_one_ulp_and_a_missing_column():
    before = pd.DataFrame({"x": [0.1, 0.2], "n": [1, 2]})
    nudged = before.assign(x=[0.1, np.nextafter(0.2, 1.0)])
    assert regression.differences("t", before.copy(), before) == []
    assert regression.differences("t", nudged, before)
    assert regression.differences("t", before[["x"]], before)
    assert regression.differences("t", before.iloc[:1], before)


def test_the_comparison_across_classes_passes_an_ulp_and_fails_a_change_of_a_millionth():
    before = pd.DataFrame({"quarter": [0, 1, 2], "x": [0.1, 0.2, 0.0], "jobs": [3.0, 4.0, 5.0], "n": [1, 2, 3]})
    same = dict(exact=False)
    ulp = before.assign(x=[0.1, np.nextafter(0.2, 1.0), 0.0])
    assert regression.differences("t", ulp, before, **same) == []  # the one loosening, and only across classes
    assert regression.differences("t", before.assign(x=[0.1, 0.2 * (1 + 1e-6), 0.0]), before, **same)
    assert regression.differences("t", before.assign(x=[0.1, 0.2, 1e-7]), before, **same)  # near zero
    assert regression.differences("t", before.assign(n=[1, 2, 4]), before, **same)  # integers exact
    assert regression.differences("t", before.assign(jobs=[3.0, 4.0, 5.0 + 1e-12]), before, **same)  # counts exact
    assert regression.differences("t", before[["quarter", "x"]], before, **same)
    assert regression.differences("t", before.iloc[:2], before, **same)


def test_the_comparison_in_effect_here_sees_a_real_change():
    """Whatever this machine's class: a relative change of 1e-6 of one stored value fails, and a
    one-ulp change fails exactly when this machine is of the baseline's class."""
    exact = regression.same_class()
    name = "turkestan_partnership_regions"
    before = regression.stored(name)
    col = next(  # a continuous float column (whole-number columns are counts, exact in every mode)
        c
        for c in before.columns
        if before[c].dtype.kind == "f"
        and (before[c].abs() > 1).all()
        and not regression._whole(before[c].to_numpy(dtype=float))
    )
    changed = before.copy()
    changed.loc[3, col] *= 1 + 1e-6
    assert regression.differences(name, changed, before, exact=exact)
    ulp = before.copy()
    ulp.loc[3, col] = np.nextafter(ulp.loc[3, col], np.inf)
    assert bool(regression.differences(name, ulp, before, exact=exact)) == exact


def test_a_discrete_event_after_a_tiny_difference_is_told_from_a_real_change():
    flip = [Difference("a count", True, 5.0), Difference("a float", False, 5.0)]
    real = [Difference("a count", True, 5.0), Difference("a float", False, 3.0)]
    assert regression.diverged_after_tiny_difference(flip)
    assert regression.diverged_after_tiny_difference([Difference("end-of-run label", True)])
    assert not regression.diverged_after_tiny_difference(real)
    assert not regression.diverged_after_tiny_difference([Difference("a float", False, math.inf)])
    assert not regression.diverged_after_tiny_difference([])


def test_the_statistical_fallback_sees_a_shift_of_the_mean_and_passes_the_same_sample():
    rng = np.random.default_rng(0)
    before = pd.DataFrame({"seed": range(8), "corruption": rng.normal(0.4, 0.02, 8), "fixed": np.full(8, 2.0)})
    assert regression.statistical_differences(before.copy(), before) == []
    assert regression.statistical_differences(before.assign(corruption=before.corruption + 0.05), before)
    assert regression.statistical_differences(before.assign(fixed=2.0 * (1 + 1e-6)), before)


def test_the_baseline_records_its_machine_class():
    stored = regression.baseline_machine()
    for key in ("machine_class", "simd", "python", "numpy", "numba", "blas", "portable"):
        assert key in stored, key
    assert stored["portable"], "make baseline writes the baseline in portable mode (an x86-64-v3 class)"
    for case in regression.MODEL_CASES:
        assert len(regression.stored(f"{case}_seeds")) == regression.SEED_COUNT
