"""Hand-built worlds for the submodel unit tests: every value chosen, nothing drawn.

``make_world`` builds a ``simulation.world.World`` directly from the values a test gives
(regions, firms, ties, akimat state, residents), without ``simulation.initialisation``'s
random draws, so that a test can compute a submodel's expected output by hand. Every
value not given has a plain, documented default (see ``FIRM_DEFAULTS``,
``AKIMAT_DEFAULTS``; memory fields are empty unless given). The world's random streams
are seeded generators; tests make draws irrelevant by choosing probabilities of 0 or 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from simulation import formulas, parameters
from simulation.initialisation import make_streams
from simulation.networks import TieNetwork
from simulation.quarter import QuarterLog
from simulation.regions import neighbour_graph, select
from simulation.schedule import STREAMS
from simulation.world import MEMORY, AkimatState, FirmTable, ResidentTable, World

#: Firm columns a test need not give. ``strength`` is not here: unless a firm gives it,
#: it is computed from capital by ``World.update_strength`` (with ``match_capital``).
FIRM_DEFAULTS: dict[str, Any] = {
    "region": 0,
    "capital": 1.0,
    "productivity": 0.12,
    "cohort": 1,
    "owner_entry_age": 0.0,  # not known: the firm keeps the cohort given
    "age": 30,  # mature (age >= mature_age = 20)
    "connection": 0.0,
    "insider": False,
    "member": False,
    "formal": True,
    "alive": True,
    "trust": 0.5,
    "satisfaction": 0.0,
    "perceived_detection": None,  # None: the true detection rate of the parameters
    "home_official": 0.5,  # moral-cost rank u of the home official: corrupt while u < c (here: while c > 1/2)
    "client": False,  # not a client of its home official
    "loss_streak": 0,
    "captor": False,
    "profit": 0.0,
}

#: Akimat state a test need not give (scalars are broadcast over regions).
AKIMAT_DEFAULTS: dict[str, Any] = {
    "power": 0.6,
    "structural_power": None,  # None: equal to power
    "corrupt_share": 0.35,
    "official_gain": 0.0,
    "symbiosis": None,  # None: the parameter ``symbiosis`` (0 in the partnership preset, 1 in the symbiotic)
    "transfer": 0.0,  # no central transfer
    "firms_initial": None,  # None: the firm rows of the region (alive or not)
    "productivity_level": 0.12,  # the default firm's productivity
    "tax_revenue": 1.0,
    "initial_tax": 1.0,
    "utility_quality": 0.6,
    "utility_expectation": None,  # None: the quality itself (residents first expect what they have)
}

#: Akimat fields whose default (None) is derived from the parameters or the firms.
_DERIVED = ("structural_power", "symbiosis", "firms_initial", "utility_expectation")


def params(**values: Any) -> dict[str, Any]:
    """The full resolved parameter set (partnership preset unless ``governance`` is given) with ``values`` on top."""
    return parameters.resolve(values)


def make_world(
    firms: Sequence[Mapping[str, Any]] = ({},),
    regions: str = "turkestan",
    ties: Iterable[tuple[int, int]] = (),
    akimats: Mapping[str, Any] | None = None,
    residents: Mapping[str, Any] | None = None,
    match_capital: float | Sequence[float] = 1.0,
    memory: Mapping[str, Sequence[float]] | None = None,
    quarter: int = 0,
    seed: int = 0,
    **param_values: Any,
) -> World:
    """A world built by hand.

    Args:
        firms: one mapping per firm row, of firm columns (``FirmTable.COLUMNS``); missing
            columns take ``FIRM_DEFAULTS``. A firm that gives ``strength`` keeps it; the
            others get B from their capital against ``match_capital``.
        regions: region ids as for ``simulation.regions.select`` (e.g. "turkestan" or
            "turkestan,zhambyl,kyzylorda"); firms' ``region`` indexes this tuple.
        ties: firm ties as (row, row) pairs.
        akimats: ``AkimatState`` fields (scalar or one value per region; for
            ``utility_quality`` a scalar, a length-4 list or an (R, 4) array).
        residents: ``ResidentTable`` arrays ``region``, ``cohort``, ``taste``,
            ``utility_taste``; default: one resident of cohort 0 per region, with zero tastes.
        match_capital: per region, the capital at which a firm is a match for its akimat.
        memory: per memory field (``simulation.world.MEMORY_FIELDS``, e.g. ``dealings``,
            ``extracted``, ``output``, ``consulted``), one value per firm row, remembered as
            the last quarter's (so ``firms.last_year(name)`` returns these values); fields
            not given are 0 (nothing remembered).
        quarter: ``world.quarter``.
        seed: seed of the world's random streams.
        **param_values: parameter values (resolved with ``parameters.resolve``).
    """
    p = params(regions=regions, **param_values)
    region_objs = select(regions)
    R = len(region_objs)

    a = AkimatState(R)
    given = dict(AKIMAT_DEFAULTS) | dict(akimats or {})
    for name, value in given.items():
        if name in _DERIVED and value is None:
            continue
        target = getattr(a, name)
        target[...] = np.asarray(value, dtype=target.dtype)
    if given["structural_power"] is None:
        a.structural_power[:] = a.power
    if given["utility_expectation"] is None:
        a.utility_expectation[:] = a.utility_quality
    if given["symbiosis"] is None:
        a.symbiosis[:] = p["symbiosis"]
    if given["firms_initial"] is None:
        a.firms_initial[:] = np.bincount([spec.get("region", 0) for spec in firms], minlength=R)

    f = FirmTable(len(firms))
    for spec in firms:
        unknown = set(spec) - set(FirmTable.COLUMNS)
        if unknown:
            raise KeyError(f"unknown firm columns: {sorted(unknown)}")
    values = {}
    for name in FirmTable.COLUMNS:
        if name == "strength":
            continue
        default = FIRM_DEFAULTS[name]
        if name == "perceived_detection" and default is None:
            default = formulas.true_detection(p)
        values[name] = np.array([spec.get(name, default) for spec in firms])
    f.add(len(firms), **values)

    pairs = np.array(list(ties), dtype=np.int64).reshape(-1, 2)
    tie_net = TieNetwork(pairs[:, 0], pairs[:, 1], f.n)

    res_spec = dict(residents or {})
    res_region = np.asarray(res_spec.get("region", np.arange(R)))
    m = len(res_region)
    res = ResidentTable(
        region=res_region,
        cohort=np.asarray(res_spec.get("cohort", np.zeros(m, dtype=int))),
        taste=np.asarray(res_spec.get("taste", np.zeros(m)), dtype=float),
        utility_taste=np.asarray(res_spec.get("utility_taste", np.zeros((m, 4))), dtype=float),
    )

    world = World(
        params=p,
        seed=seed,
        streams=make_streams(seed, STREAMS),
        regions=region_objs,
        region_graph=neighbour_graph(region_objs),
        akimats=a,
        firms=f,
        residents=res,
        ties=tie_net,
        match_capital=np.broadcast_to(np.asarray(match_capital, dtype=float), (R,)).copy(),
        quarter=quarter,
    )
    for name, value in (memory or {}).items():
        f.memory(name)[(quarter - 1) % MEMORY] = np.asarray(value, dtype=float)
    world.update_strength()
    for row, spec in enumerate(firms):
        if "strength" in spec:
            f.strength[row] = spec["strength"]
    return world


def make_log(
    world: World, firm: Mapping[str, Any] | None = None, region: Mapping[str, Any] | None = None
) -> QuarterLog:
    """A fresh ``QuarterLog`` for the world, with the given per-firm events and per-region tallies set."""
    log = QuarterLog(world.firms.n, world.n_regions)
    for name, value in (firm or {}).items():
        log.firm[name][:] = value
    for name, value in (region or {}).items():
        log.region[name][:] = value
    return log


def rng(seed: int = 0) -> np.random.Generator:
    """A seeded generator for a step's random stream (the tests make its draws irrelevant)."""
    return np.random.default_rng(seed)
