"""The simulated survey instrument (brief section 5): the paper's samples, the paper's questions.

At the quarter it is called, ``simulate_survey`` draws the paper's two samples from the
surveyed region and asks each respondent the paper's questions. Every answer is a fixed
rule on the respondent's state, set before any fitting; no table has a cut-point of its
own that a fit could move. It returns the answers as count tables in the paper's shape
(rows and columns in the order of ``data/turkestan_survey.toml``) and, for a calibration
distance, the shares of each answer when the same rules are applied to the whole
population (every resident of the surveyed region, every firm in business there).

Samples (stratified, without replacement, each unit equally likely within its stratum)
-----------------------------------------------------------------------------------
- Residents: 198, with Table 2's age composition exactly (72, 45, 42, 39 for <30, 30-39,
  40-49, 50+), drawn by cohort from the residents of the surveyed region.
- Entrepreneurs: 58, with the entrepreneurs' sample's owner-age composition exactly
  (20, 18, 11, 9), drawn by owner cohort from the firms in business (``alive``) of the
  surveyed region, formal and informal alike, each firm with equal weight (the paper
  polled entrepreneurs, one per business, not output: a large firm counts once). Firms
  that entered at the end of the last quarter (age 0) are not in the frame: they have not
  yet lived a quarter, so they have nothing to answer from; the frame is thus the firms
  that the model's quarterly outputs (``records.py``) count.
- The surveyed region: Turkestan if the model has it (the paper's survey was taken there;
  the Turkestan scenario has only that region), else the model's first region; ``region``
  names another one by index or id, or ``"all"`` pools every region.
- Draws come from a generator of the survey's own, ``default_rng([seed, crc32("survey"),
  quarter])``, not from any of the model's streams: surveying reads state and draws
  nothing from the model, so it never shifts the model's trajectory, and the same model
  surveyed at the same quarter gives the same sample. Pass ``rng`` to draw another sample.
- If a stratum holds fewer units than its quota (possible with ``residents_per_region``
  near 198: residents' cohorts are drawn at random), all its units are taken and the rest
  of the quota is drawn again from them with replacement; ``SurveyResult.resampled``
  counts such repeated respondents (0 in any normal run).

Answer rules (codes are the column indices of the paper's tables)
-----------------------------------------------------------------
Table 5, residents, "satisfaction with the activities of public authorities", 1-5:
    ``answers.authority_scores`` of the resident's latent satisfaction with the
    authorities (cuts -1.5, -0.5, 0.5, 1.5; the model's own rule, ODD 7.10).
Table 6, residents, heat / water / power / gas: satisfied / partially / dissatisfied:
    ``answers.utility_answers`` of the resident's latent satisfaction with each utility
    (dissatisfied below -0.5, satisfied from 0.5; ODD 7.10).
Table 7, entrepreneurs, "Are you satisfied with the actions of local authorities to
stimulate your business?": satisfied / partially / dissatisfied:
    the firm's satisfaction index S in [-1, 1] (ODD 7.8): satisfied if S > 1/3,
    dissatisfied if S < -1/3, partially otherwise. S is the model's own moving measure of
    whether what the firm received from the akimat over the last year (support, PPP
    income, a voice in consultation) outweighed what its dealings with officials cost it
    (bribes, delays, retaliation, fines, dispute losses), relative to its output, with word
    of mouth from its ties. The cuts split S's range into equal thirds and are the ones the
    model already reports (``business_satisfied`` etc.), so the survey's population shares
    of Table 7 equal those outputs.
Table 8, entrepreneurs, "How do the heads of local authorities influence the development
of your business?": positively / partially / does not affect:
    over the last 4 quarters the authorities *engaged* the firm if it received support, or
    cooperated with them (a performing PPP contract or a business council), or was party to
    a PPP dispute, or held the akimat captured. Not engaged: "does not affect" (the paper's
    reading of this column: firms that "do not see points of joint interest"); routine
    dealings and bribe demands alone do not count as influence on the business's
    development: they are what Table 9 asks about, and a firm that only met demands is at
    the dissatisfied end, where the paper places this column. Engaged: "positively" if its
    net experience with the authorities over the last 4 quarters (the memory field
    ``experience``: gains minus losses, as in S) is positive, or if it held the akimat
    captured (the akimat works for it); otherwise "partially" (help came but the burden
    matched or outweighed it).
Table 9, entrepreneurs, "Are there corrupt actions on the part of managers and specialists
of local authorities in solving problems in your business?": yes, constantly /
occasionally / no cases:
    "constantly" if the bribe demands that the firm met in the last 4 quarters were the rule
    rather than the exception, counted either way a respondent might count occasions:
    more than half of its dealings with officials carried a demand
    (``CONSTANT_DEALING_SHARE`` = 1/2), or a demand came in the majority of the quarters,
    at least 3 of 4 (``CONSTANT_QUARTERS``); "occasionally" if it met at least one demand;
    "no cases" otherwise.

The constants (1/3, 1/2, 3 of 4, and ``utilities``' cuts) are fixed, each with the meaning
given above; none is a calibration parameter. What moves the answers are the behavioural
parameters that shape the state (corruption, support, PPP, trust and satisfaction, the
residents' signals), shared across tables.

No I/O besides reading the packaged data file (``observed_tables``).
"""

from __future__ import annotations

import tomllib
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from ..formulas import fixed_order_dot
from ..regions import UTILITIES
from .answers import SATISFACTION_CUT, authority_scores, utility_answers

#: The paper's tables in the instrument, in order.
TABLES = ("table5", "table6", "table7", "table8", "table9")
#: Tables asked of residents and of entrepreneurs.
RESIDENT_TABLES = ("table5", "table6")
FIRM_TABLES = ("table7", "table8", "table9")
COHORTS = ("<30", "30-39", "40-49", "50+")

#: Table 7: S above ``answers.SATISFACTION_CUT`` is "satisfied", below minus it "dissatisfied"
#: (equal thirds of [-1, 1]; the same cut as the model's ``business_satisfied`` outcomes).
#: Table 9: "constantly" when more than this share of the year's dealings carried a demand ...
CONSTANT_DEALING_SHARE = 0.5
#: ... or when demands came in at least this many of the last 4 quarters (a majority of them).
CONSTANT_QUARTERS = 3

#: Name of the survey's own random stream.
STREAM = "survey"


# --------------------------------------------------------------------------- observed data


@lru_cache(maxsize=1)
def _survey_data() -> dict[str, Any]:
    text = resources.files("simulation.data").joinpath("turkestan_survey.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def observed_tables() -> dict[str, list[list[int]]]:
    """The paper's Tables 5-9 as respondent counts, rows and columns in the paper's order.

    Tables 5, 7, 8, 9: one row per age cohort (<30, 30-39, 40-49, 50+); Table 6: one row per
    utility (heat, water, power, gas), each out of all 198 residents.
    """
    data = _survey_data()
    return {name: [list(row) for row in data[name]["counts"]] for name in TABLES}


def sample_design() -> dict[str, list[int]]:
    """Cohort quotas of the two samples: residents (Table 2) and entrepreneurs (Tables 7-9)."""
    s = _survey_data()["samples"]
    return {
        "residents": list(s["population"]["cohort_sizes"]),
        "entrepreneurs": list(s["entrepreneurs"]["cohort_sizes"]),
    }


def table_labels(name: str) -> tuple[list[str], list[str]]:
    """Row and column labels of a table, as in the data file."""
    t = _survey_data()[name]
    return list(t["rows"]), list(t["columns"])


def table_question(name: str) -> str:
    """The question of a survey table, as the paper asks it."""
    return _survey_data()[name]["question"]


def table_totals(tables: dict[str, Any]) -> dict[str, list[int]]:
    """Column totals of each table (for Table 6 summed over the four utilities, out of 4 x 198,
    as ``column_totals`` in the data file)."""
    return {name: [int(v) for v in np.asarray(t).sum(axis=0)] for name, t in tables.items()}


# --------------------------------------------------------------------------- answer rules


def business_satisfaction_answers(satisfaction: np.ndarray) -> np.ndarray:
    """Table 7: 0 satisfied (S > 1/3), 1 partially, 2 dissatisfied (S < -1/3)."""
    s = np.asarray(satisfaction, dtype=float)
    return np.where(s > SATISFACTION_CUT, 0, np.where(s < -SATISFACTION_CUT, 2, 1))


def influence_answers(
    support: np.ndarray, cooperation: np.ndarray, disputes: np.ndarray, rule_bending: np.ndarray, experience: np.ndarray
) -> np.ndarray:
    """Table 8 from 4-quarter sums: 0 positively, 1 partially, 2 does not affect.

    Engaged = support received, cooperation, a PPP dispute or capture in the last 4 quarters.
    Not engaged: 2. Engaged: 0 if net experience (gains - losses) > 0 or a captor, else 1.
    """
    captor = np.asarray(rule_bending) > 0
    engaged = (np.asarray(support) > 0) | (np.asarray(cooperation) > 0) | (np.asarray(disputes) > 0) | captor
    positive = (np.asarray(experience) > 0) | captor
    return np.where(~engaged, 2, np.where(positive, 0, 1))


def corruption_answers(demands: np.ndarray, dealings: np.ndarray) -> np.ndarray:
    """Table 9 from per-quarter memory arrays of shape (quarters, firms) (or 1-d for one firm):
    0 yes, constantly; 1 occasionally; 2 no cases.

    Constantly: demands in more than half of the year's dealings, or in at least
    ``CONSTANT_QUARTERS`` of the quarters; occasionally: at least one demand.
    """
    demands = np.asarray(demands, dtype=float)
    dealings = np.asarray(dealings, dtype=float)
    if demands.ndim == 1:
        demands, dealings = demands[:, None], dealings[:, None]
    n_dem = demands.sum(axis=0)
    n_deal = dealings.sum(axis=0)
    share = np.divide(n_dem, n_deal, out=np.zeros_like(n_dem), where=n_deal > 0)
    quarters = (demands > 0).sum(axis=0)
    constantly = (n_dem > 0) & ((share > CONSTANT_DEALING_SHARE) | (quarters >= CONSTANT_QUARTERS))
    return np.where(constantly, 0, np.where(n_dem > 0, 1, 2))


def resident_answers(model, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Answers of the residents in ``rows``: table5 scores as column index 0-4, table6 (n, 4)."""
    res = model.residents
    return {"table5": authority_scores(res.authority[rows]) - 1, "table6": utility_answers(res.utilities[rows])}


def firm_answers(model, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Answers of the firms in ``rows`` (rows of ``model.firms``) to Tables 7-9."""
    f = model.firms

    def year(name):
        return f.last_year(name)[rows]

    return {
        "table7": business_satisfaction_answers(f.satisfaction[rows]),
        "table8": influence_answers(
            year("support"), year("cooperation"), year("disputes"), year("rule_bending"), year("experience")
        ),
        "table9": corruption_answers(f.memory("demands")[:, rows], f.memory("dealings")[:, rows]),
    }


# --------------------------------------------------------------------------- the survey


@dataclass
class SurveyResult:
    """One simulated survey.

    tables: name -> integer array of counts in the paper's shape (Tables 5, 7, 8, 9: 4 cohorts
        x answers; Table 6: 4 utilities x 3 answers).
    population_shares: name -> {"total": shares of each answer in the whole population,
        "by_cohort": the same per cohort (each row sums to 1)}; for Table 6 "total" is
        utilities x answers and "by_cohort" cohorts x utilities x answers. Population: every
        resident of the surveyed region; every firm in business there.
    population: sizes of the populations sampled, total and by cohort.
    residents, firms: the rows sampled (residents' rows; firms' rows at the survey's quarter).
    resampled: respondents drawn a second time because a stratum was smaller than its quota.
    """

    tables: dict[str, np.ndarray]
    population_shares: dict[str, dict[str, np.ndarray]]
    population: dict[str, Any]
    residents: np.ndarray
    firms: np.ndarray
    quarter: int
    reported_quarter: int
    region: str
    resampled: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: tables and shares as nested lists."""
        return {
            "quarter": self.quarter,
            "reported_quarter": self.reported_quarter,
            "region": self.region,
            "tables": {k: v.tolist() for k, v in self.tables.items()},
            "population_shares": {
                k: {kk: vv.tolist() for kk, vv in v.items()} for k, v in self.population_shares.items()
            },
            "population": self.population,
            "resampled": dict(self.resampled),
        }


def survey_rng(model) -> np.random.Generator:
    """The survey's own stream for this model and quarter (no model stream is touched)."""
    return np.random.default_rng([model.seed, zlib.crc32(STREAM.encode()), model.quarter])


def _region_mask(model, region, region_of: np.ndarray) -> tuple[np.ndarray, str]:
    ids = [r.id for r in model.regions]
    if region is None:
        index = ids.index("turkestan") if "turkestan" in ids else 0
    elif isinstance(region, str) and region == "all":
        return np.ones(len(region_of), dtype=bool), "all"
    elif isinstance(region, str):
        if region not in ids:
            raise ValueError(f"region '{region}' is not in the model; expected 'all' or one of {', '.join(ids)}")
        index = ids.index(region)
    else:
        index = int(region)
        if not 0 <= index < len(ids):
            raise ValueError(f"region index {index} is out of range; the model has {len(ids)} regions")
    return region_of == index, ids[index]


def _stratified(
    rng: np.random.Generator, cohort: np.ndarray, pool: np.ndarray, quotas: list[int]
) -> tuple[np.ndarray, int]:
    """Rows from ``pool`` with exactly ``quotas[c]`` of cohort c, without replacement where possible."""
    chosen, repeated = [], 0
    for c, k in enumerate(quotas):
        stratum = pool[cohort[pool] == c]
        if stratum.size >= k:
            chosen.append(rng.choice(stratum, size=k, replace=False))
        elif stratum.size == 0:
            raise ValueError(f"no unit of cohort {COHORTS[c]} to survey (quota {k})")
        else:
            extra = rng.choice(stratum, size=k - stratum.size, replace=True)
            chosen.append(np.concatenate([rng.permutation(stratum), extra]))
            repeated += k - stratum.size
    return np.concatenate(chosen).astype(np.int64), repeated


def _count(answers: np.ndarray, cohort: np.ndarray, n_answers: int) -> np.ndarray:
    """Cohort x answer counts."""
    return np.bincount(cohort.astype(np.int64) * n_answers + answers, minlength=4 * n_answers).reshape(4, n_answers)


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum(axis=-1, keepdims=True)
    return np.divide(counts, total, out=np.zeros(counts.shape), where=total > 0)


N_ANSWERS = {"table5": 5, "table6": 3, "table7": 3, "table8": 3, "table9": 3}


def _tabulate(answers: dict[str, np.ndarray], cohort: np.ndarray) -> dict[str, np.ndarray]:
    """Counts in the paper's shape, plus Table 6 by cohort (key 'table6_by_cohort')."""
    out = {}
    for name, a in answers.items():
        k = N_ANSWERS[name]
        if name == "table6":
            out[name] = np.stack([np.bincount(a[:, u], minlength=k) for u in range(len(UTILITIES))])
            out["table6_by_cohort"] = np.stack([_count(a[:, u], cohort, k) for u in range(len(UTILITIES))], axis=1)
        else:
            out[name] = _count(a, cohort, k)
    return out


def simulate_survey(
    model, rng: np.random.Generator | int | None = None, region: int | str | None = None
) -> SurveyResult:
    """Survey the model in its current state (see the module docstring for samples and rules).

    Args:
        model: a ``StateBusinessModel`` (its state is read, never changed).
        rng: a numpy Generator or an integer seed for the sampling; None: the survey's own
            stream for the model's seed and current quarter (``survey_rng``).
        region: None (Turkestan if present, else the first region), a region index or id,
            or "all" to pool every region.

    Raises:
        ValueError: an unknown region, or a cohort without any resident or firm to ask.
    """
    if rng is None:
        rng = survey_rng(model)
    elif not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    design = sample_design()
    res, f = model.residents, model.firms

    in_region, label = _region_mask(model, region, res.region)
    residents_pool = np.flatnonzero(in_region)
    firm_in_region, _ = _region_mask(model, region, f.region)
    lived = f.age >= 1 if model.quarter > 0 else True  # not this quarter's entrants
    firms_pool = np.flatnonzero(firm_in_region & f.alive & lived)
    firm_cohort = f.cohort

    res_rows, res_repeated = _stratified(rng, res.cohort, residents_pool, design["residents"])
    firm_rows, firm_repeated = _stratified(rng, firm_cohort, firms_pool, design["entrepreneurs"])

    sample = _tabulate(resident_answers(model, res_rows), res.cohort[res_rows])
    sample |= _tabulate(firm_answers(model, firm_rows), firm_cohort[firm_rows])
    tables = {name: sample[name].astype(np.int64) for name in TABLES}

    everyone = _tabulate(resident_answers(model, residents_pool), res.cohort[residents_pool])
    everyone |= _tabulate(firm_answers(model, firms_pool), firm_cohort[firms_pool])
    shares = {}
    for name in TABLES:
        if name == "table6":
            shares[name] = {"total": _shares(everyone[name]), "by_cohort": _shares(everyone["table6_by_cohort"])}
        else:
            shares[name] = {"total": _shares(everyone[name].sum(axis=0)), "by_cohort": _shares(everyone[name])}
    population = {
        "residents": int(residents_pool.size),
        "residents_by_cohort": np.bincount(res.cohort[residents_pool], minlength=4).tolist(),
        "firms": int(firms_pool.size),
        "firms_by_cohort": np.bincount(firm_cohort[firms_pool], minlength=4).tolist(),
        "informal_firms": int((~f.formal[firms_pool]).sum()),
    }
    return SurveyResult(
        tables,
        shares,
        population,
        res_rows,
        firm_rows,
        int(model.quarter),
        int(model.reported_quarters),
        label,
        {"residents": res_repeated, "firms": firm_repeated},
    )


def expected_tables(shares: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Expected sample counts under the stratified design: cohort quota x the cohort's population
    shares (Table 6: summed over the cohorts' quotas). The mean a calibration distance compares with."""
    design = sample_design()
    out = {}
    for name in TABLES:
        if name == "table6":
            by_cohort = np.asarray(shares[name]["by_cohort"])  # cohorts x utilities x answers
            out[name] = fixed_order_dot(np.asarray(design["residents"], dtype=float), by_cohort)
        else:
            quotas = design["residents"] if name in RESIDENT_TABLES else design["entrepreneurs"]
            out[name] = np.asarray(quotas, dtype=float)[:, None] * np.asarray(shares[name]["by_cohort"])
    return out


# --------------------------------------------------------------------------- reports (strings, no I/O)


def survey_report(result: SurveyResult, **meta: Any) -> dict[str, Any]:
    """The survey as one JSON-ready object: ``meta`` (e.g. scenario, seed) first, then
    ``observed``, ``simulated`` (count tables keyed table5..table9, lists of rows in the
    paper's row and column order) and ``population_shares`` (per table: ``total`` and
    ``by_cohort``), plus the sample design, the surveyed region and quarter."""
    d = result.as_dict()
    return {
        **meta,
        "region": d["region"],
        "reported_quarter": d["reported_quarter"],
        "quarter": d["quarter"],
        "samples": sample_design(),
        "population": d["population"],
        "resampled": d["resampled"],
        "observed": observed_tables(),
        "simulated": d["tables"],
        "population_shares": d["population_shares"],
    }


def _short_columns(name: str) -> list[str]:
    t = _survey_data()[name]
    return list(t["columns"]) if name == "table5" else list(t["column_keys"])


def format_report(report: dict[str, Any]) -> str:
    """Simulated next to observed counts, table by table, as aligned text."""
    design = report["samples"]
    lines = []
    head = ", ".join(f"{k} {report[k]}" for k in ("scenario", "governance", "seed") if k in report)
    lines.append(
        f"Simulated survey ({head}): region {report['region']}, after reported quarter "
        f"{report['reported_quarter']}; {sum(design['residents'])} residents of {report['population']['residents']}, "
        f"{sum(design['entrepreneurs'])} entrepreneurs of {report['population']['firms']} firms in business"
    )
    if any(report["resampled"].values()):
        lines.append(f"  note: strata smaller than their quotas, respondents drawn twice: {report['resampled']}")
    for name in TABLES:
        rows, _ = table_labels(name)
        cols = _short_columns(name)
        sim = np.asarray(report["simulated"][name])
        obs = np.asarray(report["observed"][name])
        n = sum(design["residents"]) if name in RESIDENT_TABLES else sum(design["entrepreneurs"])
        who = "residents" if name in RESIDENT_TABLES else "entrepreneurs"
        lines.append("")
        lines.append(f"Table {name[5:]}. {table_question(name)} ({n} {who})")
        width = max(6, *(len(c) + 1 for c in cols))
        block = len(cols) * width + 6

        def cells(values, fmt="{:d}", width=width):
            return "".join(fmt.format(v).rjust(width) for v in values)

        lines.append(" " * 8 + "simulated".ljust(block) + " | " + "observed")
        lines.append("".ljust(8) + cells(cols, "{}") + "n".rjust(6) + " | " + cells(cols, "{}") + "n".rjust(6))
        for label, s_row, o_row in zip(rows, sim, obs):
            lines.append(
                label.ljust(8)
                + cells(s_row)
                + str(int(s_row.sum())).rjust(6)
                + " | "
                + cells(o_row)
                + str(int(o_row.sum())).rjust(6)
            )
        if name != "table6":
            s_tot, o_tot = sim.sum(axis=0), obs.sum(axis=0)
            lines.append(
                "Total".ljust(8)
                + cells(s_tot)
                + str(int(s_tot.sum())).rjust(6)
                + " | "
                + cells(o_tot)
                + str(int(o_tot.sum())).rjust(6)
            )
            pop = np.asarray(report["population_shares"][name]["total"]) * 100
            lines.append(
                "pop. %".ljust(8)
                + cells(pop, "{:.1f}")
                + " " * 6
                + " | "
                + cells(100 * o_tot / max(o_tot.sum(), 1), "{:.1f}")
            )
        else:
            pop = np.asarray(report["population_shares"][name]["total"]) * 100
            for label, p_row, o_row in zip(rows, pop, obs):
                lines.append(
                    ("%" + label).ljust(8)
                    + cells(p_row, "{:.1f}")
                    + " " * 6
                    + " | "
                    + cells(100 * o_row / max(o_row.sum(), 1), "{:.1f}")
                )
    lines.append("")
    lines.append(
        "pop. %: simulated shares in the whole population (all residents / firms in business); "
        "observed: the sample's shares."
    )
    return "\n".join(lines)
