"""Scenario parameters: every parameter declared once, typed, with a default, a range,
a unit and a one-line meaning; governance presets; TOML loading and validation.

Resolution order (later wins): declared defaults < governance preset (brief section 4)
< values in the scenario file < explicit overrides (command line, keyword arguments).
A scenario file groups parameters into sections for readability; names are unique across
sections, so every parameter can also be given by its bare name (``run_model(audit_rate=0.2)``).
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ScenarioError(ValueError):
    """A scenario or override is invalid. The message is one line naming file, key and what is allowed."""


@dataclass(frozen=True)
class Param:
    name: str
    section: str
    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    unit: str = ""
    meaning: str = ""
    source: str = "assumption"
    choices: tuple[str, ...] | None = None

    def allowed(self) -> str:
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        kind = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[self.kind]
        if self.low is not None and self.high is not None:
            return f"{kind} in [{self.low}, {self.high}]"
        return kind

    def check(self, value: Any) -> Any:
        """Return the value converted to this parameter's type, or raise ValueError with what is allowed."""
        if self.kind is bool:
            if not isinstance(value, bool):
                raise ValueError(self.allowed())
            return value
        if self.kind is str:
            if not isinstance(value, str):
                raise ValueError(self.allowed())
            if self.choices and value not in self.choices:
                raise ValueError(self.allowed())
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(self.allowed())
        if self.kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(self.allowed())
            value = int(value)
        else:
            value = float(value)
            if value != value:  # NaN
                raise ValueError(self.allowed())
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ValueError(self.allowed())
        return value


def _p(name, section, kind, default, low=None, high=None, unit="", meaning="", source="assumption", choices=None):
    return Param(name, section, kind, default, low, high, unit, meaning, source, choices)


# fmt: off
PARAMETERS: tuple[Param, ...] = (
    # --- run -------------------------------------------------------------------------------
    _p("steps", "run", int, 40, 1, 1000, "quarters", "reported quarters after the burn-in", "brief s.2"),
    _p("burn_in", "run", int, 8, 0, 200, "quarters", "quarters simulated before reporting starts (not in the results)", "brief s.2"),
    # --- world -----------------------------------------------------------------------------
    _p("regions", "world", str, "turkestan", meaning="comma-separated region ids from data/kazakhstan_regions.toml, or 'all' for the 20 akimats", source="data file"),
    _p("firms", "world", int, 5000, 10, 5_000_000, "firms", "initial number of firms, shared among regions by population", "assumption (scale)"),
    _p("residents_per_region", "world", int, 1000, 198, 1_000_000, "residents", "resident agents per region (the pool from which a survey would sample 198, as in Table 2)", "paper Table 2 (sample 198)"),
    _p("power_strength", "world", float, 0.6, 0.0, 1.0, "0..1", "mean initial power strength P of the akimats (fiscal and administrative capacity)", "calibrated"),
    _p("power_spread", "world", float, 0.1, 0.0, 0.5, "0..1", "standard deviation of initial P across regions", "assumption"),
    _p("business_strength", "world", float, 0.3, 0.01, 0.99, "0..1", "business strength B of the output-weighted median firm (sets firms' capital against the akimat's)", "calibrated"),
    _p("capital_dispersion", "world", float, 1.6, 0.1, 4.0, "log units", "standard deviation of log initial capital (heavy tail of firm sizes)", "assumption (lognormal firm sizes)"),
    _p("strength_slope", "world", float, 0.8, 0.1, 5.0, "1/log unit", "slope of business strength B in log capital", "assumption"),
    _p("association_share", "world", float, 0.15, 0.0, 1.0, "share", "share of firms in a business association", "assumption"),
    _p("association_bonus", "world", float, 0.15, 0.0, 0.5, "B units", "rise in business strength B from association membership", "assumption"),
    _p("firm_ties", "world", int, 6, 2, 40, "ties", "ties per firm in the small-world firm network (even number)", "assumption (Watts-Strogatz)"),
    _p("tie_rewiring", "world", float, 0.1, 0.0, 1.0, "probability", "rewiring probability of the small-world firm network", "assumption (Watts-Strogatz)"),
    # --- governance (brief section 4; presets below) ------------------------------------------
    _p("governance", "governance", str, "partnership", meaning="governance model: named preset of the parameters marked 'preset'", source="paper s.2, brief s.4", choices=("partnership", "symbiotic")),
    _p("merit_weight", "governance", float, 0.9, 0.0, 1.0, "0..1", "merit weight theta in tenders and support (rest: connections) [preset]", "brief s.4"),
    _p("rent_weight", "governance", float, 0.0, 0.0, 1.0, "0..1", "akim's weight on rents w_R in the budget plan [preset]", "brief s.4"),
    _p("outsider_bias", "governance", float, 0.0, 0.0, 5.0, "relative", "extra bribe-demand and inspection intensity against outsiders [preset]", "brief s.4"),
    _p("insiders", "governance", int, 0, 0, 10, "firms", "dominant insider firms per region (fully connected to the akim) [preset]", "brief s.4; paper s.2 (dominant player)"),
    _p("connected_share", "governance", float, 0.05, 0.0, 1.0, "share", "share of other firms with some connection L to the akimat [preset]", "assumption"),
    # --- levers (Table 4 blocks) ---------------------------------------------------------------
    _p("transparency", "levers", float, 0.7, 0.0, 1.0, "0..1", "e-government: interactive website, online discussions, open annual reports [preset]", "paper Table 4 (information-technological)"),
    _p("audit_rate", "levers", float, 0.04, 0.0, 1.0, "probability", "probability that an audit detects a given paid bribe [preset]", "paper Table 4; literature (inspection game)"),
    _p("audit_penalty", "levers", float, 6.0, 0.0, 50.0, "bribes", "penalty of a caught official in multiples of the bribe", "literature (Becker 1968)"),
    _p("support_share", "levers", float, 0.10, 0.0, 0.5, "budget share", "grants and subsidies as a share of the regional budget", "paper Table 4 (financial and economic)"),
    _p("tax_benefit", "levers", float, 0.3, 0.0, 1.0, "share", "tax reduction for supported firms (share of their tax)", "paper Table 4 (tax benefits)"),
    _p("ppp_training", "levers", float, 0.3, 0.0, 1.0, "0..1", "training of officials in PPP: lowers project failure and disputes", "paper Table 4 (organizational and administrative)"),
    _p("legal_quality", "levers", float, 0.5, 0.0, 1.0, "0..1", "contract enforcement and property rights", "paper Table 4 (legal and regulatory); s.5"),
    _p("consultation", "levers", float, 1.0, 0.0, 1.0, "0..1", "consultation with business (business councils, online discussions) [preset]", "paper Table 4 (socio-political)"),
    _p("lifecycle_contracts", "levers", float, 0.3, 0.0, 1.0, "share", "share of PPP contracts that are life-cycle contracts (build and maintain)", "paper Table 4 (life cycle contracts)"),
    # --- dealings: the inspection game ---------------------------------------------------------
    _p("dealings_startup", "dealings", float, 3.0, 0.0, 20.0, "1/quarter", "mean dealings with officials of a start-up (first 4 quarters)", "assumption"),
    _p("dealings_growth", "dealings", float, 2.0, 0.0, 20.0, "1/quarter", "mean dealings of a growing firm (quarters 5-20)", "assumption"),
    _p("dealings_mature", "dealings", float, 1.2, 0.0, 20.0, "1/quarter", "mean dealings of a mature firm", "assumption"),
    _p("corruption_initial", "dealings", float, 0.35, 0.0, 1.0, "share", "initial share c of corrupt officials", "calibrated (paper Table 9: >50% meet corruption)"),
    _p("bribe_size", "dealings", float, 0.05, 0.0, 1.0, "output share", "bribe per demand as a share of quarterly output when officials hold all bargaining power", "assumption"),
    _p("bargaining_exponent", "dealings", float, 2.0, 0.1, 10.0, "", "phi in the bargaining share s = P^phi/(P^phi + B^phi)", "brief s.3"),
    _p("delay_cost", "dealings", float, 0.15, 0.0, 1.0, "output share", "cost of refusing a demand (delays, harassment) for a powerless firm under full power", "assumption"),
    _p("report_cost", "dealings", float, 0.01, 0.0, 1.0, "output share", "effort cost of reporting a demand", "assumption"),
    _p("retaliation", "dealings", float, 0.10, 0.0, 1.0, "output share", "retaliation after an unsuccessful report, for a powerless firm under full power", "assumption"),
    _p("choice_sensitivity", "dealings", float, 40.0, 0.0, 500.0, "1/output share", "logit sensitivity of the pay/refuse/report choice", "calibrated"),
    _p("detection_jump", "dealings", float, 0.3, 0.0, 1.0, "share", "jump of perceived detection toward 1 when the firm is caught paying (times the share of ties caught)", "Hokamp & Pickhardt 2010; Platas-Lopez et al."),
    _p("detection_decay", "dealings", float, 0.25, 0.0, 1.0, "1/quarter", "rate at which perceived detection returns to the true rate", "Hokamp & Pickhardt 2010"),
    _p("adaptation_rate", "dealings", float, 0.2, 0.0, 5.0, "1/quarter", "speed of officials' replicator adaptation between corrupt and honest", "Hammond 2000"),
    _p("official_mutation", "dealings", float, 0.01, 0.0, 0.2, "1/quarter", "drift of the corrupt share toward 1/2 (new officials)", "assumption"),
    # --- PPP -----------------------------------------------------------------------------------
    _p("ppp_share", "ppp", float, 0.10, 0.0, 0.5, "budget share", "budget share available for PPP co-financing", "assumption"),
    _p("ppp_cofinancing", "ppp", float, 0.3, 0.05, 1.0, "share", "public share of a PPP project's cost", "assumption"),
    _p("ppp_size", "ppp", float, 40.0, 0.1, 10000.0, "capital units", "cost of a PPP project", "assumption"),
    _p("ppp_bidder_strength", "ppp", float, 0.5, 0.0, 1.0, "B units", "business strength B a firm needs to bid for a PPP", "assumption"),
    _p("opportunism", "ppp", float, 0.04, 0.0, 1.0, "1/quarter", "base probability that a PPP partner acts opportunistically", "assumption"),
    _p("reneging", "ppp", float, 0.03, 0.0, 1.0, "1/quarter", "base probability that the akimat reneges on a PPP contract", "assumption"),
    _p("renegotiation", "ppp", float, 0.3, 0.0, 1.0, "1/quarter", "probability that a dispute is renegotiated (at full legal quality and trust)", "assumption"),
    _p("termination", "ppp", float, 0.1, 0.0, 1.0, "1/quarter", "probability that a dispute ends the contract (at zero legal quality)", "assumption"),
    # --- capture -------------------------------------------------------------------------------
    _p("capture_effort", "capture", float, 0.3, 0.0, 1.0, "1/quarter", "scale of the probability that a firm stronger than its akimat tries capture: effort (B - P) B^2", "assumption"),
    _p("capture_harassment", "capture", float, 1.0, 0.0, 5.0, "relative", "extra inspections of the captor's rivals", "brief s.3"),
    _p("capture_diversion", "capture", float, 0.15, 0.0, 1.0, "budget share", "budget share diverted to the captor", "brief s.3"),
    _p("capture_loss", "capture", float, 0.03, 0.0, 1.0, "1/quarter", "probability that a capture ends (at zero legal quality; higher with legal quality)", "assumption"),
    # --- economy -------------------------------------------------------------------------------
    _p("capital_elasticity", "economy", float, 0.9, 0.1, 1.0, "", "alpha in output Y = A K^alpha", "assumption"),
    _p("productivity", "economy", float, 0.12, 0.01, 10.0, "output/capital^alpha", "mean productivity A per quarter", "assumption"),
    _p("productivity_dispersion", "economy", float, 0.3, 0.0, 2.0, "log units", "standard deviation of log productivity", "assumption"),
    _p("tax_rate", "economy", float, 0.12, 0.0, 0.8, "output share", "taxes of formal firms", "assumption (KZ simplified regimes ~3-10% of turnover)"),
    _p("depreciation", "economy", float, 0.02, 0.0, 0.5, "1/quarter", "depreciation of firm capital", "assumption"),
    _p("fixed_cost", "economy", float, 0.01, 0.0, 10.0, "capital units/quarter", "fixed running cost of a firm", "assumption"),
    _p("reinvestment", "economy", float, 0.5, 0.0, 1.0, "profit share", "share of profit reinvested at full trust and no expropriation risk", "assumption"),
    _p("informality_burden", "economy", float, 0.25, 0.0, 2.0, "output share", "burden (taxes, bribes, delays) above which formal firms go informal", "assumption"),
    _p("informality_rate", "economy", float, 0.1, 0.0, 1.0, "1/quarter", "probability of switching formal/informal when the burden says so", "assumption"),
    _p("exit_losses", "economy", int, 4, 1, 40, "quarters", "consecutive loss-making quarters before exit", "assumption"),
    _p("entry_rate", "economy", float, 0.012, 0.0, 0.5, "1/quarter", "entrants per existing firm at a neutral climate", "assumption"),
    _p("central_transfer", "economy", float, 0.5, 0.0, 5.0, "tax units", "central transfer as a multiple of initial regional tax revenue", "assumption (KZ regions depend on transfers)"),
    # --- trust and satisfaction ----------------------------------------------------------------
    _p("trust_rate", "trust", float, 0.2, 0.0, 1.0, "1/quarter", "mu: speed of trust updating", "assumption"),
    _p("satisfaction_rate", "trust", float, 0.25, 0.0, 1.0, "1/quarter", "speed of satisfaction updating", "assumption"),
    _p("word_of_mouth", "trust", float, 0.1, 0.0, 1.0, "share", "weight of ties' satisfaction in a firm's own", "assumption"),
    _p("experience_scale", "trust", float, 20.0, 0.1, 1000.0, "1/output share", "scale turning net experience (output share) into satisfaction", "calibrated"),
    # --- tournament (Figure 2) ------------------------------------------------------------------
    _p("power_learning", "tournament", float, 0.04, 0.0, 1.0, "P/quarter", "eta: change of P per unit of evaluation rank above 1/2", "brief s.3"),
    _p("capture_penalty", "tournament", float, 0.005, 0.0, 1.0, "P/quarter", "kappa: loss of P while captured", "brief s.3"),
    _p("replacement_quantile", "tournament", float, 0.2, 0.0, 1.0, "share", "bottom quantile of akims at risk of replacement at the annual evaluation", "assumption"),
    _p("replacement_probability", "tournament", float, 0.3, 0.0, 1.0, "1/year", "probability that an akim in the bottom quantile is replaced", "assumption"),
    # --- residents and utilities ---------------------------------------------------------------
    _p("utility_quality", "residents", float, 0.6, 0.0, 1.0, "0..1", "initial quality of heat, water, power and gas supply", "calibrated (paper Table 6)"),
    _p("utility_depreciation", "residents", float, 0.02, 0.0, 0.5, "1/quarter", "decay of utility quality without maintenance", "assumption"),
    _p("maintenance_share", "residents", float, 0.3, 0.0, 1.0, "budget share", "budget share spent on utility maintenance", "assumption"),
    _p("ppp_quality_lift", "residents", float, 0.005, 0.0, 0.5, "1/quarter", "pull of a utility's quality toward 1 per operating PPP project in it", "assumption"),
    _p("resident_noise", "residents", float, 1.0, 0.0, 2.0, "latent units", "spread of residents' individual satisfaction around the regional level", "calibrated"),
    # --- observer ------------------------------------------------------------------------------
    _p("power_threshold", "observer", float, 0.5, 0.0, 1.0, "P", "theta_P: power at or above which power is 'strong' in the Table 1 quadrant", "paper Table 1"),
    _p("business_threshold", "observer", float, 0.5, 0.0, 1.0, "B", "theta_B: business strength at or above which business is 'strong'", "paper Table 1"),
    _p("interaction_threshold", "observer", float, 4.0, 1.0, 100.0, "events/year", "fewer interactions than this in the last 4 quarters reads as non-interference", "assumption"),
)
# fmt: on

BY_NAME: dict[str, Param] = {p.name: p for p in PARAMETERS}
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(p.section for p in PARAMETERS))
assert len(BY_NAME) == len(PARAMETERS), "parameter names must be unique"

#: The two governance models of the paper (s.2) as named parameter sets (brief s.4).
GOVERNANCE_PRESETS: dict[str, dict[str, Any]] = {
    "partnership": {
        "merit_weight": 0.9, "rent_weight": 0.0, "outsider_bias": 0.0, "insiders": 0,
        "connected_share": 0.05, "transparency": 0.7, "audit_rate": 0.04, "consultation": 1.0,
    },
    "symbiotic": {
        "merit_weight": 0.2, "rent_weight": 0.6, "outsider_bias": 1.5, "insiders": 2,
        "connected_share": 0.10, "transparency": 0.2, "audit_rate": 0.015, "consultation": 0.0,
    },
}

#: Keys of a scenario file that are not parameters.
META_KEYS = ("name", "description")


def defaults() -> dict[str, Any]:
    return {p.name: p.default for p in PARAMETERS}


def _suggest(key: str) -> str:
    near = difflib.get_close_matches(key, list(BY_NAME) + list(SECTIONS), n=1)
    return f" (did you mean '{near[0]}'?)" if near else ""


def resolve(values: dict[str, Any], origin: str = "parameters") -> dict[str, Any]:
    """Validate flat ``name -> value`` pairs and return the full resolved parameter set.

    The governance preset is applied under the given values: a value named explicitly
    wins over the preset of the chosen governance model.

    Raises:
        ScenarioError: unknown name, wrong type or out-of-range value (one line, names ``origin``).
    """
    checked: dict[str, Any] = {}
    for key, value in values.items():
        if key not in BY_NAME:
            raise ScenarioError(f"{origin}: unknown parameter '{key}'{_suggest(key)}")
        try:
            checked[key] = BY_NAME[key].check(value)
        except ValueError as err:
            raise ScenarioError(f"{origin}: '{key}' = {value!r} is not allowed; expected {err}") from None
    if "regions" in checked:
        from .regions import select  # the region data file is read only when regions are named

        try:
            select(checked["regions"])
        except ValueError as err:
            raise ScenarioError(f"{origin}: 'regions' = {checked['regions']!r} is not allowed; expected {err}") from None
    governance = checked.get("governance", BY_NAME["governance"].default)
    params = defaults() | GOVERNANCE_PRESETS[governance] | checked
    spent = params["maintenance_share"] + params["support_share"] + params["ppp_share"]
    if spent > 1.0:
        raise ScenarioError(f"{origin}: 'maintenance_share' + 'support_share' + 'ppp_share' = {spent:g} is not allowed; expected at most 1")
    if params["firm_ties"] % 2:
        raise ScenarioError(f"{origin}: 'firm_ties' = {params['firm_ties']} is not allowed; expected an even integer")
    return params


@dataclass
class Scenario:
    """A resolved scenario: its name, description, source file and full parameter set."""

    name: str
    params: dict[str, Any]
    description: str = ""
    path: str | None = None
    explicit: dict[str, Any] | None = None

    def with_overrides(self, **overrides: Any) -> "Scenario":
        """A copy with more parameters set; a governance override re-applies that preset
        under the scenario file's explicit values."""
        explicit = dict(self.explicit or {}) | {k: v for k, v in overrides.items() if v is not None}
        origin = f"{self.path or self.name} (overrides)"
        return Scenario(self.name, resolve(explicit, origin), self.description, self.path, explicit)


def read_scenario_file(path: str | Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Read a scenario TOML file into flat explicit parameters and metadata."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: malformed TOML: {err}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a UTF-8 text file") from None
    meta: dict[str, str] = {}
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if key in META_KEYS:
            if not isinstance(value, str):
                raise ScenarioError(f"{path}: '{key}' = {value!r} is not allowed; expected a string")
            meta[key] = value
        elif isinstance(value, dict):
            if key not in SECTIONS:
                raise ScenarioError(f"{path}: unknown section [{key}]{_suggest(key)}; sections are {', '.join(SECTIONS)}")
            for name, v in value.items():
                if name in BY_NAME and BY_NAME[name].section != key:
                    raise ScenarioError(f"{path}: '{key}.{name}' belongs in section [{BY_NAME[name].section}]")
                if name not in BY_NAME:
                    raise ScenarioError(f"{path}: unknown parameter '{key}.{name}'{_suggest(name)}")
                flat[name] = value[name]
        elif key in BY_NAME:
            flat[key] = value
        else:
            raise ScenarioError(f"{path}: unknown key '{key}'{_suggest(key)}")
    return flat, meta


def load_scenario(path: str | Path, **overrides: Any) -> Scenario:
    """Load and validate a scenario file, applying overrides (None values are ignored).

    Raises:
        ScenarioError: missing or malformed file, unknown key, wrong type, value out of range.
    """
    flat, meta = read_scenario_file(path)
    explicit = flat | {k: v for k, v in overrides.items() if v is not None}
    params = resolve(explicit, str(path))
    return Scenario(meta.get("name", Path(path).stem), params, meta.get("description", ""), str(path), explicit)
