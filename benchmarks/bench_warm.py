"""Cold start against warm start (issue 24, item 1), side by side in one invocation.

For each seed, one model run of the scenario, burn-in included, from a cold start (``burn_in``
quarters from the world of quarter 0) and from a warm start (the run's snapshot, then
``warm_burn_in`` quarters), both with the same reported quarters, alternately (so that both see
the same load of a shared machine). The snapshots are built first (once per pool member; their
build time and file size are printed apart: a cold burn-in and a write, paid once per
parameter set and member). Figures: wall seconds per run (median over the seeds) and their
ratio. With ``--national`` the same for one run of ``scenarios/kazakhstan_1to1.toml`` in a child
process each (wall and peak RSS, VmHWM; the cold one only with ``--national-cold``).

Usage (from the repository root):
    python benchmarks/bench_warm.py               Turkestan calibrated (10,000 firms), 3 seeds, 4 and 40 quarters
    python benchmarks/bench_warm.py --seeds 5 --steps 4
    python benchmarks/bench_warm.py --national    adds the 1:1 national run (minutes, GBs)
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulation import snapshots  # noqa: E402
from simulation.model import StateBusinessModel, compile_kernels  # noqa: E402
from simulation.scenario import load_scenario  # noqa: E402


def timed(params: dict, seed: int) -> float:
    started = time.perf_counter()
    StateBusinessModel(rng=seed, **params).run()
    return time.perf_counter() - started


def child(doc: dict) -> None:
    """One national run in this process: print its wall and peak RSS as JSON."""
    params = dict(load_scenario(ROOT / doc["scenario"]).params) | doc["overrides"]
    started = time.perf_counter()
    model = StateBusinessModel(rng=doc["seed"], **params).run()
    wall = time.perf_counter() - started
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"wall": wall, "cpu": cpu, "peak_gb": hwm / 1024**2, "quarter": model.quarter}))


def national(seed: int, overrides: dict) -> dict:
    doc = {"scenario": "scenarios/kazakhstan_1to1.toml", "seed": seed, "overrides": overrides}
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(doc)], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/turkestan_calibrated.toml")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, nargs="+", default=[4, 40])
    ap.add_argument("--national", action="store_true")
    ap.add_argument("--national-cold", action="store_true", help="with --national, also the cold 1:1 run")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(json.loads(args.child))
        return 0
    print(f"compiling kernels: {compile_kernels():.1f} s (not timed below)")
    base = dict(load_scenario(ROOT / args.scenario).params)
    warm = {"start": "warm"}
    seeds = list(range(args.seeds))
    started = time.perf_counter()
    paths = snapshots.ensure_pool(base | warm, seeds)
    size = sum(p.stat().st_size for p in paths) / len(paths) / 1e6
    print(
        f"{args.scenario}: {base['firms']} firms, burn_in {base['burn_in']}, warm_burn_in {base['warm_burn_in']}; "
        f"snapshots of {len(seeds)} members ready in {time.perf_counter() - started:.1f} s (built now or before), "
        f"{size:.2f} MB each, in {snapshots.directory()}"
    )
    print(f"{'reported quarters':>18} {'cold s':>8} {'warm s':>8} {'cold/warm':>10}   (median over {len(seeds)} seeds)")
    for steps in args.steps:
        cold_t, warm_t = [], []
        for seed in seeds:
            cold_t.append(timed(base | {"steps": steps}, seed))
            warm_t.append(timed(base | warm | {"steps": steps}, seed))
        c, w = statistics.median(cold_t), statistics.median(warm_t)
        print(f"{steps:>18} {c:>8.3f} {w:>8.3f} {c / w:>9.2f}x")
    if args.national:
        started = time.perf_counter()
        nat = dict(load_scenario(ROOT / "scenarios/kazakhstan_1to1.toml").params) | warm
        path = snapshots.ensure(nat, 0)
        print(
            f"kazakhstan_1to1: snapshot ready in {time.perf_counter() - started:.0f} s, "
            f"{path.stat().st_size / 1e6:.0f} MB ({path})"
        )
        hot = national(0, warm)
        what = f"(load, warm start, remaining burn-in, {nat['steps']} quarters)"
        print(f"{'1:1 national':>18} {'wall s':>8} {'CPU s':>8} {'peak GB':>8}   {what}")
        print(f"{'warm':>18} {hot['wall']:>8.1f} {hot['cpu']:>8.1f} {hot['peak_gb']:>8.2f}")
        if args.national_cold:
            cold = national(0, {})
            ratio = cold["wall"] / hot["wall"]
            print(f"{'cold':>18} {cold['wall']:>8.1f} {cold['cpu']:>8.1f} {cold['peak_gb']:>8.2f}   ratio {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
