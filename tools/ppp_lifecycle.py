"""PPP contracts by status over time, at s = 0 and s = 1 (issue 22, pattern 1).

Runs the national scenario (20 regions) on a small world at the calibration's posterior
medians (scenarios/turkestan_calibrated.toml, its region and size left aside), from quarter 0
through the burn-in and the reported quarters, and reads the contract book after every
quarter (it only reads the world). Prints, per s, the contracts signed, those that reached
operation, completed, and terminated before or after operation, summed over the seeds; with
``--figure`` it also draws the contracts by status over time (mean over the seeds).

Usage (from the repository root):
    python tools/ppp_lifecycle.py                       3 seeds, 3,000 firms, 190 quarters
    python tools/ppp_lifecycle.py --figure out.png      and the figure
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
from simulation.scenario import read_scenario_file  # noqa: E402
from simulation.world import COMPLETED, CONSTRUCTION, ENDED, OPERATION, TERMINATED  # noqa: E402

STATES = ("construction", "operation", "completed", "terminated before operation", "terminated in operation")


def posterior_medians() -> dict:
    """The calibrated parameters of scenarios/turkestan_calibrated.toml, without its region and size."""
    flat, _ = read_scenario_file(ROOT / "scenarios" / "turkestan_calibrated.toml")
    for key in ("regions", "firms", "residents_per_region", "steps", "burn_in"):
        flat.pop(key, None)
    return flat


def run(
    seed: int, s: float, firms: int, quarters: int, overrides: dict, calibrated: bool = True
) -> tuple[np.ndarray, dict]:
    """Contracts by state after each quarter (quarters x states), and the run's totals
    (``calibrated``: at the posterior medians, else at the parameters' defaults)."""
    params = (posterior_medians() if calibrated else {}) | {
        "regions": "all",
        "firms": firms,
        "residents_per_region": 200,
        "burn_in": 0,
        "steps": quarters,
        "symbiosis": s,
    }
    model = StateBusinessModel(rng=seed, **(params | overrides))
    book = model.world.projects
    operated = np.zeros(0, dtype=bool)
    series = np.zeros((quarters, len(STATES)))
    for q in range(quarters):
        model.step()
        n = len(book)
        operated = np.concatenate([operated, np.zeros(n - operated.size, dtype=bool)])
        operated |= book.phase[:n] == OPERATION
        # a contract that ended completed went through operation
        operated |= book.status[:n] == COMPLETED
        ended = book.phase[:n] == ENDED
        term = ended & (book.status[:n] == TERMINATED)
        series[q] = (
            (book.phase[:n] == CONSTRUCTION).sum(),
            (book.phase[:n] == OPERATION).sum(),
            (ended & (book.status[:n] == COMPLETED)).sum(),
            (term & ~operated).sum(),
            (term & operated).sum(),
        )
    totals = {"signed": len(book), "reached operation": int(operated.sum())}
    totals |= dict(zip(STATES, series[-1].astype(int).tolist()))
    return series, totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--firms", type=int, default=3000)
    parser.add_argument("--quarters", type=int, default=190)
    parser.add_argument("--figure", type=Path, default=None, help="write the figure (PNG) here")
    parser.add_argument("--set", nargs="*", default=[], help="extra parameters, name=value")
    parser.add_argument("--defaults", action="store_true", help="the parameters' defaults, not the posterior medians")
    args = parser.parse_args(argv)
    overrides = {k: float(v) for k, v in (item.split("=", 1) for item in args.set)}
    results = {}
    for s in (0.0, 1.0):
        runs = [run(seed, s, args.firms, args.quarters, overrides, not args.defaults) for seed in range(args.seeds)]
        series = np.mean([r[0] for r in runs], axis=0)
        totals = {k: sum(r[1][k] for r in runs) for k in runs[0][1]}
        results[s] = series
        print(f"s = {s:g} ({args.seeds} seeds, {args.firms} firms, {args.quarters} quarters): {totals}")
    if args.figure:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
        for ax, (s, series) in zip(axes, results.items()):
            quarters = np.arange(1, args.quarters + 1)
            for k, name in enumerate(STATES):
                ax.plot(quarters, series[:, k], label=name)
            ax.plot(quarters, series.sum(axis=1), color="black", linestyle=":", label="signed (cumulative)")
            ax.set_title(f"s = {s:g}")
            ax.set_xlabel("quarter")
        axes[0].set_ylabel(f"contracts (mean of {args.seeds} seeds)")
        axes[1].legend(fontsize=8)
        at = "parameter defaults" if args.defaults else "posterior medians"
        fig.suptitle(f"PPP contracts by status, 20 regions, {args.firms:,} firms, {at}")
        fig.tight_layout()
        fig.savefig(args.figure, dpi=100)
        print(f"figure: {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
