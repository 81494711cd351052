"""Where runs execute: in this process (serial), on local processes, or on Dask.

Every backend takes an iterator of tasks and yields ``(task_id, row)`` as runs finish, in
completion order; the caller stores rows by key, so the order does not matter. At most a
bounded number of tasks is in flight at once, so memory stays flat however many runs an
experiment has. The function a worker executes is :func:`execute`, a top-level function
that catches the run's exception and returns it as the row's ``error``.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

BACKENDS = ("serial", "processes", "dask")
#: Environment for workers: one thread each (the model is single-threaded numpy).
SINGLE_THREAD_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}

#: Dask settings for the workers of a local cluster (README: the same for a cluster's workers).
#: Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 so that workers hand memory back to the OS;
#: for this model's many short-lived numpy arrays that costs ~30% of run time in page faults.
#: The statistical profiler (a stack sample every 10 ms) costs a few % more.
DASK_WORKER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": str(1 << 30),
    "distributed.worker.profile.enabled": False,
}

Task = tuple[int, Callable, dict, int, int, tuple]


def run_one(params: dict[str, Any], seed: int, steps: int, outcomes: tuple[str, ...]) -> dict[str, float]:
    """The default run function: one replication of the model, only the kept outcomes."""
    from ..runner import run_model

    out = run_model(steps=steps, seed=seed, **{k: v for k, v in params.items() if k != "steps"})
    return {k: out[k] for k in outcomes}


def execute(task: Task) -> tuple[int, dict[str, Any]]:
    """Run one task; never raises for a failing run (the error goes into the row)."""
    task_id, fn, params, seed, steps, outcomes = task
    started = time.perf_counter()
    try:
        row = dict(fn(dict(params), seed, steps, outcomes))
        row["error"] = None
    except Exception as err:  # noqa: BLE001 - a failing run is data, the sweep goes on
        last = traceback.extract_tb(err.__traceback__)[-1:] or [None]
        where = f" (at {os.path.basename(last[0].filename)}:{last[0].lineno})" if last[0] else ""
        row = {"error": f"{type(err).__name__}: {err}{where}".replace("\n", " ")}
    row["elapsed_s"] = time.perf_counter() - started
    return task_id, row


def _init_worker() -> None:
    os.environ.update(SINGLE_THREAD_ENV)


def _single_threaded() -> bool:
    """True if this process has one OS thread (Linux), so that fork cannot deadlock a child."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run_serial(tasks: Iterable[Task]) -> Iterator[tuple[int, dict]]:
    for task in tasks:
        yield execute(task)


def run_processes(tasks: Iterable[Task], workers: int) -> Iterator[tuple[int, dict]]:
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    methods = mp.get_all_start_methods()
    if "fork" in methods and _single_threaded():
        # no other thread in this process: fork is safe, and workers start at once with the
        # model already imported (forkserver or spawn would import mesa again, ~2 s)
        ctx = mp.get_context("fork")
    elif "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["simulation.runner", "simulation.runs.backends"])  # import mesa once
    else:
        ctx = mp.get_context("spawn")
    window = max(2 * workers, 4)
    tasks = iter(tasks)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker)
    try:
        pending = set()
        for task in tasks:
            pending.add(pool.submit(execute, task))
            if len(pending) >= window:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
                nxt = next(tasks, None)
                if nxt is not None:
                    pending.add(pool.submit(execute, nxt))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def check_dask_address(address: str, timeout: str = "15s") -> None:
    """Connect to a Dask scheduler once, so that a wrong address fails before anything is written.

    Raises:
        OSError: the scheduler cannot be reached (with the address in the message).
    """
    from distributed import Client

    try:
        Client(address, timeout=timeout).close()
    except (OSError, TimeoutError) as err:
        raise OSError(f"cannot reach a Dask scheduler at {address}: {err}") from None


def run_dask(tasks: Iterable[Task], workers: int, address: str | None) -> Iterator[tuple[int, dict]]:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if address:
        client = Client(address, timeout="30s")
    else:
        import dask

        with dask.config.set(DASK_WORKER_CONFIG):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, env=SINGLE_THREAD_ENV)
        client = Client(cluster)
    try:
        slots = sum(client.nthreads().values()) or workers
        window = max(2 * slots, 4)
        tasks = iter(tasks)
        first = []
        for task in tasks:
            first.append(client.submit(execute, task, pure=False))
            if len(first) >= window:
                break
        queue = as_completed(first)
        for fut in queue:
            result = fut.result()
            fut.release()
            yield result
            nxt = next(tasks, None)
            if nxt is not None:
                queue.add(client.submit(execute, nxt, pure=False))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_tasks(tasks: Iterable[Task], backend: str, workers: int | None = None,
              address: str | None = None) -> Iterator[tuple[int, dict]]:
    workers = workers or default_workers()
    if backend == "serial":
        return run_serial(tasks)
    if backend == "processes":
        return run_processes(tasks, workers)
    if backend == "dask":
        return run_dask(tasks, workers, address)
    raise ValueError(f"backend {backend!r}; expected one of {', '.join(BACKENDS)}")
