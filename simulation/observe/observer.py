"""11. The observer: Table 1 regimes read off behaviour, never assigned.

Each firm-akimat relation gets
- a quadrant of Table 1: strong power (P >= theta_P) or weak, strong business
  (B >= theta_B) or weak;
- a behavioural label from the signatures of the last 4 quarters, in this order:
  1. capture: the firm held its akimat captured (bent the rules: tender preference,
     inspections of rivals, diverted budget);
  2. non-interference: fewer than ``interaction_threshold`` interactions (dealings,
     support received, cooperation, disputes);
  3. conflict: a PPP dispute, or bribe demands resisted (refused or reported) more often
     than paid, with a total loss to officials (bribes, delays, harassment, retaliation,
     reporting) of at least 1% of the year's output;
  4. suppression: the state dominates the relation: officials' demands were met and the
     firm lost to officials (bribes, delays, fines) more than it received (support), or
     it went through frequent controls (at least twice ``interaction_threshold`` dealings)
     and received nothing and cooperated in nothing;
  5. partnership: cooperation (a performing PPP contract or a business council) and
     the firm received at least what it lost;
  6. patronage: support received without cooperation (a one-way, dependent benefit);
  7. otherwise (routine dealings, no demands, no support): non-interference.
Regional and quadrant shares count each firm-akimat relation once (the share of the region's
firms in business whose relation is so labelled), as the survey counts each business once.
They were weighted by output (over the last 4 quarters) until firm sizes had a Pareto tail: with
output's tail exponent about 1 the output-weighted share of a small world's region is mostly its
largest firm's label (that firm held 0.2-0.5 of Turkestan's output on the Table 1 grid, and the
cells at strong power and weak business were labelled by its conflict, while most relations
there were suppression), so a single firm set each share (docs/ODD.md 4.12).
"""

from __future__ import annotations

import numpy as np

from .. import kernels

REGIMES = ("suppression", "patronage", "partnership", "conflict", "non_interference", "capture")
SUPPRESSION, PATRONAGE, PARTNERSHIP, CONFLICT, NON_INTERFERENCE, CAPTURE = range(6)
QUADRANTS = (
    "strong_power_weak_business",
    "strong_power_strong_business",
    "weak_power_weak_business",
    "weak_power_strong_business",
)


def classify(mem: dict[str, np.ndarray], interaction_threshold: float) -> np.ndarray:
    """Regime label per firm from 4-quarter sums of its memory fields."""
    interaction = mem["dealings"] + mem["support_events"] + mem["cooperation"] + mem["disputes"]
    lost = mem["extracted"]
    received = mem["support"]
    label = np.full(interaction.shape, NON_INTERFERENCE, dtype=np.int8)
    undecided = interaction >= interaction_threshold
    rules = (
        (
            CONFLICT,
            (mem["disputes"] > 0) | ((mem["refused"] + mem["reported"] > mem["paid"]) & (lost >= 0.01 * mem["output"])),
        ),
        (
            SUPPRESSION,
            ((mem["paid"] > 0) & (lost > received))
            | ((mem["dealings"] >= 2 * interaction_threshold) & (received == 0) & (mem["cooperation"] == 0)),
        ),
        (PARTNERSHIP, (mem["cooperation"] > 0) & (received >= lost)),
        (PATRONAGE, received > 0),
    )
    for code, condition in rules:
        hit = undecided & condition
        label[hit] = code
        undecided &= ~hit
    label[mem["rule_bending"] > 0] = CAPTURE
    return label


class Observer:
    """Reads the world after each quarter's behaviour and labels every firm-akimat relation.

    It holds only its own readings (labels, quadrants, shares) and never writes the world.
    """

    def __init__(self, n_firms: int, n_regions: int):
        self.labels = np.full(n_firms, NON_INTERFERENCE, dtype=np.int8)
        self.quadrant = np.zeros(n_firms, dtype=np.int8)
        self.shares = np.zeros((n_regions, len(REGIMES)))
        self.quadrant_shares = np.zeros((n_regions, len(QUADRANTS), len(REGIMES)))
        self.quadrant_weight = np.zeros((n_regions, len(QUADRANTS)))

    def step(self, world, log) -> None:
        """Label every firm from its last 4 quarters; regional and quadrant shares of relations."""
        f, p = world.firms, world.params
        R, K, Q = world.n_regions, len(REGIMES), len(QUADRANTS)
        if kernels.enabled():  # the same labels, quadrants and sums in one compiled pass
            self.labels, self.quadrant, cells = kernels.observe(world, Q, K)
            self._shares(cells.reshape(R, Q, K))
            return
        names = (
            "dealings",
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
        mem = {name: f.last_year(name) for name in names}
        mem["support_events"] = (f.memory("support") > 0).sum(axis=0)
        alive = f.alive
        self.labels = classify(mem, p["interaction_threshold"])
        region = f.region
        strong_power = world.akimats.power[region] >= p["power_threshold"]
        strong_business = f.strength >= p["business_threshold"]
        self.quadrant = (2 * (~strong_power) + strong_business).astype(np.int8)
        weight = alive.astype(float)  # each relation once
        cell = (region * Q + self.quadrant) * K + self.labels
        self._shares(np.bincount(cell, weights=weight, minlength=R * Q * K).reshape(R, Q, K))

    def _shares(self, w: np.ndarray) -> None:
        """Quadrant and regional shares from the relations by region x quadrant x regime."""
        self.quadrant_weight = w.sum(axis=2)
        self.quadrant_shares = np.divide(
            w, self.quadrant_weight[:, :, None], out=np.zeros_like(w), where=self.quadrant_weight[:, :, None] > 0
        )
        total = w.sum(axis=1)
        self.shares = np.divide(
            total,
            total.sum(axis=1, keepdims=True),
            out=np.zeros_like(total),
            where=total.sum(axis=1, keepdims=True) > 0,
        )

    def remap(self, mapping: np.ndarray) -> None:
        """Follow the firm table's compaction (rows added since the last step read as non-interference)."""
        keep = mapping >= 0
        pad = len(mapping) - len(self.labels)
        self.labels = np.concatenate([self.labels, np.full(pad, NON_INTERFERENCE, np.int8)])[keep]
        self.quadrant = np.concatenate([self.quadrant, np.zeros(pad, np.int8)])[keep]

    def regional_shares(self, region: int) -> dict[str, float]:
        """Output-weighted regime shares of one region."""
        return dict(zip(REGIMES, map(float, self.shares[region])))

    def label_of(self, row: int) -> str:
        """The regime of one firm row (non-interference for a row added since the last step)."""
        return REGIMES[int(self.labels[row])] if row < len(self.labels) else REGIMES[NON_INTERFERENCE]
