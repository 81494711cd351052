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

from typing import NamedTuple

import numpy as np

from ..kernels.jit import jitable, kernel

REGIMES = ("suppression", "patronage", "partnership", "conflict", "non_interference", "capture")
SUPPRESSION, PATRONAGE, PARTNERSHIP, CONFLICT, NON_INTERFERENCE, CAPTURE = range(6)
QUADRANTS = (
    "strong_power_weak_business",
    "strong_power_strong_business",
    "weak_power_weak_business",
    "weak_power_strong_business",
)


class Memory(NamedTuple):
    """4-quarter sums per firm that the labels read (``support_events``: quarters with support)."""

    dealings: np.ndarray
    support_events: np.ndarray
    cooperation: np.ndarray
    disputes: np.ndarray
    extracted: np.ndarray
    support: np.ndarray
    refused: np.ndarray
    reported: np.ndarray
    paid: np.ndarray
    rule_bending: np.ndarray
    output: np.ndarray


@jitable
def regime(m, i, threshold):
    """The regime label of firm ``i`` from its memory ``m`` (the order of the module's docstring)."""
    d, coop, disp = m.dealings[i], m.cooperation[i], m.disputes[i]
    lost, received, paid = m.extracted[i], m.support[i], m.paid[i]
    label = NON_INTERFERENCE
    if d + m.support_events[i] + coop + disp >= threshold:
        if disp > 0 or ((m.refused[i] + m.reported[i] > paid) and lost >= 0.01 * m.output[i]):
            label = CONFLICT
        elif (paid > 0 and lost > received) or (d >= 2 * threshold and received == 0 and coop == 0):
            label = SUPPRESSION
        elif coop > 0 and received >= lost:
            label = PARTNERSHIP
        elif received > 0:
            label = PATRONAGE
    if m.rule_bending[i] > 0:
        label = CAPTURE
    return label


@kernel
def classify_pass(m, threshold, labels):
    """``labels[i]``: the regime of each firm of ``m``."""
    for i in range(labels.size):
        labels[i] = regime(m, i, threshold)


def classify(mem: dict[str, np.ndarray], interaction_threshold: float) -> np.ndarray:
    """Regime label per firm from 4-quarter sums of its memory fields."""
    m = Memory(*(np.asarray(mem[name], dtype=float) for name in Memory._fields))
    labels = np.empty(m.dealings.shape, dtype=np.int8)
    classify_pass(m, float(interaction_threshold), labels)
    return labels


@kernel
def observe_pass(
    threshold, power_threshold, business_threshold, Q, K, m, alive, region, power, strength, labels, quadrant, cells
):
    """Per firm: regime label, quadrant of Table 1, and the relations by region x quadrant x regime (each
    relation once: ``cells``, flat (region, quadrant, regime) of shape (R, Q, K), gains 1 for each firm in
    business)."""
    for i in range(alive.size):
        label = regime(m, i, threshold)
        labels[i] = label
        strong_power = power[region[i]] >= power_threshold
        quad = 2 * (0 if strong_power else 1) + (1 if strength[i] >= business_threshold else 0)
        quadrant[i] = quad
        cells[(region[i] * Q + quad) * K + label] += 1.0 if alive[i] else 0.0


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
        events = (f.memory("support") > 0).sum(axis=0)  # quarters with support
        m = Memory(*(events if name == "support_events" else f.last_year(name) for name in Memory._fields))
        self.labels = np.empty(f.n, dtype=np.int8)
        self.quadrant = np.empty(f.n, dtype=np.int8)
        cells = np.zeros(R * Q * K)
        observe_pass(
            float(p["interaction_threshold"]), float(p["power_threshold"]), float(p["business_threshold"]), Q, K, m,
            f.alive, f.region, world.akimats.power, f.strength, self.labels, self.quadrant, cells,
        )  # fmt: skip
        self._shares(cells.reshape(R, Q, K))

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
