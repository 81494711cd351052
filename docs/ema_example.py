"""Drive statebiz with EMA Workbench (see docs/ema_workbench.md).

    python docs/ema_example.py            # 16 scenarios x 4 policies, serial; then PRIM

Every experiment is one run of the model (``simulation.runner.run_model``) on the same seed.
"""

from __future__ import annotations


def run_example(scenarios: int = 16, policies: int = 4, firms: int = 1000, steps: int = 12):
    """Run ``scenarios`` x ``policies`` experiments with EMA's SequentialEvaluator; returns
    EMA's ``(experiments, outcomes)``."""
    from ema_workbench import (
        CategoricalParameter,
        RealParameter,
        ScalarOutcome,
        SequentialEvaluator,
    )

    from simulation.analysis.ema import statebiz_model

    model = statebiz_model(
        name="statebiz",
        uncertainties=[
            RealParameter("power_strength", 0.2, 0.8),
            RealParameter("business_strength", 0.1, 0.9),
            CategoricalParameter("governance", ["partnership", "symbiotic"]),
        ],
        levers=[
            RealParameter("transparency", 0.0, 1.0),
            RealParameter("audit_penalty", 0.0, 20.0),
        ],
        outcomes=[
            ScalarOutcome("corruption_incidence", kind=ScalarOutcome.MINIMIZE),
            ScalarOutcome("business_satisfied", kind=ScalarOutcome.MAXIMIZE),
        ],
        steps=steps,
        seed=1,
        firms=firms,
        residents_per_region=200,
    )
    with SequentialEvaluator(model) as evaluator:
        return evaluator.perform_experiments(scenarios=scenarios, policies=policies)


if __name__ == "__main__":
    from ema_workbench.analysis import prim

    experiments, outcomes = run_example()
    x = experiments[["power_strength", "business_strength", "governance", "transparency", "audit_penalty"]]
    y = outcomes["corruption_incidence"] < 0.3
    print(f"{y.sum()} of {len(y)} experiments have corruption incidence below 30%")
    box = prim.Prim(x, y, peel_alpha=0.1).find_box()
    print(box.inspect(style="table") if hasattr(box, "inspect") else box.box_lim)
