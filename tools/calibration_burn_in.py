"""The burn-in the calibration's likelihood needs: the survey's statistics and likelihood after a shorter
burn-in against the scenario's own, at draws of a stored posterior.

The scenario's burn-in (150 quarters) was set by the slowest outcome of the whole model from two far-apart
starts (docs/ODD.md 9). The calibration reads only the survey's statistics (Tables 5-9), and a run costs
about its number of quarters. This tool asks whether those statistics are already stationary after fewer
quarters, where the fit spends its runs: at ``--draws`` draws of each model's posterior (a stored fit),
``--seeds`` runs each (the same seeds for every burn-in: the runs are paired), for every burn-in of
``--burn-ins`` (the first is the reference).

For every model and burn-in it prints:
- the mean over draws of the per-run log likelihood (the calibration's ``log_likelihood``, the
  design's error model), its difference from the reference's and the 90% interval of that difference
  over draws (runs of one draw are averaged first; draws are the unit; Student's t);
- the same for the fit's own estimator: the log of the mean likelihood of a draw's ``--seeds`` runs
  (with ``--seeds`` 4, the shipped file's ``runs_per_estimate``, exactly the estimate the sampler uses);
- per table the mean log likelihood difference (nats);
- the survey shares of the fitted cells (every table's total, 26 cells): for each cell the mean
  difference over draws with its 90% interval, in percentage points; how many cells lie within
  +-``--share-margin`` and the worst;
- the mean CPU seconds of a run.

The equivalence reading (two one-sided tests at 5% each, per quantity; every quantity must pass, so no
correction for the number of cells is needed): a shorter burn-in is usable for the fit when, for every
model, the fit's estimator's mean difference has its 90% interval within +-``--margin`` nats (default 1:
about half the noise of one estimate with 4 runs, MEASURED 14) and every fitted cell's mean share
difference has its 90% interval within +-``--share-margin`` percentage points (default 1: a fifth of the
survey's own standard error of a cell at 198 residents and a design effect of 2, about 4.6 pp at a share
of 0.3, and a ninth of the entrepreneurs' at 58). These margins were fixed before the measurement of
MEASURED 19.

Usage (from the repository root):
    python tools/calibration_burn_in.py                                   the shipped fit, 2 workers
    python tools/calibration_burn_in.py --burn-ins 150,80,60 --draws 100 --seeds 4
    python tools/calibration_burn_in.py --set tender_pipeline=true      with a parameter changed for every run
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy.stats import t as t_dist

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
from simulation.cli.common import one_line, parameter_assignments  # noqa: E402
from simulation.parameters import ScenarioError  # noqa: E402
from simulation.posterior import load_posterior  # noqa: E402

FIT = ROOT / "docs" / "calibration"
FLOOR = 0.005
#: The fitted cells in the order of the shares: table and cell index.
CELLS = [f"T{t[-1]}[{j}]" for t in TABLES for j in range({"table5": 5, "table6": 12}.get(t, 3))]


def _run(job: tuple[str, str, dict, int, int, dict]) -> dict:
    calibration, model_name, values, burn_in, seed, overrides = job
    params = load_calibration(calibration).run_parameters(model_name, values) | overrides | {"burn_in": burn_in}
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
    ap.add_argument("--margin", type=float, default=1.0, help="equivalence margin of the fit's estimator (nats)")
    ap.add_argument("--share-margin", type=float, default=1.0, help="equivalence margin of a fitted share (pp)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a parameter for every run")
    args = ap.parse_args(argv)
    try:
        overrides = parameter_assignments(args.set)
    except ScenarioError as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    burn_ins = [int(b) for b in args.burn_ins.split(",")]
    import json

    record = json.loads((args.fit / "manifest.json").read_text(encoding="utf-8"))
    toml = next(args.fit.glob("*.toml"), None) or ROOT / record["calibration_file"]
    calib = load_calibration(toml)
    jobs, keys = [], []
    for m in calib.models:
        draws = load_posterior(args.fit / "posterior.csv", m).draws(args.draws, np.random.default_rng(20261207))
        for d, values in enumerate(draws):
            for s in range(args.seeds):
                for b in burn_ins:
                    jobs.append((str(toml), m, values, b, 7000 + 100 * d + s, overrides))
                    keys.append((m, d, s, b))
    with ProcessPoolExecutor(args.workers) as pool:
        rows = dict(zip(keys, pool.map(_run, jobs, chunksize=1)))
    ref = burn_ins[0]
    print(f"fit {args.fit.relative_to(ROOT)}: {args.draws} draws x {args.seeds} seeds per model; reference {ref}")
    print(f"parameters set for every run: {' '.join(args.set) or 'none (the fit as it was)'}")
    print(f"margins: fit's estimator +-{args.margin} nats; every fitted share +-{args.share_margin} pp (90% intervals)")
    verdict = {b: True for b in burn_ins[1:]}
    for m in calib.models:
        print(f"\n{m}")
        head = f"{'burn-in':>8} {'cpu s':>6} {'mean ll':>8} {'diff':>6} {'90% interval':>16}"
        head += f" {'estimator diff':>14} {'90% interval':>16}"
        head += "".join(f" {t[-1]:>6}" for t in TABLES) + f" {'cells in':>9} {'worst cell pp, 90%':>22}  equivalent"
        print(head)

        def per_draw(b: int, key: str, m: str = m) -> np.ndarray:
            return np.array([np.mean([rows[m, d, s, b][key] for s in range(args.seeds)]) for d in range(args.draws)])

        def estimator(b: int, m: str = m) -> np.ndarray:  # log of the mean likelihood of a draw's runs
            ll = np.array([[rows[m, d, s, b]["ll"] for s in range(args.seeds)] for d in range(args.draws)])
            top = ll.max(axis=1, keepdims=True)
            return (top + np.log(np.mean(np.exp(ll - top), axis=1, keepdims=True)))[:, 0]

        def draw_shares(b: int, m: str = m) -> np.ndarray:  # (draws, cells): the mean over a draw's runs
            return np.array(
                [np.mean([rows[m, d, s, b]["shares"] for s in range(args.seeds)], axis=0) for d in range(args.draws)]
            )

        def interval(diff: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            mean = diff.mean(axis=0)
            half = t_dist.ppf(0.95, diff.shape[0] - 1) * diff.std(axis=0, ddof=1) / np.sqrt(diff.shape[0])
            return mean, mean - half, mean + half

        for b in burn_ins:
            d_ll, lo, hi = interval(per_draw(b, "ll") - per_draw(ref, "ll"))
            d_est, e_lo, e_hi = interval(estimator(b) - estimator(ref))
            table_diff = [float(np.mean(per_draw(b, t) - per_draw(ref, t))) for t in TABLES]
            c_mean, c_lo, c_hi = interval(100 * (draw_shares(b) - draw_shares(ref)))
            inside = (c_lo > -args.share_margin) & (c_hi < args.share_margin)
            worst = int(np.argmax(np.maximum(np.abs(c_lo), np.abs(c_hi))))
            ok = b == ref or (-args.margin < e_lo and e_hi < args.margin and bool(inside.all()))
            if b != ref:
                verdict[b] &= ok
            cpu = np.mean([rows[m, d, s, b]["cpu"] for d in range(args.draws) for s in range(args.seeds)])
            line = f"{b:>8} {cpu:>6.3f} {per_draw(b, 'll').mean():>8.2f} {d_ll:>6.2f} [{lo:>6.2f}, {hi:>6.2f}]"
            line += f" {d_est:>14.2f} [{e_lo:>6.2f}, {e_hi:>6.2f}]"
            line += "".join(f" {x:>6.2f}" for x in table_diff)
            cell = f"{CELLS[worst]} {c_mean[worst]:+.2f} [{c_lo[worst]:+.2f}, {c_hi[worst]:+.2f}]"
            line += f" {int(inside.sum()):>4} / {inside.size:<2} {cell:>22}  {'yes' if ok else 'no'}"
            print(line)
    print()
    for b, ok in verdict.items():
        print(f"burn-in {b}: {'equivalent to' if ok else 'NOT shown equivalent to'} {ref} for every model")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
