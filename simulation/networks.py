"""Firm ties: a small-world network within each region (Watts & Strogatz 1998), plus a few
long ties between large firms of neighbouring regions.

The generator is networkx's algorithm (ring lattice of ``k`` nearest neighbours, each
lattice edge rewired with probability ``p``) written over numpy arrays, because
``networkx.watts_strogatz_graph`` takes ~0.25 s per 5,000 nodes and a national run
would spend most of its time there. ``tests/core/test_networks.py`` checks the result against
networkx's own small-world statistics. ``StateBusinessModel.firm_network()`` returns the
ties as a ``networkx.Graph`` for analysis.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import kernels


def small_world_edges(
    groups: list[np.ndarray], k: int, p: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
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


def entrant_edges(
    entrants: np.ndarray, pool: np.ndarray, ties: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Ties of new firms to ``ties`` random incumbents (rows in ``pool``) of their region."""
    if len(pool) == 0 or len(entrants) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    per = min(ties, len(pool))
    src = np.repeat(entrants, per)
    dst = pool[rng.integers(0, len(pool), size=src.size)]
    return src.astype(np.int64), dst.astype(np.int64)


def long_ties(
    large: np.ndarray, region: np.ndarray, region_graph, per_firm: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Ties of each large firm to ``per_firm`` random large firms of neighbouring regions
    (of its own region when the scenario holds none of its neighbours)."""
    src_parts, dst_parts = [], []
    for r in np.unique(region):
        own = large[region == r]
        near = [nb for nb in region_graph.neighbors(int(r))] if region_graph.has_node(int(r)) else []
        pool = large[np.isin(region, near)] if near else own
        if len(pool) == 0 or (pool is own and len(own) < 2):
            continue
        dst = pool[rng.integers(0, len(pool), size=own.size * per_firm)]
        src = np.repeat(own, per_firm)
        ok = src != dst
        src_parts.append(src[ok])
        dst_parts.append(dst[ok])
    if not src_parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(src_parts).astype(np.int64), np.concatenate(dst_parts).astype(np.int64)


def adjacency(src: np.ndarray, dst: np.ndarray, n: int) -> sp.csr_matrix:
    """Symmetric 0/1 adjacency matrix (duplicate edges merged)."""
    data = np.ones(src.size * 2)
    a = sp.csr_matrix((data, (np.concatenate([src, dst]), np.concatenate([dst, src]))), shape=(n, n))
    a.data[:] = 1.0
    return a


class TieNetwork:
    """The firm ties: a merged sparse matrix plus the ties added since the last merge.

    New firms' ties are kept as edge lists (summed with ``bincount``), so that entry each
    quarter does not rebuild the whole network; they are merged into the matrix when they
    grow past a fifth of it, when rows outgrow the matrix's shape, and at compaction.
    """

    def __init__(self, src: np.ndarray, dst: np.ndarray, n: int):
        self._set_edges(src, dst)
        self._merge(n)

    @property
    def src(self) -> np.ndarray:
        """One end of every tie (the ones merged first, then the ones added since)."""
        return self._src[: self._edges]

    @property
    def dst(self) -> np.ndarray:
        """The other end of every tie."""
        return self._dst[: self._edges]

    def _set_edges(self, src: np.ndarray, dst: np.ndarray) -> None:
        # edge lists with spare room, so that adding a quarter's ties does not copy all of them
        self._edges = len(src)
        room = max(16, self._edges + self._edges // 4)
        self._src, self._dst = np.empty(room, dtype=np.int64), np.empty(room, dtype=np.int64)
        self._src[: self._edges], self._dst[: self._edges] = src, dst

    def _merge(self, n: int) -> None:
        self.shape = max(int(n * 1.25), 16)
        fast = kernels.adjacency(self.src, self.dst, self.shape)  # the same matrix, compiled
        self.base = fast if fast is not None else adjacency(self.src, self.dst, self.shape)
        self.n_merged = len(self.src)
        self._degree = np.diff(self.base.indptr).astype(float)  # the row sums of a 0/1 matrix

    def add(self, src: np.ndarray, dst: np.ndarray, n: int) -> None:
        """Add ties (rows may go up to n - 1)."""
        if self._edges + len(src) > len(self._src):
            old_src, old_dst = self.src, self.dst
            self._set_edges(np.concatenate([old_src, src]), np.concatenate([old_dst, dst]))
        else:
            self._src[self._edges : self._edges + len(src)] = src
            self._dst[self._edges : self._edges + len(dst)] = dst
            self._edges += len(src)
        new = self._edges - self.n_merged
        if n > self.shape or new > 0.2 * max(self.n_merged, 1):
            self._merge(n)
        else:
            self._degree += np.bincount(src, minlength=self.shape) + np.bincount(dst, minlength=self.shape)

    def remap(self, mapping: np.ndarray, n: int) -> None:
        """Follow a compaction of firm rows: drop ties of dropped rows, renumber the rest."""
        keep = (mapping[self.src] >= 0) & (mapping[self.dst] >= 0)
        self._set_edges(mapping[self.src[keep]], mapping[self.dst[keep]])
        self._merge(n)

    def degree(self, n: int) -> np.ndarray:
        """Ties per firm row (first n rows)."""
        return self._degree[:n]

    def sum_over_ties(self, x: np.ndarray) -> np.ndarray:
        """For each firm, the sum of x over its ties."""
        return self.sums_over_ties(x)[0]

    def sums_over_ties(self, *xs: np.ndarray) -> list[np.ndarray]:
        """For each x of ``xs`` (same length) and each firm, the sum of x over its ties: the same
        numbers as ``sum_over_ties`` one by one, with one pass over the ties when the kernels are on."""
        fast = kernels.csr_sums(self.base, list(xs))
        if fast is None:
            return [self._sum_over_ties(x) for x in xs]
        s, d = self.src[self.n_merged :], self.dst[self.n_merged :]
        if len(s):  # the ties added since the merge (rows below len(x)): as in _sum_over_ties
            n = len(fast[0])
            for x, y in zip(xs, fast):
                y += np.bincount(s, weights=x[d], minlength=n) + np.bincount(d, weights=x[s], minlength=n)
        return fast

    def count_over_ties(self, flag: np.ndarray) -> np.ndarray:
        """For each firm, its ties to the firms where ``flag`` (0 or 1) is 1: ``sum_over_ties(flag)``,
        the same numbers (whole numbers, whatever the order of addition), counted from the flagged
        firms' side, which is cheap when they are few."""
        n = len(flag)
        fast = kernels.csr_count(self.base, np.flatnonzero(flag), n)
        if fast is None:
            return self._sum_over_ties(flag)
        s, d = self.src[self.n_merged :], self.dst[self.n_merged :]
        if len(s):
            fast += np.bincount(s, weights=flag[d], minlength=n) + np.bincount(d, weights=flag[s], minlength=n)
        return fast

    def _sum_over_ties(self, x: np.ndarray) -> np.ndarray:
        n = len(x)
        padded = np.zeros(self.shape)
        padded[:n] = x
        y = self.base @ padded
        s, d = self.src[self.n_merged :], self.dst[self.n_merged :]
        if len(s):
            y += np.bincount(s, weights=padded[d], minlength=self.shape) + np.bincount(
                d, weights=padded[s], minlength=self.shape
            )
        return y[:n]

    def matrix(self, n: int) -> sp.csr_matrix:
        """The merged adjacency matrix of the first n rows."""
        a = self.base + adjacency(self.src[self.n_merged :], self.dst[self.n_merged :], self.shape)
        a = a[:n][:, :n].tocsr()
        a.data[:] = 1.0
        return a
