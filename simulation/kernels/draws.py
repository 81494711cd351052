"""Poisson and binomial draws by numpy's own algorithms on a block of uniforms, to the bit.

numpy's ``random_poisson`` (multiplication method) and ``random_binomial`` (inversion) run on
uniforms drawn in bulk with ``rng.random``; the generator is then put where element-by-element
draws would have left it (``PCG64.advance``). PTRS and BTPE cases are left to numpy. See the
package's docstring.
"""

from __future__ import annotations

import numpy as np

from .switch import AVAILABLE, enabled, numba

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


if AVAILABLE:

    @numba.njit(cache=True)
    def _binomial_check(n, p, inversion_max):  # pragma: no cover - compiled
        """One pass over the arguments: -1 when numpy would refuse them (n < 0, p outside [0, 1]),
        -2 when some draw needs BTPE (n min(p, 1 - p) above ``inversion_max``), else the draws that
        use a uniform (n > 0 and p > 0)."""
        used = 0
        btpe = False
        for i in range(n.size):
            trials, prob = n[i], p[i]
            if trials < 0 or not (prob >= 0.0 and prob <= 1.0):
                return -1
            if trials * min(prob, 1.0 - prob) > inversion_max:
                btpe = True
            if trials > 0 and prob > 0.0:
                used += 1
        return -2 if btpe else used

    @numba.njit(cache=True)
    def _poisson_check(lam, mult_max):  # pragma: no cover - compiled
        """One pass: -1.0 unless every lam is in [0, ``mult_max``) (numpy's multiplication method),
        else the sum of lam."""
        total = 0.0
        for i in range(lam.size):
            mean = lam[i]
            if not (mean >= 0.0 and mean < mult_max):
                return -1.0
            total += mean
        return total


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
    if not (enabled() and _exact_rng(rng) and lam.ndim == 1) or lam.size == 0:
        return rng.poisson(lam)
    total = _poisson_check(lam, POISSON_MULT_MAX)
    if total < 0.0:  # PTRS, or numpy's own error
        return rng.poisson(lam)
    # the multiplication method uses lam + 1 uniforms on average
    guess = total * 1.05 + 1.05 * lam.size + 64
    return _draw_from_blocks(rng, _poisson_block, guess, lam)


def binomial(rng: np.random.Generator, n: np.ndarray, p: np.ndarray | float) -> np.ndarray:
    """``rng.binomial(n, p)`` for a 1-d integer array n: the same numbers and the same state after."""
    n = np.ascontiguousarray(n, dtype=np.int64)
    if not (enabled() and _exact_rng(rng) and n.ndim == 1) or n.size == 0:
        return rng.binomial(n, p)
    p = np.ascontiguousarray(np.broadcast_to(np.asarray(p, dtype=np.float64), n.shape))
    used = _binomial_check(n, p, BINOMIAL_INVERSION_MAX)
    if used < 0:  # numpy's own error (-1), or BTPE (-2): numpy draws these
        return rng.binomial(n, p)
    # inversion draws one uniform a draw with n > 0 and p > 0 (another only when it restarts, rarely)
    guess = 1.02 * used + 64
    return _draw_from_blocks(rng, _binomial_block, guess, n, p)
