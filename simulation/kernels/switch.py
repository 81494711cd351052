"""The switch of the compiled kernels: numba present (``AVAILABLE``), and on or off (``enabled``, ``use``).

Every kernel module asks ``enabled()`` at call time, so ``use()`` (or ``STATEBIZ_KERNELS=numpy``,
read at import) switches all of them at once.
"""

from __future__ import annotations

import os

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
