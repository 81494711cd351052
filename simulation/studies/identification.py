"""Which data would identify s: observables a published source could measure, at s = 0 and s = 1.

The survey of the calibration (Tables 5-9) cannot tell the partnership model (s = 0) from the
symbiotic one (s = 1) (docs/calibration/MEASURED.md). This study asks which other figures
could. For every observable below that the model produces and a published source could
measure (a registry of support or PPP contracts, an enterprise survey), it runs the Turkestan
and the national scenario at their defaults (every parameter as the scenario files set it,
NOT the calibration), at s = 0 and s = 1 on paired seeds (seed i is the same at both ends),
and reports:

- the mean at each end and the between-seed sd (the model's own spread: one world is one draw,
  as the real region is);
- the mean paired difference s = 1 minus s = 0 with its 95% t-interval over the seeds;
- the separation: ``z`` = |difference| / sigma, sigma = sqrt((sd0^2 + sd1^2) / 2), the
  difference in units of the model's spread (what a census figure, with no sampling error,
  would see), and, for a share of firms or of contracts counted in a sample of n, the sample
  size a figure needs to tell the two ends apart at the 5% level with 80% power::

      n = p (1 - p) / ((|d| / (z_0.975 + z_0.80))^2 - sigma^2),     p = (mean0 + mean1) / 2

  (infinite when |d| / 2.80 <= sigma: the model's own spread between worlds swamps the
  difference, and no sample is large enough). Shares of money and indices (a registry
  total, concentration) have no sampling term: only ``z`` applies.

The observables (:data:`OBSERVABLES`) read the world and never change it: the model's outcome
registry and the validation's quantities (:func:`simulation.studies.validation.runs.run_quantities`)
where they exist, and the firms' four-quarter memory and the PPP contract book otherwise. The
expected number of bidders in a PPP tender is computed from the bid probabilities
B^ppp_bid_exponent of the region's formal firms at the end of the quarter of the tender (the
tender drew them earlier in the same quarter, so it is an approximation): a Poisson-binomial
count, from which the share of awarded tenders with a single bidder follows.

Which model a published figure favours (:func:`evidence`) is evidence, not a fit: the figure's
z under each end (model spread plus the figure's binomial error where it has a sample size),
and the Gaussian log likelihood ratio of s = 1 against s = 0.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as student_t

from ..io import InputError
from ..parameters import BY_NAME, resolve
from ..runs.seeds import replication_seed
from ..runs.spec import REPO_ROOT
from .base import Runs, Study

SCENARIOS = {"turkestan": "scenarios/turkestan.toml", "national": "scenarios/kazakhstan.toml"}
ENDS = (0.0, 1.0)
#: z of the test's level (two-sided 5%) and of its power (80%).
Z_LEVEL, Z_POWER = float(norm.ppf(0.975)), float(norm.ppf(0.80))
DATA_FILE = "identification.toml"
#: A figure more than this many sd (model spread plus its sampling error) from both ends is a misfit of
#: both: no end is named as nearer.
MISFIT_Z = 3.0


@dataclass(frozen=True)
class Observable:
    """One candidate observable: ``kind`` "firms" or "contracts" (a share counted in a sample:
    binomial sampling applies) or "value" (a share of money or an index: a registry total)."""

    name: str
    label: str
    unit: str
    kind: str
    source: str  # where a published figure would come from


# fmt: off
OBSERVABLES: tuple[Observable, ...] = (
    Observable("support_connected_share", "support to insiders and connected firms (L >= connected_from) / all support",
               "share of support", "value", "registry of grants and subsidies (Damu, akimats) matched to owners"),
    Observable("support_recipient_share", "formal firms that received support in the last year", "share of firms",
               "firms", "enterprise survey; registry of recipients over the business register"),
    Observable("support_top10_share", "share of the year's support that went to the top 10% of recipients",
               "share of support", "value", "registry of grants and subsidies"),
    Observable("support_small_medium_share", "share of the year's support that went to micro, small and medium "
               "firms (size classes 0-2)", "share of support", "value", "registry of support by firm size"),
    Observable("support_hhi", "concentration (HHI) of the year's support among recipients", "index 0..1", "value",
               "registry of grants and subsidies"),
    Observable("ppp_connected_share", "PPP contracts started in the reported quarters whose partner is connected "
               "(insider, client, or L >= connected_from)", "share of contracts", "contracts",
               "PPP register matched to owners"),
    Observable("ppp_captor_share", "PPP contracts started in the reported quarters won by a captor (a captor that "
               "bids wins: awarded without competition)", "share of contracts", "contracts", "PPP register"),
    Observable("ppp_single_bidder_share", "PPP contracts started in the reported quarters whose tender had a single "
               "bidder (expected, Poisson-binomial)", "share of contracts", "contracts",
               "PPP register, procurement portal"),
    Observable("ppp_bidders_mean", "bidders per awarded PPP tender (expected)", "bidders", "value",
               "PPP register, procurement portal"),
    Observable("ppp_top_partner_share", "largest partner's share of the value of the region's PPP contracts started "
               "in the reported quarters (value-weighted over regions)", "share of value", "value", "PPP register"),
    Observable("ppp_terminated_share", "PPP contracts started in the reported quarters and terminated by the end",
               "share of contracts", "contracts", "PPP register (Kazakhstan PPP Center)"),
    Observable("ppp_per_region_year", "PPP contracts started per region and year", "contracts / region / year",
               "value", "PPP register"),
    Observable("es_bribery_incidence", "Enterprise Surveys bribery incidence (formal, 5+ jobs)", "share of firms",
               "firms", "World Bank Enterprise Surveys"),
    Observable("es_gifts_expected", "Enterprise Surveys: firms that paid a bribe in the last year (formal, 5+ jobs)",
               "share of firms", "firms", "World Bank Enterprise Surveys"),
    Observable("informal_resolution", "firms with a dealing that met a bribe demand in the last year",
               "share of firms", "firms", "Transparency Kazakhstan monitoring"),
    Observable("paid_share", "firms with a dealing that paid a bribe in the last year", "share of firms", "firms",
               "survey of entrepreneurs"),
    Observable("initiated_by_officials", "bribes paid that an official demanded", "share of bribes", "firms",
               "survey of entrepreneurs"),
    Observable("corruption_incidence", "firms with a bribe demand in the last year", "share of firms", "firms",
               "enterprise survey"),
    Observable("business_satisfied", "firms satisfied with the akimat", "share of firms", "firms",
               "survey of entrepreneurs (e.g. Atameken)"),
    Observable("business_dissatisfied", "firms dissatisfied with the akimat", "share of firms", "firms",
               "survey of entrepreneurs"),
    Observable("approval_delay", "delay waited per dealing (share of the full delay)", "share of the full delay",
               "value", "enterprise survey (days to obtain a permit)"),
    Observable("output_hhi", "concentration (HHI) of output among the region's firms", "index 0..1", "value",
               "statistics office, competition agency"),
    Observable("informality", "firms in the informal economy", "share of firms", "firms", "labour force survey"),
)
# fmt: on
BY_OBSERVABLE = {o.name: o for o in OBSERVABLES}


# --------------------------------------------------------------------------- the design


@dataclass(frozen=True)
class IdentificationDesign:
    """Seeds, sizes and quarters of the runs (the scenarios' other parameters stay at their values)."""

    seeds: int = 8
    root_seed: int = 20261207
    turkestan_firms: int = 10000  # the scenario's own size
    turkestan_residents: int = 300  # residents do not enter the observables
    national_firms: int = 30000  # all 20 regions (the scenario has 100,000; about 3,000 in Turkestan here)
    national_residents: int = 198
    burn_in: int = int(BY_NAME["burn_in"].default)
    quarters: int = 20  # reported: PPP contracts are counted over them, the other observables over the last 4

    def runs(self) -> int:
        """Model runs: 2 scenarios x 2 ends x seeds."""
        return len(SCENARIOS) * len(ENDS) * self.seeds


QUICK = IdentificationDesign(
    seeds=3, turkestan_firms=1500, turkestan_residents=198, national_firms=4000, burn_in=24, quarters=8
)


def scenario_params(design: IdentificationDesign, which: str, s: float) -> dict[str, Any]:
    """The resolved parameters of one run: the scenario file's values, the design's sizes, and s."""
    from ..scenario import load_scenario

    sc = load_scenario(REPO_ROOT / SCENARIOS[which])
    firms, residents = (
        (design.turkestan_firms, design.turkestan_residents)
        if which == "turkestan"
        else (design.national_firms, design.national_residents)
    )
    explicit = dict(sc.explicit or {}) | {
        "firms": firms,
        "residents_per_region": residents,
        "burn_in": design.burn_in,
        "steps": design.quarters,
        "symbiosis": s,
    }
    return resolve(explicit, f"{sc.path} (identification, {which}, s = {s:g})")


# --------------------------------------------------------------------------- one run


def _connected(f, p) -> np.ndarray:
    """Insiders, clients and firms with L >= connected_from (the support submodel's network)."""
    return f.insider | f.client | (f.connection >= p["connected_from"])


def tender_competition(world, started: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the contracts ``started`` (indices into the PPP book): the probability that their
    tender had a single bidder, given it had one, and the expected bidders, given at least one,
    from the bid probabilities B^ppp_bid_exponent of the region's formal firms in business now."""
    f, p, book = world.firms, world.params, world.projects
    bid = np.where(f.alive & f.formal, f.strength ** p["ppp_bid_exponent"], 0.0)
    bid = np.clip(bid, 0.0, 1.0 - 1e-12)
    R = world.n_regions
    log_none = np.bincount(f.region, weights=np.log1p(-bid), minlength=R)
    odds = np.bincount(f.region, weights=bid / (1.0 - bid), minlength=R)
    mean = np.bincount(f.region, weights=bid, minlength=R)
    none = np.exp(log_none)
    some = np.maximum(1.0 - none, 1e-300)
    region = book.region[started]
    return (odds * none / some)[region], (mean / some)[region]


def identification_run(params: dict[str, Any], seed: int, steps: int, outcomes: tuple) -> dict[str, Any]:
    """One run (an evaluator task): every observable of :data:`OBSERVABLES`, and the counts behind them."""
    from ..model import StateBusinessModel
    from .validation.runs import run_quantities

    model = StateBusinessModel(rng=seed, **(dict(params) | {"steps": steps}))
    world = model.world
    first = None
    single, bidders = [], []
    while model.running:
        if first is None:
            first = world.quarter  # the first reported quarter
        model.step()
        new = np.flatnonzero(world.projects.started == world.quarter - 1)
        if new.size:
            one, many = tender_competition(world, new)
            single.append(one)
            bidders.append(many)
    values = run_quantities(model)
    out = model.outcomes()
    f, p, book = world.firms, world.params, world.projects
    # support: the last four quarters (the firms' memory), formal firms in business
    support = f.last_year("support") * f.alive
    total = support.sum()
    got = support[support > 0]
    formal = f.alive & f.formal
    large = world.size_class() == 3
    top = np.sort(got)[::-1][: max(1, int(math.ceil(0.1 * got.size)))] if got.size else np.zeros(0)
    # PPP contracts started in the reported quarters
    mine = np.flatnonzero(book.started >= first)
    partner = book.firm[mine]
    known = partner >= 0
    conn = np.zeros(mine.size, dtype=bool)
    capt = np.zeros(mine.size, dtype=bool)
    conn[known] = _connected(f, p)[partner[known]]
    capt[known] = f.captor[partner[known]]
    terminated = book.status[mine] == _terminated()
    top_share = _top_partner_share(book.region[mine], partner, book.cost[mine])
    n_contracts = int(mine.size)
    return {
        "support_connected_share": float(out["insider_support_share"]),
        "support_recipient_share": float((support[formal] > 0).mean()) if formal.any() else float("nan"),
        "support_top10_share": float(top.sum() / total) if total > 0 else float("nan"),
        "support_small_medium_share": float(support[~large].sum() / total) if total > 0 else float("nan"),
        "support_hhi": float(((got / total) ** 2).sum()) if total > 0 else float("nan"),
        "ppp_connected_share": float(conn.mean()) if n_contracts else float("nan"),
        "ppp_captor_share": float(capt.mean()) if n_contracts else float("nan"),
        "ppp_single_bidder_share": float(np.concatenate(single).mean()) if single else float("nan"),
        "ppp_bidders_mean": float(np.concatenate(bidders).mean()) if bidders else float("nan"),
        "ppp_top_partner_share": top_share,
        "ppp_terminated_share": float(terminated.mean()) if n_contracts else float("nan"),
        "ppp_per_region_year": n_contracts / world.n_regions / (steps / 4.0),
        "es_bribery_incidence": values["es_bribery_incidence"],
        "es_gifts_expected": values["es_gifts_expected"],
        "informal_resolution": values["informal_resolution"],
        "paid_share": values["paid_share"],
        "initiated_by_officials": values["initiated_by_officials"],
        "corruption_incidence": float(out["corruption_incidence"]),
        "business_satisfied": float(out["business_satisfied"]),
        "business_dissatisfied": float(out["business_dissatisfied"]),
        "approval_delay": float(out["approval_delay"]),
        "output_hhi": float(out["hhi"]),
        "informality": float(out["informality"]),
        "n_contracts": float(n_contracts),
        "n_recipients": float(got.size),
        "n_formal": float(formal.sum()),
    }


def _terminated() -> int:
    from ..world import TERMINATED

    return TERMINATED


def _top_partner_share(region: np.ndarray, partner: np.ndarray, cost: np.ndarray) -> float:
    """Per region, the largest partner's share of the contracts' value; the value-weighted mean over regions."""
    if region.size == 0:
        return float("nan")
    frame = pd.DataFrame({"region": region, "partner": partner, "cost": cost})
    by = frame.groupby(["region", "partner"])["cost"].sum()
    per_region = by.groupby(level=0).agg(["max", "sum"])
    return float(per_region["max"].sum() / per_region["sum"].sum())


# --------------------------------------------------------------------------- all runs and the separation


def tasks(design: IdentificationDesign) -> tuple[list, list[tuple[str, float, int, int]]]:
    """The evaluator's tasks and what each is (scenario, s, seed index, seed): seed i is the same at both ends."""
    out, what = [], []
    for which in SCENARIOS:
        for s in ENDS:
            params = scenario_params(design, which, s)
            for i in range(design.seeds):
                seed = replication_seed(design.root_seed, i)
                out.append((len(out), identification_run, params, seed, design.quarters, ()))
                what.append((which, s, i, seed))
    return out, what


def run(design: IdentificationDesign, runs: Runs | None = None) -> pd.DataFrame:
    """Every run's observables: one row per scenario, end and seed."""
    if runs is None:
        with Runs() as serial:
            return run(design, serial)
    todo, what = tasks(design)
    rows = runs.run(todo, lambda t: "run {}: {} at s = {:g}, seed {}".format(t[0], *what[t[0]][:2], what[t[0]][3]))
    frame = pd.DataFrame(rows)
    frame.insert(0, "seed", [w[3] for w in what])
    frame.insert(0, "seed_index", [w[2] for w in what])
    frame.insert(0, "s", [w[1] for w in what])
    frame.insert(0, "scenario", [w[0] for w in what])
    return frame


def sample_size(d: float, sigma: float, p: float) -> float:
    """The sample a share needs to tell two means ``d`` apart at the 5% level with 80% power, given the
    model's spread ``sigma`` and the binomial error of a share near ``p`` (inf when the spread swamps ``d``)."""
    if not (np.isfinite(d) and np.isfinite(sigma) and 0.0 < p < 1.0):
        return float("nan")
    room = (abs(d) / (Z_LEVEL + Z_POWER)) ** 2 - sigma**2
    return float(p * (1.0 - p) / room) if room > 0 else float("inf")


def separation(frame: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and observable: both ends' means and sds, the paired difference with its 95%
    interval, ``z`` and the sample size (see the module docstring), ranked by how well they separate."""
    rows = []
    for which, g in frame.groupby("scenario", sort=False):
        a = g[g["s"] == 0.0].set_index("seed_index")
        b = g[g["s"] == 1.0].set_index("seed_index")
        for o in OBSERVABLES:
            x, y = a[o.name].astype(float), b[o.name].astype(float)
            d = (y - x).dropna()
            n = len(d)
            mean_d = float(d.mean()) if n else float("nan")
            half = float(student_t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
            sd0, sd1 = float(x.std(ddof=1)), float(y.std(ddof=1))
            sigma = math.sqrt((sd0**2 + sd1**2) / 2.0)
            z = abs(mean_d) / sigma if sigma > 0 else (float("inf") if mean_d != 0 else 0.0)
            p = (float(x.mean()) + float(y.mean())) / 2.0
            needed = sample_size(mean_d, sigma, p) if o.kind in ("firms", "contracts") else float("nan")
            rows.append(
                {
                    "scenario": which,
                    "observable": o.name,
                    "kind": o.kind,
                    "unit": o.unit,
                    "s0_mean": float(x.mean()),
                    "s0_sd": sd0,
                    "s1_mean": float(y.mean()),
                    "s1_sd": sd1,
                    "difference": mean_d,
                    "difference_low": mean_d - half,
                    "difference_high": mean_d + half,
                    "paired_seeds": n,
                    "z": z,
                    "sample_needed": needed,
                    "interval_excludes_0": bool(n > 1 and (mean_d - half > 0 or mean_d + half < 0)),
                }
            )
    out = pd.DataFrame(rows)
    out["separates"] = out["interval_excludes_0"] & (out["z"] >= Z_LEVEL + Z_POWER)
    out = out.sort_values(["scenario", "separates", "z"], ascending=[True, False, False], kind="stable")
    out["rank"] = out.groupby("scenario").cumcount() + 1
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- published figures


FIGURE_KEYS = (
    "id", "label", "quantity", "value", "unit", "year", "scope", "observable", "compare_with", "mapping", "use",
    "source", "url", "title", "publisher", "read_in", "passage",
)  # fmt: skip
FIGURE_OPTIONAL = ("sample_size", "sample_note", "date", "bound")
USES = ("fit", "validation")


def load_figures(path: str | Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """The published figures (``[[figure]]``), the figures without a model counterpart (``[[unmapped]]``)
    and what was searched for and not found (``[[missing]]``) of ``simulation/data/identification.toml``.

    Raises:
        InputError: a figure lacks a key, has an unknown key, an unknown observable or use, or a
            value that is not a number.
    """
    if path is None:
        text = resources.files("simulation.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
        where = DATA_FILE
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise InputError(f"{path}: {err.strerror or err}") from None
        where = str(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{where}: not valid TOML ({err})") from None
    figures = doc.get("figure", [])
    for k, fig in enumerate(figures):
        name = fig.get("id", f"figure {k + 1}")
        missing = [key for key in FIGURE_KEYS if key not in fig]
        if missing:
            raise InputError(f"{where}: {name}: missing {', '.join(missing)}")
        unknown = sorted(set(fig) - set(FIGURE_KEYS) - set(FIGURE_OPTIONAL))
        if unknown:
            raise InputError(f"{where}: {name}: unknown key(s) {', '.join(unknown)}")
        if fig["observable"] not in BY_OBSERVABLE:
            raise InputError(f"{where}: {name}: observable '{fig['observable']}' is not one of the study's")
        if fig["use"] not in USES:
            raise InputError(f"{where}: {name}: use '{fig['use']}'; expected one of {', '.join(USES)}")
        if not isinstance(fig["value"], int | float) or isinstance(fig["value"], bool):
            raise InputError(f"{where}: {name}: value must be a number")
        if not set(fig["compare_with"]) <= set(SCENARIOS):
            raise InputError(f"{where}: {name}: compare_with must name {' or '.join(SCENARIOS)}")
    return {"figure": figures, "unmapped": doc.get("unmapped", []), "missing": doc.get("missing", [])}


def validation_figures() -> list[dict[str, Any]]:
    """The figures of ``simulation/data/validation.toml`` whose model quantity is one of the study's
    observables (bounds such as "at least 70%" left out), in the shape of :func:`load_figures`'s and
    labelled as the validation's: shown for which end they favour, never used in a fit here."""
    text = resources.files("simulation.data").joinpath("validation.toml").read_text(encoding="utf-8")
    out = []
    for fig in tomllib.loads(text).get("figure", []):
        if fig["model_quantity"] in BY_OBSERVABLE and "bound" not in fig:
            out.append(
                {
                    "id": fig["id"],
                    "observable": fig["model_quantity"],
                    "value": fig["value"],
                    "unit": fig["unit"],
                    "compare_with": list(fig["compare_with"]),
                    "use": "validation (validation.toml)",
                }
                | ({"sample_size": fig["sample_size"]} if "sample_size" in fig else {})
            )
    return out


def evidence(frame: pd.DataFrame, figures: list[dict[str, Any]]) -> pd.DataFrame:
    """Each published figure against the model's two ends: the figure (as a share or number), each
    end's mean and 95% predictive interval (the model's spread plus the figure's binomial error when
    it has a sample size), the figure's z under each end, the Gaussian log likelihood ratio of
    s = 1 against s = 0, and which end it favours: the end whose interval alone holds it, else
    "neither" (both hold it, or both miss it: then the end nearer in |z| is named when it is within
    :data:`MISFIT_Z` sd, and otherwise the figure is a misfit of both ends)."""
    rows = []
    for fig in figures:
        o = BY_OBSERVABLE[fig["observable"]]
        scale = 100.0 if str(fig["unit"]).startswith("percent") else 1.0
        y = float(fig["value"]) / scale
        for which in fig["compare_with"]:
            g = frame[frame["scenario"] == which]
            row = {"figure": fig["id"], "scenario": which, "observable": o.name, "use": fig["use"], "figure_value": y}
            ends = {}
            for s in ENDS:
                v = g.loc[g["s"] == s, o.name].astype(float).dropna()
                m, sd = float(v.mean()), float(v.std(ddof=1))
                n = fig.get("sample_size")
                binom = y * (1 - y) / n if (n and o.kind in ("firms", "contracts") and 0 < y < 1) else 0.0
                spread = math.sqrt(sd**2 + binom)
                tag = "s0" if s == 0.0 else "s1"
                row |= {
                    f"{tag}_mean": m,
                    f"{tag}_low": m - Z_LEVEL * spread,
                    f"{tag}_high": m + Z_LEVEL * spread,
                    f"{tag}_z": (y - m) / spread if spread > 0 else float("nan"),
                }
                ends[tag] = (m, spread)
            (m0, s0), (m1, s1) = ends["s0"], ends["s1"]
            llr = float(norm.logpdf(y, m1, s1) - norm.logpdf(y, m0, s0)) if s0 > 0 and s1 > 0 else float("nan")
            inside0, inside1 = abs(row["s0_z"]) <= Z_LEVEL, abs(row["s1_z"]) <= Z_LEVEL
            if inside0 and not inside1:
                favours = "s = 0"
            elif inside1 and not inside0:
                favours = "s = 1"
            elif inside0 and inside1:
                favours = "neither (both hold it)"
            elif min(abs(row["s0_z"]), abs(row["s1_z"])) > MISFIT_Z or abs(row["s0_z"]) == abs(row["s1_z"]):
                favours = f"neither (both miss it by more than {MISFIT_Z:g} sd)"
            else:
                nearer = "s = 0" if abs(row["s0_z"]) < abs(row["s1_z"]) else "s = 1"
                favours = f"neither (both miss it; nearer {nearer})"
            row |= {"log_likelihood_ratio_s1_s0": llr, "favours": favours}
            rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the study


FILES = {
    "runs.csv": "every run's observables (scenario, s, seed)",
    "separation.csv": "per scenario and observable: both ends, the paired difference with its 95% interval, z, "
    "the sample a share needs, and the rank",
    "evidence.csv": "each published figure (simulation/data/identification.toml, and the figures of "
    "validation.toml with a counterpart here, labelled as theirs) against both ends: evidence, not a fit",
    "summary.txt": "the ranking and the evidence as text",
}


def _fmt(x: float, share: bool) -> str:
    if not np.isfinite(x):
        return "inf" if x == float("inf") else "nan"
    return f"{100 * x:.1f}" if share else f"{x:.3g}"


def format_summary(design: IdentificationDesign, tables: dict[str, pd.DataFrame], wall: float) -> str:
    """The ranking per scenario and the evidence of the published figures, as text."""
    sep, ev = tables["separation.csv"], tables["evidence.csv"]
    lines = [
        f"Which data would identify s: s = 0 against s = 1 at the scenario defaults (not the calibration), "
        f"{design.seeds} paired seeds, {design.quarters} reported quarters after a burn-in of {design.burn_in}; "
        f"Turkestan {design.turkestan_firms} firms, national {design.national_firms} firms ({wall:.0f} s)",
        "  shares in percent; z = |difference| / model sd; n = sample a share needs (5% level, 80% power)",
    ]
    for which, g in sep.groupby("scenario", sort=False):
        lines.append(f"\n  {which}")
        lines.append(f"  {'#':>2s} {'observable':26s} {'s = 0':>8s} {'s = 1':>8s} {'s1 - s0 [95% interval]':>28s} "
                     f"{'z':>6s} {'n':>8s}")  # fmt: skip
        for _, r in g.iterrows():
            share = r["unit"].startswith("share")
            n = r["sample_needed"]
            n_text = "-" if not np.isfinite(n) and n != float("inf") else ("inf" if n == float("inf") else f"{n:.0f}")
            diff = (
                f"{_fmt(r['difference'], share)} [{_fmt(r['difference_low'], share)}, "
                f"{_fmt(r['difference_high'], share)}]"
            )
            mark = "*" if r["separates"] else " "
            lines.append(
                f"  {r['rank']:2d}{mark}{r['observable']:26s} {_fmt(r['s0_mean'], share):>8s} "
                f"{_fmt(r['s1_mean'], share):>8s} {diff:>28s} {r['z']:6.2f} {n_text:>8s}"
            )
    lines.append("  * separates: the 95% interval of the difference excludes 0 and z >= 2.80")
    if len(ev):
        lines.append("\n  Published figures against both ends (evidence, not a fit; 95% predictive intervals)")
        for _, r in ev.iterrows():
            share = BY_OBSERVABLE[r["observable"]].unit.startswith("share")
            lines.append(
                f"  {r['figure']:34s} {r['scenario']:9s} {r['use']:10s} figure {_fmt(r['figure_value'], share):>6s}"
                f"  s=0 {_fmt(r['s0_mean'], share)} [{_fmt(r['s0_low'], share)}, {_fmt(r['s0_high'], share)}]"
                f"  s=1 {_fmt(r['s1_mean'], share)} [{_fmt(r['s1_low'], share)}, {_fmt(r['s1_high'], share)}]"
                f"  -> {r['favours']}"
            )
    return "\n".join(lines)


@dataclass
class Identification(Study):
    """``statebiz identify``: the observables at s = 0 and s = 1, their separation, and the published figures."""

    name: ClassVar[str] = "identification"
    files: ClassVar[dict[str, str]] = FILES
    figures: dict[str, list[dict[str, Any]]] | None = None

    def default(self) -> IdentificationDesign:
        """The full design."""
        return IdentificationDesign()

    def quick(self) -> IdentificationDesign:
        """The ``--quick`` design."""
        return QUICK

    def size(self, design: IdentificationDesign) -> int:
        """Model runs."""
        return design.runs()

    def compute(self, design: IdentificationDesign, runs: Runs) -> dict[str, pd.DataFrame]:
        """The runs, the separation and the evidence."""
        figures = self.figures if self.figures is not None else load_figures()
        frame = run(design, runs)
        return {
            "runs.csv": frame,
            "separation.csv": separation(frame),
            "evidence.csv": evidence(frame, figures["figure"] + validation_figures()),
        }

    def summary(self, design: IdentificationDesign, tables: dict[str, pd.DataFrame], wall: float) -> str:
        """The printed summary."""
        return format_summary(design, tables, wall)

    def manifest(self, design: IdentificationDesign, tables: dict[str, pd.DataFrame], wall: float) -> dict[str, Any]:
        """The manifest's facts."""
        sep = tables["separation.csv"]
        return {
            "design": asdict(design),
            "scenarios": SCENARIOS,
            "parameters": "the scenario files' values (not the calibration); s = 0 and s = 1 on paired seeds",
            "sample_size_formula": "n = p(1-p) / ((|d| / (z_0.975 + z_0.80))^2 - sigma^2), sigma^2 = (sd0^2 + sd1^2)/2",
            "separating": {
                w: sorted(g.loc[g["separates"], "observable"]) for w, g in sep.groupby("scenario", sort=False)
            },
            "figures": int(tables["evidence.csv"]["figure"].nunique()) if len(tables["evidence.csv"]) else 0,
            "wall_time_seconds": round(wall, 3),
            "files": FILES,
        }
