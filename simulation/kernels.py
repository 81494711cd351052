"""Compiled kernels (numba) for the hot spots of a quarter, bit-identical to the numpy path.

The model runs the same numpy code with or without numba; where a kernel exists, the
submodel calls it through this module and gets exactly the numbers that numpy gives for the
same seed (``tests/test_kernels.py`` checks every kernel against numpy, and the regression
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
"""

from __future__ import annotations

import os
import time

import numpy as np

try:  # numba is a dependency, but the model runs without it
    import numba

    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only where numba is missing
    numba = None
    AVAILABLE = False

_enabled = AVAILABLE and os.environ.get("STATEBIZ_KERNELS", "numba").lower() != "numpy"


def enabled() -> bool:
    """True when the numba kernels run (numba is installed and they were not switched off)."""
    return _enabled


def use(on: bool) -> bool:
    """Switch the kernels on or off (on only where numba is installed); returns the previous setting."""
    global _enabled
    previous = _enabled
    _enabled = bool(on) and AVAILABLE
    return previous


# --- random draws --------------------------------------------------------------------------
#: numpy's Poisson uses the multiplication method below this mean (PTRS above it).
POISSON_MULT_MAX = 10.0
#: numpy's binomial uses inversion while n min(p, 1 - p) stays at or below this (BTPE above it).
BINOMIAL_INVERSION_MAX = 30.0

if AVAILABLE:

    @numba.njit(cache=True)
    def _poisson_block(buf, lam, out):  # pragma: no cover - compiled
        """numpy's random_poisson_mult for each lam (< 10) on uniforms buf; -1 if buf ran out."""
        pos = 0
        size = buf.size
        for i in range(lam.size):
            mean = lam[i]
            if mean == 0.0:
                out[i] = 0
                continue
            enlam = np.exp(-mean)
            x = 0
            prod = 1.0
            while True:
                if pos >= size:
                    return -1
                prod *= buf[pos]
                pos += 1
                if prod > enlam:
                    x += 1
                else:
                    break
            out[i] = x
        return pos

    @numba.njit(cache=True)
    def _binomial_block(buf, n, p, out):  # pragma: no cover - compiled
        """numpy's random_binomial (inversion branch) for each (n, p) on uniforms buf; -1 if buf ran out."""
        pos = 0
        size = buf.size
        for i in range(n.size):
            trials = n[i]
            prob = p[i]
            if trials == 0 or prob == 0.0:
                out[i] = 0
                continue
            flip = prob > 0.5
            if flip:
                prob = 1.0 - prob
            q = 1.0 - prob
            qn = np.exp(trials * np.log(q))
            mean = trials * prob
            bound = int(min(float(trials), mean + 10.0 * np.sqrt(mean * q + 1)))
            x = 0
            px = qn
            if pos >= size:
                return -1
            u = buf[pos]
            pos += 1
            while u > px:
                x += 1
                if x > bound:
                    x = 0
                    px = qn
                    if pos >= size:
                        return -1
                    u = buf[pos]
                    pos += 1
                else:
                    u -= px
                    px = ((trials - x + 1) * prob * px) / (x * q)
            out[i] = trials - x if flip else x
        return pos


def _draw_from_blocks(rng: np.random.Generator, kernel, first_guess: int, *args) -> np.ndarray:
    """Run a draw kernel on a block of uniforms, then leave ``rng`` where element-by-element draws would."""
    bit_generator = rng.bit_generator
    saved = bit_generator.state
    size = args[0].size
    out = np.empty(size, dtype=np.int64)
    block = max(int(first_guess), 64)
    while True:
        used = kernel(rng.random(block), *args, out)
        if used >= 0:
            break
        bit_generator.state = saved
        block *= 2
    bit_generator.state = saved
    bit_generator.advance(used)
    if saved["has_uint32"]:  # advance() drops a buffered half word that next_double never touches
        state = bit_generator.state
        state["has_uint32"], state["uinteger"] = saved["has_uint32"], saved["uinteger"]
        bit_generator.state = state
    return out


def _exact_rng(rng) -> bool:
    return isinstance(rng, np.random.Generator) and isinstance(rng.bit_generator, np.random.PCG64)


def poisson(rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    """``rng.poisson(lam)`` for a 1-d float array: the same numbers and the same state after."""
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    if not (_enabled and _exact_rng(rng) and lam.ndim == 1) or lam.size == 0:
        return rng.poisson(lam)
    if not (np.all(lam >= 0.0) and np.all(lam < POISSON_MULT_MAX)):  # PTRS, or numpy's own error
        return rng.poisson(lam)
    # the multiplication method uses lam + 1 uniforms on average
    guess = float(lam.sum()) * 1.05 + 1.05 * lam.size + 64
    return _draw_from_blocks(rng, _poisson_block, guess, lam)


def binomial(rng: np.random.Generator, n: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    """``rng.binomial(n, p)`` for a 1-d integer array n: the same numbers and the same state after."""
    n = np.ascontiguousarray(n, dtype=np.int64)
    if not (_enabled and _exact_rng(rng) and n.ndim == 1) or n.size == 0:
        return rng.binomial(n, p)
    p = np.ascontiguousarray(np.broadcast_to(np.asarray(p, dtype=np.float64), n.shape))
    if not (np.all(n >= 0) and np.all(p >= 0.0) and np.all(p <= 1.0)):  # numpy's own error
        return rng.binomial(n, p)
    q = np.minimum(p, 1.0 - p)
    if np.any(n * q > BINOMIAL_INVERSION_MAX):  # BTPE: numpy draws these
        return rng.binomial(n, p)
    # inversion draws about n min(p, 1 - p) + 1 uniforms
    guess = float((n * q).sum()) * 1.05 + 1.05 * np.count_nonzero(n) + 64
    return _draw_from_blocks(rng, _binomial_block, guess, n, p)


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
