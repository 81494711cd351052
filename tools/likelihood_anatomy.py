"""Where one run's log likelihood comes from: each table's share, and the state of the run that sets it.

Runs the model ``--runs`` times (seeds 5000, 5001, ..., as ``tools/estimator_noise.py``) at each model's
posterior medians of a stored fit, at the fit's size, and prints per run: the log likelihood of Tables
5-9 under the design's error model (the calibration's ``log_likelihood``, table by table), and what
the residents and the budget read at the end of the run: the services, wage and jobs terms of the
residents' disposition (ODD 7.10; the wage term is what the current model reads, its growth over 4
quarters), the real-wage KPI's level (index, first quarter of the burn-in = 100), the region's
taxes, central transfer and budget, and the largest firm's share of capital. A summary gives each
table's median and sd over the runs. This is how MEASURED 14 traced the likelihood's noise to the
wage signal (docs/calibration/MEASURED.md).

Usage (from the repository root):
    python tools/likelihood_anatomy.py                       the reduced fit, 24 runs per model, 2 workers
    python tools/likelihood_anatomy.py --runs 8 --out anatomy.csv
"""

from __future__ import annotations

import argparse
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
    TABLE_SAMPLE,
    TABLES,
    _rows,
    observed_statistics,
    row_sizes,
    statistics_from_shares,
    survey_logpmf,
)
from simulation.model import StateBusinessModel  # noqa: E402
from simulation.observe.survey import simulate_survey  # noqa: E402

FIT = ROOT / "docs" / "calibration" / "measured" / "reduced_fit"
FLOOR = 0.005


def _run(job: tuple[str, str, dict, int]) -> dict:
    calibration, model_name, values, seed = job
    model = StateBusinessModel(rng=seed, **load_calibration(calibration).run_parameters(model_name, values))
    model.run()
    stats = statistics_from_shares(simulate_survey(model).population_shares)
    observed, deffs, sizes = observed_statistics(), survey_design()["design_effects"], row_sizes()
    row: dict = {"model": model_name, "seed": seed}
    for t in TABLES:
        counts = _rows(t, observed[t]) * sizes[t][:, None]
        row[t] = float(survey_logpmf(counts, _rows(t, stats[t]), deffs[TABLE_SAMPLE[t]], FLOOR).sum())
    row["log_likelihood"] = sum(row[t] for t in TABLES)
    w = model.world
    p, a, f, history = w.params, w.akimats, w.firms, w.kpi_history
    now, before = history[-1], history[-5]
    capital = f.capital[: f.n][f.alive[: f.n]]
    row |= {
        "services_term": p["services_signal"] * (a.utility_quality[0].mean() - 0.5),
        "wage_term": p["wage_signal"] * (now["real_wages"][0] / before["real_wages"][0] - 1.0),
        "jobs_term": p["jobs_signal"] * (now["jobs"][0] / before["jobs"][0] - 1.0),
        "wage_index": float(now["real_wages"][0]),
        "tax": float(a.tax_revenue[0]),
        "transfer": float(a.transfer[0]),
        "budget": float(a.budget[0]),
        "largest_firm_capital_share": float(capital.max() / capital.sum()),
    }
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posterior", default=str(FIT / "posterior.csv"))
    parser.add_argument("--calibration", default=str(FIT / "calibration_reduced.toml"))
    parser.add_argument("--runs", type=int, default=24, help="runs per model (seeds 5000, 5001, ...)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=None, help="CSV of the runs (not written if it exists)")
    args = parser.parse_args(argv)
    if args.out and Path(args.out).exists():
        print(f"likelihood_anatomy: --out {args.out} exists; choose another path", file=sys.stderr)
        return 2
    calib = load_calibration(args.calibration)
    post = pd.read_csv(args.posterior)
    jobs = []
    for model in calib.models:
        group = post[post["model"] == model]
        values = {p: float(group[p].median()) for p in calib.free() if p in group}
        jobs += [(args.calibration, model, values, 5000 + s) for s in range(args.runs)]
    with ProcessPoolExecutor(args.workers) as pool:
        runs = pd.DataFrame(list(pool.map(_run, jobs)))
    pd.set_option("display.width", 200)
    for model, group in runs.groupby("model", sort=False):
        print(f"\n{model}: {len(group)} runs, worst first")
        print(group.drop(columns="model").sort_values("log_likelihood").round(3).to_string(index=False))
        summary = group[[*TABLES, "log_likelihood"]].agg(["median", "std"]).round(1)
        print(f"{model}: per table, median and sd over the runs\n{summary.to_string()}")
        print(
            f"{model}: Spearman correlation of Table 6 with |wage term|: "
            f"{group['table6'].corr(group['wage_term'].abs(), method='spearman'):.2f}"
        )
    if args.out:
        tmp = Path(args.out).with_suffix(".tmp")
        runs.to_csv(tmp, index=False)
        tmp.replace(args.out)
    return 0 if np.isfinite(runs["log_likelihood"]).all() else 1


if __name__ == "__main__":
    sys.exit(main())
