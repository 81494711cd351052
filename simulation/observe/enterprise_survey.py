"""A second survey instrument: the World Bank Enterprise Surveys' graft questions.

The Enterprise Surveys (WBES) interview the top managers of registered firms with five or
more employees. Two of their corruption indicators can be asked of the model's firms; the
answer rules below were fixed before any comparison with published values, for validation
out of sample (nothing is fitted to them):

1. **Bribery incidence** (WBES indicator "Bribery incidence (% of firms experiencing at least
   one bribe payment request)", SDG 16.5.2): the share of firms that were expected or asked to
   give a gift or informal payment in at least one of six public transactions in the last year
   (electricity and water connections, a construction permit, an import and an operating
   licence, tax inspections). A model firm's transactions are its dealings with officials in the
   last four quarters; it is asked about at most six of them (``TRANSACTIONS``), drawn at random
   from the year's dealings, and answers yes if a bribe demand came in at least one of those.
   The denominator is the firms with at least one transaction, as in the indicator.
2. **Bribery depth** ("% of public transactions where a gift or informal payment was
   requested"): requests over transactions, pooled over the sampled firms.
3. **Gifts expected "to get things done"** ("Percent of firms expected to give gifts to public
   officials 'to get things done'"): the share of firms that report informal payments, i.e.
   that paid at least one bribe in the last four quarters: a demand paid or an offer of speed
   money accepted (both in the firm's memory).

The sample: ``firms`` formal firms in business with at least ``MIN_EMPLOYEES`` jobs
(``formulas.jobs``), drawn without replacement from the surveyed region(s) by the instrument's
own random stream; the model's state is read, never changed.

Sources of the definitions: World Bank, SDG indicator metadata 16.5.2 (series "Bribery
incidence (% of firms experiencing at least one bribe payment request)": six transactions,
firms that had the transaction are asked whether a gift or informal payment was expected);
World Bank Enterprise Surveys indicator descriptions (Corruption: bribery incidence, bribery
depth, firms expected to give gifts "to get things done").
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..formulas import jobs

#: Transactions each firm is asked about (the six of the WBES graft index).
TRANSACTIONS = 6
#: The Enterprise Surveys cover registered firms with at least this many employees.
MIN_EMPLOYEES = 5
#: Sample size of one survey (the Kazakhstan waves interviewed about 600 firms in 2013 and
#: about 1,400 in 2019; 600 keeps the sampling error of a share near 2 pp).
DEFAULT_SAMPLE = 600
#: Name of the instrument's own random stream.
STREAM = "enterprise-survey"


@dataclass
class EnterpriseSurveyResult:
    """One simulated Enterprise Survey: the three indicators and what they rest on."""

    bribery_incidence: float  # share of firms with a transaction that met at least one request
    bribery_depth: float  # requests / transactions
    gifts_expected: float  # share of firms that paid informal payments in the year
    sampled: int  # firms interviewed
    with_transactions: int  # of them, firms with at least one transaction
    eligible: int  # formal firms with >= MIN_EMPLOYEES jobs in the surveyed region(s)
    quarter: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


def survey_rng(model) -> np.random.Generator:
    """The instrument's own stream for this model and quarter (no model stream is touched)."""
    return np.random.default_rng([model.seed, zlib.crc32(STREAM.encode()), model.quarter])


def simulate_enterprise_survey(
    model, firms: int = DEFAULT_SAMPLE, rng: np.random.Generator | int | None = None
) -> EnterpriseSurveyResult:
    """Ask the graft questions of a sample of the model's firms (all regions pooled).

    Raises:
        ValueError: no firm is eligible, or ``firms`` is not positive.
    """
    if firms < 1:
        raise ValueError(f"a sample of {firms} firms; expected at least 1")
    if rng is None:
        rng = survey_rng(model)
    elif not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    f, p = model.world.firms, model.params
    eligible = np.flatnonzero(f.alive & f.formal & (jobs(f.capital, p) >= MIN_EMPLOYEES))
    if eligible.size == 0:
        raise ValueError(f"no formal firm with at least {MIN_EMPLOYEES} employees to interview")
    rows = rng.choice(eligible, size=min(firms, eligible.size), replace=False)
    dealings = f.last_year("dealings")[rows].astype(np.int64)
    demands = np.minimum(f.last_year("demands")[rows].astype(np.int64), dealings)
    asked = np.minimum(dealings, TRANSACTIONS)
    # the demands among the transactions asked about: a draw without replacement from the year's dealings
    requested = np.zeros(rows.size, dtype=np.int64)
    some = asked > 0
    requested[some] = rng.hypergeometric(demands[some], dealings[some] - demands[some], asked[some])
    n_with = int(some.sum())
    paid = (f.last_year("paid")[rows] + f.last_year("offer_paid")[rows]) > 0  # demanded or offered (speed money)
    return EnterpriseSurveyResult(
        bribery_incidence=float((requested[some] > 0).mean()) if n_with else 0.0,
        bribery_depth=float(requested.sum() / asked.sum()) if asked.sum() else 0.0,
        gifts_expected=float(paid.mean()),
        sampled=int(rows.size),
        with_transactions=n_with,
        eligible=int(eligible.size),
        quarter=int(model.quarter),
    )


def format_enterprise_report(result: EnterpriseSurveyResult, scenario: str, governance: str, seed: int) -> str:
    """The indicators as text, with their sampling error (binomial, 90%)."""

    def share(x: float, n: int) -> str:
        half = 1.645 * np.sqrt(max(x * (1 - x), 0.0) / n) if n else 0.0
        return f"{100 * x:5.1f}%  (90% sampling interval ±{100 * half:.1f} pp, n = {n})"

    return "\n".join(
        [
            f"Enterprise Surveys graft questions: {scenario}, {governance} model, seed {seed}, "
            f"after simulated quarter {result.quarter}",
            f"  sample: {result.sampled} of {result.eligible} formal firms with {MIN_EMPLOYEES}+ employees; "
            f"{result.with_transactions} had at least one public transaction in the last year",
            "  bribery incidence (at least one request in up to 6 transactions): "
            + share(result.bribery_incidence, result.with_transactions),
            f"  bribery depth (requests per transaction): {100 * result.bribery_depth:5.1f}%",
            "  firms expected to give gifts 'to get things done': " + share(result.gifts_expected, result.sampled),
        ]
    )
