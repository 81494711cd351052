"""The app's models change no run (issue 26): the model page's AppModel, which runs the burn-in
itself and keeps its last quarters as history, and the comparison page's pair give the same
quarters as StateBusinessModel with the same parameters and seed. Needs no browser."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("solara")  # the app extra (controls imports nothing of it, but the app package is its)


def _same_rows(got: list[dict], expected: list[dict]) -> None:
    """The same recorded rows to the bit, NaN where the other has NaN (an outcome with nothing to
    count, such as the share of bribes initiated by officials in a quarter without a bribe, is NaN,
    and NaN != NaN in a plain comparison of dicts)."""
    import pandas as pd

    pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(expected), check_exact=True)


def test_the_stationary_start_is_the_models_own():
    from simulation.app import controls
    from simulation.model import StateBusinessModel

    case = next(iter(controls.cases().values()))
    model = controls.build(seed="3", audit_rate=0.9)
    reference = StateBusinessModel(rng=3, **(case.params() | {"governance": "partnership", "audit_rate": 0.9}))
    assert len(model.history) == controls.HISTORY and model.params["burn_in"] == reference.params["burn_in"]
    # the last history quarter is the end of the burn-in: what the model's recorder read there
    assert model.history[-1]["corruption_incidence"] == reference.recorder._national_now["corruption_incidence"]
    for _ in range(3):
        model.step()
        reference.step()
    _same_rows(model.recorder.national_rows, reference.recorder.national_rows)
    again = controls.build(seed="3", audit_rate=0.9)  # a copy of the cached state, not the stepped model
    assert again.reported_quarters == 0 and again is not model
    again.step()
    _same_rows(again.recorder.national_rows[:1], reference.recorder.national_rows[:1])


def test_the_pair_differences_are_the_models_differences():
    from simulation.app import pair
    from simulation.app.figures import national_series
    from simulation.model import StateBusinessModel

    p = pair.Pair.build({"seed": "4"}, 0.0, 1.0, n_seeds=1)
    assert [m.params["symbiosis"] for m in p.a + p.b] == [0.0, 1.0]
    p.step()
    p.step()
    d = p.differences()
    at_two = d[d["quarter"] == 2].iloc[0]
    ends = {}
    for s in (0.0, 1.0):
        m = StateBusinessModel(rng=4, **(p.a[0].case.params() | {"governance": "partnership", "symbiosis": s}))
        m.step()
        m.step()
        ends[s] = national_series(m).loc[2]
    expected = 100 * (ends[1.0]["corruption_incidence"] - ends[0.0]["corruption_incidence"])
    assert np.isclose(at_two["corruption_incidence"], expected, rtol=0, atol=1e-12)
    assert at_two["corruption_incidence"] != 0  # s changes the run (else this test would check nothing)
