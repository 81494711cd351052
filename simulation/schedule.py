"""The schedule: the ordered steps of one quarter, in one place.

The quarter loop (``StateBusinessModel``), the random streams (one per stream a step
names, each derived from the run's seed) and the ODD's step numbers all derive from this
list. A step is a function ``run(world, log, *rngs)`` that reads and writes the declared
world (``simulation.world``) and the quarter's log; ``rngs`` are its streams, in the order
the step names them. A new submodel is one module in ``simulation/submodels/``, one line
here, and its parameters in ``simulation/parameters.py``.

The observation point (``run`` is None) is where the world is read, not changed: firms
remember the quarter, the observer labels regimes, and the outcomes are recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .initialisation import STREAMS as INITIALISATION_STREAMS
from .submodels import capture, dealings, economy, entry, officials, plan, ppp, support, tournament, trust, utilities


@dataclass(frozen=True)
class Step:
    """One step of the quarter: its ODD number and name, what runs, and the streams it draws from."""

    number: int
    name: str
    run: Callable[..., None] | None
    streams: tuple[str, ...]
    title: str


SCHEDULE: tuple[Step, ...] = (
    Step(1, "plan", plan.step, ("plan",), "akimat plan: revenue, rents, the budget's split, PPP tenders"),
    Step(2, "dealings", dealings.step, ("dealings",), "administrative dealings: the inspection game"),
    Step(3, "officials", officials.step, (), "officials adapt: the corrupt share"),
    Step(4, "support", support.step, ("support",), "support: grants, subsidies, tax benefits"),
    Step(5, "ppp", ppp.step, ("ppp",), "PPP tenders and the contract life cycle"),
    Step(6, "capture", capture.step, ("capture",), "capture"),
    Step(7, "economy", economy.step, ("economy",), "firm economy: output, investment, informality, exit"),
    Step(8, "trust", trust.step, ("trust",), "consultation, trust and satisfaction"),
    Step(9, "tournament", tournament.step, ("tournament",), "Figure 2 KPIs and the akims' tournament"),
    Step(10, "utilities", utilities.step, ("residents",), "utilities and residents"),
    Step(11, "observer", None, (), "firms remember the quarter; the observer reads regimes; outcomes are recorded"),
    Step(12, "entry", entry.step, ("entry", "network"), "entry of new firms for the next quarter"),
)

#: Every named random stream of a run: initialisation's, then the steps' (each once).
STREAMS: tuple[str, ...] = tuple(
    dict.fromkeys(INITIALISATION_STREAMS + tuple(s for st in SCHEDULE for s in st.streams))
)
