"""A thin adapter for EMA Workbench users: the model as an ``ema_workbench.Model``.

EMA Workbench drives any Python function that takes parameters by keyword and returns a
dict of outcomes; :func:`simulation.runner.run_model` is such a function. This module only
checks the names and ranges against the parameter and outcome registries (one-line errors)
and fixes the seed, the quarters and any other parameter as EMA ``Constant`` s::

    from ema_workbench import RealParameter, ScalarOutcome, perform_experiments
    from simulation.analysis.ema import statebiz_model

    model = statebiz_model(
        uncertainties=[RealParameter("power_strength", 0.2, 0.8)],
        levers=[RealParameter("transparency", 0.0, 1.0)],
        outcomes=[ScalarOutcome("corruption_incidence", kind=ScalarOutcome.MINIMIZE)],
        steps=12, seed=1, firms=1000,
    )
    experiments, outcomes = perform_experiments(model, scenarios=20, policies=4)

See ``docs/ema_workbench.md`` and ``docs/ema_example.py``.
"""

from __future__ import annotations

from typing import Any

from ..runner import run_model
from ..scenario import BY_NAME, ScenarioError, resolve


def statebiz_model(
    name: str = "statebiz",
    uncertainties=(),
    levers=(),
    outcomes=(),
    steps: int | None = None,
    seed: int = 0,
    **fixed: Any,
):
    """An ``ema_workbench.Model`` running :func:`~simulation.runner.run_model`.

    Args:
        name: the model's name (an identifier, as EMA requires).
        uncertainties, levers: EMA parameters (``RealParameter``, ``IntegerParameter``,
            ``CategoricalParameter``) named after scenario parameters (``statebiz params``).
        outcomes: EMA ``ScalarOutcome`` s named after outcomes of the registry.
        steps: reported quarters (default: the scenario default); seed: the seed of every run
            (one seed: EMA's experiments differ only in their parameters, common random numbers).
        **fixed: other parameters held constant (e.g. ``firms=1000``).

    Raises:
        ScenarioError: an unknown parameter or outcome, or a range outside the parameter's.
    """
    from ema_workbench import Constant, Model

    from ..observe.outcomes import NAMES

    for p in [*uncertainties, *levers]:
        if p.name not in BY_NAME:
            raise ScenarioError(f"EMA parameter '{p.name}': not a scenario parameter (see `statebiz params`)")
        reg = BY_NAME[p.name]
        for bound in ("lower_bound", "upper_bound"):
            value = getattr(p, bound, None)
            if value is not None and reg.low is not None and not reg.low <= value <= reg.high:
                raise ScenarioError(
                    f"EMA parameter '{p.name}': {bound} {value!r} is outside its range [{reg.low}, {reg.high}]"
                )
    for o in outcomes:
        if o.name not in NAMES:
            raise ScenarioError(
                f"EMA outcome '{o.name}': not an outcome of run_model (simulation.observe.outcomes.NAMES)"
            )
    resolve(dict(fixed), "statebiz_model(**fixed)")  # unknown names or bad values: one line
    model = Model(name, function=run_model)
    model.uncertainties = list(uncertainties)
    model.levers = list(levers)
    model.outcomes = list(outcomes)
    constants = {"seed": seed, **({"steps": steps} if steps is not None else {}), **fixed}
    model.constants = [Constant(k, v) for k, v in constants.items()]
    return model
