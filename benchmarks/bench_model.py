"""Speed and memory benchmark of StateBusinessModel, side by side with a plain Mesa reference model.

Run:  PYTHONPATH=. python benchmarks/bench_model.py [--firms N] [--quarters Q] [--quick] [--seed S]
      (or ``make bench``). It prints figures and PASS/MISS against the targets and always exits 0:
      it is a benchmark, not a test. Everything is measured in ONE invocation, so the ratios compare
      numbers taken on the same (possibly noisy) machine a few seconds apart.

What is measured
----------------
1. Full model, stepping only. For the Turkestan scenario (regions="turkestan", Q/2 quarters) and the
   national scenario (regions="all", Q quarters), both with ``firms=N`` and ``burn_in=0``:
   - "build s": the constructor (world, networks, Mesa agents; no burn-in since burn_in=0);
   - "run s": wall time of ``model.run()`` alone, the headline stepping time;
   - "cpu/wall": process CPU time / wall time of that run (about 1.00 means one core was used);
   - firm-steps, two ways: "nominal" = initial firms x quarters (the approximation), and
     "alive-wtd" = the sum over quarters of the firms in business (``firms.alive.sum()``)
     at the start of each quarter. The alive count needs a second model with the same seed stepped
     by hand (``while model.running: model.step()``); its step time is shown as "repeat s", a
     rough idea of the run-to-run noise. The two runs follow the same trajectory (same seed);
     the script checks that the final states agree and says so if they do not.
   - rates: firm-steps / "run s". The target is judged on the alive-weighted rate.
2. Reference: the Boltzmann wealth model in the ordinary Mesa 3 style (one ``mesa.Agent`` per
   agent; the model's step is ``self.agents.shuffle_do("step")``; an agent with wealth > 0 gives
   one unit to a random other agent picked from a plain list), N agents, 5 steps, no grid and no
   DataCollector. Rate = agent-steps / wall time of the steps.
3. Ratio = full-model firm-steps/s / reference agent-steps/s. A ratio of 20 means the full model
   advances one firm by one quarter 20 times faster than plain Mesa advances one trivial agent by
   one step; 1 would mean "as fast as a per-agent Python loop that does almost nothing".
4. National run as the issue defines it: regions="all", N firms, Q quarters, the default burn-in
   (8 quarters, run by the constructor). Measured in a fresh child interpreter (``sys.executable
   -c``) so that the parent's models do not count: "import s" (importing ``simulation``),
   "build+burn-in s" (constructor), "Q quarters s" (``model.run()``), "total s" (build + run, no
   interpreter start or import) and peak RSS. The child is started FIRST, while this parent is
   still small: on Linux a child's ``ru_maxrss`` starts from the memory high-water mark of the
   process it was exec'd from, so a child started from a parent holding a 100,000-firm model
   would report the parent's peak. Peak RSS is therefore reported both as ``ru_maxrss`` and as
   VmHWM from /proc/self/status (the child's own address space only), and the target is judged on
   the larger of the two.
5. Targets: >= 2,000,000 firm-steps/s on one core at 100,000 firms (each scenario); the national
   run of 100,000 firms x 40 quarters in <= 10 s (judged both with construction + burn-in and on
   the 40 quarters alone) and <= 2 GB peak RSS (2 GB = 2e9 bytes, stricter than 2 GiB).

"One core": OMP/OpenBLAS/MKL thread pools are set to 1 thread (here and in the child) before
numpy is imported; the model does not use BLAS heavily, so this only keeps the comparison fair.
The cpu/wall column shows whether anything still ran in parallel. Timings are single runs:
differences below ~10 % between invocations are noise.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy is imported (by the model or by the child)

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RATE = 2_000_000  # firm-steps per second, one core, 100,000 firms
TARGET_WALL = 10.0  # seconds, national run 100,000 firms x 40 quarters
TARGET_RSS = 2_000_000_000  # bytes (2 GB)
TARGET_FIRMS, TARGET_QUARTERS = 100_000, 40
RESIDENTS = 1000  # residents_per_region, pinned so that the figures do not move with the default
REFERENCE_STEPS = 5

# The child of section 4. argv[1] is a JSON dict: seed, firms, quarters, residents.
CHILD = r"""
import json, re, resource, sys, time
cfg = json.loads(sys.argv[1])
def hwm_kib():
    with open("/proc/self/status") as fh:
        m = re.search(r"VmHWM:\s+(\d+)\s+kB", fh.read())
    return int(m.group(1)) if m else -1
t0 = time.perf_counter()
from simulation import StateBusinessModel
t1 = time.perf_counter()
rss_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
model = StateBusinessModel(rng=cfg["seed"], regions="all", firms=cfg["firms"], steps=cfg["quarters"],
                           residents_per_region=cfg["residents"])
t2 = time.perf_counter()
model.run()
t3 = time.perf_counter()
print(json.dumps({
    "import_s": t1 - t0, "build_s": t2 - t1, "run_s": t3 - t2, "burn_in": model.params["burn_in"],
    "alive_end": int(model.firms.alive.sum()), "reported": model.reported_quarters,
    "rss_import_kib": rss_import, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "hwm_kib": hwm_kib(),
}))
"""


# --- formatting --------------------------------------------------------------------------------
def n(x: float) -> str:
    """Integer with thousands separators."""
    return f"{round(x):,}"


def table(headers: list[str], rows: list[list[str]], label: bool = True, indent: str = "  ") -> str:
    """Right-aligned columns, except the first when it holds labels."""
    cols = list(zip(headers, *rows))
    widths = [max(len(c) for c in col) for col in cols]
    out = []
    for row in [headers, *rows]:
        first = row[0].ljust(widths[0]) if label else row[0].rjust(widths[0])
        cells = [first] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        out.append(indent + "  ".join(cells).rstrip())
    return "\n".join(out)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# --- section 4: national run in a fresh interpreter ------------------------------------------------
def national_child(seed: int, firms: int, quarters: int) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    cfg = {"seed": seed, "firms": firms, "quarters": quarters, "residents": RESIDENTS}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(cfg)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise RuntimeError(f"national child run failed (exit code {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- section 1: full model ---------------------------------------------------------------------
def full_model(seed: int, regions: str, firms: int, quarters: int) -> dict:
    from simulation import StateBusinessModel

    params = dict(regions=regions, firms=firms, burn_in=0, steps=quarters, residents_per_region=RESIDENTS)

    gc.collect()
    t0 = time.perf_counter()
    model = StateBusinessModel(rng=seed, **params)
    build_s = time.perf_counter() - t0
    n_regions = model.n_regions
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    model.run()
    run_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    end_a = (int(model.firms.alive.sum()), int(model.firms.n), model.reported_quarters)
    del model

    # same seed, stepped by hand to count the firms in business before each quarter
    gc.collect()
    model = StateBusinessModel(rng=seed, **params)
    gc.collect()
    alive_steps, repeat_s = 0, 0.0
    while model.running:
        alive_steps += int(model.firms.alive.sum())
        t0 = time.perf_counter()
        model.step()
        repeat_s += time.perf_counter() - t0
    end_b = (int(model.firms.alive.sum()), int(model.firms.n), model.reported_quarters)
    del model
    gc.collect()
    return {
        "regions": n_regions,
        "build_s": build_s,
        "run_s": run_s,
        "cpu_wall": cpu_s / run_s,
        "quarters": end_a[2],
        "nominal": firms * end_a[2],
        "alive_steps": alive_steps,
        "repeat_s": repeat_s,
        "same_path": end_a == end_b,
        "alive_end": end_a[0],
    }


# --- section 2: reference Boltzmann wealth model, ordinary Mesa 3 style --------------------------------
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
    t0 = time.perf_counter()
    model = BoltzmannWealth(agents, rng=seed)
    build_s = time.perf_counter() - t0
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(steps):
        model.step()
    run_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    total = sum(a.wealth for a in model.agent_list)
    assert total == agents, "wealth is not conserved"
    del model
    gc.collect()
    return {
        "build_s": build_s,
        "run_s": run_s,
        "cpu_wall": cpu_s / run_s,
        "steps": steps,
        "rate": agents * steps / run_s,
    }


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--firms", type=int, default=None, help="initial firms = reference agents (default 100000)")
    ap.add_argument(
        "--quarters",
        type=int,
        default=None,
        help="quarters of the national runs; Turkestan runs half as many (default 40)",
    )
    ap.add_argument("--quick", action="store_true", help="smoke run: 20000 firms, 8 quarters (unless given)")
    ap.add_argument("--seed", type=int, default=1, help="seed of every run (default 1)")
    args = ap.parse_args(argv)
    firms = args.firms if args.firms is not None else (20_000 if args.quick else TARGET_FIRMS)
    quarters = args.quarters if args.quarters is not None else (8 if args.quick else TARGET_QUARTERS)
    q_turk = max(1, quarters // 2)
    at_target = firms == TARGET_FIRMS and quarters == TARGET_QUARTERS

    # 4 first, while this process is small (see the docstring on ru_maxrss)
    nat = national_child(args.seed, firms, quarters)

    import mesa
    import numpy as np

    print(
        f"statebiz benchmark: {firms:,} firms, seed {args.seed}, residents_per_region {RESIDENTS}, "
        f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}{'' if at_target else '  [not the target size]'}"
    )
    print(
        f"  Python {platform.python_version()}, Mesa {mesa.__version__}, numpy {np.__version__}; "
        f"{describe_machine()}; code {describe_code()}"
    )

    # warm-up: lazy imports and first-call costs out of the timed runs
    from simulation import StateBusinessModel

    StateBusinessModel(rng=0, regions="all", firms=1000, burn_in=0, steps=1, residents_per_region=RESIDENTS).run()

    runs = {
        "turkestan": full_model(args.seed, "turkestan", firms, q_turk),
        "national": full_model(args.seed, "all", firms, quarters),
    }
    ref = reference(args.seed, firms, REFERENCE_STEPS)

    print("\n1. Full model, stepping only (burn_in=0; rates = firm-steps / run s)")
    rows = []
    for name, r in runs.items():
        rows.append(
            [
                name,
                str(r["regions"]),
                f"{r['build_s']:.2f}",
                str(r["quarters"]),
                f"{r['run_s']:.2f}",
                f"{r['repeat_s']:.2f}",
                f"{r['cpu_wall']:.2f}",
                n(r["nominal"]),
                n(r["alive_steps"]),
                n(r["nominal"] / r["run_s"]),
                n(r["alive_steps"] / r["run_s"]),
            ]
        )
    print(
        table(
            [
                "scenario",
                "regions",
                "build s",
                "quarters",
                "run s",
                "repeat s",
                "cpu/wall",
                "firm-steps nominal",
                "alive-wtd",
                "nominal/s",
                "alive-wtd/s",
            ],
            rows,
        )
    )
    for name, r in runs.items():
        if not r["same_path"]:
            print(f"  note: {name}: the hand-stepped repeat ended in a different state (not deterministic?)")

    print("\n2. Reference: Boltzmann wealth, plain Mesa 3 agents (shuffle_do), no grid")
    print(
        table(
            ["model", "agents", "build s", "steps", "run s", "cpu/wall", "agent-steps/s"],
            [
                [
                    "boltzmann",
                    n(firms),
                    f"{ref['build_s']:.2f}",
                    str(ref["steps"]),
                    f"{ref['run_s']:.2f}",
                    f"{ref['cpu_wall']:.2f}",
                    n(ref["rate"]),
                ]
            ],
        )
    )

    print("\n3. Ratio: full-model firm-steps/s / reference agent-steps/s")
    print(
        table(
            ["scenario", "nominal", "alive-wtd"],
            [
                [
                    name,
                    f"{r['nominal'] / r['run_s'] / ref['rate']:.1f}x",
                    f"{r['alive_steps'] / r['run_s'] / ref['rate']:.1f}x",
                ]
                for name, r in runs.items()
            ],
        )
    )

    total_s = nat["build_s"] + nat["run_s"]
    peak = max(nat["maxrss_kib"], nat["hwm_kib"]) * 1024
    print(
        f"\n4. National run in a fresh interpreter: regions=all, {firms:,} firms, burn_in {nat['burn_in']} "
        f"(default, in the constructor), {nat['reported']} quarters"
    )
    print(
        table(
            [
                "import s",
                "build+burn-in s",
                f"{nat['reported']} quarters s",
                "total s",
                "alive at end",
                "RSS after import MB",
                "peak ru_maxrss MB",
                "peak VmHWM MB",
            ],
            [
                [
                    f"{nat['import_s']:.2f}",
                    f"{nat['build_s']:.2f}",
                    f"{nat['run_s']:.2f}",
                    f"{total_s:.2f}",
                    n(nat["alive_end"]),
                    n(nat["rss_import_kib"] * 1024 / 1e6),
                    n(nat["maxrss_kib"] * 1024 / 1e6),
                    n(nat["hwm_kib"] * 1024 / 1e6),
                ]
            ],
            label=False,
        )
    )

    size = (
        ""
        if at_target
        else f"   (measured at {firms:,} firms x {quarters} quarters; targets are for "
        f"{TARGET_FIRMS:,} x {TARGET_QUARTERS})"
    )
    print(f"\n5. Targets{size}")
    rows = []
    for name, r in runs.items():
        rate = r["alive_steps"] / r["run_s"]
        rows.append(
            [f"firm-steps/s, {name} (alive-wtd)", f">= {n(TARGET_RATE)}", n(rate), verdict(rate >= TARGET_RATE)]
        )
    rows.append(
        [
            "national run, build+burn-in+quarters",
            f"<= {TARGET_WALL:.0f} s",
            f"{total_s:.2f} s",
            verdict(total_s <= TARGET_WALL),
        ]
    )
    rows.append(
        [
            "national run, quarters only",
            f"<= {TARGET_WALL:.0f} s",
            f"{nat['run_s']:.2f} s",
            verdict(nat["run_s"] <= TARGET_WALL),
        ]
    )
    rows.append(
        ["national run, peak RSS", f"<= {TARGET_RSS / 1e9:.0f} GB", f"{peak / 1e9:.2f} GB", verdict(peak <= TARGET_RSS)]
    )
    print(table(["target", "goal", "measured", ""], rows))
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
