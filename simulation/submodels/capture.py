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

import numpy as np

from .. import kernels


def step(world, log, rng) -> None:
    """Captures that end, attempts, successes; captors bend the rules and are fully connected."""
    if kernels.enabled():  # the same computation in compiled passes (simulation.kernels)
        kernels.capture_pass(world, log, rng)
        return
    p, f, a = world.params, world.firms, world.akimats
    strength = f.strength
    alive = f.alive
    captor = f.captor
    power = a.power[f.region]
    legal = p["legal_quality"]
    phi = p["bargaining_exponent"]
    bp, pp = np.power(np.maximum(strength, 1e-9), phi), np.power(power, phi)
    akimat_side = pp / (bp + pp)
    lost = rng.random(f.n) < p["capture_loss"] * (1.0 + p["legal_capture_loss"] * legal) * 2.0 * akimat_side
    ends = captor & ((~alive) | lost)
    captor[ends] = False
    success_p = (1.0 - akimat_side) * (1.0 - legal)
    risk = np.maximum(p["retaliation"] * power, 1e-9)
    payoff = success_p * p["capture_diversion"] - (1.0 - success_p) * risk
    drive = np.where(payoff > 0, 1.0 - np.exp(-np.maximum(payoff, 0.0) / risk), 0.0)
    candidates = alive & f.formal & ~captor
    attempt = candidates & (rng.random(f.n) < p["capture_effort"] * strength ** p["capture_strength_exponent"] * drive)
    success = attempt & (rng.random(f.n) < success_p)
    captor[success] = True
    log.firm["rule_bending"][:] = captor
    f.connection[captor] = 1.0
