"""The paper's claims about the two governance models, as the model answers them at the defaults.

Runs the national scenario (20 regions) at s = 0 (partnership) and s = 1 (symbiotic) on paired
seeds, everything else at the parameters' defaults (NOT the calibration: the shipped posterior
was fitted to an earlier model), and prints, per outcome, the mean at each end and the mean paired
difference s = 1 minus s = 0 with its 95% t-interval over the seeds. The outcomes are the ones the
paper's claims are about: the Figure 2 indicators and the akim's score, corruption, satisfaction,
concentration and small firms, approvals and PPP.

Usage (from the repository root):
    python tools/claims.py                         seeds 1-6, 4,000 firms, burn-in 80, 20 quarters
    python tools/claims.py --seeds 1 2 3 --firms 2000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.stats import t as student_t

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.model import StateBusinessModel  # noqa: E402

OUTCOMES = (
    "evaluation_score", "small_businesses", "high_performance_jobs", "fixed_investment", "attracted_investment",
    "real_wages", "corruption_incidence", "corrupt_share", "initiated_by_officials", "approval_delay",
    "business_satisfied", "business_dissatisfied", "population_satisfied", "insider_support_share", "hhi",
    "ppp_started", "ppp_completed", "ppp_terminated", "informality", "firms_in_business",
)  # fmt: skip


def means(seed: int, s: float, firms: int, burn_in: int, steps: int) -> dict[str, float]:
    """The mean over the reported quarters of each outcome (national, pooled as the model reports)."""
    m = StateBusinessModel(
        rng=seed, regions="all", firms=firms, residents_per_region=198, burn_in=burn_in, steps=steps, symbiosis=s
    )
    rows = []
    while m.running:
        m.step()
        rows.append(m.outcomes())
    return {k: float(np.nanmean([r[k] for r in rows])) for k in OUTCOMES}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 7)))
    ap.add_argument("--firms", type=int, default=4000)
    ap.add_argument("--burn-in", type=int, default=80)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args(argv)
    ends = {s: [means(seed, s, args.firms, args.burn_in, args.steps) for seed in args.seeds] for s in (0.0, 1.0)}
    n = len(args.seeds)
    print(f"{'outcome':24s} {'s = 0':>10s} {'s = 1':>10s} {'s=1 - s=0':>10s}  95% interval ({n} paired seeds)")
    for k in OUTCOMES:
        a = np.array([r[k] for r in ends[0.0]])
        b = np.array([r[k] for r in ends[1.0]])
        d = b - a
        half = student_t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n) if n > 1 else float("nan")
        lo, hi = d.mean() - half, d.mean() + half
        print(f"{k:24s} {a.mean():10.4g} {b.mean():10.4g} {d.mean():+10.4g}  [{lo:+.4g}, {hi:+.4g}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
