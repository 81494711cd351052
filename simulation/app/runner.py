"""What the model page and the comparison page share: building at the stationary state behind
a progress bar, and the Reset / Step / Play controls (Solara hooks and components).

A page keeps the controls' values (``values``) apart from the values of the run it shows
(``applied``): Reset applies the controls, and the run is built again in a thread (its burn-in
behind a progress bar; a state built before in this server process is a copy). Step and Play
advance it; the figures read it under its lock, so that Play's thread never steps a model while
a figure reads it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import solara
from mesa.visualization.solara_viz import UserInputs

#: Pause between two quarters while playing (s): the page's figures are drawn in between.
PLAY_PAUSE = 0.05
#: ``STATEBIZ_APP_TIMING=1``: the server prints the time of each Step (the model's quarter, then the page).
TIMING = os.environ.get("STATEBIZ_APP_TIMING") == "1"


@dataclass
class Run:
    """A built run (one model, or a comparison's pair) and the lock its readers and Step share."""

    target: Any
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def quarter(self) -> int:
        """Reported quarters so far."""
        t = self.target
        return t.reported_quarters if hasattr(t, "reported_quarters") else t.quarter

    def step(self) -> None:
        """One quarter, under the lock."""
        with self.lock:
            self.target.step()


@dataclass
class Runner:
    """The state of a page's run: the run (None while building), the build's progress, Play."""

    run: solara.Reactive
    progress: solara.Reactive
    tick: solara.Reactive
    playing: solara.Reactive
    error: solara.Reactive
    values: solara.Reactive
    applied: solara.Reactive


def use_runner(start: dict[str, Any], build: Callable[[dict[str, Any], Callable[[float], None]], Any]) -> Runner:
    """The page's run, built from ``applied`` with ``build(values, progress)`` whenever Reset applies the controls."""
    r = Runner(
        run=solara.use_reactive(None),
        progress=solara.use_reactive(0.0),
        tick=solara.use_reactive(0),
        playing=solara.use_reactive(False),
        error=solara.use_reactive(None),
        values=solara.use_reactive(dict(start)),
        applied=solara.use_reactive({**start, "_reset": 0}),
    )
    key = json.dumps(r.applied.value, sort_keys=True, default=str)

    def make():
        r.playing.set(False)
        r.run.set(None)
        r.progress.set(0.0)
        r.error.set(None)
        shown = [0.0]

        def progress(fraction: float) -> None:
            if fraction - shown[0] >= 0.02 or fraction >= 1:
                shown[0] = fraction
                r.progress.set(fraction)

        values = {k: v for k, v in r.applied.value.items() if k != "_reset"}
        try:
            r.run.set(Run(build(values, progress)))
        except Exception as err:  # a bad combination of controls: shown, not raised into the page
            r.error.set(f"the run could not be built: {err}")

    solara.use_thread(make, dependencies=[key])

    def play():
        while r.playing.value:
            run = r.run.value
            if run is None or not run.target.running:
                break
            t0, c0 = time.perf_counter(), time.process_time()
            run.step()
            r.tick.set(r.tick.value + 1)
            if TIMING:
                print(
                    f"statebiz app: played a quarter in {time.perf_counter() - t0:.3f} s "
                    f"({time.process_time() - c0:.3f} s CPU)",
                    flush=True,
                )
            time.sleep(PLAY_PAUSE)
        r.playing.set(False)

    solara.use_thread(play, dependencies=[r.playing.value])
    return r


@solara.component
def Buttons(r: Runner, what: str = "model"):
    """Reset (apply the controls), Play/Pause and Step."""
    run = r.run.value
    r.tick.value  # noqa: B018  (read: drawn again at each Step, so that Step and Play turn off at the last quarter)
    running = run is not None and run.target.running

    def reset():
        r.applied.set({**r.values.value, "_reset": r.applied.value["_reset"] + 1})

    def step():
        if run is not None and run.target.running:
            t0, c0 = time.perf_counter(), time.process_time()
            run.step()
            t1, c1 = time.perf_counter(), time.process_time()
            r.tick.set(r.tick.value + 1)  # the page is drawn again here, in this thread
            if TIMING:
                print(
                    f"statebiz app: step {t1 - t0:.3f} s ({c1 - c0:.3f} s CPU), page drawn "
                    f"{time.perf_counter() - t1:.3f} s ({time.process_time() - c1:.3f} s CPU)",
                    flush=True,
                )

    with solara.Row(justify="space-between"):
        solara.Button(label="Reset", color="primary", on_click=reset)
        solara.Button(
            label="❚❚" if r.playing.value else "▶",
            color="primary",
            on_click=lambda: r.playing.set(not r.playing.value),
            disabled=not running,
        )
        solara.Button(label="Step", color="primary", on_click=step, disabled=r.playing.value or not running)
    solara.Markdown(
        f"Reset applies the controls and starts the {what} again from the stationary state (after the burn-in)."
    )


@solara.component
def Controls(r: Runner, params: dict[str, dict]):
    """The controls (Mesa's inputs, so each reads as before: label with range and unit)."""

    def change(name, value):
        r.values.set({**r.values.value, name: value})

    UserInputs(params, on_change=change)


@solara.component
def Building(r: Runner, what: str):
    """The progress bar while the run is built (its burn-in)."""
    if r.error.value:
        solara.Error(r.error.value)
        return
    solara.Markdown(f"**Building the {what} at the stationary state** (the burn-in): {100 * r.progress.value:.0f}%")
    solara.ProgressLinear(value=100 * r.progress.value, color="primary")
