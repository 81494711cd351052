"""The firm network: the numpy small-world generator against networkx's, and the model's
``firm_network()`` view of the ties among firms in business."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from conftest import run_cached
from scipy.sparse.csgraph import shortest_path

from simulation import networks

N, K, P = 2000, 6, 0.1
SEEDS = (0, 1, 2)


def graph_from_edges(n, src, dst) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(src.tolist(), dst.tolist()))
    return g


def average_path_length(g: nx.Graph) -> float:
    """Average shortest path length (BFS via scipy; same value as networkx's, much faster)."""
    a = nx.to_scipy_sparse_array(g, nodelist=range(g.number_of_nodes()), format="csr")
    d = shortest_path(a, unweighted=True, directed=False)
    n = g.number_of_nodes()
    return float(d.sum() / (n * (n - 1)))


@pytest.fixture(scope="module")
def ours():
    out = []
    for s in SEEDS:
        src, dst = networks.small_world_edges([np.arange(N)], K, P, np.random.default_rng(s))
        out.append((src, dst, graph_from_edges(N, src, dst)))
    return out


@pytest.fixture(scope="module")
def reference():
    return [nx.watts_strogatz_graph(N, K, P, seed=s) for s in SEEDS]


def test_small_world_edges_basic_shape(ours):
    for src, dst, g in ours:
        assert src.shape == dst.shape, f"src {src.shape} and dst {dst.shape} differ"
        assert src.dtype.kind == "i" and dst.dtype.kind == "i", f"edge arrays are {src.dtype}, {dst.dtype}"
        assert src.min() >= 0 and max(src.max(), dst.max()) < N, "edge endpoints outside the group's rows"
        assert not np.any(src == dst), f"{int(np.sum(src == dst))} self-loops among the edges"
        assert nx.number_of_selfloops(g) == 0, "self-loops in the graph"
        assert len(src) == N * K // 2, f"{len(src)} edges generated, expected n*k/2 = {N * K // 2}"
        assert abs(g.number_of_edges() - N * K / 2) <= 0.01 * N * K / 2, (
            f"{g.number_of_edges()} distinct edges, expected about {N * K // 2}"
        )
        assert nx.is_connected(g), "the small-world graph is not connected"
        degrees = np.array([d for _, d in g.degree()])
        assert degrees.mean() == pytest.approx(K, rel=0.01), f"mean degree {degrees.mean():.3f}, expected about {K}"
        assert degrees.min() >= K // 2 - 1, f"minimum degree {degrees.min()} (each node keeps about k/2 lattice ties)"


def test_small_world_statistics_match_networkx(ours, reference):
    c_ours = np.mean([nx.average_clustering(g) for _, _, g in ours])
    c_ref = np.mean([nx.average_clustering(g) for g in reference])
    l_ours = np.mean([average_path_length(g) for _, _, g in ours])
    l_ref = np.mean([average_path_length(g) for g in reference])
    assert c_ours == pytest.approx(c_ref, rel=0.15), (
        f"average clustering {c_ours:.4f}, networkx.watts_strogatz_graph gives {c_ref:.4f} (n={N}, k={K}, p={P})"
    )
    assert l_ours == pytest.approx(l_ref, rel=0.15), (
        f"average shortest path {l_ours:.3f}, networkx.watts_strogatz_graph gives {l_ref:.3f} (n={N}, k={K}, p={P})"
    )
    # and it is a small world: clustering far above, path length close to a random graph's
    random_clustering = K / N
    assert c_ours > 20 * random_clustering, (
        f"clustering {c_ours:.4f} is not far above a random graph's {random_clustering:.4f}"
    )
    lattice_path = N / (2 * K)
    assert l_ours < lattice_path / 5, f"path length {l_ours:.2f} is not far below the ring lattice's {lattice_path:.0f}"


def test_small_world_edges_is_deterministic_given_the_generator():
    a = networks.small_world_edges([np.arange(500)], K, P, np.random.default_rng(9))
    b = networks.small_world_edges([np.arange(500)], K, P, np.random.default_rng(9))
    c = networks.small_world_edges([np.arange(500)], K, P, np.random.default_rng(10))
    assert all(np.array_equal(x, y) for x, y in zip(a, b)), "same generator seed gave different edges"
    assert not all(np.array_equal(x, y) for x, y in zip(a, c)), "different generator seeds gave the same edges"


def test_small_world_edges_stays_within_groups():
    groups = [np.arange(0, 300), np.arange(300, 305), np.arange(305, 306), np.arange(306, 1000)]
    src, dst = networks.small_world_edges(groups, K, 0.3, np.random.default_rng(1))
    group_of = np.empty(1000, dtype=int)
    for i, rows in enumerate(groups):
        group_of[rows] = i
    assert np.array_equal(group_of[src], group_of[dst]), "an edge crosses groups (regions)"
    small = group_of[src] == 1
    assert small.sum() == 10, f"a group of 5 (<= k) should be a complete graph of 10 edges, got {small.sum()}"
    assert not np.any(group_of[src] == 2), "a group of one firm got an edge"
    assert not np.any(src == dst), "self-loops"


@pytest.mark.parametrize("governance", ["partnership", "symbiotic"])
def test_firm_network_nodes_are_alive_firms(governance):
    m = run_cached(1, firms=1500, residents_per_region=300, burn_in=6, steps=10, governance=governance)
    g = m.firm_network()
    assert isinstance(g, nx.Graph) and not g.is_directed(), f"firm_network() returned {type(g).__name__}"
    alive = set(np.flatnonzero(m.firms.alive).tolist())
    nodes = set(g.nodes)
    assert nodes == alive, (
        f"firm_network nodes differ from alive firm rows: {len(nodes - alive)} extra, {len(alive - nodes)} missing"
    )
    from simulation.agents import Firm

    agent_rows = {a.row for a in m.agents_by_type[Firm]}
    assert nodes == agent_rows, "firm_network nodes are not the Firm agents' rows"
    assert nx.number_of_selfloops(g) == 0, "a firm is tied to itself"
    assert g.number_of_edges() > len(alive), f"only {g.number_of_edges()} ties among {len(alive)} firms"
    mean_degree = 2 * g.number_of_edges() / len(alive)
    assert 0.5 * m.params["firm_ties"] <= mean_degree <= 2 * m.params["firm_ties"], (
        f"mean degree {mean_degree:.2f} far from firm_ties = {m.params['firm_ties']}"
    )


def test_long_ties_join_large_firms_of_neighbouring_regions():
    from simulation.model import StateBusinessModel

    m = StateBusinessModel(rng=3, regions="all", firms=6000, residents_per_region=200, burn_in=0, steps=1)
    f = m.firms
    src, dst = m.ties.src, m.ties.dst
    region = f.region
    cross = region[src] != region[dst]
    assert cross.sum() > 0, "no tie crosses a regional border: large firms have no long ties"
    large = m.size_class() == 3
    assert large[src[cross]].all() and large[dst[cross]].all(), "a cross-border tie involves a firm that is not large"
    pairs = {tuple(sorted((int(a), int(b)))) for a, b in zip(region[src[cross]], region[dst[cross]])}
    assert all(m.region_graph.has_edge(a, b) for a, b in pairs), "a long tie joins regions that do not border"


def test_business_strength_is_relative_to_the_regions_economy():
    from simulation.model import StateBusinessModel

    m = StateBusinessModel(rng=3, regions="almaty,ulytau", firms=2000, residents_per_region=200, burn_in=0, steps=1)
    ids = [r.id for r in m.regions]
    big, small = ids.index("almaty"), ids.index("ulytau")
    assert m.match_capital[big] > m.match_capital[small], (
        f"matching Almaty's akimat should take more capital than Ulytau's: {m.match_capital}"
    )
