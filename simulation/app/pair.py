"""The comparison page's models: the same case, levers and seed at two values of the symbiosis
index s, stepped together, and their paired differences (issue 26).

A :class:`Pair` holds, for each seed, a model at ``s_a`` and one at ``s_b`` (by default s = 0,
the partnership model, and s = 1, the symbiotic model), built by :func:`controls.build` (the
stationary state after the burn-in, cached in the server process). Everything else is the
controls' values, the same at both ends, as in the report's paired runs. The differences are
``model at s_b - model at s_a`` on the same seed, per quarter: shares in percentage points,
the Figure 2 KPIs in % of the value at ``s_a``, PPP contracts in contracts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..observe.kpi import KPI_NAMES
from ..observe.observer import REGIMES
from ..observe.outcomes import label, unit
from . import controls
from .figures import national_series, quadrant_matrix

#: The outcomes whose paired differences the page draws over time.
SHARES = ("corruption_incidence", "business_satisfied", "population_satisfied")
PPP = ("ppp_started", "ppp_performing", "ppp_disputed", "ppp_terminated")
#: Seeds with the "more seeds" toggle on (the first is the chosen seed, then the next ones).
MORE_SEEDS = 5


@dataclass
class Pair:
    """Models at ``s_a`` and ``s_b`` on each seed, stepped together."""

    s_a: float
    s_b: float
    seeds: list[int]
    a: list = field(default_factory=list)
    b: list = field(default_factory=list)

    @classmethod
    def build(
        cls,
        values: dict[str, Any],
        s_a: float = 0.0,
        s_b: float = 1.0,
        n_seeds: int = 1,
        progress: Callable[[float], None] | None = None,
    ) -> Pair:
        """The pair for the controls' ``values`` (case, levers, seed; governance and s are set here)."""
        text = str(values.get("seed", "0")).strip()
        first = int(text) if text.isdigit() else 0
        pair = cls(s_a, s_b, [first + i for i in range(n_seeds)])
        common = {k: v for k, v in values.items() if k not in ("seed", "governance", "symbiosis")}
        jobs = [(s, seed) for seed in pair.seeds for s in (s_a, s_b)]
        for j, (s, seed) in enumerate(jobs):

            def report(done, total, j=j):
                if progress is not None:
                    progress((j + done / max(total, 1)) / len(jobs))

            # governance "partnership" with s set explicitly: the preset only sets s, and an explicit s wins
            model = controls.build(
                progress=report, governance="partnership", seed=str(seed), **common, symbiosis=float(s)
            )
            model.lever_origin["symbiosis"] = "set on the comparison page"
            (pair.a if j % 2 == 0 else pair.b).append(model)
        return pair

    @property
    def quarter(self) -> int:
        """Reported quarters so far (the same for every model)."""
        return self.a[0].reported_quarters

    @property
    def steps(self) -> int:
        """Quarters to report."""
        return self.a[0].params["steps"]

    @property
    def running(self) -> bool:
        """True until every model has reported its quarters."""
        return all(m.running for m in self.a + self.b)

    def step(self) -> None:
        """One quarter of every model."""
        for m in self.a + self.b:
            m.step()

    def differences(self) -> pd.DataFrame:
        """Per quarter and seed: b - a for the drawn outcomes (shares in pp, KPIs in % of a)."""
        cached = getattr(self, "_differences", None)
        if cached is not None and cached[0] == self.quarter:
            return cached[1]
        frames = []
        for seed, ma, mb in zip(self.seeds, self.a, self.b):
            fa, fb = national_series(ma), national_series(mb)
            out = pd.DataFrame(index=fa.index)
            for name in SHARES + tuple(f"regime_{r}" for r in REGIMES):
                out[name] = 100 * (fb[name] - fa[name])
            for name in PPP:
                out[name] = fb[name] - fa[name]
            for name in KPI_NAMES:
                base = fa[name].abs().replace(0, np.nan)
                out[name] = 100 * (fb[name] - fa[name]) / base
            out["seed"] = seed
            frames.append(out.rename_axis("quarter").reset_index())
        out = pd.concat(frames, ignore_index=True)
        self._differences = (self.quarter, out)
        return out

    def quadrant_differences(self) -> np.ndarray:
        """Per seed, quadrant and regime: the regime's share of the quadrant's output at b minus at a (pp), now."""
        return np.array([100 * (quadrant_matrix(mb)[1] - quadrant_matrix(ma)[1]) for ma, mb in zip(self.a, self.b)])

    def latest_year(self) -> pd.DataFrame:
        """The drawn outcomes over the last 4 quarters: mean difference, and its range over the seeds."""
        d = self.differences()
        last = d[d["quarter"] > d["quarter"].max() - 4]
        per_seed = last.drop(columns="quarter").groupby("seed").mean()
        rows = []
        for name in SHARES + PPP + tuple(KPI_NAMES):
            v = per_seed[name].to_numpy(dtype=float)
            rows.append(
                {
                    "outcome": name,
                    "label": label(name),
                    "unit": "pp" if unit(name) == "share" else ("contracts" if name in PPP else "% of s_a"),
                    "difference": float(np.nanmean(v)),
                    "low": float(np.nanmin(v)),
                    "high": float(np.nanmax(v)),
                }
            )
        return pd.DataFrame(rows)
