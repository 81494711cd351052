"""Regions of Kazakhstan: the data file and the neighbour graph."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import networkx as nx

UTILITIES = ("heat", "water", "power", "gas")


@dataclass(frozen=True)
class Region:
    """One akimat's region: id, name, kind, population, GRP share, land neighbours, the
    latitude and longitude of its administrative centre (decimal degrees), the 2026 subvention
    from the republican budget per head (thousand tenge per person per year; 0 for the donors that
    receive none, NaN where the data file has no figure), and the share of mining and quarrying
    (OKED section B) in the region's 2024 GRP (a fraction; NaN where the data file has none)."""

    id: str
    name: str
    kind: str
    population_thousands: float
    grp_share: float
    neighbours: tuple[str, ...]
    lat: float = float("nan")
    lon: float = float("nan")
    transfers_per_head: float = float("nan")
    mining_share: float = float("nan")


@lru_cache(maxsize=1)
def all_regions() -> tuple[Region, ...]:
    """The 20 akimats from ``data/kazakhstan_regions.toml`` (figures cited there)."""
    text = resources.files("simulation.data").joinpath("kazakhstan_regions.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    return tuple(
        Region(
            r["id"],
            r["name"],
            r["kind"],
            float(r["population_thousands"]),
            float(r["grp_share"]),
            tuple(r["neighbours"]),
            float(r["lat"]),
            float(r["lon"]),
            float(r.get("transfers_per_head", "nan")),
            float(r.get("mining_share", "nan")),
        )
        for r in raw["region"]
    )


@lru_cache(maxsize=1)
def utility_wear() -> tuple[float, ...]:
    """Wear of the heat, water, power and gas networks (shares 0..1, in ``UTILITIES`` order), from
    ``data/utilities.toml`` (each figure's source, year and scope cited there)."""
    text = resources.files("simulation.data").joinpath("utilities.toml").read_text(encoding="utf-8")
    wear = tomllib.loads(text)["wear"]
    return tuple(float(wear[u]["value"]) for u in UTILITIES)


def select(spec: str) -> tuple[Region, ...]:
    """Regions named by a comma-separated list of ids, or all 20 for 'all'.

    Raises:
        ValueError: an unknown id (the message lists the valid ones).
    """
    regions = all_regions()
    if spec.strip() == "all":
        return regions
    by_id = {r.id: r for r in regions}
    ids = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [i for i in ids if i not in by_id]
    if unknown or not ids or len(set(ids)) != len(ids):
        raise ValueError(f"'all' or distinct ids among {', '.join(sorted(by_id))}")
    return tuple(by_id[i] for i in ids)


def neighbour_graph(regions: tuple[Region, ...]) -> nx.Graph:
    """Graph of land borders among the selected regions (nodes are region indices)."""
    index = {r.id: i for i, r in enumerate(regions)}
    g = nx.Graph()
    for i, r in enumerate(regions):
        g.add_node(i, id=r.id, name=r.name)
        for other in r.neighbours:
            if other in index:
                g.add_edge(i, index[other])
    return g
