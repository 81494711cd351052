"""Is Table 5's misfit one of level or of shape? The best latent distribution of each family for its totals.

Table 5 asks residents for a score of 1-5; the model answers it by cutting a resident's latent satisfaction at
the answer rules' fixed half-units (``simulation.observe.answers.AUTHORITY_CUTS``), the same for every table.
Whatever the mechanisms, the model's latent satisfaction in one region is a sum of normal terms (a regional
signal, a persistent taste, a perception error), so its scores are those of a normal latent, or of a mixture of
a few. This fits the paper's totals with the best normal latent (its mean and spread free: what any level and
any noise of the model could give at best) and with Student's t latents of 1-5 degrees of freedom (heavier
tails), and prints Pearson's X^2 against the counts and the Rao-Scott p at the residents' design effect
(``simulation/data/turkestan_survey.toml [design]``) on the 4 df the fit has for the table (the 2 fitted here
are not free in the model, so this p is an upper bound of what the model can reach). With ``--runs N``, it also
prints the model's Table 5 shares at each model's posterior medians of a record (``--fit``), N runs each.

Usage (from the repository root):
    python tools/table5_shape.py
    python tools/table5_shape.py --runs 6          the shipped record's medians too (about 20 s)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.stats import chi2, norm
from scipy.stats import t as student

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.observe.answers import AUTHORITY_CUTS  # noqa: E402
from simulation.observe.survey import observed_tables  # noqa: E402


def scores(mean: float, spread: float, df: float | None) -> np.ndarray:
    """Shares of the scores 1-5 of a latent with this location and scale (normal, or Student's t with ``df``)."""
    z = (AUTHORITY_CUTS - mean) / spread
    cdf = norm.cdf(z) if df is None else student.cdf(z, df)
    return np.diff(np.concatenate([[0.0], cdf, [1.0]]))


def best(counts: np.ndarray, df: float | None) -> tuple[np.ndarray, float, float, float]:
    """The latent of the family closest to ``counts`` by Pearson's X^2: shares, X^2, location, scale."""

    def x2(z):
        e = scores(z[0], np.exp(z[1]), df) * counts.sum()
        return float(((counts - e) ** 2 / e).sum())

    found = min(
        (
            minimize(x2, [m, s], method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12})
            for m in (-0.5, 0.5, 1.0)
            for s in (-1.0, 0.0, 1.0)
        ),
        key=lambda r: r.fun,
    )
    return scores(found.x[0], np.exp(found.x[1]), df), found.fun, found.x[0], float(np.exp(found.x[1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=0, help="also the model's shares at a record's medians, N runs each")
    ap.add_argument("--fit", type=Path, default=ROOT / "docs" / "calibration", help="a calibration record")
    args = ap.parse_args(argv)
    if args.runs < 0:
        print(f"error: --runs {args.runs}: expected an integer >= 0", file=sys.stderr)
        return 2
    from simulation.calibration.config import load_calibration

    counts = np.asarray(observed_tables()["table5"], dtype=float).sum(axis=0)
    calib = load_calibration(ROOT / "experiments" / "calibration_turkestan.toml")
    deff = calib.design_effects({})["population"]
    print(
        f"Table 5 totals: {counts.astype(int).tolist()} of {int(counts.sum())} "
        f"({np.round(100 * counts / counts.sum(), 1).tolist()} %)"
    )
    print(
        f"design effect of the residents' sample {deff:.2f}; p on 4 df (an upper bound: the 2 fitted here are not free)"
    )
    for name, df in [("normal", None)] + [(f"Student t, {k} df", float(k)) for k in (1, 2, 3, 5)]:
        shares, x2, loc, scale = best(counts, df)
        print(
            f"  best {name:17s} location {loc:+.2f}, scale {scale:.2f}: {np.round(100 * shares, 1).tolist()} %; "
            f"X^2 {x2:.1f}, p {chi2.sf(x2 / deff, 4):.3f}"
        )
    if args.runs:
        from simulation.calibration.checks import _observed_counts
        from simulation.calibration.likelihood import TABLES, run_survey_model, table_chi_square
        from simulation.cli.calibrate import _posterior_medians

        medians = _posterior_medians(calib, args.fit / "posterior.csv")
        observed = _observed_counts()
        for m, values in medians.items():
            params = calib.run_parameters(m, values)
            runs = [run_survey_model(params, 1000 + k)[0] for k in range(args.runs)]
            mean = {t: np.mean([r[t] for r in runs], axis=0) for t in TABLES}
            (row,) = [
                r for r in table_chi_square(mean, observed, calib.design_effects(values)) if r["table"] == "table5"
            ]
            print(
                f"  model {m:12s} at its medians ({args.runs} runs): "
                f"{np.round(100 * np.ravel(mean['table5']), 1).tolist()} %; "
                f"X^2 {row['x2']:.1f}, p {row['p_value']:.3f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
