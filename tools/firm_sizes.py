"""Firm sizes and exits at the stationary state (issue 22, pattern 2: dominant firms).

Runs the national scenario (20 regions) at the parameters' defaults on a small world, through
a burn-in, then reads the firm table after every quarter of a window (it only reads the world).
Prints, pooled over the seeds:
- per region, the largest firm's capital over the median firm's (at the end of the run; capital,
  as the dominance check of tests/submodels/test_firm_sizes.py reads it), and the country's share
  of firms with more than 100 times the median capital;
- the Hill estimate of the Pareto exponent of the upper tail of employment, on the top k
  firms of the whole country (at the end of the run);
- quarterly exit rates by employment quartile and by age class over the window (a firm's
  size and age at the start of the quarter, exit during it);
- the shares of firms with more than 100 and more than 250 jobs, beside Kazakhstan's official
  counts of such enterprises over all operating ones (simulation/data/enterprises.toml).

Usage (from the repository root):
    python tools/firm_sizes.py                          3 seeds, 5,000 firms, burn-in 150, window 40
    python tools/firm_sizes.py --seeds 1 2 --firms 3000 --burn-in 100 --window 40
    python tools/firm_sizes.py --firms 20000 --figure firm_sizes.png    also the figure (PNG): the
        country's employment as a rank-size plot (log-log) per seed, with the Pareto line of
        exponent 1.06 (Axtell 2001), and the quarterly exit rate by employment quartile and age class
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation import formulas  # noqa: E402
from simulation.model import StateBusinessModel  # noqa: E402

#: Age classes (years) for the exit rates: under 2, 2-5, 5-10, 10 and over.
AGE_EDGES_YEARS = (2, 5, 10)


def official_shares() -> dict[int, float]:
    """Kazakhstan's enterprises with more than 100 and more than 250 employees, as shares of all
    operating enterprises (operating SMEs plus large ones; simulation/data/enterprises.toml)."""
    with open(ROOT / "simulation" / "data" / "enterprises.toml", "rb") as fh:
        counts = {c["id"]: c for c in tomllib.load(fh)["count"]}
    big = counts["large_and_medium_2023"]
    large = big["detail"]["large"]
    total = counts["operating_smes_2024"]["value"] + large
    return {100: big["value"] / total, 250: large / total}


def hill(x: np.ndarray, k: int) -> float:
    """Hill estimate of the Pareto tail exponent from the k largest of x (k + 1 order statistics)."""
    top = np.sort(np.asarray(x, dtype=float))[::-1][: k + 1]
    return 1.0 / float(np.mean(np.log(top[:k] / top[k])))


def run(seed: int, firms: int, burn_in: int, window: int, **params) -> dict:
    """One run: per-region largest/median capital, the country's employment at the end,
    and (jobs, age, exited) of every firm-quarter in the window."""
    m = StateBusinessModel(
        rng=seed, regions="all", firms=firms, residents_per_region=200, burn_in=0, steps=burn_in + window, **params
    )
    f = m.world.firms
    p = m.world.params
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for q in range(burn_in + window):
        if q >= burn_in:
            alive = np.flatnonzero(f.alive)
            uid = f.uid[alive].copy()
            jobs = formulas.jobs(f.capital[alive], p)
            age = f.age[alive].copy()
        m._quarter(observe=False)
        if q >= burn_in:
            now = set(f.uid[f.alive].tolist())
            exited = np.array([u not in now for u in uid.tolist()])
            rows.append((jobs, age, exited))
    alive = f.alive
    jobs = formulas.jobs(f.capital[alive], p)
    region = f.region[alive]
    present = [r for r in range(m.world.n_regions) if (region == r).any()]
    capital = f.capital[alive]
    ratio = np.array([capital[region == r].max() / np.median(capital[region == r]) for r in present])
    counts = np.bincount(region, minlength=m.world.n_regions)
    return {
        "ratio": ratio,
        "counts": counts,
        "jobs": jobs,
        "tail_share": float(np.mean(capital > 100.0 * np.median(capital))),
        "panel": tuple(np.concatenate(c) for c in zip(*rows, strict=True)),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--firms", type=int, default=5000)
    ap.add_argument("--burn-in", type=int, default=150)
    ap.add_argument("--window", type=int, default=40)
    ap.add_argument("--k", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--figure", type=Path, default=None, help="write the figure (PNG) here")
    args = ap.parse_args(argv)
    ratios, hills, panels, countries = [], {k: [] for k in args.k}, [], []
    for seed in args.seeds:
        out = run(seed, args.firms, args.burn_in, args.window)
        ratios.append(out["ratio"])
        for k in args.k:
            hills[k].append(hill(out["jobs"], k))
        panels.append(out["panel"])
        countries.append(out["jobs"])
        print(
            f"seed {seed}: firms alive {len(out['jobs'])}, largest employment {out['jobs'].max():.0f}, "
            f"median {np.median(out['jobs']):.2f}; share above 100x the median capital {out['tail_share']:.4f}; "
            f"largest/median capital by region: min {out['ratio'].min():.1f}, "
            f"median {np.median(out['ratio']):.1f}, max {out['ratio'].max():.1f}; "
            f"regions with >= 100x: {(out['ratio'] >= 100).sum()} of {len(out['ratio'])}"
        )
    for k in args.k:
        print(f"Hill exponent of employment, top k = {k}: " + ", ".join(f"{h:.2f}" for h in hills[k]))
    official = official_shares()
    for threshold, share in official.items():
        model = [np.mean(c > threshold) for c in countries]
        print(
            f"share of firms with more than {threshold} jobs: model "
            + ", ".join(f"{100 * x:.3f}%" for x in model)
            + f" by seed; Kazakhstan {100 * share:.3f}% (enterprises.toml)"
        )
    jobs, age, exited = (np.concatenate(c) for c in zip(*panels, strict=True))
    q = np.quantile(jobs, [0.25, 0.5, 0.75])
    size_class = np.searchsorted(q, jobs, side="right")
    print("quarterly exit rate by employment quartile (Q1 smallest):")
    for c in range(4):
        sel = size_class == c
        print(f"  Q{c + 1}: {exited[sel].mean():.4f} ({sel.sum()} firm-quarters)")
    age_class = np.searchsorted(np.array(AGE_EDGES_YEARS) * 4, age, side="right")
    labels = ["<2 y", "2-5 y", "5-10 y", ">=10 y"]
    print("quarterly exit rate by age class:")
    for c in range(4):
        sel = age_class == c
        print(f"  {labels[c]}: {exited[sel].mean():.4f} ({sel.sum()} firm-quarters)")
    if args.figure:
        by_size = [exited[size_class == c].mean() for c in range(4)]
        by_age = [exited[age_class == c].mean() for c in range(4)]
        figure(args, countries, by_size, by_age, labels)


def figure(args, countries, by_size, by_age, age_labels) -> None:
    """The PNG: rank-size plot of the country's employment per seed, and exit rates by class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    for seed, jobs in zip(args.seeds, countries, strict=True):
        x = np.sort(jobs)[::-1]
        ax.loglog(x, np.arange(1, x.size + 1), ".", markersize=2, label=f"seed {seed}")
    x = np.sort(countries[0])[::-1]
    k = 100  # the Pareto line of exponent 1.06 through the 100th largest firm of the first seed
    grid = np.geomspace(x[k], x[0], 20)
    ax.loglog(grid, (k + 1) * (grid / x[k]) ** -1.06, "k--", label="Pareto, exponent 1.06 (Axtell 2001)")
    ax.set_xlabel("employment (jobs)")
    ax.set_ylabel("rank (firms at least this large)")
    ax.set_title(f"Firm sizes, 20 regions, {args.firms:,} firms, quarter {args.burn_in + args.window}")
    ax.legend(fontsize=8)
    pos = np.arange(4)
    bx.bar(pos - 0.2, by_size, 0.4, label="by employment quartile (Q1 .. Q4)")
    bx.bar(pos + 0.2, by_age, 0.4, label="by age class (" + ", ".join(age_labels) + ")")
    bx.set_xticks(pos, ["Q1 / <2 y", "Q2 / 2-5 y", "Q3 / 5-10 y", "Q4 / >=10 y"])
    bx.set_ylabel("quarterly exit rate")
    bx.set_title(f"Exits over quarters {args.burn_in + 1}-{args.burn_in + args.window}, seeds pooled")
    bx.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.figure, dpi=100)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
