"""The model's outputs (brief section 6): per-region, per-quarter indicators, national
aggregates for Mesa's DataCollector, and end-of-run scalar outcomes. No I/O here."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .kpi import KPI_NAMES
from .observer import QUADRANTS, REGIMES
from .regions import UTILITIES
from .submodels.ppp import STATUS_NAMES
from .submodels.utilities import authority_scores, utility_answers

#: How each national aggregate combines the regions: by sum, or as a weighted mean.
SUMMED = set(KPI_NAMES) - {"real_wages"} | {"firms_in_business", "budget", "rents", "ppp_started", "entries", "exits"} | {
    f"ppp_{s}" for s in STATUS_NAMES}


class Recorder:
    def __init__(self, model):
        self.model = model
        self.rows: list[dict[str, np.ndarray]] = []
        self.current: dict[str, np.ndarray] = {}
        self.weights: dict[str, np.ndarray] = {}
        self.national_rows: list[dict[str, float]] = []
        self.regime_rows: list[tuple[int, np.ndarray, np.ndarray]] = []

    # --- per quarter -----------------------------------------------------------------------
    def quarter(self, log, kpis) -> None:
        m, f, a, res = self.model, self.model.firms, self.model.akimats_state, self.model.residents
        R = m.n_regions
        alive = f.view("alive")
        region = f.view("region")
        n_firms = np.bincount(region[alive], minlength=R).astype(float)

        def firm_share(mask):
            return np.divide(np.bincount(region[alive & mask], minlength=R), n_firms, out=np.zeros(R), where=n_firms > 0)

        sat = f.view("satisfaction")
        output = log.firm["output"] * alive
        out_r = np.bincount(region, weights=output, minlength=R)
        out_sq = np.bincount(region, weights=output**2, minlength=R)
        support = log.firm["support"]
        sup_total = np.bincount(region, weights=support, minlength=R)
        insider = f.view("insider") | (f.view("connection") >= 0.5)
        sup_ins = np.bincount(region[insider], weights=support[insider], minlength=R)
        scores = authority_scores(res.authority)
        n_res = np.bincount(res.region, minlength=R).astype(float)
        util = utility_answers(res.utilities)

        row = {
            "power": a.power.copy(),
            "corrupt_share": a.corrupt_share.copy(),
            "captured": (m.captured_regions() > 0).astype(float),
            "captors": m.captured_regions().astype(float),
            "evaluation_score": a.score.copy(),
            "akims_replaced": a.replacements.astype(float),
            "budget": a.budget.copy(),
            "rents": a.rents.copy(),
        }
        row.update({k: np.asarray(kpis[k], dtype=float).copy() for k in KPI_NAMES})
        row["corruption_incidence"] = firm_share((f.last_year("demands") + log.firm["demands"]) > 0)
        row["bribe_demands_per_firm"] = np.divide(log.region["demands"], n_firms, out=np.zeros(R), where=n_firms > 0)
        row["business_satisfied"] = firm_share(sat > 1 / 3)
        row["business_partially"] = firm_share((sat >= -1 / 3) & (sat <= 1 / 3))
        row["business_dissatisfied"] = firm_share(sat < -1 / 3)
        row["business_trust"] = np.divide(np.bincount(region[alive], weights=f.view("trust")[alive], minlength=R),
                                          n_firms, out=np.zeros(R), where=n_firms > 0)
        row["population_satisfied"] = np.bincount(res.region, weights=scores >= 4, minlength=R) / n_res
        row["population_dissatisfied"] = np.bincount(res.region, weights=scores <= 2, minlength=R) / n_res
        row["population_mean_score"] = np.bincount(res.region, weights=scores, minlength=R) / n_res
        for u, name in enumerate(UTILITIES):
            row[f"quality_{name}"] = a.utility_quality[:, u].copy()
            row[f"utility_satisfied_{name}"] = np.bincount(res.region, weights=util[:, u] == 0, minlength=R) / n_res
        row["ppp_started"] = log.region["ppp_started"].copy()
        for name, counts in m.projects.counts(R).items():
            row[f"ppp_{name}"] = counts
        row["hhi"] = np.divide(out_sq, out_r**2, out=np.zeros(R), where=out_r > 0)
        row["informality"] = firm_share(~f.view("formal"))
        row["insider_support_share"] = np.divide(sup_ins, sup_total, out=np.zeros(R), where=sup_total > 0)
        row["firms_in_business"] = n_firms
        row["entries"] = m.entries_last.copy()  # firms that entered at the end of the previous quarter
        row["exits"] = log.region["exits"].copy()
        for k, name in enumerate(REGIMES):
            row[f"regime_{name}"] = m.observer.shares[:, k].copy()
        self.current = row
        self.weights = {"output": out_r, "firms": n_firms, "population": np.array([r.population_thousands for r in m.regions]),
                        "jobs": kpis["jobs"]}
        self._regime_now = (m.observer.quadrant_shares.copy(), m.observer.quadrant_weight.copy())

    def report(self) -> None:
        """Keep the current quarter (a reported one)."""
        q = self.model.reported_quarters
        self.rows.append(self.current)
        self.regime_rows.append((q, *self._regime_now))
        self.national_rows.append(self.national())

    # --- aggregates ------------------------------------------------------------------------
    def _weight_for(self, name: str) -> np.ndarray:
        if name.startswith("regime_") or name == "hhi":
            return self.weights["output"]
        if name.startswith(("business_", "corruption", "bribe_", "informality")):
            return self.weights["firms"]
        if name == "real_wages":
            return self.weights["jobs"]
        return self.weights["population"]

    def national(self) -> dict[str, float]:
        out = {}
        for name, values in self.current.items():
            if name in SUMMED:
                out[name] = float(values.sum())
            else:
                w = self._weight_for(name)
                out[name] = float(np.average(values, weights=w)) if w.sum() > 0 else float(values.mean())
        qs, qw = self._regime_now
        total_q = qw.sum(axis=0)
        for qi, qname in enumerate(QUADRANTS):
            out[f"weight_{qname}"] = float(total_q[qi] / total_q.sum()) if total_q.sum() > 0 else 0.0
            for k, regime in enumerate(REGIMES):
                num = (qs[:, qi, k] * qw[:, qi]).sum()
                out[f"{qname}_{regime}"] = float(num / total_q[qi]) if total_q[qi] > 0 else 0.0
        return out

    def model_reporters(self) -> dict:
        names = list(self._national_names())
        return {name: (lambda m, name=name: m.recorder.national_rows[-1][name]) for name in names}

    def _national_names(self):
        yield from ("power", "corrupt_share", *KPI_NAMES, "corruption_incidence", "business_satisfied",
                    "business_dissatisfied", "population_satisfied", "population_dissatisfied", "hhi",
                    "informality", "insider_support_share", "firms_in_business")
        yield from (f"regime_{r}" for r in REGIMES)

    # --- tables ----------------------------------------------------------------------------
    def region_table(self) -> pd.DataFrame:
        m = self.model
        frames = []
        for q, row in enumerate(self.rows, start=1):
            d = {"quarter": np.full(m.n_regions, q), "region": [r.id for r in m.regions]}
            d.update(row)
            frames.append(pd.DataFrame(d))
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    def regime_table(self) -> pd.DataFrame:
        m = self.model
        recs = []
        for q, shares, weight in self.regime_rows:
            for r, reg in enumerate(m.regions):
                for qi, qname in enumerate(QUADRANTS):
                    for k, regime in enumerate(REGIMES):
                        recs.append((q, reg.id, qname, regime, float(shares[r, qi, k]), float(weight[r, qi])))
        return pd.DataFrame(recs, columns=["quarter", "region", "quadrant", "regime", "share", "quadrant_output"])

    def outcomes(self) -> dict[str, float]:
        """Means of the national aggregates over the last 4 reported quarters (one year)."""
        if not self.national_rows:
            raise RuntimeError("no reported quarter yet: run the model first")
        last = self.national_rows[-4:]
        return {k: float(np.mean([r[k] for r in last])) for k in last[0]}
