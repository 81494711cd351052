"""What the local process pool's workers inherit: the model imported and its kernels compiled.

``evaluator._process_context`` has the fork server import this module before it forks any worker
(and the fork path calls :func:`prepare` in the driver before the pool starts), so that the
kernels are compiled, or loaded from numba's on-disk cache, once per pool rather than once per
worker. On a fresh clone, where numba's cache is empty, every worker used to compile every kernel
itself at the same time (about 14.5 CPU s each on the 2-core development machine, issue 24), and
then loaded them from the cache in each later command (about 0.5 CPU s each). A worker forked
after :func:`prepare` has the compiled code in memory already. Nothing about the runs changes: the
same compiled functions run, on the same arguments.
"""

from __future__ import annotations

import sys

_done = False


def prepare() -> None:
    """Compile (or load from the cache) the kernels in this process, once; never raises (a kernel
    that fails to compile here fails again, with its message, in the run that needs it)."""
    global _done
    if _done:
        return
    _done = True
    from ..kernels import enabled

    if not enabled():  # STATEBIZ_KERNELS=numpy, or numba missing: nothing to compile
        return
    try:
        from ..model import compile_kernels

        compile_kernels()
    except Exception as err:  # noqa: BLE001 - the workers compile lazily, as before, and report it
        print(f"statebiz: note: compiling the kernels before the workers start failed ({err})", file=sys.stderr)


if __name__ != "__main__":  # imported by the fork server (its preload list)
    prepare()
