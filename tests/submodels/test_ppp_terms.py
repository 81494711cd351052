"""A PPP contract's term of operation: fixed (``operation_spread`` 0, the default, which draws nothing) or spread
around ``operation_quarters`` (docs/ODD.md 7.5; docs/calibration/MEASURED.md 20)."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.model import StateBusinessModel
from simulation.submodels.ppp import operation_terms
from simulation.world import COMPLETED, OPERATION

pytestmark = pytest.mark.runs_model


def test_a_fixed_term_draws_nothing():
    rng = np.random.default_rng(3)
    before = rng.bit_generator.state
    assert operation_terms({"operation_quarters": 20, "operation_spread": 0.0}, 50, rng) == 20
    assert rng.bit_generator.state == before


def test_spread_terms_lie_around_the_fixed_one_and_follow_the_seed():
    p = {"operation_quarters": 20, "operation_spread": 0.5}
    terms = operation_terms(p, 20_000, np.random.default_rng(3))
    assert terms.min() == 10 and terms.max() == 30  # round(20 x (1 +- 0.5)), both ends reached
    assert abs(terms.mean() - 20.0) < 0.15  # the mean term is the fixed one (sd of the mean about 0.04)
    assert np.array_equal(terms, operation_terms(p, 20_000, np.random.default_rng(3)))
    assert operation_terms(p | {"operation_quarters": 1}, 100, np.random.default_rng(3)).min() == 1


@pytest.mark.parametrize("spread", [0.0, 0.5])
def test_every_contract_operates_its_own_term(spread):
    """A contract's recorded term is the one it ran: completed contracts started operating exactly their term
    before their last quarter; with a spread the terms differ, without it they are all operation_quarters."""
    m = StateBusinessModel(rng=4, regions="turkestan", firms=600, burn_in=0, steps=90, operation_spread=spread)
    m.run()
    book = m.world.projects
    seen = (book.phase == OPERATION) | (book.status == COMPLETED)
    terms = book.operation[seen]
    assert terms.size >= 10
    if spread == 0.0:
        assert set(terms.tolist()) == {20}
    else:
        assert terms.min() >= 10 and terms.max() <= 30 and len(set(terms.tolist())) >= 5
    running = book.phase == OPERATION
    assert np.all(book.left[running] <= book.operation[running])
