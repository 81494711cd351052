"""3. Officials adapt (Hammond 2000): replicator dynamics of the corrupt share.

Per region, from this quarter's dealings: a corrupt official's expected payoff per demand,
in bribes, is the share of demands paid minus the share of demands that ended in detection
times the penalty; an honest official's is 0. The corrupt share moves toward the better
strategy, c <- c + rate * c (1 - c) * tanh(payoff), plus a small drift toward 1/2
(turnover of officials), so neither strategy dies out for good.
"""

from __future__ import annotations

import numpy as np


def step(world, log) -> None:
    """Replicator step of each region's corrupt share on this quarter's dealings."""
    p, a = world.params, world.akimats
    demands = log.region["demands"]
    has = demands > 0
    paid_rate = np.divide(log.region["paid"], demands, out=np.zeros_like(demands), where=has)
    caught_rate = np.divide(log.region["caught"], demands, out=np.zeros_like(demands), where=has)
    payoff = paid_rate - caught_rate * p["audit_penalty"]
    c = a.corrupt_share
    c[:] = c + has * p["adaptation_rate"] * c * (1.0 - c) * np.tanh(payoff)
    c[:] = np.clip(c + p["official_mutation"] * (0.5 - c), 0.0, 1.0)
