"""The burn-in the calibration's likelihood needs: the survey's log likelihood after a shorter burn-in
against the scenario's own, at draws of a stored posterior.

The scenario's burn-in (150 quarters) was set by the slowest outcome of the whole model (docs/ODD.md
5). The calibration reads only the survey's statistics (Tables 5-9), and a run costs about its
number of quarters. This tool asks whether those statistics are already stationary after fewer
quarters, where the fit spends its runs: at ``--draws`` draws of each model's posterior (a stored
fit), ``--seeds`` runs each, for every burn-in of ``--burn-ins`` (the first is the reference).

For every model and burn-in it prints:
- the mean over draws of the per-run log likelihood (the calibration's ``log_likelihood``, the
  design's error model) and its difference from the reference's, with the standard error of that
  difference over draws (runs of one draw are averaged first; draws are the unit);
- per table the mean log likelihood difference (nats);
- the largest difference of a survey share, averaged over all runs, in percentage points, beside
  the runs' own sd of that share;
- the mean CPU seconds of a run.

An equivalence reading: a shorter burn-in is usable for the fit when the mean log likelihood
difference's 90% interval lies within +-``--margin`` nats (default 1: half the noise of one
likelihood estimate with 4 runs, MEASURED 14) and no share moves by more than its seed sd.

Usage (from the repository root):
    python tools/calibration_burn_in.py                                   reduced_fit_k4, 2 workers
    python tools/calibration_burn_in.py --burn-ins 150,80,60,40 --draws 12 --seeds 3
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

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
    run_survey_model,
    survey_logpmf,
)
from simulation.posterior import load_posterior  # noqa: E402

FIT = ROOT / "docs" / "calibration" / "measured" / "reduced_fit_k4"
FLOOR = 0.005


def _run(job: tuple[str, str, dict, int, int]) -> dict:
    calibration, model_name, values, burn_in, seed = job
    params = load_calibration(calibration).run_parameters(model_name, values) | {"burn_in": burn_in}
    t0 = time.process_time()
    stats, _ = run_survey_model(params, seed)
    cpu = time.process_time() - t0
    observed, deffs, sizes = observed_statistics(), survey_design()["design_effects"], row_sizes()
    row = {"cpu": cpu, "shares": np.concatenate([np.ravel(stats[t]) for t in TABLES])}
    for t in TABLES:
        counts = _rows(t, observed[t]) * sizes[t][:, None]
        row[t] = float(survey_logpmf(counts, _rows(t, stats[t]), deffs[TABLE_SAMPLE[t]], FLOOR).sum())
    row["ll"] = sum(row[t] for t in TABLES)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fit", type=Path, default=FIT, help="a calibration record (posterior.csv and its .toml)")
    ap.add_argument("--burn-ins", default="150,100,60,40", help="burn-ins to compare; the first is the reference")
    ap.add_argument("--draws", type=int, default=12, help="posterior draws per model")
    ap.add_argument("--seeds", type=int, default=2, help="runs per draw and burn-in")
    ap.add_argument("--margin", type=float, default=1.0, help="equivalence margin of the mean log likelihood (nats)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    burn_ins = [int(b) for b in args.burn_ins.split(",")]
    toml = next(args.fit.glob("*.toml"))
    calib = load_calibration(toml)
    jobs, keys = [], []
    for m in calib.models:
        draws = load_posterior(args.fit / "posterior.csv", m).draws(args.draws, np.random.default_rng(20261207))
        for d, values in enumerate(draws):
            for s in range(args.seeds):
                for b in burn_ins:
                    jobs.append((str(toml), m, values, b, 7000 + 100 * d + s))
                    keys.append((m, d, s, b))
    with ProcessPoolExecutor(args.workers) as pool:
        rows = dict(zip(keys, pool.map(_run, jobs, chunksize=1)))
    ref = burn_ins[0]
    print(f"fit {args.fit.relative_to(ROOT)}: {args.draws} draws x {args.seeds} seeds per model; reference {ref}")
    for m in calib.models:
        print(f"\n{m}")
        head = f"{'burn-in':>8} {'cpu s':>6} {'mean ll':>8} {'diff':>6} {'90% interval':>16}"
        head += "".join(f" {t[-1]:>6}" for t in TABLES) + f" {'share pp':>9} {'sd pp':>6}  equivalent"
        print(head)

        def per_draw(b: int, key: str, m: str = m) -> np.ndarray:
            return np.array([np.mean([rows[m, d, s, b][key] for s in range(args.seeds)]) for d in range(args.draws)])

        shares = {
            b: np.array([rows[m, d, s, b]["shares"] for d in range(args.draws) for s in range(args.seeds)])
            for b in burn_ins
        }
        sd = shares[ref].std(axis=0, ddof=1)
        for b in burn_ins:
            diff = per_draw(b, "ll") - per_draw(ref, "ll")
            se = diff.std(ddof=1) / np.sqrt(len(diff))
            lo, hi = diff.mean() - 1.645 * se, diff.mean() + 1.645 * se
            table_diff = [float(np.mean(per_draw(b, t) - per_draw(ref, t))) for t in TABLES]
            gap = np.abs(shares[b].mean(axis=0) - shares[ref].mean(axis=0))
            worst = int(np.argmax(gap / np.maximum(sd, 1e-9)))
            ok = b == ref or (-args.margin < lo and hi < args.margin and np.all(gap <= sd))
            cpu = np.mean([rows[m, d, s, b]["cpu"] for d in range(args.draws) for s in range(args.seeds)])
            line = f"{b:>8} {cpu:>6.3f} {per_draw(b, 'll').mean():>8.2f} {diff.mean():>6.2f} [{lo:>6.2f}, {hi:>6.2f}]"
            line += "".join(f" {x:>6.2f}" for x in table_diff)
            line += f" {100 * gap[worst]:>9.2f} {100 * sd[worst]:>6.2f}  {'yes' if ok else 'no'}"
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
