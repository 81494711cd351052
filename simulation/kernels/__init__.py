"""Compiled kernels (numba) for the hot spots of a quarter, bit-identical to the numpy path.

The model runs the same numpy code with or without numba; where a kernel exists, the
submodel calls it through this module and gets exactly the numbers that numpy gives for the
same seed (``tests/core/test_kernels.py`` checks every kernel against numpy, and the regression
baseline is checked with the kernels on and off). Two kinds of kernel:

- Random draws. ``numpy.random.Generator.poisson`` and ``.binomial`` over an array cost about
  80-100 ns an element, most of it per-element overhead. The kernels here run numpy's own
  algorithms (numba's port of numpy's ``random_poisson`` and ``random_binomial``: the
  multiplication method and PTRS, inversion and BTPE) on a block of uniforms drawn in bulk
  with ``rng.random`` (every one of those algorithms consumes the generator only through
  ``next_double``), then put the generator where the element-by-element draws would have
  left it: the block's draws that were not used are given back by restoring the saved state
  and advancing it by the number used (``PCG64.advance``). The result, and the generator's
  state after the call, are the same as numpy's, to the bit.
- Fused arithmetic: a pass over the firms that does in one loop what numpy does in many
  (each array operation a pass and a temporary), with the same operations in the same order,
  so that floating-point results are identical. Transcendental functions (exp, log, pow,
  tanh) are left to numpy, whose SIMD versions differ in the last bit from the C library's.

Switch: ``STATEBIZ_KERNELS=numpy`` in the environment (read at import) or ``use(False)`` runs
the plain numpy path; without numba installed the numpy path runs. Kernels are compiled on
first use and cached on disk (``cache=True``, in ``__pycache__`` or ``NUMBA_CACHE_DIR``), so a
process pays the compilation once per machine, not once per run; ``warm_up()`` compiles them
all (the benchmark times it separately).

Layout: ``switch.py`` (``AVAILABLE``, ``enabled``, ``use``: every kernel asks ``enabled()`` at
call time, so one switch turns them all), ``draws.py`` (Poisson and binomial), ``tallies.py``
(per-region tallies and the ties' CSR helpers), ``passes.py`` (the fused passes of economy, trust,
support, the dealings' demands, the observer and capture). Callers use the names re-exported
here (``from simulation import kernels; kernels.trust_pass(...)``).
"""

from __future__ import annotations

import time

import numpy as np

from .draws import BINOMIAL_INVERSION_MAX, POISSON_MULT_MAX, binomial, poisson
from .passes import (
    capture_pass,
    dealings_demands,
    economy_pass,
    observe,
    support_pass,
    trust_pass,
    youth_eligible,
)
from .switch import AVAILABLE, enabled, numba, use
from .tallies import adjacency, count_where, csr_count, csr_sums, sum_where


def warm_up() -> float:
    """Compile (or load from the cache) every kernel; returns the seconds it took."""
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
    "capture_pass",
    "count_where",
    "csr_count",
    "csr_sums",
    "dealings_demands",
    "economy_pass",
    "enabled",
    "numba",
    "observe",
    "poisson",
    "sum_where",
    "support_pass",
    "trust_pass",
    "use",
    "warm_up",
    "youth_eligible",
]
