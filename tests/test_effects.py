"""Directions of the policy levers and of the governance model, in the stationary state.

Each comparison puts one lever far apart, everything else equal, and runs the same seeds on
both sides: the model's named random streams keep the two runs of a seed paired, so each
seed gives a paired difference, and each test asserts the sign of the mean paired
difference strictly (an effect of exactly zero fails). Each test also checks that the
quantity compared is not degenerate, so that a direction cannot pass merely because
nothing happens.

The runs burn in 40 quarters: officials decide anew at the rotation rate (1/8 a quarter),
so by then the corrupt share is within 1% of its rest point, and the directions are those
of the stationary state, not of the adjustment from the initial corrupt share (the default
burn-in, 80 quarters, also lets firm sizes settle; 40 keeps this file fast). Each
direction is checked at the end of the run and over all reported quarters.

The levers (Table 4) are common to both governance models, which differ only in the
symbiosis index s (0 in the partnership model, 1 in the symbiotic one): the lever tests
run at both ends, and the governance test compares s = 0 with s = 1 at equal levers.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SMALL, run_cached

SEEDS = (1, 2, 3)
GOVERNANCE = ["partnership", "symbiotic"]
EFFECTS = SMALL | {"burn_in": 40}


def levels(key: str, seeds=SEEDS, base=EFFECTS, **params) -> dict[str, np.ndarray]:
    """Per seed: the end of the run (mean of the last 4 quarters) and the mean over all
    reported quarters (single region)."""
    runs = [run_cached(s, **(base | params)) for s in seeds]
    return {
        "end of run": np.array([m.outcomes()[key] for m in runs]),
        "whole run": np.array([m.region_table()[key].mean() for m in runs]),
    }


def paired(key: str, low: dict, high: dict, seeds=SEEDS, base=EFFECTS):
    """(levels at ``low``, levels at ``high``, per-seed differences high - low)."""
    a, b = levels(key, seeds, base, **low), levels(key, seeds, base, **high)
    return a, b, {when: b[when] - a[when] for when in a}


def _says(diff: np.ndarray) -> str:
    return f"paired differences by seed {np.round(diff, 4).tolist()} (seeds {SEEDS}), mean {diff.mean():.4f}"


@pytest.mark.parametrize("governance", GOVERNANCE)
def test_audits_lower_bribery(governance):
    for key in ("corruption_incidence", "bribe_demands_per_firm", "corrupt_share"):
        low, _, diff = paired(
            key, {"governance": governance, "audit_rate": 0.01}, {"governance": governance, "audit_rate": 0.3}
        )
        assert low["end of run"].mean() > 0.05, (
            f"{governance}: almost no bribery at audit_rate 0.01 ({key} {low['end of run']})"
            "; the comparison says nothing"
        )
        for when, d in diff.items():
            assert d.mean() < 0, f"{governance}: {key} ({when}) did not fall from audit_rate 0.01 to 0.3: {_says(d)}"


@pytest.mark.parametrize("governance", GOVERNANCE)
def test_transparency_lowers_corruption(governance):
    for key in ("corruption_incidence", "bribe_demands_per_firm", "corrupt_share"):
        opaque, _, diff = paired(
            key, {"governance": governance, "transparency": 0.0}, {"governance": governance, "transparency": 1.0}
        )
        assert opaque["end of run"].mean() > 0.05, (
            f"{governance}: almost no corruption at transparency 0 ({key} {opaque['end of run']})"
        )
        for when, d in diff.items():
            assert d.mean() < 0, f"{governance}: {key} ({when}) did not fall from transparency 0 to 1: {_says(d)}"


@pytest.mark.parametrize("governance", GOVERNANCE)
def test_support_raises_business_satisfaction(governance):
    none, much = {"governance": governance, "support_share": 0.0}, {"governance": governance, "support_share": 0.3}
    low, _, diff = paired("business_satisfied", none, much)
    assert low["end of run"].mean() < 0.9, f"{governance}: nearly every firm satisfied without support: no room to rise"
    for when, d in diff.items():
        assert d.mean() > 0, f"{governance}: business satisfaction ({when}) did not rise with support: {_says(d)}"
    low, _, diff = paired("business_dissatisfied", none, much)
    if governance == "partnership":
        assert low["end of run"].mean() > 0.02, (
            f"{governance}: almost no dissatisfied firm without support: no room to fall"
        )
        for when, d in diff.items():
            assert d.mean() < 0, (
                f"{governance}: business dissatisfaction ({when}) did not fall with support: {_says(d)}"
            )
    else:
        # Under symbiosis support polarises: it goes to the akim's network (favouritism), and
        # its kickbacks raise the officials' gain, so corruption rises for the firms outside
        # the network and more of them are dissatisfied, while the satisfied share rises too.
        for when, d in diff.items():
            assert d.mean() > 0, (
                f"{governance}: business dissatisfaction ({when}) did not rise with support: {_says(d)}"
            )


#: PPP activity: contracts are few in one region (tenders go where utilities lag, and a
#: project needs a strong bidder), and a dispute lasts several quarters, so the share of
#: contract-quarters in dispute is noisy; all 20 regions, small projects (more of them per
#: fund) and 40 reported quarters give thousands of live contract-quarters a run.
PPP = EFFECTS | {"regions": "all", "firms": 4000, "residents_per_region": 200, "ppp_share": 0.3, "ppp_size": 10.0}
PPP |= {"steps": 40}


def ppp_disputes(seeds=SEEDS, **params) -> tuple[np.ndarray, np.ndarray]:
    """Per seed: (disputed contract-quarters, live contract-quarters) summed over the reported quarters."""
    disputed, live = [], []
    for s in seeds:
        t = run_cached(s, **(PPP | params)).region_table()
        disputed.append(t["ppp_disputed"].sum())
        live.append((t["ppp_performing"] + t["ppp_renegotiated"] + t["ppp_disputed"]).sum())
    return np.array(disputed, dtype=float), np.array(live, dtype=float)


@pytest.mark.parametrize("governance", GOVERNANCE)
def test_legal_quality_lowers_the_share_of_ppp_contracts_in_dispute(governance):
    """The share of live PPP contracts in dispute (contract-quarters), weak vs strong courts.

    A rate rather than a count: better courts also keep more contracts alive (fewer end in
    termination), so a count of disputes grows with the number of live contracts. Better
    courts lower the akimat's reneging (new disputes) and speed up renegotiation, but they
    also make termination rarer, so disputes that would have ended the contract go on: the
    share falls by a fifth to two fifths, which is why the sample is large.
    """
    d_weak, live_weak = ppp_disputes(governance=governance, legal_quality=0.1)
    d_strong, live_strong = ppp_disputes(governance=governance, legal_quality=0.9)
    assert min(live_weak.min(), live_strong.min()) >= 500, (
        f"{governance}: too little PPP activity to compare (live contract-quarters {live_weak} at "
        f"legal_quality 0.1, {live_strong} at 0.9)"
    )
    assert d_weak.min() > 0, f"{governance}: no PPP disputes in some run at legal_quality 0.1: {d_weak}"
    weak, strong = d_weak / live_weak, d_strong / live_strong
    assert (strong - weak).mean() < 0, (
        f"{governance}: share of live PPP contracts in dispute did not fall with legal quality: "
        f"{np.round(weak, 3).tolist()} at 0.1 -> {np.round(strong, 3).tolist()} at 0.9 (seeds {SEEDS})"
    )


def test_symbiotic_model_channels_support_to_its_network_and_concentrates_output():
    """s = 1 against s = 0 at equal levers.

    Support goes to the akim's network: insiders and connected firms get a larger share. And
    output is more concentrated at s = 1 (HHI higher): the rents the akim takes flow to the
    network in proportion to its members' capital, so the larger clients and insiders grow
    most, and the outsider bias holds back the firms outside it. (While the rents were shared
    equally among the network's members, HHI came out lower at s = 1; the proportional share
    is the rule now, ODD 7.4.)
    """
    seeds = (1, 2, 3, 4)
    for m in (run_cached(s, **(EFFECTS | {"governance": "symbiotic"})) for s in seeds):
        f, p = m.world.firms, m.params
        held = np.bincount(f.region[f.alive & f.insider], minlength=m.world.n_regions)
        assert (held == round(p["insiders"])).all(), f"symbiotic run lost its dominant insiders: {held} alive"
    low, _, ins = paired("insider_support_share", {"governance": "partnership"}, {"governance": "symbiotic"}, seeds)
    assert low["end of run"].mean() > 0, "no support at all to connected firms in the partnership model"
    for when, d in ins.items():
        assert d.mean() > 0, f"insiders' share of support ({when}) not higher under the symbiotic model: {_says(d)}"
    _, _, hhi = paired("hhi", {"governance": "partnership"}, {"governance": "symbiotic"}, seeds)
    for when, d in hhi.items():
        assert d.mean() > 0, f"output concentration (HHI, {when}) not higher under the symbiotic model: {_says(d)}"
