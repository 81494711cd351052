"""Compiled code (numba): the kernel machinery, the random draws and the per-region tallies.

A mechanism's arithmetic is written once, in its submodel (``simulation/submodels/*.py``, and the
observer's labels in ``simulation/observe/observer.py``), as plain Python functions over small records of
arrays, decorated with ``@kernel`` (``jit.py``): numba compiles them when the kernels are on, and the
interpreter runs the same functions when they are off. There is no numpy twin to keep equal; the
regression baseline (``tests/baseline``, portable mode) is the contract.

This package holds what is not a mechanism:

- ``jit.py``: ``kernel`` (compile when on, interpret when off), ``jitable`` (a helper that kernels call),
  ``maximum``/``minimum`` (numpy's NaN rules), and the records' builders ``view`` and ``constants``.
- ``draws.py``: Poisson and binomial draws. ``numpy.random.Generator.poisson`` and ``.binomial`` over an
  array cost about 80-100 ns an element, most of it per-element overhead. The kernels run numpy's own
  algorithms (numba's port of numpy's ``random_poisson`` and ``random_binomial``: the multiplication
  method and PTRS, inversion and BTPE) on a block of uniforms drawn in bulk with ``rng.random``, then put
  the generator where the element-by-element draws would have left it (``PCG64.advance``). The result,
  and the generator's state after the call, are numpy's, to the bit; off, numpy draws them.
- ``tallies.py``: per-region tallies and the ties' CSR helpers (numpy or scipy when off, the same numbers).
- ``switch.py``: ``AVAILABLE``, ``enabled``, ``use``: one switch for all of them.

Rules inside a kernel (issue 24's fast path): as few passes per submodel as it can be, with ``math.exp``
and ``pow`` inside where few firms need them or a pass is saved (the C library's, as numba calls them;
numpy's SIMD loops differ in the last bit, so results changed from the last bit on when the fast path
replaced the bit-identical one); where a transcendental function runs over every firm, numpy's SIMD loop
stays between passes (4-7x faster per element than numba's ``math`` on this machine); the draws
stay numpy's, on the step's stream and in its order (uniforms and normals in bulk, Poisson and binomial
through ``draws.py``), so that runs stay paired and the submodels' unit tests can script them.

Switch: ``STATEBIZ_KERNELS=numpy`` in the environment (read at import) or ``use(False)`` runs the same
functions interpreted (slow: for tests on small worlds, and where numba is missing). Kernels are compiled
on first use and cached on disk (``cache=True``, in ``__pycache__`` or ``NUMBA_CACHE_DIR``);
``simulation.model.compile_kernels()`` compiles them all by running a tiny model (the benchmark times it
separately).
"""

from __future__ import annotations

import time

import numpy as np

from .draws import BINOMIAL_INVERSION_MAX, POISSON_MULT_MAX, binomial, poisson
from .jit import constants, jitable, kernel, maximum, minimum, view
from .switch import AVAILABLE, enabled, numba, use
from .tallies import adjacency, count_where, csr_count, csr_sums, sum_where


def warm_up() -> float:
    """Compile (or load from the cache) the draws' kernels; returns the seconds it took (the submodels' kernels
    compile on first use: ``simulation.model.compile_kernels()`` runs a tiny model for them)."""
    if not AVAILABLE:
        return 0.0
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    previous = use(True)
    try:
        poisson(rng, np.array([0.5, 2.0]))
        binomial(rng, np.array([0, 3, 10]), np.array([0.2, 0.7, 0.4]))
    finally:
        use(previous)
    return time.perf_counter() - started


__all__ = [
    "AVAILABLE",
    "BINOMIAL_INVERSION_MAX",
    "POISSON_MULT_MAX",
    "adjacency",
    "binomial",
    "constants",
    "count_where",
    "csr_count",
    "csr_sums",
    "enabled",
    "jitable",
    "kernel",
    "maximum",
    "minimum",
    "numba",
    "poisson",
    "sum_where",
    "use",
    "view",
    "warm_up",
]
