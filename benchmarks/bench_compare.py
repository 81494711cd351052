"""The main job's budget: the CPU cost of one run of every part of `statebiz compare` (default
and --quick sizes), measured in this process (CPU time, so other load on the machine inflates it
little), times the part's run count, side by side; the last column is the wall time that 2
workers need for it with nothing else running.

    python benchmarks/bench_compare.py            # both sizes
    python benchmarks/bench_compare.py --quick    # the --quick sizes only
    python benchmarks/bench_compare.py --posterior PATH   # as if PATH were the calibration's posterior
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections import Counter
from pathlib import Path

from simulation.posterior import load_posterior
from simulation.report.config import load_compare
from simulation.report.runs import plan


def cpu_of(task) -> float:
    """CPU seconds of one task (run in this process)."""
    _, fn, params, seed, steps, outcomes = task
    started = time.process_time()
    fn(dict(params), seed, steps, outcomes)
    return time.process_time() - started


def budget(quick: bool, posterior: str | None = None) -> None:
    config = load_compare(quick=quick)
    if posterior is not None:
        config = dataclasses.replace(config, posterior=load_posterior(posterior), posterior_path=Path(posterior))
    p = plan(config)
    counts = Counter(p.meta[t[0]]["part"] for t in p.tasks)
    first = {}
    for task in p.tasks:  # one representative run of each part (its first task), s = 0 arm where there is one
        part = p.meta[task[0]]["part"]
        if part not in first or p.meta[task[0]].get("governance") == "partnership" and part != "robust":
            first.setdefault(part, task)
    label = "--quick" if quick else "default"
    draws = "posterior" if config.posterior is not None else "no posterior (1 draw per part)"
    print(f"\n{label} ({draws}): {len(p.tasks)} runs")
    print(f"{'part':<12}{'runs':>6}{'CPU s/run':>11}{'CPU s':>9}{'wall s (2 cores)':>18}")
    total = 0.0
    for part, n in counts.items():
        c = cpu_of(first[part])
        total += c * n
        print(f"{part:<12}{n:>6}{c:>11.2f}{c * n:>9.0f}{c * n / 2:>18.0f}")
    print(f"{'all':<12}{len(p.tasks):>6}{'':>11}{total:>9.0f}{total / 2:>18.0f}")


if __name__ == "__main__":
    post = sys.argv[sys.argv.index("--posterior") + 1] if "--posterior" in sys.argv else None
    for quick in (True,) if "--quick" in sys.argv else (False, True):
        budget(quick, post)
