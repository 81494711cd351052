"""The parameter registry: every number that shapes behaviour, declared once.

Each parameter has a type, a default, a range, a unit, a one-line meaning and a source;
``statebiz params`` lists them, experiments vary them, the calibration fits some of them,
and the ODD's parameter table is generated from them (``tools/param_table.py``). The
``structural`` section holds the constants of the mechanisms (shares, scales, thresholds
that the model's equations use): they are not fitted, but they are visible, documented and
can be varied like any other parameter.

Resolution order (later wins): declared defaults < governance preset (brief section 4)
< explicit values (scenario file, command line, keyword arguments). Names are unique across
sections, so every parameter can be given by its bare name (``run_model(audit_rate=0.2)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .io import InputError, suggest


class ScenarioError(InputError):
    """A scenario or override is invalid. The message is one line naming file, key and what is allowed."""


@dataclass(frozen=True)
class Param:
    """One declared parameter (``kind`` is int, float, str, bool, or tuple: a fixed-length list of numbers)."""

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

    @property
    def numeric(self) -> bool:
        """A single number (int or float) that a range of an experiment can vary."""
        return self.kind in (int, float)

    def allowed(self) -> str:
        """What this parameter accepts, in words (for one-line error messages)."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is tuple:
            return f"a list of {len(self.default)} numbers, each in [{self.low}, {self.high}]"
        kind = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}[self.kind]
        if self.low is not None and self.high is not None:
            return f"{kind} in [{self.low}, {self.high}]"
        return kind

    def check(self, value: Any) -> Any:
        """Return the value converted to this parameter's type, or raise ValueError with what is allowed."""
        if self.kind is tuple:
            if not isinstance(value, (list, tuple)) or len(value) != len(self.default):
                raise ValueError(self.allowed())
            items = []
            for v in value:
                if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or not self.low <= v <= self.high:
                    raise ValueError(self.allowed())
                items.append(float(v))
            return tuple(items)
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
    _p("burn_in", "run", int, 150, 0, 400, "quarters", "quarters simulated before reporting starts (not in the results). The stationarity diagnostic measures 177 at s = 0 and 112 at s = 1 on the current model and certifies neither the utility PPP contracts' echo at s = 0 nor the mean firm age and business satisfaction at s = 1 within 200 quarters (docs/ODD.md 9); 150 is kept because the shipped calibration was fitted at it, with its residual bias measured (Table 6 cells up to 3.5 pp from their long-run level, the other tables within 1 pp: docs/calibration/MEASURED.md 19, ODD limitation 23)", "measured (statebiz dynamics stationarity; tools/ppp_echo.py)"),
    _p("start", "run", str, "cold", meaning="how a run reaches its stationary state: 'cold' simulates burn_in quarters from the world of quarter 0; 'warm' starts from the stored state after the burn-in of a snapshot of its parameters (simulation/snapshots.py: a pool of warm_pool per parameter set, built on first use) and simulates warm_burn_in quarters", source="issue 24 (warm starts); docs/ODD.md 5", choices=("cold", "warm")),
    _p("warm_pool", "run", int, 1_000_000, 1, 1_000_000_000, "snapshots", "snapshots per key that warm runs start from (a run of seed u from member u mod warm_pool; members are built when first used): runs that share a member stay alike in their slow states for longer than 80 quarters, so the default gives every seed its own", "measured (tools/warm_burn_in.py, runs sharing a snapshot; docs/ODD.md 5)"),
    _p("warm_burn_in", "run", int, 12, 1, 400, "quarters", "the last quarters of the burn-in that a warm run simulates itself, from a snapshot taken at burn_in - warm_burn_in", "measured (tools/warm_burn_in.py, snapshots at the end of the burn-in: nested R-hat of warm against cold chains below 1.1 after 1 quarter for every outcome at the calibrated point and s = 0 and after 12 at s = 1, but the mean firm age, which drifts in cold chains too; a second measurement did not resolve it, docs/ODD.md 5)"),
    # --- world -----------------------------------------------------------------------------
    _p("regions", "world", str, "turkestan", meaning="comma-separated region ids from data/kazakhstan_regions.toml, or 'all' for the 20 akimats", source="data file"),
    _p("firms", "world", int, 5000, 10, 5_000_000, "firms", "initial number of firms, shared among regions by population", "assumption (scale)"),
    _p("residents_per_region", "world", int, 1000, 198, 1_000_000, "residents", "resident agents per region (the pool from which a survey would sample 198, as in Table 2)", "paper Table 2 (sample 198)"),
    _p("power_strength", "world", float, 0.6, 0.0, 1.0, "0..1", "mean initial power strength P of the akimats (fiscal and administrative capacity)", "calibrated"),
    _p("power_spread", "world", float, 0.1, 0.0, 0.5, "0..1", "standard deviation of initial P across regions", "assumption"),
    _p("business_strength", "world", float, 0.3, 0.01, 0.99, "0..1", "business strength B of the output-weighted median firm (sets firms' capital against the akimat's)", "calibrated"),
    _p("capital_dispersion", "world", float, 1.6, 0.1, 4.0, "log units", "standard deviation of log initial capital (heavy tail of firm sizes)", "assumption (lognormal firm sizes)"),
    _p("strength_slope", "world", float, 0.8, 0.1, 5.0, "1/log unit", "slope of business strength B in log capital (the capital of the firm's rank in its region on the log-normal scale of the region's firms without their Pareto factor, formulas.rank_capital)", "assumption"),
    _p("association_share", "world", float, 0.15, 0.0, 1.0, "share", "share of firms in a business association", "assumption"),
    _p("association_bonus", "world", float, 0.15, 0.0, 0.5, "B units", "rise in business strength B from association membership", "assumption"),
    _p("firm_ties", "world", int, 6, 2, 40, "ties", "ties per firm in the small-world firm network (even number)", "assumption (Watts-Strogatz)"),
    _p("tie_rewiring", "world", float, 0.1, 0.0, 1.0, "probability", "rewiring probability of the small-world firm network", "assumption (Watts-Strogatz)"),
    # --- governance (brief section 4; presets below) ------------------------------------------
    _p("governance", "governance", str, "partnership", meaning="named governance model: 'partnership' sets symbiosis s = 0, 'symbiotic' s = 1 (an explicit symbiosis wins)", source="paper s.2, brief s.4", choices=("partnership", "symbiotic")),
    _p("symbiosis", "governance", float, 0.0, 0.0, 1.0, "0..1", "s: symbiosis index of power and business (0 the partnership model, 1 the symbiotic); the governance strengths below act in proportion to s", "paper s.2 (partnership vs symbiosis), brief s.8"),
    _p("favouritism", "governance", float, 0.8, 0.0, 1.0, "0..1", "weight of connections instead of merit in tenders and support at s = 1 (merit weight theta = 1 - s x favouritism)", "brief s.4"),
    _p("rent_weight", "governance", float, 0.6, 0.0, 1.0, "0..1", "akim's weight on rents at s = 1 (w_R = s x rent_weight)", "brief s.4"),
    _p("outsider_bias", "governance", float, 1.5, 0.0, 5.0, "relative", "extra bribe-demand and inspection intensity against outsiders at s = 1 (s x outsider_bias)", "brief s.4"),
    _p("insiders", "governance", int, 2, 0, 10, "firms", "dominant insider firms per region at s = 1 (round(s x insiders), fully connected to the akim)", "brief s.4; paper s.2 (dominant player)"),
    _p("connected_share", "governance", float, 0.05, 0.0, 0.5, "share", "share of other firms with some connection L to the akimat at s = 0 (x (1 + s): clienteles grow with symbiosis)", "assumption"),
    # --- levers (Table 4 blocks) ---------------------------------------------------------------
    _p("transparency", "levers", float, 0.5, 0.0, 1.0, "0..1", "e-government: interactive website, online discussions, open annual reports", "paper Table 4 (information-technological)"),
    _p("audit_rate", "levers", float, 0.03, 0.0, 1.0, "probability", "probability that an audit detects a given paid bribe", "paper Table 4; literature (inspection game)"),
    _p("audit_penalty", "levers", float, 0.1, 0.0, 20.0, "typical firm outputs", "penalty of a caught official (fine, lost post), in quarters of the region's typical firm output (formulas.lognormal_mean: the mean of a log-normal with the median and interquartile spread of the region's firm outputs; the mean firm output in a log-normal economy, but not set by the few dominant firms of a Pareto tail): money, not bribes", "Becker 1968; Becker & Stigler 1974"),
    _p("support_share", "levers", float, 0.10, 0.0, 0.5, "budget share", "grants and subsidies as a share of the regional budget", "paper Table 4 (financial and economic)"),
    _p("tax_benefit", "levers", float, 0.3, 0.0, 1.0, "share", "tax reduction for supported firms (share of their tax)", "paper Table 4 (tax benefits)"),
    _p("ppp_training", "levers", float, 0.3, 0.0, 1.0, "0..1", "training of officials in PPP: lowers project failure and disputes", "paper Table 4 (organizational and administrative)"),
    _p("legal_quality", "levers", float, 0.5, 0.0, 1.0, "0..1", "contract enforcement and property rights", "paper Table 4 (legal and regulatory); s.5"),
    _p("consultation", "levers", float, 0.5, 0.0, 1.0, "0..1", "consultation with business (business councils, online discussions)", "paper Table 4 (socio-political)"),
    _p("lifecycle_contracts", "levers", float, 0.3, 0.0, 1.0, "share", "share of PPP contracts that are life-cycle contracts (build and maintain)", "paper Table 4 (life cycle contracts)"),
    # --- dealings: the inspection game ---------------------------------------------------------
    _p("dealings_startup", "dealings", float, 2.0, 0.0, 20.0, "1/quarter", "mean dealings with officials of a start-up (first 4 quarters)", "assumption"),
    _p("dealings_growth", "dealings", float, 1.5, 0.0, 20.0, "1/quarter", "mean dealings of a growing firm (quarters 5-20)", "assumption"),
    _p("dealings_mature", "dealings", float, 1.0, 0.0, 20.0, "1/quarter", "mean dealings of a mature firm", "assumption"),
    _p("bribe_size", "dealings", float, 0.05, 0.0, 1.0, "output share", "bribe per demand as a share of quarterly output when officials hold all bargaining power", "assumption"),
    _p("bargaining_exponent", "dealings", float, 2.0, 0.1, 10.0, "", "phi in the bargaining share s = P^phi/(P^phi + B^phi)", "brief s.3"),
    _p("delay_cost", "dealings", float, 0.15, 0.0, 1.0, "output share", "value of the full delay an official can impose on a dealing (the forgone output while an approval waits; also the cost of refusing a demand: delays, harassment), for a powerless firm under full power: the firm's value of time", "assumption"),
    _p("report_cost", "dealings", float, 0.01, 0.0, 1.0, "output share", "effort cost of reporting a demand", "assumption"),
    _p("retaliation", "dealings", float, 0.10, 0.0, 1.0, "output share", "retaliation after an unsuccessful report, for a powerless firm under full power", "assumption"),
    _p("choice_sensitivity", "dealings", float, 40.0, 0.0, 500.0, "1/output share", "logit sensitivity of the pay/refuse/report choice", "calibrated"),
    _p("detection_jump", "dealings", float, 0.3, 0.0, 1.0, "share", "jump of perceived detection toward 1 when the firm is caught paying (times the share of ties caught)", "Hokamp & Pickhardt 2010; Korobow, Johnson & Axtell 2007; Andrei, Comer & Koehler 2014"),
    _p("detection_decay", "dealings", float, 0.25, 0.0, 1.0, "1/quarter", "rate at which perceived detection returns to the true rate", "Hokamp & Pickhardt 2010"),
    _p("moral_cost", "dealings", float, 0.01, 0.0001, 1.0, "mean firm outputs", "median moral cost of being corrupt, per quarter and per firm an official serves, in the region's mean quarterly firm output", "Andvig & Moene 1990; Mishra 2006 (dispersed moral costs)"),
    _p("moral_cost_spread", "dealings", float, 2.0, 0.05, 5.0, "log units", "dispersion (log sd) of officials' moral costs", "Andvig & Moene 1990; Mishra 2006"),
    # --- PPP -----------------------------------------------------------------------------------
    _p("ppp_share", "ppp", float, 0.10, 0.0, 0.5, "budget share", "budget share available for PPP co-financing", "assumption"),
    _p("ppp_cofinancing", "ppp", float, 0.3, 0.05, 1.0, "share", "public share of a PPP project's cost", "assumption"),
    _p("ppp_size", "ppp", float, 40.0, 0.1, 10000.0, "capital units", "cost of the PPP project an akimat plans and reserves co-financing for; the tender sizes it down to what its partner can carry (ppp_equity_capacity)", "assumption"),
    _p("ppp_bid_exponent", "ppp", float, 4.0, 0.0, 20.0, "", "a firm bids for a PPP tender with probability B to this power (a project needs capacity)", "assumption"),
    _p("opportunism", "ppp", float, 0.04, 0.0, 1.0, "1/quarter", "base probability that a PPP partner acts opportunistically", "assumption"),
    _p("reneging", "ppp", float, 0.03, 0.0, 1.0, "1/quarter", "base probability that the akimat reneges on a PPP contract", "assumption"),
    _p("renegotiation", "ppp", float, 0.3, 0.0, 1.0, "1/quarter", "probability that a dispute is renegotiated (at full legal quality and trust)", "assumption"),
    _p("termination", "ppp", float, 0.1, 0.0, 1.0, "1/quarter", "probability that a dispute ends the contract (at zero legal quality)", "assumption"),
    # --- capture -------------------------------------------------------------------------------
    _p("capture_effort", "capture", float, 0.3, 0.0, 1.0, "1/quarter", "scale of the probability that a firm tries capture: capture_effort x B^k x (1 - exp(-E/(retaliation P))) for an expected payoff E > 0", "assumption"),
    _p("capture_harassment", "capture", float, 1.0, 0.0, 5.0, "relative", "extra inspections of the captors' rivals when the captors hold all of the region's output (in proportion to their output share)", "brief s.3"),
    _p("capture_diversion", "capture", float, 0.15, 0.0, 1.0, "budget share", "budget share diverted to the captor", "brief s.3"),
    _p("capture_loss", "capture", float, 0.03, 0.0, 1.0, "1/quarter", "probability that a capture ends (at zero legal quality; higher with legal quality)", "assumption"),
    # --- economy -------------------------------------------------------------------------------
    _p("capital_elasticity", "economy", float, 0.5, 0.1, 1.0, "", "alpha in output Y = A K^alpha", "assumption"),
    _p("productivity", "economy", float, 0.4, 0.01, 10.0, "output/capital^alpha", "productivity A per quarter of the firms' lognormal body (its mean; the Pareto tail factor of size_tail_exponent has median 1 and multiplies it)", "assumption"),
    _p("productivity_dispersion", "economy", float, 0.3, 0.0, 2.0, "log units", "standard deviation of log productivity", "assumption"),
    _p("tax_rate", "economy", float, 0.12, 0.0, 0.8, "output share", "taxes of formal firms", "assumption (KZ simplified regimes ~3-10% of turnover)"),
    _p("depreciation", "economy", float, 0.05, 0.0, 0.5, "1/quarter", "depreciation of firm capital", "assumption"),
    _p("fixed_cost", "economy", float, 0.01, 0.0, 10.0, "capital units/quarter", "fixed running cost of a firm", "assumption"),
    _p("reinvestment", "economy", float, 0.5, 0.0, 1.0, "profit share", "share of profit reinvested at full trust and no expropriation risk", "assumption"),
    _p("informality_burden", "economy", float, 0.25, 0.0, 2.0, "output share", "burden (taxes, bribes, delays) above which formal firms go informal", "assumption"),
    _p("informality_rate", "economy", float, 0.1, 0.0, 1.0, "1/quarter", "probability of switching formal/informal when the burden says so", "assumption"),
    _p("exit_losses", "economy", int, 4, 1, 40, "quarters", "consecutive loss-making quarters before exit", "assumption"),
    _p("exit_hazard", "economy", float, 0.025, 0.0, 0.5, "1/quarter", "exogenous exit hazard of a firm (owner retirement, demand shocks), the mean over a region's firms (it falls with size and age: exit_size_elasticity, exit_age_elasticity); entry replaces it at a neutral climate", "Hopenhayn 1992; business demography: about 10% of enterprises close a year"),
    _p("central_transfer", "economy", float, 0.5, 0.0, 5.0, "tax units", "central transfer to a region whose subventions per head are the national mean, as a multiple of its initial tax revenue; regions get it in proportion to their official subventions per head (equalisation)", "Budget Code of Kazakhstan (subventions equalise); data/kazakhstan_regions.toml"),
    # --- trust and satisfaction ----------------------------------------------------------------
    _p("trust_rate", "trust", float, 0.2, 0.0, 1.0, "1/quarter", "mu: speed of trust updating", "assumption"),
    _p("satisfaction_rate", "trust", float, 0.25, 0.0, 1.0, "1/quarter", "speed of satisfaction updating", "assumption"),
    _p("word_of_mouth", "trust", float, 0.1, 0.0, 1.0, "share", "weight of ties' satisfaction in a firm's own", "assumption"),
    _p("experience_scale", "trust", float, 20.0, 0.1, 1000.0, "1/output share", "scale turning net experience (output share) into satisfaction", "calibrated"),
    # --- tournament (Figure 2) ------------------------------------------------------------------
    _p("power_learning", "tournament", float, 0.04, 0.0, 1.0, "P/quarter", "eta: change of P per unit of evaluation rank above 1/2", "brief s.3"),
    _p("symbiosis_step", "tournament", float, 0.0, 0.0, 0.2, "s/quarter", "option: step of the akim's quarterly choice of the symbiosis index s among s - step, s, s + step by expected Figure 2 gain against the risk of replacement (docs/ODD.md 7.9); 0 keeps s a setting", "paper s.2 (Figure 2 gives akims an interest in symbiosis); Holmström 1999; Li and Zhou 2005"),
    _p("replacement_quantile", "tournament", float, 0.2, 0.0, 1.0, "share", "bottom quantile of akims at risk of replacement at the annual evaluation (with fewer than 3 regions: the score below which an akim is at risk)", "assumption"),
    _p("replacement_probability", "tournament", float, 0.3, 0.0, 1.0, "1/year", "probability that an akim in the bottom quantile is replaced", "assumption"),
    # --- residents and utilities ---------------------------------------------------------------
    _p("utility_quality", "residents", float, 0.6, 0.0, 1.0, "0..1", "quality of a utility network of the mean wear (each utility's own follows from its network's wear, data/utilities.toml, ODD 7.10)", "calibrated (paper Table 6)"),
    _p("utility_depreciation", "residents", float, 0.02, 0.0, 0.5, "1/quarter", "decay of utility quality without maintenance", "assumption"),
    _p("maintenance_share", "residents", float, 0.3, 0.0, 1.0, "budget share", "budget share spent on utility maintenance", "assumption"),
    _p("ppp_quality_lift", "residents", float, 0.005, 0.0, 0.5, "1/quarter", "pull of a utility's quality toward 1 per operating PPP project in it", "assumption"),
    _p("resident_noise", "residents", float, 1.0, 0.0, 2.0, "latent units", "spread of residents' individual perception of one domain around the regional level (a utility; each of the authorities' three domains, whose composite spreads wider, ODD 7.10)", "calibrated"),
    # --- structural constants of the mechanisms (not fitted; documented and variable) ---------
    # initialisation
    _p("akimat_size_elasticity", "structural", float, 0.5, 0.0, 2.0, "", "elasticity of the capital a firm needs to match its akimat with respect to the region's GRP share (a firm the size of a big-city akimat's match dominates a small region)", "assumption"),
    _p("long_ties", "structural", int, 2, 0, 20, "ties", "long ties of each large firm to large firms of neighbouring regions", "brief s.2 (a few long ties for large firms)"),
    _p("corruption_initial", "structural", float, 0.3, 0.0, 1.0, "share", "initial share c of corrupt officials (an initial condition: the stationary level does not depend on it)", "assumption"),
    _p("connected_from", "structural", float, 0.5, 0.0, 1.0, "L", "connection L from which a firm counts as connected to the akimat (not an outsider in dealings; an insider in the support statistics)", "assumption"),
    _p("connection_min", "structural", float, 0.3, 0.0, 1.0, "L", "lowest connection L of a connected firm (connections are uniform between this and 1)", "assumption"),
    _p("micro_capital", "structural", float, 1.5, 0.0, 1000.0, "capital units", "capital below which a firm is micro (the median firm has about 0.65; after the burn-in about 83-85% of firms are micro, 14% small, 1-2% medium and under 1% large, national and Turkestan runs)", "assumption (size classes); Kazakhstan SME statistics (mostly micro firms, medium and large each well under 1% of entities)"),
    _p("small_capital", "structural", float, 3.5, 0.0, 1000.0, "capital units", "capital below which a firm is small, from micro_capital on (Figure 2 counts micro and small firms)", "assumption (size classes)"),
    _p("medium_capital", "structural", float, 5.0, 0.0, 1000.0, "capital units", "capital below which a firm is medium, from small_capital on; from it on, large", "assumption (size classes)"),
    # dealings
    _p("startup_age", "structural", int, 4, 1, 400, "quarters", "age below which a firm is a start-up (its dealings rate is dealings_startup)", "assumption"),
    _p("mature_age", "structural", int, 20, 1, 400, "quarters", "age from which a firm is mature (dealings_mature); between the two it is growing", "assumption"),
    _p("dealings_power", "structural", float, 1.0, 0.0, 3.0, "", "elasticity of a firm's dealings with respect to the akimat's power P (dealings scale with reach x P^this; 0 is the null model in which dealings do not depend on P)", "assumption; brief s.8 (null model)"),
    _p("dealings_reach", "structural", float, 2.0, 0.0, 10.0, "1/P", "administrative reach: dealings scale with reach x P (at P = 1/2 a firm has its life stage's rate)", "assumption"),
    _p("outsider_inspection_share", "structural", float, 0.5, 0.0, 1.0, "share", "extra dealings of outsiders as a share of their extra bribe demands (outsider_bias)", "assumption"),
    _p("informal_dealings", "structural", float, 0.5, 0.0, 1.0, "relative", "dealings of an informal firm relative to a formal one (informal firms avoid officials)", "assumption"),
    _p("informal_demand", "structural", float, 1.5, 1.0, 5.0, "relative", "bribe-demand intensity toward an informal firm relative to a formal one", "assumption"),
    _p("transparency_demand", "structural", float, 0.5, 0.0, 1.0, "1/transparency", "fall per unit of transparency of the probability that a corrupt official takes a bribe in a dealing, demanded or offered (open data expose both alike)", "assumption"),
    _p("visibility_base", "structural", float, 0.5, 0.0, 1.0, "0..1", "visibility of the weakest firm to officials (visibility = base + (1 - base) B)", "assumption"),
    _p("transparency_detection", "structural", float, 0.15, 0.0, 1.0, "probability", "probability per unit of transparency that open data expose a paid bribe", "assumption"),
    _p("giver_penalty", "structural", float, 0.2, 0.0, 1.0, "share", "fine of a firm caught paying a bribe, in quarters of its own output, as a share of the official's penalty (the giver is often treated as extorted)", "assumption"),
    _p("discretionary_share", "structural", float, 0.5, 0.0, 1.0, "share", "share of a firm's dealings it can put off or avoid when they cost more (permits, approvals; inspections cannot be avoided)", "Choi & Thum 2003; assumption"),
    _p("queue_share", "structural", float, 0.5, 0.0, 1.0, "share", "delay an honest official's queue imposes on a dealing, as a share of the full delay a corrupt official who is not paid imposes (1: a pure queue, corruption creates no delay, Lui 1985; below 1: corrupt officials create delay to extract, Kaufmann & Wei 1999)", "Lui 1985; Kaufmann & Wei 1999 (sign); assumption (size)"),
    _p("home_share", "structural", float, 0.7, 0.0, 1.0, "share", "share of a firm's dealings handled by its home official (the same inspector or desk), the rest by officials at random", "Olken & Barron 2009; Svensson 2003"),
    _p("official_rotation", "structural", float, 0.125, 0.0, 1.0, "1/quarter", "rate at which a firm's home official is rotated; new and rotated officials decide anew, so it is also the speed at which the corrupt share adjusts", "assumption (rotation every 2 years)"),
    _p("rent_stake", "structural", float, 1.0, 0.0, 10.0, "relative", "extra stake of a subsoil-use or large-project dealing (licences, subsoil-use contracts, environmental permits) over an ordinary one: the bribe asked and the harm of a refusal are (1 + this) times an ordinary dealing's, because the official can hold up the resource rent; such dealings are those of the extractive and large-project segment, the largest formal firms of a region producing its mining share of GRP (data/kazakhstan_regions.toml; the marginal firm for the part of its output the mining share still needs), and cannot be put off; the rent's hold-up does not fall with the firm's strength B (a licence is a veto the state holds over any firm: h = P (1 - B + rent_stake x extractive share))", "Ades & Di Tella 1999; Leite & Weidmann 1999; Knutsen et al. 2017 (rents raise corruption); assumption (size: the rent doubles the stake)"),
    _p("informal_fine_quarters", "structural", float, 4.0, 0.0, 40.0, "quarters of tax", "fine of an informal firm found out in a dealing, in quarters of its tax", "assumption"),
    # economy
    _p("labour_share", "structural", float, 0.5, 0.0, 1.0, "output share", "share of output paid as wages", "assumption"),
    _p("output_shock", "structural", float, 0.1, 0.0, 1.0, "log units", "standard deviation of the quarterly log output shock", "assumption"),
    _p("dispute_loss", "structural", float, 0.05, 0.0, 1.0, "output share", "output lost per PPP dispute a firm is party to in a quarter", "assumption"),
    _p("tax_morale", "structural", float, 0.5, 0.0, 2.0, "relative", "rise of the burden a firm bears before going informal per unit of satisfaction (tax morale)", "Torgler 2007"),
    _p("trust_investment_floor", "structural", float, 0.5, 0.0, 1.0, "share", "share of the intended reinvestment a firm makes at zero trust (rising linearly to 1 at full trust)", "assumption"),
    _p("min_capital", "structural", float, 0.01, 0.0, 1.0, "capital units", "capital below which a firm exits", "assumption"),
    _p("entrant_capital", "structural", float, 0.3, 0.001, 10.0, "capital units", "median capital of an entrant", "assumption"),
    _p("entrant_dispersion", "structural", float, 0.5, 0.0, 2.0, "share", "spread of entrants' log capital as a share of capital_dispersion", "assumption"),
    _p("size_tail_exponent", "structural", float, 1.06, 0.5, 5.0, "", "Pareto exponent of the upper tail of firm employment at the steady state: each firm's productivity has a Pareto factor (median 1) with exponent this x jobs_elasticity / (1 - capital_elasticity) for the initial firms (the stationary stock) and (this + exit_size_elasticity) x jobs_elasticity / (1 - capital_elasticity) for entrants (a hazard falling as jobs^-b lengthens large firms' lives as jobs^b, so survivors' tail is the entrants' minus b), so that steady-state staff have this tail (formulas.productivity_tail)", "Axtell 2001 (US firms by employment: 1.06; about 1-1.5 in most economies); Pareto productivity as in Helpman, Melitz & Yeaple 2004, Luttmer 2007"),
    _p("exit_size_elasticity", "structural", float, 0.2, 0.0, 2.0, "", "elasticity of a firm's exit hazard (for reasons outside the model) with respect to its employment, relative to its region's mean hazard (formulas.exit_hazard)", "Evans 1987; Dunne, Roberts & Samuelson 1989 (exit falls with size); assumption (size: the hazard is about 60% lower at 300 jobs than at 3)"),
    _p("exit_age_elasticity", "structural", float, 0.3, 0.0, 2.0, "", "elasticity of a firm's exit hazard (for reasons outside the model) with respect to 1 + its age in years, relative to its region's mean hazard (formulas.exit_hazard)", "Evans 1987; Dunne, Roberts & Samuelson 1989 (exit falls with age); assumption (size: the hazard about halves from entry to 10 years)"),
    _p("climate_trust_base", "structural", float, 0.5, 0.0, 5.0, "", "entry climate at zero trust (climate = (base + mean trust)(1 - climate_corruption incidence))", "assumption"),
    _p("climate_corruption", "structural", float, 0.5, 0.0, 1.0, "share", "fall of the entry climate per unit of corruption incidence", "assumption"),
    _p("jobs_per_capital", "structural", float, 0.47, 0.0, 100.0, "jobs", "staff of a firm with one capital unit (jobs = 1 + this x K^jobs_elasticity): sets the scale of employment, so that the share of firms with more than 100 jobs is Kazakhstan's (0.20% of operating enterprises); the median firm then has about 1.5 jobs (68% of operating SMEs are individual entrepreneurs)", "Bureau of National Statistics 2023-24 (simulation/data/enterprises.toml): 4,003 enterprises with more than 100 employees of 2,003,732 operating; the model's share above 100 jobs at the defaults matches at 0.53 and 0.42 (national, 5,000 firms, burn-in 150, seeds 1-2; tools/firm_sizes.py); was 3.0, an assumption, which gave 1.7%"),
    _p("jobs_elasticity", "structural", float, 0.94, 0.0, 2.0, "", "elasticity of a firm's staff with respect to its capital (at the steady state output is proportional to capital, so also with respect to output): the ratio of the Pareto exponents of firm sizes by receipts and by employment, so that with size_tail_exponent for employment, output's tail has the receipts' exponent (about 1) and its mean is not set by a single firm", "Axtell 2001 (US firms, 1997: receipts 0.994, employment 1.059; 0.994 / 1.059 = 0.94)"),
    _p("stationary_sizes", "structural", bool, False, None, None, "", "whether the initial firms' ages are drawn jointly with their sizes from the stationary stock (formulas.stationary_stock: a firm's age from the survival of a firm of its own productivity and entry capital, so the productive firms start large and old, as they are at the stationary state). False (the default, as the shipped calibration was fitted): ages from the stationary distribution of the exit hazard's age part alone, independent of size, which starts the firms' size tail thin and young: the stock's capital then grows for hundreds of quarters (docs/calibration/MEASURED.md 21)", "Luttmer 2007 (stationary size distribution of entrants weighted by their survival); docs/calibration/MEASURED.md 21"),
    # support
    _p("kickback", "structural", float, 0.2, 0.0, 1.0, "share", "share of a grant that a corrupt home official takes back, at full bargaining power (times the bargaining share)", "Olken 2007 (about a quarter of road funds missing); assumption"),
    _p("support_compliance", "structural", float, 0.25, 0.0, 1.0, "share", "share of a grant's value lost to compliance (applications, reporting, co-financing conditions)", "assumption"),
    _p("grant", "structural", float, 0.2, 0.001, 100.0, "capital units", "typical grant (about two-thirds of a quarter's output of the median firm)", "assumption"),
    _p("youth_programme", "structural", bool, True, None, None, "", "owners under 30 may also apply to the youth window of the support programmes (selected by either window)", "Business Roadmap 2025 grants for young entrepreneurs and Zhas Kasipker (youth up to 29); ODD 7.4"),
    _p("apply_base", "structural", float, 0.3, 0.0, 1.0, "probability", "probability that a formal firm with zero trust applies for support", "assumption"),
    _p("apply_trust", "structural", float, 0.5, 0.0, 1.0, "probability", "rise in the probability of applying for support from zero to full trust", "assumption"),
    _p("connection_weight", "structural", float, 3.0, 0.0, 20.0, "merit sd per L", "weight of the connection L against merit (in standard deviations) in support and tender scores", "assumption"),
    # PPP
    _p("construction_quarters", "structural", int, 4, 1, 40, "quarters", "shortest construction of a PPP project (plus a Poisson number of quarters)", "assumption"),
    _p("construction_delay", "structural", float, 2.0, 0.0, 40.0, "quarters", "mean extra construction quarters of a PPP project whose partner waits the full delay on its approvals (Poisson; x the share of the full approval delay the partner waited this quarter)", "assumption"),
    _p("operation_quarters", "structural", int, 20, 1, 200, "quarters", "operation phase of a PPP contract", "assumption"),
    _p("operation_spread", "structural", float, 0.0, 0.0, 0.9, "share of operation_quarters", "half-width of the spread of a PPP contract's operation phase: a contract going into operation operates round(operation_quarters x (1 + spread x (2u - 1))) quarters, u uniform, and its debt is serviced over them; 0 (the default): every contract operates operation_quarters, and the first wave of contracts echoes for hundreds of quarters (docs/calibration/MEASURED.md 19)", "assumption: PPP terms vary from contract to contract (e.g. a 12-year concession for five kindergartens in Semey, Kazinform, 2 December 2015; docs/calibration/MEASURED.md 20); 0 keeps the term fixed, as the shipped calibration was fitted"),
    _p("ppp_equity_share", "structural", float, 0.2, 0.05, 1.0, "share", "the partner's equity as a share of a PPP project's private finance; the rest is the project company's debt, repaid out of the availability payments (1 is the partner financing the whole private share itself)", "EPEC/EIB: typically 10-25% of a PPP's capital cost is equity, the rest debt; Yescombe 2007 (project finance of PPPs); data/ppp_record.toml"),
    _p("ppp_equity_capacity", "structural", float, 0.5, 0.01, 1.0, "share", "share of its capital a firm can commit as equity to a PPP project company: a tender is sized to its winner, and a partner that steps in must carry the whole equity (prequalification on net worth)", "assumption (prequalification on the bidder's net worth)"),
    _p("partner_return", "structural", float, 0.05, 0.0, 1.0, "cost share/quarter", "availability payment to the PPP project company a quarter, as a share of the cost (20 quarters repay the cost); the partner earns it less the company's debt service", "assumption"),
    _p("jobs_per_cost", "structural", float, 0.5, 0.0, 10.0, "jobs per capital unit", "construction jobs per capital unit spent in a quarter", "assumption"),
    _p("opportunism_trust", "structural", float, 1.5, 1.0, 5.0, "", "a partner's opportunism scales with (this - T): trust restrains it", "assumption"),
    _p("lifecycle_effect", "structural", float, 0.5, 0.0, 1.0, "share", "fall of partner opportunism under a life-cycle contract, and the extra quality lift of its operation", "paper Table 4 (life cycle contracts)"),
    _p("training_effect", "structural", float, 0.5, 0.0, 1.0, "share", "fall of opportunism and reneging per unit of PPP training", "paper Table 4 (organizational and administrative)"),
    _p("legal_reneging", "structural", float, 0.5, 0.0, 1.0, "share", "fall of the akimat's reneging per unit of legal quality", "assumption"),
    # plan, capture, tournament, trust
    _p("quality_target", "structural", float, 0.8, 0.0, 1.0, "0..1", "utility quality the akimat aims for; a utility below it lags and gets PPP tenders", "assumption"),
    _p("ppp_fund_lapse", "structural", bool, False, None, None, "", "whether the PPP fund's unreserved balance lapses into the budget at the start of each fiscal year (every fourth quarter), where the year's plan splits it again. False (the default, as the shipped calibration was fitted): the fund keeps what no tender used, and grows without bound wherever tenders use less than the budget's PPP line (by quarter 154 of a fit run about 20 quarters of the whole budget; docs/calibration/MEASURED.md 24)", "Lienert & Jung 2004 (annual appropriations lapse at the end of the fiscal year); docs/calibration/MEASURED.md 24"),
    _p("tender_pipeline", "structural", bool, False, None, None, "", "whether the akimat counts its supply line: it tenders for a lagging utility only while no contract for that utility is being built in its region. False (the default, as the shipped calibration was fitted): it tenders for every lagging utility every quarter, so contracts pile up during construction, overshoot the target and end together, and the first wave echoes for hundreds of quarters (docs/calibration/MEASURED.md 19-20)", "Sterman 1989 (decision makers who neglect the supply line overshoot and oscillate); docs/calibration/MEASURED.md 20"),
    _p("rent_base", "structural", float, 0.5, 0.0, 1.0, "share", "share of the rent weight realised when no official is corrupt (rent share = w_R (1 - transparency)(base + (1 - base) c))", "assumption"),
    _p("capture_strength_exponent", "structural", float, 2.0, 0.0, 10.0, "", "a capture attempt needs resources: its probability scales with B to this power", "assumption"),
    _p("legal_capture_loss", "structural", float, 2.0, 0.0, 20.0, "", "a capture ends faster with legal quality: capture_loss x (1 + this x legal_quality)", "assumption"),
    _p("power_anchor", "structural", float, 0.05, 0.0, 1.0, "1/quarter", "pull of P back toward the region's structural power P0 (the centre's fiscal rules and appointments)", "assumption"),
    _p("growth_scale", "structural", float, 0.05, 0.001, 1.0, "growth rate", "scale of the logistic score of KPI growth when fewer than 3 regions can be ranked", "assumption"),
    _p("consultation_voice", "structural", float, 0.5, 0.0, 1.0, "share", "a firm that took part in consultation in the last year has its reports of bribe demands upheld as if legal quality were raised by this share of the gap to 1", "Duvanova 2014"),
    _p("plan_sensitivity", "structural", float, 20.0, 0.0, 1000.0, "1/score", "logit sensitivity of the akim's choice among budget plans by expected gain on its objective", "McFadden 1974; bounded rationality"),
    # utilities and residents
    _p("maintenance_cap", "structural", float, 1.5, 1.0, 10.0, "relative", "cap on maintenance relative to its reference in the pull on utility quality", "assumption"),
    _p("utility_scale", "structural", float, 4.0, 0.0, 20.0, "latent units", "latent satisfaction with a utility per unit of its quality above the quality residents expect of it (ODD 7.10)", "assumption"),
    _p("expectation_adaptation", "structural", float, 0.1, 0.0, 1.0, "1/quarter", "speed at which residents' expectation of a utility's quality adapts to the quality met (adaptive expectations; ODD 7.10)", "assumption (adaptive expectations: Van Ryzin 2004; James 2009)"),
    _p("services_signal", "structural", float, 3.0, 0.0, 20.0, "latent units", "weight of mean utility quality (above 1/2) in residents' signal about the authorities", "assumption"),
    _p("wage_signal", "structural", float, 2.0, 0.0, 20.0, "latent units", "weight of real wage growth over 4 quarters in residents' signal (retrospective economic judgement; ODD 7.10)", "assumption (the past year as the horizon: Lewis-Beck & Stegmaier 2000)"),
    _p("jobs_signal", "structural", float, 2.0, 0.0, 20.0, "latent units", "weight of job growth over a year in residents' signal", "assumption"),
    _p("corruption_signal", "structural", float, 2.0, 0.0, 20.0, "latent units", "weight of corruption incidence (above corruption_reference) in residents' signal", "assumption"),
    _p("corruption_reference", "structural", float, 0.3, 0.0, 1.0, "share", "corruption incidence that residents take as normal", "assumption"),
    _p("cohort_services_weights", "structural", tuple, (0.8, 1.0, 1.1, 1.2), 0.0, 5.0, "relative", "weight of services in residents' signal by cohort (<30, 30-39, 40-49, 50+): the old weigh services more", "assumption"),
    _p("cohort_economy_weights", "structural", tuple, (1.2, 1.1, 0.9, 0.8), 0.0, 5.0, "relative", "weight of wages and jobs in residents' signal by cohort (<30, 30-39, 40-49, 50+): the young weigh jobs more", "assumption"),
    _p("resident_contact", "structural", float, 0.25, 0.0, 1.0, "1/quarter", "chance that a resident deals with an official (health, schools, police, registration) in a quarter; a corrupt one demands a bribe, which the resident holds against the authorities", "Transparency International, Global Corruption Barometer Asia 2020 (Kazakhstan: 29% of public-service users paid a bribe in the last 12 months)"),
    _p("resident_smoothing", "structural", float, 0.25, 0.0, 1.0, "1/quarter", "weight of the new quarter in residents' smoothed latent satisfaction", "assumption"),
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
    "partnership": {"symbiosis": 0.0},
    "symbiotic": {"symbiosis": 1.0},
}

#: Keys of a scenario file that are not parameters.
META_KEYS = ("name", "description")


def defaults() -> dict[str, Any]:
    """Every parameter's declared default."""
    return {p.name: p.default for p in PARAMETERS}


def _suggest(key: str) -> str:
    return suggest(key, list(BY_NAME) + list(SECTIONS))


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
            raise ScenarioError(
                f"{origin}: 'regions' = {checked['regions']!r} is not allowed; expected {err}"
            ) from None
    governance = checked.get("governance", BY_NAME["governance"].default)
    params = defaults() | GOVERNANCE_PRESETS[governance] | checked
    spent = params["maintenance_share"] + params["support_share"] + params["ppp_share"]
    if spent > 1.0:
        raise ScenarioError(
            f"{origin}: 'maintenance_share' + 'support_share' + 'ppp_share' = {spent:g} is not allowed; expected at most 1"
        )
    if not params["micro_capital"] <= params["small_capital"] <= params["medium_capital"]:
        raise ScenarioError(
            f"{origin}: 'micro_capital' <= 'small_capital' <= 'medium_capital' does not hold; expected increasing size classes"
        )
    if params["startup_age"] > params["mature_age"]:
        raise ScenarioError(
            f"{origin}: 'startup_age' = {params['startup_age']} is not allowed; expected at most 'mature_age' = {params['mature_age']}"
        )
    if params["firm_ties"] % 2:
        raise ScenarioError(f"{origin}: 'firm_ties' = {params['firm_ties']} is not allowed; expected an even integer")
    return params
