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
from dataclasses import dataclass, replace

from .initialisation import STREAMS as INITIALISATION_STREAMS
from .submodels import capture, dealings, economy, entry, officials, plan, ppp, support, tournament, trust, utilities


@dataclass(frozen=True)
class Step:
    """One step of the quarter: its name, what runs, the streams it draws from, and its ODD
    number (its place in the schedule, counted from 1; set below)."""

    name: str
    run: Callable[..., None] | None
    streams: tuple[str, ...]
    title: str
    number: int = 0


_STEPS: tuple[Step, ...] = (
    Step("plan", plan.step, ("plan",), "akimat plan: revenue, rents, the budget's split, PPP tenders"),
    Step("dealings", dealings.step, ("dealings",), "administrative dealings: the inspection game"),
    Step("support", support.step, ("support",), "support: grants, subsidies, tax benefits, with their costs"),
    Step("officials", officials.step, (), "officials decide: the corrupt share (dispersed moral costs)"),
    Step("ppp", ppp.step, ("ppp",), "PPP tenders and the contract life cycle"),
    Step("capture", capture.step, ("capture",), "capture"),
    Step("economy", economy.step, ("economy",), "firm economy: output, investment, informality, exit"),
    Step("trust", trust.step, ("trust",), "consultation, trust and satisfaction"),
    Step("tournament", tournament.step, ("tournament",), "Figure 2 KPIs and the akims' tournament"),
    Step("utilities", utilities.step, ("residents",), "utilities and residents"),
    Step("observer", None, (), "firms remember the quarter; the observer reads regimes; outcomes are recorded"),
    Step("entry", entry.step, ("entry", "network"), "entry of new firms for the next quarter"),
)

#: The steps in order, numbered by their place (the ODD's step numbers).
SCHEDULE: tuple[Step, ...] = tuple(replace(step, number=i) for i, step in enumerate(_STEPS, start=1))

#: Every named random stream of a run: initialisation's, then the steps' (each once).
STREAMS: tuple[str, ...] = tuple(
    dict.fromkeys(INITIALISATION_STREAMS + tuple(s for st in SCHEDULE for s in st.streams))
)
