"""Where the time of one Step of the app's pages goes (issue 26): prints figures, asserts nothing.

One Step of the model page is the model's quarter (``model.step()``) and the page's figures
drawn as PNG; one Step of the comparison page is every model's quarter and its figures. For
each figure two ways are timed on the same quarters:

- ``rebuilt``: the figure built anew and saved by matplotlib (``savefig``: what the pages did
  before issue 26, through ``solara.FigureMatplotlib``, with constrained layout then);
- ``live``: the figure built once and refilled each quarter, rendered on its own canvas
  (:class:`simulation.app.live.Live`, what the pages do now).

CPU time of this process (``time.process_time``) is printed besides the wall time: the
machine may be shared, and CPU time is the figure that does not depend on the load.

    .venv/bin/python benchmarks/bench_app_step.py [--steps 8] [--seeds 1]
"""

from __future__ import annotations

import argparse
import io
import os
import time

import matplotlib

matplotlib.use("Agg")


def _savefig(fig, dpi) -> None:
    fig.savefig(io.BytesIO(), format="png", dpi=dpi)


def _time(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def _bench(target, figures: dict, steps: int) -> None:
    from simulation.app import live

    lives = {name: live.Live(setup, fill) for name, (setup, fill) in figures.items()}
    for name, (setup, fill) in figures.items():  # warm-up: fonts, numba
        _savefig(live.once(setup, fill, target), live.DPI)
        lives[name].png(target)
    totals: dict[str, list[float]] = {}

    def add(key, wc):
        t = totals.setdefault(key, [0.0, 0.0])
        t[0] += wc[0]
        t[1] += wc[1]

    for _ in range(steps):
        add("model step", _time(target.step))
        for name, (setup, fill) in figures.items():
            add(f"rebuilt {name}", _time(lambda s=setup, f=fill: _savefig(live.once(s, f, target), live.DPI)))
            add(f"live {name}", _time(lambda n=name: lives[n].png(target)))
    for way in ("rebuilt", "live"):
        keys = ["model step", *(k for k in totals if k.startswith(way + " "))]
        wall = sum(totals[k][0] for k in keys) / steps
        cpu = sum(totals[k][1] for k in keys) / steps
        print(f"  one Step, figures {way}: {wall:.3f} s wall, {cpu:.3f} s CPU (mean of {steps} steps)")
        for k in keys:
            print(f"    {k:24s} {totals[k][0] / steps:7.3f} s wall {totals[k][1] / steps:7.3f} s CPU")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--seeds", type=int, default=1, help="seeds of the comparison page (1, or 5 with its toggle)")
    args = ap.parse_args()
    from simulation.app import controls, figures, pair, pair_figures

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    w, c = _time(lambda: controls.build(seed="1"))
    print(f"model page: the model built at the stationary state (burn-in): {w:.2f} s wall, {c:.2f} s CPU")
    model = controls.build(seed="1")
    w, c = _time(lambda: controls.build(seed="1"))
    print(f"  the same controls again (a copy of the cached state): {w:.3f} s wall")
    names = ("kpi", "corruption", "table1", "ppp")
    _bench(model, {n: (getattr(figures, f"{n}_setup"), getattr(figures, f"{n}_fill")) for n in names}, args.steps)
    w, c = _time(lambda: pair.Pair.build({"seed": "2"}, n_seeds=args.seeds))
    print(f"comparison page ({args.seeds} seed(s), {2 * args.seeds} models) built: {w:.2f} s wall, {c:.2f} s CPU")
    p = pair.Pair.build({"seed": "2"}, n_seeds=args.seeds)
    _bench(p, pair_figures.FIGURES, args.steps)


if __name__ == "__main__":
    main()
