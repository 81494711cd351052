"""6. Capture (seizure of power): strong firms facing weak power bend the rules.

A formal firm stronger than its akimat (B > P) tries capture with probability
capture_effort * (B - P) * B^2 (it needs both the opening and the resources) and succeeds
with probability B^phi / (B^phi + P^phi) * (1 - legal_quality). A captor bends the rules
for as long as its capture lasts: it wins the tenders it bids for, its rivals face more
inspections (``capture_harassment``), and the akimat's budget share ``capture_diversion``
goes to the captors of the region in proportion to their capital (see plan, dealings,
ppp, support). A capture ends with probability capture_loss * (1 + 2 legal_quality) a
quarter, when the captor is no longer stronger than the akimat or exits, or when the akim
is replaced.
"""

from __future__ import annotations

import numpy as np


def step(world, log, rng) -> None:
    """Captures that end, attempts, successes; captors bend the rules and are fully connected."""
    p, f, a = world.params, world.firms, world.akimats
    strength = f.strength
    alive = f.alive
    captor = f.captor
    power = a.power[f.region]
    legal = p["legal_quality"]
    lost = rng.random(f.n) < p["capture_loss"] * (1.0 + p["legal_capture_loss"] * legal)
    ends = captor & ((~alive) | (strength <= power) | lost)
    captor[ends] = False
    gap = np.maximum(strength - power, 0.0) * alive * f.formal * ~captor
    attempt = rng.random(f.n) < p["capture_effort"] * gap * strength ** p["capture_strength_exponent"]
    phi = p["bargaining_exponent"]
    bp, pp = np.power(strength, phi), np.power(power, phi)
    success = attempt & (rng.random(f.n) < bp / (bp + pp) * (1.0 - legal))
    captor[success] = True
    log.firm["rule_bending"][:] = captor
    f.connection[captor] = 1.0
