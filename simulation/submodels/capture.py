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


def captured_regions(model) -> np.ndarray:
    """Number of firms in business holding each region captured."""
    f = model.firms
    held = f.view("captor") & f.view("alive")
    return np.bincount(f.view("region")[held], minlength=model.n_regions)


def release(model, region: int) -> None:
    """End every capture of an akimat (its akim was replaced)."""
    f = model.firms
    f.view("captor")[f.view("region") == region] = False


def step(model, log) -> None:
    p, f, a = model.params, model.firms, model.akimats_state
    rng = model.streams["capture"]
    strength = f.view("strength")
    alive = f.view("alive")
    captor = f.view("captor")
    region = f.view("region")
    power = a.power[region]
    legal = p["legal_quality"]
    ends = captor & ((~alive) | (strength <= power) | (rng.random(f.n) < p["capture_loss"] * (1.0 + 2.0 * legal)))
    captor[ends] = False
    gap = np.maximum(strength - power, 0.0) * alive * f.view("formal") * ~captor
    attempt = rng.random(f.n) < p["capture_effort"] * gap * strength**2
    phi = p["bargaining_exponent"]
    bp, pp = np.power(strength, phi), np.power(power, phi)
    success = attempt & (rng.random(f.n) < bp / (bp + pp) * (1.0 - legal))
    captor[success] = True
    log.firm["rule_bending"][:] = captor
    f.view("connection")[captor] = 1.0
