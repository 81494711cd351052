"""6. Capture (seizure of power): firms that expect to gain from bending the rules try it.

A formal firm weighs an attempt by its expected payoff, in shares (Grossman & Helpman
1994's influence as an investment; the brief's capture condition made smooth):

    E = pi x capture_diversion - (1 - pi) x retaliation x P,
    pi = B^phi / (B^phi + P^phi) x (1 - legal_quality)   (the chance that it succeeds),

the prize being the budget share diverted to captors and the risk the akimat's retaliation
against a failed attempt, which scales with its power. It attempts with probability
capture_effort x B^k x (1 - exp(-E / (retaliation x P))) when E > 0 (k =
``capture_strength_exponent``: it needs resources), and succeeds with probability pi. No
threshold on B or P gates the decision. A captor bends the rules for as long as its capture
lasts: it wins the tenders it bids for, its rivals face more inspections
(``capture_harassment``), and the akimat's budget share ``capture_diversion`` goes to the
captors of the region in proportion to their capital (see plan, dealings, ppp, support). A
capture ends each quarter with probability capture_loss (1 + legal_capture_loss x legal) x 2
P^phi / (B^phi + P^phi) (a stronger akimat shakes it off sooner), when the captor exits, or
when the akim is replaced.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..kernels.jit import constants, kernel, maximum


def step(world, log, rng) -> None:
    """Captures that end, attempts, successes; captors bend the rules and are fully connected."""
    p, f, a = world.params, world.firms, world.akimats
    bp, pp, _ = world.bargaining()
    loss_rate = p["capture_loss"] * (1.0 + p["legal_capture_loss"] * p["legal_quality"]) * 2.0
    u = Uniforms(rng.random(f.n), rng.random(f.n), rng.random(f.n))
    capture_pass(
        constants(Constants, p, loss_rate=loss_rate), u, bp, pp, a.power, f.region, f.strength, f.alive, f.formal,
        f.captor, log.firm["rule_bending"], f.connection,
    )  # fmt: skip


class Constants(NamedTuple):
    """Capture's parameters (registered names; ``loss_rate`` derived)."""

    legal_quality: float
    retaliation: float
    capture_diversion: float
    capture_effort: float
    capture_strength_exponent: float
    loss_rate: float  # capture_loss (1 + legal_capture_loss x legal) x 2


class Uniforms(NamedTuple):
    """The uniforms of a capture's loss, an attempt and its success."""

    lost: np.ndarray
    attempt: np.ndarray
    success: np.ndarray


@kernel
def capture_pass(c, u, bp, pp, power, region, strength, alive, formal, captor, rule_bending, connection):
    """Per firm: a capture that ends, an attempt and its success; captors bend the rules and are fully
    connected. ``bp``, ``pp``: B^phi and P^phi per firm; ``power`` per region."""
    for i in range(alive.size):
        side = pp[i] / (bp[i] + pp[i])  # the akimat's side of the bargain
        if captor[i] and ((not alive[i]) or u.lost[i] < c.loss_rate * side):
            captor[i] = False
        success_p = (1.0 - side) * (1.0 - c.legal_quality)
        risk = maximum(c.retaliation * power[region[i]], 1e-9)
        payoff = success_p * c.capture_diversion - (1.0 - success_p) * risk
        if alive[i] and formal[i] and not captor[i] and payoff > 0:
            drive = 1.0 - math.exp(-payoff / risk)
            effort = c.capture_effort * math.pow(strength[i], c.capture_strength_exponent) * drive
            if u.attempt[i] < effort and u.success[i] < success_p:
                captor[i] = True
        rule_bending[i] = 1.0 if captor[i] else 0.0
        if captor[i]:
            connection[i] = 1.0
