"""How noisy is one likelihood estimate? The calibration's estimators side by side on the same runs.

Runs the model ``--runs`` times (new seeds) at each model's posterior medians of a stored fit, at the fit's
size, then draws 200 groups of k runs from them (k = 2, 4, 8) and computes each group's likelihood estimate
with the mean of the runs' likelihoods (``mean_likelihood``, the exact pseudo-marginal estimator) and with
the ensemble likelihood (``ensemble``, ``simulation.calibration.likelihood.ensemble_log_likelihood``). The
standard deviation over the groups is the estimator's noise at that point (within the pool of runs; the
pool's finite size makes it a slight underestimate); the mean shows how far the two estimators' targets
lie apart. Pseudo-marginal moves tolerate a noise of 1-2 nats (Doucet, Pitt, Deligiannidis & Kohn 2015).

Usage (from the repository root):
    python tools/estimator_noise.py                  the reduced fit, 16 runs per model, 1 worker
    python tools/estimator_noise.py --runs 32 --workers 2
    python tools/estimator_noise.py --posterior docs/calibration/posterior.csv \
        --calibration experiments/calibration_turkestan.toml --set firms=4000 --set residents_per_region=3200
"""

from __future__ import annotations

import argparse
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.calibration.config import load_calibration, survey_design  # noqa: E402
from simulation.calibration.likelihood import (  # noqa: E402
    ensemble_log_likelihood,
    log_likelihood,
    observed_statistics,
    run_survey_model,
)

FIT = ROOT / "docs" / "calibration" / "measured" / "reduced_fit"
FLOOR = 0.005


def _run(job):
    calibration, model, values, seed, given = job
    stats, _ = run_survey_model(load_calibration(calibration).run_parameters(model, values) | given, seed)
    return stats


def _setting(text: str) -> tuple[str, int]:
    """``--set firms=4000``: a size of the run (firms or residents_per_region, a whole number)."""
    key, _, value = text.partition("=")
    if key not in ("firms", "residents_per_region") or not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected firms=N or residents_per_region=N, N a positive whole number"
        )
    return key, int(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posterior", default=str(FIT / "posterior.csv"))
    parser.add_argument("--calibration", default=str(FIT / "calibration_reduced.toml"))
    parser.add_argument("--runs", type=int, default=16, help="runs per model (new seeds 5000, 5001, ...)")
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--draws", type=int, default=2000, help="the ensemble likelihood's draws")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--set",
        type=_setting,
        action="append",
        default=[],
        help="a size other than the fit's: firms=N, residents_per_region=N",
    )
    args = parser.parse_args(argv)
    given = dict(args.set)
    calib = load_calibration(args.calibration)
    post = pd.read_csv(args.posterior)
    observed, deffs = observed_statistics(), survey_design()["design_effects"]
    for model in calib.models:
        group = post[post["model"] == model]
        values = {p: float(group[p].median()) for p in calib.free() if p in group}
        jobs = [(args.calibration, model, values, 5000 + s, given) for s in range(args.runs)]
        with ProcessPoolExecutor(args.workers) as pool:
            runs = list(pool.map(_run, jobs))
        ll = np.array([log_likelihood(r, observed, deffs, FLOOR) for r in runs])
        print(
            f"{model}: one run's log likelihood: median {np.median(ll):.1f}, sd {ll.std():.1f}, "
            f"range {ll.min():.1f} to {ll.max():.1f} ({args.runs} runs at the medians)"
        )
        rng = np.random.default_rng(0)
        for k in (2, 4, 8):
            if k > args.runs:
                continue
            mean_lik, ens = [], []
            for g in range(args.groups):
                idx = rng.choice(args.runs, k, replace=False)
                top = ll[idx].max()
                mean_lik.append(top + math.log(np.mean(np.exp(ll[idx] - top))))
                ens.append(
                    ensemble_log_likelihood(
                        [runs[i] for i in idx], observed, deffs, FLOOR, np.random.default_rng(g), args.draws
                    )
                )
            print(
                f"  k = {k}: mean_likelihood mean {np.mean(mean_lik):7.1f} sd {np.std(mean_lik):5.1f} | "
                f"ensemble mean {np.mean(ens):7.1f} sd {np.std(ens):5.1f}"
            )
        top = ll.max()
        every = ensemble_log_likelihood(runs, observed, deffs, FLOOR, np.random.default_rng(1), 5 * args.draws)
        print(
            f"  all {args.runs} runs: mean_likelihood {top + math.log(np.mean(np.exp(ll - top))):.1f}, "
            f"ensemble {every:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
