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

from typing import NamedTuple

import numpy as np

from ..kernels.jit import kernel, maximum


def step(world, log, rng) -> None:
    """Captures that end, attempts, successes; captors bend the rules and are fully connected."""
    p, f, a = world.params, world.firms, world.akimats
    n, legal = f.n, p["legal_quality"]
    bp, pp, _ = world.bargaining()
    u_lost, u_attempt, u_success = rng.random(n), rng.random(n), rng.random(n)
    odds = Odds(*(np.empty(n) for _ in Odds._fields))
    attempt_odds(float(legal), float(p["retaliation"]), float(p["capture_diversion"]), bp, pp, a.power[f.region], odds)
    loss_rate = p["capture_loss"] * (1.0 + p["legal_capture_loss"] * legal) * 2.0
    draws = Draws(np.exp(odds.x), f.strength ** p["capture_strength_exponent"], u_lost, u_attempt, u_success)
    capture_pass(
        float(loss_rate), float(p["capture_effort"]), odds, draws, f.alive, f.formal, f.captor,
        log.firm["rule_bending"], f.connection,
    )  # fmt: skip


class Odds(NamedTuple):
    """Per firm: the akimat's side of the bargain, the chance and the expected payoff of an attempt, the
    risk, and exp's argument for the drive."""

    side: np.ndarray
    success_p: np.ndarray
    risk: np.ndarray
    payoff: np.ndarray
    x: np.ndarray


class Draws(NamedTuple):
    """exp(-max(payoff, 0) / risk), B^k, and the uniforms of loss, attempt and success."""

    e: np.ndarray
    strength_k: np.ndarray
    u_lost: np.ndarray
    u_attempt: np.ndarray
    u_success: np.ndarray


@kernel
def attempt_odds(legal, retaliation, diversion, bp, pp, power, o):
    """The akimat's side of the bargain, the chance and the payoff of an attempt, and exp's argument."""
    for i in range(bp.size):
        o.side[i] = pp[i] / (bp[i] + pp[i])
        o.success_p[i] = (1.0 - o.side[i]) * (1.0 - legal)
        o.risk[i] = maximum(retaliation * power[i], 1e-9)
        o.payoff[i] = o.success_p[i] * diversion - (1.0 - o.success_p[i]) * o.risk[i]
        o.x[i] = -maximum(o.payoff[i], 0.0) / o.risk[i]


@kernel
def capture_pass(loss_rate, effort, o, d, alive, formal, captor, rule_bending, connection):
    """Captures that end, attempts and successes; captors bend the rules and are fully connected."""
    for i in range(o.side.size):
        lost = d.u_lost[i] < loss_rate * o.side[i]
        if captor[i] and ((not alive[i]) or lost):
            captor[i] = False
        drive = 1.0 - d.e[i] if o.payoff[i] > 0 else 0.0
        candidate = alive[i] and formal[i] and not captor[i]
        attempt = candidate and d.u_attempt[i] < effort * d.strength_k[i] * drive
        if attempt and d.u_success[i] < o.success_p[i]:
            captor[i] = True
        rule_bending[i] = 1.0 if captor[i] else 0.0
        if captor[i]:
            connection[i] = 1.0
