"""The survey's statistics over a run's life, averaged over many seeds: what the fit's burn-in leaves.

A run starts with no PPP contract and utility quality below the target, and the akimat tenders for every
lagging utility every quarter, also while its earlier contracts are being built: the contracts overshoot,
end together, and the next wave follows (the supply-line neglect of docs/calibration/MEASURED.md 20), and
utility quality and Table 6 ring with the book. Averaged over
seeds, the ringing is the part of a run that still depends on its start, whatever the seed: a bias of the
statistics at the quarter the fit surveys. The burn-in diagnostic (``statebiz dynamics stationarity``,
docs/ODD.md 9) did not watch the PPP book or utility quality, so it could not see this; it now does.

For each model of a stored fit, at one particle of its posterior (the first of a seeded draw), this runs
``--seeds`` seeds of the fit's run (its size and parameters) from quarter 0 for ``--quarters`` quarters
and reads, after every quarter (only reading the world): the utility contracts in operation, utility
quality, the firms' capital, maintenance over its reference, and, every other quarter, the survey's
population shares of Tables 5-9 (the statistics the likelihood reads). It prints:
- the ensemble mean of the contracts in operation and of Table 6 "satisfied" (mean over the 4 utilities)
  every 10 quarters;
- the bias of every fitted cell at the fit's survey quarter (burn-in + steps): its share there minus the
  same seed's mean over the long-run window (``--window``), as a mean over seeds with a 90% interval
  (Student's t over seeds), the cells surely beyond +-1 pp (the margin of tools/calibration_burn_in.py),
  and the largest; the same for a survey at a quarter drawn uniformly from the ``--jitter`` quarters from
  the fit's (one way to average the transient's phase out);
- the firms' capital (mean and median over seeds), maintenance over its reference and utility quality, at
  the survey quarter and in the window (what drives a slow drift of Table 6);
- the mean age of the 20 largest firms at the start, at the survey quarter and in the window: whether the
  size tail starts as old as it stays (``stationary_sizes``, MEASURED 21).

Usage (from the repository root):
    python tools/ppp_echo.py                                   the shipped fit, 96 seeds, 400 quarters
    python tools/ppp_echo.py --seeds 24 --figure out.png       fewer seeds, and the figure
    python tools/ppp_echo.py --set tender_pipeline=true        with a parameter changed for every run
    python tools/ppp_echo.py --set tender_pipeline=true --set stationary_sizes=true --seeds 32   MEASURED 21
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy.stats import t as t_dist

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.calibration.config import load_calibration  # noqa: E402
from simulation.calibration.likelihood import TABLES, statistics_from_shares  # noqa: E402
from simulation.cli.common import one_line, parameter_assignments  # noqa: E402
from simulation.model import StateBusinessModel  # noqa: E402
from simulation.observe.survey import simulate_survey  # noqa: E402
from simulation.parameters import ScenarioError  # noqa: E402
from simulation.posterior import load_posterior  # noqa: E402
from simulation.world import OPERATION  # noqa: E402

FIT = ROOT / "docs" / "calibration"
CELLS = [f"T{t[-1]}[{j}]" for t in TABLES for j in range({"table5": 5, "table6": 12}.get(t, 3))]
#: Table 6's "satisfied" cells (heat, water, power, gas) among the fitted cells.
T6_SATISFIED = [CELLS.index(f"T6[{j}]") for j in (0, 3, 6, 9)]
#: The size tail whose age is read: the largest firms by capital.
LARGEST = 20


def _run(job: tuple) -> dict[str, np.ndarray]:
    calibration, model, values, seed, quarters, overrides = job
    params = load_calibration(calibration).run_parameters(model, values) | overrides | {"burn_in": 0, "steps": quarters}
    m = StateBusinessModel(rng=seed, **params)
    operating, quality, shares, capital, maintenance, old = [], [], [], [], [], [_largest_age(m.world.firms)]
    for t in range(quarters):
        m.step()
        book, a, f = m.world.projects, m.world.akimats, m.world.firms
        old.append(_largest_age(f))
        operating.append(float(((book.phase == OPERATION) & (book.sector < 4)).sum()) if len(book) else 0.0)
        quality.append(float(a.utility_quality.mean()))
        capital.append(float(f.capital[f.alive].sum()))
        maintenance.append(float(np.mean(a.maintenance / a.maintenance_reference)))
        if t % 2 == 1:  # after quarters 2, 4, ...: the survey of a run whose burn-in + steps is even
            stats = statistics_from_shares(simulate_survey(m).population_shares)
            shares.append(np.concatenate([np.ravel(stats[k]) for k in TABLES]))
    return {
        "operating": np.array(operating),
        "quality": np.array(quality),
        "shares": np.array(shares),
        "capital": np.array(capital),
        "maintenance": np.array(maintenance),
        "largest_age": np.array(old),  # quarters 0 (the start) .. quarters
    }


def _largest_age(f, k: int = LARGEST) -> float:
    """Mean age in years of the k firms in business with the largest capital (the size tail's age)."""
    alive = np.flatnonzero(f.alive)
    return float(f.age[alive[np.argsort(f.capital[alive])[::-1][:k]]].mean()) / 4.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fit", type=Path, default=FIT, help="a calibration record (manifest.json, posterior.csv)")
    ap.add_argument("--seeds", type=int, default=96)
    ap.add_argument("--quarters", type=int, default=400)
    ap.add_argument("--window", default="250,400", help="the long-run window of quarters, from,to")
    ap.add_argument("--models", default=None, help="comma-separated (default: the fit's)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--jitter", type=int, default=50, help="also the bias of a survey at a uniform quarter this wide")
    ap.add_argument("--figure", type=Path, default=None, help="draw the ensemble means to this PNG")
    ap.add_argument("--save", type=Path, default=None, help="keep every run's series in this .npz")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a parameter for every run")
    args = ap.parse_args(argv)
    try:
        overrides = parameter_assignments(args.set)
    except ScenarioError as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        return 2
    record = json.loads((args.fit / "manifest.json").read_text(encoding="utf-8"))
    toml = ROOT / record["calibration_file"]
    calib = load_calibration(toml)
    survey_at = int(calib.run_parameters(calib.models[0], {})["burn_in"]) + int(calib.model.get("steps", 0))
    try:
        lo, hi = (int(x) for x in args.window.split(","))
    except ValueError:
        print(f"error: --window {args.window!r}: expected two quarters, from,to", file=sys.stderr)
        return 2
    if not (survey_at % 2 == 0 and survey_at + args.jitter < args.quarters and 0 < lo < hi <= args.quarters):
        print(
            f"error: --quarters {args.quarters}: the survey quarter {survey_at} + --jitter {args.jitter} and the "
            f"window {lo}-{hi} must lie within it (window from < to)",
            file=sys.stderr,
        )
        return 2
    models = args.models.split(",") if args.models else calib.models
    started = time.perf_counter()
    found = {}
    with ProcessPoolExecutor(args.workers) as pool:
        for model in models:
            values = load_posterior(args.fit / "posterior.csv", model).draws(1, np.random.default_rng(20261207))[0]
            jobs = [(str(toml), model, values, 90_000 + k, args.quarters, overrides) for k in range(args.seeds)]
            runs = list(pool.map(_run, jobs, chunksize=1))
            found[model] = {k: np.array([r[k] for r in runs]) for k in runs[0]}
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.save, **{f"{m}_{k}": v for m, r in found.items() for k, v in r.items()})
    print(
        f"fit {args.fit.relative_to(ROOT)}; {' '.join(args.set) or 'no --set'}; "
        f"{args.seeds} seeds x {args.quarters} quarters per model, "
        f"{time.perf_counter() - started:.0f} s; the fit surveys after quarter {survey_at}; window {lo}-{hi}"
    )
    for model, r in found.items():
        op, sh = r["operating"].mean(axis=0), r["shares"]  # shares: (seeds, quarters / 2, cells)
        print(f"\n{model}: quarter, utility contracts in operation, Table 6 satisfied (ensemble means)")
        print(
            "  "
            + "  ".join(
                f"{t + 1}: {op[t]:.1f}, {sh[:, t // 2, T6_SATISFIED].mean():.3f}" for t in range(9, args.quarters, 30)
            )
        )
        at = sh[:, survey_at // 2 - 1, :]  # the survey after quarter survey_at
        late = sh[:, lo // 2 : hi // 2, :].mean(axis=1)
        bias = 100 * (at - late)
        mean = bias.mean(axis=0)
        half = t_dist.ppf(0.95, bias.shape[0] - 1) * bias.std(axis=0, ddof=1) / np.sqrt(bias.shape[0])
        outside = np.flatnonzero((mean - half > 1.0) | (mean + half < -1.0))
        worst = int(np.argmax(np.abs(mean)))
        sat = bias[:, T6_SATISFIED].mean(axis=1)  # Table 6 "satisfied" per seed: the mean of the utilities
        sat_half = t_dist.ppf(0.95, sat.size - 1) * sat.std(ddof=1) / np.sqrt(sat.size)
        print(
            f"  bias at quarter {survey_at} against the window (pp, 90%): largest {CELLS[worst]} "
            f"{mean[worst]:+.2f} [{mean[worst] - half[worst]:+.2f}, {mean[worst] + half[worst]:+.2f}]; "
            f"cells surely beyond +-1 pp: {', '.join(CELLS[j] for j in outside) or 'none'}; "
            f"Table 6 satisfied {sat.mean():+.2f} [{sat.mean() - sat_half:+.2f}, {sat.mean() + sat_half:+.2f}]"
        )
        if args.jitter:  # a survey at a quarter drawn uniformly from [survey_at, survey_at + jitter), even quarters
            spread = sh[:, survey_at // 2 - 1 : (survey_at + args.jitter) // 2 - 1, :].mean(axis=1)
            jb = 100 * (spread - late)
            jm, jh = jb.mean(axis=0), t_dist.ppf(0.95, jb.shape[0] - 1) * jb.std(axis=0, ddof=1) / np.sqrt(jb.shape[0])
            jw = int(np.argmax(np.abs(jm)))
            jout = np.flatnonzero((jm - jh > 1.0) | (jm + jh < -1.0))
            print(
                f"  a survey at a uniform quarter of {survey_at}-{survey_at + args.jitter}: largest {CELLS[jw]} "
                f"{jm[jw]:+.2f} [{jm[jw] - jh[jw]:+.2f}, {jm[jw] + jh[jw]:+.2f}]; cells surely beyond +-1 pp: "
                f"{', '.join(CELLS[j] for j in jout) or 'none'}; Table 6 satisfied {jm[T6_SATISFIED].mean():+.2f}"
            )
        k_at, k_late = r["capital"][:, survey_at - 1], r["capital"][:, lo:hi].mean(axis=1)
        print(
            f"  firms' capital, mean (median) over seeds: {k_at.mean():.0f} ({np.median(k_at):.0f}) at quarter "
            f"{survey_at}, {k_late.mean():.0f} ({np.median(k_late):.0f}) in the window; maintenance over its "
            f"reference {r['maintenance'][:, survey_at - 1].mean():.3f} and {r['maintenance'][:, lo:hi].mean():.3f}; "
            f"utility quality {r['quality'][:, survey_at - 1].mean():.3f} and {r['quality'][:, lo:hi].mean():.3f}"
        )
        late_op = r["operating"][:, lo:hi].mean()
        print(f"  contracts in operation: {op[survey_at - 1]:.1f} at quarter {survey_at}, {late_op:.1f} in the window")
        age = r["largest_age"]  # (seeds, quarters + 1), from the start
        print(
            f"  the {LARGEST} largest firms' mean age, years: {age[:, 0].mean():.1f} at the start, "
            f"{age[:, survey_at].mean():.1f} at quarter {survey_at}, {age[:, lo + 1 : hi + 1].mean():.1f} in the window"
        )
    if args.figure:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
        for model, r in found.items():
            q = np.arange(1, args.quarters + 1)
            axes[0].plot(q, r["operating"].mean(axis=0), label=model, lw=1.2)
            axes[1].plot(q[1::2], 100 * r["shares"][:, :, T6_SATISFIED].mean(axis=(0, 2)), label=model, lw=1.2)
        for ax in axes:
            ax.axvline(survey_at, color="k", ls="--", lw=0.8)
            ax.axvspan(lo, hi, color="0.9", zorder=0)
        axes[0].set_ylabel("utility PPP contracts\nin operation (mean)")
        axes[1].set_ylabel("Table 6 satisfied, %\n(mean of 4 utilities)")
        axes[1].set_xlabel(f"quarter (dashed: the fit's survey; grey: the long-run window); {args.seeds} seeds")
        axes[0].legend(frameon=False)
        given = f"\n({', '.join(args.set)})" if args.set else ""
        axes[0].set_title(f"Ensemble means from quarter 0 at one particle per model{given}", fontsize=10)
        fig.tight_layout()
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.figure, dpi=110)
        print(f"\nwrote {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
