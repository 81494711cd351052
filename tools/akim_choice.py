"""Do the Figure 2 KPIs give akims an interest in symbiosis? (issue 22, pattern 6)

Runs the national scenario (20 regions) on a small world at the calibration's posterior
medians (as tools/ppp_lifecycle.py), with the akim's choice of s on (``symbiosis_step``,
docs/ODD.md 7.9), from a low and a high start of s, over several seeds, and reads s after every
quarter (it only reads the world). Prints:
- s (mean over the 20 regions) at a few quarters, per start: mean and range over the seeds,
  against the null of an akim with no interest at all (the same choice with every option's gain
  equal: a random walk of the same step, kept in [0, 1]);
- the response of the score to a move of s that the runs themselves show: the least-squares
  slope of the score on the change of s over the preceding year, over the regions and quarters
  of a run (what the akims estimate, with all the run's evidence), its mean over the runs with a
  95% t-interval; the same for each KPI's rank in growth;
- which KPIs fall with s and by how much: the same seeds at fixed s (step 0), low against
  high, mean KPI level over the last 40 quarters summed over the regions.
With ``--figure`` it draws s over time (each seed, their mean, the null's band) and the KPIs'
change from the low to the high s.

Usage (from the repository root):
    python tools/akim_choice.py                                   10 seeds, 2,000 firms, 190 quarters
    python tools/akim_choice.py --figure docs/figures/akim_choice.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.formulas import average_ranks  # noqa: E402
from simulation.model import StateBusinessModel  # noqa: E402
from simulation.observe.kpi import KPI_NAMES  # noqa: E402
from simulation.submodels.tournament import kpi_growth  # noqa: E402
from tools.ppp_lifecycle import posterior_medians  # noqa: E402

#: the quarters at which s is printed
REPORT_QUARTERS = (20, 40, 80, 120, 190)


def params(s0: float, firms: int, quarters: int, step: float, overrides: dict) -> dict:
    """The run's parameters: posterior medians, 20 regions, a small world, no burn-in (s is read
    from quarter 1)."""
    return (
        posterior_medians()
        | {
            "regions": "all",
            "firms": firms,
            "residents_per_region": 200,
            "burn_in": 0,
            "steps": quarters,
            "symbiosis": s0,
            "symbiosis_step": step,
        }
        | overrides
    )


def run_choice(seed: int, s0: float, firms: int, quarters: int, step: float, overrides: dict):
    """s per quarter and region (quarters x regions), the (change of s over the year, score)
    pairs of every evaluation (the league tables), each evaluation's spread of KPI growth across
    the regions (evaluations x KPIs), and each KPI's rank in growth (KPIs x region-evaluations)."""
    model = StateBusinessModel(rng=seed, **params(s0, firms, quarters, step, overrides))
    world = model.world
    s = np.zeros((quarters, world.n_regions))
    moves, scores, spread, ranks = [], [], [], []
    for q in range(quarters):
        model.step()
        s[q] = world.akimats.symbiosis
        league = world.league_history
        if len(league) >= 5:
            moves.append(league[-1][0] - league[-5][0])
            scores.append(league[-1][1])
            growth = kpi_growth(world.kpi_history)
            spread.append(growth.std(axis=1))
            ranks.append((average_ranks(growth) - 1.0) / (world.n_regions - 1))
    return s, np.concatenate(moves), np.concatenate(scores), np.array(spread), np.concatenate(ranks, axis=1)


def run_fixed(seed: int, s0: float, firms: int, quarters: int, overrides: dict) -> dict[str, float]:
    """Mean KPI levels over the last 40 quarters (summed over the regions; real wages: mean over
    the regions) at fixed s."""
    model = StateBusinessModel(rng=seed, **params(s0, firms, quarters, 0.0, overrides))
    sums = {name: 0.0 for name in KPI_NAMES}
    window = min(40, quarters)
    for q in range(quarters):
        model.step()
        if q >= quarters - window:
            kpis = model.world.kpi_history[-1]
            for name in KPI_NAMES:
                value = kpis[name].mean() if name == "real_wages" else kpis[name].sum()
                sums[name] += value / window
    return sums


def null_walk(s0: float, step: float, quarters: int, chains: int, seed: int = 0) -> np.ndarray:
    """s of an akim with no interest (every option's gain equal): each quarter one of s - step,
    s, s + step, uniformly among those that stay in [0, 1] (clipped as the model clips)."""
    rng = np.random.default_rng(seed)
    s = np.full(chains, s0)
    out = np.zeros((quarters, chains))
    moves = np.array([-1.0, 0.0, 1.0])
    for q in range(quarters):
        options = np.clip(s[:, None] + step * moves, 0.0, 1.0)
        feasible = (options != s[:, None]) | (moves == 0.0)
        prob = feasible / feasible.sum(axis=1, keepdims=True)
        choice = np.minimum((prob.cumsum(axis=1) < rng.random(chains)[:, None]).sum(axis=1), 2)
        s = options[np.arange(chains), choice]
        out[q] = s
    return out


def slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of y on x."""
    dx, dy = x - x.mean(), y - y.mean()
    return float((dx * dy).sum() / (dx * dx).sum())


def across_runs(values) -> tuple[float, float]:
    """Mean over runs and the half-width of its 95% t-interval (the runs are independent; the
    region-quarters within a run are not: overlapping years, a common league table)."""
    from scipy.stats import t as student_t

    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(student_t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--firms", type=int, default=2000)
    parser.add_argument("--quarters", type=int, default=190)
    parser.add_argument("--step", type=float, default=0.02, help="symbiosis_step (s per quarter)")
    parser.add_argument("--starts", type=float, nargs=2, default=(0.1, 0.9))
    parser.add_argument("--figure", type=Path, default=None, help="write the figure (PNG) here")
    parser.add_argument("--set", nargs="*", default=[], help="extra parameters, name=value")
    args = parser.parse_args(argv)
    overrides = {k: float(v) for k, v in (item.split("=", 1) for item in args.set)}
    seeds = range(args.seeds)
    print(
        f"20 regions, {args.firms:,} firms, {args.quarters} quarters, {args.seeds} seeds, "
        f"symbiosis_step {args.step:g}, posterior medians {overrides or ''}"
    )

    paths, nulls, all_moves, all_scores, spreads, kpi_ranks = {}, {}, [], [], [], []
    for s0 in args.starts:
        runs = [run_choice(seed, s0, args.firms, args.quarters, args.step, overrides) for seed in seeds]
        paths[s0] = np.array([r[0].mean(axis=1) for r in runs])  # seeds x quarters
        all_moves += [r[1] for r in runs]
        all_scores += [r[2] for r in runs]
        spreads += [r[3] for r in runs]
        kpi_ranks += [r[4] for r in runs]
        walk = null_walk(s0, args.step, args.quarters, 20 * 400)  # 400 worlds of 20 regions
        nulls[s0] = walk.reshape(args.quarters, 400, 20).mean(axis=2)  # quarters x worlds
        print(f"start s = {s0:g}: mean s over the regions (seeds: mean [min, max]; null: mean [5%, 95%])")
        for q in REPORT_QUARTERS:
            if q <= args.quarters:
                v, n = paths[s0][:, q - 1], nulls[s0][q - 1]
                print(
                    f"  quarter {q:3d}: {v.mean():.3f} [{v.min():.3f}, {v.max():.3f}]"
                    f"   null {n.mean():.3f} [{np.quantile(n, 0.05):.3f}, {np.quantile(n, 0.95):.3f}]"
                )
        d, h = across_runs(paths[s0][:, -1] - nulls[s0][-1].mean())
        print(f"  final s minus the null's mean: {d:+.3f} ± {h:.3f} (95%, over the seeds)")
    b, se = across_runs([slope(m, s) for m, s in zip(all_moves, all_scores)])
    print(
        f"score on the change of s over the year ({len(all_moves)} runs, {sum(len(m) for m in all_moves):,} "
        f"region-quarters): slope per run, mean {b:+.3f} ± {se:.3f} (95%) score per unit of s"
    )
    print("  by KPI (rank in growth on the change of s; mean over runs ± 95%):")
    for k, name in enumerate(KPI_NAMES):
        bk, hk = across_runs([slope(m, r[k]) for m, r in zip(all_moves, kpi_ranks)])
        print(f"  {name:24s} {bk:+.3f} ± {hk:.3f}")

    low, high = min(args.starts), max(args.starts)
    fixed = {s0: [run_fixed(seed, s0, args.firms, args.quarters, overrides) for seed in seeds] for s0 in (low, high)}
    change = {}
    print(f"KPIs at fixed s = {high:g} against s = {low:g}", "(last 40 quarters' mean; paired seeds: mean [min, max])")
    for name in KPI_NAMES:
        rel = np.array(
            [100.0 * (h[name] / lo[name] - 1.0) if lo[name] != 0 else np.nan for lo, h in zip(fixed[low], fixed[high])]
        )
        change[name] = rel
        print(f"  {name:24s} {np.nanmean(rel):+6.1f}%  [{np.nanmin(rel):+.1f}, {np.nanmax(rel):+.1f}]")
    # what a year's moves of s can do to growth, against the spread of growth the ranks compare
    moves = np.concatenate(all_moves)
    spread = np.concatenate(spreads).mean(axis=0)
    print(
        f"a year's move of s (sd over region-years {moves.std():.3f}) against the spread of KPI growth across "
        "regions: the growth it shifts if the level effect came at once, and the spread (sd) of growth"
    )
    for k, name in enumerate(KPI_NAMES):
        per_unit = np.log1p(np.nanmean(change[name]) / 100.0) / (high - low)
        print(f"  {name:24s} shift {100 * per_unit * moves.std():+6.2f}%   spread {100 * spread[k]:6.1f}%")

    if args.figure:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [3, 2]})
        ax = axes[0]
        quarters = np.arange(1, args.quarters + 1)
        for s0, colour in zip(args.starts, ("tab:blue", "tab:red")):
            null = nulls[s0]
            ax.fill_between(
                quarters,
                np.quantile(null, 0.05, axis=1),
                np.quantile(null, 0.95, axis=1),
                color=colour,
                alpha=0.12,
                label=f"no interest (null), 90% band, start {s0:g}",
            )
            for path in paths[s0]:
                ax.plot(quarters, path, color=colour, linewidth=0.6, alpha=0.6)
            ax.plot(quarters, paths[s0].mean(axis=0), color=colour, linewidth=2.2, label=f"model, start {s0:g}")
        ax.set_ylim(0, 1)
        ax.set_xlabel("quarter")
        ax.set_ylabel("symbiosis s (mean over 20 regions)")
        ax.set_title(f"akims choose s ({args.seeds} seeds, thin; mean, thick)")
        ax.legend(fontsize=7, loc="center right")
        ax = axes[1]
        means = [np.nanmean(change[n]) for n in KPI_NAMES]
        lo_err = [m - np.nanmin(change[n]) for m, n in zip(means, KPI_NAMES)]
        hi_err = [np.nanmax(change[n]) - m for m, n in zip(means, KPI_NAMES)]
        ax.barh(range(len(KPI_NAMES)), means, xerr=[lo_err, hi_err], color="grey")
        ax.set_yticks(range(len(KPI_NAMES)), [n.replace("_", " ") for n in KPI_NAMES], fontsize=8)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"KPI level, s = {high:g} vs {low:g} (%)")
        ax.set_title(f"Figure 2 KPIs at fixed s; score on Δs: {b:+.2f} ± {se:.2f} per unit s", fontsize=9)
        fig.suptitle(
            f"Do the Figure 2 KPIs give akims an interest in symbiosis? 20 regions, {args.firms:,} firms, "
            f"step {args.step:g}"
        )
        fig.tight_layout()
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.figure, dpi=100)
        print(f"figure: {args.figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
