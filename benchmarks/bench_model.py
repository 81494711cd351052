"""Every figure of issue 11's targets table, in one invocation, with the plain-Mesa reference.

Run:  PYTHONPATH=. python benchmarks/bench_model.py [--firms N] [--quarters Q] [--quick]
      [--skip-1to1] [--skip-sweep] [--seed S]      (or ``make bench``)
It prints figures and PASS/MISS against the targets and always exits 0: it is a benchmark, not
a test. Everything is measured in ONE invocation, so the ratios compare numbers taken on the
same (possibly busy) machine a few seconds apart; the machine's load average is printed at the
start and at the end.

One core: every timed run is one process with one thread (BLAS/OpenMP pools get one thread);
``--pin`` also pins the process (and the 1:1 child) to one CPU, which on a machine shared with
other jobs only adds their load to ours. The sweep is the only part that uses 2 cores. On a
shared machine wall time counts the time the scheduler gave to others, so the stepping rates
and the reference are given both per wall second and per CPU second of the process, and the
targets are judged per CPU second (the same measure for the model and for Mesa); cpu/wall
shows how much of a core the run had.

Sections
--------
0. numba: compile time of the kernels in a fresh child with an empty cache (``NUMBA_CACHE_DIR``),
   and the time to load them from that cache in a second child (``simulation.model.compile_kernels``:
   a tiny model run with the kernels on, so both include that run). Outside every timed region:
   each timed run below starts after it.
1. Stepping at N firms (default 100,000), one core, burn_in = 0: Turkestan (Q/2 quarters) and
   national (Q quarters) with the kernels compiled, and national at 2,000 firms and 4 quarters with
   them interpreted (``kernels.use(False)``: the same functions run by Python, the path of the fast
   test lane and of a machine without numba; issue 24 removed the numpy twin). Rate =
   alive-weighted firm-steps (firms in business at the start of each quarter, summed) / wall
   time of ``model.run()``. A second run with the same seed, stepped by hand, counts the
   firms in business and times each step of the schedule (the per-step profile of section 6).
2. Reference: Boltzmann wealth in the ordinary Mesa 3 style (one ``mesa.Agent`` per agent,
   ``shuffle_do("step")``), N agents, 5 steps, in this process. Ratio = 1. / 2.
3. Memory: bytes per firm (the firm table's columns and 4-quarter memory per row, the quarter's
   log, the ties) and the peak RSS of the 1:1 run (VmHWM of the child's own address space).
4. 1:1 national: ``scenarios/kazakhstan_1to1.toml`` (about 2 million firms, the scenario's
   burn-in, 40 quarters) in a child interpreter started first, while this process is small:
   import, build, burn-in, quarters, total, peak RSS.
5. Throughput of the work users do: the sweep of ``benchmarks/bench_sweep.py`` (Turkestan,
   10,000 firms, 2 workers; serial, processes, Dask; efficiency after start-up), and the time
   of one run at the calibration's settings (``experiments/calibration_turkestan.toml``
   [model]) with the wall time its simulation budget implies on 2 workers: an ESTIMATE
   (runs x time per run / 2, no ABC overhead); the calibration itself is not run here.
6. Targets, and for each stepping target missed: by how much, and where the time goes (ms per
   quarter by step of the schedule, with the observer, the recorder and Mesa's DataCollector).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported (by the model or by a child)

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

TARGET_RATE = 2_000_000  # alive-weighted firm-steps per second, one core, 100,000 firms
TARGET_RATIO = 3.5  # x the plain-Mesa reference, same run
TARGET_1TO1_S = 60.0  # seconds, 1:1 national incl. build and burn-in, one core
TARGET_1TO1_RSS = 8e9  # bytes
TARGET_CALIBRATION_S = 30 * 60  # full calibration on 2 cores
TARGET_FIRMS, TARGET_QUARTERS = 100_000, 40
RESIDENTS = 1000  # residents_per_region of the stepping runs
REFERENCE_STEPS = 5
CALIBRATION_FILE = ROOT / "experiments" / "calibration_turkestan.toml"
CALIBRATION_MANIFEST = ROOT / "docs" / "calibration" / "manifest.json"  # the last full fit on record
ONE_TO_ONE = ROOT / "scenarios" / "kazakhstan_1to1.toml"

# the 1:1 child: argv[1] is a JSON dict (scenario path, seed, overrides)
CHILD_1TO1 = r"""
import json, re, resource, sys, time
cfg = json.loads(sys.argv[1])
def hwm():
    with open("/proc/self/status") as fh:
        return int(re.search(r"VmHWM:\s+(\d+)\s+kB", fh.read()).group(1)) * 1024
t0 = time.perf_counter()
from simulation.model import StateBusinessModel, compile_kernels
from simulation.quarter import FIRM_EVENTS
from simulation.scenario import load_scenario
t1 = time.perf_counter()
compile_s = compile_kernels()
params = load_scenario(cfg["scenario"], **cfg["overrides"]).params
burn_in = params["burn_in"]
c2, t2 = time.process_time(), time.perf_counter()
model = StateBusinessModel(rng=cfg["seed"], **{**params, "burn_in": 0})
c3, t3 = time.process_time(), time.perf_counter()
rss_built = hwm()
for _ in range(burn_in):  # the constructor's burn-in, timed apart from the build
    model._quarter(observe=_ == burn_in - 1)
c4, t4 = time.process_time(), time.perf_counter()
alive_steps = 0
while model.running:
    alive_steps += int(model.firms.alive.sum())
    model.step()
c5, t5 = time.process_time(), time.perf_counter()
f = model.firms
table = sum(a.nbytes for a in f._data.values()) + sum(a.nbytes for a in f._memory.values())
t = model.ties
ties = t.base.data.nbytes + t.base.indices.nbytes + t.base.indptr.nbytes + t.src.nbytes + t.dst.nbytes
print(json.dumps({
    "import_s": t1 - t0, "compile_s": compile_s, "build_s": t3 - t2, "burn_in_s": t4 - t3, "run_s": t5 - t4,
    "cpu_s": c5 - c2, "run_cpu_s": c5 - c4,
    "burn_in": burn_in, "quarters": model.reported_quarters, "firms": params["firms"],
    "alive_end": int(f.alive.sum()), "rows": f.n, "capacity": f.capacity, "alive_steps": alive_steps,
    "table_bytes": table, "log_bytes": len(FIRM_EVENTS) * 8 * f.n, "ties_bytes": ties,
    "columns": {k: a.itemsize for k, a in f._data.items()}, "memory_fields": len(f._memory),
    "memory_row_bytes": sum(4 * a.itemsize for a in f._memory.values()),
    "rss_built": rss_built, "hwm": hwm(), "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
}))
"""

CHILD_COMPILE = r"""
import json, time
t0 = time.perf_counter()
from simulation import kernels
from simulation.model import compile_kernels
t1 = time.perf_counter()
c0 = time.process_time()
wall = compile_kernels()
print(json.dumps({"available": kernels.AVAILABLE, "import_s": t1 - t0, "warm_up_s": wall,
                  "warm_up_cpu_s": time.process_time() - c0}))
"""


# --- formatting --------------------------------------------------------------------------------
def n(x: float) -> str:
    """Integer with thousands separators."""
    return f"{round(x):,}"


def table(headers: list[str], rows: list[list[str]], indent: str = "  ") -> str:
    """Right-aligned columns, except the first (labels)."""
    cols = list(zip(headers, *rows))
    widths = [max(len(c) for c in col) for col in cols]
    out = []
    for row in [headers, *rows]:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        out.append(indent + "  ".join(cells).rstrip())
    return "\n".join(out)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" ({os.cpu_count()} CPUs)"


def child_env(**extra: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.update(extra)
    return env


def run_child(code: str, *args: str, **env: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=child_env(**env), capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise RuntimeError(f"child run failed (exit code {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- 0: numba compile time -----------------------------------------------------------------------
def compile_times() -> dict:
    with tempfile.TemporaryDirectory(prefix="bench_numba.") as cache:
        fresh = run_child(CHILD_COMPILE, NUMBA_CACHE_DIR=cache)
        cached = run_child(CHILD_COMPILE, NUMBA_CACHE_DIR=cache)
    return {
        "available": fresh["available"],
        "compile_s": fresh["warm_up_s"],
        "compile_cpu_s": fresh["warm_up_cpu_s"],
        "cached_s": cached["warm_up_s"],
        "cached_cpu_s": cached["warm_up_cpu_s"],
    }


# --- 1 and 6: stepping, with a per-step profile ---------------------------------------------------
class StepTimer:
    """Times each step of the schedule (and the observation point's parts) of one model."""

    def __init__(self, model):
        import simulation.model as model_module
        from simulation.schedule import SCHEDULE

        self.times: dict[str, float] = {}
        self.model_module, self.original = model_module, model_module.SCHEDULE
        wrapped = []
        for step in SCHEDULE:
            if step.run is not None:
                wrapped.append(type(step)(**{**step.__dict__, "run": self._wrap(step.name, step.run)}))
            else:
                wrapped.append(step)
        model_module.SCHEDULE = tuple(wrapped)
        for owner, name, label in (
            (model, "_follow_firms", "follow firms (agents)"),
            (model.observer, "step", "observer"),
            (model.recorder, "quarter", "recorder (outcomes)"),
            (model.datacollector, "collect", "DataCollector"),
        ):
            setattr(owner, name, self._wrap(label, getattr(owner, name)))

    def _wrap(self, name, fn):
        def timed(*args, **kwargs):
            started = time.process_time()  # CPU time, as the targets are judged
            try:
                return fn(*args, **kwargs)
            finally:
                self.times[name] = self.times.get(name, 0.0) + time.process_time() - started

        return timed

    def restore(self) -> None:
        self.model_module.SCHEDULE = self.original


def stepping(seed: int, regions: str, firms: int, quarters: int, kernels_on: bool) -> dict:
    from simulation import kernels
    from simulation.model import StateBusinessModel

    previous = kernels.use(kernels_on)
    params = dict(regions=regions, firms=firms, burn_in=0, steps=quarters, residents_per_region=RESIDENTS)
    try:
        gc.collect()
        t0 = time.perf_counter()
        model = StateBusinessModel(rng=seed, **params)
        build_s = time.perf_counter() - t0
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        model.run()
        run_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
        end_a = (int(model.firms.alive.sum()), model.firms.n)
        del model
        gc.collect()
        model = StateBusinessModel(rng=seed, **params)
        timer = StepTimer(model)
        alive_steps, repeat_s = 0, 0.0
        try:
            while model.running:
                alive_steps += int(model.firms.alive.sum())
                t0 = time.perf_counter()
                model.step()
                repeat_s += time.perf_counter() - t0
        finally:
            timer.restore()
        same = end_a == (int(model.firms.alive.sum()), model.firms.n)
        del model
        gc.collect()
    finally:
        kernels.use(previous)
    return {
        "regions": regions,
        "kernels": kernels_on,
        "build_s": build_s,
        "run_s": run_s,
        "cpu_s": cpu_s,
        "cpu_wall": cpu_s / run_s,
        "quarters": quarters,
        "alive_steps": alive_steps,
        "wall_rate": alive_steps / run_s,
        "rate": alive_steps / cpu_s,
        "repeat_s": repeat_s,
        "profile": {k: v / quarters for k, v in timer.times.items()},
        "same_path": same,
    }


# --- 2: the plain-Mesa reference -------------------------------------------------------------------
def reference(seed: int, agents: int, steps: int) -> dict:
    import mesa

    class MoneyAgent(mesa.Agent):
        def __init__(self, model):
            super().__init__(model)
            self.wealth = 1

        def step(self):
            if self.wealth > 0:
                other = self.random.choice(self.model.agent_list)
                while other is self:
                    other = self.random.choice(self.model.agent_list)
                other.wealth += 1
                self.wealth -= 1

    class BoltzmannWealth(mesa.Model):
        def __init__(self, n, rng=None):
            super().__init__(rng=rng)
            MoneyAgent.create_agents(self, n)
            self.agent_list = list(self.agents)

        def step(self):
            self.agents.shuffle_do("step")

    gc.collect()
    model = BoltzmannWealth(agents, rng=seed)
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(steps):
        model.step()
    run_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    assert sum(a.wealth for a in model.agent_list) == agents, "wealth is not conserved"
    del model
    gc.collect()
    return {
        "run_s": run_s,
        "cpu_s": cpu_s,
        "steps": steps,
        "wall_rate": agents * steps / run_s,
        "rate": agents * steps / cpu_s,
    }


# --- 5: one run at the calibration's settings --------------------------------------------------------
def calibration_estimate(runs: int = 3) -> dict:
    """CPU time of a run at the calibration's settings (the models of the fit in turn), and what the
    runs of the last full calibration on record (``docs/calibration/manifest.json``: the tempered
    SMC's stages are adaptive, so its run count is known only after a fit) would take on 2 workers."""
    from simulation.runner import run_model
    from simulation.scenario import load_scenario

    spec = tomllib.loads(CALIBRATION_FILE.read_text())
    model = spec["model"]
    scenario = (CALIBRATION_FILE.parent / spec["scenario"]).resolve()
    symbiosis = {"partnership": 0.0, "symbiotic": 1.0}
    models = spec.get("models", ["fitted"])
    times, quarters = [], 0
    for seed in range(runs):
        name = models[seed % len(models)]
        params = load_scenario(scenario, **model, symbiosis=symbiosis.get(name, 0.5)).params
        quarters = params["burn_in"] + params["steps"]
        t0 = time.process_time()
        run_model(seed=seed, **params)
        times.append(time.process_time() - t0)  # CPU seconds: what a run costs a dedicated core
    per_run = sum(times) / len(times)
    record = json.loads(CALIBRATION_MANIFEST.read_text()) if CALIBRATION_MANIFEST.exists() else {}
    budget = int(record.get("simulations", 0))
    return {
        "firms": model["firms"],
        "quarters": quarters,
        "per_run_s": per_run,
        "budget": budget,
        "estimate_s": budget * per_run / 2,
        "recorded_s": record.get("wall_time_seconds"),
        "recorded_commit": str(record.get("git_commit", ""))[:7],
        "walltime_cap_min": spec.get("smc", {}).get("max_walltime_minutes"),
    }


def describe_code() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "simulation"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        return head + (" + uncommitted changes in simulation/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def describe_machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs"


def profile_lines(run: dict, goal_s_per_quarter: float) -> list[str]:
    prof = run["profile"]
    total = sum(prof.values())
    lines = [
        f"  {run['regions']} ({'compiled' if run['kernels'] else 'interpreted'}): {1000 * total:.1f} CPU ms a "
        f"quarter in the profiled repeat; the target allows {1000 * goal_s_per_quarter:.1f} ms"
    ]
    rows = [
        [name, f"{1000 * t:.1f}", f"{100 * t / total:.0f}%"] for name, t in sorted(prof.items(), key=lambda x: -x[1])
    ]
    lines.append(table(["step", "CPU ms/quarter", "share"], rows, indent="    "))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--firms", type=int, default=None, help="firms of the stepping runs = reference agents (100000)")
    ap.add_argument("--quarters", type=int, default=None, help="quarters of the national stepping runs (40)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 20000 firms, 8 quarters, small 1:1 and sweep")
    ap.add_argument("--skip-1to1", action="store_true", help="leave out the 1:1 national run (minutes)")
    ap.add_argument("--skip-sweep", action="store_true", help="leave out the sweep and the calibration estimate")
    ap.add_argument("--seed", type=int, default=1, help="seed of every run (default 1)")
    ap.add_argument("--pin", action="store_true", help="pin this process (and the 1:1 child) to one CPU")
    args = ap.parse_args(argv)
    firms = args.firms or (20_000 if args.quick else TARGET_FIRMS)
    quarters = args.quarters or (8 if args.quick else TARGET_QUARTERS)
    at_target = firms == TARGET_FIRMS and quarters == TARGET_QUARTERS
    load_start = load()
    cpu = max(os.sched_getaffinity(0))
    all_cpus = os.sched_getaffinity(0)
    if args.pin:
        os.sched_setaffinity(0, {cpu})  # one core, inherited by the children

    comp = compile_times()
    one = None
    if not args.skip_1to1:
        overrides = {"firms": 200_000, "burn_in": 10, "steps": 4} if args.quick else {}
        one = run_child(
            CHILD_1TO1, json.dumps({"scenario": str(ONE_TO_ONE), "seed": args.seed, "overrides": overrides})
        )

    import mesa
    import numpy as np

    from simulation import kernels
    from simulation.model import StateBusinessModel, compile_kernels

    compile_kernels()
    StateBusinessModel(rng=0, regions="all", firms=1000, burn_in=0, steps=1, residents_per_region=RESIDENTS).run()
    runs = {
        "turkestan": stepping(args.seed, "turkestan", firms, max(1, quarters // 2), True),
        "national": stepping(args.seed, "all", firms, quarters, True),
        "national, interpreted, 2,000 firms": stepping(args.seed, "all", 2_000, 4, False),
    }
    ref = reference(args.seed, firms, REFERENCE_STEPS)

    calib = sweep = None
    if not args.skip_sweep:
        calib = calibration_estimate(1 if args.quick else 3)
        os.sched_setaffinity(0, all_cpus)  # the sweep uses 2 cores
        import bench_sweep

        sweep = bench_sweep.measure_repeated(
            8 if args.quick else 24, 2, 2_000 if args.quick else 10_000, 4 if args.quick else 40, 1 if args.quick else 3
        )
        if args.pin:
            os.sched_setaffinity(0, {cpu})

    print(
        f"statebiz benchmark (issue 11): {firms:,} firms, seed {args.seed}, one process"
        f"{f' pinned to CPU {cpu}' if args.pin else ''}"
        f"{'' if at_target else '  [not the target size]'}"
    )
    print(
        f"  Python {platform.python_version()}, Mesa {mesa.__version__}, numpy {np.__version__}, "
        f"numba {getattr(kernels.numba, '__version__', 'not installed')}; {describe_machine()}; code {describe_code()}"
    )
    print(f"  {load_start} at the start; {load()} at the end")

    print("\n0. numba kernels (outside every timed region)")
    if comp["available"]:
        print(
            f"  compile, empty cache: {comp['compile_s']:.2f} s ({comp['compile_cpu_s']:.2f} CPU s); load from the "
            f"on-disk cache: {comp['cached_s']:.2f} s ({comp['cached_cpu_s']:.2f} CPU s)"
        )
    else:
        print("  numba is not installed: the kernels run interpreted")

    print("\n1. Stepping, one core, burn_in 0 (firm-steps = firms in business at the start of each quarter, summed)")
    rows = [
        [
            name,
            f"{r['build_s']:.2f}",
            str(r["quarters"]),
            f"{r['run_s']:.2f}",
            f"{r['cpu_wall']:.2f}",
            n(r["alive_steps"]),
            n(r["wall_rate"]),
            n(r["rate"]),
            f"{r['rate'] / ref['rate']:.2f}x",
        ]
        for name, r in runs.items()
    ]
    headers = ["run", "build s", "quarters", "run s", "cpu/wall", "firm-steps", "per wall s", "per CPU s", "x Mesa"]
    print(table(headers, rows))
    print("  (x Mesa: per CPU second, against the reference per CPU second)")
    for name, r in runs.items():
        if not r["same_path"]:
            print(f"  note: {name}: the profiled repeat ended in a different state")
    print(
        f"  compiled against interpreted (national): "
        f"{runs['national']['rate'] / runs['national, interpreted, 2,000 firms']['rate']:.0f}x (the same functions; "
        f"the interpreted run is small)"
    )

    print(f"\n2. Reference: Boltzmann wealth, plain Mesa 3 agents (shuffle_do), {firms:,} agents, {ref['steps']} steps")
    print(
        f"  {ref['run_s']:.2f} s, cpu/wall {ref['cpu_s'] / ref['run_s']:.2f}; {n(ref['wall_rate'])} agent-steps per "
        f"wall s, {n(ref['rate'])} per CPU s"
    )

    if one is not None:
        print(f"\n3. Memory (the 1:1 run at its end: {one['rows']:,} rows in use, capacity {one['capacity']:,})")
        per_row = one["table_bytes"] / one["capacity"]
        alive = max(one["alive_end"], 1)
        per_firm = (one["table_bytes"] + one["log_bytes"] + one["ties_bytes"]) / alive
        cols = sum(one["columns"].values())
        print(
            f"  firm table: {per_row:.0f} bytes a row ({len(one['columns'])} columns, {cols} bytes; "
            f"{one['memory_fields']} memory fields x 4 quarters, int16 counts and float64 amounts: "
            f"{one['memory_row_bytes']} bytes)"
        )
        print(
            f"  per firm in business, with spare capacity, the quarter's log and the ties: {per_firm:.0f} bytes "
            f"(table {one['table_bytes'] / alive:.0f}, log {one['log_bytes'] / alive:.0f}, "
            f"ties {one['ties_bytes'] / alive:.0f})"
        )
        print(
            f"  peak RSS {one['hwm'] / 1e9:.2f} GB (VmHWM; after the build {one['rss_built'] / 1e9:.2f} GB); "
            f"{one['hwm'] / alive:.0f} bytes per firm in business"
        )
        total = one["build_s"] + one["burn_in_s"] + one["run_s"]
        print(
            f"\n4. 1:1 national ({ONE_TO_ONE.name}: {one['firms']:,} firms, burn-in {one['burn_in']}, "
            f"{one['quarters']} quarters), one core, fresh interpreter"
        )
        print(
            table(
                ["import s", "compile s", "build s", "burn-in s", "quarters s", "total s", "total CPU s", "peak GB"],
                [
                    [
                        f"{one['import_s']:.1f}",
                        f"{one['compile_s']:.1f}",
                        f"{one['build_s']:.1f}",
                        f"{one['burn_in_s']:.1f}",
                        f"{one['run_s']:.1f}",
                        f"{total:.1f}",
                        f"{one['cpu_s']:.1f}",
                        f"{one['hwm'] / 1e9:.2f}",
                    ]
                ],
            )
        )

    if sweep is not None:
        print("\n5. Throughput of the work users do")
        print("\n".join(bench_sweep.report(sweep)))
        print(
            f"  calibration ({CALIBRATION_FILE.name} [model]: {calib['firms']:,} firms, {calib['quarters']} quarters): "
            f"{calib['per_run_s']:.2f} CPU s a run; the {calib['budget']:,} runs of the last full fit on record "
            f"on 2 workers: about {calib['estimate_s'] / 60:.1f} min (ESTIMATE: runs x time per run / 2, without "
            f"the sampler's own work; the file stops a fit at {calib['walltime_cap_min']} min)"
        )
        if calib["recorded_s"]:
            print(
                f"  the last full calibration on record took {calib['recorded_s'] / 60:.1f} min on 2 cores "
                f"(measured, code {calib['recorded_commit']}; docs/calibration/manifest.json)"
            )

    print("\n6. Targets" + ("" if at_target else f" (measured at {firms:,} firms x {quarters} quarters)"))
    rows = []
    missed = []
    for name in ("turkestan", "national"):
        r = runs[name]
        ok_rate, ok_ratio = r["rate"] >= TARGET_RATE, r["rate"] / ref["rate"] >= TARGET_RATIO
        rows.append([f"firm-steps per CPU s, {name}", f">= {n(TARGET_RATE)}", n(r["rate"]), verdict(ok_rate)])
        rows.append(
            [f"x plain Mesa, {name}", f">= {TARGET_RATIO}x", f"{r['rate'] / ref['rate']:.2f}x", verdict(ok_ratio)]
        )
        if not (ok_rate and ok_ratio):
            missed.append(r)
    if one is not None:
        total = one["cpu_s"]  # CPU seconds: what a dedicated core would take
        rows.append(
            [
                "1:1 national, one core, with build and burn-in (CPU s)",
                f"<= {TARGET_1TO1_S:.0f} s",
                f"{total:.0f} s",
                verdict(total <= TARGET_1TO1_S),
            ]
        )
        rows.append(
            ["1:1 national, peak RSS", "<= 8 GB", f"{one['hwm'] / 1e9:.2f} GB", verdict(one["hwm"] <= TARGET_1TO1_RSS)]
        )
    if sweep is not None:
        for backend, target in bench_sweep.TARGETS.items():
            eff = sweep["backends"][backend]["efficiency_after_startup"]
            rows.append(
                [f"sweep efficiency, {backend}, 2 workers", f">= {target:.0%}", f"{eff:.0%}", verdict(eff >= target)]
            )
        rows.append(
            [
                "full calibration, 2 cores (ESTIMATE)",
                "<= 30 min",
                f"{calib['estimate_s'] / 60:.1f} min",
                verdict(calib["estimate_s"] <= TARGET_CALIBRATION_S) + " (estimate)",
            ]
        )
    print(table(["target", "goal", "measured", ""], rows))
    for r in missed:
        need = r["alive_steps"] / r["quarters"] / max(TARGET_RATE, TARGET_RATIO * ref["rate"])
        short = max(TARGET_RATE / r["rate"], TARGET_RATIO * ref["rate"] / r["rate"])
        print(f"\n  MISSED by {short:.2f}x ({r['regions']}): where the time goes")
        print("\n".join(profile_lines(r, need)))
    if one is not None:
        total = one["cpu_s"]
        if total > TARGET_1TO1_S:
            q = one["burn_in"] + one["quarters"]
            print(
                f"\n  1:1 MISSED by {total / TARGET_1TO1_S:.1f}x: {q} quarters of about "
                f"{one['firms'] / 1e6:.1f} M firms at {n(one['alive_steps'] / one['run_cpu_s'])} firm-steps per CPU s; "
                f"60 s would need {n(one['alive_steps'] / one['quarters'] * q / TARGET_1TO1_S)} (build "
                f"{one['build_s']:.0f} s, burn-in {one['burn_in_s']:.0f} s); the per-step profile above applies"
            )
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
