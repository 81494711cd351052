"""4. Officials decide: the corrupt share as an interior equilibrium of dispersed moral costs.

Officials weigh money against conscience (Becker & Stigler 1974; Andvig & Moene 1990;
Mishra 2006). From this quarter's dealings, the net money gain of a corrupt official per
quarter, per unit of the output of the firms the corrupt officials serve, is

    G = (bribe income - penalties) / served,   penalties = caught * audit_penalty * ytyp,
    served = sum over the firms in business of y_i (home_share [u_i < c] + (1 - home_share) c),

the output whose dealings reach a corrupt official: a firm's home official (rank u_i, see
dealings.py) handles ``home_share`` of its dealings and is corrupt while u_i < c, the rest go to
officials at random, a share c of them corrupt. Its expectation over the home officials' ranks is
c * firms * ybar (ybar the region's mean firm output), the per-firm scale of the officials' gain
before dominant players; counted from the actual home officials, a dominant firm whose home
official is honest leaves both the bribes and the output it would have brought out of G, instead
of its output diluting the bribes of the firms that do deal with corrupt officials (with a
Pareto tail of firm sizes that single firm can hold half a region's output, and the honesty of
one official set the region's corrupt share),

where caught counts the paid bribes detected by audits and open data and the reports
upheld, and ytyp is the region's typical firm output (``formulas.lognormal_mean``: the mean of a
log-normal with the median and interquartile spread of the firms' log outputs): the penalty (a
fine, the lost post) is money set by law and pay, not by the output of the region's dominant
firms, which set the mean when firm sizes have a Pareto tail (Gabaix 2009).
An official is corrupt when G exceeds their moral cost, and moral costs are
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

from ..formulas import corrupt_fraction, lognormal_mean


def step(world, log) -> None:
    """The corrupt share moves toward the share of officials for whom corruption pays."""
    p, a, f = world.params, world.akimats, world.firms
    R = world.n_regions
    alive = f.alive
    c = a.corrupt_share
    # a caught official's penalty is money on the scale of the region's typical firm (formulas.lognormal_mean)
    typical = lognormal_mean(log.potential_output, f.region, alive, R)
    penalties = log.region["caught"] * p["audit_penalty"] * typical
    # the output whose dealings reach a corrupt official: the home official's share while he is corrupt,
    # the rest in proportion to c (the dealings' c, before this quarter's update)
    c_i = np.maximum(c, 1e-3)[f.region]
    reach = p["home_share"] * (f.home_official < c[f.region]) + (1.0 - p["home_share"]) * c_i
    served = np.bincount(f.region, weights=log.potential_output * alive * reach, minlength=R)
    has = (log.region["dealings"] > 0) & (served > 0)
    gain = np.divide(log.region["bribe_income"] - penalties, served, out=np.zeros(R), where=has)
    a.official_gain[:] = np.where(has, gain, a.official_gain)
    target = corrupt_fraction(gain, p["moral_cost"], p["moral_cost_spread"])
    c[:] = np.where(has, c + p["official_rotation"] * (target - c), c)
