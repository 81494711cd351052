"""Seed noise of the sensitivity's outputs at one point: the noise floor of Morris mu*.

``statebiz sensitivity`` runs every design point on one seed (common random numbers). A change of any
parameter still reshuffles the run's random events, so an elementary effect carries seed noise: where
a parameter's change decorrelates the two runs fully, the elementary effect (y(x + D) - y(x)) / D of a
parameter without any effect has a mean absolute value of 2 sd / sqrt(pi) / D = 1.69 sd (D = 2/3, the
step of the 4-level design in units of the range), sd being the output's seed sd at that point. This
tool measures that sd for every output of the sensitivity (s = 0, s = 1 and their difference, runs
paired by seed), at the calibration's run size and the fitted parameters' point given by ``--at``;
``seed_sd_robust`` is 1.4826 x the median absolute deviation (the log likelihood's seed noise has
heavy tails).

Usage (from the repository root):
    python tools/sensitivity_noise.py docs/calibration/measured/reduced_fit/calibration_reduced.toml \
        --at moral_cost=0.0211,experience_scale=277 --seeds 16 --out noise.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulation.calibration import load_calibration  # noqa: E402
from simulation.calibration import sensitivity as sens  # noqa: E402
from simulation.calibration.likelihood import _failed_statistics, observed_statistics  # noqa: E402

#: Step of the 4-level Morris design in units of a parameter's range (SALib: levels / (2 (levels - 1))).
DELTA = 4 / (2 * 3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("calibration")
    ap.add_argument("--at", default="", help="name=value,... of the fitted parameters (as statebiz sensitivity)")
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--out", default=None, help="CSV of the per-output noise, and beside it <name>_runs.csv (the runs)")
    args = ap.parse_args(argv)
    calib = load_calibration(args.calibration)
    at = sens.check_at(calib, {k: float(v) for k, v in (i.split("=") for i in args.at.split(",") if i)})
    observed = observed_statistics()
    deffs = calib.design_effects({"design_effect": 2.0})
    seeds = np.random.SeedSequence([calib.seed, 77]).generate_state(args.seeds)
    rows = []
    for seed in map(int, seeds):
        row = {"seed": seed}
        for tag, model in (("s0", "partnership"), ("s1", "symbiotic")):
            params = calib.run_parameters(model, at)
            try:
                stats, headline = sens.survey_run(params, seed)
            except ValueError:
                stats, headline = _failed_statistics(), {k: float("nan") for k in sens.HEADLINE}
            summary = sens.survey_summary(stats, observed, deffs) | headline
            row |= {f"{tag}_{k}": v for k, v in summary.items()}
        row |= {f"diff_{k}": row[f"s1_{k}"] - row[f"s0_{k}"] for k in sens.OUTPUTS}
        rows.append(row)
        print(f"seed {seed}: s0 loglik {row['s0_loglik']:.1f}, s1 {row['s1_loglik']:.1f}", file=sys.stderr, flush=True)
    runs = pd.DataFrame(rows)
    out = pd.DataFrame(
        [
            {
                "output": c,
                "mean": runs[c].mean(),
                "seed_sd": runs[c].std(ddof=1),
                "seed_sd_robust": 1.4826 * (runs[c] - runs[c].median()).abs().median(),
                "median": runs[c].median(),
                "min": runs[c].min(),
                "max": runs[c].max(),
                "mu_star_noise_floor": 2 * runs[c].std(ddof=1) / np.sqrt(np.pi) / DELTA,
                "seeds": int(runs[c].notna().sum()),
            }
            for c in runs.columns
            if c != "seed"
        ]
    )
    print(out.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.out:
        out.to_csv(args.out, index=False, float_format="%.6g")
        runs.to_csv(Path(args.out).with_name(Path(args.out).stem + "_runs.csv"), index=False, float_format="%.6g")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
