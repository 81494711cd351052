"""The region data file: 20 akimats, a symmetric neighbour graph, sourced centres inside Kazakhstan."""

import math
import tomllib
from importlib import resources

import networkx as nx

from simulation.regions import all_regions, neighbour_graph

# Kazakhstan's extent in decimal degrees (rounded outward): 40.5-55.5 N, 46.5-87.5 E
LAT, LON = (40.5, 55.5), (46.5, 87.5)


def _raw():
    text = resources.files("simulation.data").joinpath("kazakhstan_regions.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def test_twenty_regions_with_distinct_ids():
    regions = all_regions()
    assert len(regions) == 20
    assert len({r.id for r in regions}) == 20


def test_neighbour_lists_are_symmetric_and_the_graph_is_connected():
    regions = all_regions()
    by_id = {r.id: r for r in regions}
    for r in regions:
        for other in r.neighbours:
            assert r.id in by_id[other].neighbours, f"{r.id} -> {other} is not mirrored"
    assert nx.is_connected(neighbour_graph(regions))


def test_every_centre_has_coordinates_inside_kazakhstan_and_a_source():
    raw = _raw()
    assert "centres" in raw["sources"] and "wikipedia" in raw["sources"]["centres"]
    for r in all_regions():
        assert LAT[0] <= r.lat <= LAT[1] and LON[0] <= r.lon <= LON[1], (r.id, r.lat, r.lon)
    for row in raw["region"]:
        assert row["capital"] in raw["sources"]["centres"] or row["capital"] == "Turkestan", row["capital"]


def test_centres_are_distinct_and_neighbours_are_near():
    regions = all_regions()
    by_id = {r.id: r for r in regions}
    points = {(r.lat, r.lon) for r in regions}
    assert len(points) == 20

    def km(a, b):  # great-circle distance
        p1, p2 = math.radians(a.lat), math.radians(b.lat)
        d = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b.lon - a.lon) / 2) ** 2
        return 2 * 6371 * math.asin(math.sqrt(d))

    for r in regions:
        for other in r.neighbours:
            assert km(r, by_id[other]) < 1300, (r.id, other)
    # known distances between centres (within 10%): Almaty-Astana about 970 km, Almaty-Konaev about 70 km
    assert 870 < km(by_id["almaty"], by_id["astana"]) < 1070
    assert 50 < km(by_id["almaty"], by_id["almaty_region"]) < 90
