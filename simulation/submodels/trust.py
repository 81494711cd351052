"""8. Trust and satisfaction of firms.

Consultation (business councils, online discussions; Table 4 socio-political block): a
firm takes part with probability consultation x (B + member (1 - B)) (the strong are
invited, an association speaks for its members whatever their size). Taking part counts as
cooperation with the akimat and gives the firm a voice: for a year its reports of bribe
demands are upheld more often (see dealings; Duvanova 2014).

Trust: T <- (1 - mu) T + mu * h, where h = 1 - (share of this quarter's dealings with a
bribe demand) - (1 if the akimat reneged on one of the firm's PPP contracts), clipped to
[0, 1]; a firm without dealings and contracts sees the akimat honour its word (h = 1).

Satisfaction in [-1, 1]: S <- (1 - rate) S + rate * tanh(scale * e), with the net
experience of the last 4 quarters relative to their output,
e = sum(support + PPP income - extracted - fines - dispute losses) / sum(Y),
then word of mouth: S <- (1 - omega) S + omega * (mean S of the firm's ties).
"""

from __future__ import annotations

import numpy as np

from .. import kernels


def step(world, log, rng) -> None:
    """Consultation, trust, satisfaction and word of mouth."""
    if kernels.enabled():  # the same computation in compiled passes (simulation.kernels)
        kernels.trust_pass(world, log, rng)
        return
    p, f = world.params, world.firms
    ev = log.firm
    alive = f.alive
    strength = f.strength
    invited = strength + f.member * (1.0 - strength)
    voice = alive & (rng.random(f.n) < p["consultation"] * invited)
    ev["cooperation"][:] += voice
    ev["consulted"][:] = voice

    dealt = ev["dealings"]
    demand_share = np.divide(ev["demands"], dealt, out=np.zeros(f.n), where=dealt > 0)
    honoured = np.clip(1.0 - demand_share - (ev["reneged_on"] > 0), 0.0, 1.0)
    trust = f.trust
    trust[:] = np.where(alive, (1.0 - p["trust_rate"]) * trust + p["trust_rate"] * honoured, trust)

    y = ev["output"]
    gain = ev["support"] + ev["ppp_income"]
    loss = ev["extracted"] + ev["fines"] + p["dispute_loss"] * ev["disputes"] * y
    net_year = f.last_year("experience") + gain - loss
    ev["experience"][:] = gain - loss
    y_year = np.maximum(f.last_year("output") + y, 1e-9)
    signal = np.tanh(p["experience_scale"] * net_year / y_year)
    sat = f.satisfaction
    sat[:] = np.where(alive, (1.0 - p["satisfaction_rate"]) * sat + p["satisfaction_rate"] * signal, 0.0)
    live = alive.astype(float)
    degree = world.ties.sum_over_ties(live)
    heard = world.ties.sum_over_ties(sat * live)
    mean_ties = np.divide(heard, degree, out=sat.copy(), where=degree > 0)
    sat[:] = np.where(alive, (1.0 - p["word_of_mouth"]) * sat + p["word_of_mouth"] * mean_ties, 0.0)
