"""Why entrepreneurs answer Table 8 as they do: who is engaged by the authorities, and how.

Table 8 asks how the heads of local authorities influence the business: "positively" when an engaged
firm's net experience over the year is positive (or it is a captor), "partially" when engaged
otherwise, "does not affect" when not engaged (ODD 4.12). This prints, for the survey's frame (firms
in business that have lived a quarter), the share engaged and by which channel (support received,
cooperation: a performing PPP contract or consultation, PPP disputes, capture), and the share with a
positive net experience among the engaged, the supported and those engaged by cooperation alone.
Runs at the posterior medians of a fit's posterior.csv (per model), the calibration's size.

Usage (from the repository root):
    python tools/table8_engagement.py docs/calibration/measured/reduced_fit/posterior.csv --seeds 1 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulation.calibration.config import load_calibration  # noqa: E402
from simulation.model import StateBusinessModel  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("posterior", help="a fit's posterior.csv")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--calibration", default=str(ROOT / "experiments" / "calibration_turkestan.toml"))
    args = parser.parse_args(argv)
    calib = load_calibration(args.calibration)
    post = pd.read_csv(args.posterior)
    for model, group in post.groupby("model"):
        values = {c: float(group[c].median()) for c in group.columns if c not in ("model", "weight")}
        for seed in args.seeds:
            m = StateBusinessModel(rng=seed, **calib.run_parameters(model, values))
            m.run()
            f = m.firms
            rows = np.flatnonzero(f.alive & (f.age >= 1))

            def year(name, rows=rows, f=f):
                return f.last_year(name)[rows]

            support, coop = year("support") > 0, year("cooperation") > 0
            disputes, captor = year("disputes") > 0, year("rule_bending") > 0
            engaged = support | coop | disputes | captor
            coop_only = coop & ~support & ~disputes & ~captor
            positive = (year("experience") > 0) | captor
            print(
                f"{model} seed {seed}: {len(rows)} firms; engaged {engaged.mean():.2f} "
                f"(supported {support.mean():.2f}, cooperation {coop.mean():.2f}, "
                f"cooperation alone {coop_only.mean():.2f}, disputes {disputes.mean():.3f}, "
                f"captors {captor.mean():.3f}); positive among the engaged {positive[engaged].mean():.2f}, "
                f"the supported {positive[support].mean():.2f}, cooperation alone {positive[coop_only].mean():.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
