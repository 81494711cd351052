"""The numba kernels give the numpy path's numbers to the bit (issue 11).

Each kernel is checked against the numpy call it replaces, on the numbers and on the state in
which it leaves the generator (so that every later draw of the stream agrees too), and a whole
run is checked with the kernels on and off. Without numba the kernels are off and these tests
only check that the numpy path runs.
"""

from __future__ import annotations

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


def _tables(on: bool, **params):
    previous = kernels.use(on)
    try:
        m = StateBusinessModel(rng=9, residents_per_region=200, **params)
        m.run()
        f = m.firms
        return m.region_table(), m.regime_table(), f.capital.copy(), f.captor.copy(), f.satisfaction.copy()
    finally:
        kernels.use(previous)


RUNS = {
    "national": {"regions": "all", "firms": 3000, "burn_in": 3, "steps": 5},
    # weak akimats, strong firms, no legal shield: captures, clients, patronage and rents in play
    "captures": {
        "firms": 2000,
        "burn_in": 10,
        "steps": 6,
        "governance": "symbiotic",
        "capture_effort": 1.0,
        "business_strength": 0.9,
        "power_strength": 0.1,
        "legal_quality": 0.0,
    },
}


@pytest.mark.parametrize("case", sorted(RUNS))
def test_a_run_is_the_same_with_and_without_kernels(case):
    with_kernels, without = _tables(True, **RUNS[case]), _tables(False, **RUNS[case])
    for x, y in zip(with_kernels[:2], without[:2]):
        assert x.equals(y)
    for x, y in zip(with_kernels[2:], without[2:]):
        np.testing.assert_array_equal(x, y)
    if case == "captures" and kernels.AVAILABLE:
        assert with_kernels[3].any(), "no captor: the case does not test the capture kernel"
