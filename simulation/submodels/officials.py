"""4. Officials decide: the corrupt share as an interior equilibrium of dispersed moral costs.

Officials weigh money against conscience (Becker & Stigler 1974; Andvig & Moene 1990;
Mishra 2006). From this quarter's dealings, the net money gain of a corrupt official per
quarter, per firm the region's officials serve, in the region's mean quarterly firm output
ybar, is

    G = (bribe income - penalties) / (c * firms * ybar),   penalties = caught * audit_penalty * ybar,

where caught counts the paid bribes detected by audits and open data and the reports
upheld. An official is corrupt when G exceeds their moral cost, and moral costs are
dispersed: log-normal with median ``moral_cost`` and log sd ``moral_cost_spread``. The share
of officials for whom corruption pays is F(G), the log-normal CDF. Officials decide anew
when they are rotated or replaced (rate ``official_rotation``), so the corrupt share follows

    c <- c + rotation * (F(G) - c).

Because the bribe income is shared among the corrupt officials, G does not rise with c
the way a replicator's payoff did; the rest point c* = F(G(c*)) is interior wherever moral
costs are dispersed, and it moves continuously with every lever that moves G: audits and
transparency (detection), bargaining power and rents (bribe size), legal quality and
consultation (reports upheld), and the firms' demand for dealings (which falls with their
cost). A region without dealings this quarter keeps its c.
"""

from __future__ import annotations

import numpy as np

from .. import kernels
from ..formulas import corrupt_fraction


def step(world, log) -> None:
    """The corrupt share moves toward the share of officials for whom corruption pays."""
    p, a, f = world.params, world.akimats, world.firms
    R = world.n_regions
    alive = f.alive
    n = kernels.count_where(f.region, alive, R).astype(float)
    output = np.bincount(f.region, weights=log.potential_output, minlength=R)
    ybar = np.divide(output, n, out=np.zeros(R), where=n > 0)
    c = a.corrupt_share
    penalties = log.region["caught"] * p["audit_penalty"] * ybar
    served = np.maximum(c, 1e-3) * n * ybar
    has = (log.region["dealings"] > 0) & (served > 0)
    gain = np.divide(log.region["bribe_income"] - penalties, served, out=np.zeros(R), where=has)
    a.official_gain[:] = np.where(has, gain, a.official_gain)
    target = corrupt_fraction(gain, p["moral_cost"], p["moral_cost_spread"])
    c[:] = np.where(has, c + p["official_rotation"] * (target - c), c)
