"""The compiled library and the kernel machinery (issues 11 and 24).

The draws and the tallies are a library with a numpy or scipy reference: each is checked against
it, on the numbers and on the state in which it leaves the generator (so that every later draw of
the stream agrees too). The submodels' passes have no twin (issue 24: one source per mechanism);
``kernel`` runs the same function compiled or interpreted, which the last tests check on a toy pass,
and the regression baseline is their contract. Without numba the kernels are off and these tests
only check that the reference path runs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

from simulation import kernels
from simulation.model import StateBusinessModel

needs_numba = pytest.mark.skipif(not kernels.AVAILABLE, reason="numba is not installed")


@pytest.fixture
def kernels_on():
    previous = kernels.use(True)
    yield
    kernels.use(previous)


def _pair(seed: int, buffered: bool):
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    if buffered:  # a bounded integer draw leaves half a word buffered in the bit generator
        a.integers(0, 5, 3)
        b.integers(0, 5, 3)
    return a, b


@needs_numba
@pytest.mark.parametrize("seed", range(6))
def test_poisson_equals_numpy(kernels_on, seed):
    g = np.random.default_rng(100 + seed)
    n = int(g.integers(1, 20_000))
    lam = g.random(n) * g.choice([0.01, 1.0, 4.0, 9.99])
    lam[:: max(1, n // 50)] = 0.0
    a, b = _pair(seed, buffered=seed % 2 == 1)
    np.testing.assert_array_equal(kernels.poisson(b, lam), a.poisson(lam))
    assert a.bit_generator.state == b.bit_generator.state
    assert a.integers(0, 2**62) == b.integers(0, 2**62)


@needs_numba
@pytest.mark.parametrize("seed", range(6))
def test_binomial_equals_numpy(kernels_on, seed):
    g = np.random.default_rng(200 + seed)
    n_ = int(g.integers(1, 20_000))
    trials = g.poisson(g.choice([0.5, 3.0, 20.0]), n_)
    p = g.random(n_) * g.choice([0.1, 0.5, 1.0])
    p[:: max(1, n_ // 40)] = 1.0
    a, b = _pair(seed, buffered=seed % 2 == 0)
    np.testing.assert_array_equal(kernels.binomial(b, trials, p), a.binomial(trials, p))
    np.testing.assert_array_equal(kernels.binomial(b, trials, 0.3), a.binomial(trials, 0.3))
    assert a.bit_generator.state == b.bit_generator.state


@needs_numba
def test_outside_the_kernels_range_numpy_draws(kernels_on):
    """PTRS (lam >= 10) and BTPE (n min(p, 1 - p) > 30) are left to numpy: still the same numbers."""
    a, b = _pair(7, buffered=False)
    lam = np.array([0.5, 25.0, 3.0])
    np.testing.assert_array_equal(kernels.poisson(b, lam), a.poisson(lam))
    n_, p = np.array([5, 500, 2]), np.array([0.3, 0.4, 0.9])
    np.testing.assert_array_equal(kernels.binomial(b, n_, p), a.binomial(n_, p))
    assert a.bit_generator.state == b.bit_generator.state
    with pytest.raises(ValueError):
        kernels.binomial(b, np.array([3]), np.array([1.5]))


@needs_numba
@pytest.mark.parametrize("seed", range(3))
def test_adjacency_equals_scipy(kernels_on, seed):
    from simulation import networks

    g = np.random.default_rng(300 + seed)
    n = int(g.integers(10, 3000))
    src, dst = g.integers(0, n, 6 * n), g.integers(0, n, 6 * n)
    src[:5] = dst[:5]  # self-ties and duplicates are merged as scipy merges them
    src[5:10], dst[5:10] = dst[10:15], src[10:15]
    a, b = networks.adjacency(src, dst, n + 7), kernels.adjacency(src, dst, n + 7)
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name))
        assert getattr(b, name).dtype == getattr(a, name).dtype


@needs_numba
def test_adjacency_with_hubs_equals_scipy(kernels_on):
    """Rows longer than the in-place insertion sort handles (hubs) are sorted another way: same matrix."""
    from simulation import networks

    g = np.random.default_rng(310)
    n = 500
    src, dst = g.integers(0, n, 4000), g.integers(0, n, 4000)
    src[:300] = 7  # a hub with about 300 ties, some of them repeated
    dst[300:340] = 11
    a, b = networks.adjacency(src, dst, n), kernels.adjacency(src, dst, n)
    assert np.diff(a.indptr).max() > 32
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name))


@needs_numba
@pytest.mark.parametrize("seed", range(3))
def test_sums_over_ties_equal_scipy(kernels_on, seed):
    """One compiled pass over the ties gives scipy's matrix-vector products to the bit, two vectors at a
    time or one, with ties added since the last merge."""
    from simulation import networks

    g = np.random.default_rng(320 + seed)
    n = int(g.integers(50, 3000))
    ties = networks.TieNetwork(g.integers(0, n, 3 * n), g.integers(0, n, 3 * n), n)
    ties.add(g.integers(0, n, n // 10), g.integers(0, n, n // 10), n)  # below the merge threshold
    assert ties.n_merged < len(ties.src)
    xs = [g.standard_normal(n) * 10.0 ** g.integers(-3, 6, n), (g.random(n) < 0.3).astype(float), g.random(n)]
    xs[0][::17] = -0.0
    fast = ties.sums_over_ties(*xs)
    for x, y in zip(xs, fast):
        slow = ties._sum_over_ties(x)
        assert y.shape == slow.shape == (n,)
        np.testing.assert_array_equal(y.view(np.int64), slow.view(np.int64))
    np.testing.assert_array_equal(ties.degree(n), ties._sum_over_ties(np.ones(n)))  # trust: degree - ties to exits
    flag = (g.random(n) < 0.05).astype(float)  # counted from the flagged firms' side
    np.testing.assert_array_equal(ties.count_over_ties(flag).view(np.int64), ties._sum_over_ties(flag).view(np.int64))


@needs_numba
@pytest.mark.parametrize("seed", range(3))
def test_regional_tallies_equal_bincount(kernels_on, seed):
    g = np.random.default_rng(330 + seed)
    n, R = int(g.integers(1, 5000)), int(g.integers(1, 25))
    region = g.integers(0, R, n).astype(np.int32)
    mask = g.random(n) < 0.6
    weights = g.standard_normal(n) * 10.0 ** g.integers(-3, 6, n)
    count = kernels.count_where(region, mask, R)
    np.testing.assert_array_equal(count, np.bincount(region[mask], minlength=R))
    assert count.dtype == np.bincount(region[mask], minlength=R).dtype
    total = kernels.sum_where(region, mask, weights, R)
    expected = np.bincount(region[mask], weights=weights[mask], minlength=R)
    np.testing.assert_array_equal(total.view(np.int64), expected.view(np.int64))


def test_bargaining_terms_are_the_formula_and_follow_every_change():
    """world.bargaining() gives formulas.bargaining_share's numbers (P^phi taken once per region), and
    new numbers whenever B, P or phi change; the numbers it keeps cannot be written into."""
    from simulation.formulas import bargaining_share

    m = StateBusinessModel(rng=3, firms=400, burn_in=0, steps=1, residents_per_region=200)
    w, f, a = m.world, m.firms, m.world.akimats

    def check():
        bp, pp, share = w.bargaining()
        phi = w.params["bargaining_exponent"]
        expected = bargaining_share(a.power[f.region], f.strength, phi)
        np.testing.assert_array_equal(share.view(np.int64), expected.view(np.int64))
        np.testing.assert_array_equal(bp, np.power(np.maximum(f.strength, 1e-9), phi))
        np.testing.assert_array_equal(pp, np.power(a.power[f.region], phi))
        return share

    first = check()
    assert w.bargaining()[2] is first  # kept
    with pytest.raises(ValueError):
        first[0] = 0.0
    f.strength[3] = 0.0
    assert check() is not first
    a.power[:] = a.power * 0.5
    check()
    w.params["bargaining_exponent"] = 2.0
    check()


def test_last_year_follows_every_change_of_the_memory():
    """The yearly sums are kept between reads; a write through memory(), new rows and compaction
    each make them follow, and a kept sum cannot be written into."""
    from simulation.world import FirmTable

    f = FirmTable(8)
    f.add(4, alive=True)
    f.memory("demands")[0] = [1, 0, 2, 0]
    f.memory("output")[1] = [0.5, 0.25, 0.0, 1.0]
    first = f.last_year("demands")
    np.testing.assert_array_equal(first, [1, 0, 2, 0])
    assert f.last_year("demands") is first  # kept
    with pytest.raises(ValueError):
        first[0] = 5
    f.memory("demands")[2] = [0, 3, 0, 0]
    np.testing.assert_array_equal(f.last_year("demands"), [1, 3, 2, 0])
    f.add(2, alive=True)
    np.testing.assert_array_equal(f.last_year("demands"), [1, 3, 2, 0, 0, 0])
    f.alive[1] = False
    f.compact()
    np.testing.assert_array_equal(f.last_year("demands"), [1, 2, 0, 0, 0])
    np.testing.assert_array_equal(f.last_year("output"), [0.5, 0.0, 1.0, 0.0, 0.0])


class _Rec(NamedTuple):
    x: np.ndarray
    out: np.ndarray


class _Const(NamedTuple):
    scale: float
    times: int


@kernels.kernel
def _toy_pass(c, r):
    total = 0.0
    for i in range(r.x.size):
        r.out[i] = kernels.maximum(r.x[i], 0.0) * c.scale + c.times
        total += r.out[i]
    return total


@pytest.mark.parametrize("on", [True, False])
def test_a_kernel_runs_compiled_when_on_and_interpreted_when_off(on):
    """One function, both ways: the same numbers (plain arithmetic, no transcendental function), and compiled
    exactly when the kernels are on and numba is installed."""
    previous = kernels.use(on)
    _toy_pass._compiled = None
    try:
        c = kernels.constants(_Const, {"scale": 2, "times": 3.0})
        assert type(c.scale) is float and type(c.times) is int  # cast to the annotation: one compiled signature
        r = _Rec(np.array([-1.0, 0.5, np.nan]), np.zeros(3))
        total = _toy_pass(c, r)
        np.testing.assert_array_equal(r.out, [3.0, 4.0, np.nan])
        assert np.isnan(total)
        assert (_toy_pass._compiled is not None) == (on and kernels.AVAILABLE)
    finally:
        kernels.use(previous)


def test_a_view_is_made_of_the_sources_own_arrays():
    """A record's fields are the firm table's columns themselves (views, nothing copied), or a dict's items,
    or given by name."""
    from simulation.world import FirmTable

    class Firms(NamedTuple):
        capital: np.ndarray
        alive: np.ndarray

    f = FirmTable(8)
    f.add(3, alive=True, capital=1.0)
    rec = kernels.view(Firms, f)
    rec.capital[1] = 5.0
    assert f.capital[1] == 5.0 and np.shares_memory(rec.alive, f.alive)
    events = {"capital": np.zeros(3), "alive": np.ones(3, dtype=bool), "other": None}
    assert kernels.view(Firms, events).capital is events["capital"]
    given = np.arange(3.0)
    assert kernels.view(Firms, f, capital=given).capital is given
