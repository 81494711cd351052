"""How many quarters of re-burn a warm start still needs (issue 24; docs/ODD.md 5).

Runs :func:`simulation.studies.warm.run`: warm and cold chains of the calibrated Turkestan
scenario, its governance arms and two far corners of the calibration's prior, and measures
the re-burn with the cold burn-in's diagnostic (nested R-hat of warm against cold chains
below 1.1, then Geweke). Prints per group the re-burn every certified outcome needs (and
which outcomes are not certified), then per outcome the gap between the warm and cold
chains' means after it (z) and the spread ratio across seeds; writes the tables as CSV.

Usage (from the repository root):
    python tools/warm_burn_in.py                 10,000 firms, 8 seeds per start, 80 quarters
    python tools/warm_burn_in.py --quick         1,000 firms, 4 seeds, 40 quarters
    python tools/warm_burn_in.py --out results/warm --workers 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulation.studies import warm  # noqa: E402
from simulation.studies.base import Runs  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="results/warm")
    args = parser.parse_args(argv)
    size = warm.SIZES["quick" if args.quick else "full"]
    started = time.perf_counter()
    with Runs(backend="processes" if args.workers > 1 else "serial", workers=args.workers) as runs:
        result = warm.run(size["firms"], size["residents"], size["seeds"], size["quarters"], size["window"], runs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("burn_in", "diagnostics", "rhat"):
        result[name].to_csv(out / f"{name}.csv", index=False)
    print(f"{size}; {time.perf_counter() - started:.0f} s")
    burn = result["burn_in"].set_index("group")
    diag = result["diagnostics"]
    for group, row in burn.iterrows():
        uncertified = [o for o in row.index if o != "all" and np.isnan(row[o])]
        print(f"{group:18s} re-burn needed (every certified outcome): {row['all']:.0f} quarters; "
              f"not certified: {', '.join(uncertified) or 'none'}")  # fmt: skip
    cols = ["re_burn", "geweke_share_abs_z_above_1.96", "warm_mean", "cold_mean", "gap_z", "spread_ratio"]
    with __import__("pandas").option_context("display.width", 200, "display.max_rows", 200):
        print(diag.set_index(["group", "outcome"])[cols].round(4).to_string())
    with Runs(backend="processes" if args.workers > 1 else "serial", workers=args.workers) as runs:
        per = max(2, size["seeds"] // size["members"])
        forget = warm.forgetting(
            size["firms"], size["residents"], size["members"], per, size["quarters"], size["window"], runs
        )
    forget["rhat"].to_csv(out / "forgetting_rhat.csv", index=False)
    print(
        f"runs sharing a snapshot ({size['members']} members x {per} seeds): re-burn after which they have "
        "forgotten it (NaN: not within the horizon):"
    )
    print({k: v for k, v in forget["burn_in"].items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
