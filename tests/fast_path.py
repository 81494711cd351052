"""The fast path's equivalence: statistics of outcomes over seeds, against those of the path it replaced.

Issue 24 made the fused fast path (draws inside the fused passes, numba's own maths) the only path. Its
results differ run by run from the previous path's, so they are compared in distribution: for each case
(Turkestan under both governance presets) and :data:`SEEDS` seeds, the statistics that the report and the
calibration read (``model.outcomes()``: corruption, satisfaction, trust, regimes, investment, firm counts,
PPP, ...; and the calibration's survey statistics, ``calibration.likelihood.statistics_from_shares``) are
computed, and their means over the seeds compared with the reference's (``tests/golden/fast_path_reference
.parquet``, written from the previous path by ``python -m tests.fast_path --write`` at the commit its
``source`` column names). ``tests/core/test_fast_path.py`` holds the margins.

    python tests/fast_path.py --write     # the reference (from the path being replaced)
    python tests/fast_path.py             # the comparison, printed
"""

from __future__ import annotations

# isort: split
import simulation  # noqa: F401 - first: applies the portable mode before numpy is imported

# isort: split
import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REFERENCE = Path(__file__).resolve().parent / "golden" / "fast_path_reference.parquet"
#: Seeds per case (the power of the test: see tests/core/test_fast_path.py).
SEEDS = tuple(range(500, 516))
BASE = {"regions": "turkestan", "firms": 1500, "residents_per_region": 300, "burn_in": 24, "steps": 8}
CASES = {
    "turkestan_partnership": BASE | {"governance": "partnership"},
    "turkestan_symbiotic": BASE | {"governance": "symbiotic"},
}


def statistics(case: str, seed: int, **changes) -> dict[str, float]:
    """One run's statistics: the end-of-run outcomes and the calibration's survey statistics."""
    from simulation.calibration.likelihood import statistics_from_shares
    from simulation.model import StateBusinessModel
    from simulation.observe.survey import simulate_survey

    model = StateBusinessModel(rng=seed, **(CASES[case] | changes))
    model.run()
    row = {f"outcome:{k}": float(v) for k, v in model.outcomes().items()}
    stats = statistics_from_shares(simulate_survey(model).population_shares)
    row |= {f"survey:{k}[{i}]": float(v) for k, arr in stats.items() for i, v in enumerate(np.ravel(arr))}
    return row


def sample(case: str, **changes) -> pd.DataFrame:
    """The statistics of :data:`SEEDS` runs of a case (rows: seeds)."""
    return pd.DataFrame([{"seed": s, **statistics(case, s, **changes)} for s in SEEDS]).set_index("seed")


def write() -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    frames = [sample(case).assign(case=case) for case in CASES]
    table = pd.concat(frames).reset_index()
    table["source"] = commit
    REFERENCE.parent.mkdir(exist_ok=True)
    table.to_parquet(REFERENCE, index=False)
    print(f"{REFERENCE}: {len(table)} rows, from {commit}")


def reference(case: str) -> pd.DataFrame:
    table = pd.read_parquet(REFERENCE)
    return table[table["case"] == case].drop(columns=["case", "source"]).set_index("seed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the reference from the current path")
    args = parser.parse_args(argv)
    if args.write:
        write()
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parent / "core"))
    from test_fast_path import compare

    failed = 0
    for case in CASES:
        problems, lines = compare(sample(case), reference(case))
        print(f"{case}:")
        print("\n".join(lines))
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
