"""The published figures and rankings the model is compared with (``simulation/data/validation.toml``),
and the quantities it reports for them."""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ...io import InputError
from ...regions import all_regions

#: Quantities a run reports for comparison with published figures (``model_quantity`` in the data file).
QUANTITIES = {
    "es_bribery_incidence": "Enterprise Surveys bribery incidence: formal firms with 5+ jobs and a dealing, "
    "share asked for a bribe in at least one of up to six dealings of the last year",
    "es_bribery_depth": "Enterprise Surveys bribery depth: requests per dealing asked about",
    "es_gifts_expected": "Enterprise Surveys: formal firms with 5+ jobs that paid a bribe in the last year",
    "informal_resolution": "firms with a dealing with officials in the last year that met at least one bribe demand",
    "paid_share": "firms with a dealing with officials in the last year that paid at least one bribe (demanded or "
    "offered)",
    "initiated_by_officials": "share of the bribes firms paid in the last year that an official demanded (the rest "
    "are speed money the firm offered; model outcome, from the firms' memory)",
    "corruption_incidence": "share of all firms with a bribe demand in the last year (model outcome)",
    "business_satisfied": "share of firms satisfied with the akimat (S > 1/3; model outcome)",
}
#: Quantities fixed by the model's structure (no sampling; shown as such). None since firms offer speed money.
STRUCTURAL: tuple[str, ...] = ()
#: The regional outcomes ranked in the national scenario (rank 1: most corruption; most satisfied).
REGIONAL = ("corruption_incidence", "business_satisfied")
SCENARIOS = ("turkestan", "national")
#: Interval shown everywhere (5% and 95% quantiles).
LEVEL = 0.90
#: Firms the Enterprise Surveys instrument interviews: every eligible firm (the population value;
#: the published figure's own sampling error is added on the published side).
CENSUS = 10**9
#: Monte Carlo draws for the intervals of differences and of the permutation null.
MC_DRAWS = 4000
DATA_FILE = "validation.toml"
FIGURE_KEYS = (
    "id", "label", "quantity", "value", "unit", "wave", "scope", "model_quantity", "compare_with", "mapping",
    "source", "url", "title", "publisher", "date", "status", "passage",
)  # fmt: skip
FIGURE_OPTIONAL = ("sample_size", "sample_note", "sample_source", "bound")
RANKING_KEYS = (
    "id", "label", "quantity", "year", "method", "units", "primary", "tiers", "scores", "not_covered",
    "source", "url", "title", "publisher", "date", "passage",
)  # fmt: skip
RANKING_OPTIONAL = ("boundary_note",)


# --------------------------------------------------------------------------- the data file


@dataclass(frozen=True)
class PublishedFigure:
    """One published figure: its value (in percent), what it measures, its sample and its source."""

    id: str
    label: str
    quantity: str
    value: float
    unit: str
    wave: str
    scope: str
    model_quantity: str
    compare_with: tuple[str, ...]
    mapping: str
    source: str
    url: str
    title: str
    publisher: str
    date: str
    status: str
    passage: str
    sample_size: int | None = None
    sample_note: str = ""
    sample_source: str = ""
    bound: str = ""

    @property
    def share(self) -> float:
        """The value as a share (0..1)."""
        return self.value / 100.0

    def sampling_sd(self) -> float:
        """The binomial standard error of the share (NaN when the sample size is unknown)."""
        if not self.sample_size:
            return float("nan")
        p = self.share
        return math.sqrt(p * (1 - p) / self.sample_size)

    def interval(self, level: float = LEVEL) -> tuple[float, float]:
        """The published share's approximate sampling interval (NaN, NaN without a sample size)."""
        sd = self.sampling_sd()
        if not math.isfinite(sd):
            return float("nan"), float("nan")
        z = _z(level)
        return max(0.0, self.share - z * sd), min(1.0, self.share + z * sd)


@dataclass(frozen=True)
class Ranking:
    """An independent regional ranking in classes: region id -> score (higher = more corruption)."""

    id: str
    label: str
    quantity: str
    year: str
    method: str
    units: str
    primary: bool
    tiers: dict[str, tuple[str, ...]]
    scores: dict[str, float]
    not_covered: tuple[str, ...]
    source: str
    url: str
    title: str
    publisher: str
    date: str
    passage: str
    boundary_note: str = ""

    def score(self) -> dict[str, float]:
        """Region id -> its class's score, for the regions the ranking covers."""
        return {r: float(self.scores[t]) for t, regions in self.tiers.items() for r in regions}

    def tier(self) -> dict[str, str]:
        """Region id -> its class's name."""
        return {r: t for t, regions in self.tiers.items() for r in regions}


@dataclass(frozen=True)
class ValidationData:
    """The data file: published figures, independent rankings, what could not be found."""

    path: str
    sha256: str
    figures: tuple[PublishedFigure, ...]
    rankings: tuple[Ranking, ...]
    missing: tuple[dict[str, str], ...]

    def primary(self) -> Ranking | None:
        """The ranking the report leads with (``primary = true``)."""
        return next((r for r in self.rankings if r.primary), None)

    def sources(self) -> list[dict[str, str]]:
        """Every figure's and ranking's id, title, publisher, date and URL (for manifests)."""
        return [
            {"id": x.id, "title": x.title, "publisher": x.publisher, "date": x.date, "url": x.url}
            for x in (*self.figures, *self.rankings)
        ]


def _z(level: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def _text(origin: str, where: str, table: dict, key: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{origin}: {where}: '{key}' must be a non-empty string")
    return value


def _check_keys(origin: str, where: str, table: Any, required: tuple, optional: tuple) -> None:
    if not isinstance(table, dict):
        raise InputError(f"{origin}: {where} must be a table")
    missing = [k for k in required if k not in table]
    if missing:
        raise InputError(f"{origin}: {where}: '{missing[0]}' is missing (every entry needs {', '.join(required)})")
    unknown = [k for k in table if k not in required + optional]
    if unknown:
        raise InputError(f"{origin}: {where}: unknown key '{unknown[0]}'; allowed are {', '.join(required + optional)}")


def _figure(origin: str, i: int, raw: Any) -> PublishedFigure:
    where = f"figure {i + 1}"
    _check_keys(origin, where, raw, FIGURE_KEYS, FIGURE_OPTIONAL)
    where = f"figure '{raw.get('id', i + 1)}'"
    text = {k: _text(origin, where, raw, k) for k in FIGURE_KEYS if k not in ("value", "compare_with")}
    for k in FIGURE_OPTIONAL:
        if k != "sample_size" and k in raw:
            text[k] = _text(origin, where, raw, k)
    value = raw["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 100.0:
        raise InputError(f"{origin}: {where}: 'value' = {value!r} is not allowed; expected a percentage in [0, 100]")
    if not text["unit"].startswith("percent"):
        raise InputError(f"{origin}: {where}: 'unit' = {text['unit']!r} is not allowed; expected 'percent of ...'")
    if not text["url"].startswith(("http://", "https://")):
        raise InputError(f"{origin}: {where}: 'url' = {text['url']!r} is not allowed; expected an http(s) address")
    if text["model_quantity"] not in QUANTITIES:
        raise InputError(
            f"{origin}: {where}: 'model_quantity' = {text['model_quantity']!r} is not allowed; "
            f"expected one of {', '.join(QUANTITIES)}"
        )
    compare = raw["compare_with"]
    if not isinstance(compare, list) or not compare or any(c not in SCENARIOS for c in compare):
        raise InputError(
            f"{origin}: {where}: 'compare_with' = {compare!r} is not allowed; expected a list of {', '.join(SCENARIOS)}"
        )
    n = raw.get("sample_size")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise InputError(f"{origin}: {where}: 'sample_size' = {n!r} is not allowed; expected a positive integer")
    if n is None and "sample_note" not in raw:
        raise InputError(f"{origin}: {where}: 'sample_note' is missing; say what is known of the sample")
    if raw.get("bound", "at least") != "at least":
        raise InputError(f"{origin}: {where}: 'bound' = {raw['bound']!r} is not allowed; expected 'at least'")
    return PublishedFigure(value=float(value), compare_with=tuple(compare), sample_size=n, **text)


def _ranking(origin: str, i: int, raw: Any) -> Ranking:
    where = f"ranking {i + 1}"
    _check_keys(origin, where, raw, RANKING_KEYS, RANKING_OPTIONAL)
    where = f"ranking '{raw.get('id', i + 1)}'"
    skip = ("primary", "tiers", "scores", "not_covered")
    text = {k: _text(origin, where, raw, k) for k in RANKING_KEYS if k not in skip}
    if "boundary_note" in raw:
        text["boundary_note"] = _text(origin, where, raw, "boundary_note")
    if not isinstance(raw["primary"], bool):
        raise InputError(f"{origin}: {where}: 'primary' must be true or false")
    tiers, scores = raw["tiers"], raw["scores"]
    if not isinstance(tiers, dict) or not isinstance(scores, dict) or set(tiers) != set(scores) or len(tiers) < 2:
        raise InputError(f"{origin}: {where}: 'tiers' and 'scores' must be tables with the same (at least 2) classes")
    known = [r.id for r in all_regions()]
    seen: list[str] = []
    for t, regions in tiers.items():
        if not isinstance(regions, list) or not regions:
            raise InputError(f"{origin}: {where}: 'tiers.{t}' must be a non-empty list of region ids")
        score = scores[t]
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise InputError(f"{origin}: {where}: 'scores.{t}' = {score!r} is not allowed; expected a number")
        seen += regions
    covered = raw["not_covered"]
    if not isinstance(covered, list):
        raise InputError(f"{origin}: {where}: 'not_covered' must be a list of region ids")
    unknown = [r for r in seen + covered if r not in known]
    if unknown:
        raise InputError(f"{origin}: {where}: unknown region '{unknown[0]}'; expected ids among {', '.join(known)}")
    if len(set(seen + covered)) != len(seen + covered) or set(seen + covered) != set(known):
        raise InputError(
            f"{origin}: {where}: every one of the {len(known)} regions must be in exactly one class or in 'not_covered'"
        )
    return Ranking(
        primary=raw["primary"],
        tiers={t: tuple(v) for t, v in tiers.items()},
        scores={t: float(v) for t, v in scores.items()},
        not_covered=tuple(covered),
        **text,
    )


def load_validation_data(path: str | Path | None = None) -> ValidationData:
    """Read and check the published figures (default: ``simulation/data/validation.toml``).

    Raises:
        InputError: a missing or malformed file, a figure without its source, a value out of
            range, an unknown model quantity or region (one line naming the file and the entry).
    """
    if path is None:
        origin = f"simulation/data/{DATA_FILE}"
        text = resources.files("simulation.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    else:
        from ...io import load_toml

        origin = str(path)
        _, text = load_toml(path, "validation data")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{origin}: malformed TOML: {err}") from None
    unknown = [k for k in raw if k not in ("figure", "ranking", "missing")]
    if unknown:
        raise InputError(f"{origin}: unknown table '{unknown[0]}'; expected [[figure]], [[ranking]], [[missing]]")
    figures = raw.get("figure", [])
    rankings = raw.get("ranking", [])
    missing = raw.get("missing", [])
    if not isinstance(figures, list) or not figures:
        raise InputError(f"{origin}: no [[figure]]; expected at least one published figure")
    if not isinstance(rankings, list) or not isinstance(missing, list):
        raise InputError(f"{origin}: [[ranking]] and [[missing]] must be arrays of tables")
    figs = tuple(_figure(origin, i, f) for i, f in enumerate(figures))
    ranks = tuple(_ranking(origin, i, r) for i, r in enumerate(rankings))
    ids = [x.id for x in (*figs, *ranks)]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise InputError(f"{origin}: id '{dup}' is used twice; ids must be unique")
    if sum(r.primary for r in ranks) > 1:
        raise InputError(f"{origin}: more than one ranking has primary = true")
    for i, m in enumerate(missing):
        _check_keys(origin, f"missing {i + 1}", m, ("what", "searched", "consequence"), ())
        for k in ("what", "searched", "consequence"):
            _text(origin, f"missing {i + 1}", m, k)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ValidationData(origin, sha, figs, ranks, tuple(dict(m) for m in missing))
