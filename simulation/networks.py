"""Firm ties: a small-world network within each region (Watts & Strogatz 1998).

The generator is networkx's algorithm (ring lattice of ``k`` nearest neighbours, each
lattice edge rewired with probability ``p``) written over numpy arrays, because
``networkx.watts_strogatz_graph`` takes ~0.25 s per 5,000 nodes and a national run
would spend most of its time there. ``tests/test_networks.py`` checks the result against
networkx's own small-world statistics. ``StateBusinessModel.firm_network()`` returns the
ties as a ``networkx.Graph`` for analysis.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def small_world_edges(groups: list[np.ndarray], k: int, p: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Edges (src, dst) of a Watts-Strogatz graph within each group of firm rows."""
    src_parts, dst_parts = [], []
    half = k // 2
    for rows in groups:
        m = len(rows)
        if m < 2:
            continue
        if m <= k:  # too small for a lattice: everyone knows everyone
            i, j = np.triu_indices(m, 1)
            src_parts.append(rows[i])
            dst_parts.append(rows[j])
            continue
        pos = np.arange(m)
        src = np.tile(pos, half)
        dst = np.concatenate([np.roll(pos, -j) for j in range(1, half + 1)])
        rewire = rng.random(src.size) < p
        new = rng.integers(0, m - 1, size=int(rewire.sum()))
        new = new + (new >= src[rewire])  # uniform over the other m-1 nodes: no self-loops
        dst = dst.copy()
        dst[rewire] = new
        src_parts.append(rows[src])
        dst_parts.append(rows[dst])
    if not src_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(src_parts).astype(np.int64), np.concatenate(dst_parts).astype(np.int64)


def entrant_edges(entrants: np.ndarray, pool: np.ndarray, ties: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ties of new firms to ``ties`` random incumbents (rows in ``pool``) of their region."""
    if len(pool) == 0 or len(entrants) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    per = min(ties, len(pool))
    src = np.repeat(entrants, per)
    dst = pool[rng.integers(0, len(pool), size=src.size)]
    return src.astype(np.int64), dst.astype(np.int64)


def adjacency(src: np.ndarray, dst: np.ndarray, n: int) -> sp.csr_matrix:
    """Symmetric 0/1 adjacency matrix (duplicate edges merged)."""
    data = np.ones(src.size * 2)
    a = sp.csr_matrix((data, (np.concatenate([src, dst]), np.concatenate([dst, src]))), shape=(n, n))
    a.data[:] = 1.0
    return a
