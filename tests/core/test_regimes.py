"""Table 1 regimes: the pattern at small scale, and the observer's classification rules."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cached

from simulation.observe.observer import (
    CAPTURE,
    CONFLICT,
    NON_INTERFERENCE,
    PARTNERSHIP,
    PATRONAGE,
    REGIMES,
    SUPPRESSION,
    classify,
)

# --- the Table 1 pattern ----------------------------------------------------------------------

TABLE1 = {"firms": 2000, "residents_per_region": 300, "burn_in": 8, "steps": 8, "regions": "turkestan"}
SEEDS = (1, 2, 3, 4)
GOVERNANCE = ["partnership", "symbiotic"]

#: The cells of Table 1: strong power meets weak business in suppression or patronage, strong
#: business in partnership or conflict; weak power meets strong business in capture and
#: weak business in non-interference.
CELLS = {
    "suppression+patronage": ("suppression", "patronage"),
    "partnership+conflict": ("partnership", "conflict"),
    "capture": ("capture",),
    "non_interference": ("non_interference",),
}


def mean_regimes(governance: str, power: float, business: float) -> dict[str, float]:
    out = {r: 0.0 for r in REGIMES}
    for s in SEEDS:
        o = run_cached(
            s, **(TABLE1 | {"governance": governance, "power_strength": power, "business_strength": business})
        ).outcomes()
        for r in REGIMES:
            out[r] += o[f"regime_{r}"] / len(SEEDS)
    return out


def cells(shares: dict[str, float]) -> dict[str, float]:
    return {name: sum(shares[r] for r in members) for name, members in CELLS.items()}


def fmt(d: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in d.items())


@pytest.mark.parametrize("governance", GOVERNANCE)
@pytest.mark.parametrize(
    "power, business, quadrant",
    [
        (0.8, 0.1, "strong_power_weak_business"),
        (0.2, 0.9, "weak_power_strong_business"),
        (0.2, 0.1, "weak_power_weak_business"),
        (0.8, 0.9, "strong_power_strong_business"),
    ],
)
def test_settings_land_in_the_intended_quadrant(governance, power, business, quadrant):
    """The premise of the Table 1 tests: most output sits in the intended quadrant."""
    weight = np.mean(
        [
            run_cached(
                s, **(TABLE1 | {"governance": governance, "power_strength": power, "business_strength": business})
            ).outcomes()[f"weight_{quadrant}"]
            for s in SEEDS
        ]
    )
    assert weight > 0.8, f"{governance}, P={power}, B={business}: only {weight:.2f} of output in {quadrant}"


@pytest.mark.parametrize("governance", GOVERNANCE)
def test_strong_power_weak_business_is_suppression_or_patronage(governance):
    c = cells(mean_regimes(governance, 0.8, 0.1))
    top = max(c, key=c.get)
    assert top == "suppression+patronage", (
        f"{governance}, P=0.8 B=0.1: largest Table 1 cell is {top}; cells: {fmt(c)} (mean of seeds {SEEDS})"
    )


@pytest.mark.parametrize("governance", GOVERNANCE)
def test_weak_power_strong_business_is_capture(governance):
    shares = mean_regimes(governance, 0.2, 0.9)
    top = max(shares, key=shares.get)
    assert top == "capture", (
        f"{governance}, P=0.2 B=0.9: largest regime is {top}; shares: {fmt(shares)} (mean of seeds {SEEDS})"
    )


@pytest.mark.parametrize("governance", GOVERNANCE)
def test_weak_power_weak_business_is_non_interference(governance):
    shares = mean_regimes(governance, 0.2, 0.1)
    top = max(shares, key=shares.get)
    assert top == "non_interference", (
        f"{governance}, P=0.2 B=0.1: largest regime is {top}; shares: {fmt(shares)} (mean of seeds {SEEDS})"
    )


@pytest.mark.parametrize("governance", GOVERNANCE)
def test_strong_power_strong_business_is_partnership_or_conflict(governance):
    c = cells(mean_regimes(governance, 0.8, 0.9))
    top = max(c, key=c.get)
    assert top == "partnership+conflict", (
        f"{governance}, P=0.8 B=0.9: largest Table 1 cell is {top}; cells: {fmt(c)} (mean of seeds {SEEDS})"
    )


# --- observer.classify on hand-made memories ----------------------------------------------------

THRESHOLD = 4.0
FIELDS = (
    "dealings",
    "support_events",
    "cooperation",
    "disputes",
    "extracted",
    "support",
    "refused",
    "reported",
    "paid",
    "demands",
    "rule_bending",
    "output",
)


def memory(**values) -> dict[str, np.ndarray]:
    """A one-firm memory (4-quarter sums); unnamed fields are 0, output 10."""
    mem = {name: np.zeros(1) for name in FIELDS}
    mem["output"] = np.array([10.0])
    for name, v in values.items():
        assert name in FIELDS, f"test bug: unknown memory field {name}"
        mem[name] = np.array([float(v)])
    return mem


def label(threshold=THRESHOLD, **values) -> str:
    out = classify(memory(**values), threshold)
    assert out.shape == (1,), f"classify returned shape {out.shape} for one firm"
    return REGIMES[int(out[0])]


CASES = [
    # (expected, memory, why)
    ("non_interference", {}, "no interaction at all"),
    ("non_interference", {"dealings": 3}, "fewer interactions than the threshold"),
    ("non_interference", {"dealings": 1, "disputes": 2}, "a dispute but fewer interactions than the threshold"),
    (
        "non_interference",
        {"dealings": 3, "paid": 3, "demands": 3, "extracted": 5},
        "bribes paid, but fewer interactions than the threshold",
    ),
    ("capture", {"rule_bending": 1}, "rule bending with no other interaction (capture comes first)"),
    (
        "capture",
        {"rule_bending": 1, "dealings": 10, "disputes": 2, "paid": 4, "extracted": 5},
        "rule bending beats conflict and suppression",
    ),
    ("conflict", {"dealings": 4, "disputes": 1}, "a PPP dispute"),
    (
        "conflict",
        {"dealings": 6, "disputes": 1, "paid": 3, "extracted": 5},
        "a dispute beats suppression (conflict comes before suppression)",
    ),
    (
        "conflict",
        {"dealings": 6, "cooperation": 2, "disputes": 1, "support": 5, "support_events": 1},
        "a dispute beats partnership",
    ),
    (
        "conflict",
        {"dealings": 6, "demands": 3, "refused": 2, "paid": 1, "extracted": 0.1},
        "demands resisted more than paid at a cost of exactly 1% of output",
    ),
    (
        "conflict",
        {"dealings": 6, "demands": 2, "reported": 2, "extracted": 0.5},
        "demands reported, not paid, at a cost",
    ),
    (
        "suppression",
        {"dealings": 6, "demands": 3, "refused": 2, "paid": 1, "extracted": 0.09},
        "resisted more than paid but at a cost under 1% of output: not conflict; paid and lost more than received",
    ),
    ("suppression", {"dealings": 5, "demands": 2, "paid": 2, "extracted": 1}, "demands met, lost more than received"),
    (
        "suppression",
        {"dealings": 5, "demands": 2, "paid": 2, "extracted": 1, "support": 0.5, "support_events": 1},
        "lost more than received beats patronage",
    ),
    ("suppression", {"dealings": 8}, "frequent controls (twice the threshold), nothing received, no cooperation"),
    ("non_interference", {"dealings": 7}, "routine dealings below twice the threshold: otherwise non-interference"),
    ("partnership", {"dealings": 8, "cooperation": 1}, "frequent controls but cooperation: partnership"),
    (
        "patronage",
        {"dealings": 8, "support": 0.1, "support_events": 1},
        "frequent controls but support received: patronage, not suppression",
    ),
    ("partnership", {"dealings": 2, "cooperation": 2}, "cooperation, nothing lost"),
    (
        "partnership",
        {"dealings": 2, "cooperation": 2, "support": 1, "support_events": 1},
        "cooperation and support: partnership beats patronage",
    ),
    (
        "partnership",
        {"dealings": 3, "cooperation": 2, "paid": 1, "demands": 1, "extracted": 1, "support": 1, "support_events": 1},
        "paid but received at least what was lost (equal): partnership",
    ),
    (
        "patronage",
        {"dealings": 4, "paid": 1, "demands": 1, "extracted": 1, "support": 1.5, "support_events": 1},
        "paid a bribe but received more: patronage",
    ),
    ("patronage", {"dealings": 3, "support": 2, "support_events": 1}, "support received without cooperation"),
    (
        "suppression",
        {"dealings": 3, "cooperation": 1, "paid": 1, "demands": 1, "extracted": 2},
        "cooperation, but paid and lost more than received: suppression beats partnership",
    ),
]


@pytest.mark.parametrize("expected, values, why", CASES, ids=[c[2][:60] for c in CASES])
def test_classify_rule(expected, values, why):
    got = label(**values)
    assert got == expected, f"{why}: memory {values} classified as {got}, expected {expected}"


def test_classify_support_events_count_as_interactions():
    assert label(support=1, support_events=4) == "patronage", (
        "four quarters of support reach the interaction threshold and read as patronage"
    )
    assert label(support=1, support_events=3) == "non_interference", (
        "three quarters of support (below the threshold of 4) read as non-interference"
    )


def test_classify_threshold_is_a_parameter():
    values = {"dealings": 2, "paid": 2, "demands": 2, "extracted": 1}
    assert label(threshold=4.0, **values) == "non_interference", "2 interactions < threshold 4: non-interference"
    assert label(threshold=2.0, **values) == "suppression", "2 interactions >= threshold 2: suppression"


def test_classify_is_vectorised_and_rowwise():
    rows = [
        ("capture", {"rule_bending": 1}),
        ("conflict", {"dealings": 4, "disputes": 1}),
        ("suppression", {"dealings": 8}),
        ("partnership", {"dealings": 4, "cooperation": 1}),
        ("patronage", {"dealings": 4, "support": 1, "support_events": 1}),
        ("non_interference", {}),
    ]
    mem = {name: np.zeros(len(rows)) for name in FIELDS}
    mem["output"][:] = 10.0
    for i, (_, values) in enumerate(rows):
        for name, v in values.items():
            mem[name][i] = v
    got = classify(mem, THRESHOLD)
    assert got.shape == (len(rows),), f"classify returned shape {got.shape} for {len(rows)} firms"
    expected = [CAPTURE, CONFLICT, SUPPRESSION, PARTNERSHIP, PATRONAGE, NON_INTERFERENCE]
    assert got.tolist() == expected, f"labels {[REGIMES[i] for i in got]}, expected {[r for r, _ in rows]}"
    assert set(np.unique(got)) <= set(range(len(REGIMES))), f"labels outside 0..5: {np.unique(got)}"
