"""Initialisation (ODD 5): the world at the start of a run, from the parameters and the seed.

Akimats get their power around the scenario's mean; firms are shared among regions by
population, with capital scaled by the region's GRP per head, lognormal productivity with a
Pareto upper tail (formulas.productivity_tail), owners' age cohorts from the entrepreneurs'
sample and firm ages from the stationary age distribution of the exit hazard's age part
(formulas.stationary_age_shares); the insiders (round(s x
insiders)) are the largest firms of each region; every firm's home official gets a
moral-cost rank; central transfers follow the official subventions per head
(equalisation); firms are tied in a small world within regions plus long ties between large firms
of neighbouring regions; residents carry persistent tastes. Every draw comes from the
named streams ``world``, ``network`` and ``residents``.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from . import formulas, networks
from . import regions as regions_mod
from .formulas import apportion, least_squares_line, logit
from .world import (
    OWNER_COHORT_SHARES,
    RESIDENT_COHORT_SHARES,
    AkimatState,
    FirmTable,
    ResidentTable,
    World,
    owner_cohorts,
    owner_entry_ages,
)

#: Oldest firm at the start, in quarters (older ages are left out of the stationary age distribution).
MAX_INITIAL_AGE = 200
#: Oldest firm at the start when ages are drawn with sizes (``stationary_sizes``): 150 years. A large
#: firm's hazard is a fraction of the mean, so the stock's tail ages are long: at the defaults 0.1% of
#: the firms are older than 130 years, and none of 20,000 drawn reached this bound.
STATIONARY_OLDEST = 600

#: Streams that initialisation draws from (the schedule adds one per quarterly step).
STREAMS = ("world", "network", "residents")


def make_streams(seed: int, names: tuple[str, ...]) -> dict[str, np.random.Generator]:
    """One generator per name, each seeded by (seed, crc32(name)): adding draws to one
    stream does not shift the others, so policy comparisons stay paired."""
    return {name: np.random.default_rng([seed, zlib.crc32(name.encode())]) for name in names}


def build(params: dict[str, Any], seed: int, streams: dict[str, np.random.Generator]) -> World:
    """The world of quarter 0."""
    p = params
    regions = regions_mod.select(p["regions"])
    region_graph = regions_mod.neighbour_graph(regions)
    akimats = _akimats(p, len(regions), streams["world"])
    firms, (match_capital, strength_scale), ties, level = _firms(
        p, regions, region_graph, streams["world"], streams["network"]
    )
    residents = _residents(p, len(regions), streams["residents"])
    world = World(
        p,
        seed,
        streams,
        regions,
        region_graph,
        akimats,
        firms,
        residents,
        ties,
        match_capital,
        strength_scale=strength_scale,
    )
    world.update_strength()
    # the budget of the first quarter: taxes of the initial firms at full formality
    output = world.potential_output()
    tax = np.bincount(firms.region, weights=p["tax_rate"] * output, minlength=len(regions))
    akimats.tax_revenue[:] = tax
    akimats.initial_tax[:] = np.maximum(tax, 1e-9)
    akimats.productivity_level[:] = level
    akimats.firms_initial[:] = np.bincount(firms.region, minlength=len(regions))
    akimats.transfer[:] = equalising_transfers(p, regions, akimats.initial_tax)
    return world


def equalising_transfers(p: dict[str, Any], regions, initial_tax: np.ndarray) -> np.ndarray:
    """Central transfers a quarter: central_transfer x the run's mean initial tax per head x
    population x need, need = the region's official subventions per head / their national
    (population-weighted) mean. Kazakhstan's subventions equalise: they go to the regions
    whose own revenue falls short (donor regions get none). A region without a published
    figure (Turkestan, Ulytau and Shymkent: see the data file) gets the need predicted from its
    GRP per head by a log-log least-squares line through the recipient regions with a figure."""
    pop = np.array([r.population_thousands for r in regions])
    every = regions_mod.all_regions()
    known = [r for r in every if np.isfinite(getattr(r, "transfers_per_head", np.nan))]
    weights = np.array([r.population_thousands for r in known])
    mean = np.average([r.transfers_per_head for r in known], weights=weights)
    recipients = [r for r in known if r.transfers_per_head > 0]
    x = np.log([r.grp_share / r.population_thousands for r in recipients])
    slope, intercept = least_squares_line(x, np.log([r.transfers_per_head / mean for r in recipients]))
    need = np.array(
        [
            r.transfers_per_head / mean
            if np.isfinite(getattr(r, "transfers_per_head", np.nan))
            else np.exp(intercept + slope * np.log(r.grp_share / r.population_thousands))
            for r in regions
        ]
    )
    tax_per_head = initial_tax.sum() / pop.sum()
    return p["central_transfer"] * tax_per_head * pop * need


def _akimats(p: dict[str, Any], n_regions: int, rng: np.random.Generator) -> AkimatState:
    a = AkimatState(n_regions)
    z = rng.standard_normal(n_regions)
    z = z - z.mean()  # the scenario's power_strength is the mean over its regions
    a.power[:] = np.clip(p["power_strength"] + p["power_spread"] * z, 0.01, 0.99)
    a.structural_power[:] = a.power
    a.corrupt_share[:] = p["corruption_initial"]
    a.symbiosis[:] = p["symbiosis"]
    a.utility_quality[:] = formulas.utility_levels(p["utility_quality"], regions_mod.utility_wear())
    a.utility_expectation[:] = a.utility_quality  # residents first expect the quality they have
    return a


def _firms(p, regions, region_graph, rng, network_rng):
    n_regions = len(regions)
    pop = np.array([r.population_thousands for r in regions])
    counts = apportion(p["firms"], pop / pop.sum())
    # richer regions (GRP per head) have larger firms; scaled so that the mean factor is 1
    grp = np.array([r.grp_share for r in regions])
    wealth = np.sqrt((grp / grp.sum()) / (pop / pop.sum()))
    wealth = wealth / np.average(wealth, weights=counts) if counts.sum() else wealth
    region = np.repeat(np.arange(n_regions), counts)
    n = len(region)
    f = FirmTable(int(n * 1.5) + 16)
    sigma_a = p["productivity_dispersion"]
    alpha = p["capital_elasticity"]
    # richer regions' firms are more productive, so that their steady-state capital scales with wealth
    level = p["productivity"] * wealth ** (1.0 - alpha)
    body = level[region] * np.exp(sigma_a * rng.standard_normal(n) - sigma_a**2 / 2)
    # ... with a Pareto upper tail (median factor 1): steady-state employment is Pareto (Axtell 2001)
    productivity = body * formulas.productivity_tail(rng.standard_exponential(n), p)
    # ages from the stationary distribution of the exit hazard's age part, and the
    # capital each firm has grown to since it entered (small) along the deterministic path
    age = rng.choice(MAX_INITIAL_AGE + 1, size=n, p=formulas.stationary_age_shares(p, MAX_INITIAL_AGE))
    spread = p["entrant_dispersion"] * p["capital_dispersion"]
    entered_with = p["entrant_capital"] * wealth[region] * np.exp(spread * rng.standard_normal(n))
    if p["stationary_sizes"]:
        # ... or jointly with the firm's type: the stationary stock of entrants weighted by their
        # lives, in which the productive firms are large, live long and are old (formulas.stationary_stock)
        age, capital = formulas.stationary_stock(
            entered_with, productivity, region, n_regions, rng.random(n), p, STATIONARY_OLDEST
        )
    else:
        capital = formulas.grown_capital(entered_with, productivity, age, p)
    # the capital at which a firm is a match for its akimat: the output-weighted median firm
    # of the lognormal body (the firms as they would be without the Pareto factor, so that the
    # few dominant players neither set it nor make it depend on a single draw)
    # has business strength B = business_strength ...
    # (capital relative to the region's wealth factor, weighted by output)
    body_capital = formulas.grown_capital(entered_with, body, age, p)
    relative = body_capital / wealth[region]
    order = np.argsort(relative, kind="stable")
    cum = np.cumsum((body * body_capital**alpha)[order])
    weighted_median = relative[order][np.searchsorted(cum, 0.5 * cum[-1])] if n else 1.0
    # ... in a region of average economic size; a firm must be bigger to match the akimat
    # of a bigger regional economy: K_match,r = K_match * (GRP share / mean share)^elasticity
    size = (grp / grp.mean()) ** p["akimat_size_elasticity"]
    match_capital = weighted_median * np.exp(-logit(p["business_strength"]) / p["strength_slope"]) * size
    connected_share = min(1.0, p["connected_share"] * (1.0 + p["symbiosis"]))
    connection = np.where(rng.random(n) < connected_share, rng.uniform(p["connection_min"], 1.0, n), 0.0)
    # the owner entered with the entrants' age mix and has aged with the firm since (life stage)
    entry_age = owner_entry_ages(rng.choice(4, size=n, p=OWNER_COHORT_SHARES), rng.random(n))
    rows = f.add(
        n,
        region=region,
        capital=capital,
        productivity=productivity,
        cohort=owner_cohorts(entry_age, age),
        owner_entry_age=entry_age,
        age=age.astype(np.int32),
        connection=connection,
        member=rng.random(n) < p["association_share"],
        formal=True,
        alive=True,
        trust=0.5,
        perceived_detection=formulas.true_detection(p),
        home_official=rng.random(n),
    )
    _appoint_insiders(f, rows, n_regions, int(round(p["symbiosis"] * p["insiders"])))
    src, dst = networks.small_world_edges(
        [rows[region == r] for r in range(n_regions)], p["firm_ties"], p["tie_rewiring"], network_rng
    )
    large = rows[formulas.size_class(f.capital, p) == 3]
    lsrc, ldst = networks.long_ties(large, region[large], region_graph, p["long_ties"], network_rng)
    ties = networks.TieNetwork(np.concatenate([src, lsrc]), np.concatenate([dst, ldst]), f.n)
    # per region, the log-normal body's median log capital (as an offset from the firms' median) and
    # log spread (interquartile range / 1.349): business strength reads a firm's rank on this scale
    # (formulas.rank_capital), so that the Pareto tail does not make every dominant player B ~ 1
    scale = np.zeros((n_regions, 2))
    for r in range(n_regions):
        x = np.log(body_capital[region == r])
        if x.size:
            q25, q50, q75 = np.quantile(x, [0.25, 0.5, 0.75])
            scale[r] = (q50 - np.median(np.log(capital[region == r])), (q75 - q25) / formulas.IQR_PER_SD)
    return f, (match_capital, scale), ties, level


def _appoint_insiders(f: FirmTable, rows: np.ndarray, n_regions: int, k: int) -> None:
    """The symbiotic model's dominant players: the largest firms of each region, fully connected."""
    if k == 0:
        return
    for r in range(n_regions):
        in_region = rows[f.region[rows] == r]
        top = in_region[np.argsort(-f.capital[in_region], kind="stable")[:k]]
        f.insider[top] = True
        f.connection[top] = 1.0


def _residents(p: dict[str, Any], n_regions: int, rng: np.random.Generator) -> ResidentTable:
    m = p["residents_per_region"]
    region = np.repeat(np.arange(n_regions), m)
    n = len(region)
    return ResidentTable(
        region=region,
        cohort=rng.choice(4, size=n, p=RESIDENT_COHORT_SHARES),
        taste=rng.standard_normal(n),
        utility_taste=rng.standard_normal((n, 4)),
    )
