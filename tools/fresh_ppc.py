"""Posterior predictive check from fresh runs: draws of a fit's posterior, each run again on a new seed.

The fit's own predictive checks (``ppc.csv``) use the statistics stored with each final particle: the
very runs whose likelihood estimates kept the particle alive. With a noisy estimator (few runs per
estimate, small worlds) the survivors are the lucky runs, and those checks are optimistic. Here each
draw runs once more, on a seed the fit never used, and the shares are averaged over the draws (the
posterior predictive mean); per table the Pearson X^2 and the Rao-Scott p at the survey design's
effect (2.06 residents, 1.24 entrepreneurs).

A fit now makes these checks itself (``[smc] fresh_draws``: ppc_fresh.csv, coverage_fresh.csv, through
simulation.calibration.checks.fresh_checks, with the predictive p-value as well); ``tools/fresh_checks.py``
makes the fit's own checks for a stored posterior.csv and writes them as a fit would; this tool is the quick
look (the misfit of the draws' mean shares per table, printed).

Usage (from the repository root):
    python tools/fresh_ppc.py docs/calibration/measured/reduced_fit/posterior.csv
    python tools/fresh_ppc.py POSTERIOR --draws 16 \
        --calibration docs/calibration/measured/reduced_fit/calibration_reduced.toml
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import chi2

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.calibration.config import load_calibration, survey_design  # noqa: E402
from simulation.calibration.likelihood import observed_statistics, statistics_from_shares  # noqa: E402
from simulation.model import StateBusinessModel  # noqa: E402
from simulation.observe.survey import TABLES, simulate_survey  # noqa: E402


def _run(job):
    path, model, values, seed = job
    calib = load_calibration(path)
    m = StateBusinessModel(rng=seed, **calib.run_parameters(model, values))
    m.run()
    return model, statistics_from_shares(simulate_survey(m).population_shares)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("posterior", help="a fit's posterior.csv (columns model, weight and the free parameters)")
    parser.add_argument("--draws", type=int, default=16, help="posterior draws per model, one run each (default 16)")
    parser.add_argument("--calibration", default=str(ROOT / "experiments" / "calibration_turkestan.toml"))
    parser.add_argument("--seed", type=int, default=99, help="seed of the draws; run k uses seed 900000 + k")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    post = pd.read_csv(args.posterior)
    jobs = []
    for model, group in post.groupby("model"):
        rng = np.random.default_rng(args.seed)
        weights = (group["weight"] / group["weight"].sum()).to_numpy()
        for k, i in enumerate(rng.choice(len(group), size=args.draws, p=weights)):
            values = {c: float(group.iloc[i][c]) for c in group.columns if c not in ("model", "weight")}
            jobs.append((args.calibration, model, values, 900000 + k))
    shares: dict[str, dict[str, list]] = {}
    with ProcessPoolExecutor(args.workers) as pool:
        for model, stats in pool.map(_run, jobs):
            for t, v in stats.items():
                shares.setdefault(model, {}).setdefault(t, []).append(v)
    observed = observed_statistics()
    effects = survey_design()["design_effects"]
    for model, by_table in shares.items():
        for t in TABLES:
            n = 198 if t in ("table5", "table6") else 58
            deff = effects["population" if n == 198 else "entrepreneurs"]
            p = np.maximum(np.nanmean(by_table[t], axis=0), 0.005)
            o = observed[t]
            rows = 4 if t == "table6" else 1
            df = rows * (len(o) // rows - 1)
            x2 = float((n * (o - p) ** 2 / p).sum())
            print(
                f"{model} {t}: observed {np.round(o * n).astype(int).tolist()} simulated {np.round(p * n, 1).tolist()} "
                f"X2 {x2:.1f} ({df} df) p {chi2.sf(x2 / deff, df):.2g}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
