"""The main job's budget: the CPU cost of one run of every part of `statebiz compare` (default
and --quick sizes), measured in this process (CPU time, so other load on the machine inflates it
little), times the part's run count, side by side; the last column is the wall time that 2
workers need for it with nothing else running.

    python benchmarks/bench_compare.py            # both sizes
    python benchmarks/bench_compare.py --quick    # the --quick sizes only
    python benchmarks/bench_compare.py --posterior PATH   # as if PATH were the calibration's posterior
    python benchmarks/bench_compare.py --make-run  # make run's budget: validate's runs and compare's,
                                                   # 3 runs a part (first, middle, last task), kernels compiled first
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


def make_run_budget() -> None:
    """``make run``'s runs (``statebiz validate`` then ``statebiz compare``, default sizes, the shipped
    posterior): CPU seconds a run of each kind, the mean of 3 (the kind's first, middle and last task),
    times its count, with the kernels compiled (or loaded from numba's cache) first and timed apart."""
    from collections import defaultdict

    from simulation.model import compile_kernels
    from simulation.studies import validation as vd

    started = time.process_time()
    compile_kernels()
    print(f"compiling the kernels (or loading them from numba's cache): {time.process_time() - started:.1f} CPU s")
    design = vd.ValidationDesign()
    source = vd.from_posterior(load_posterior("docs/calibration/posterior.csv", "fitted"), design)
    groups: dict[str, list] = defaultdict(list)
    v_tasks, v_meta = vd.plan(design, source)
    for task in v_tasks:
        groups[f"validate {v_meta[task[0]]['scenario']}"].append(task)
    p = plan(load_compare())
    for task in p.tasks:
        groups[f"compare {p.meta[task[0]]['part']}"].append(task)
    print(f"{'runs of':<20}{'runs':>6}{'CPU s/run':>11}{'CPU s':>9}{'wall s (2 cores)':>18}")
    total = 0.0
    for name, tasks in groups.items():
        c = sum(cpu_of(t) for t in (tasks[0], tasks[len(tasks) // 2], tasks[-1])) / 3
        total += c * len(tasks)
        print(f"{name:<20}{len(tasks):>6}{c:>11.2f}{c * len(tasks):>9.0f}{c * len(tasks) / 2:>18.0f}", flush=True)
    n = sum(len(t) for t in groups.values())
    print(f"{'all':<20}{n:>6}{'':>11}{total:>9.0f}{total / 2:>18.0f}")


if __name__ == "__main__":
    post = sys.argv[sys.argv.index("--posterior") + 1] if "--posterior" in sys.argv else None
    if "--make-run" in sys.argv:
        make_run_budget()
    else:
        for quick in (True,) if "--quick" in sys.argv else (False, True):
            budget(quick, post)
