"""The four lever and governance checks that dominant players made heavy-tailed, per seed.

Prints, for each seed, the paired differences that four tests assert on (issue 22, docs/ODD.md
limitation 21), and at the end the mean, the 95% t-interval, the sd and the share of positive
seeds of each:
- transparency 0 -> 1, corrupt share under symbiosis (``tests/core/test_effects.py``, end of run
  and over the run; the tests' sizes: 2,000 firms, burn-in 40, 12 quarters);
- audit_rate 0 -> 0.3, corruption incidence (``tests/studies/test_dynamics.py``: 1,200 firms,
  means over quarters 81-120, as ``audit 0 minus audit 0.3``);
- support_share 0 -> 0.3 in the city of Almaty under symbiosis, corrupt share (test_effects);
- symbiotic minus partnership, output's HHI and its log ratio (test_effects' governance test).

Usage (from the repository root):
    python tools/lever_checks.py                    seeds 1-16
    python tools/lever_checks.py --seeds 1 2 3 --only transparency audit
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.stats import t as student_t

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from simulation.model import StateBusinessModel  # noqa: E402
from simulation.studies import dynamics as dyn  # noqa: E402

#: The sizes of tests/core/test_effects.py (conftest.SMALL with a burn-in of 40).
EFFECTS = {"firms": 2000, "residents_per_region": 300, "burn_in": 40, "steps": 12}
CHECKS = ("transparency", "audit", "support", "hhi")


def _levels(seed: int, key: str, **params) -> tuple[float, float]:
    m = StateBusinessModel(rng=seed, **(EFFECTS | params))
    while m.running:
        m.step()
    return float(m.outcomes()[key]), float(m.region_table()[key].mean())


def _paired(seed: int, key: str, low: dict, high: dict) -> dict[str, float]:
    a, b = _levels(seed, key, **low), _levels(seed, key, **high)
    return {"end": b[0] - a[0], "whole": b[1] - a[1], "log end": np.log(b[0] / a[0]), "log whole": np.log(b[1] / a[1])}


def one_seed(seed: int, only: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    sym = {"governance": "symbiotic"}
    if "transparency" in only:
        d = _paired(seed, "corrupt_share", sym | {"transparency": 0.0}, sym | {"transparency": 1.0})
        out |= {"transparency, end": d["end"], "transparency, whole": d["whole"]}
    if "audit" in only:
        params = dyn.base_params(1200, 300)
        none = dyn.stationary_means(params | {"audit_rate": 0.0}, seed, 80, 40)["corruption_incidence"]
        many = dyn.stationary_means(params | {"audit_rate": 0.3}, seed, 80, 40)["corruption_incidence"]
        out["audit 0 minus 0.3"] = none - many
    if "support" in only:
        almaty = sym | {"regions": "almaty"}
        d = _paired(seed, "corrupt_share", almaty | {"support_share": 0.0}, almaty | {"support_share": 0.3})
        out |= {"support in Almaty, end": d["end"], "support in Almaty, whole": d["whole"]}
    if "hhi" in only:
        d = _paired(seed, "hhi", {"governance": "partnership"}, sym)
        out |= {"HHI, end": d["end"], "HHI, whole": d["whole"], "log HHI ratio, end": d["log end"]}
        out["log HHI ratio, whole"] = d["log whole"]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 17)))
    ap.add_argument("--only", nargs="+", choices=CHECKS, default=list(CHECKS))
    args = ap.parse_args(argv)
    rows = []
    for seed in args.seeds:
        rows.append(one_seed(seed, tuple(args.only)))
        print(seed, {k: round(v, 4) for k, v in rows[-1].items()}, flush=True)
    if len(rows) < 2:
        return 0
    for key in rows[0]:
        x = np.array([r[key] for r in rows])
        half = student_t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
        print(
            f"{key:28s} mean {x.mean():+.4f}  95% [{x.mean() - half:+.4f}, {x.mean() + half:+.4f}]"
            f"  sd {x.std(ddof=1):.4f}  positive {np.mean(x > 0):.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
