"""What the ``dask`` backend installs on the workers of the local cluster it starts.

Imported only by that backend (it imports ``distributed``). A worker of a ``LocalCluster`` is
a process started with ``spawn``; when the cluster closes, the worker closes and its Python
interpreter then tears every module down. With the model's modules loaded (mesa, numba,
pandas, pyarrow, distributed) that teardown takes 0.4-0.5 s of a plain process, and closing
a 2-worker cluster after a sweep took 0.5-1.1 s (``benchmarks/bench_sweep.py``, "shut-down s").
Worker processes of the ``processes`` backend end with ``os._exit`` (multiprocessing does so
for forked children), so they do not pay it. :class:`QuickExit` makes a Dask worker do the
same, once the worker has closed normally.
"""

from __future__ import annotations

import atexit
import os
import sys

from distributed.diagnostics.plugin import WorkerPlugin


class QuickExit(WorkerPlugin):
    """End the worker process with ``os._exit(0)`` at interpreter exit, after a normal close.

    ``setup`` registers an exit handler; ``teardown`` (called when the worker closes) marks the
    close as normal. The handler runs when the worker's process function has returned and its
    threads have been joined, flushes standard output and error and ends the process, skipping
    the rest of the interpreter's shutdown (the other exit handlers and the modules' teardown).
    A worker that did not close normally (an exception, a lost nanny) exits the ordinary way,
    with its own exit code. Results are sent to the scheduler before a worker closes, and the
    worker writes no files, so nothing is lost.
    """

    idempotent = True  # registered again (a restarted client): nothing new to do
    name = "statebiz-quick-exit"

    def __init__(self) -> None:
        self.closed = False

    def setup(self, worker) -> None:
        """Register the exit handler (in the worker's process)."""
        atexit.register(self._exit)

    def teardown(self, worker) -> None:
        """The worker is closing normally: let the process end at once when it exits."""
        self.closed = True

    def _exit(self) -> None:
        if not self.closed:
            return
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        os._exit(0)
