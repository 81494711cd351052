"""Why a posterior piles at a prior bound: the fit's log likelihood and each table's misfit along one
parameter, the others at the model's posterior medians (issue 25, item 3).

A posterior that puts much of its mass in the last tenth of a prior range has either met a bound
that is real (a share cannot fall below 0), or been cut off by a range that is too narrow, or sits on
a plateau where the data stop telling values apart. A profile tells which: the log likelihood of the
paper's totals (the fit's own, at the survey's design effects) and the Rao-Scott X^2 of each table,
at points from the bound to the posterior median, averaged over the same seeds at every point
(common random numbers: the differences between points are less noisy than the levels). With
``--beyond`` it also runs points outside the registered range, by widening the registry's bound in
this process only: a check of whether the range cuts off a mode, not a value any scenario may use.

Usage (from the repository root):
    python tools/bound_profiles.py                      the reduced fit's piles (docs/calibration/measured/reduced_fit)
    python tools/bound_profiles.py --profile symbiotic:experience_scale:100,300,1000 --beyond 3000,10000
    python tools/bound_profiles.py --seeds 8 --workers 2 --out results/bound_profiles.csv
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation import parameters  # noqa: E402
from simulation.calibration.checks import _observed_counts  # noqa: E402
from simulation.calibration.config import load_calibration, survey_design  # noqa: E402
from simulation.calibration.likelihood import (  # noqa: E402
    log_likelihood,
    observed_statistics,
    run_survey_model,
    table_chi_square,
)
from simulation.observe.survey import TABLES  # noqa: E402

FIT = ROOT / "docs" / "calibration" / "measured" / "reduced_fit"
#: Points per profile between the bound and the median, when a profile names none.
POINTS = 5


def _widen(names_high: dict[str, float]) -> None:
    """Raise registered upper bounds in this process (``--beyond``): the check of a range, never a scenario."""
    for name, high in names_high.items():
        spec = parameters.BY_NAME[name]
        parameters.BY_NAME[name] = dataclasses.replace(spec, high=max(float(spec.high), high))


def _task(args) -> dict:
    widen, params, seed = args
    _widen(widen)
    stats, _ = run_survey_model(params, seed)
    return stats


def default_grid(row: pd.Series, points: int = POINTS) -> list[float]:
    """From the bound the mass piles at to the posterior median: evenly spaced, in log space for a
    log-uniform prior."""
    low, high, median = float(row["prior_low"]), float(row["prior_high"]), float(row["median"])
    at = low if row["mass_bottom_tenth"] >= row["mass_top_tenth"] else high
    log = row["prior"] == "loguniform"
    if log:
        return sorted(set(np.round(np.exp(np.linspace(np.log(at), np.log(median), points)), 6).tolist()))
    return sorted(set(np.round(np.linspace(at, median, points), 6).tolist()))


def profiles(posterior: Path, calibration: Path, wanted: list[str], beyond: list[float], seeds: int, workers: int):
    """Rows: model, parameter, value, in_range, the seeds' mean log likelihood, its standard error and median,
    and per table the X^2, df and Rao-Scott p of the seeds' mean shares."""
    calib = load_calibration(calibration)
    post = pd.read_csv(posterior)
    summary = pd.read_csv(posterior.parent / "posterior_summary.csv")
    deffs = survey_design()["design_effects"]
    observed = observed_statistics()
    counts = {t: c for t, c in _observed_counts().items() if t in TABLES}  # the paper's counts, the fitted rows
    jobs = []
    if wanted:
        for item in wanted:
            model, name, *values = item.split(":")
            if values:  # any registered parameter, fitted or hand-set, at the values given
                grid = [float(v) for v in values[0].split(",")]
            else:
                row = summary[(summary["model"] == model) & (summary["parameter"] == name)].iloc[0]
                grid = default_grid(row)
            jobs.append((model, name, grid))
    else:
        for _, row in summary[summary["piles_at_bound"]].iterrows():
            jobs.append((row["model"], row["parameter"], default_grid(row)))
    rows = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for model, name, grid in jobs:
            medians = post[post["model"] == model].drop(columns=["model"]).median(numeric_only=True)
            free = [p for p in calib.free() if p in medians.index]
            base = {p: float(medians[p]) for p in free}
            high = float(parameters.BY_NAME[name].high)
            at_top = max(grid) >= high  # only a profile that reaches the upper bound goes beyond it
            points = [(v, True) for v in grid] + [(v, False) for v in beyond if at_top and v > high]
            widen = {name: max(v for v, _ in points)}
            for value, in_range in points:
                values = base | {name: value}
                params = calib.run_parameters(model, values | {name: min(value, high)}) | {name: value}
                started = time.perf_counter()
                stats = list(pool.map(_task, [(widen, params, 1000 + s) for s in range(seeds)]))
                ll = np.array([log_likelihood(s, observed, deffs, 0.005) for s in stats])
                mean = {t: np.mean([s[t] for s in stats], axis=0) for t in TABLES}
                row = {
                    "model": model,
                    "parameter": name,
                    "value": value,
                    "in_range": in_range,
                    "log_likelihood": float(ll.mean()),
                    "log_likelihood_se": float(ll.std(ddof=1) / np.sqrt(len(ll))) if len(ll) > 1 else np.nan,
                    "log_likelihood_median": float(np.median(ll)),
                    "log_likelihood_of_mean_shares": log_likelihood(mean, observed, deffs, 0.005),
                }
                row |= {
                    f"table8_share_{k}": float(v) for k, v in zip(("positively", "partially", "none"), mean["table8"])
                }
                for r in table_chi_square(mean, counts, deffs):
                    row[f"{r['table']}_x2"] = r["x2"]
                    row[f"{r['table']}_p"] = r["p_value"]
                rows.append(row)
                print(
                    f"{model:12s} {name:18s} {value:>10.4g}{'' if in_range else ' (beyond the range)'}: "
                    f"log L {row['log_likelihood']:7.1f} +- {row['log_likelihood_se']:4.1f} "
                    f"(median {row['log_likelihood_median']:6.1f}); X^2 "
                    + " ".join(f"T{t[-1]} {row[f'{t}_x2']:6.1f}" for t in TABLES)
                    + f"; T8 positively {58 * row['table8_share_positively']:.1f} of 58"
                    + f"  [{time.perf_counter() - started:.0f} s]",
                    flush=True,
                )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posterior", default=str(FIT / "posterior.csv"))
    parser.add_argument("--calibration", default=str(FIT / "calibration_reduced.toml"))
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="MODEL:PARAMETER[:V1,V2,...]",
        help="a profile to run (default: every parameter the posterior summary flags as piling at a bound)",
    )
    parser.add_argument(
        "--beyond", default="", help="values above the registered range for profiles that reach its top (a check)"
    )
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", default="results/bound_profiles.csv")
    args = parser.parse_args(argv)
    beyond = [float(v) for v in args.beyond.split(",") if v]
    table = profiles(Path(args.posterior), Path(args.calibration), args.profile, beyond, args.seeds, args.workers)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        print(f"{out}: exists; not replaced", file=sys.stderr)
        return 2
    table.to_csv(out, index=False)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
