"""Morris rankings of ``statebiz sensitivity`` against the seed noise, and across two seeds.

Reads the ``indices.csv`` of one or two Morris designs (two: the same calibration and ``--at``, another
``--seed``) and the noise table of ``tools/sensitivity_noise.py`` (the noise floor of mu* per output),
and writes

- ``morris_top.csv``: per output, the parameters in the top 10 of either design: mu* and its 95%
  bootstrap half-width in each, mu* over the noise floor, the rank in each;
- ``morris_stability.csv``: per output, the noise floor, the Spearman correlation of the two designs'
  mu*, how many of the top 10 they share, and how many parameters have mu* above the noise floor
  (in both designs: a parameter that matters beyond the seed's reshuffling of the run).

Usage (from the repository root):
    python tools/sensitivity_compare.py results/sens_morris_a/indices.csv results/sens_morris_b/indices.csv \
        --noise seed_noise.csv --out DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

TOP = 10


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("indices", nargs="+", help="indices.csv of one or two Morris designs")
    ap.add_argument("--noise", required=True, help="seed_noise.csv of tools/sensitivity_noise.py")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    designs = [pd.read_csv(p) for p in args.indices]
    floor = pd.read_csv(args.noise).set_index("output")["mu_star_noise_floor"]
    for d in designs:
        d["rank"] = d.groupby("output")["mu_star"].rank(ascending=False, method="min").astype(int)
    tops, stab = [], []
    for output in designs[0]["output"].unique():
        per = [d[d["output"] == output].set_index("parameter") for d in designs]
        f = float(floor.get(output, np.nan))
        keep = set()
        for p in per:
            keep |= set(p.nsmallest(TOP, "rank").index)
        for name in sorted(keep, key=lambda n: per[0].loc[n, "rank"]):
            row = {"output": output, "parameter": name, "noise_floor": f}
            for tag, p in zip("ab", per):
                row |= {
                    f"mu_star_{tag}": p.loc[name, "mu_star"],
                    f"mu_star_conf_{tag}": p.loc[name, "mu_star_conf"],
                    f"over_floor_{tag}": p.loc[name, "mu_star"] / f if f > 0 else np.nan,
                    f"rank_{tag}": int(p.loc[name, "rank"]),
                }
            tops.append(row)
        row = {"output": output, "noise_floor": f, "max_mu_star_a": per[0]["mu_star"].max()}
        above = [set(p.index[p["mu_star"] > f]) for p in per]
        row["above_floor_a"] = len(above[0])
        if len(per) == 2:
            a, b = per[0]["mu_star"], per[1]["mu_star"].reindex(per[0].index)
            row |= {
                "max_mu_star_b": per[1]["mu_star"].max(),
                "above_floor_b": len(above[1]),
                "above_floor_both": len(above[0] & above[1]),
                "above_floor_both_names": " ".join(sorted(above[0] & above[1])),
                "spearman_ab": spearmanr(a, b).statistic,
                "top10_shared": len(set(a.nlargest(TOP).index) & set(b.nlargest(TOP).index)),
            }
        stab.append(row)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(tops).to_csv(out / "morris_top.csv", index=False, float_format="%.4g")
    pd.DataFrame(stab).to_csv(out / "morris_stability.csv", index=False, float_format="%.4g")
    print(pd.DataFrame(stab).drop(columns=["above_floor_both_names"], errors="ignore").to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
