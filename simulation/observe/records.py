"""The model's outputs (brief section 6): per-region, per-quarter outcomes, national
aggregates for Mesa's DataCollector, and end-of-run outcomes. No I/O here.

Every outcome is declared once in ``simulation.observe.outcomes``; the recorder only evaluates the
registry each quarter and keeps the reported quarters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .observer import QUADRANTS, REGIMES
from .outcomes import END_OF_RUN_QUARTERS, OUTCOMES, SERIES, Quarter, national_value


class Recorder:
    """Evaluates the outcome registry each quarter; keeps the reported quarters."""

    def __init__(self, world, observer):
        self.world, self.observer = world, observer
        self.rows: list[dict[str, np.ndarray]] = []
        self.national_rows: list[dict[str, float]] = []
        self.regime_rows: list[tuple[int, np.ndarray, np.ndarray]] = []
        self.current: dict[str, np.ndarray] = {}
        self._national_now: dict[str, float] = {}
        self._regime_now: tuple[np.ndarray, np.ndarray] | None = None

    # --- per quarter -----------------------------------------------------------------------
    def quarter(self, log) -> None:
        """Evaluate every outcome on this quarter (kept only if the quarter is reported)."""
        q = Quarter(self.world, log, self.observer)
        regional, national = {}, {}
        for outcome in OUTCOMES:
            values = outcome.compute(q) if outcome.regional else None
            if values is not None:
                regional[outcome.name] = values
            national[outcome.name] = national_value(outcome, values, q)
        self.current, self._national_now = regional, national
        self._regime_now = (self.observer.quadrant_shares.copy(), self.observer.quadrant_weight.copy())

    def report(self, reported_quarter: int) -> None:
        """Keep the current quarter (a reported one)."""
        self.rows.append(self.current)
        self.regime_rows.append((reported_quarter, *self._regime_now))
        self.national_rows.append(self._national_now)

    @staticmethod
    def model_reporters() -> dict:
        """Mesa DataCollector reporters: the registry's time series, national values."""
        return {name: (lambda m, name=name: m.recorder.national_rows[-1][name]) for name in SERIES}

    # --- tables ----------------------------------------------------------------------------
    def region_table(self) -> pd.DataFrame:
        """One row per region and reported quarter, one column per regional outcome."""
        regions = self.world.regions
        frames = []
        for quarter, row in enumerate(self.rows, start=1):
            d = {"quarter": np.full(len(regions), quarter), "region": [r.id for r in regions]}
            d.update(row)
            frames.append(pd.DataFrame(d))
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    def regime_table(self) -> pd.DataFrame:
        """Regime shares per reported quarter, region and Table 1 quadrant (long format)."""
        recs = []
        for quarter, shares, weight in self.regime_rows:
            for r, reg in enumerate(self.world.regions):
                for qi, qname in enumerate(QUADRANTS):
                    for k, regime in enumerate(REGIMES):
                        recs.append((quarter, reg.id, qname, regime, float(shares[r, qi, k]), float(weight[r, qi])))
        return pd.DataFrame(recs, columns=["quarter", "region", "quadrant", "regime", "share", "quadrant_output"])

    def outcomes(self) -> dict[str, float]:
        """Means of the national values over the last 4 reported quarters (one year)."""
        if not self.national_rows:
            raise RuntimeError("no reported quarter yet: run the model first")
        last = self.national_rows[-END_OF_RUN_QUARTERS:]
        return {k: float(np.mean([r[k] for r in last])) for k in last[0]}
