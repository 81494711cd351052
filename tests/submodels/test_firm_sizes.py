"""Pattern 2 of issue 22: dominant players (docs/ODD.md 1, 7.7 "Firm sizes" and exit).

Small worlds of all 20 regions at the parameters' defaults, seeds 1-3, 20,000 firms (about 1,000
a region, 50-3,000 by population), a burn-in of 150 quarters (the default) and a window of 40
quarters in which every firm's employment and age at the start of a quarter and its exit during
it are read (the test only reads the world). Checked:

- the upper tail of employment at the end is Pareto with an exponent in Axtell's (2001) range:
  the Hill estimate on the country's top k = 100 firms, averaged over the three seeds, is in
  [0.8, 1.5] (Zipf 1.06 in the US, about 1-1.5 in most economies), and no seed's is above 2;
- a region has a dominant player: in every seed, the largest firm has at least 100 times the
  capital of the median firm in the median region; and the regions of at least 500 firms that lack
  such a firm are no more than a Pareto of Axtell's exponent allows. Capital, as the issue measured
  dominance (finding 2: "about 10x the median's capital"), not employment: employment is the owner
  plus staff, 1 + jobs_per_capital K^0.94, and with Kazakhstan's scale of staff (0.20% of
  enterprises above 100 employees, simulation/data/enterprises.toml) the median firm is its owner
  and one or two staff, so a ratio of jobs measures the owner's floor, not dominance. Capital's
  tail exponent is zeta x jobs_elasticity = 1.06 x 0.94 = 1.00 (output's, Zipf's law for receipts).
  The ratio grows with the number of firms as n^(1/1.00), so at the 1:1 scale every region has one;
  a small world's region of n firms has none with probability (1 - p)^n, p = P(K > 100 x median) =
  100^-1.00 / 2 = 0.0050 (the Pareto factor has median 1: half the firms are in the tail's range):
  0.08 at 500 firms, 0.007 at 1,000. The count of such regions over the three seeds must not
  exceed the 99th percentile of a Poisson with mean sum over the regions of (1 - p)^n. (Before
  jobs_per_capital came from the official counts, at 3.0, the check read employment, whose median
  firm had 4 jobs; a first version required every region of 500 firms to have one, which tested a
  tail fatter than the literature's, commit 62e7caa.) A lognormal tail fails it: every region
  below 100;
- the exit hazard falls with size and age: pooled over the window and the seeds, the quarterly
  exit rate falls from each employment quartile to the next and from each age class (under 2,
  2-5, 5-10, 10 years and over) to the next, and the smallest quartile's (youngest class's) is
  at least 1.5 times the largest's (oldest's).

Power. Measured (seeds 1-3, with jobs_per_capital 0.47 from the official counts): Hill exponents
1.11, 1.32, 1.20 at k = 100 (mean 1.21; standard error of one about zeta / sqrt(k) = 0.11, of the
mean 0.07: the bounds are 4 standard errors away); largest/median capital 495-639 in the median
region; the share of firms above 100 times the median capital 0.0063-0.0077 (0.0050 for the
Pareto); 2 regions of 500 firms or more lacking a 100x firm (Poisson mean 1.05, bound 4); exit
rates 0.033, 0.027, 0.023, 0.017 by quartile and 0.040, 0.031, 0.024, 0.017 by age class, each on
400,000 firm-quarters or more (binomial standard errors about 0.0003, differences of 0.004 or
more). Shares of firms above 100 and 250 jobs: 0.18-0.23% and 0.044-0.065%, against Kazakhstan's
0.20% and 0.076% (the first sets jobs_per_capital; the second is a check, low by about a third).
(With jobs_per_capital 3.0, after commits ee1cefd and e213565: Hill 1.05, 1.04, 1.14; largest/median
employment 371-587; exit rates 0.036 to 0.015 by quartile.) The model before the mechanism
(lognormal sizes, one exit hazard for all) fails every check by far at the same sizes and seeds:
Hill exponents 2.7-5.3, largest/median 3-29 in every region, exit rates 0.025 in every class
(tools/firm_sizes.py --firms 20000 at the merge base df95adb).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson

from simulation import formulas
from simulation.model import StateBusinessModel

pytestmark = pytest.mark.runs_model

SEEDS = (1, 2, 3)
BURN_IN, WINDOW = 150, 40
WORLD = {"regions": "all", "firms": 20000, "residents_per_region": 200, "burn_in": 0, "steps": BURN_IN + WINDOW}
AGE_EDGES_QUARTERS = (8, 20, 40)  # 2, 5 and 10 years
AXTELL_ZETA = 1.06  # Pareto exponent of US firms by employment (Axtell 2001)
CAPITAL_ZETA = AXTELL_ZETA * 0.94  # capital's (and output's): zeta x jobs_elasticity (Axtell's receipts, 0.994)


def hill(x: np.ndarray, k: int) -> float:
    """Hill estimate of the Pareto tail exponent from the k largest of x."""
    top = np.sort(np.asarray(x, dtype=float))[::-1][: k + 1]
    return 1.0 / float(np.mean(np.log(top[:k] / top[k])))


def one_run(seed: int) -> dict:
    model = StateBusinessModel(rng=seed, **WORLD)
    f, p = model.world.firms, model.world.params
    panel = []
    for q in range(BURN_IN + WINDOW):
        if q >= BURN_IN:
            alive = np.flatnonzero(f.alive)
            before = (f.uid[alive].copy(), formulas.jobs(f.capital[alive], p), f.age[alive].copy())
        model._quarter(observe=False)
        if q >= BURN_IN:
            panel.append((before[1], before[2], ~np.isin(before[0], f.uid[f.alive])))
    alive = f.alive
    jobs, capital, region = formulas.jobs(f.capital[alive], p), f.capital[alive], f.region[alive]
    regions = [r for r in range(model.world.n_regions) if (region == r).any()]
    return {
        "jobs": jobs,
        "tail_share": float(np.mean(capital > 100.0 * np.median(capital))),
        "ratio": np.array([capital[region == r].max() / np.median(capital[region == r]) for r in regions]),
        "firms": np.array([(region == r).sum() for r in regions]),
        "panel": [np.concatenate(c) for c in zip(*panel, strict=True)],
    }


@pytest.fixture(scope="module")
def runs() -> list[dict]:
    return [one_run(seed) for seed in SEEDS]


def test_upper_tail_of_employment_is_pareto_in_axtells_range(runs):
    hills = [hill(r["jobs"], 100) for r in runs]
    assert 0.8 <= np.mean(hills) <= 1.5, hills
    assert max(hills) < 2.0, hills


def test_a_region_has_a_dominant_player(runs):
    p = 100.0**-CAPITAL_ZETA / 2.0  # P(K > 100 x median) for a Pareto of capital's exponent
    lacking, expected = 0, 0.0
    for r in runs:
        assert np.median(r["ratio"]) >= 100, r["ratio"]
        populous = r["firms"] >= 500
        assert populous.sum() >= 4, r["firms"]
        lacking += int((r["ratio"][populous] < 100).sum())
        expected += float(np.sum((1.0 - p) ** r["firms"][populous]))
    bound = poisson.ppf(0.99, expected)
    assert lacking <= bound, (
        f"{lacking} regions of 500+ firms without a 100x firm; Pareto {CAPITAL_ZETA:.2f}: {expected:.2f}; "
        f"share of firms above 100x the median: {[round(r['tail_share'], 5) for r in runs]}"
    )


def test_exit_hazard_falls_with_size_and_age(runs):
    jobs, age, exited = (np.concatenate(c) for c in zip(*(r["panel"] for r in runs), strict=True))
    quartile = np.searchsorted(np.quantile(jobs, [0.25, 0.5, 0.75]), jobs, side="right")
    by_size = np.array([exited[quartile == c].mean() for c in range(4)])
    age_class = np.searchsorted(np.array(AGE_EDGES_QUARTERS), age, side="right")
    by_age = np.array([exited[age_class == c].mean() for c in range(4)])
    assert (np.diff(by_size) < 0).all() and by_size[0] >= 1.5 * by_size[3], by_size
    assert (np.diff(by_age) < 0).all() and by_age[0] >= 1.5 * by_age[3], by_age
    assert min(np.bincount(quartile).min(), np.bincount(age_class).min()) > 50_000


STOCK_WORLD = {"regions": "all", "firms": 5000, "residents_per_region": 200, "burn_in": 0, "steps": 80}


def _top_firms_age(model, k: int = 50) -> float:
    """Mean age (years) of the k firms of largest capital in business."""
    f = model.world.firms
    alive = np.flatnonzero(f.alive)
    top = alive[np.argsort(f.capital[alive])[::-1][:k]]
    return float(f.age[top].mean()) / 4.0


@pytest.mark.parametrize("stationary", [True, False])
def test_drawn_with_their_sizes_the_large_firms_start_as_old_as_they_stay(stationary):
    """stationary_sizes (formulas.stationary_stock): the 50 largest firms' mean age at the start is
    what it is 80 quarters later (ratio within 0.85-1.15 over seeds 1-3; measured 0.95-1.13, about
    45 years). With ages drawn apart from sizes (the default) the large firms start young (about 20
    years) and age for hundreds of quarters: the same ratio is above 1.2 (measured 1.25-1.43), so
    the check can fail. The draw follows the seed."""
    ratios, start = [], []
    for seed in (1, 2, 3):
        model = StateBusinessModel(rng=seed, stationary_sizes=stationary, **STOCK_WORLD)
        start.append(_top_firms_age(model))
        for _ in range(STOCK_WORLD["steps"]):
            model._quarter(observe=False)
        ratios.append(_top_firms_age(model) / start[-1])
    if stationary:
        assert 0.85 < np.mean(ratios) < 1.15, ratios
        assert min(start) > 30.0, start
        again = StateBusinessModel(rng=1, stationary_sizes=True, **STOCK_WORLD)
        first = StateBusinessModel(rng=1, stationary_sizes=True, **STOCK_WORLD)
        np.testing.assert_array_equal(again.world.firms.capital, first.world.firms.capital)
        np.testing.assert_array_equal(again.world.firms.age, first.world.firms.age)
    else:
        assert np.mean(ratios) > 1.2, ratios
        assert max(start) < 30.0, start
