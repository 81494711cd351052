"""A stored posterior's predictive checks and held-out cohort coverage on fresh runs, the fit's own way.

``statebiz calibrate`` makes these checks for the fit it has just run (``[smc] fresh_draws``:
``ppc_fresh.csv``, ``coverage_fresh.csv``, through ``simulation.calibration.checks.fresh_checks``).
This tool applies the same function to any stored ``posterior.csv`` (e.g. the previous round's
``docs/calibration/posterior.csv``, fitted on an older model), at the size of a given calibration file,
so that two posteriors are checked on the current model with the same seeds (the draws' seeds depend
on the calibration's seed, the model and the draw's index only). A column the current calibration
does not know (the previous round's ``overdispersion``) is dropped; ``symbiosis`` is kept for the
``fitted`` model only. Writes ``ppc_fresh.csv`` (per model and table: the predictive p-value and the
misfit of the predictive mean shares), ``cells_fresh.csv`` (every fitted total and held-out cohort
cell with its 90% predictive interval) and ``coverage_fresh.csv``.

Usage (from the repository root):
    python tools/fresh_checks.py docs/calibration/posterior.csv \
        --calibration docs/calibration/measured/reduced_fit/calibration_reduced.toml \
        --draws 32 --out results/cohorts_shipped
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.calibration.checks import coverage, fresh_checks  # noqa: E402
from simulation.calibration.config import load_calibration  # noqa: E402
from simulation.calibration.results import ModelPosterior  # noqa: E402
from simulation.runs.evaluator import open_executor  # noqa: E402

DROPPED = ("model", "weight", "overdispersion")


def posteriors(frame: pd.DataFrame) -> dict[str, ModelPosterior]:
    """Per model of a posterior.csv: its particles and normalised weights (no stored statistics: the
    checks run every draw again)."""
    out = {}
    for m, g in frame.groupby("model", sort=False):
        names = [c for c in g.columns if c not in DROPPED and g[c].notna().all()]
        if m != "fitted":
            names = [n for n in names if n != "symbiosis"]
        w = g["weight"].to_numpy(float)
        stub = [{"none": np.zeros(1)}] * len(g)
        out[str(m)] = ModelPosterior(str(m), 0, names, g[names].to_numpy(float), w / w.sum(), stub)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("posterior", help="a fit's posterior.csv (columns model, weight and the free parameters)")
    parser.add_argument("--calibration", required=True, help="the calibration file whose size and seed to use")
    parser.add_argument("--draws", type=int, default=32, help="posterior draws per model, one fresh run each")
    parser.add_argument("--out", required=True, help="directory for the three CSV files")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    post = posteriors(pd.read_csv(args.posterior))
    calib = load_calibration(args.calibration)
    calib = replace(calib, models=list(post), abc=dict(calib.abc) | {"fresh_draws": args.draws})
    with open_executor("processes", args.workers) as pool:
        ppc, cells = fresh_checks(post, calib, pool)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cov = coverage(cells)
    ppc.to_csv(out / "ppc_fresh.csv", index=False)
    cells.to_csv(out / "cells_fresh.csv", index=False)
    cov.to_csv(out / "coverage_fresh.csv", index=False)
    with pd.option_context("display.width", 200):
        print(ppc[["model", "table", "p_value", "x2", "df", "misfit_p_value", "worst_cell"]].to_string(index=False))
        print(cov.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
