"""One evaluator for every kind of run: tasks on any ``concurrent.futures.Executor``.

:func:`evaluate` takes an iterator of tasks and an executor and yields ``(task_id, row)`` as
runs finish, in completion order; callers store rows by task id or run key, so the order
does not matter. At most a bounded number of tasks is in flight at once, so memory stays
flat however many runs there are. The function an executor runs is :func:`execute`, a
top-level function that catches the run's exception and returns it as the row's ``error``.

Executors come from :func:`open_executor` by backend name:

- ``serial``: :class:`SerialExecutor`, in this process (each ``submit`` runs the call);
- ``processes``: a ``ProcessPoolExecutor`` on this machine (fork when this process has a
  single thread, else forkserver with the model preloaded), single-threaded workers;
- ``dask``: ``distributed.Client(...).get_executor(pure=False)`` on a local cluster (its
  workers get ``dask_worker.QuickExit``) or, with an address, on a running scheduler;
- ``mpi``: ``mpi4py.futures.MPIPoolExecutor`` (the optional extra ``statebiz[mpi]``), which
  spawns its workers, or uses those of ``mpiexec -n N python -m mpi4py.futures ...``.

The sweep (``runs/sweep.py``), the comparison (``report/runs.py``) and the calibration
(``calibration.py``, the sampler's runs of each stage) all use it.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

BACKENDS = ("serial", "processes", "dask", "mpi")
#: Environment for workers: one thread each (the model is single-threaded numpy).
SINGLE_THREAD_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}

#: Dask settings for the workers of a local cluster (README: the same for a cluster's workers).
#: Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 so that workers hand memory back to the OS;
#: for this model's many short-lived numpy arrays that costs ~30% of run time in page faults.
#: The statistical profiler (a stack sample every 10 ms) costs a few % more. Every scheduler,
#: nanny and worker checks its event loop's health every 20 ms by default: an idle 2-worker
#: local cluster then took 3-5% of a core in the driver (scheduler and nannies) and 2% in each
#: worker, time taken from the runs when there is one core per worker; with a check every
#: second, 1-2% and under 1% (the check only warns of an event loop blocked for over 3 s).
DASK_WORKER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": str(1 << 30),
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
}

#: A task: (task_id, run function, parameters, seed, reported quarters, outcomes to keep).
Task = tuple[int, Callable, dict, int, int, tuple]
#: How often a task whose worker process died is tried again before it is recorded as failed.
RETRIES = 2
#: The environment variable that sets :data:`NO_WORKER_SECONDS`.
ENV_NO_WORKER_SECONDS = "STATEBIZ_NO_WORKER_SECONDS"
#: Worker processes per core at most (more only wait for a core and take memory), and the most ever.
WORKERS_PER_CORE = 2
MAX_WORKERS = 1024


def read_no_worker_seconds() -> float:
    """Seconds a sweep waits with no worker left: ``$STATEBIZ_NO_WORKER_SECONDS``, else 120.

    Raises:
        ValueError: the variable is not a number of seconds in (0, 1e6] (one line naming it).
    """
    text = os.environ.get(ENV_NO_WORKER_SECONDS, "120")
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1e6:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise ValueError(
            f"{ENV_NO_WORKER_SECONDS}: {shown!r} is not allowed; expected a number of seconds in (0, 1000000]"
        )
    return value


def _no_worker_seconds_or_default() -> float:
    try:
        return read_no_worker_seconds()
    except ValueError:  # the command line checks it first (one line, exit 2); a library user gets the default
        return 120.0


#: Seconds a sweep waits with no worker left (every Dask worker gone) before it stops with a message.
NO_WORKER_SECONDS = _no_worker_seconds_or_default()


def cap_workers(workers: int | None, say: Callable[[str], None] | None = None) -> int:
    """The worker processes to start for ``workers`` asked: all cores when None, at most
    :data:`WORKERS_PER_CORE` per core (``say`` gets a one-line note when capped).

    Raises:
        ValueError: ``workers`` is below 1 or above :data:`MAX_WORKERS` (one line).
    """
    cores = default_workers()
    if workers is None:
        return cores
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(
            f"--workers: {workers} is not allowed; expected an integer in [1, {MAX_WORKERS}] "
            f"(at most {WORKERS_PER_CORE * cores} are used on this machine's {cores} cores)"
        )
    cap = WORKERS_PER_CORE * cores
    if workers > cap:
        if say is not None:
            say(
                f"--workers {workers}: capped at {cap} ({WORKERS_PER_CORE} per core of the {cores} this process "
                "may use; more would only wait for a core)"
            )
        return cap
    return workers


class NoWorkersError(OSError):
    """No worker has been left to run the tasks for :data:`NO_WORKER_SECONDS`."""


# --------------------------------------------------------------------------- tasks


def run_one(params: dict[str, Any], seed: int, steps: int, outcomes: tuple[str, ...]) -> dict[str, float]:
    """The default run function: one replication of the model, only the kept outcomes."""
    from ..runner import run_model

    out = run_model(steps=steps, seed=seed, **{k: v for k, v in params.items() if k != "steps"})
    return {k: out[k] for k in outcomes}


def execute(task: Task) -> tuple[int, dict[str, Any]]:
    """Run one task; never raises for a failing run (the error goes into the row, with ``elapsed_s``)."""
    task_id, fn, params, seed, steps, outcomes = task
    started = time.perf_counter()
    try:
        row = dict(fn(dict(params), seed, steps, outcomes))
        row["error"] = None
    except Exception as err:  # noqa: BLE001 - a failing run is data, the caller goes on
        last = traceback.extract_tb(err.__traceback__)[-1:] or [None]
        where = f" (at {os.path.basename(last[0].filename)}:{last[0].lineno})" if last[0] else ""
        row = {"error": f"{type(err).__name__}: {err}{where}".replace("\n", " ")}
    row["elapsed_s"] = time.perf_counter() - started
    return task_id, row


def evaluate(
    tasks: Iterable[Task],
    executor: Executor,
    window: int = 4,
    restart: Callable[[], Executor] | None = None,
    retries: int = RETRIES,
    alive: Callable[[], bool] | None = None,
    no_worker_seconds: float | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Run ``tasks`` on ``executor`` and yield ``(task_id, row)`` as each finishes.

    At most ``window`` tasks are submitted and unfinished at a time (the next task is taken
    from ``tasks`` only when one finishes). Leaving the loop early cancels what has not started.

    When a worker process dies (the executor breaks) and ``restart`` gives a fresh executor,
    the tasks that were in flight are submitted again, each at most ``retries`` times, and
    then yielded as failed runs (``error`` says the worker died); the others go on.

    ``alive()`` says whether the backend has any worker left; when it has had none for
    ``no_worker_seconds`` (default :data:`NO_WORKER_SECONDS`), :class:`NoWorkersError` is raised.
    """
    window = max(1, int(window))
    tasks = iter(tasks)
    pending: dict[Future, Task] = {}
    tries: dict[int, int] = {}
    fresh: list[Task] = []  # taken from tasks but not submitted (the pool broke): never charged
    suspects: list[Task] = []  # in flight when a worker died: run again one at a time
    reason = "a worker process died"
    limit = NO_WORKER_SECONDS if no_worker_seconds is None else no_worker_seconds
    alone_since: float | None = None

    def submit(task: Task) -> bool:
        try:
            pending[executor.submit(execute, task)] = task
            return True
        except BrokenExecutor:
            if restart is None:
                raise
            fresh.append(task)
            return False

    def refill() -> None:
        while not suspects and len(pending) < window:
            task = fresh.pop(0) if fresh else next(tasks, None)
            if task is None or not submit(task):
                return

    try:
        refill()
        while pending or fresh or suspects:
            if not pending:
                if suspects:  # isolate: a suspect that breaks the pool alone is the one to blame
                    submit(suspects.pop(0))
                else:
                    refill()
                if not pending:  # the pool is broken before anything ran
                    executor = restart()
                    continue
            poll = None if alive is None else min(5.0, max(limit / 4, 0.01))
            done, _ = wait(list(pending), timeout=poll, return_when=FIRST_COMPLETED)
            if alive is not None and not done:
                if alive():
                    alone_since = None
                else:
                    alone_since = alone_since or time.monotonic()
                    if time.monotonic() - alone_since >= limit:
                        raise NoWorkersError(f"no worker left to run the tasks for {limit:.0f} s; stopped")
            broken: list[Task] = []
            for fut in done:
                task = pending.pop(fut)
                try:
                    result = fut.result()
                except BrokenExecutor as err:
                    if restart is None:
                        raise
                    broken.append(task)
                    reason = f"{type(err).__name__}: a worker process died"
                    continue
                yield result
            if broken:  # every task in flight went down with the pool
                broken += list(pending.values())
                pending.clear()
                executor = restart()
                for task in broken:
                    tries[task[0]] = tries.get(task[0], 0) + 1
                    if tries[task[0]] > retries:
                        yield task[0], {"error": f"{reason} ({retries + 1} tries)", "elapsed_s": float("nan")}
                    else:
                        suspects.append(task)
            refill()
    finally:
        for fut in pending:
            fut.cancel()


# --------------------------------------------------------------------------- executors


class SerialExecutor(Executor):
    """An executor that runs each call in this process, at ``submit``, and returns a done Future."""

    def __init__(self) -> None:
        self._shutdown = False
        self._lock = threading.Lock()

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        """Run ``fn(*args, **kwargs)`` now; its result or exception is in the returned Future."""
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit to a SerialExecutor after shutdown")
        future: Future = Future()
        future.set_running_or_notify_cancel()
        try:
            result = fn(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - delivered through the Future, as other executors do
            future.set_exception(err)
        else:
            future.set_result(result)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse further submissions (nothing is ever pending)."""
        with self._lock:
            self._shutdown = True


@dataclass
class Pool:
    """An open executor with what callers need to size their windows."""

    backend: str
    executor: Executor
    slots: int  # tasks that run at the same time (workers)
    restart: Callable[[], Executor] | None = None  # a fresh executor after a worker died (processes)
    alive: Callable[[], bool] | None = None  # whether any worker is left (dask)

    @property
    def window(self) -> int:
        """Tasks to keep in flight: one for serial, else twice the slots (at least 4)."""
        return 1 if self.backend == "serial" else max(2 * self.slots, 4)


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def check_backend(backend: str) -> None:
    """Raise ValueError for an unknown backend name."""
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r}; expected one of {', '.join(BACKENDS)}")


def _watch_parent(pid: int) -> None:
    """Exit this process as soon as process ``pid`` (the driver) is gone."""
    try:
        import select

        fd = os.pidfd_open(pid)
        select.select([fd], [], [])
    except (AttributeError, OSError):  # no pidfd (old kernel, not Linux): poll
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass
            time.sleep(0.5)
    os._exit(3)


def watch_parent(pid: int) -> None:
    """Start a daemon thread that ends this worker process when the driver ``pid`` exits,
    however it exits (a SIGKILL included), so that no worker outlives its sweep."""
    threading.Thread(target=_watch_parent, args=(pid,), daemon=True, name="statebiz-watch-parent").start()


def _init_worker(parent: int | None = None) -> None:
    os.environ.update(SINGLE_THREAD_ENV)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    if parent is not None:
        watch_parent(parent)


def _single_threaded() -> bool:
    """True if this process has one OS thread (Linux), so that fork cannot deadlock a child."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _process_context():
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if "fork" in methods and _single_threaded():
        # no other thread in this process: fork is safe, and workers start at once with the
        # model already imported (forkserver or spawn would import mesa again, ~2 s) and, after
        # preload.prepare(), its kernels compiled once here rather than once per worker
        from .preload import prepare

        prepare()
        return mp.get_context("fork")
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        # import mesa once, and compile the kernels once (simulation.runs.preload), before any worker forks
        ctx.set_forkserver_preload(["simulation.runner", "simulation.runs.evaluator", "simulation.runs.preload"])
        return ctx
    return mp.get_context("spawn")


_DASK_ADDRESS = re.compile(r"(?:(tcp|tls|ucx|inproc)://)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?/?")


def parse_dask_address(address: str) -> str:
    """Check the form of a Dask scheduler address (``tcp://host:port``, ``tls://…``, or ``host:port``).

    Raises:
        ValueError: one line saying what is wrong (e.g. the dashboard's http:// address).
    """
    if address.startswith(("http://", "https://")):
        raise ValueError(
            f"{address!r} is a web (dashboard) address; expected the scheduler's, e.g. tcp://10.0.0.5:8786"
        )
    found = _DASK_ADDRESS.fullmatch(address.strip())
    if not found or (found[3] is not None and not 0 < int(found[3]) < 65536):
        raise ValueError(f"{address!r} is not a scheduler address; expected e.g. tcp://10.0.0.5:8786")
    return address.strip()


def check_dask_address(address: str, timeout: str = "5s") -> None:
    """Connect to a Dask scheduler once, so that a wrong address fails before anything is written.

    Raises:
        OSError: the address is malformed or the scheduler cannot be reached within ``timeout``
        (with the address in the message).
    """
    try:
        parse_dask_address(address)
    except ValueError as err:
        raise OSError(str(err)) from None
    from distributed import Client

    try:
        Client(address, timeout=timeout).close()
    except (OSError, TimeoutError, ValueError, TypeError) as err:
        raise OSError(f"cannot reach a Dask scheduler at {address} within {timeout}: {err}") from None


def mpi_available() -> bool:
    """True if mpi4py (the optional extra ``statebiz[mpi]``) is installed and an MPI library
    (``libmpi``, e.g. Open MPI or MPICH) is on this machine (checked without starting MPI)."""
    import ctypes.util
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None and ctypes.util.find_library("mpi") is not None


@contextmanager
def open_executor(backend: str, workers: int | None = None, address: str | None = None) -> Iterator[Pool]:
    """The executor of a backend, open for the ``with`` block and shut down after it.

    ``workers``: processes for ``processes``, a local Dask cluster and MPI (default: all
    cores); ``address``: a running Dask scheduler (``dask`` only).

    Raises:
        ValueError: an unknown backend.
        ImportError: ``mpi`` without mpi4py installed.
    """
    check_backend(backend)
    workers = cap_workers(workers)
    if backend == "serial":
        executor = SerialExecutor()
        try:
            yield Pool(backend, executor, 1)
        finally:
            executor.shutdown()
    elif backend == "processes":
        from concurrent.futures import ProcessPoolExecutor

        current: list[ProcessPoolExecutor] = []

        def start() -> ProcessPoolExecutor:
            if current:  # a worker died: the old pool is broken; stop what is left of it
                _stop_processes(current.pop())
            current.append(
                ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=_process_context(),
                    initializer=_init_worker,
                    initargs=(os.getpid(),),
                )
            )
            return current[0]

        pool = Pool(backend, start(), workers, restart=start)
        try:
            yield pool
        except BaseException:
            _stop_processes(current[0])  # interrupted or failed: do not wait for runs in flight
            raise
        else:
            current[0].shutdown(wait=True, cancel_futures=True)
    elif backend == "dask":
        from distributed import Client

        cluster = None
        if address:
            client = Client(address, timeout="30s")
            warn_mixed_machine_classes(client)
        else:
            import dask
            from distributed import LocalCluster

            with dask.config.set(DASK_WORKER_CONFIG):
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    env=SINGLE_THREAD_ENV,
                )
            client = Client(cluster)
            from .dask_worker import QuickExit

            # the cluster's workers end without the interpreter's teardown when it closes; and
            # as the plugin is in this package, registering it makes every worker import the
            # model (about 1.2 s, in parallel) before the first task, so that all workers start
            # their first runs together rather than each as its first task arrives
            client.register_plugin(QuickExit())
        # once connected, the driver reports a lost scheduler or workers itself, in one line
        # (NoWorkersError, the sweep's message); Dask's own reconnection tracebacks are not shown
        names = [n for n in list(logging.Logger.manager.loggerDict) if n.split(".")[0] in ("distributed", "tornado")]
        quiet = [logging.getLogger(n) for n in ("distributed", "tornado", *names)]
        levels = [q.level for q in quiet]
        for q in quiet:
            q.setLevel(logging.CRITICAL + 1)
        try:
            slots = sum(client.nthreads().values()) or workers
            yield Pool(backend, client.get_executor(pure=False), slots, alive=lambda: bool(client.nthreads()))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
            for q, level in zip(quiet, levels):
                q.setLevel(level)
    else:  # mpi
        # Spawned workers join this process's MPI job, whose one slot per core this idle
        # process already holds: let Open MPI place more processes than slots.
        os.environ.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
        try:
            from mpi4py.futures import MPIPoolExecutor
        except ImportError as err:
            raise ImportError(f"the mpi backend needs mpi4py (pip install 'statebiz[mpi]'): {err}") from None
        pool = MPIPoolExecutor(max_workers=workers, env=SINGLE_THREAD_ENV)
        try:
            slots = getattr(pool, "num_workers", workers) or workers
            yield Pool(backend, pool, slots)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _machine_class() -> str:
    from ..machine import machine_class

    return machine_class()


def warn_mixed_machine_classes(client) -> list[str]:
    """Warn (one line on stderr) when a Dask cluster's workers are not all of this process's
    machine class: their runs then agree to about 1e-11 relative, not to the bit. Returns the
    classes found."""
    try:
        found = sorted(set(client.run(_machine_class).values()))
    except Exception:  # noqa: BLE001 - a worker that cannot answer is reported by the sweep itself
        return []
    here = _machine_class()
    if found and found != [here]:
        print(
            f"statebiz: warning: the cluster's workers are of {len(found)} machine class(es) ({'; '.join(found)}), "
            f"this process of {here}: results agree to about 1e-11 relative, not bit for bit; start every worker "
            "and the driver with STATEBIZ_PORTABLE=1 for identical results (README: Reproducibility across machines)",
            file=sys.stderr,
        )
    return found


def _stop_processes(pool) -> None:
    """Shut a ProcessPoolExecutor down at once: cancel what waits, kill its worker processes."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        try:
            proc.kill()
        except (OSError, ValueError, AttributeError):
            pass
    for proc in procs:
        try:
            proc.join(5)
        except (OSError, ValueError, AttributeError, AssertionError):
            pass


def run_tasks(
    tasks: Iterable[Task], backend: str, workers: int | None = None, address: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """:func:`evaluate` on a backend's executor, opened for the iteration: yields ``(task_id, row)``."""
    check_backend(backend)
    with open_executor(backend, workers, address) as pool:
        yield from evaluate(tasks, pool.executor, pool.window)
