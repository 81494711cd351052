"""The studies' base (simulation/studies/base.py): runs through the evaluator, a journal that lets
the same study resume after a kill, and rows that are the same to the bit either way. No model runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulation.studies.base import Runs, StudyRunError, journal_path, read_journal, task_key

CALLS: list[int] = []
FAIL_AT: list[int] = []  # seeds whose run raises (a kill or an error midway)


def noisy(params: dict, seed: int, steps: int, outcomes: tuple) -> dict:
    """A stand-in for a model run: floats that need all 17 digits, numpy types, NaN, a list."""
    CALLS.append(seed)
    if seed in FAIL_AT:
        raise RuntimeError("planted failure")
    rng = np.random.default_rng(seed + params.get("shift", 0))
    return {
        "x": rng.random(),
        "y": np.float64(1 / 3) * seed,
        "n": np.int64(seed),
        "gap": float("nan"),
        "series": rng.random(3),
    }


def tasks(params: dict, n: int = 6) -> list:
    return [(i, noisy, params, 100 + i, 4, ()) for i in range(n)]


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], float) and math.isnan(a[k]):
            assert math.isnan(b[k])
        else:
            assert a[k] == b[k] and type(a[k]) is type(b[k]), k  # the same bits, plain types


def test_a_study_killed_midway_resumes_from_its_journal_with_the_same_rows(tmp_path):
    journal = journal_path(tmp_path / "study")
    assert journal.name == ".study.runs.jsonl" and journal.parent == tmp_path
    with Runs() as runs:  # no journal: the uninterrupted reference
        whole = runs.run(tasks({}))
    CALLS.clear()
    FAIL_AT[:] = [103]
    try:
        with pytest.raises(StudyRunError, match="planted failure"), Runs(journal=journal) as runs:
            runs.run(tasks({}))  # the fourth run fails: the three before it are kept
    finally:
        FAIL_AT.clear()
    assert CALLS == [100, 101, 102, 103]
    with journal.open("a", encoding="utf-8") as fh:
        fh.write('{"key": "cut by a kill", "row": {"x": 0.')  # a line cut short is left out
    assert len(read_journal(journal)) == 3
    CALLS.clear()
    seen: list[int] = []
    with Runs(journal=journal, progress=seen.append) as runs:
        again = runs.run(tasks({}))
    assert CALLS == [103, 104, 105] and (runs.resumed, runs.ran) == (3, 3) and sum(seen) == 6
    for a, b in zip(whole, again):
        _same(a, b)
    CALLS.clear()
    with Runs(journal=journal) as runs:
        runs.run(tasks({"shift": 1}))  # other parameters: other keys, nothing reused
    assert (runs.resumed, runs.ran) == (0, 6)
    runs.finish()
    assert not journal.exists()


def test_the_key_changes_with_what_decides_a_run():
    base = (0, noisy, {"a": 1.0}, 7, 4, ())
    key = task_key(base, "v1")
    assert key == task_key((99, *base[1:]), "v1")  # the task's id is no part of it
    for other in (
        (0, noisy, {"a": 1.0000001}, 7, 4, ()),
        (0, noisy, {"a": 1.0}, 8, 4, ()),
        (0, noisy, {"a": 1.0}, 7, 5, ()),
        (0, tasks, {"a": 1.0}, 7, 4, ()),
    ):
        assert task_key(other, "v1") != key
    assert task_key(base, "v2") != key  # another model version
