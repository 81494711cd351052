"""run_model: the boundary between the model and any experiment tool (EMA Workbench style)."""

from __future__ import annotations

from typing import Any

from .model import StateBusinessModel


def run_model(steps: int | None = None, seed: int = 0, **params: Any) -> dict[str, float]:
    """Run one replication and return end-of-run scalar outcomes.

    Args:
        steps: reported quarters (default: the ``steps`` parameter, 40).
        seed: the run's seed (a non-negative integer); every random draw derives from it.
        **params: any scenario parameter by its name (see ``simulation.scenario.PARAMETERS``).

    Returns:
        Means over the last 4 reported quarters of the national aggregates: the six Figure 2
        KPIs, regime shares (overall ``regime_*`` and per Table 1 quadrant), corruption
        incidence, business and population satisfaction shares, HHI, informality, insiders'
        share of support, PPP counts, power and the corrupt share.
    """
    if steps is not None:
        params["steps"] = steps
    model = StateBusinessModel(rng=seed, **params)
    model.run()
    return model.outcomes()
