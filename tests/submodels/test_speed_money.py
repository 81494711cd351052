"""Patterns 4 and 5 of issue 22: firms offer bribes (speed money), and symbiosis speeds approvals
through connections and money, never through a factor on s (docs/ODD.md 7.2, "Speed money").

The mechanism is in ``submodels/dealings.py`` (``speed_money``); its hand-built unit tests are in
``test_submodels.py``. Here the whole model: small worlds of all 20 regions at the parameters'
defaults, 2,000 firms, 60 quarters from the start, counted over the last 30 (the corrupt share
settles within about 40 quarters at rotation 1/8; ``test_rents.py``), paired seeds 1-6 (the same
seeds on both sides of every comparison). Every count is pooled over a run's 30 quarters: about
50,000 dealings and 20,000-30,000 bribes a run.

Pattern 4, who initiates:
- the share of bribes initiated by officials (demanded bribes paid / all bribes paid) lies inside
  (0.1, 0.9) in every run, at s = 0 and s = 1 (measured with dominant players and the transparency
  factor on offers, commit ae96f91: 0.512-0.527 at s = 0 and 0.624-0.639 at s = 1; before them
  0.447-0.455 and 0.544-0.555;
  the published Kazakhstan figure, Center 'Strategy' 2019, is 49% by officials and 39% by
  entrepreneurs, i.e. 56% of the cases with an initiator named; simulation/data/validation.toml;
  nothing is fitted to it);
- the value of time (``delay_cost``, 0.05 against 0.3, s = 0): firms offer more speed money per
  dealing without a demand in every seed. The officials' share does NOT fall with it: the same value
  of time makes firms pay demanded bribes rather than wait, and raises what officials gain and so the
  corrupt share. The test holds the model to that measured direction in every seed.

Pattern 5, symbiosis and speed (the delay waited per dealing, in shares of the full delay):
- at s = 0 connected firms (L >= connected_from or a client) wait as long as the others: the mean
  paired difference is within 0.05 (measured 0.484-0.511 against 0.478-0.503; differences -0.011
  to +0.018);
- at s = 1 connected firms wait less than the others in every seed, by more than 0.05 (measured
  0.084-0.108, sd 0.009: 0.420-0.445 against 0.525-0.535), and less than connected firms at s = 0.
  The bound was 0.1 while the gap was 0.16-0.19 (before dominant players and before open data
  lowered the taking of offers, ae96f91, which cut the accepted offers by a quarter at the default
  transparency 0.5); it is a magnitude measured on the model, not the paper's claim, which is the
  direction, and 0.05 keeps it at more than 3 seed sd below the smallest gap;
- through money: at s = 1 connected firms expedite a larger share of their dealings by bribes
  (demanded bribes paid plus offers accepted, per dealing) than the others, in every seed
  (0.48-0.52 against 0.15-0.16; at s = 0 0.24-0.33 against 0.28-0.34): clients pay their patrons, and a
  connection that shields a firm from demands leaves it to offer;
- hardly in the aggregate outcomes: the mean delay over all dealings is 0.478-0.493 at s = 1
  against 0.479-0.503 at s = 0 (paired differences -0.010 to -0.002), because outsiders meet more
  demands under symbiosis (the outsider bias) and wait longer (0.53 against 0.49), and PPP
  construction is about as long (4.92-5.16 quarters at s = 1, 4.94-5.13 at s = 0; at s = 1,
  4.86-5.15 for connected partners against 5.06-5.33 for the others, 133-180 against 30-53
  contracts a run). (Figures of seeds 1-6 after commit ae96f91; before dominant players the
  mean delay was 0.4227 against 0.4228.) An earlier version of the mechanism made the mean delay fall
  (-0.015) only because a connection let offers escape audits (a factor s L' on the risk), which
  turned the audit lever's direction under symbiosis; that channel is gone (docs/ODD.md 7.2 and
  limitation 17). Construction is asserted to stay between its floor (4) and floor + the full
  delay (6).

Power: each per-seed inequality above holds with a margin of more than 5 times the seed-to-seed
standard deviation of its difference but one: the s = 1 connected gap, 0.084 at its smallest against
a bound of 0.05 and an sd of 0.009 (3.8 sd), so a new draw moves it across its bound with a chance of
about 1 in 10,000 a seed. The model
before the mechanism fails pattern 4 by construction (every bribe demanded: the share is 1), and
a model in which symbiosis gave connected firms speed by a factor on s without money would fail
the bought-speed comparison only if connected firms bought less; the unit tests in
test_submodels.py pin that no delay depends on s without a connection.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import simulation.model as model_module
import simulation.submodels.ppp as ppp
from simulation.model import StateBusinessModel

pytestmark = pytest.mark.runs_model

SEEDS = (1, 2, 3, 4, 5, 6)
QUARTERS = 60
COUNTED_FROM = 30
WORLD = {"regions": "all", "firms": 2000, "residents_per_region": 200, "burn_in": 0, "steps": QUARTERS}


def _tallying(schedule, tally: dict):
    """The schedule with its dealings step followed by a read of the quarter's log (nothing changed)."""
    original = next(st for st in schedule if st.name == "dealings").run

    def dealings_step(world, log, rng):
        original(world, log, rng)
        if world.quarter < COUNTED_FROM:
            return
        f, p = world.firms, world.params
        connected = f.alive & ((f.connection >= p["connected_from"]) | f.client)
        ev = log.firm
        for key, mask in (("con", connected), ("unc", f.alive & ~connected)):
            for name in ("delay", "dealings", "paid", "offer_paid"):
                tally[f"{name}_{key}"] = tally.get(f"{name}_{key}", 0.0) + float(ev[name][mask].sum())
        tally["offered"] = tally.get("offered", 0.0) + float(ev["offered"].sum())
        tally["undemanded"] = tally.get("undemanded", 0.0) + float((ev["dealings"] - ev["demands"]).sum())

    return tuple(dataclasses.replace(st, run=dealings_step) if st.name == "dealings" else st for st in schedule)


def _partner_reader(model, partners: list[bool]):
    """``ppp.partner_wait`` that also notes whether each new contract's partner is connected (read only)."""
    original = ppp.partner_wait

    def partner_wait(log, firm: int, region_wait: float) -> float:
        f, p = model.world.firms, model.params
        partners.append(bool(f.connection[firm] >= p["connected_from"] or f.client[firm]))
        return original(log, firm, region_wait)

    return partner_wait


def run(seed: int, symbiosis: float, **params) -> dict[str, float]:
    """One run's pooled counts over the counted quarters, and its mean PPP construction time, over
    all contracts signed in them and by whether the partner was connected when it signed."""
    tally: dict[str, float] = {}
    partners: list[bool] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(model_module, "SCHEDULE", _tallying(model_module.SCHEDULE, tally))
        model = StateBusinessModel(rng=seed, symbiosis=symbiosis, **(WORLD | params))
        mp.setattr(ppp, "partner_wait", _partner_reader(model, partners))
        while model.running:
            model.step()
    t = tally
    paid = t["paid_con"] + t["paid_unc"]
    offers = t["offer_paid_con"] + t["offer_paid_unc"]
    book = model.world.projects
    n = len(book)
    counted = book.started[:n] >= COUNTED_FROM
    connected = np.array(partners, dtype=bool)
    duration = book.duration[:n].astype(float)
    return {
        "officials": paid / (paid + offers),
        "offer_rate": t["offered"] / t["undemanded"],
        "delay_con": t["delay_con"] / t["dealings_con"],
        "delay_unc": t["delay_unc"] / t["dealings_unc"],
        "delay": (t["delay_con"] + t["delay_unc"]) / (t["dealings_con"] + t["dealings_unc"]),
        "bought_con": (t["paid_con"] + t["offer_paid_con"]) / t["dealings_con"],
        "bought_unc": (t["paid_unc"] + t["offer_paid_unc"]) / t["dealings_unc"],
        "construction": float(duration[counted].mean()),
        "construction_con": float(duration[counted & connected].mean()) if (counted & connected).any() else np.nan,
        "construction_unc": float(duration[counted & ~connected].mean()) if (counted & ~connected).any() else np.nan,
        "contracts_con": float((counted & connected).sum()),
        "contracts_unc": float((counted & ~connected).sum()),
    }


@pytest.fixture(scope="module")
def runs() -> dict[tuple, list[dict[str, float]]]:
    """Every seed at s = 0 and s = 1, and at s = 0 with a low and a high value of time."""
    out = {}
    for key, s, params in (("s0", 0.0, {}), ("s1", 1.0, {}), ("slow", 0.0, {"delay_cost": 0.05}),
                           ("costly", 0.0, {"delay_cost": 0.3})):  # fmt: skip
        out[key] = [run(seed, s, **params) for seed in SEEDS]
    return out


def _paired(runs, a: str, b: str, name: str) -> np.ndarray:
    return np.array([rb[name] - ra[name] for ra, rb in zip(runs[a], runs[b], strict=True)])


def test_some_bribes_are_offered_by_firms_and_officials_initiate_the_rest(runs):
    for key in ("s0", "s1"):
        shares = [r["officials"] for r in runs[key]]
        assert all(0.1 < x < 0.9 for x in shares), (key, shares)


def test_firms_offer_more_speed_money_when_their_time_is_worth_more(runs):
    more_offers = _paired(runs, "slow", "costly", "offer_rate")
    assert (more_offers > 0).all(), more_offers
    # the measured direction of the share: officials' share rises with the value of time (see the docstring)
    officials = _paired(runs, "slow", "costly", "officials")
    assert (officials > 0).all(), officials


def test_without_symbiosis_connections_buy_no_speed(runs):
    gap = np.array([r["delay_con"] - r["delay_unc"] for r in runs["s0"]])
    assert abs(gap.mean()) < 0.05, gap


def test_under_symbiosis_connected_firms_wait_less_and_pay_for_it(runs):
    for r0, r1 in zip(runs["s0"], runs["s1"], strict=True):
        assert r1["delay_unc"] - r1["delay_con"] > 0.05, r1
        assert r1["delay_con"] < r0["delay_con"], (r0, r1)
        assert r1["bought_con"] > r1["bought_unc"], r1  # the speed is bought


def test_ppp_construction_stays_in_range_and_is_measured_by_partner(runs):
    for key in ("s0", "s1"):
        construction = [r["construction"] for r in runs[key]]
        assert all(4.0 <= x <= 6.0 for x in construction), (key, construction)
    # under symbiosis most partners are the akim's network (favouritism in tenders)
    assert all(r["contracts_con"] > r["contracts_unc"] for r in runs["s1"]), runs["s1"]
