"""Corruption and rents at a glance (issue 22, patterns 2 and 5): the figures quoted in docs/ODD.md,
section 9, limitations 16 and 17.

- ``turkestan``: Turkestan's corruption incidence at the posterior medians
  (scenarios/turkestan_calibrated.toml) on a small world: 2,000 firms, burn-in 150, 4 reported
  quarters, seeds 1-8; per seed, mean and sd.
- ``regional``: the national scenario as ``tests/submodels/test_rents.py`` runs it (20 regions,
  ``power_spread`` 0, 6,000 firms, burn-in 60, 4 quarters, seeds 1-8): Spearman and Pearson
  correlations of the regions' seed-mean incidence and corrupt share with their mining share.

Usage (from the repository root):
    python tools/rents_check.py turkestan
    python tools/rents_check.py regional
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "tests", ROOT / "tests" / "submodels"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from simulation.model import StateBusinessModel  # noqa: E402
from simulation.scenario import load_scenario  # noqa: E402

SIZES = {"firms": 2000, "residents_per_region": 200, "burn_in": 150, "steps": 4}


def turkestan(seeds) -> np.ndarray:
    base = dict(load_scenario(ROOT / "scenarios" / "turkestan_calibrated.toml").explicit or {})
    out = []
    for seed in seeds:
        model = StateBusinessModel(rng=seed, **(base | SIZES))
        model.run()
        out.append(model.outcomes()["corruption_incidence"])
    return np.array(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("turkestan", "regional"))
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 9)))
    args = ap.parse_args(argv)
    if args.what == "turkestan":
        x = turkestan(args.seeds)
        print(f"Turkestan incidence at the posterior per seed: {np.round(x, 3).tolist()}")
        print(f"mean {x.mean():.3f}, sd {x.std(ddof=1):.3f}")
        return
    import test_rents  # the national scenario exactly as the pattern test runs it

    mining, values = test_rents.regional(tuple(args.seeds))
    for key, per_seed in values.items():
        means = per_seed.mean(axis=0)
        rho, p = spearmanr(mining, means)
        r, pr = pearsonr(mining, means)
        print(f"{key}: mean {means.mean():.3f}; Spearman {rho:+.3f} (p {p:.4f}), Pearson {r:+.3f} (p {pr:.4f})")


if __name__ == "__main__":
    main()
