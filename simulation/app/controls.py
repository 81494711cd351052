"""The model page's cases and controls, read from the parameter registry, and the app's model.

A case is a scenario file at a small size (Turkestan, or the 20 regions of Kazakhstan), or
the file given to ``statebiz app --scenario``. The controls are the governance model, every
Table 4 lever (section ``levers`` of the registry: its range, unit and meaning are the
registry's) and the seed. A lever the user has not moved follows the case and the
governance preset; a moved lever overrides them, as an explicit value does on the command
line (``resolve``'s order: defaults < preset < scenario file < explicit values).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import StateBusinessModel
from ..parameters import BY_NAME, GOVERNANCE_PRESETS, PARAMETERS, Param, resolve
from ..scenario import load_scenario
from . import ENV_RESULTS, ENV_SCENARIO  # noqa: F401  (ENV_RESULTS: read by pages)

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    """A scenario the model page offers: a label, the scenario file and the small-size overrides."""

    label: str
    file: Path | None
    overrides: dict[str, Any] = field(default_factory=dict)

    def params(self) -> dict[str, Any]:
        """The case's explicit parameter values (the file's, then the overrides)."""
        base: dict[str, Any] = {}
        if self.file is not None and self.file.is_file():
            base = dict(load_scenario(self.file).explicit)
        return base | self.overrides


def cases() -> dict[str, Case]:
    """The cases by label: Turkestan and Kazakhstan at a small size, and the ``--scenario`` file if given."""
    out = {
        "Turkestan (1 region, 2,000 firms)": Case(
            "Turkestan (1 region, 2,000 firms)",
            REPO / "scenarios" / "turkestan.toml",
            {"regions": "turkestan", "firms": 2000, "residents_per_region": 400},
        ),
        "Kazakhstan (20 regions, 8,000 firms)": Case(
            "Kazakhstan (20 regions, 8,000 firms)",
            REPO / "scenarios" / "kazakhstan.toml",
            {"regions": "all", "firms": 8000, "residents_per_region": 200},
        ),
    }
    path = os.environ.get(ENV_SCENARIO)
    if path:
        scenario = load_scenario(path)
        label = f"{scenario.name} ({Path(path).name})"
        out = {label: Case(label, Path(path))} | out
    return out


def levers() -> tuple[Param, ...]:
    """The Table 4 levers: the registry's section ``levers``."""
    return tuple(p for p in PARAMETERS if p.section == "levers")


def describe(p: Param) -> str:
    """A control's label: name, range and unit, from the registry (the meaning is in ``meanings``)."""
    unit = f", {p.unit}" if p.unit and p.unit != "0..1" else ""
    return f"{p.name} ({p.low:g}–{p.high:g}{unit})"


def meanings() -> list[tuple[str, str, str]]:
    """(name, meaning, source) of each lever, from the registry."""
    return [(p.name, p.meaning, p.source) for p in levers()]


def _step(p: Param, value: float) -> float:
    """A slider's step: about a hundredth of the range, and a divisor of the starting value (a
    slider snaps its value to a multiple of its step: audit_penalty's 0.1 on a step of 0.2 was
    moved to 0.2 by the page itself, and the run then differed from the case's)."""
    if p.kind is int:
        return 1
    span = p.high - p.low
    for step in (1.0, 0.5, 0.1, 0.05, 0.01, 0.005, 0.001):
        if step <= max(span / 100, 0.001) and abs((value - p.low) / step - round((value - p.low) / step)) < 1e-6:
            return step
    return 0.001


def start_values(case: Case, governance: str) -> dict[str, Any]:
    """Every parameter's value for a case under a governance model (the sliders' starting positions)."""
    return resolve(case.params() | {"governance": governance}, f"app case {case.label}")


def model_params() -> dict[str, Any]:
    """Mesa SolaraViz ``model_params``: case, governance, the symbiosis index s (a moved slider wins
    over the governance model's s = 0 or 1), every lever and the seed, from the registry."""
    all_cases = cases()
    first = next(iter(all_cases.values()))
    governance = first.params().get("governance", BY_NAME["governance"].default)
    start = start_values(first, governance)
    params: dict[str, Any] = {
        "case": {"type": "Select", "value": first.label, "values": list(all_cases), "label": "scenario"},
        "governance": {
            "type": "Select",
            "value": governance,
            "values": list(GOVERNANCE_PRESETS),
            "label": "governance model (preset)",
        },
        "symbiosis": {
            "type": "SliderFloat",
            "value": start["symbiosis"],
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
            "label": "symbiosis s (0–1)",
        },
    }
    for p in levers():
        params[p.name] = {
            "type": "SliderFloat" if p.kind is float else "SliderInt",
            "value": start[p.name],
            "min": p.low,
            "max": p.high,
            "step": _step(p, start[p.name]),
            "label": describe(p),
        }
    params["seed"] = {"type": "InputText", "value": "0", "label": "seed (a non-negative integer)"}
    return params


#: Quarters of the stationary state the app shows before quarter 1: the last quarters of the
#: burn-in, observed (the observer and the recorder only read the world, so the world and every
#: reported quarter are the same as without it). A display setting of the app, not of the model.
HISTORY = 12


class AppModel(StateBusinessModel):
    """The model behind the model page: ``StateBusinessModel`` built from the controls' values.

    It adds nothing to the model's behaviour: the same parameters and seed give the same
    results as ``StateBusinessModel(rng=seed, **parameters)``. It runs the burn-in itself, one
    quarter at a time (``progress(done, total)`` is called after each), and keeps the national
    values of its last :data:`HISTORY` quarters in ``history`` (quarters ``1 - HISTORY`` .. 0), so
    that the plots open on the stationary state with a window of history. ``lever_origin``
    says for each lever where its value came from (the case and preset, or the control).
    """

    def __init__(
        self,
        case: str | None = None,
        governance: str | None = None,
        seed: Any = 0,
        scenario: Any = None,
        progress: Callable[[int, int], None] | None = None,
        **controls,
    ):
        # ``scenario``: Mesa's reset passes its own (empty) Scenario object; the case is ours.
        all_cases = cases()
        self.case = all_cases.get(case) or next(iter(all_cases.values()))
        explicit = self.case.params()
        governance = governance or explicit.get("governance", BY_NAME["governance"].default)
        first = next(iter(all_cases.values()))
        initial = start_values(first, first.params().get("governance", BY_NAME["governance"].default))
        self.lever_origin: dict[str, str] = {}
        moved = {}
        if "symbiosis" in controls and controls["symbiosis"] != initial["symbiosis"]:
            moved["symbiosis"] = controls["symbiosis"]
            self.lever_origin["symbiosis"] = "set here"
        else:
            self.lever_origin["symbiosis"] = "scenario file" if "symbiosis" in explicit else f"{governance} model"
        for p in levers():
            if p.name in controls and controls[p.name] != initial[p.name]:
                moved[p.name] = controls[p.name]
                self.lever_origin[p.name] = "set here"
            else:
                self.lever_origin[p.name] = "scenario file" if p.name in explicit else f"{governance} preset/default"
        self.notes: list[str] = []
        text = str(seed).strip()
        if text.isdigit():
            seed_value = int(text)
        else:
            seed_value = 0
            self.notes.append(f"seed {text!r} is not a non-negative integer; seed 0 used")
        params = explicit | {"governance": governance} | moved
        burn_in = resolve(params, "app")["burn_in"]
        # a cold start: the page shows the burn-in as StateBusinessModel.__init__ runs it, observed in
        # its last HISTORY quarters (a scenario's start = "warm" does not apply to the app)
        super().__init__(rng=seed_value, **(params | {"burn_in": 0, "start": "cold"}))
        self.history: list[dict[str, float]] = []
        for i in range(burn_in):
            observe = i >= burn_in - HISTORY
            self._quarter(observe=observe)
            if observe:
                self.history.append(dict(self.recorder._national_now))
            if progress is not None:
                progress(i + 1, burn_in)
        self.params["burn_in"] = burn_in
        self.running = self.params["steps"] > 0


#: Stationary states built in this server process: (class, parameters) -> the model after its
#: burn-in. A Reset with controls already built is a copy, not a burn-in.
_STATIONARY: dict[tuple, StateBusinessModel] = {}
_STATIONARY_MAX = 24


def build(progress: Callable[[int, int], None] | None = None, **kwargs) -> AppModel:
    """An :class:`AppModel` for the controls' values ``kwargs``, at the stationary state: a copy of
    one built before in this process with the same values, else built now (its burn-in reports
    to ``progress``)."""
    key = tuple(sorted((k, str(v)) for k, v in kwargs.items() if k != "scenario"))
    model = _STATIONARY.get(key)
    if model is None:
        model = AppModel(progress=progress, **kwargs)
        if len(_STATIONARY) >= _STATIONARY_MAX:
            _STATIONARY.pop(next(iter(_STATIONARY)))
        _STATIONARY[key] = copy.deepcopy(model)
        return model
    if progress is not None:
        progress(1, 1)
    return copy.deepcopy(model)
