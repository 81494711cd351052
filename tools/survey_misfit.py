"""The survey's Tables 5-9 at chosen parameter values: simulated against observed counts, with the
Pearson X^2 and the Rao-Scott p at the survey design's effect (2.06 residents, 1.24 entrepreneurs).

A look at single points of the parameter space, not a fit: the calibration's sampler
(`statebiz calibrate`) searches the space; this prints what one point gives, averaged over seeds
(the shares of each seed's run, then their mean), with each seed's mean and spread of the latent
satisfaction with the authorities and with the utilities. The runs are the calibration's own
(`experiments/calibration_turkestan.toml`: Turkestan, 2,000 firms, 800 residents, the stationary
state after the burn-in of 150 quarters).

Usage (from the repository root):
    python tools/survey_misfit.py                                   the scenario's defaults, fitted model
    python tools/survey_misfit.py --set resident_noise=0.83 --set utility_quality=0.85 --seeds 1 2 3 4
    python tools/survey_misfit.py --model partnership
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.stats import chi2

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.calibration.config import load_calibration, survey_design  # noqa: E402
from simulation.calibration.likelihood import observed_statistics, statistics_from_shares  # noqa: E402
from simulation.model import StateBusinessModel  # noqa: E402
from simulation.observe.survey import TABLES, simulate_survey  # noqa: E402

FILE = ROOT / "experiments" / "calibration_turkestan.toml"


def misfit(values: dict[str, float], seeds: list[int], model: str) -> list[str]:
    """Lines: the latent summaries per seed, then one per table (observed, simulated, X^2, p)."""
    calib = load_calibration(FILE)
    design = survey_design()
    lines, shares = [], {}
    for seed in seeds:
        m = StateBusinessModel(rng=seed, **calib.run_parameters(model, values))
        m.run()
        for t, v in statistics_from_shares(simulate_survey(m).population_shares).items():
            shares.setdefault(t, []).append(v)
        res = m.world.residents
        lines.append(
            f"seed {seed}: authorities mean {res.authority.mean():+.3f} sd {res.authority.std():.3f}; "
            f"utilities mean {np.array2string(res.utilities.mean(axis=0), precision=3)} "
            f"sd {np.array2string(res.utilities.std(axis=0), precision=3)}"
        )
    observed = observed_statistics()
    for t in TABLES:
        n = 198 if t in ("table5", "table6") else 58
        deff = design["design_effects"]["population" if n == 198 else "entrepreneurs"]
        p = np.maximum(np.mean(shares[t], axis=0), 0.005)
        o = observed[t]
        rows = 4 if t == "table6" else 1
        x2 = float((n * (o - p) ** 2 / p).sum())
        df = rows * (len(o) // rows - 1)
        lines.append(
            f"{t}: observed {np.round(o * n).astype(int).tolist()} simulated {np.round(p * n, 1).tolist()} "
            f"X2 {x2:.1f} ({df} df), p {chi2.sf(x2 / deff, df):.3g} at deff {deff:.2f}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a free parameter's value")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--model", default="fitted", choices=["fitted", "partnership", "symbiotic"])
    args = parser.parse_args(argv)
    values = {}
    for item in args.set:
        name, _, value = item.partition("=")
        try:
            values[name] = float(value)
        except ValueError:
            parser.error(f"--set {item}: expected NAME=NUMBER")
    print("\n".join(misfit(values, args.seeds, args.model)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
