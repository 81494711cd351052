"""Throughput of the same sweep serially, on local processes and on a local Dask cluster.

Run:  PYTHONPATH=. python benchmarks/bench_sweep.py [--runs N] [--workers W] [--firms F] [--quarters Q]
      It prints figures and PASS/MISS against the target and always exits 0: it is a benchmark,
      not a test. Everything is measured in ONE invocation, a few seconds apart.

What is measured
----------------
The sweep: the Turkestan scenario (``scenarios/turkestan.toml``, default size: 10,000 firms,
40 reported quarters after 8 of burn-in, about 1 s a run), a full factorial over audit_rate
with N runs in all (design points x replications, paired seeds). It runs three times through
``run_sweep`` into fresh result directories:

1. ``serial``: in this process, one run after another;
2. ``processes``: a local process pool with W workers (forkserver, mesa imported once);
3. ``dask``: a local Dask cluster (``LocalCluster``, W worker processes of one thread each, on
   127.0.0.1), started and stopped inside the measurement.

Each time is the wall time of the whole ``run_sweep`` call, so worker start-up, result
transfer, Parquet parts and the manifest are included. Throughput = runs / wall time; parallel
efficiency = (throughput / serial throughput) / W. Target: >= 85% with 2 workers on a 2-core
machine. "first run done s" is the time to the first finished run: one run plus the backend's
start-up (worker processes, a Dask cluster). The script also checks that the three result
tables are identical.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 0.85


def experiment_text(runs: int, firms: int, quarters: int) -> str:
    points = 4 if runs % 4 == 0 else (2 if runs % 2 == 0 else 1)
    reps = runs // points
    levels = ", ".join(f"{0.02 + 0.04 * i:.2f}" for i in range(points))
    return f"""\
name = "bench_sweep"
scenario = "{(ROOT / "scenarios" / "turkestan.toml").as_posix()}"
replications = {reps}
seed = 11
quarters = {quarters}
outcomes = ["regime_*", "corruption_incidence", "business_satisfied", "real_wages"]

[base]
firms = {firms}

[levers]
audit_rate = [{levels}]
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=48, help="runs in the sweep (default 48)")
    ap.add_argument("--workers", type=int, default=2, help="workers for processes and Dask (default 2)")
    ap.add_argument("--firms", type=int, default=10_000, help="firms (default 10,000: the Turkestan scenario)")
    ap.add_argument("--quarters", type=int, default=40, help="reported quarters (default 40)")
    args = ap.parse_args()

    from simulation.runs import load_experiment, read_results, run_sweep

    tmp = Path(tempfile.mkdtemp(prefix="bench_sweep."))
    try:
        path = tmp / "bench_sweep.toml"
        path.write_text(experiment_text(args.runs, args.firms, args.quarters))
        spec = load_experiment(path)
        runs = spec.replications * len(spec.extra["points"])
        print(
            f"sweep: Turkestan, {args.firms} firms, {args.quarters} quarters (+ burn-in), {runs} runs; "
            f"{args.workers} workers; {os.cpu_count()} CPUs on this machine"
        )
        times, startup = {}, {}
        for backend in ("serial", "processes", "dask"):
            started = time.perf_counter()
            report = run_sweep(spec, tmp / backend, backend=backend, workers=args.workers, progress=False)
            times[backend] = time.perf_counter() - started
            startup[backend] = report.first_result_s or 0.0
            if not report.ok:
                print(f"  {backend}: {len(report.failures)} runs failed: {report.failures[:1]}")
        base = read_results(tmp / "serial").drop(columns="elapsed_s")
        same = all(read_results(tmp / b).drop(columns="elapsed_s").equals(base) for b in ("processes", "dask"))
        per_run = read_results(tmp / "serial")["elapsed_s"].mean()
        print(f"  one run takes {per_run:.2f} s (serial, mean)")
        print(
            f"  {'backend':<10} {'workers':>7} {'wall s':>8} {'runs/s':>8} {'speed-up':>9} "
            f"{'efficiency':>11} {'first run done s':>17}"
        )
        serial_rate = runs / times["serial"]
        for backend in ("serial", "processes", "dask"):
            w = 1 if backend == "serial" else args.workers
            rate = runs / times[backend]
            eff = rate / serial_rate / w
            verdict = (
                "" if backend == "serial" else ("  PASS" if eff >= TARGET else "  MISS") + f" (target {TARGET:.0%})"
            )
            print(
                f"  {backend:<10} {w:>7} {times[backend]:>8.1f} {rate:>8.2f} {rate / serial_rate:>8.2f}x "
                f"{eff:>10.0%} {startup[backend]:>17.1f}{verdict}"
            )
        print(f"  results identical on all three backends: {'yes' if same else 'NO'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
