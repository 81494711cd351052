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

from typing import NamedTuple

import numpy as np

from ..kernels.jit import constants, kernel, maximum, minimum, view


def step(world, log, rng) -> None:
    """Consultation, trust, satisfaction and word of mouth."""
    p, f, ev = world.params, world.firms, log.firm
    year = Year(f.last_year("experience"), f.last_year("output"))
    sat = f.satisfaction
    live, weighted = np.empty(f.n), np.empty(f.n)
    u, x = rng.random(f.n), np.empty(f.n)
    trust_pass(constants(Constants, p), u, view(Firms, f), view(Events, ev), year, x)
    # numpy's tanh over the array (its SIMD loop is about 7x numba's math.tanh per element), then satisfaction
    satisfaction_pass(float(p["satisfaction_rate"]), f.alive, np.tanh(x), sat, live, weighted)
    (heard,) = world.ties.sums_over_ties(weighted)
    # ties to firms in business: every tie less those to firms that left (few), counted from their
    # side; whole numbers, so the same numbers as the sum over ties of ``live``
    degree = world.ties.degree(f.n) - world.ties.count_over_ties(1.0 - live)
    word_of_mouth(float(p["word_of_mouth"]), f.alive, sat, heard, degree)


class Constants(NamedTuple):
    """Trust's parameters (registered names)."""

    consultation: float
    trust_rate: float
    dispute_loss: float
    experience_scale: float


class Firms(NamedTuple):
    """Views of the firm table (written: trust)."""

    alive: np.ndarray
    strength: np.ndarray
    member: np.ndarray
    trust: np.ndarray


class Events(NamedTuple):
    """This quarter's events (written: cooperation, consulted, experience)."""

    demands: np.ndarray
    dealings: np.ndarray
    reneged_on: np.ndarray
    cooperation: np.ndarray
    consulted: np.ndarray
    output: np.ndarray
    support: np.ndarray
    ppp_income: np.ndarray
    extracted: np.ndarray
    fines: np.ndarray
    disputes: np.ndarray
    experience: np.ndarray


class Year(NamedTuple):
    """Sums over the last 4 quarters."""

    experience: np.ndarray
    output: np.ndarray


@kernel
def trust_pass(c, u, f, ev, year, x):
    """Consultation (``u``: its uniforms), trust, this quarter's experience, and tanh's argument ``x`` for the
    satisfaction signal."""
    for i in range(u.size):
        s = f.strength[i]
        invited = s + (1.0 if f.member[i] else 0.0) * (1.0 - s)
        voice = f.alive[i] and u[i] < c.consultation * invited
        ev.cooperation[i] += 1.0 if voice else 0.0
        ev.consulted[i] = 1.0 if voice else 0.0
        share = ev.demands[i] / ev.dealings[i] if ev.dealings[i] > 0 else 0.0
        honoured = 1.0 - share - (1.0 if ev.reneged_on[i] > 0 else 0.0)
        honoured = minimum(maximum(honoured, 0.0), 1.0)
        if f.alive[i]:
            f.trust[i] = (1.0 - c.trust_rate) * f.trust[i] + c.trust_rate * honoured
        y = ev.output[i]
        gain = ev.support[i] + ev.ppp_income[i]
        loss = ev.extracted[i] + ev.fines[i] + c.dispute_loss * ev.disputes[i] * y
        net_year = year.experience[i] + gain - loss
        ev.experience[i] = gain - loss
        x[i] = c.experience_scale * net_year / maximum(year.output[i] + y, 1e-9)


@kernel
def satisfaction_pass(rate, alive, signal, sat, live, weighted):
    """Satisfaction follows the signal; ``live`` and ``sat x live`` for the sums over ties."""
    for i in range(sat.size):
        sat[i] = (1.0 - rate) * sat[i] + rate * signal[i] if alive[i] else 0.0
        live[i] = 1.0 if alive[i] else 0.0
        weighted[i] = sat[i] * live[i]


@kernel
def word_of_mouth(rate, alive, sat, heard, degree):
    """Satisfaction moves toward the mean of the firm's ties."""
    for i in range(sat.size):
        mean = heard[i] / degree[i] if degree[i] > 0 else sat[i]
        sat[i] = (1.0 - rate) * sat[i] + rate * mean if alive[i] else 0.0
