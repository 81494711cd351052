"""The survey's figures of issue 22, finding 6, at the calibration's posterior medians.

Runs Turkestan (scenarios/turkestan_calibrated.toml: its parameters, a smaller world) to the
stationary state, surveys it (``simulate_survey``: population shares, the fixed answer rules)
and prints, per seed and as the mean over the seeds, next to the paper's values:

- Table 5: residents' mean score (1-5) in total and by cohort;
- Table 6: the shares per utility, the spread across the four utilities (the standard deviation
  across utilities of each answer's share, averaged over the three answers; the paper: 0.032),
  and the largest "partially" share;
- Table 7: the share of entrepreneurs dissatisfied with support, by owner cohort (the paper:
  30-39 56%);
- the owners' cohorts' mean firm age (quarters).

It reads the model and changes nothing. The posterior was fitted to an earlier model: the
figures show what the mechanisms do at that point, not a fit.

Usage (from the repository root):
    python tools/survey_figures.py                         4 seeds, 1,500 firms, burn-in 150
    python tools/survey_figures.py --set resident_noise=0.8 --seeds 1 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.model import StateBusinessModel  # noqa: E402
from simulation.observe.survey import COHORTS, observed_tables, simulate_survey  # noqa: E402
from simulation.scenario import read_scenario_file  # noqa: E402


def posterior_medians() -> dict:
    """The calibrated parameters of scenarios/turkestan_calibrated.toml, without its size."""
    flat, _ = read_scenario_file(ROOT / "scenarios" / "turkestan_calibrated.toml")
    for key in ("firms", "residents_per_region", "steps", "burn_in"):
        flat.pop(key, None)
    return flat


def utility_spread(shares: np.ndarray) -> float:
    """Standard deviation (ddof 1) across the utilities of each answer's share, averaged over answers."""
    return float(np.asarray(shares).std(axis=0, ddof=1).mean())


def figures(shares: dict, model) -> dict:
    t5 = np.asarray(shares["table5"]["by_cohort"])
    t5_total = np.asarray(shares["table5"]["total"])
    t6 = np.asarray(shares["table6"]["total"])
    t7 = np.asarray(shares["table7"]["by_cohort"])
    f = model.world.firms
    alive = f.alive
    return {
        "t5_mean": float(t5_total @ np.arange(1, 6)),
        "t5_mean_by_cohort": (t5 @ np.arange(1, 6)).tolist(),
        "t6": t6,
        "t6_spread": utility_spread(t6),
        "t6_partially_max": float(t6[:, 1].max()),
        "t7_dissatisfied": t7[:, 2].tolist(),
        "firm_age_by_cohort": [float(f.age[alive & (f.cohort == c)].mean()) for c in range(4)],
    }


def observed() -> dict:
    obs = observed_tables()
    t5 = np.asarray(obs["table5"], dtype=float)
    t6 = np.asarray(obs["table6"], dtype=float)
    t6 = t6 / t6.sum(axis=1, keepdims=True)
    t7 = np.asarray(obs["table7"], dtype=float)
    return {
        "t5_mean": float((t5.sum(axis=0) / t5.sum()) @ np.arange(1, 6)),
        "t5_mean_by_cohort": ((t5 / t5.sum(axis=1, keepdims=True)) @ np.arange(1, 6)).tolist(),
        "t6": t6,
        "t6_spread": utility_spread(t6),
        "t6_partially_max": float(t6[:, 1].max()),
        "t7_dissatisfied": (t7[:, 2] / t7.sum(axis=1)).tolist(),
    }


def show(label: str, d: dict) -> str:
    fmt = lambda xs: " ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    line = (
        f"{label:10} T5 mean {d['t5_mean']:.2f} (by cohort {fmt(d['t5_mean_by_cohort'])}); "
        f"T6 spread {d['t6_spread']:.3f}, max partially {d['t6_partially_max']:.3f}; "
        f"T7 dissatisfied by cohort {fmt(d['t7_dissatisfied'])}"
    )
    if "firm_age_by_cohort" in d:
        line += f"; firm age by owner cohort {' '.join(f'{x:.0f}' for x in d['firm_age_by_cohort'])} q"
    return line


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--firms", type=int, default=1500)
    ap.add_argument("--residents", type=int, default=2000)
    ap.add_argument("--burn-in", type=int, default=150)
    ap.add_argument("--set", action="append", default=[], help="name=value: override a parameter")
    args = ap.parse_args(argv)
    params = posterior_medians()
    for item in args.set:
        name, value = item.split("=", 1)
        params[name] = float(value)
    runs = []
    for seed in args.seeds:
        model = StateBusinessModel(
            rng=seed, firms=args.firms, residents_per_region=args.residents, burn_in=args.burn_in, steps=1, **params
        )
        model.run()
        d = figures(simulate_survey(model).population_shares, model)
        runs.append(d)
        print(show(f"seed {seed}", d))
    mean = {k: np.mean([r[k] for r in runs], axis=0) for k in runs[0]}
    print(show("mean", mean))
    print("Table 6 (mean) satisfied/partially/dissatisfied per utility (heat, water, power, gas):")
    print(np.round(mean["t6"], 3).tolist())
    print(show("paper", observed()))
    print("cohorts:", ", ".join(COHORTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
