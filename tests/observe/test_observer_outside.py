"""The observer reads the world and never changes it: its parameters move only its labels.

Every simulated trajectory (all outcomes that are not the observer's regime labels, the
firms' state, the survey) is bit-identical whatever the observer's thresholds are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation.model import StateBusinessModel
from simulation.observe.outcomes import TABLE1
from simulation.parameters import PARAMETERS

SMALL = {"firms": 600, "residents_per_region": 200, "burn_in": 4, "steps": 6}
OBSERVER = [p.name for p in PARAMETERS if p.section == "observer"]


def _world_trajectory(model) -> dict[str, np.ndarray]:
    table = model.region_table()
    behaviour = table.drop(columns=[c for c in table.columns if c in TABLE1])
    f = model.world.firms
    out = {f"region.{c}": behaviour[c].to_numpy() for c in behaviour.columns if c not in ("region",)}
    for name in f.COLUMNS:
        out[f"firm.{name}"] = getattr(f, name).copy()
    out["akimat.power"] = model.world.akimats.power.copy()
    out["akimat.corrupt_share"] = model.world.akimats.corrupt_share.copy()
    return out


@pytest.mark.runs_model
@pytest.mark.parametrize("governance", ["partnership", "symbiotic"])
def test_the_observer_thresholds_change_no_trajectory(governance):
    base = StateBusinessModel(rng=5, governance=governance, **SMALL).run()
    moved = StateBusinessModel(
        rng=5, governance=governance, power_threshold=0.8, business_threshold=0.2, interaction_threshold=9.0, **SMALL
    ).run()
    a, b = _world_trajectory(base), _world_trajectory(moved)
    assert a.keys() == b.keys()
    differing = [k for k in a if not np.array_equal(a[k], b[k], equal_nan=True)]
    assert not differing, f"observer parameters changed the world: {differing}"
    # ... while the observer's own readings do change (the test would pass vacuously otherwise)
    labels = [c for c in base.region_table().columns if c.startswith("regime_")]
    assert not base.region_table()[labels].equals(moved.region_table()[labels])
    quadrants = pd.DataFrame([base.outcomes()])[list(TABLE1)], pd.DataFrame([moved.outcomes()])[list(TABLE1)]
    assert not quadrants[0].equals(quadrants[1])


def test_the_observer_section_is_what_the_test_moves():
    assert sorted(OBSERVER) == ["business_threshold", "interaction_threshold", "power_threshold"]
