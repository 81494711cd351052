"""Pattern 3 of issue 22: resource rents raise corruption (Ades & Di Tella 1999; Leite & Weidmann
1999; Knutsen et al. 2017), as an outcome of the officials' choices.

The mechanism (``submodels/dealings.py``, "Rents"; ``formulas.rent_segment``) makes the dealings of
the extractive and large-project segment unavoidable and raises their stakes; the hand-built unit
tests are in ``test_submodels.py``. Here the whole model has to show the pattern in its stationary
state:

1. **Across regions.** The national scenario (20 akimats, their official data; ``power_spread`` 0,
   so that regions differ only by their data), 6,000 firms, burn-in 60 quarters (officials decide
   anew at the rotation rate 1/8 a quarter, so the corrupt share is at its rest point within 1%
   after 40; ``test_effects.py``), 4 reported quarters, seeds 1-8. For corruption incidence and
   for the corrupt share of officials (the officials' choice, not only the segment's unavoidable
   dealings): the 95% t-interval of the per-seed Spearman correlations between the regions'
   mining shares of GRP and their values lies above 0, and the correlation of the seed means is
   positive with a one-sided p below 0.05. (The correlation does not approach 1 with more seeds:
   regions also differ in size, income and transfers, which move corruption too.)
2. **Within a region.** Turkestan, 2,000 firms, the same burn-in: raising ``rent_stake`` from 1 to 4
   raises corruption incidence and the corrupt share; the 95% t-interval of the mean paired
   difference over seeds 1-48 (the same seeds on both sides) lies above 0.

Power, measured on 40 other seeds (101-140) in five disjoint sets of 8, at these sizes and the
defaults (``/tmp``-only script, numbers here): test 1 passed in 5 of 5 sets (seed-mean rho
0.50-0.72 for incidence, 0.44-0.51 for the corrupt share, one-sided p at most 0.027; per-seed rho
0.14-0.77, the lower ends of the t-intervals 0.28-0.47); test 2 passed in 5 of 5 (mean paired
differences +0.05 to +0.07 in incidence, +0.09 in the corrupt share; the lower ends of the
intervals at least +0.026). With the Pareto tail of firm sizes (dominant players, ODD 7.7) a small
world's Turkestan has one dominant firm whose share of output varies widely from seed to seed, and
the paired differences spread far more: on seeds 101-140, +0.054 in incidence (sd 0.116) and
+0.069 in the corrupt share (sd 0.110), intervals [+0.017, +0.091] and [+0.033, +0.104]. Test 2
therefore runs 48 seeds: the t-statistic of the mean difference is then about 3.2 for incidence
and 4.3 for the corrupt share, a power of about 0.9 and 0.99 against the interval's bound 2.01.
That estimate was optimistic: on the test's own seeds 1-48 the mean paired difference in incidence
was +0.012, interval [-0.014, +0.039], with heavy tails (-0.31 and -0.21 in two seeds, where a
dominant firm with an honest home official tipped Turkestan to the low-corruption state), and
test 2 failed. After the tail's corrections and the officials' gain on the output that reaches
corrupt officials (docs/ODD.md 7.3 and 7.7; commits ee1cefd, e213565, 9af10f0) and the kickback
detection (8f53e1d) it passes: seeds 1-48, +0.036 in incidence (sd 0.046, interval [+0.023,
+0.050]) and +0.048 in the corrupt share (sd 0.056, [+0.032, +0.064]). Test 1 passes with little
room: seed-mean rho +0.38 for incidence (one-sided p 0.050) and +0.40 for the corrupt share
(0.040), per-seed intervals [0.15, 0.39] and [0.16, 0.44] (ODD 9, limitation 16).
On the model before the mechanism (``bribe x (1 + rent_stake x mining
share)`` on every firm of a mining region, commit 0f485d5) both fail, run as here: incidence's rho
-0.60, per-seed interval [-0.57, -0.40]; Turkestan's paired interval [-0.010, +0.049].
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SCENARIO_DIR
from scipy.stats import spearmanr
from scipy.stats import t as student_t

from simulation.model import StateBusinessModel
from simulation.scenario import load_scenario

SEEDS = tuple(range(1, 9))
#: test 2 (paired, within Turkestan): enough seeds for the power stated above
TURKESTAN_SEEDS = tuple(range(1, 49))
NATIONAL = {"firms": 6000, "residents_per_region": 200, "power_spread": 0.0, "burn_in": 60, "steps": 4}
TURKESTAN = {"firms": 2000, "residents_per_region": 200, "burn_in": 60, "steps": 4}


def _scenario(name: str, sizes: dict, **params) -> dict:
    return dict(load_scenario(SCENARIO_DIR / name).explicit or {}) | sizes | params


def regional(seeds=SEEDS, **params) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The 20 regions' mining shares, and per outcome an array (seed, region) of the means over the
    reported quarters of the national scenario."""
    values = {"corruption_incidence": [], "corrupt_share": []}
    for seed in seeds:
        model = StateBusinessModel(rng=seed, **_scenario("kazakhstan.toml", NATIONAL, **params))
        model.run()
        means = model.region_table().groupby("region", sort=False)[list(values)].mean()
        ids = [r.id for r in model.world.regions]
        for key in values:
            values[key].append(means.loc[ids, key].to_numpy())
        mining = np.array([r.mining_share for r in model.world.regions])
    return mining, {k: np.array(v) for k, v in values.items()}


def turkestan(seeds=SEEDS, **params) -> dict[str, np.ndarray]:
    """Per outcome, per seed: the end-of-run value in Turkestan."""
    runs = []
    for seed in seeds:
        model = StateBusinessModel(rng=seed, **_scenario("turkestan.toml", TURKESTAN, **params))
        model.run()
        runs.append(model.outcomes())
    return {k: np.array([o[k] for o in runs]) for k in ("corruption_incidence", "corrupt_share")}


def t_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    half = student_t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


@pytest.mark.runs_model
def test_corruption_rises_with_the_mining_share_across_regions():
    mining, values = regional()
    assert np.ptp(mining) > 0.4  # Atyrau's 0.44 against the cities' 0
    for key, per_seed in values.items():
        assert 0.05 < per_seed.mean() < 0.95, f"{key} degenerate: {per_seed.mean():.3f}"
        rho, p = spearmanr(mining, per_seed.mean(axis=0))
        rhos = np.array([spearmanr(mining, row)[0] for row in per_seed])
        lo, hi = t_interval(rhos)
        said = f"{key}: rho {rho:.3f} (p {p:.4f}), per seed {np.round(rhos, 3).tolist()}, interval [{lo:.3f}, {hi:.3f}]"
        assert rho > 0 and p / 2 < 0.05, said
        assert lo > 0, said


@pytest.mark.runs_model
def test_a_larger_rent_stake_raises_corruption_in_a_mining_region():
    low, high = turkestan(TURKESTAN_SEEDS, rent_stake=1.0), turkestan(TURKESTAN_SEEDS, rent_stake=4.0)
    for key in low:
        diff = high[key] - low[key]
        lo, hi = t_interval(diff)
        assert lo > 0, f"{key}: paired differences {np.round(diff, 4).tolist()}, interval [{lo:.4f}, {hi:.4f}]"
