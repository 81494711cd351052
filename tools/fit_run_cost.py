"""What one run of the calibration costs, and where the time goes.

A fit is thousands of runs of one Turkestan world from its start to the survey (the burn-in and the
reported quarters; ``simulation.calibration.likelihood.run_survey_model``). This runs the fit's run at each
model's posterior medians of a stored fit, at the fit's size and at larger ones, on one core, and prints
per size the CPU seconds of the build (the start), of the quarters and of the survey, the CPU
milliseconds of a quarter, and a line through the quarters' cost against the number of firms: its
intercept is what a quarter costs whatever the size (the Python between the passes), its slope what each
firm costs. It then splits one run at the fit's size into the time spent inside the compiled passes
(``simulation.kernels.jit.Kernel``, timed around each call) and the rest. CPU time (``process_time``), so a
busy machine slows it less than the wall clock; repeat it beside the code it is compared with.

Usage (from the repository root):
    python tools/fit_run_cost.py                                   the shipped fit, 1,000/4,000/16,000 firms, 3 seeds
    python tools/fit_run_cost.py --firms 1000 2000 --seeds 5 --model partnership
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation import initialisation  # noqa: E402
from simulation.calibration.config import load_calibration  # noqa: E402
from simulation.kernels import jit  # noqa: E402
from simulation.model import StateBusinessModel, compile_kernels  # noqa: E402
from simulation.observe.survey import simulate_survey  # noqa: E402


def one_run(params: dict, seed: int) -> tuple[float, float, float, int]:
    """CPU seconds of the build (``initialisation.build``, timed around its call), the quarters and the survey of
    one fit run, and its number of quarters."""
    spent = [0.0]
    original = initialisation.build

    def timed(*args, **kwargs):
        t = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - t

    initialisation.build = timed
    try:
        start = time.process_time()
        model = StateBusinessModel(rng=seed, **params)
        model.run()
        ran = time.process_time()
    finally:
        initialisation.build = original
    simulate_survey(model)
    surveyed = time.process_time()
    return spent[0], ran - start - spent[0], surveyed - ran, params["burn_in"] + params["steps"]


def kernel_share(params: dict, seed: int) -> tuple[float, float, int]:
    """CPU seconds of one fit run, of it inside the compiled passes, and the number of pass calls."""
    spent, calls = [0.0], [0]
    original = jit.Kernel.__call__

    def timed(self, *args):
        t = time.process_time()
        try:
            return original(self, *args)
        finally:
            spent[0] += time.process_time() - t
            calls[0] += 1

    jit.Kernel.__call__ = timed
    try:
        t = time.process_time()
        StateBusinessModel(rng=seed, **params).run()
        total = time.process_time() - t
    finally:
        jit.Kernel.__call__ = original
    return total, spent[0], calls[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibration", default=str(ROOT / "experiments" / "calibration_turkestan.toml"))
    parser.add_argument("--posterior", default=str(ROOT / "docs" / "calibration" / "posterior.csv"))
    parser.add_argument("--model", default="fitted", help="whose posterior medians (default: fitted)")
    parser.add_argument("--firms", type=int, nargs="+", default=[1000, 4000, 16000])
    parser.add_argument("--seeds", type=int, default=3, help="runs per size (seeds 1, 2, ...)")
    args = parser.parse_args(argv)
    calib = load_calibration(args.calibration)
    if args.model not in calib.models:
        print(f"fit_run_cost: --model {args.model!r}: the calibration's models are {', '.join(calib.models)}")
        return 2
    post = pd.read_csv(args.posterior)
    group = post[post["model"] == args.model]
    if group.empty:
        print(f"fit_run_cost: {args.posterior}: no rows of model {args.model!r}")
        return 2
    values = {p: float(group[p].median()) for p in calib.free() if p in group}
    params = calib.run_parameters(args.model, values)
    compile_kernels()
    StateBusinessModel(rng=0, **(params | {"firms": 200, "burn_in": 4})).run()  # warm every path once
    print(
        f"{args.model} at its posterior medians ({args.posterior}); {params['burn_in']} + {params['steps']} "
        f"quarters, {params.get('residents_per_region')} residents; CPU seconds, mean of {args.seeds} seeds"
    )
    print(f"{'firms':>7} {'build':>7} {'quarters':>9} {'survey':>7} {'run':>7} {'ms a quarter':>13}")
    per_quarter = []
    for firms in args.firms:
        rows = np.array([one_run(params | {"firms": firms}, seed) for seed in range(1, args.seeds + 1)])
        build, quarters, survey, n_quarters = rows.mean(axis=0)
        per_quarter.append(1000 * quarters / n_quarters)
        print(
            f"{firms:7d} {build:7.3f} {quarters:9.3f} {survey:7.3f} {build + quarters + survey:7.3f} "
            f"{per_quarter[-1]:13.2f}"
        )
    if len(args.firms) >= 2:
        slope, intercept = np.polyfit(np.array(args.firms, dtype=float), per_quarter, 1)
        print(
            f"a quarter: {intercept:.2f} ms whatever the size + {1000 * slope:.2f} us a firm "
            f"(least squares over {len(args.firms)} sizes)"
        )
    total, inside, calls = kernel_share(params | {"firms": args.firms[0]}, 1)
    print(
        f"one run at {args.firms[0]} firms: {total:.3f} CPU s, of it {inside:.3f} s ({100 * inside / total:.0f}%) "
        f"inside {calls} calls of the compiled passes, the rest the Python and numpy between them"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
